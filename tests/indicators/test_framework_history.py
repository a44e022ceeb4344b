"""Frameworks keep a history of who changed what, in both languages: the set-up pages show it."""

from decimal import Decimal

import pytest

from indicators import services
from partners import services as partner_services
from partners.models import Membership
from tests import factories as f

pytestmark = pytest.mark.django_db


def test_national_target_history_keeps_both_languages():
    target = services.national_target_create(code="NT-9", title_en="Clean water", title_ar="مياه نظيفة")
    services.national_target_update(national_target=target, title_ar="مياه شرب نظيفة")

    newest, oldest = target.history.order_by("-history_id")
    assert (oldest.history_type, oldest.title_en, oldest.title_ar) == ("+", "Clean water", "مياه نظيفة")
    assert (newest.history_type, newest.title_en, newest.title_ar) == ("~", "Clean water", "مياه شرب نظيفة")


def test_indicator_funder_goal_target_and_alignment_changes_are_recorded():
    indicator = f.IndicatorFactory()
    goal = f.FunderGoalFactory()
    alignment = services.alignment_create(indicator=indicator, funder_goal=goal, weight=Decimal("0.5"))
    services.alignment_update(alignment=alignment, weight=Decimal("0.75"))
    services.funder_goal_update(funder_goal=goal, title_ar="هدف معدل")
    services.indicator_update(indicator=indicator, name_ar="مؤشر معدل")

    assert [h.weight for h in alignment.history.order_by("history_id")] == [Decimal("0.5"), Decimal("0.75")]
    assert goal.history.latest("history_id").title_ar == "هدف معدل"
    assert indicator.history.latest("history_id").name_ar == "مؤشر معدل"


def test_membership_role_changes_are_recorded():
    user = f.UserFactory()
    membership = partner_services.membership_create(
        user=user, organisation=f.MunicipalityFactory(), role=Membership.Role.VIEWER
    )
    partner_services.membership_update(membership=membership, role=Membership.Role.EDITOR)

    assert [h.role for h in membership.history.order_by("history_id")] == ["viewer", "editor"]
