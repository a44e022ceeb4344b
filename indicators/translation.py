import simple_history
from modeltranslation.translator import TranslationOptions, register

from .models import (
    DisaggregationCategory,
    DisaggregationOption,
    FunderGoal,
    Indicator,
    NationalTarget,
    StandardIndicator,
)


@register(DisaggregationCategory)
class DisaggregationCategoryTranslation(TranslationOptions):
    fields = ("name",)


@register(DisaggregationOption)
class DisaggregationOptionTranslation(TranslationOptions):
    fields = ("name",)


DEFINITION_TRANSLATIONS = (
    "name",
    "definition",
    "unit",
    "data_source",
    "collection_method",
    "responsible",
    "known_limitations",
)


@register(Indicator)
class IndicatorTranslation(TranslationOptions):
    fields = DEFINITION_TRANSLATIONS


@register(StandardIndicator)
class StandardIndicatorTranslation(TranslationOptions):
    fields = DEFINITION_TRANSLATIONS


@register(NationalTarget)
class NationalTargetTranslation(TranslationOptions):
    fields = ("title", "description")


@register(FunderGoal)
class FunderGoalTranslation(TranslationOptions):
    fields = ("title", "description")


# Who changed a framework, and when, in both languages. Registered here rather than with
# `HistoricalRecords()` on the model, so that the history tables are made after modeltranslation
# has added the `_en`/`_ar` columns and keep both languages.
for _model in (Indicator, NationalTarget, FunderGoal, StandardIndicator):
    simple_history.register(_model, app="indicators")
