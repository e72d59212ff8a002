"""Issue 7 security: login throttling (django-axes), by username and address together."""

import pytest

from tests.conftest import PASSWORD

LOGIN = "/accounts/login/"


@pytest.fixture(autouse=True)
def throttling_on(settings):
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 3


def attempt(client, username, password, ip="127.0.0.1"):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=ip)


def test_after_the_failure_limit_even_the_right_password_is_locked_out_with_a_clear_page(cast, client):
    for _ in range(2):
        assert attempt(client, "admin@a.example", "wrong").status_code == 200  # the form again
    assert attempt(client, "admin@a.example", "wrong").status_code == 429  # the third failure locks
    response = attempt(client, "admin@a.example", PASSWORD)
    assert response.status_code == 429
    page = response.content.decode()
    assert "Too many failed logins" in page and "3 failed attempts" in page
    assert "_auth_user_id" not in client.session


def test_the_lockout_is_per_username_and_address(cast, client):
    for _ in range(3):
        attempt(client, "admin@a.example", "wrong", ip="10.9.9.9")
    assert attempt(client, "admin@a.example", PASSWORD, ip="10.9.9.9").status_code == 429
    # Another person from that address, and the same person from another address, still log in.
    assert attempt(client, "monitor@a.example", PASSWORD, ip="10.9.9.9").status_code == 302
    client.logout()
    assert attempt(client, "admin@a.example", PASSWORD, ip="10.8.8.8").status_code == 302


def test_a_successful_login_resets_the_count(cast, client):
    for _ in range(2):
        attempt(client, "admin@a.example", "wrong")
    assert attempt(client, "admin@a.example", PASSWORD).status_code == 302
    client.logout()
    for _ in range(2):
        attempt(client, "admin@a.example", "wrong")
    assert attempt(client, "admin@a.example", PASSWORD).status_code == 302


def test_with_throttling_off_failures_do_not_lock(cast, client, settings):
    settings.AXES_ENABLED = False
    for _ in range(5):
        attempt(client, "admin@a.example", "wrong")
    assert attempt(client, "admin@a.example", PASSWORD).status_code == 302


def test_the_test_clients_login_without_a_request_still_works(cast, client):
    assert client.login(username="admin@a.example", password=PASSWORD)
