"""`/api/v1/audit/`: the account's audit log, for superusers (R1.3), newest first, cursor-paged."""

import django_filters
from rest_framework import mixins, serializers

from audit.models import AuditEntry
from tenancy import scoping
from tenancy.viewsets import ScopedViewSet


class AuditEntrySerializer(serializers.ModelSerializer):
    class Meta:
        model = AuditEntry
        fields = ["id", "at", "actor", "actor_label", "action", "target_type", "target_id", "target_label",
                  "changes", "request_id"]
        read_only_fields = fields


class AuditFilter(django_filters.FilterSet):
    action = django_filters.CharFilter(field_name="action", lookup_expr="startswith",
                                       help_text="An action or its prefix, e.g. `threshold` or `integration.update`.")
    actor = django_filters.NumberFilter(field_name="actor_id", help_text="The id of the user who acted.")
    target_type = django_filters.CharFilter()

    class Meta:
        model = AuditEntry
        fields = ["action", "actor", "target_type"]


class AuditEntryViewSet(ScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    queryset = AuditEntry.objects.all()  # scoped by ScopedViewSet.get_queryset
    serializer_class = AuditEntrySerializer
    filterset_class = AuditFilter
    read_action = scoping.MANAGE  # only a superuser reads who changed what
