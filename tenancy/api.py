from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.response import Response

from tenancy import organizations, removal
from tenancy.models import Organization
from tenancy.serializers import OrganizationSerializer, OrganizationWithCountsSerializer
from tenancy.viewsets import ScopedViewSet


@extend_schema_view(
    list=extend_schema(responses=OrganizationWithCountsSerializer, parameters=[
        OpenApiParameter("search", OpenApiTypes.STR, description="A part of the name.")]),
    retrieve=extend_schema(responses=OrganizationWithCountsSerializer),
    destroy=extend_schema(parameters=[OpenApiParameter(
        "confirm", OpenApiTypes.BOOL, description="Delete one that still has appliances or assets.")]),
)
class OrganizationViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
    mixins.UpdateModelMixin, mixins.DestroyModelMixin, ScopedViewSet,
):
    """Organizations with their open-alert counts per kind (R1.4: only those the caller sees).

    `?search=` matches a part of the name. DELETE of one that still has appliances or
    assets answers 400 on `confirm`, saying what goes with it; `?confirm=true` deletes.
    """

    queryset = Organization.objects.all()  # scoped
    serializer_class = OrganizationSerializer
    filterset_fields = {"name": ["exact", "icontains"]}

    def get_queryset(self):
        queryset = super().get_queryset()
        search = self.request.query_params.get("search", "").strip()
        return queryset.filter(name__icontains=search) if search else queryset  # scoped

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "account": self.account}

    def _with_counts(self, instances, many):
        context = self.get_serializer_context()
        context["open_alerts"] = organizations.open_alert_counts(o.pk for o in instances)
        return OrganizationSerializer(instances, many=many, context=context).data

    def list(self, request, *args, **kwargs):
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        if page is not None:
            return self.get_paginated_response(self._with_counts(page, many=True))
        return Response(self._with_counts(list(queryset), many=True))

    def retrieve(self, request, *args, **kwargs):
        return Response(self._with_counts([self.get_object()], many=True)[0])

    def perform_create(self, serializer):
        serializer.save(account=self.account)

    def destroy(self, request, *args, **kwargs):
        organization = self.get_object()
        figures = organizations.contents(organization)
        confirmed = request.query_params.get("confirm", "").lower() in ("1", "true", "yes")
        if organizations.needs_confirmation(figures) and not confirmed:
            message = f"{organization.name} still has appliances. {organizations.describe_contents(figures)} Repeat with ?confirm=true."
            return Response({"errors": {"confirm": [message]}, "contents": figures}, status=status.HTTP_400_BAD_REQUEST)
        removal.remove_organization(organization)  # R15.2: its alerts resolve first, history stays
        return Response(status=status.HTTP_204_NO_CONTENT)
