"""OpenAPI post-processing: every operation documents the refusals the API can give."""

from django.utils.translation import gettext_lazy as _

ERROR_SCHEMA = {
    "description": "A refusal: {detail} or {field: [messages]}; a bulk POST answers [{row, field, message}].",
    "oneOf": [
        {"type": "object", "additionalProperties": True},
        {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"row": {"type": "integer"}, "field": {"type": "string"}, "message": {"type": "string"}},
            },
        },
    ],
}

COMMON = {
    "400": _("Invalid input: the body names each field at fault."),
    "401": _("Not signed in: send `Authorization: Token <key>` or a session cookie."),
    "403": _("Signed in, but your role does not allow this."),
    "404": _("No such object among those you may see."),
    "406": _("None of the formats in the Accept header (or ?format=) is offered here."),
}
WRITES = {
    "409": _("Conflict: the result is approved and locked, or other records refer to this one."),
    "412": _("Stale version: someone changed the object since you read it."),
    "413": _("Too large: more than 10,000 rows in one request."),
    "415": _("Send JSON (or form data)."),
}


def add_error_responses(result, generator, request, public):
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            codes = dict(COMMON)
            if method in ("post", "put", "patch", "delete"):
                codes.update(WRITES)
            for code, description in codes.items():
                response = operation["responses"].setdefault(code, {})
                response.setdefault("description", str(description))
                response["content"] = {"application/json": {"schema": ERROR_SCHEMA}}
    return result
