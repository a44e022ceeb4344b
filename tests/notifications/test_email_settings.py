"""E-mail settings from the environment: EMAIL_URL, the EMAIL_* variables, or the console when
DEBUG has neither (what `make run` shows)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from twinning.settings import email_settings

ROOT = Path(__file__).resolve().parents[2]


def test_email_url_forms():
    assert email_settings("smtp://mailpit:1025") == {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "mailpit",
        "EMAIL_PORT": 1025,
        "EMAIL_HOST_USER": "",
        "EMAIL_HOST_PASSWORD": "",
        "EMAIL_USE_TLS": False,
        "EMAIL_USE_SSL": False,
    }
    tls = email_settings("smtp+tls://twinning%40example.org:p%40ss%2Fword@smtp.example.org")
    assert (tls["EMAIL_PORT"], tls["EMAIL_USE_TLS"], tls["EMAIL_USE_SSL"]) == (587, True, False)
    assert (tls["EMAIL_HOST_USER"], tls["EMAIL_HOST_PASSWORD"]) == ("twinning@example.org", "p@ss/word")
    ssl = email_settings("smtps://smtp.example.org")
    assert (ssl["EMAIL_PORT"], ssl["EMAIL_USE_SSL"]) == (465, True)
    assert email_settings("console://")["EMAIL_BACKEND"] == "django.core.mail.backends.console.EmailBackend"
    with pytest.raises(ImproperlyConfigured):
        email_settings("http://smtp.example.org")


def backend(**environment) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EMAIL_")}
    env.update(DJANGO_SETTINGS_MODULE="twinning.settings", SECRET_KEY="x" * 50, **environment)
    code = "import django; django.setup(); from django.conf import settings; print(settings.EMAIL_BACKEND)"
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    ).stdout.strip()


def test_debug_without_settings_prints_emails_and_production_sends_them():
    assert backend(DEBUG="1") == "django.core.mail.backends.console.EmailBackend"
    assert backend(DEBUG="1", EMAIL_URL="smtp://mailpit:1025") == "django.core.mail.backends.smtp.EmailBackend"
    assert backend(DEBUG="0", EMAIL_HOST="smtp.example.org") == "django.core.mail.backends.smtp.EmailBackend"
