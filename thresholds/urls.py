from django.urls import path

from thresholds import views

urlpatterns = [
    path("", views.page, name="page"),
    path("custom/new/", views.custom_edit, name="custom-new"),
    path("custom/<int:pk>/", views.custom_edit, name="custom-edit"),
    path("custom/<int:pk>/delete/", views.custom_delete, name="custom-delete"),
    path("custom/<int:pk>/organizations/", views.organizations, name="organizations"),
    path("custom/<int:pk>/organizations/<int:org_id>/", views.assign, name="assign"),
]
