"""R11.3: a selection that cannot be dismissed sends the page, htmx or not, back to the list with the reason."""

from django.contrib.messages import get_messages


def test_r11_3_an_htmx_selection_of_another_accounts_organization_is_sent_back_to_the_list(cast, client):
    client.force_login(cast.superuser_a)
    response = client.post("/alerts/dismiss/selection/", {"organization": str(cast.org_b1.pk)}, HTTP_HX_REQUEST="true")
    assert (response.status_code, response["HX-Redirect"]) == (204, "/alerts/")
    assert [str(m) for m in get_messages(response.wsgi_request)] == ["Organization: choose one from the list."]


def test_r11_3_an_empty_selection_without_htmx_is_redirected_to_the_list(cast, client):
    client.force_login(cast.superuser_a)
    response = client.post("/alerts/dismiss/selection/", {})
    assert (response.status_code, response["Location"]) == (302, "/alerts/")
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "Selection: choose an organization, a group, or both."
    ]
