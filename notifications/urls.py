from django.urls import path

from notifications import psa_views, views, webhook_views

urlpatterns = [
    path("deliveries/", views.delivery_list, name="deliveries"),
    path("deliveries/<int:pk>/retry/", views.delivery_retry, name="delivery-retry"),
    path("deliveries/retry-failed/", views.delivery_retry_failed, name="delivery-retry-failed"),
    path("psa-companies/", psa_views.psa_companies_page, name="psa-companies"),
    path("psa-companies/auto-map/", psa_views.psa_auto_map, name="psa-auto-map"),
    path("psa-companies/<int:pk>/search/", psa_views.psa_company_search, name="psa-company-search"),
    path("psa-companies/<int:pk>/", psa_views.psa_company_set, name="psa-company-set"),
    path("vsa-email-actions/", views.vsa_actions, name="vsa-email-actions"),
    path("vsa-email-actions/<int:pk>/", views.vsa_actions, name="vsa-email-action-edit"),
    path("vsa-email-actions/<int:pk>/remove/", views.vsa_action_delete, name="vsa-email-action-delete"),
    path("webhooks/", webhook_views.webhooks, name="webhooks"),
    path("webhooks/<int:pk>/", webhook_views.webhooks, name="webhook-edit"),
    path("webhooks/<int:pk>/remove/", webhook_views.webhook_delete, name="webhook-delete"),
    path("webhooks/<int:pk>/test/", webhook_views.webhook_test, name="webhook-test"),
]
