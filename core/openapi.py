"""The error half of the OpenAPI schema: one ``Error`` component and the error
responses of every operation, added by a drf-spectacular post-processing hook.

``API_ERRORS`` is the one list of the API's error codes by status: the
``Error`` schema's ``code`` enum comes from it (so schemathesis refuses a code
that is not listed), and a test checks that the docs list each of them.
"""

from __future__ import annotations

from typing import Any

API_ERRORS: dict[int, tuple[str, ...]] = {
    400: (
        "invalid",
        "parse_error",
        "bad_request",
        "invalid_query",
        "invalid_cursor",
        "control_character",
        "too_deep",
        "invalid_order",
        "invalid_quantity",
        "invalid_price",
        "invalid_amount",
        "invalid_client_order_id",
        "invalid_alert",
        "invalid_name",
        "limit_reached",
        "empty_message",
        "body_too_long",
        "cannot_remove_self",
        "not_allowed_here",
        "invalid_attachment",
        "too_large",
        "invalid_image",
        "image_too_large",
        "upload_missing",
        "unknown_reaction",
        "invalid_reply_to",
    ),
    401: (
        "not_authenticated",
        "authentication_failed",
        "invalid_token",
        "malformed_token",
        "inactive_user",
        "unknown_user",
        "wrong_client",
        "wrong_token_use",
        "jwks_unavailable",
        "token_expired",
        "wrong_issuer",
        "bad_algorithm",
        "bad_signature",
        "unknown_key",
    ),
    403: ("permission_denied", "not_an_owner", "not_the_author"),
    404: (
        "not_found",
        "stock_not_found",
        "order_not_found",
        "position_not_found",
        "watchlist_not_found",
        "quote_not_found",
        "not_on_watchlist",
        "account_not_found",
        "conversation_not_found",
        "message_not_found",
        "member_not_found",
        "user_not_found",
        "fill_not_found",
        "alert_not_found",
        "attachment_not_found",
    ),
    405: ("method_not_allowed",),
    406: ("not_acceptable",),
    409: ("watchlist_name_taken", "already_member", "message_deleted"),
    415: ("unsupported_media_type",),
    422: (
        "insufficient_buying_power",
        "insufficient_position",
        "stock_halted",
        "stock_not_tradable",
        "no_quote",
        "order_not_open",
        "client_order_id_conflict",
    ),
    429: ("throttled", "rate_limited"),
    500: ("server_error",),
    503: ("busy", "unavailable"),
}

DESCRIPTIONS = {
    400: "The request is malformed or refused by validation (`fields` says which).",
    401: "Not signed in, or the token is refused.",
    403: "Signed in, but not allowed (also a session write without the CSRF token).",
    404: "No such resource, or one the caller may not see.",
    406: "The Accept header asks for something other than JSON.",
    409: "Conflicts with the current state.",
    415: "The body is not JSON, a form or multipart.",
    422: "Well-formed, but the trading rules refuse it.",
    429: "Too many requests; `Retry-After` says how many seconds to wait.",
    500: "A fault on the server's side.",
    503: (
        "The server is busy (`busy`: nothing was changed) or the database or Redis cannot be reached"
        " (`unavailable`: a write may have gone through; send it again with the same client id)."
        " `Retry-After` says when to try again."
    ),
}
RETRY_AFTER = {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait before retrying."}}
WWW_AUTHENTICATE = {"WWW-Authenticate": {"schema": {"type": "string"}, "description": "The scheme to sign in with."}}

# Statuses only some operations answer, by (method, path) prefix.
CONFLICTS = {
    ("POST", "/api/v1/watchlists"),
    ("PATCH", "/api/v1/watchlists/{watchlist_id}"),
    ("POST", "/api/v1/watchlists/{watchlist_id}/items"),
    ("POST", "/api/v1/conversations/{conversation_id}/members"),
    ("PATCH", "/api/v1/messages/{message_id}"),
    ("DELETE", "/api/v1/messages/{message_id}"),
}
TRADING_RULES = {("POST", "/api/v1/orders"), ("DELETE", "/api/v1/orders/{order_id}")}
RATE_LIMITED = {
    ("POST", "/api/v1/orders"),
    ("POST", "/api/v1/conversations/{conversation_id}/messages"),
    ("POST", "/api/v1/conversations/{conversation_id}/attachments"),
}


# What core.inputs lets through in text: no C0 controls but tab and newlines, no DEL or C1.
TEXT_PATTERN = "^[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f-\\u009f]*$"


def error_codes() -> set[str]:
    return {code for codes in API_ERRORS.values() for code in codes}


def _error_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "description": "The body of every error response.",
        "properties": {
            "code": {
                "type": "string",
                "enum": sorted(error_codes()),
                "description": "Stable and machine-readable.",
            },
            "detail": {"type": "string", "description": "For people; may change between releases."},
            "fields": {
                "type": "object",
                "additionalProperties": {},
                "description": "Validation errors only: the messages for each field of the request.",
            },
        },
        "required": ["code", "detail"],
    }


def _statuses(method: str, path: str, operation: dict[str, Any]) -> list[int]:
    statuses = [400, 401, 403, 404, 406, 500, 503]
    if "requestBody" in operation:
        statuses.append(415)
    if (method, path) in CONFLICTS:
        statuses.append(409)
    if (method, path) in TRADING_RULES:
        statuses.append(422)
    if (method, path) in RATE_LIMITED:
        statuses.append(429)
    return sorted(statuses)


def _constrain_text(schema: dict[str, Any]) -> None:
    if schema.get("type") == "string" and not {"enum", "format", "pattern"} & set(schema):
        schema["pattern"] = TEXT_PATTERN
    if schema.get("type") == "array" and isinstance(schema.get("items"), dict):
        _constrain_text(schema["items"])


def _close_request_schema(schema: dict[str, Any], components: dict[str, Any], seen: set[str]) -> None:
    """Request bodies: no unknown fields (the input serializers refuse them) and no control characters."""
    ref = schema.get("$ref")
    if ref:
        name = ref.rsplit("/", 1)[-1]
        if name in seen or name not in components:
            return
        seen.add(name)
        schema = components[name]
    for option in schema.get("oneOf", []):
        _close_request_schema(option, components, seen)
    if schema.get("type") == "object" and "properties" in schema:
        schema.setdefault("additionalProperties", False)
        for prop in schema["properties"].values():
            _constrain_text(prop)


def add_error_responses(result: dict[str, Any], generator, request, public) -> dict[str, Any]:
    """drf-spectacular ``POSTPROCESSING_HOOKS`` entry: errors, closed request bodies, text without controls."""
    components = result.setdefault("components", {}).setdefault("schemas", {})
    components["Error"] = _error_schema()
    seen: set[str] = set()
    content = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for path, operations in result.get("paths", {}).items():
        if not path.startswith("/api/"):
            continue
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                _constrain_text(parameter.get("schema", {}))
            for media in operation.get("requestBody", {}).get("content", {}).values():
                _close_request_schema(media.get("schema", {}), components, seen)
            responses = operation.setdefault("responses", {})
            for status in _statuses(method.upper(), path, operation):
                response: dict[str, Any] = {"description": DESCRIPTIONS[status], "content": content}
                if status in {429, 503}:
                    response["headers"] = RETRY_AFTER
                elif status == 401:
                    response["headers"] = WWW_AUTHENTICATE
                responses.setdefault(str(status), response)
    return result
