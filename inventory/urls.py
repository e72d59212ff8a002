from django.urls import path

from inventory import appliance_views, views

urlpatterns = [
    path("appliances/<int:pk>/", appliance_views.appliance_page, name="appliance"),
    path("assets/<int:pk>/", views.asset_page, name="asset"),
    path("assets/<int:pk>/recovery-points/", views.recovery_points, name="recovery-points"),
    path("assets/<int:pk>/recovery-points/<str:kind>-<int:point_id>/", views.recovery_point, name="recovery-point"),
    path("jobs/", views.job_list, name="jobs"),
    path("jobs/<int:pk>/", views.job_page, name="job"),
    path("jobs/<int:pk>/cancel/", views.cancel_job, name="cancel-job"),
]
