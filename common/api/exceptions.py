"""One exception handler for the whole API: every refusal is a JSON answer naming the field.

Services raise Django's ValidationError (→ 400 with field messages) or a `common.errors.ServiceError`,
which carries its own status and body (a stale version → 412, a locked result → 409, a bulk write
with bad rows → 400 with one entry per row). A database error that slips past a service is a 400
or 409, never a 500.
"""

import math

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError, IntegrityError
from django.db.models import ProtectedError, RestrictedError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from rest_framework import status
from rest_framework.exceptions import APIException, Throttled
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from common.errors import ServiceError
from common.validation import messages_by_field

# DRF's name for the messages of no one field, which the REST contract answers with.
NON_FIELD_ERRORS_KEY = "non_field_errors"


class PayloadTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = _("The request is too large.")
    default_code = "too_large"


def throttled_response(exc: Throttled) -> Response:
    """429 in the request's language, with the seconds to wait (also in Retry-After)."""
    seconds = max(1, math.ceil(exc.wait)) if exc.wait is not None else 60
    message = ngettext(
        "Too many requests. Try again in %(seconds)d second.",
        "Too many requests. Try again in %(seconds)d seconds.",
        seconds,
    ) % {"seconds": seconds}
    return Response(
        {"detail": message}, status=status.HTTP_429_TOO_MANY_REQUESTS, headers={"Retry-After": str(seconds)}
    )


def exception_handler(exc, context):
    if isinstance(exc, Throttled):
        return throttled_response(exc)
    if isinstance(exc, RequestDataTooBig):
        return Response(
            {
                "detail": str(
                    _("The request body is too large: at most %(limit)s bytes are accepted.")
                    % {"limit": settings.DATA_UPLOAD_MAX_MEMORY_SIZE}
                )
            },
            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    if isinstance(exc, TooManyFieldsSent):
        return Response({"detail": str(_("The request has too many form fields."))}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, ServiceError):
        return Response(exc.as_data(), status=exc.http_status)
    if isinstance(exc, DjangoValidationError):
        return Response(messages_by_field(exc, non_field_key=NON_FIELD_ERRORS_KEY), status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, (ProtectedError, RestrictedError)):
        return Response(
            {"detail": str(_("Other records still refer to this one; remove them first."))},
            status=status.HTTP_409_CONFLICT,
        )
    if isinstance(exc, IntegrityError):
        return Response(
            {NON_FIELD_ERRORS_KEY: [str(_("This change conflicts with existing data."))]},
            status=status.HTTP_400_BAD_REQUEST,
        )
    if isinstance(exc, DataError):
        return Response(
            {NON_FIELD_ERRORS_KEY: [str(_("A value is out of range or too long for its field."))]},
            status=status.HTTP_400_BAD_REQUEST,
        )
    return drf_exception_handler(exc, context)
