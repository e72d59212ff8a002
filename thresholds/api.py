"""`thresholds/global/` and `thresholds/custom/` (API.md): everyone reads, superusers write (R1.3)."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins
from rest_framework.response import Response
from rest_framework.views import APIView

from tenancy import scoping
from tenancy.viewsets import ScopedViewSet
from thresholds import changes
from thresholds.models import CustomThreshold, GlobalThreshold
from thresholds.serializers import CustomThresholdSerializer, GlobalThresholdSerializer


class GlobalThresholdView(APIView):
    """The account's global threshold (R4.1); `configured` is false until the first PUT."""

    serializer_class = GlobalThresholdSerializer

    def _current(self, request):
        account = scoping.account_of(request.user)
        threshold = scoping.scope(request.user, GlobalThreshold.objects.all()).first()  # scoped
        return account, threshold or GlobalThreshold(account=account)

    @extend_schema(responses=GlobalThresholdSerializer)
    def get(self, request):
        _, threshold = self._current(request)
        return Response(GlobalThresholdSerializer(threshold).data)

    @extend_schema(request=GlobalThresholdSerializer, responses=GlobalThresholdSerializer)
    def put(self, request):
        account, threshold = self._current(request)
        serializer = GlobalThresholdSerializer(threshold, data=request.data, context={"account": account})
        serializer.is_valid(raise_exception=True)
        return Response(GlobalThresholdSerializer(serializer.save()).data)


class CustomThresholdViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
    mixins.UpdateModelMixin, mixins.DestroyModelMixin, ScopedViewSet,
):
    """Custom thresholds (R4.2) with their organizations; deleting one returns them to global (R4.3)."""

    queryset = CustomThreshold.objects.all()  # scoped
    serializer_class = CustomThresholdSerializer

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "account": self.account}

    def perform_destroy(self, instance):
        changes.delete_custom(instance)
