"""Every test factory, in one place."""

import datetime
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model

from indicators.models import Alignment, FunderGoal, Indicator, NationalTarget, Result, StandardIndicator, Target
from partners.models import Membership, Organisation
from projects.models import Activity, Programme, Theme, Twinning, Workstream


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.org")
    password = factory.django.Password("correct horse battery staple")


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    kind = Organisation.Kind.MUNICIPALITY
    name_en = factory.Sequence(lambda n: f"Organisation {n}")
    name_ar = factory.Sequence(lambda n: f"منظمة {n}")
    country = "LY"


class MunicipalityFactory(OrganisationFactory):
    kind = Organisation.Kind.MUNICIPALITY
    name_en = factory.Sequence(lambda n: f"Municipality {n}")
    name_ar = factory.Sequence(lambda n: f"بلدية {n}")
    population = 10000


class DonorFactory(OrganisationFactory):
    kind = Organisation.Kind.DONOR
    name_en = factory.Sequence(lambda n: f"Donor {n}")
    name_ar = factory.Sequence(lambda n: f"جهة مانحة {n}")
    country = "US"


class MinistryFactory(OrganisationFactory):
    kind = Organisation.Kind.MINISTRY
    name_en = factory.Sequence(lambda n: f"Ministry {n}")
    name_ar = factory.Sequence(lambda n: f"وزارة {n}")


class ImplementerFactory(OrganisationFactory):
    kind = Organisation.Kind.IMPLEMENTER
    name_en = factory.Sequence(lambda n: f"Implementer {n}")
    name_ar = factory.Sequence(lambda n: f"جهة منفذة {n}")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    organisation = factory.SubFactory(OrganisationFactory)
    role = Membership.Role.VIEWER


class ProgrammeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Programme
        skip_postgeneration_save = True

    code = factory.Sequence(lambda n: f"PRG-{n}")
    name_en = factory.Sequence(lambda n: f"Programme {n}")
    name_ar = factory.Sequence(lambda n: f"برنامج {n}")
    implementer = factory.SubFactory(ImplementerFactory)
    start_date = datetime.date(2025, 1, 1)
    end_date = datetime.date(2027, 12, 31)
    budget = Decimal("1000000.00")
    currency = "USD"
    status = Programme.Status.ACTIVE
    fiscal_year_start_month = 1

    @factory.post_generation
    def donors(self, create, extracted, **kwargs):
        if create and extracted:
            self.donors.set(extracted)


class TwinningFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Twinning
        skip_postgeneration_save = True

    programme = factory.SubFactory(ProgrammeFactory)
    name_en = factory.Sequence(lambda n: f"Twinning {n}")
    name_ar = factory.Sequence(lambda n: f"توأمة {n}")
    status = Twinning.Status.ACTIVE

    @factory.post_generation
    def municipalities(self, create, extracted, **kwargs):
        if create and extracted:
            self.municipalities.set(extracted)


class ThemeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Theme
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"theme-{n}")
    name_en = factory.Sequence(lambda n: f"Theme {n}")
    name_ar = factory.Sequence(lambda n: f"محور {n}")


class WorkstreamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Workstream
        skip_postgeneration_save = True

    programme = factory.SubFactory(ProgrammeFactory)
    theme = factory.SubFactory(ThemeFactory)
    name_en = factory.Sequence(lambda n: f"Workstream {n}")
    name_ar = factory.Sequence(lambda n: f"مسار عمل {n}")

    @factory.post_generation
    def municipalities(self, create, extracted, **kwargs):
        if create and extracted:
            self.municipalities.set(extracted)


class ActivityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Activity

    workstream = factory.SubFactory(WorkstreamFactory)
    kind = Activity.Kind.WORKSHOP
    title_en = factory.Sequence(lambda n: f"Activity {n}")
    title_ar = factory.Sequence(lambda n: f"نشاط {n}")
    start_date = datetime.date(2025, 3, 1)
    end_date = datetime.date(2025, 3, 3)


class IndicatorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Indicator

    programme = factory.SubFactory(ProgrammeFactory)
    code = factory.Sequence(lambda n: f"IND-{n}")
    name_en = factory.Sequence(lambda n: f"Indicator {n}")
    name_ar = factory.Sequence(lambda n: f"مؤشر {n}")
    unit_en = "people"
    unit_ar = "أشخاص"
    measure = Indicator.Measure.NUMBER
    time_aggregation = Indicator.TimeAggregation.SUM
    direction = Indicator.Direction.INCREASE
    frequency = Indicator.Frequency.QUARTERLY


class TargetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Target

    indicator = factory.SubFactory(IndicatorFactory)
    municipality = None
    period_start = datetime.date(2025, 1, 1)
    period_end = datetime.date(2025, 3, 31)
    value = Decimal("100")


class ResultFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Result

    indicator = factory.SubFactory(IndicatorFactory)
    municipality = factory.SubFactory(MunicipalityFactory)
    period_start = datetime.date(2025, 1, 1)
    period_end = datetime.date(2025, 3, 31)
    value = Decimal("10")
    status = Result.Status.DRAFT


class NationalTargetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = NationalTarget

    code = factory.Sequence(lambda n: f"NT-{n}")
    title_en = factory.Sequence(lambda n: f"National target {n}")
    title_ar = factory.Sequence(lambda n: f"هدف وطني {n}")
    sdg_targets = factory.LazyFunction(lambda: ["11.3"])


class FunderGoalFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FunderGoal

    donor = factory.SubFactory(DonorFactory)
    code = factory.Sequence(lambda n: f"FG-{n}")
    title_en = factory.Sequence(lambda n: f"Funder goal {n}")
    title_ar = factory.Sequence(lambda n: f"هدف المانح {n}")


class AlignmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Alignment

    indicator = factory.SubFactory(IndicatorFactory)
    national_target = factory.SubFactory(NationalTargetFactory)
    funder_goal = None
    weight = Decimal("1")


class StandardIndicatorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StandardIndicator

    code = factory.Sequence(lambda n: f"STD-{n}")
    name_en = factory.Sequence(lambda n: f"Standard indicator {n}")
    name_ar = factory.Sequence(lambda n: f"مؤشر معياري {n}")
    unit_en = "people"
    unit_ar = "أشخاص"
    measure = StandardIndicator.Measure.NUMBER
    time_aggregation = StandardIndicator.TimeAggregation.SUM
    direction = StandardIndicator.Direction.INCREASE
    frequency = StandardIndicator.Frequency.QUARTERLY
