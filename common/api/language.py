"""`?lang=en|ar` on an API URL: the language of its answer, before `Accept-Language`.

The API lives outside the /en/ and /ar/ prefixes, so its language is the browser's
(`Accept-Language`, docs/design.md §6). A download link on an Arabic page (the IPTT, the
completeness report) names the page's language with `lang=`, so the file is in the language the
user was reading, whatever their browser says. Without `lang=` nothing changes.
"""

from django.conf import settings
from django.utils import translation

API_PREFIX = "/api/"


class QueryLanguageMiddleware:
    """After `LocaleMiddleware`: it set the language from the request; `lang=` overrides it."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.languages = {code for code, _name in settings.LANGUAGES}

    def __call__(self, request):
        language = request.GET.get("lang")
        if language in self.languages and request.path_info.startswith(API_PREFIX):
            translation.activate(language)
            request.LANGUAGE_CODE = language
        return self.get_response(request)
