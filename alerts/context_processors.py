"""The BackupIQ bell in the header: the open-alert count the user may see."""

from django.conf import settings

from alerts.dismiss import open_alerts_for


def bell(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"bell_count": open_alerts_for(user).count(), "refresh_seconds": settings.DASHBOARD_REFRESH_SECONDS}
