from modeltranslation.translator import TranslationOptions, register

from .models import DisaggregationCategory, DisaggregationOption, FunderGoal, Indicator, NationalTarget


@register(DisaggregationCategory)
class DisaggregationCategoryTranslation(TranslationOptions):
    fields = ("name",)


@register(DisaggregationOption)
class DisaggregationOptionTranslation(TranslationOptions):
    fields = ("name",)


@register(Indicator)
class IndicatorTranslation(TranslationOptions):
    fields = ("name", "definition", "unit", "data_source", "collection_method", "responsible", "known_limitations")


@register(NationalTarget)
class NationalTargetTranslation(TranslationOptions):
    fields = ("title", "description")


@register(FunderGoal)
class FunderGoalTranslation(TranslationOptions):
    fields = ("title", "description")
