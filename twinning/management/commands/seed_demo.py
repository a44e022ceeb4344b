"""Load the demo data of `seeds/` through the services: `python manage.py seed_demo`.

The data lives in YAML files (seeds/01_organisations.yaml ... 07_results.yaml, the ministry's
standard indicators at the head of 06_indicators.yaml); this command only reads them, finds each
object again by its natural key and creates it when missing or brings it up to date through the
update services otherwise, so running it twice changes nothing. Every write goes through
partners/projects/indicators services, so the seed obeys the same rules as the admin, the API and
spreadsheet imports. The demo logins and their passwords are printed at the end (demo only; they
are public, see seeds/README.md).

The files are written as of one day (seeds/00_calendar.yaml); `DemoCalendar` moves their dates so
that a demo seeded today looks as it did on that day, and results carry the day they were sent
(`results_create(submitted_at=...)`, the seed's own keyword), so the reporting cycle has results on
time, late and missing to show.

Because those passwords are public, the command runs only with DEBUG on or with `--demo`, and it
creates a demo login only when no user of that name exists: an existing account (an `admin` of
a real installation) keeps its password, flags and memberships (docs/security.md).
"""

import datetime
from calendar import monthrange
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

import yaml
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import check_password
from django.core.exceptions import ValidationError
from django.core.management import call_command, get_commands, load_command_class
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone, translation

from indicators import services as indicator_services
from indicators.models import Alignment, FunderGoal, Indicator, NationalTarget, Result, StandardIndicator
from indicators.periods import MONTHS_PER_PERIOD
from indicators.translation import DEFINITION_TRANSLATIONS
from partners import services as partner_services
from partners.models import Organisation
from projects import services as project_services
from projects.models import Activity, Programme, Theme, Twinning, Workstream
from registry import services as registry_services
from registry.models import IatiImport, Intervention

LANGUAGES = ("en", "ar")


def default_seed_dir() -> Path:
    return Path(settings.BASE_DIR) / "seeds"


def translated(data: dict[str, Any], *names: str) -> dict[str, str]:
    """{"name": {"en": .., "ar": ..}} → {"name_en": .., "name_ar": ..} for the names present."""
    fields: dict[str, str] = {}
    for name in names:
        if name not in data:
            continue
        value = data[name]
        if not isinstance(value, dict) or set(value) - set(LANGUAGES):
            raise CommandError(f"{name}: give the text as {{en: ..., ar: ...}}, got {value!r}")
        for language in LANGUAGES:
            fields[f"{name}_{language}"] = str(value.get(language) or "").strip()
    return fields


def decimal_or_none(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def sdg_codes(entry: dict[str, Any]) -> list[str]:
    """The entry's SDG target codes in the order the services store them, so that comparing them
    with the stored ones tells whether they changed. Invalid codes are left for the services to
    reject with their message."""
    codes = [str(code).strip() for code in entry.get("sdg_targets") or []]
    if all(indicator_services.SDG_TARGET_PATTERN.match(code) for code in codes):
        return sorted(set(codes), key=indicator_services.sdg_target_sort_key)
    return codes


def naive_period_end(start: datetime.date, frequency: str) -> datetime.date:
    """The day before start + the frequency's months. Whether start..end is a valid period of the
    programme's fiscal year is for the services to say."""
    months = start.year * 12 + start.month - 1 + MONTHS_PER_PERIOD[frequency]
    return datetime.date(months // 12, months % 12 + 1, 1) - datetime.timedelta(days=1)


def add_months(day: datetime.date, months: int) -> datetime.date:
    """The same day `months` later (or earlier); a month's last day stays its month's last day,
    so a period's or a programme's end moves to the end of a month."""
    index = day.year * 12 + day.month - 1 + months
    year, month = index // 12, index % 12 + 1
    last = monthrange(year, month)[1]
    at_month_end = day.day == monthrange(day.year, day.month)[1]
    return datetime.date(year, month, last if at_month_end else min(day.day, last))


def months_between(start: datetime.date, day: datetime.date) -> int:
    """The whole months from `start` to `day`, rounded down (so negative when `day` comes first):
    the most months that, added to `start`, do not pass `day`."""
    months = (day.year - start.year) * 12 + day.month - start.month
    return months - 1 if day.day < start.day else months


SUBMITTED_AT_HOUR = datetime.time(10, 0)  # the demo's submissions arrive mid-morning, Tripoli time
# Results are due 30 days after their period ends (Programme.reporting_due_days): most of the
# demo's arrive well before; seeds/07_results.yaml says which came late.
DEFAULT_SUBMITTED_AFTER_DAYS = 18


@dataclass(frozen=True)
class DemoCalendar:
    """Where the files' dates land. The files are written as of one day (`written_as_of` in
    seeds/00_calendar.yaml); the demo moves every date of the programmes' lives — programme and
    twinning dates, activities, baselines, targets, results and when they were sent — by whole
    quarters, and each programme's fiscal-year start month with them, so that today falls where
    that day falls in the files: the periods just ended, the results due, late or waiting for
    approval, and the progress to date look the same whatever day the demo is seeded. Moving
    everything together keeps every period a period of its fiscal year; a fiscal year may then
    start in another month than the files say. National targets' deadlines (the ministry's plan
    years) and the IATI file stay as written."""

    months: int = 0

    STEP = 3  # whole quarters: the quarters keep starting in January, April, July and October

    @classmethod
    def for_today(cls, written_as_of: datetime.date, today: datetime.date) -> "DemoCalendar":
        # Rounded down, so the files' day never lands after today: their submissions stay past.
        return cls(months=months_between(written_as_of, today) // cls.STEP * cls.STEP)

    def moved(self, day: datetime.date | None) -> datetime.date | None:
        return None if day is None else add_months(day, self.months)

    def fiscal_month(self, month: int) -> int:
        return (month - 1 + self.months) % 12 + 1

    def submitted_at(self, period_end: datetime.date, days_after: int) -> datetime.datetime:
        """When results of the (moved) period that ended on `period_end` were sent."""
        day = period_end + datetime.timedelta(days=days_after)
        return timezone.make_aware(datetime.datetime.combine(day, SUBMITTED_AT_HOUR))


def demo_calendar(seed_dir: Path, today: datetime.date | None = None) -> DemoCalendar:
    """The calendar of the demo in this database: the one it was first seeded with, read from a
    programme it holds (so seeding again, a month or a year later, finds every object by its
    natural key and changes nothing), else the one that puts today where the files' day is."""
    programmes = Seeder(seed_dir).load("05_programmes.yaml").get("programmes", [])
    for entry in programmes:
        stored = Programme.objects.filter(code=entry["code"]).values_list("start_date", flat=True).first()
        if stored is not None:
            return DemoCalendar(months=months_between(entry["start_date"], stored))
    written_as_of = Seeder(seed_dir).load("00_calendar.yaml")["written_as_of"]
    return DemoCalendar.for_today(written_as_of, today or timezone.localdate())


class Seeder:
    """Reads the seed files in order and applies them through the services."""

    def __init__(self, seed_dir: Path, calendar: DemoCalendar | None = None):
        self.seed_dir = seed_dir
        self.calendar = calendar or DemoCalendar()
        self.created: Counter[str] = Counter()
        self.updated: Counter[str] = Counter()
        self.organisations: dict[str, Organisation] = {}
        self.users: dict[str, Any] = {}
        self.logins: list[tuple[str, str, str]] = []
        self.themes: dict[str, Theme] = {}
        self.national_targets: dict[str, NationalTarget] = {}
        self.funder_goals: dict[str, FunderGoal] = {}
        self.programmes: dict[str, Programme] = {}
        self.twinnings: dict[tuple[str, str], Twinning] = {}
        self.workstreams: dict[str, Workstream] = {}
        self.standard_indicators: dict[str, StandardIndicator] = {}
        self.indicators: dict[tuple[str, str], Indicator] = {}

    # Plumbing ------------------------------------------------------------------------------

    def load(self, filename: str) -> dict[str, Any]:
        path = self.seed_dir / filename
        if not path.exists():
            raise CommandError(f"Seed file {path} is missing.")
        with path.open(encoding="utf-8") as handle:
            return yaml.safe_load(handle) or {}

    @contextmanager
    def about(self, what: str) -> Iterator[None]:
        """Turn a service's ValidationError into a CommandError that says which seed entry failed."""
        try:
            yield
        except ValidationError as error:
            raise CommandError(f"{what}: {'; '.join(error.messages)}") from error
        except KeyError as error:
            raise CommandError(f"{what}: unknown reference or missing key {error}") from error

    def ref(self, table: dict, key: Any, kind: str) -> Any:
        try:
            return table[key]
        except KeyError:
            raise CommandError(f"Unknown {kind} {key!r} in the seed files.") from None

    def organisation(self, key: str | None) -> Organisation | None:
        return self.ref(self.organisations, key, "organisation") if key else None

    def upsert(
        self,
        label: str,
        existing: Any,
        create: Callable[..., Any],
        update: Callable[..., Any],
        fields: dict[str, Any],
        **relations: Any,
    ) -> Any:
        """Create the object through `create(**fields, **relations)` when missing. Otherwise pass
        the fields that differ, and the relations (which the update services compare themselves),
        to `update(existing, **changes)`. Returns the object."""
        if existing is None:
            self.created[label] += 1
            return create(**fields, **relations)
        changed = {name: value for name, value in fields.items() if getattr(existing, name) != value}
        obj = update(existing, **changed, **relations)
        if changed:
            self.updated[label] += 1
        return obj

    # Steps ---------------------------------------------------------------------------------

    def run(self) -> None:
        self.seed_organisations(self.load("01_organisations.yaml"))
        self.seed_users(self.load("02_users.yaml"))
        self.seed_themes(self.load("03_themes.yaml"))
        goals = self.load("04_goals.yaml")
        self.seed_national_targets(goals)
        self.seed_funder_goals(goals)
        self.seed_programmes(self.load("05_programmes.yaml"))
        indicators = self.load("06_indicators.yaml")
        self.seed_standard_indicators(indicators)
        self.seed_indicators(indicators)
        self.seed_results(self.load("07_results.yaml"))
        self.seed_registry(self.load("01_organisations.yaml"), self.seed_dir / "08_iati_activities.xml")

    def seed_organisations(self, data: dict[str, Any]) -> None:
        for entry in data.get("organisations", []):
            key = entry["key"]
            with self.about(f"organisation {key}"):
                fields = {
                    "kind": entry["kind"],
                    **translated(entry, "name", "region"),
                    "country": entry["country"].upper(),
                    "acronym": entry.get("acronym", ""),
                    "population": entry.get("population"),
                    "iati_ref": entry.get("iati_ref", ""),
                }
                existing = Organisation.objects.filter(
                    kind=fields["kind"], name_en=fields["name_en"], country=fields["country"]
                ).first()
                self.organisations[key] = self.upsert(
                    "organisations",
                    existing,
                    partner_services.organisation_create,
                    lambda obj, **changes: partner_services.organisation_update(organisation=obj, **changes),
                    fields,
                )

    def seed_users(self, data: dict[str, Any]) -> None:
        """Create the demo logins that are missing. A user that already exists is someone's
        account: its password, flags and memberships are left exactly as they are."""
        User = get_user_model()
        for entry in data.get("users", []):
            username = entry["username"]
            with self.about(f"user {username}"):
                user = User.objects.filter(username=username).first()
                if user is not None:
                    self.users[username] = user
                    # Shown only if it still works; checked without the upgrade-and-save of
                    # `user.check_password`, so the account is not written.
                    still_demo = check_password(entry["password"], user.password)
                    self.logins.append(
                        (username, entry["password"] if still_demo else "", "existed already: left as it was")
                    )
                    continue
                profile = {
                    "email": entry.get("email", ""),
                    "first_name": entry.get("first_name", ""),
                    "last_name": entry.get("last_name", ""),
                }
                superuser = bool(entry.get("superuser"))
                create = User.objects.create_superuser if superuser else User.objects.create_user
                user = create(username=username, password=entry["password"], **profile)
                self.created["users"] += 1
                self.users[username] = user
                roles = []
                for membership in entry.get("memberships", []):
                    organisation = self.ref(self.organisations, membership["organisation"], "organisation")
                    role = membership["role"]
                    partner_services.membership_create(user=user, organisation=organisation, role=role)
                    self.created["memberships"] += 1
                    roles.append(f"{role} of {organisation.name_en}")
                described = "superuser" if superuser else ", ".join(roles)
                self.logins.append((username, entry["password"], described))

    def seed_themes(self, data: dict[str, Any]) -> None:
        for entry in data.get("themes", []):
            code = entry["code"]
            with self.about(f"theme {code}"):
                fields = {
                    "code": code,
                    **translated(entry, "name", "description"),
                    "dac_sector": str(entry.get("dac_sector") or ""),
                }
                self.themes[code] = self.upsert(
                    "themes",
                    Theme.objects.filter(code=code).first(),
                    project_services.theme_create,
                    lambda obj, **changes: project_services.theme_update(theme=obj, **changes),
                    fields,
                )

    def seed_national_targets(self, data: dict[str, Any]) -> None:
        for entry in data.get("national_targets", []):
            code = entry["code"]
            with self.about(f"national target {code}"):
                fields = {
                    "code": code,
                    **translated(entry, "title", "description"),
                    "owner": self.organisation(entry.get("owner")),
                    "deadline": entry.get("deadline"),
                    "sdg_targets": sdg_codes(entry),
                }
                self.national_targets[code] = self.upsert(
                    "national targets",
                    NationalTarget.objects.filter(code=code).first(),
                    indicator_services.national_target_create,
                    lambda obj, **changes: indicator_services.national_target_update(national_target=obj, **changes),
                    fields,
                )

    def seed_funder_goals(self, data: dict[str, Any]) -> None:
        for entry in data.get("funder_goals", []):
            donor = self.ref(self.organisations, entry["donor"], "organisation")
            code = entry["code"]
            key = f"{entry['donor']}/{code}"
            with self.about(f"funder goal {key}"):
                parent = None
                if entry.get("parent"):
                    parent = self.ref(self.funder_goals, f"{entry['donor']}/{entry['parent']}", "funder goal")
                fields = {
                    "code": code,
                    **translated(entry, "title", "description"),
                    "parent": parent,
                    "sdg_targets": sdg_codes(entry),
                }
                self.funder_goals[key] = self.upsert(
                    "funder goals",
                    FunderGoal.objects.filter(donor=donor, code=code).first(),
                    partial(indicator_services.funder_goal_create, donor=donor),
                    lambda obj, **changes: indicator_services.funder_goal_update(funder_goal=obj, **changes),
                    fields,
                )

    def seed_programmes(self, data: dict[str, Any]) -> None:
        for entry in data.get("programmes", []):
            code = entry["code"]
            with self.about(f"programme {code}"):
                fields = {
                    "code": code,
                    **translated(entry, "name", "description"),
                    "implementer": self.organisation(entry.get("implementer")),
                    "counterpart": self.organisation(entry.get("counterpart")),
                    "start_date": self.calendar.moved(entry["start_date"]),
                    "end_date": self.calendar.moved(entry["end_date"]),
                    "budget": decimal_or_none(entry.get("budget")),
                    "currency": entry.get("currency", "USD"),
                    "status": entry.get("status", Programme.Status.PLANNED),
                    "iati_identifier": entry.get("iati_identifier", ""),
                    "fiscal_year_start_month": self.calendar.fiscal_month(int(entry.get("fiscal_year_start_month", 1))),
                }
                donors = [self.ref(self.organisations, key, "organisation") for key in entry.get("donors", [])]
                programme = self.upsert(
                    "programmes",
                    Programme.objects.filter(code=code).first(),
                    project_services.programme_create,
                    lambda obj, **changes: project_services.programme_update(programme=obj, **changes),
                    fields,
                    donors=donors,
                )
                self.programmes[code] = programme
            for twinning in entry.get("twinnings", []):
                self.seed_twinning(programme, twinning)
            for workstream in entry.get("workstreams", []):
                self.seed_workstream(programme, workstream)

    def seed_twinning(self, programme: Programme, entry: dict[str, Any]) -> None:
        names = translated(entry, "name")
        with self.about(f"twinning {names['name_en']}"):
            fields = {
                **names,
                "signed_on": self.calendar.moved(entry.get("signed_on")),
                "status": entry.get("status", "proposed"),
            }
            municipalities = [self.ref(self.organisations, key, "organisation") for key in entry["municipalities"]]
            self.twinnings[(programme.code, entry["key"])] = self.upsert(
                "twinnings",
                Twinning.objects.filter(programme=programme, name_en=names["name_en"]).first(),
                partial(project_services.twinning_create, programme=programme),
                lambda obj, **changes: project_services.twinning_update(twinning=obj, **changes),
                fields,
                municipalities=municipalities,
            )

    def seed_workstream(self, programme: Programme, entry: dict[str, Any]) -> None:
        key = entry["key"]
        with self.about(f"workstream {key}"):
            fields = {
                **translated(entry, "name", "description"),
                "theme": self.ref(self.themes, entry["theme"], "theme"),
                "twinning": self.ref(self.twinnings, (programme.code, entry["twinning"]), "twinning")
                if entry.get("twinning")
                else None,
                "lead": self.organisation(entry.get("lead")),
            }
            municipalities = [self.ref(self.organisations, k, "organisation") for k in entry.get("municipalities", [])]
            workstream = self.upsert(
                "workstreams",
                Workstream.objects.filter(programme=programme, name_en=fields["name_en"]).first(),
                partial(project_services.workstream_create, programme=programme),
                lambda obj, **changes: project_services.workstream_update(workstream=obj, **changes),
                fields,
                municipalities=municipalities,
            )
            self.workstreams[key] = workstream
        for activity in entry.get("activities", []):
            self.seed_activity(workstream, activity)

    def seed_activity(self, workstream: Workstream, entry: dict[str, Any]) -> None:
        titles = translated(entry, "title")
        start_date, end_date = self.calendar.moved(entry["start_date"]), self.calendar.moved(entry["end_date"])
        with self.about(f"activity {titles['title_en']}"):
            fields = {
                **titles,
                **translated(entry, "description", "lessons_learned"),
                "kind": entry.get("kind", Activity.Kind.OTHER),
                "start_date": start_date,
                "end_date": end_date,
                "municipality": self.organisation(entry.get("municipality")),
                "status": entry.get("status", Activity.Status.PLANNED),
                **{
                    name: int(entry.get(name, 0))
                    for name in (
                        "participants_female",
                        "participants_male",
                        "participants_youth",
                        "participants_with_disability",
                    )
                },
            }
            self.upsert(
                "activities",
                Activity.objects.filter(
                    workstream=workstream, title_en=titles["title_en"], start_date=start_date
                ).first(),
                partial(project_services.activity_create, workstream=workstream),
                lambda obj, **changes: project_services.activity_update(activity=obj, **changes),
                fields,
            )

    @staticmethod
    def definition_fields(entry: dict[str, Any]) -> dict[str, Any]:
        """What defines a measure (`IndicatorDefinition`), as a standard indicator and a programme's
        indicator both give it. Bounds and whole numbers only when the entry says so."""
        fields = {
            "code": entry["code"],
            **translated(entry, *DEFINITION_TRANSLATIONS),
            "level": entry.get("level", Indicator.Level.OUTPUT),
            "measure": entry["measure"],
            "time_aggregation": entry["time_aggregation"],
            "direction": entry.get("direction", Indicator.Direction.INCREASE),
            "frequency": entry["frequency"],
        }
        for name in ("value_min", "value_max"):
            if name in entry:
                fields[name] = decimal_or_none(entry[name])
        if "whole_numbers" in entry:
            fields["whole_numbers"] = bool(entry["whole_numbers"])
        return fields

    def seed_standard_indicators(self, data: dict[str, Any]) -> None:
        """The ministry's standard list (the set-up page "Standard indicators"), before the
        programmes' indicators, some of which are copies of a standard."""
        for entry in data.get("standard_indicators", []):
            code = entry["code"]
            with self.about(f"standard indicator {code}"):
                self.standard_indicators[code] = self.upsert(
                    "standard indicators",
                    StandardIndicator.objects.filter(code=code).first(),
                    indicator_services.standard_indicator_create,
                    lambda obj, **changes: indicator_services.standard_indicator_update(
                        standard_indicator=obj, **changes
                    ),
                    self.definition_fields(entry),
                    disaggregations=list(entry.get("disaggregations", [])),
                )

    def copy_of_standard(self, label: str, entry: dict[str, Any], fields: dict[str, Any], programme: Programme):
        """The create step of an indicator that follows a standard (`standard:` in the files): made
        through `indicator_copy`, the only way an indicator comes to name its standard, then given
        the programme's own fields and wording. The files must not make it count differently from
        its standard (the indicator's page would then say it does)."""
        standard = self.ref(self.standard_indicators, entry["standard"], "standard indicator")
        differ = [
            name
            for name in ("measure", "time_aggregation", "direction", "frequency")
            if fields[name] != getattr(standard, name)
        ]
        if set(entry.get("disaggregations", [])) != {c.code for c in standard.disaggregations.all()}:
            differ.append("disaggregations")
        if differ:
            raise CommandError(f"{label} follows {standard.code} but counts differently: {', '.join(differ)}.")

        def create(*, disaggregations: list[str], **values: Any) -> Indicator:
            indicator = indicator_services.indicator_copy(
                source=standard, programme=programme, code=values["code"], user=None
            )
            changes = {name: value for name, value in values.items() if getattr(indicator, name) != value}
            return indicator_services.indicator_update(indicator=indicator, disaggregations=disaggregations, **changes)

        return create

    def seed_indicators(self, data: dict[str, Any]) -> None:
        for entry in data.get("indicators", []):
            programme = self.ref(self.programmes, entry["programme"], "programme")
            code = entry["code"]
            label = f"indicator {programme.code}/{code}"
            with self.about(label):
                fields = {
                    **self.definition_fields(entry),
                    "workstream": self.ref(self.workstreams, entry["workstream"], "workstream")
                    if entry.get("workstream")
                    else None,
                    "baseline_value": decimal_or_none(entry.get("baseline_value")),
                    "baseline_date": self.calendar.moved(entry.get("baseline_date")),
                    "lop_target": decimal_or_none(entry.get("lop_target")),
                }
                create = partial(indicator_services.indicator_create, programme=programme)
                if entry.get("standard"):
                    create = self.copy_of_standard(label, entry, fields, programme)
                indicator = self.upsert(
                    "indicators",
                    Indicator.objects.filter(programme=programme, code=code).first(),
                    create,
                    lambda obj, **changes: indicator_services.indicator_update(indicator=obj, **changes),
                    fields,
                    disaggregations=list(entry.get("disaggregations", [])),
                )
                self.indicators[(programme.code, code)] = indicator
                for alignment in entry.get("alignments", []):
                    self.seed_alignment(indicator, alignment)
                for target in entry.get("targets", []):
                    self.seed_targets(indicator, target)

    def seed_alignment(self, indicator: Indicator, entry: dict[str, Any]) -> None:
        weight = Decimal(str(entry.get("weight", 1)))
        if entry.get("national_target"):
            national_target = self.ref(self.national_targets, entry["national_target"], "national target")
            existing = Alignment.objects.filter(indicator=indicator, national_target=national_target).first()
            relation = {"national_target": national_target}
        else:
            funder_goal = self.ref(self.funder_goals, entry["funder_goal"], "funder goal")
            existing = Alignment.objects.filter(indicator=indicator, funder_goal=funder_goal).first()
            relation = {"funder_goal": funder_goal}
        if existing is None:
            indicator_services.alignment_create(indicator=indicator, weight=weight, **relation)
            self.created["alignments"] += 1
        elif existing.weight != weight:
            indicator_services.alignment_update(alignment=existing, weight=weight)
            self.updated["alignments"] += 1

    def seed_targets(self, indicator: Indicator, entry: dict[str, Any]) -> None:
        municipality = self.organisation(entry.get("municipality"))
        starts, values = entry["periods"], entry["values"]
        if len(starts) != len(values):
            raise CommandError(f"targets of {indicator.code}: {len(starts)} periods but {len(values)} values.")
        for start, value in zip(starts, values, strict=True):
            start = self.calendar.moved(start)
            end = naive_period_end(start, indicator.frequency)
            value = Decimal(str(value))
            existing = indicator.targets.filter(municipality=municipality, period_start=start, period_end=end).first()
            if existing is not None and existing.value == value:
                continue
            indicator_services.target_set(
                indicator=indicator, municipality=municipality, period_start=start, period_end=end, value=value
            )
            (self.created if existing is None else self.updated)["targets"] += 1

    def seed_results(self, data: dict[str, Any]) -> None:
        """Each batch is written through `results_create` in one call per submission time, so
        every result carries the day it was sent (docs/reporting-cycle.md): the completeness
        report then shows results on time, late and missing as a real cycle would."""
        for number, batch in enumerate(data.get("batches", []), start=1):
            status = batch["status"]
            user = self.ref(self.users, batch["user"], "user") if batch.get("user") else None
            sent: dict[datetime.datetime | None, tuple[list, list]] = defaultdict(lambda: ([], []))
            for series in batch.get("series", []):
                indicator = self.ref(
                    self.indicators, (series["programme"], series["indicator"]), "indicator (programme, code)"
                )
                municipality = self.ref(self.organisations, series["municipality"], "organisation")
                for row, label, submitted_at in self.series_rows(indicator, municipality, series, batch):
                    rows, labels = sent[submitted_at]
                    rows.append(row)
                    labels.append(label)
            # In the order they were sent, so the results' history reads in that order too.
            for submitted_at in sorted(sent, key=lambda at: (at is not None, at or 0)):
                rows, labels = sent[submitted_at]
                rows, labels = self.without_existing(rows, labels)
                if not rows:
                    continue
                try:
                    indicator_services.results_create(rows=rows, user=user, status=status, submitted_at=submitted_at)
                except indicator_services.BulkValidationError as error:
                    problems = "; ".join(f"{labels[e.row]} {e.field}: {e.message}" for e in error.errors[:10])
                    raise CommandError(f"results batch {number} ({status}): {problems}") from error
                except ValidationError as error:
                    raise CommandError(f"results batch {number} ({status}): {'; '.join(error.messages)}") from error
                self.created["results"] += len(rows)

    def submission_days(self, series: dict[str, Any], batch: dict[str, Any], count: int) -> list[int | None]:
        """Days after each period's end its results were sent: the series' own (one number, or one
        per period), else the batch's; none for drafts, which were never sent."""
        if batch["status"] == Result.Status.DRAFT:
            return [None] * count
        days = series.get("submitted_after_days", batch.get("submitted_after_days", DEFAULT_SUBMITTED_AFTER_DAYS))
        days = list(days) if isinstance(days, list) else [days] * count
        if len(days) != count:
            raise CommandError(f"submitted_after_days of {series['indicator']}: give {count}, one per period.")
        return [int(day) for day in days]

    def series_rows(
        self, indicator: Indicator, municipality: Organisation, series: dict[str, Any], batch: dict[str, Any]
    ) -> Iterator[tuple[indicator_services.ResultRow, str, datetime.datetime | None]]:
        starts = [self.calendar.moved(start) for start in series["periods"]]
        days_after = self.submission_days(series, batch, len(starts))
        cells: list[tuple[dict[str, str], dict[str, Any]]] = [({}, series)]
        for category, options in (series.get("disaggregations") or {}).items():
            for option, values in options.items():
                cells.append(({category: option}, values if isinstance(values, dict) else {"values": values}))
        percentage = indicator.measure == Indicator.Measure.PERCENTAGE
        for disaggregation, source in cells:
            columns = ("numerators", "denominators") if percentage else ("values",)
            for column in columns:
                if len(source.get(column) or []) != len(starts):
                    raise CommandError(
                        f"results of {indicator.code} in {municipality.name_en} {disaggregation or '(total)'}: "
                        f"give {len(starts)} {column}, one per period."
                    )
            for index, start in enumerate(starts):
                end = naive_period_end(start, indicator.frequency)
                row = indicator_services.ResultRow(
                    indicator_id=indicator.pk,
                    municipality_id=municipality.pk,
                    period_start=start,
                    period_end=end,
                    disaggregation=disaggregation,
                    value=None if percentage else decimal_or_none(source["values"][index]),
                    numerator=decimal_or_none(source["numerators"][index]) if percentage else None,
                    denominator=decimal_or_none(source["denominators"][index]) if percentage else None,
                    comment=str(series.get("comment", "")),
                )
                label = f"{indicator.code} {municipality.name_en} {start} {disaggregation or '(total)'}"
                submitted_at = None if days_after[index] is None else self.calendar.submitted_at(end, days_after[index])
                yield row, label, submitted_at

    @staticmethod
    def without_existing(rows, labels):
        """Leave out the rows whose cell already holds a result (whatever its status or value)."""
        if not rows:
            return rows, labels
        existing = set(
            Result.objects.filter(indicator_id__in={r.indicator_id for r in rows}).values_list(
                "indicator_id",
                "municipality_id",
                "period_start",
                "period_end",
                "disaggregation_category",
                "disaggregation_option",
            )
        )
        kept = [
            (row, label)
            for row, label in zip(rows, labels, strict=True)
            if (
                row.indicator_id,
                row.municipality_id,
                row.period_start,
                row.period_end,
                *(next(iter(row.disaggregation.items())) if row.disaggregation else ("", "")),
            )
            not in existing
        ]
        return [row for row, _ in kept], [label for _, label in kept]

    def seed_registry(self, organisations: dict[str, Any], iati_file: Path) -> None:
        """The aid registry: the municipalities' place codes and points, the default sector–theme
        mapping, the programmes' interventions, the demo IATI file (once), then the detector, so
        the review queue has a real candidate without a worker."""
        for entry in organisations.get("organisations", []):
            places = {name: entry[name] for name in ("pcode", "latitude", "longitude") if name in entry}
            if not places:
                continue
            organisation = self.ref(self.organisations, entry["key"], "organisation")
            with self.about(f"organisation {entry['key']}"):
                changes = {
                    name: Decimal(str(value)) if name != "pcode" else str(value)
                    for name, value in places.items()
                    if getattr(organisation, name) != (Decimal(str(value)) if name != "pcode" else str(value))
                }
                if changes:
                    partner_services.organisation_update(organisation=organisation, **changes)
                    self.updated["organisations"] += 1
        self.created["sector-theme mappings"] += registry_services.sector_themes_seed_defaults()
        for programme in self.programmes.values():
            existed = Intervention.objects.filter(programme=programme).exists()
            registry_services.programme_intervention_sync(programme_id=programme.pk)
            if not existed:
                self.created["registry interventions"] += 1
        if not iati_file.exists():
            raise CommandError(f"Seed file {iati_file} is missing.")
        with iati_file.open("rb") as source:
            digest, _size = registry_services.file_digest(source)
            if not IatiImport.objects.filter(file_sha256=digest, status=IatiImport.Status.IMPORTED).exists():
                with self.about(f"IATI file {iati_file.name}"):
                    record = registry_services.iati_import_create(source=source, file_name=iati_file.name)
                if record.errors:
                    raise CommandError(f"{iati_file.name}: {record.errors}")
                self.created["registry interventions"] += record.activities_created
                self.updated["registry interventions"] += record.activities_updated
        self.created["overlap candidates"] += registry_services.overlap_candidates_refresh()["created"]


class Command(BaseCommand):
    help = "Load the demo data (seeds/*.yaml) through the services; running it again changes nothing."

    def add_arguments(self, parser):
        parser.add_argument(
            "--demo",
            action="store_true",
            help="Load the demo even though DEBUG is off (a demo server). Never on a database real users reach.",
        )
        parser.add_argument(
            "--seed-dir", type=Path, default=None, help="Directory of the seed files (default: seeds/)."
        )
        parser.add_argument("--skip-rollups", action="store_true", help="Do not run recompute_rollups after seeding.")

    def recompute_rollups(self, verbosity: int) -> None:
        """Fill the rollups now, so the demo shows numbers even when no worker runs. The command
        comes with the rollup engine; before it exists the seed simply skips this step."""
        commands = get_commands()
        if "recompute_rollups" not in commands:
            if verbosity:
                self.stdout.write("No recompute_rollups command yet: rollups not computed.")
            return
        options: dict[str, Any] = {"verbosity": verbosity, "stdout": self.stdout, "stderr": self.stderr}
        parser = load_command_class(commands["recompute_rollups"], "recompute_rollups").create_parser(
            "manage.py", "recompute_rollups"
        )
        if "no_progress" in {action.dest for action in parser._actions}:
            options["no_progress"] = True
        call_command("recompute_rollups", **options)

    def handle(self, *args, **options):
        if not (settings.DEBUG or options["demo"]):
            raise CommandError(
                "seed_demo creates logins whose passwords are published (seeds/README.md), so it runs "
                "only with DEBUG on or with --demo. Never load the demo into a database that real "
                "users can reach."
            )
        seed_dir = options["seed_dir"] or default_seed_dir()
        with translation.override("en"), transaction.atomic():
            seeder = Seeder(seed_dir, demo_calendar(seed_dir))
            seeder.run()
        verbosity = options["verbosity"]
        if verbosity:
            created = ", ".join(f"{n} {label}" for label, n in sorted(seeder.created.items()) if n) or "nothing"
            updated = ", ".join(f"{n} {label}" for label, n in sorted(seeder.updated.items()) if n) or "nothing"
            self.stdout.write(f"Created: {created}.")
            self.stdout.write(f"Updated: {updated}.")
        if not options["skip_rollups"]:
            self.recompute_rollups(verbosity)
        if verbosity:
            self.stdout.write(self.style.SUCCESS("Demo data loaded. Demo logins (DEMO ONLY, public passwords):"))
            width = max(len(username) for username, _, _ in seeder.logins) if seeder.logins else 0
            for username, password, described in seeder.logins:
                self.stdout.write(f"  {username.ljust(width)}  {password or '-'}  ({described})")
