from django.urls import path

from reports import views

urlpatterns = [
    path("", views.index, name="index"),
    path("monthly/<int:pk>/", views.monthly_page, name="monthly"),
    path("monthly/<int:pk>/pdf/", views.monthly_pdf, name="monthly-pdf"),
    path("monthly/<int:pk>/csv/", views.monthly_csv, name="monthly-csv"),
    path("settings/", views.settings_page, name="settings"),
]
