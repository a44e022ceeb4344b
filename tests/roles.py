"""The role users of docs/design.md §7 and a small world for them to see, for any test that checks who
sees and does what (the API's roles matrix, the pages).

`build_world()` returns a `World` with two programmes:

- P1 (`Ghadames–Tinley Park`), funded by donor A, implemented by `implementer`, with a twinning of
  municipalities X and Y (and a workstream in X);
- P2, funded by donor B, implemented by another implementer, in municipality Z only.

Each programme has an indicator (with a `sex` disaggregation), a programme-wide target and an
approved result per municipality; P1 also a draft result in X. Donor A and donor B each have a
funder goal; a national target is aligned to both indicators.

Users (`world.users[name]`): ministry_viewer, ministry_approver, donor_a_viewer, donor_b_viewer,
implementer_editor, municipality_x_editor, municipality_y_editor, superuser.
"""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth import get_user_model

from indicators.models import DisaggregationCategory, DisaggregationOption, Indicator, Result
from partners.models import Membership
from rollups.alignment import force_global_snapshot
from rollups.engine import recompute_indicators

from . import factories as f

ROLE_NAMES = (
    "ministry_viewer",
    "ministry_approver",
    "donor_a_viewer",
    "donor_b_viewer",
    "implementer_editor",
    "municipality_x_editor",
    "municipality_y_editor",
)
# Every signed-in user of the world: the roles and the superuser.
SIGNED_IN = (*ROLE_NAMES, "superuser")
Q1 = (datetime.date(2025, 1, 1), datetime.date(2025, 3, 31))
Q2 = (datetime.date(2025, 4, 1), datetime.date(2025, 6, 30))


@dataclass
class World:
    users: dict = field(default_factory=dict)
    orgs: dict = field(default_factory=dict)
    programmes: dict = field(default_factory=dict)
    twinnings: dict = field(default_factory=dict)
    workstreams: dict = field(default_factory=dict)
    indicators: dict = field(default_factory=dict)
    results: dict = field(default_factory=dict)
    targets: dict = field(default_factory=dict)
    funder_goals: dict = field(default_factory=dict)
    national_target: object = None


def disaggregation_categories() -> dict[str, DisaggregationCategory]:
    """The contract's categories and options (docs/design.md §3), created if missing."""
    options = {
        "sex": ["female", "male"],
        "age": ["youth", "adult"],
        "disability": ["with_disability", "without_disability"],
    }
    found = {}
    for code, option_codes in options.items():
        category, _ = DisaggregationCategory.objects.get_or_create(code=code, defaults={"name_en": code.title()})
        for option in option_codes:
            DisaggregationOption.objects.get_or_create(category=category, code=option, defaults={"name_en": option})
        found[code] = category
    return found


def build_world() -> World:
    w = World()
    categories = disaggregation_categories()
    w.orgs["ministry"] = f.MinistryFactory(name_en="Ministry of Local Government")
    w.orgs["donor_a"] = f.DonorFactory(name_en="Donor A")
    w.orgs["donor_b"] = f.DonorFactory(name_en="Donor B")
    w.orgs["implementer"] = f.ImplementerFactory(name_en="Implementer 1")
    w.orgs["implementer_2"] = f.ImplementerFactory(name_en="Implementer 2")
    w.orgs["x"] = f.MunicipalityFactory(name_en="Ghadames", name_ar="غدامس")
    w.orgs["y"] = f.MunicipalityFactory(name_en="Tinley Park", country="US")
    w.orgs["z"] = f.MunicipalityFactory(name_en="Municipality Z")

    w.programmes["p1"] = f.ProgrammeFactory(
        code="P1",
        name_en="Ghadames–Tinley Park",
        name_ar="غدامس - تينلي بارك",
        implementer=w.orgs["implementer"],
        counterpart=w.orgs["ministry"],
        donors=[w.orgs["donor_a"]],
        iati_identifier="US-GOV-1-P1",
    )
    w.programmes["p2"] = f.ProgrammeFactory(code="P2", implementer=w.orgs["implementer_2"], donors=[w.orgs["donor_b"]])
    w.twinnings["p1"] = f.TwinningFactory(programme=w.programmes["p1"], municipalities=[w.orgs["x"], w.orgs["y"]])
    theme = f.ThemeFactory(code="local-revenue", name_en="Local revenue", dac_sector="15112")
    w.workstreams["p1"] = f.WorkstreamFactory(
        programme=w.programmes["p1"], twinning=w.twinnings["p1"], theme=theme, municipalities=[w.orgs["x"]]
    )
    w.workstreams["p2"] = f.WorkstreamFactory(programme=w.programmes["p2"], theme=theme, municipalities=[w.orgs["z"]])
    f.ActivityFactory(workstream=w.workstreams["p1"], municipality=w.orgs["x"])
    f.ActivityFactory(workstream=w.workstreams["p2"], municipality=w.orgs["z"])

    for key in ("p1", "p2"):
        indicator = f.IndicatorFactory(
            programme=w.programmes[key], code=f"{key.upper()}-1", baseline_value=Decimal("5")
        )
        indicator.disaggregations.set([categories["sex"]])
        w.indicators[key] = indicator
        w.targets[key] = f.TargetFactory(
            indicator=indicator, period_start=Q1[0], period_end=Q1[1], value=Decimal("100")
        )
    approved = Result.Status.APPROVED
    w.results["x"] = f.ResultFactory(
        indicator=w.indicators["p1"], municipality=w.orgs["x"], value=Decimal("40"), status=approved
    )
    w.results["y"] = f.ResultFactory(
        indicator=w.indicators["p1"], municipality=w.orgs["y"], value=Decimal("7"), status=approved
    )
    w.results["x_draft"] = f.ResultFactory(
        indicator=w.indicators["p1"], municipality=w.orgs["x"], period_start=Q2[0], period_end=Q2[1], value=Decimal("3")
    )
    w.results["z"] = f.ResultFactory(
        indicator=w.indicators["p2"], municipality=w.orgs["z"], value=Decimal("900"), status=approved
    )

    w.funder_goals["a"] = f.FunderGoalFactory(donor=w.orgs["donor_a"], code="A-1", sdg_targets=["11.3"])
    w.funder_goals["b"] = f.FunderGoalFactory(donor=w.orgs["donor_b"], code="B-1")
    w.national_target = f.NationalTargetFactory(code="NT-1", owner=w.orgs["ministry"])
    for key, goal in (("p1", "a"), ("p2", "b")):
        f.AlignmentFactory(indicator=w.indicators[key], national_target=w.national_target)
        f.AlignmentFactory(indicator=w.indicators[key], national_target=None, funder_goal=w.funder_goals[goal])

    grants = {
        "ministry_viewer": ("ministry", Membership.Role.VIEWER),
        "ministry_approver": ("ministry", Membership.Role.APPROVER),
        "donor_a_viewer": ("donor_a", Membership.Role.VIEWER),
        "donor_b_viewer": ("donor_b", Membership.Role.VIEWER),
        "implementer_editor": ("implementer", Membership.Role.EDITOR),
        "municipality_x_editor": ("x", Membership.Role.EDITOR),
        "municipality_y_editor": ("y", Membership.Role.EDITOR),
    }
    for name, (org, role) in grants.items():
        user = f.UserFactory(username=name)
        f.MembershipFactory(user=user, organisation=w.orgs[org], role=role)
        w.users[name] = user
    w.users["superuser"] = get_user_model().objects.create_superuser("superuser", "root@example.org", "x")
    recompute_indicators([indicator.pk for indicator in w.indicators.values()])
    force_global_snapshot()
    return w


def fresh(user):
    """The same user without the access cached on the object (after memberships change)."""
    return get_user_model().objects.get(pk=user.pk)


__all__ = ["Q1", "Q2", "ROLE_NAMES", "Indicator", "World", "build_world", "disaggregation_categories", "fresh"]
