"""`maintenance-windows/` (R16.1): everyone in the account reads, the superuser writes."""

from rest_framework import mixins

from maintenance.models import MaintenanceWindow
from maintenance.serializers import MaintenanceWindowSerializer
from tenancy import scoping
from tenancy.viewsets import ScopedViewSet


class MaintenanceWindowViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
    mixins.UpdateModelMixin, mixins.DestroyModelMixin, ScopedViewSet,
):
    """Maintenance windows: while one is on, the subjects it covers raise no alerts (R16.2)."""

    queryset = MaintenanceWindow.objects.prefetch_related("organizations", "appliances", "assets")  # scoped
    serializer_class = MaintenanceWindowSerializer
    write_action = scoping.MANAGE  # superuser only

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "account": self.account}
