from django.urls import path

from maintenance import views

urlpatterns = [
    path("", views.window_list, name="list"),
    path("new/", views.window_edit, name="new"),
    path("preview/", views.window_preview, name="preview"),
    path("<int:pk>/", views.window_edit, name="edit"),
    path("<int:pk>/delete/", views.window_delete, name="delete"),
]
