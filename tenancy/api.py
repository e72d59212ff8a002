from rest_framework import mixins

from tenancy.models import Organization
from tenancy.serializers import OrganizationSerializer
from uniview.api import ScopedViewSet


class OrganizationViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
    mixins.UpdateModelMixin, mixins.DestroyModelMixin, ScopedViewSet,
):
    queryset = Organization.objects.all()
    serializer_class = OrganizationSerializer
    filterset_fields = {"name": ["exact", "icontains"]}

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "account": self.account}

    def perform_create(self, serializer):
        serializer.save(account=self.account)
