"""`manage.py seed_demo`: the demo data loads through the services, twice without changes, and
has something to show on every page (measures, quarters, languages, logins, gaps, overlaps).

The demo is seeded once for the module inside a transaction that is rolled back at the end, so
the other test modules see an empty database.
"""

import io
import itertools
import re
import shutil

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.auth import authenticate, get_user_model
from django.core.management import CommandError, call_command
from django.db import transaction
from django.db.models import Count
from modeltranslation.translator import translator

from indicators import periods
from indicators.models import Alignment, FunderGoal, Indicator, NationalTarget, Result, StandardIndicator
from partners.models import Membership, Organisation
from projects.models import Activity, Programme, Theme, Workstream
from twinning.management.commands import seed_demo

ARABIC = re.compile(r"[\u0600-\u06FF]")
MARK_EN = "Illustrative demo data."
MARK_AR = "بيانات توضيحية للعرض."
ALLOWED_COMBINATIONS = {
    ("number", "sum"),
    ("number", "cumulative"),
    ("number", "latest"),
    ("percentage", "latest"),
    ("score", "latest"),
}
LOGINS = {
    # username: (password, organisation English name, role)
    "ministry": ("demo-ministry-2026", "Ministry of Local Government", "approver"),
    "usaid": ("demo-donor-2026", "United States Agency for International Development", "viewer"),
    "implementer": ("demo-implementer-2026", "Taqarub programme team", "editor"),
    "ghadames": ("demo-municipality-2026", "Ghadames", "editor"),
}


def seed(**options) -> str:
    out = io.StringIO()
    options.setdefault("demo", True)  # the tests run with DEBUG off
    call_command("seed_demo", stdout=out, stderr=io.StringIO(), **options)
    return out.getvalue()


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    """Seed once for the module; roll everything back afterwards."""
    with django_db_blocker.unblock(), transaction.atomic():
        output = seed()
        yield output
        transaction.set_rollback(True)


@pytest.fixture
def demo(seeded, db):
    return seeded


def row_counts() -> dict[str, int]:
    """Rows of every model of the project apps and auth, and of their many-to-many tables."""
    counts = {}
    for app_label in ("partners", "projects", "indicators", "auth", "authtoken"):
        try:
            config = apps.get_app_config(app_label)
        except LookupError:
            continue
        for model in config.get_models(include_auto_created=True):
            counts[model._meta.label] = model._default_manager.count()
    return counts


def test_second_run_changes_nothing(demo):
    before = row_counts()
    assert before["indicators.Result"] > 0
    output = seed()
    assert "Created: nothing." in output
    assert "Updated: nothing." in output
    assert row_counts() == before


def test_no_duplicates_by_natural_key(demo):
    natural_keys = [
        (Organisation, ("kind", "name_en", "country")),
        (Programme, ("code",)),
        (Theme, ("code",)),
        (Workstream, ("programme", "name_en")),
        (Activity, ("workstream", "title_en", "start_date")),
        (Indicator, ("programme", "code")),
        (StandardIndicator, ("code",)),
        (NationalTarget, ("code",)),
        (FunderGoal, ("donor", "code")),
        (Alignment, ("indicator", "national_target", "funder_goal")),
        (Membership, ("user", "organisation")),
    ]
    for model, fields in natural_keys:
        duplicates = model.objects.values(*fields).annotate(n=Count("pk")).filter(n__gt=1)
        assert not duplicates.exists(), f"{model.__name__}: {list(duplicates)}"


def test_contents_named_in_the_design(demo):
    calendar = seed_demo.demo_calendar(settings.BASE_DIR / "seeds")
    taqarub = Programme.objects.get(code="TAQARUB")
    assert taqarub.name_ar == "تقارب"
    assert taqarub.fiscal_year_start_month == calendar.fiscal_month(10)  # October, as the files say, moved
    assert [d.acronym for d in taqarub.donors.all()] == ["USAID"]
    assert taqarub.implementer.kind == Organisation.Kind.IMPLEMENTER
    assert taqarub.counterpart.name_ar == "وزارة الحكم المحلي"
    ministries = set(Organisation.objects.filter(kind="ministry").values_list("name_ar", flat=True))
    assert {"وزارة الحكم المحلي", "المجلس الأعلى للإدارة المحلية"} <= ministries

    twinning = taqarub.twinnings.get()
    assert set(twinning.municipalities.values_list("name_ar", "country")) == {("غدامس", "LY"), ("تينلي بارك", "US")}

    libyan = Organisation.objects.filter(kind="municipality", country="LY").exclude(name_en="Ghadames")
    assert libyan.count() >= 2

    assert Theme.objects.count() == 17
    assert all(re.fullmatch(r"\d{5}", code) for code in Theme.objects.values_list("dac_sector", flat=True))
    assert taqarub.workstreams.values("theme").distinct().count() >= 5

    conference = Activity.objects.get(kind=Activity.Kind.CONFERENCE, workstream__programme=taqarub)
    assert "Ghadames and Tinley Park" in conference.title_en
    assert (conference.end_date - conference.start_date).days == 2  # three days
    assert conference.lessons_learned_en and ARABIC.search(conference.lessons_learned_ar)

    second = Programme.objects.exclude(pk=taqarub.pk).get()
    assert set(second.donors.all()).isdisjoint(taqarub.donors.all())
    assert second.fiscal_year_start_month == calendar.fiscal_month(1)

    usaid = taqarub.donors.get()
    tree = FunderGoal.objects.filter(donor=usaid)
    assert tree.filter(parent__isnull=True).exists()
    assert tree.filter(parent__isnull=False, parent__parent__isnull=True).exists()  # a second level

    assert all(target.sdg_targets for target in NationalTarget.objects.all())
    sdg = set(itertools.chain.from_iterable(NationalTarget.objects.values_list("sdg_targets", flat=True)))
    assert {"11.3", "16.6", "16.7", "5.5", "8.6", "11.b"} <= sdg


def test_every_allowed_measure_and_time_aggregation(demo):
    combinations = set(Indicator.objects.values_list("measure", "time_aggregation"))
    assert combinations == ALLOWED_COMBINATIONS
    with_approved = set(
        Indicator.objects.filter(results__status=Result.Status.APPROVED).values_list("measure", "time_aggregation")
    )
    assert with_approved == ALLOWED_COMBINATIONS
    for indicator in Indicator.objects.all():
        assert indicator.data_source_en and indicator.data_source_ar
        assert indicator.collection_method_en and indicator.collection_method_ar
        assert indicator.responsible_en and indicator.responsible_ar
        assert indicator.known_limitations_en and indicator.known_limitations_ar
        assert indicator.targets.exists(), indicator.code
    used = set(Indicator.disaggregations.through.objects.values_list("disaggregationcategory__code", flat=True))
    assert used == {"sex", "age", "disability"}


def test_approved_results_over_at_least_four_quarters(demo):
    for programme in Programme.objects.all():
        approved = Result.objects.filter(
            indicator__programme=programme, indicator__frequency="quarterly", status=Result.Status.APPROVED
        )
        quarters = set(approved.values_list("period_start", "period_end"))
        assert len(quarters) >= 4, programme.code
        for start, end in quarters:
            assert periods.is_period(start, end, "quarterly", programme.fiscal_year_start_month)
        categories = set(approved.exclude(disaggregation_category="").values_list("disaggregation_category", flat=True))
        assert categories, programme.code
    approved = Result.objects.filter(status=Result.Status.APPROVED)
    assert set(approved.values_list("disaggregation_category", flat=True)) == {"", "sex", "age", "disability"}
    assert (
        approved.filter(reviewed_by__username="admin").count() == approved.count()
    )  # imported as verified data by the superuser
    assert Result.objects.filter(status=Result.Status.SUBMITTED).exists()
    assert Result.objects.filter(status=Result.Status.DRAFT).exists()
    # Targets both programme-wide and per municipality.
    from indicators.models import Target

    assert Target.objects.filter(municipality__isnull=True).exists()
    assert Target.objects.filter(municipality__isnull=False).exists()


def test_both_languages_everywhere(demo):
    for model in translator.get_registered_models():
        fields = translator.get_options_for_model(model).fields
        for obj in model.objects.all():
            for field in fields:
                english, arabic = getattr(obj, f"{field}_en"), getattr(obj, f"{field}_ar")
                if field in ("name", "title"):
                    assert english and arabic, f"{model.__name__} {obj.pk} {field}"
                if english or arabic:
                    assert english and arabic, f"{model.__name__} {obj.pk} {field}: one language missing"
                    assert ARABIC.search(arabic), f"{model.__name__} {obj.pk} {field}_ar is not Arabic"
                    assert not ARABIC.search(english), f"{model.__name__} {obj.pk} {field}_en is not English"
                if field in ("description", "definition"):
                    assert MARK_EN in english and MARK_AR in arabic, f"{model.__name__} {obj.pk} {field}"


def test_the_ministry_keeps_a_standard_list_that_taqarub_follows(demo):
    standards = StandardIndicator.objects.all()
    assert 4 <= standards.count() <= 6
    for standard in standards:
        assert ARABIC.search(standard.name_ar) and ARABIC.search(standard.definition_ar), standard.code
        assert standard.unit_en and standard.data_source_en and standard.collection_method_en, standard.code
        assert standard.responsible_en and standard.known_limitations_en, standard.code
    followers = Indicator.objects.filter(programme__code="TAQARUB", standard__isnull=False).select_related("standard")
    assert followers.exists()
    for indicator in followers:  # counted as its standard counts, so the copy's page shows no difference
        standard = indicator.standard
        for name in ("measure", "time_aggregation", "direction", "frequency", "value_min", "value_max"):
            assert getattr(indicator, name) == getattr(standard, name), (indicator.code, name)
        assert set(indicator.disaggregations.values_list("code", flat=True)) == set(
            standard.disaggregations.values_list("code", flat=True)
        )


def edited_seeds(tmp_path, edits: dict[str, tuple[str, str]]):
    """A copy of the demo's seed files with, in each named file, one text replaced by another."""
    seed_dir = tmp_path / "seeds"
    shutil.copytree(settings.BASE_DIR / "seeds", seed_dir)
    for name, (old, new) in edits.items():
        text = (seed_dir / name).read_text(encoding="utf-8")
        assert old in text, (name, old)
        (seed_dir / name).write_text(text.replace(old, new), encoding="utf-8")
    return seed_dir


def test_a_copy_that_would_count_differently_from_its_standard_is_refused(demo, tmp_path):
    seed_dir = edited_seeds(
        tmp_path, {"06_indicators.yaml": ("code: TAQ-8\n    standard: MOLG-06", "code: TAQ-10\n    standard: MOLG-03")}
    )
    before = row_counts()
    with pytest.raises(
        CommandError, match="TAQARUB/TAQ-10 follows MOLG-03 but counts differently: frequency, disaggregations"
    ):
        seed(seed_dir=seed_dir, skip_rollups=True)
    assert row_counts() == before


def test_demo_logins(demo):
    for username, (password, organisation, role) in LOGINS.items():
        user = authenticate(username=username, password=password)
        assert user is not None, username
        assert not user.is_superuser
        memberships = list(Membership.objects.filter(user=user).values_list("organisation__name_en", "role"))
        assert memberships == [(organisation, role)], username
        assert f"{username}" in demo and password in demo  # printed by the command
    admin = authenticate(username="admin", password="demo-admin-2026")
    assert admin is not None and admin.is_superuser and admin.is_staff
    assert get_user_model().objects.count() == 5


def test_gaps_have_something_to_show(demo):
    # A national target with no aligned indicator.
    assert NationalTarget.objects.filter(alignments__isnull=True).exists()
    # A funder goal none of whose indicators (its own and its descendants') is aligned to a national target.
    aligned_to_targets = set(
        Alignment.objects.filter(national_target__isnull=False).values_list("indicator_id", flat=True)
    )
    found = False
    for goal in FunderGoal.objects.all():
        subtree, frontier = {goal.pk}, {goal.pk}
        while frontier:
            frontier = set(FunderGoal.objects.filter(parent_id__in=frontier).values_list("pk", flat=True)) - subtree
            subtree |= frontier
        indicators = set(Alignment.objects.filter(funder_goal_id__in=subtree).values_list("indicator_id", flat=True))
        if indicators and not indicators & aligned_to_targets:
            found = True
    assert found


def test_overlaps_have_something_to_show(demo):
    """Two programmes with different donors whose workstreams share a municipality and a theme,
    with overlapping dates (docs/design.md §5)."""
    cells: dict[tuple[int, int], set[int]] = {}
    for workstream in Workstream.objects.prefetch_related("municipalities"):
        for municipality in workstream.municipalities.all():
            cells.setdefault((municipality.pk, workstream.theme_id), set()).add(workstream.programme_id)
    overlaps = []
    for (municipality_id, theme_id), programme_ids in cells.items():
        for a, b in itertools.combinations(sorted(programme_ids), 2):
            first, second = Programme.objects.get(pk=a), Programme.objects.get(pk=b)
            donors_differ = set(first.donors.all()) != set(second.donors.all())
            dates_overlap = first.start_date <= second.end_date and second.start_date <= first.end_date
            if donors_differ and dates_overlap:
                overlaps.append((municipality_id, theme_id))
    assert len(overlaps) >= 2


def test_without_the_rollup_command_the_seed_still_runs(demo, monkeypatch):
    monkeypatch.setattr(seed_demo, "get_commands", lambda: {})
    output = seed()
    assert "No recompute_rollups command yet" in output
    assert "demo-ministry-2026" in output


def test_a_bad_period_in_the_files_is_rejected_by_the_services_and_writes_nothing(demo, tmp_path):
    seed_dir = edited_seeds(
        tmp_path,
        {
            "07_results.yaml": ("taq_quarters: &taq_q [2024-10-01,", "taq_quarters: &taq_q [2024-11-01,"),
            "03_themes.yaml": ("code: urban-planning", "code: urban-plans"),
        },
    )
    before = row_counts()
    with pytest.raises(CommandError, match="not a quarterly period"):
        seed(seed_dir=seed_dir, skip_rollups=True)
    assert row_counts() == before
    assert not Theme.objects.filter(code="urban-plans").exists()


def test_sdg_codes_with_numbered_and_lettered_targets_of_one_goal(demo):
    """Regression: sorting 11.5 and 11.b compared an int with a str (TypeError, a 500)."""
    from indicators import services

    assert NationalTarget.objects.get(code="NT-06").sdg_targets == ["11.5", "11.b", "13.1"]
    target = services.national_target_create(
        code="NT-SDG", title_en="Mixed codes", sdg_targets=["16.b", "16.10", "16.3", "16.a"]
    )
    assert target.sdg_targets == ["16.3", "16.10", "16.a", "16.b"]


def test_refuses_without_debug_or_the_demo_flag(db, settings):
    settings.DEBUG = False
    before = row_counts()
    with pytest.raises(CommandError, match="only with DEBUG on or with --demo"):
        seed(demo=False)
    assert row_counts() == before


def test_runs_with_debug_on_without_the_flag(demo, settings):
    settings.DEBUG = True
    assert "Created: nothing." in seed(demo=False)


def test_existing_users_keep_their_password_flags_and_memberships(demo):
    """An `admin` (or `ministry`) of a real installation is not reset to the published password."""
    User = get_user_model()
    admin = User.objects.get(username="admin")
    admin.set_password("the owner's own passphrase")
    admin.is_superuser = admin.is_staff = False
    admin.save()
    ministry = User.objects.get(username="ministry")
    Membership.objects.filter(user=ministry).update(role=Membership.Role.VIEWER)
    usaid = User.objects.get(username="usaid")
    Membership.objects.filter(user=usaid).delete()
    usaid.is_active = False
    usaid.save()

    output = seed()

    admin.refresh_from_db()
    assert admin.check_password("the owner's own passphrase")
    assert not admin.is_superuser and not admin.is_staff
    assert list(Membership.objects.filter(user=ministry).values_list("role", flat=True)) == ["viewer"]
    usaid.refresh_from_db()
    assert not usaid.is_active and not Membership.objects.filter(user=usaid).exists()
    assert "Updated: nothing." in output
    assert "demo-admin-2026" not in output and "existed already: left as it was" in output
