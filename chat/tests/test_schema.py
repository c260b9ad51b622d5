"""The chat routes are in the OpenAPI schema, which generates without warnings."""

from __future__ import annotations

from django.core.management import call_command


def test_the_api_schema_has_the_chat_routes_and_no_warnings(tmp_path):
    path = tmp_path / "schema.yml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(path))
    schema = path.read_text()
    for route in (
        "/api/v1/conversations:",
        "/api/v1/conversations/{conversation_id}/messages:",
        "/api/v1/messages/search:",
    ):
        assert route in schema
