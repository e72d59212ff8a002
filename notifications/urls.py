from django.urls import path

from notifications import views, webhook_views

urlpatterns = [
    path("deliveries/", views.delivery_list, name="deliveries"),
    path("deliveries/<int:pk>/retry/", views.delivery_retry, name="delivery-retry"),
    path("deliveries/retry-failed/", views.delivery_retry_failed, name="delivery-retry-failed"),
    path("psa-companies/", views.psa_companies, name="psa-companies"),
    path("vsa-email-actions/", views.vsa_actions, name="vsa-email-actions"),
    path("vsa-email-actions/<int:pk>/", views.vsa_actions, name="vsa-email-action-edit"),
    path("vsa-email-actions/<int:pk>/remove/", views.vsa_action_delete, name="vsa-email-action-delete"),
    path("webhooks/", webhook_views.webhooks, name="webhooks"),
    path("webhooks/<int:pk>/", webhook_views.webhooks, name="webhook-edit"),
    path("webhooks/<int:pk>/remove/", webhook_views.webhook_delete, name="webhook-delete"),
    path("webhooks/<int:pk>/test/", webhook_views.webhook_test, name="webhook-test"),
]
