"""JSON logs carry the request id and never a credential."""

from __future__ import annotations

import io
import json
import logging

import pytest
from django.test import Client

from stockchat.deploy.logs import JsonFormatter, PlainFormatter, RequestIdFilter
from stockchat.deploy.tests.conftest import settings_from_env

SECRETS = ("hunter2-Password", "Bearer eyJhbGciOi.secret-token", "sessionid=s3ss10n-v4lue", "qs-t0ken-value")


@pytest.fixture
def json_log():
    """The production formatter on the loggers a request writes to."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    loggers = [logging.getLogger(name) for name in ("stockchat.request", "django.request", "django.security")]
    saved = [(lg, lg.level) for lg in loggers]
    for lg in loggers:
        lg.addHandler(handler)
        lg.setLevel(logging.INFO)
    yield stream
    for lg, level in saved:
        lg.removeHandler(handler)
        lg.setLevel(level)


@pytest.mark.django_db
def test_request_logs_are_json_with_the_request_id_and_no_secrets(json_log, make_user):
    make_user("alice")
    client = Client(enforce_csrf_checks=False)
    client.post(
        "/accounts/login/?token=qs-t0ken-value",
        {"username": "alice", "password": "hunter2-Password"},
        HTTP_AUTHORIZATION="Bearer eyJhbGciOi.secret-token",
        HTTP_COOKIE="sessionid=s3ss10n-v4lue",
        HTTP_X_REQUEST_ID="req-123",
    )
    client.get(
        "/no-such-page?password=hunter2-Password&token=qs-t0ken-value",
        HTTP_AUTHORIZATION="Bearer eyJhbGciOi.secret-token",
        HTTP_X_REQUEST_ID="req-456",
    )
    output = json_log.getvalue()
    lines = [json.loads(line) for line in output.splitlines()]
    assert {"req-123", "req-456"} <= {line["request_id"] for line in lines}
    not_found = [line for line in lines if line["logger"] == "django.request"]
    assert not_found
    assert not_found[0]["request_id"] == "req-456"
    assert not_found[0]["status_code"] == 404
    for secret in SECRETS:
        assert secret not in output
    assert "hunter2" not in output


def test_credential_looking_extras_are_redacted_and_objects_dropped():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "signed in", (), None)
    record.password = "hunter2"
    record.authorization = "Bearer abc"
    record.request = object()
    record.user_id = 7
    line = json.loads(JsonFormatter().format(record))
    assert line["password"] == "[redacted]"
    assert line["authorization"] == "[redacted]"
    assert "request" not in line
    assert line["user_id"] == 7
    assert line["message"] == "signed in"
    assert line["level"] == "INFO"


def test_plain_lines_for_development():
    record = logging.LogRecord("stockchat", logging.WARNING, __file__, 1, "hello %s", ("there",), None)
    assert PlainFormatter().format(record).endswith("WARNING stockchat [-] hello there")


def test_log_format_follows_debug_and_can_be_chosen():
    def handler_formatter(env):
        logging_setting = settings_from_env(env, "LOGGING")["LOGGING"]
        return logging_setting["handlers"]["console"]["formatter"]

    assert handler_formatter({}) == "json"
    assert handler_formatter({"DJANGO_DEBUG": "true"}) == "plain"
    assert handler_formatter({"DJANGO_LOG_FORMAT": "plain"}) == "plain"
    with pytest.raises(AssertionError, match="DJANGO_LOG_FORMAT='xml' must be json or plain"):
        settings_from_env({"DJANGO_LOG_FORMAT": "xml"}, "LOGGING")
