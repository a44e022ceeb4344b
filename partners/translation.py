import simple_history
from modeltranslation.translator import TranslationOptions, register

from .models import Organisation


@register(Organisation)
class OrganisationTranslation(TranslationOptions):
    fields = ("name", "region")


# Registered after modeltranslation so that the history keeps both languages (indicators.translation).
simple_history.register(Organisation, app="partners")
