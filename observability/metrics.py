"""Prometheus: django-prometheus' request metrics plus what an operator of the portal watches.

Our figures are read from the database at scrape time (one grouped query each),
so every web process reports the same numbers and nothing is counted twice.
`/metrics` answers a bearer METRICS_TOKEN, or a client in METRICS_ALLOW (loopback by default).
"""

import hmac
import logging
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError
from django.db.models import Count, Sum
from django.http import HttpResponseForbidden
from django.utils import timezone
from django_prometheus.exports import ExportToDjangoView
from prometheus_client import REGISTRY
from prometheus_client.core import GaugeMetricFamily, SummaryMetricFamily

from tenancy import proxies

log = logging.getLogger(__name__)
EVALUATION_WINDOW = timedelta(hours=1)


class PortalCollector:
    def describe(self):
        """The names only, so registering never queries the database (at start-up)."""
        yield GaugeMetricFamily("uniview_open_alerts", "Open alerts by kind.", labels=["kind"])
        yield GaugeMetricFamily("uniview_deliveries", "Deliveries by state.", labels=["state"])
        yield SummaryMetricFamily("uniview_evaluation_duration_seconds", "Evaluation runs of the last hour.")
        yield GaugeMetricFamily("uniview_evaluation_last_duration_seconds", "Latest evaluation run.")
        yield GaugeMetricFamily("uniview_integration_poll_failing", "Failing integrations.",
                                labels=["integration", "kind"])

    def collect(self):
        try:
            yield from self._collect()
        except DatabaseError:  # a scrape during a database outage still answers
            log.warning("metrics: database unavailable", exc_info=True)

    def _collect(self):
        from alerts.models import Alert, Evaluation
        from integrations.models import Integration
        from notifications.models import Delivery

        open_alerts = GaugeMetricFamily("uniview_open_alerts", "Open alerts by kind.", labels=["kind"])
        rows = Alert.objects.filter(state="open").values("kind").annotate(n=Count("id")).order_by()  # scoped: operator-wide figure
        for row in rows:
            open_alerts.add_metric([row["kind"]], row["n"])
        yield open_alerts

        deliveries = GaugeMetricFamily("uniview_deliveries", "Deliveries by state.", labels=["state"])
        for row in Delivery.objects.values("state").annotate(n=Count("id")).order_by():  # scoped: operator-wide
            deliveries.add_metric([row["state"]], row["n"])
        yield deliveries

        since = timezone.now() - EVALUATION_WINDOW
        recent = Evaluation.objects.filter(started_at__gte=since, skipped=False)  # scoped: operator-wide
        totals = recent.aggregate(n=Count("id"), ms=Sum("duration_ms"))
        summary = SummaryMetricFamily(
            "uniview_evaluation_duration_seconds", "Evaluation runs of the last hour and their total time."
        )
        summary.add_metric([], count_value=totals["n"] or 0, sum_value=(totals["ms"] or 0) / 1000)
        yield summary
        last = recent.order_by("-started_at").values_list("duration_ms", flat=True).first()
        yield GaugeMetricFamily(
            "uniview_evaluation_last_duration_seconds", "Duration of the latest evaluation run.",
            value=(last or 0) / 1000,
        )

        failing = GaugeMetricFamily(
            "uniview_integration_poll_failing", "1 when an integration's last poll failed.",
            labels=["integration", "kind"],
        )
        for pk, kind, ok in Integration.objects.filter(enabled=True).values_list("id", "kind", "last_sync_ok"):  # scoped: operator-wide
            failing.add_metric([str(pk), kind], 1 if ok is False else 0)
        yield failing


_collector = PortalCollector()


def register():
    try:
        REGISTRY.register(_collector)
    except ValueError:  # already registered (autoreload, a second `ready()`)
        pass


def _allowed(request) -> bool:
    """A scraper with METRICS_TOKEN from anywhere; otherwise a client in METRICS_ALLOW.

    The client is the peer, or the address a trusted proxy forwards for: a proxy on
    loopback must not make the whole world look like loopback.
    """
    token = getattr(settings, "METRICS_TOKEN", "")
    scheme, _, offered = request.headers.get("Authorization", "").partition(" ")
    if token and scheme.lower() == "bearer" and hmac.compare_digest(offered.strip().encode(), token.encode()):
        return True
    return proxies.within(proxies.client_address(request), getattr(settings, "METRICS_ALLOW", ["127.0.0.1", "::1"]))


def metrics_view(request):
    if not _allowed(request):
        return HttpResponseForbidden("metrics are not served to this address\n")
    return ExportToDjangoView(request)
