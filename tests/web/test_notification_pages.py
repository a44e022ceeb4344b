"""The bell on every page (one query for the count, whatever the number of notifications), the
notification list, marking read and following a notification."""

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from indicators.services import result_return, result_submit
from notifications.models import Notification
from notifications.services import notification_create

pytestmark = pytest.mark.django_db


def url(name, language="en", *args):
    with translation.override(language):
        return reverse(name, args=args or None)


def approved_notice(user, count=1):
    parameters = {
        "actor": "Amal",
        "indicator_code": "P1-1",
        "indicator_name": {"en": "People trained", "ar": "أشخاص مدرَّبون"},
        "municipality": {"en": "Ghadames", "ar": "غدامس"},
        "period_start": "2025-04-01",
        "period_end": "2025-06-30",
    }
    return [
        notification_create(recipient=user, kind=Notification.Kind.RESULT_APPROVED, parameters=parameters)
        for _ in range(count)
    ]


def bell_queries(client, page):
    cache.clear()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(page)
    assert response.status_code == 200
    return (
        response.content.decode(),
        len(queries),
        [q["sql"] for q in queries if 'FROM "notifications_notification"' in q["sql"]],
    )


@pytest.mark.parametrize("page", ["programme_list", "account", "activity_list"])
def test_the_bell_costs_one_query_whatever_the_number_of_notifications(world, client_for, page):
    user = world.users["municipality_x_editor"]
    client = client_for("municipality_x_editor")
    html, before, bell = bell_queries(client, url(page))
    assert len(bell) == 1 and "COUNT" in bell[0]
    assert 'class="badge"' not in html and "Notifications: 0 unread" in html
    approved_notice(user, 30)
    html, after, bell = bell_queries(client, url(page))
    assert after == before and len(bell) == 1
    assert '<span class="badge" aria-hidden="true">30</span>' in html and "Notifications: 30 unread" in html
    html = client.get(url(page, "ar")).content.decode()
    assert "الإشعارات: 30 إشعارًا غير مقروء" in html


def test_the_list_shows_each_notification_in_the_pages_language(world, client_for):
    approved_notice(world.users["municipality_x_editor"])
    client = client_for("municipality_x_editor")
    assert (
        "Amal approved results of P1-1 People trained for Ghadames"
        in client.get(url("notification_list")).content.decode()
    )
    arabic = client.get(url("notification_list", "ar")).content.decode()
    assert "اعتمد Amal نتائج المؤشر P1-1 أشخاص مدرَّبون لبلدية غدامس" in arabic


def test_mark_selected_then_all_read(world, client_for):
    user = world.users["municipality_x_editor"]
    first, *_unread = approved_notice(user, 3)
    others = approved_notice(world.users["municipality_y_editor"], 1)
    client = client_for("municipality_x_editor")
    response = client.post(url("notification_list"), {"action": "read", "notification": [first.pk, others[0].pk]})
    assert response.status_code == 302
    assert set(Notification.objects.filter(read_at__isnull=False).values_list("pk", flat=True)) == {first.pk}
    assert "1 notification marked as read." in client.get(response["Location"]).content.decode()
    client.post(url("notification_list", "ar"), {"action": "read-all"})
    assert not Notification.objects.filter(recipient=user, read_at__isnull=True).exists()
    assert Notification.objects.get(pk=others[0].pk).read_at is None
    html = client.get(url("notification_list", "ar")).content.decode()
    assert "عُلِّم إشعاران كمقروءين." in html


def test_following_a_notification_opens_its_page_in_the_current_language_and_marks_it_read(world, client_for):
    editor = world.users["municipality_x_editor"]
    result = result_submit(result=world.results["x_draft"], user=editor)
    result_return(result=result, user=world.users["ministry_approver"], comment="Check the totals")
    notification = Notification.objects.get(recipient=editor)
    assert notification.url.startswith("/en/results/enter/")
    client = client_for("municipality_x_editor")
    response = client.get(url("notification_open", "ar", notification.pk))
    assert response.status_code == 302
    assert response["Location"] == notification.url.replace("/en/", "/ar/", 1)
    notification.refresh_from_db()
    assert notification.read_at is not None
    grid = client.get(response["Location"]).content.decode()
    assert 'id="total-value"' in grid and "Check the totals" in grid
    # Someone else's notification is not found.
    assert client_for("municipality_y_editor").get(url("notification_open", "en", notification.pk)).status_code == 404
