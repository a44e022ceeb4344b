"""Request parsers that turn every malformed body into a 400 naming what is wrong."""

from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


class BoundedJSONParser(JSONParser):
    """DRF's JSON parser, except that JSON nested deeper than Python's recursion limit (a few
    hundred thousand brackets fit in a normal body) is a 400, not a RecursionError."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError as error:
            raise ParseError(_("JSON parse error: the document is nested too deeply.")) from error
