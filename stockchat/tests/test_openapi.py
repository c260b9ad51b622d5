import re
from html import unescape

from django.core.management import call_command

from trading.tests.test_views import INLINE_SCRIPT


def test_the_openapi_schema_builds_without_warnings(tmp_path):
    # Every endpoint, serializer and authentication scheme must be describable:
    # a warning means clients would get an incomplete schema.
    target = tmp_path / "schema.yaml"
    call_command("spectacular", "--fail-on-warn", "--validate", "--file", str(target))
    schema = target.read_text()
    assert "/api/v1/me/" in schema
    assert "personalToken" in schema
    assert "providerAccessToken" in schema


def test_the_docs_page_has_no_inline_script_or_style_and_loads_its_start_up_script(client, make_user):
    # The Content-Security-Policy allows scripts and styles from files only.
    client.force_login(make_user("alice"))
    response = client.get("/api/v1/docs/")
    assert response.status_code == 200
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    html = response.content.decode()
    assert not INLINE_SCRIPT.search(html)
    assert "<style" not in html
    assert " style=" not in html
    start_up = re.search(r'<script src="(/api/v1/docs/\?[^"]*script=[^"]*)"', html)
    assert start_up, html
    script = client.get(unescape(start_up.group(1)))
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle(" in script.content.decode()
    assert 'url: "/api/v1/schema/"' in script.content.decode()


def test_the_schema_documents_errors_the_order_cancel_body_and_message_seq(tmp_path):
    import yaml

    from core.openapi import error_codes

    target = tmp_path / "schema.yaml"
    call_command("spectacular", "--file", str(target))
    schema = yaml.safe_load(target.read_text())
    cancel = schema["paths"]["/api/v1/orders/{order_id}"]["delete"]["responses"]
    assert cancel["200"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Order"}
    assert "204" not in cancel
    assert "seq" in schema["components"]["schemas"]["Message"]["required"]
    error = schema["components"]["schemas"]["Error"]
    assert set(error["properties"]["code"]["enum"]) == error_codes()
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            for status in ("400", "401", "404", "500"):
                assert operation["responses"][status]["content"]["application/json"]["schema"] == {
                    "$ref": "#/components/schemas/Error"
                }, (method, path, status)
    sent = schema["paths"]["/api/v1/conversations/{conversation_id}/messages"]["post"]["responses"]
    assert "Retry-After" in sent["429"]["headers"]
