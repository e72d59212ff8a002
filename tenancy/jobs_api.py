"""background-jobs/: the evaluations and syncs asked for from a page or the API, to poll until finished."""

from rest_framework import mixins, serializers
from rest_framework.reverse import reverse

from tenancy import background, scoping
from tenancy.models import BackgroundJob
from tenancy.viewsets import ScopedViewSet


def wants_to_wait(request) -> bool:
    """`?wait=1`: a script that wants the outcome in the answer, as before jobs existed."""
    value = request.query_params.get("wait", "").strip().lower()
    if value not in ("", "0", "1", "true", "false"):
        raise serializers.ValidationError({"wait": ["Use 1 to wait for the outcome, or 0."]})
    return value in ("1", "true")


class BackgroundJobSerializer(serializers.ModelSerializer):
    state_label = serializers.CharField(source="get_state_display", read_only=True)
    requested_by = serializers.SlugRelatedField(slug_field="email", read_only=True, allow_null=True,
                                                help_text="Null: the schedule asked, not a person.")
    finished = serializers.BooleanField(read_only=True)
    url = serializers.SerializerMethodField(help_text="Poll this until `finished`.")

    class Meta:
        model = BackgroundJob
        fields = ["id", "kind", "label", "state", "state_label", "finished", "requested_by", "created_at",
                  "started_at", "finished_at", "summary", "result", "url"]
        read_only_fields = fields

    def get_url(self, job) -> str:
        return reverse("api:background-job-detail", args=[job.pk], request=self.context.get("request"))


class BackgroundJobViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Jobs of the caller's account (superuser, like the evaluations and syncs that start them)."""

    queryset = BackgroundJob.objects.select_related("requested_by")  # scoped
    serializer_class = BackgroundJobSerializer
    read_action = scoping.MANAGE
    filterset_fields = ["kind", "state"]

    def get_queryset(self):
        background.expire_stale(self.account)  # a job whose worker died ends when it is read
        return super().get_queryset()
