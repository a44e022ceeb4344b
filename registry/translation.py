from modeltranslation.translator import TranslationOptions, register

from .models import Intervention


@register(Intervention)
class InterventionTranslation(TranslationOptions):
    fields = ("title", "description")
