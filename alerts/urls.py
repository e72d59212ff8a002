from django.urls import path

from alerts import views

urlpatterns = [
    path("alerts/", views.alert_list, name="alerts"),
    path("alerts/rows/", views.group_rows, name="group-rows"),
    path("alerts/bell/", views.bell, name="bell"),
    path("alerts/<int:pk>/", views.alert_detail, name="alert-detail"),
    path("alerts/<int:pk>/dismiss/", views.dismiss_one, name="dismiss-one"),
    path("alerts/dismiss/group/", views.dismiss_group, name="dismiss-group"),
    path("alerts/dismiss/all/", views.dismiss_all, name="dismiss-all"),
    path("alerts/dismiss/selection/", views.dismiss_selection, name="dismiss-selection"),
]
