"""The account pages: memberships and settings, a language that pages and e-mails follow,
changing a password, and resetting it by e-mail (through a real SMTP server) without telling
whether an address is known."""

import re

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import translation

from notifications.models import NotificationPreference
from notifications.services import preference_update
from tests.mail import SMTPServer, free_port

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery staple"


def url(name, language="en", **kwargs):
    with translation.override(language):
        return reverse(name, kwargs=kwargs or None)


@pytest.fixture
def smtp_server(settings):
    server = SMTPServer(free_port()).start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", server.port
    yield server
    server.stop()


def test_the_account_page_lists_memberships_in_both_languages(world, client_for):
    client = client_for("municipality_x_editor")
    html = client.get(url("account")).content.decode()
    assert "Ghadames" in html and "Editor" in html and "municipality_x_editor@example.org" in html
    html = client.get(url("account", "ar")).content.decode()
    assert "غدامس" in html and "محرر" in html and "حسابك" in html
    assert 'dir="rtl"' in html


def test_settings_are_saved_and_the_pages_switch_to_the_chosen_language(world, client_for):
    client = client_for("municipality_x_editor")
    response = client.post(url("account"), {"email": "daily", "language": "ar"})
    assert response.status_code == 302 and response["Location"] == "/ar/account/"
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "ar"
    preference = NotificationPreference.objects.get(user=world.users["municipality_x_editor"])
    assert (preference.email, preference.language) == ("daily", "ar")
    assert "حُفظت إعداداتك" in client.get(response["Location"]).content.decode()
    # An address without a language prefix now opens in Arabic.
    assert client.get("/").headers["Location"].startswith("/ar/")


def test_a_choice_that_does_not_exist_is_a_field_error(world, client_for):
    response = client_for("municipality_x_editor").post(url("account"), {"email": "hourly", "language": "en"})
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    assert not NotificationPreference.objects.exists()


def test_signing_in_continues_in_the_users_language(world):
    preference_update(user=world.users["municipality_x_editor"], language="ar")
    response = Client().post(
        url("login"), {"username": "municipality_x_editor", "password": PASSWORD, "next": "/en/programmes/"}
    )
    assert response.status_code == 302 and response["Location"] == "/ar/programmes/"
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "ar"
    # Someone who never chose stays in the language of the page they signed in on.
    response = Client().post(
        url("login", "ar"), {"username": "municipality_y_editor", "password": PASSWORD, "next": "/ar/programmes/"}
    )
    assert response["Location"] == "/ar/programmes/"


def test_changing_the_password(world, client_for):
    client = client_for("municipality_x_editor")
    assert "Change your password" in client.get(url("password_change")).content.decode()
    response = client.post(
        url("password_change"),
        {"old_password": "wrong", "new_password1": "a new long passphrase", "new_password2": "a new long passphrase"},
    )
    assert response.status_code == 200 and "incorrectly" in response.content.decode()
    response = client.post(
        url("password_change"),
        {"old_password": PASSWORD, "new_password1": "a new long passphrase", "new_password2": "a new long passphrase"},
    )
    assert response.status_code == 302 and response["Location"] == url("password_change_done")
    assert Client().login(username="municipality_x_editor", password="a new long passphrase")


def test_a_reset_by_email_in_the_users_language(world, smtp_server):
    preference_update(user=world.users["municipality_x_editor"], language="ar")
    client = Client()
    response = client.post(url("password_reset"), {"email": "municipality_x_editor@example.org"})
    assert response.status_code == 302 and response["Location"] == url("password_reset_done")
    (mail,) = smtp_server.received
    assert mail.envelope_to == ["municipality_x_editor@example.org"]
    assert mail.subject == "التوأمة: اختر كلمة مرور جديدة"
    assert "municipality_x_editor" in mail.text and '<body dir="rtl">' in mail.html
    link = re.search(r"http://testserver(/ar/account/password-reset/\S+/)", mail.text).group(1)
    form = client.get(link, follow=True)
    assert "اختر كلمة مرور جديدة" in form.content.decode()
    response = client.post(
        form.redirect_chain[-1][0], {"new_password1": "a fresh passphrase 7", "new_password2": "a fresh passphrase 7"}
    )
    assert response.status_code == 302 and response["Location"] == url("password_reset_complete", "ar")
    assert Client().login(username="municipality_x_editor", password="a fresh passphrase 7")
    # The link works once.
    assert "لم يعد هذا الرابط صالحًا" in client.get(link, follow=True).content.decode()


def test_a_reset_for_an_unknown_address_looks_the_same_and_sends_nothing(world, smtp_server):
    known = Client().post(url("password_reset"), {"email": "municipality_x_editor@example.org"})
    unknown = Client().post(url("password_reset"), {"email": "nobody@example.org"})
    assert (unknown.status_code, unknown["Location"]) == (known.status_code, known["Location"])
    assert [m.envelope_to for m in smtp_server.received] == [["municipality_x_editor@example.org"]]


def test_account_pages_need_signing_in(world):
    for name in ("account", "password_change", "notification_list"):
        response = Client().get(url(name))
        assert response.status_code == 302 and response["Location"].startswith(url("login"))
