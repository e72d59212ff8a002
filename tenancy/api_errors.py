"""The API's error answers: one shape for every operation, answered and documented here.

`exception_handler` answers a field error as 400 `{"errors": {field: [message]}}` and anything
else as `{"detail": message}` (docs/api.md: stable error shapes). `document_errors`, an OpenAPI
postprocessing hook, puts both shapes in the components and adds each status an operation can
answer, so a generated client parses errors as typed models.
"""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


def _flatten(detail):
    if isinstance(detail, dict):
        return {key: _flatten(value) if isinstance(value, dict) else _as_list(value) for key, value in detail.items()}
    return _as_list(detail)


def _as_list(value):
    if isinstance(value, list):
        return [str(v) if not isinstance(v, dict) else _flatten(v) for v in value]
    return [str(value)]


def exception_handler(exc, context):
    """Errors answer `{"errors": {field: [message]}}` for validation, `{"detail": …}` otherwise."""
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        detail = exc.detail
        if isinstance(detail, list):
            detail = {"non_field_errors": detail}
        response.data = {"errors": _flatten(detail)}
    return response


def bad_request(field: str, message: str) -> Response:
    return Response({"errors": {field: [message]}}, status=status.HTTP_400_BAD_REQUEST)


ERROR_DETAIL = "ErrorDetail"
VALIDATION_ERROR = "ValidationErrorResponse"

COMPONENTS = {
    ERROR_DETAIL: {
        "type": "object",
        "description": "A refusal that names no field: not signed in, not allowed, not found, a conflict.",
        "properties": {"detail": {"type": "string", "description": "What went wrong, for a person."}},
        "required": ["detail"],
    },
    VALIDATION_ERROR: {
        "type": "object",
        "description": "Bad input changes nothing: each field named, with its messages "
                       "(`non_field_errors` for the request as a whole).",
        "properties": {
            "errors": {
                "type": "object",
                "additionalProperties": {
                    "oneOf": [
                        {"type": "array", "items": {"type": "string"}},
                        {"type": "object", "additionalProperties": {}},
                    ],
                },
            },
        },
        "required": ["errors"],
    },
}

DESCRIPTIONS = {
    "400": "Bad input, each field named; nothing was changed.",
    "401": "No valid credentials (a missing, unknown, expired or revoked token).",
    "403": "Signed in, but the role or the token's scope does not allow this.",
    "404": "No such object in the caller's account (another account's object is 404 too).",
    "409": "The object is not in a state that allows this (e.g. an alert no longer open).",
}

# The operations that answer 409 (their views return it on a state conflict).
CONFLICTS = {
    "v1_alerts_dismiss_create",
    "v1_deliveries_retry_create",
    "v1_jobs_cancel_create",
}


def _ref(name):
    return {"application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}}


def _codes(path, method, operation):
    """The error statuses this operation can answer."""
    codes = ["401", "403"]
    parameters = operation.get("parameters", [])
    has_path_id = any(p.get("in") == "path" for p in parameters)
    has_input = "requestBody" in operation or any(p.get("in") == "query" for p in parameters)
    if has_input or method in ("post", "put", "patch") or (method == "delete" and "organizations" in path):
        codes.append("400")
    if has_path_id:
        codes.append("404")
    if operation.get("operationId") in CONFLICTS:
        codes.append("409")
    return codes


def document_errors(result, generator, request, public):
    result.setdefault("components", {}).setdefault("schemas", {}).update(COMPONENTS)
    for path, methods in result.get("paths", {}).items():
        if not path.startswith("/api/v1/"):
            continue
        for method, operation in methods.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            responses = operation.setdefault("responses", {})
            for code in _codes(path, method, operation):
                if code in responses:
                    continue
                name = VALIDATION_ERROR if code == "400" else ERROR_DETAIL
                responses[code] = {"description": DESCRIPTIONS[code], "content": _ref(name)}
    return result
