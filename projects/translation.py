import simple_history
from modeltranslation.translator import TranslationOptions, register

from .models import Activity, Programme, Theme, Twinning, Workstream


@register(Programme)
class ProgrammeTranslation(TranslationOptions):
    fields = ("name", "description")


@register(Twinning)
class TwinningTranslation(TranslationOptions):
    fields = ("name",)


@register(Theme)
class ThemeTranslation(TranslationOptions):
    fields = ("name", "description")


@register(Workstream)
class WorkstreamTranslation(TranslationOptions):
    fields = ("name", "description")


@register(Activity)
class ActivityTranslation(TranslationOptions):
    fields = ("title", "description", "lessons_learned")


# Registered after modeltranslation so that the history keeps both languages (indicators.translation).
simple_history.register(Programme, app="projects")
