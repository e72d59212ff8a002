from django.urls import path

from integrations import views

urlpatterns = [
    path("", views.integration_list, name="list"),
    path("add/", views.integration_add, name="add"),
    path("<int:pk>/edit/", views.integration_edit, name="edit"),
    path("<int:pk>/test/", views.integration_test, name="test"),
    path("<int:pk>/sync/", views.integration_sync, name="sync"),
    path("<int:pk>/remove/", views.integration_delete, name="delete"),
]
