"""Pages say when their numbers were computed and when a recompute is pending."""

import pytest
from django.urls import reverse

from rollups.queue import schedule_recompute

pytestmark = pytest.mark.django_db

PENDING = "A recompute is pending"


@pytest.mark.parametrize(
    ("role", "page"),
    [
        ("ministry_viewer", lambda w: reverse("ministry_dashboard")),
        ("donor_a_viewer", lambda w: reverse("donor_dashboard")),
        ("donor_a_viewer", lambda w: reverse("programme_detail", args=[w.programmes["p1"].pk])),
        ("municipality_x_editor", lambda w: reverse("municipality_detail", args=[w.orgs["x"].pk])),
    ],
)
def test_computed_at_then_pending_after_a_write(world, client_for, role, page):
    client = client_for(role)
    html = client.get(page(world)).content.decode()
    assert "Numbers computed:" in html and PENDING not in html
    # A write marks the indicator stale in its transaction; the recompute runs after commit
    # (never, inside this test's transaction), so the page must say the numbers lag behind.
    schedule_recompute(indicator_ids=[world.indicators["p1"].pk])
    assert PENDING in client.get(page(world)).content.decode()
