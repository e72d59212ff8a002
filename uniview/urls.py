from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from alerts.api import AlertGroupViewSet, AlertSettingsView, AlertViewSet, EvaluationView
from alerts.settings_views import alert_settings, evaluate_now
from audit.api import AuditEntryViewSet
from integrations.api import IntegrationViewSet
from integrations.saas_api import IngestSaasStatusView, SaasSourceViewSet
from inventory.api import ApplianceViewSet, AssetViewSet, IngestBackupsView
from inventory.detail_api import JobViewSet
from maintenance.api import MaintenanceWindowViewSet
from notifications.api import DeliveryViewSet
from notifications.psa_api import PsaAutoMapView, PsaCompaniesView
from notifications.vsa_actions import VsaEmailActionViewSet
from notifications.webhook_api import WebhookEndpointViewSet
from observability.health import healthz
from observability.metrics import metrics_view
from overview.views import overview
from reports.api import ComplianceView, MonthlyReportView, ReportLogoView, ReportSettingsView
from tenancy.api import OrganizationViewSet
from tenancy.jobs_api import BackgroundJobViewSet
from tenancy.user_api import TokenViewSet, UserViewSet
from thresholds.api import CustomThresholdViewSet, GlobalThresholdView

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("organizations", OrganizationViewSet)
router.register("users", UserViewSet, basename="user")
router.register("tokens", TokenViewSet, basename="token")
router.register("appliances", ApplianceViewSet)
router.register("assets", AssetViewSet)
router.register("alerts", AlertViewSet)
router.register("thresholds/custom", CustomThresholdViewSet, basename="custom-threshold")
router.register("alert-groups", AlertGroupViewSet, basename="alert-group")
router.register("maintenance-windows", MaintenanceWindowViewSet)
router.register("deliveries", DeliveryViewSet)
router.register("integrations", IntegrationViewSet)
router.register("vsa-email-actions", VsaEmailActionViewSet)
router.register("webhooks", WebhookEndpointViewSet)
router.register("jobs", JobViewSet)
router.register("saas-sources", SaasSourceViewSet)
router.register("audit", AuditEntryViewSet)
router.register("background-jobs", BackgroundJobViewSet, basename="background-job")

api_patterns = [
    path("ingest/backups/", IngestBackupsView.as_view(), name="ingest-backups"),
    path("ingest/saas-status/", IngestSaasStatusView.as_view(), name="ingest-saas-status"),
    path("settings/alerts/", AlertSettingsView.as_view(), name="alert-settings"),
    path("evaluations/", EvaluationView.as_view(), name="evaluations"),
    path("thresholds/global/", GlobalThresholdView.as_view(), name="global-threshold"),
    path("reports/compliance/", ComplianceView.as_view(), name="reports-compliance"),
    path("organizations/<int:id>/monthly-report/", MonthlyReportView.as_view(), name="monthly-report"),
    path("settings/reports/", ReportSettingsView.as_view(), name="report-settings"),
    path("settings/reports/logo/", ReportLogoView.as_view(), name="report-logo"),
    path("psa/companies/", PsaCompaniesView.as_view(), name="psa-companies"),
    path("psa/companies/auto-map/", PsaAutoMapView.as_view(), name="psa-auto-map"),
    *router.urls,
]

urlpatterns = [
    path("", overview, name="overview"),
    path("api/v1/", include((api_patterns, "api"))),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("healthz", healthz, name="healthz"),
    path("metrics", metrics_view, name="metrics"),
    path("audit/", include(("audit.urls", "audit"))),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("accounts/", include("tenancy.auth_urls")),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
    path("thresholds/", include(("thresholds.urls", "thresholds"))),
    path("maintenance/", include(("maintenance.urls", "maintenance"))),
    path("protect/", include(("integrations.saas_views", "protect"))),
    path("reports/", include(("reports.urls", "reports"))),
    path("settings/integrations/", include(("integrations.urls", "integrations"))),
    path("settings/", include("notifications.urls")),
    path("settings/alerts/", alert_settings, name="alert-settings-page"),
    path("settings/alerts/evaluate/", evaluate_now, name="evaluate-now"),
    path("", include(("inventory.urls", "inventory"))),
    path("", include(("tenancy.urls", "tenancy"))),
    path("", include(("alerts.urls", "dashboard"))),
]

handler403 = "uniview.errors.permission_denied"
handler404 = "uniview.errors.page_not_found"
