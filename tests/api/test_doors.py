"""The API's doors: throttles (per user, and for wrong tokens per address), the schema and its
docs for signed-in users only."""

import time

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import override_settings
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def rates(**changed):
    """The REST framework settings with these throttle rates."""
    return override_settings(
        REST_FRAMEWORK={
            **settings.REST_FRAMEWORK,
            "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], **changed},
        }
    )


@pytest.fixture
def clean_counts():
    """Throttle counts live in the shared cache: start and end without ours."""
    keys = ["throttle_token_failures_127.0.0.1", "throttle_token_failures_10.0.0.9"]

    def forget(*user_ids):
        window = int(time.time() // 60)  # the per-minute windows the rates below use
        counters = [f"throttle_user_{pk}:{w}" for pk in user_ids for w in (window, window + 1)]
        cache.delete_many(keys + counters)

    forget()
    yield forget
    forget()


def with_token(key, address="127.0.0.1", **headers):
    client = APIClient(REMOTE_ADDR=address, **headers)
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def test_wrong_tokens_from_one_address_are_throttled_then_even_a_right_one_waits(world, clean_counts):
    right = Token.objects.create(user=world.users["ministry_viewer"]).key
    with rates(token_failures="3/minute"):
        for attempt in range(3):
            assert with_token(f"wrong-{attempt}").get("/api/v1/themes/").status_code == 401
        refused = with_token(right).get("/api/v1/themes/")
        assert refused.status_code == 429
        assert 0 < int(refused["Retry-After"]) <= 60
        assert refused.json()["detail"].startswith("Too many requests. Try again in ")
        assert with_token(right, address="10.0.0.9").get("/api/v1/themes/").status_code == 200  # elsewhere


def test_a_forged_forwarded_for_does_not_dodge_the_count(world, clean_counts):
    with rates(token_failures="2/minute"):
        for attempt in range(3):
            forged = with_token(f"wrong-{attempt}", HTTP_X_FORWARDED_FOR=f"198.51.100.{attempt}")
            response = forged.get("/api/v1/themes/")
        assert response.status_code == 429


def test_each_user_has_a_request_rate_and_is_told_in_their_language(world, client_for, clean_counts):
    user = world.users["donor_a_viewer"]
    if time.time() % 60 > 58:  # counts start afresh each minute: not across one, mid-test
        time.sleep(2.5)
    clean_counts(user.pk)
    client = client_for("donor_a_viewer")
    with rates(user="3/minute"):
        assert [client.get("/api/v1/themes/").status_code for _ in range(3)] == [200] * 3
        refused = client.get("/api/v1/themes/", HTTP_ACCEPT_LANGUAGE="ar")
        assert refused.status_code == 429
        assert "Too many" not in refused.json()["detail"] and "حاول مجددًا بعد" in refused.json()["detail"]
        assert client_for("ministry_viewer").get("/api/v1/themes/").status_code == 200  # another user
    clean_counts(user.pk)


def test_schema_and_docs_are_for_signed_in_users_only(world, client_for):
    anonymous = client_for()
    for path in ("/api/v1/schema/", "/api/v1/docs/"):
        assert anonymous.get(path).status_code == 401, path
    signed_in = client_for("donor_a_viewer")
    assert signed_in.get("/api/v1/schema/").status_code == 200
    docs = signed_in.get("/api/v1/docs/")
    assert docs.status_code == 200 and docs["Content-Type"].startswith("text/html")
    html = docs.content.decode()
    assert "cdn" not in html.lower() and "<style>" not in html and "<script>" not in html  # self-hosted, CSP-clean
    script = signed_in.get("/api/v1/docs/", {"script": ""})
    assert script.status_code == 200 and "SwaggerUIBundle" in script.content.decode()


def test_no_browsable_api_with_debug_off(world, client_for):
    response = client_for("donor_a_viewer").get("/api/v1/themes/", HTTP_ACCEPT="text/html,*/*;q=0.8")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"


def test_a_users_count_is_one_counter_that_does_not_grow_with_the_requests(world, client_for, clean_counts):
    """The count is one integer per user and window, however many requests the rate allows."""
    user = world.users["ministry_viewer"]
    clean_counts(user.pk)
    client = client_for("ministry_viewer")
    with rates(user="1000/minute"):
        for _ in range(5):
            assert client.get("/api/v1/themes/").status_code == 200
        counter = f"throttle_user_{user.pk}:{int(time.time() // 60)}"
        assert cache.get(counter) in (5, None)  # None only when a minute turned meanwhile
    clean_counts(user.pk)
