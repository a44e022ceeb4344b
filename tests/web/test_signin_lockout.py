"""Guessing passwords: after a few wrong ones for a username from one address, the sign-in page and
the admin's refuse that pair for a while, with a clear message in the page's language."""

import pytest
from django.conf import settings
from django.test import Client

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery staple"  # tests.factories.UserFactory


def try_password(client, password, *, page="/en/login/", username="amina"):
    return client.post(page, {"username": username, "password": password})


def test_fifty_wrong_passwords_are_not_all_answered():
    UserFactory(username="amina")
    client = Client()
    answers = [try_password(client, f"guess-{n}").status_code for n in range(50)]
    limit = settings.AXES_FAILURE_LIMIT
    assert answers[: limit - 1] == [200] * (limit - 1)  # the form again, "wrong password"
    assert set(answers[limit:]) == {429}
    locked = try_password(client, PASSWORD)  # even the right one, while locked
    assert locked.status_code == 429
    assert "Too many wrong passwords for this username from your address" in locked.content.decode()
    assert "Try again in 15 minutes" in locked.content.decode()
    assert "_auth_user_id" not in client.session


def test_the_lockout_is_for_that_username_from_that_address_only():
    UserFactory(username="amina")
    UserFactory(username="omar")
    for n in range(settings.AXES_FAILURE_LIMIT):
        try_password(Client(), f"guess-{n}")
    assert try_password(Client(), PASSWORD).status_code == 429
    assert try_password(Client(), PASSWORD, username="omar").status_code == 302  # another account
    elsewhere = Client(REMOTE_ADDR="192.0.2.7")
    assert try_password(elsewhere, PASSWORD).status_code == 302  # the owner, from their own address


def test_a_right_password_before_the_limit_starts_the_count_again():
    UserFactory(username="amina")
    for n in range(settings.AXES_FAILURE_LIMIT - 1):
        try_password(Client(), f"guess-{n}")
    assert try_password(Client(), PASSWORD).status_code == 302
    for n in range(settings.AXES_FAILURE_LIMIT - 1):
        assert try_password(Client(), f"again-{n}").status_code == 200


def test_the_message_is_in_arabic_on_arabic_pages():
    UserFactory(username="amina")
    for n in range(settings.AXES_FAILURE_LIMIT):
        try_password(Client(), f"guess-{n}", page="/ar/login/")
    locked = try_password(Client(), PASSWORD, page="/ar/login/")
    assert locked.status_code == 429
    body = locked.content.decode()
    assert '<html lang="ar" dir="rtl">' in body
    assert "كلمات مرور خاطئة" in body


def test_the_admin_sign_in_is_locked_too():
    UserFactory(username="amina", is_staff=True, is_superuser=True)
    for n in range(settings.AXES_FAILURE_LIMIT):
        try_password(Client(), f"guess-{n}", page="/en/admin/login/")
    assert try_password(Client(), PASSWORD, page="/en/admin/login/").status_code == 429
    assert try_password(Client(), PASSWORD).status_code == 429  # the same pair on the site's page


def test_the_address_counted_behind_our_proxy_is_the_one_it_saw(settings):
    from twinning.signin import client_ip

    class Request:
        META = {"REMOTE_ADDR": "172.18.0.5", "HTTP_X_FORWARDED_FOR": "203.0.113.9, 198.51.100.4"}

    settings.PROXY_COUNT = 0
    assert client_ip(Request) == "172.18.0.5"  # no proxy: the header is the client's own claim
    settings.PROXY_COUNT = 1
    assert client_ip(Request) == "198.51.100.4"  # what nginx appended, not what the client wrote
