from django.core.management import call_command


def test_the_openapi_schema_builds_without_warnings(tmp_path):
    # Every endpoint, serializer and authentication scheme must be describable:
    # a warning means clients would get an incomplete schema.
    target = tmp_path / "schema.yaml"
    call_command("spectacular", "--fail-on-warn", "--validate", "--file", str(target))
    schema = target.read_text()
    assert "/api/v1/me/" in schema
    assert "personalToken" in schema
    assert "providerAccessToken" in schema
