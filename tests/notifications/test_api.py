"""notifications/ (docs/design.md §6): the user's own only, `unread` on the list, read/ and
read-all/, messages in the user's language."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from indicators.services import result_return, result_submit
from notifications.models import Notification
from notifications.services import notification_create, preference_update

pytestmark = pytest.mark.django_db
URL = "/api/v1/notifications/"


@pytest.fixture(autouse=True)
def _api_urls(settings):
    settings.ROOT_URLCONF = "tests.api.urls"


def client_of(user) -> APIClient:
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def make(user, count=1, **parameters):
    parameters = {
        "actor": "Amal",
        "indicator_code": "P1-1",
        "municipality": {"en": "Ghadames", "ar": "غدامس"},
        "period_start": "2025-04-01",
        "period_end": "2025-06-30",
        **parameters,
    }
    kind = Notification.Kind.RESULT_APPROVED
    return [notification_create(recipient=user, kind=kind, parameters=parameters) for _ in range(count)]


def test_the_list_holds_only_your_own_with_the_unread_count(world):
    editor, other = world.users["municipality_x_editor"], world.users["municipality_y_editor"]
    result = result_submit(result=world.results["x_draft"], user=editor)
    result_return(result=result, user=world.users["ministry_approver"], comment="Add the attendance list")
    make(other, 2)
    body = client_of(editor).get(URL).json()
    assert (body["count"], body["unread"]) == (1, 1)
    (item,) = body["results"]
    assert set(item) >= {"id", "kind", "message", "url", "created_at", "read_at"}
    assert item["kind"] == "result_returned" and item["read_at"] is None
    assert "Add the attendance list" in item["message"]
    assert item["url"] == ""  # the API alone is mounted here: there is no page to link to
    mine = Notification.objects.get(recipient=editor)
    theirs = Notification.objects.filter(recipient=other).first()
    assert client_of(editor).get(f"{URL}{theirs.pk}/").status_code == 404
    assert client_of(editor).post(f"{URL}{theirs.pk}/read/").status_code == 404
    assert client_of(editor).get(f"{URL}{mine.pk}/").json()["id"] == mine.pk


def test_read_and_read_all(world):
    user = world.users["municipality_x_editor"]
    first, *_others = make(user, 3)
    client = client_of(user)
    response = client.post(f"{URL}{first.pk}/read/")
    assert response.status_code == 200 and response.json()["read_at"] is not None
    assert client.get(URL).json()["unread"] == 2
    assert client.post(f"{URL}{first.pk}/read/").json()["read_at"] == response.json()["read_at"]  # unchanged
    assert client.post(f"{URL}read-all/").json() == {"marked_read": 2}
    body = client.get(URL).json()
    assert body["unread"] == 0 and body["count"] == 3
    assert client.get(URL, {"unread": "true"}).json()["count"] == 0
    assert client.get(URL, {"kind": "result_approved"}).json()["count"] == 3
    assert client.get(URL, {"kind": "result_returned"}).json()["count"] == 0


def test_the_message_follows_the_users_language_even_if_it_changed_since(world):
    user = world.users["municipality_x_editor"]
    make(user, 1)
    client = client_of(user)
    english = client.get(URL).json()["results"][0]["message"]
    assert english.startswith("Amal approved results of P1-1") and "Ghadames" in english
    preference_update(user=user, language="ar")
    arabic = client.get(URL).json()["results"][0]["message"]
    assert "غدامس" in arabic and "approved" not in arabic


def test_the_list_costs_the_same_number_of_queries_for_one_or_fifty(world):
    user = world.users["municipality_x_editor"]
    make(user, 1)
    client = client_of(user)
    with CaptureQueriesContext(connection) as one:
        client.get(URL)
    make(user, 49)
    with CaptureQueriesContext(connection) as fifty:
        assert len(client.get(URL).json()["results"]) == 50
    assert len(one) == len(fifty)


def test_anonymous_is_refused(world):
    assert APIClient().get(URL).status_code in (401, 403)
