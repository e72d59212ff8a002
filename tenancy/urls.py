from django.urls import path

from tenancy import job_views, settings_views, time_zone_views, views

urlpatterns = [
    path("organizations/", views.organization_list, name="organizations"),
    path("organizations/<int:pk>/", views.organization_page, name="organization"),
    path("organizations/<int:pk>/rename/", views.organization_edit, name="organization-edit"),
    path("organizations/<int:pk>/delete/", views.organization_delete, name="organization-delete"),
    path("settings/users/", settings_views.user_list, name="users"),
    path("settings/users/<int:pk>/", settings_views.user_edit, name="user-edit"),
    path("settings/users/<int:pk>/deactivate/", settings_views.user_active, {"active": False}, name="user-deactivate"),
    path("settings/users/<int:pk>/reactivate/", settings_views.user_active, {"active": True}, name="user-reactivate"),
    path("settings/users/<int:pk>/resend/", settings_views.user_resend, name="user-resend"),
    path("settings/tokens/", settings_views.token_list, name="tokens"),
    path("settings/tokens/<int:pk>/revoke/", settings_views.token_revoke, name="token-revoke"),
    path("settings/two-factor/", settings_views.two_factor_settings, name="two-factor"),
    path("settings/time-zone/", time_zone_views.time_zone, name="time-zone"),
    path("settings/two-factor/off/", settings_views.two_factor_off, name="two-factor-off"),
    path("settings/two-factor/require/", settings_views.two_factor_require, name="two-factor-require"),
    path("settings/background-jobs/<int:pk>/", job_views.job_page, name="background-job"),
    path("settings/background-jobs/<int:pk>/status/", job_views.job_status, name="background-job-status"),
]
