"""Password-reset mail as configured from the environment: SMTP on a real server, Amazon SES's API, or nothing."""

from __future__ import annotations

import base64
import email
import json
import logging
import re
import threading
from email import policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from django.core.exceptions import ImproperlyConfigured
from django.test import Client

from core.mail import (
    CONSOLE_BACKEND,
    SES_BACKEND,
    SMTP_BACKEND,
    UNCONFIGURED_BACKEND,
    mail_settings,
)
from stockchat.deploy.tests.conftest import settings_from_env
from testsupport.servers import free_port

pytestmark = [
    pytest.mark.django_db,
    # AUTH without TLS, which aiosmtpd warns about: what starttls=false allows, on loopback only.
    pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning"),
]

PASSWORD = "correct-horse-9"
NEW_PASSWORD = "fresh-meadow-77"
SENDER = "stockchat <no-reply@stockchat.example.com>"
RESET_LINK = re.compile(r"http://testserver(/accounts/reset/[^/\s]+/[^/\s]+/)")


def use_mail(settings, values: dict[str, Any]) -> None:
    for name, value in values.items():
        setattr(settings, name, value)


def reset_password_with_link(body: str) -> None:
    """Follows the link in ``body`` as the person would, sets a new password and signs in with it."""
    link = RESET_LINK.search(body)
    assert link, body
    client = Client()
    form_page = client.get(link[1], follow=True)
    assert form_page.status_code == 200
    done = client.post(form_page.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert done.status_code == 302
    assert done["Location"] == "/accounts/reset/done/"
    signed_in = Client().post("/accounts/login/", {"username": "alice", "password": NEW_PASSWORD})
    assert signed_in.status_code == 302


# --- SMTP -------------------------------------------------------------------------


class Mailbox:
    """What a real SMTP server on loopback received, and the credentials it was given."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], email.message.EmailMessage]] = []
        self.logins: list[tuple[str, str]] = []

    async def handle_DATA(self, server, session, envelope) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=policy.default)
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), parsed))
        return "250 Message accepted for delivery"

    def authenticate(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login = (auth_data.login.decode(), auth_data.password.decode())
        self.logins.append(login)
        return AuthResult(success=login == ("stock@chat", "p/w+rd:1"))


@pytest.fixture
def smtp_server():
    mailbox = Mailbox()
    port = free_port()
    controller = Controller(
        mailbox,
        hostname="127.0.0.1",
        port=port,
        authenticator=mailbox.authenticate,
        auth_require_tls=False,
        auth_required=True,
    )
    controller.start()
    mailbox.port = port
    yield mailbox
    controller.stop()


def test_password_reset_mail_goes_through_the_smtp_server_in_email_url(settings, make_user, smtp_server):
    # SES SMTP passwords contain / and +: percent-encoded in the URL, decoded for the login.
    use_mail(
        settings,
        mail_settings(
            {
                "EMAIL_URL": f"smtp://stock%40chat:p%2Fw%2Brd%3A1@127.0.0.1:{smtp_server.port}?starttls=false",
                "DEFAULT_FROM_EMAIL": SENDER,
            },
            debug=False,
        ),
    )
    make_user("alice")
    response = Client().post("/accounts/password_reset/", {"email": "alice@example.com"})
    assert response.status_code == 302
    assert smtp_server.logins == [("stock@chat", "p/w+rd:1")]
    [(mail_from, recipients, message)] = smtp_server.messages
    assert (mail_from, recipients) == ("no-reply@stockchat.example.com", ["alice@example.com"])
    assert message["From"] == SENDER
    reset_password_with_link(message.get_body(("plain",)).get_content())


def test_a_wrong_smtp_password_is_refused_by_the_server(settings, make_user, smtp_server, caplog):
    url = f"smtp://stock%40chat:guess@127.0.0.1:{smtp_server.port}?starttls=false"
    use_mail(settings, mail_settings({"EMAIL_URL": url, "DEFAULT_FROM_EMAIL": SENDER}, debug=False))
    make_user("alice")
    with caplog.at_level(logging.ERROR, logger="django.contrib.auth"):
        response = Client().post("/accounts/password_reset/", {"email": "alice@example.com"})
    # Django logs the failure and answers as always: the page never tells whether the address exists.
    assert response.status_code == 302
    assert "Failed to send password reset email" in caplog.text
    assert smtp_server.logins == [("stock@chat", "guess")]
    assert smtp_server.messages == []


# --- Amazon SES ---------------------------------------------------------------------


class FakeSesApi:
    """SES API v2's SendEmail on loopback: records each signed request, answers as SES does."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        recorded = self.requests

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                recorded.append({"path": self.path, "headers": dict(self.headers), "body": json.loads(body)})
                answer = json.dumps({"MessageId": f"0100-{len(recorded)}"}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def ses_api(monkeypatch):
    # Made-up credentials, as the task role would provide real ones through boto3's chain.
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "made-up-secret")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    api = FakeSesApi()
    yield api
    api.stop()


def test_password_reset_mail_goes_through_the_ses_api(settings, make_user, ses_api):
    values = mail_settings(
        {"STOCKCHAT_EMAIL_BACKEND": "ses", "AWS_REGION": "eu-west-1", "DEFAULT_FROM_EMAIL": SENDER}, debug=False
    )
    assert values["EMAIL_BACKEND"] == SES_BACKEND
    use_mail(settings, values)
    settings.AWS_SES_REGION_ENDPOINT_URL = ses_api.url  # instead of https://email.eu-west-1.amazonaws.com
    make_user("alice")
    assert Client().post("/accounts/password_reset/", {"email": "alice@example.com"}).status_code == 302
    [request] = ses_api.requests
    assert request["path"] == "/v2/email/outbound-emails"
    # Signed with SigV4 for SES in the configured region.
    assert "/eu-west-1/ses/aws4_request" in request["headers"]["Authorization"]
    assert request["body"]["FromEmailAddress"] == SENDER
    assert request["body"]["Destination"]["ToAddresses"] == ["alice@example.com"]
    raw = base64.b64decode(request["body"]["Content"]["Raw"]["Data"])
    message = email.message_from_bytes(raw, policy=policy.default)
    reset_password_with_link(message.get_body(("plain",)).get_content())


# --- no mail configured ---------------------------------------------------------------


def test_without_mail_settings_production_logs_an_error_naming_the_variables(settings, make_user, caplog):
    use_mail(settings, mail_settings({}, debug=False))
    assert settings.EMAIL_BACKEND == UNCONFIGURED_BACKEND
    make_user("alice")
    with caplog.at_level(logging.ERROR, logger="core.mail"):
        response = Client().post("/accounts/password_reset/", {"email": "alice@example.com"})
    assert response.status_code == 302  # the page does not tell whether the address exists
    [record] = [r for r in caplog.records if r.name == "core.mail"]
    assert record.levelno == logging.ERROR
    assert "EMAIL_URL" in record.getMessage()
    assert "STOCKCHAT_EMAIL_BACKEND=ses" in record.getMessage()
    # The reset link is a credential: never in the log.
    assert "/accounts/reset/" not in caplog.text


def test_debug_without_mail_settings_prints_to_the_console():
    assert mail_settings({}, debug=True) == {"EMAIL_BACKEND": CONSOLE_BACKEND}


def test_deploy_check_reports_local_accounts_without_mail(settings):
    from django.core import checks

    settings.EMAIL_BACKEND = UNCONFIGURED_BACKEND
    settings.AUTH_PROVIDER = "local"
    found = [m.id for m in checks.run_checks(include_deployment_checks=True)]
    assert "accounts.I001" in found
    settings.AUTH_PROVIDER = "cognito"  # provider sign-in: no local passwords to reset
    assert "accounts.I001" not in [m.id for m in checks.run_checks(include_deployment_checks=True)]


# --- parsing ------------------------------------------------------------------------


def test_smtp_url_uses_starttls_and_smtps_tls_from_the_first_byte():
    smtp = mail_settings(
        {"EMAIL_URL": "smtp://user:pw@email-smtp.eu-west-1.amazonaws.com", "DEFAULT_FROM_EMAIL": SENDER}, debug=False
    )
    assert (smtp["EMAIL_BACKEND"], smtp["EMAIL_PORT"], smtp["EMAIL_USE_TLS"], smtp["EMAIL_USE_SSL"]) == (
        SMTP_BACKEND,
        587,
        True,
        False,
    )
    assert smtp["EMAIL_TIMEOUT"] == 10
    assert smtp["SERVER_EMAIL"] == SENDER
    smtps = mail_settings(
        {"EMAIL_URL": "smtps://user:pw@mail.example.com", "DEFAULT_FROM_EMAIL": SENDER, "SERVER_EMAIL": "ops@x.org"},
        debug=False,
    )
    assert (smtps["EMAIL_PORT"], smtps["EMAIL_USE_TLS"], smtps["EMAIL_USE_SSL"]) == (465, False, True)
    assert smtps["SERVER_EMAIL"] == "ops@x.org"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"EMAIL_URL": "http://user:s3cret@mail.example.com"}, "must start with smtp:// or smtps://"),
        ({"EMAIL_URL": "smtp://user:s3cret@"}, "names no host"),
        ({"EMAIL_URL": "smtp://user:s3cret@mail.example.com:99999"}, "is not a URL"),
        ({"EMAIL_URL": "smtp://user:s3cret@mail.example.com/x"}, "must have no path"),
        ({"EMAIL_URL": "smtp://user:s3cret@mail.example.com?tls=1"}, "unknown options: tls"),
        ({"EMAIL_URL": "smtp://user:s3cret@mail.example.com?starttls=false"}, "only for a relay on this machine"),
        ({"EMAIL_URL": "smtps://user:s3cret@127.0.0.1?starttls=false"}, "only for smtp://"),
        ({"EMAIL_URL": "smtp://user:s3cret@mail.example.com"}, "DEFAULT_FROM_EMAIL must be set"),
        ({"STOCKCHAT_EMAIL_BACKEND": "ses", "DEFAULT_FROM_EMAIL": SENDER}, "needs AWS_SES_REGION_NAME"),
        ({"STOCKCHAT_EMAIL_BACKEND": "ses", "EMAIL_URL": "smtp://user:s3cret@h"}, "not both"),
        ({"STOCKCHAT_EMAIL_BACKEND": "smtp"}, "needs EMAIL_URL"),
        ({"STOCKCHAT_EMAIL_BACKEND": "sendmail"}, "must be smtp or ses"),
    ],
)
def test_bad_mail_variables_stop_start_up_without_showing_the_password(env, message):
    with pytest.raises(ImproperlyConfigured, match=re.escape(message)) as error:
        mail_settings(env, debug=False)
    assert "s3cret" not in str(error.value)


def test_mail_variables_reach_the_settings_at_start_up():
    smtp = settings_from_env(
        {"EMAIL_URL": "smtps://u:p@mail.example.com:2465", "DEFAULT_FROM_EMAIL": SENDER},
        "EMAIL_BACKEND",
        "EMAIL_HOST",
        "EMAIL_PORT",
        "EMAIL_USE_SSL",
        "DEFAULT_FROM_EMAIL",
    )
    assert smtp == {
        "EMAIL_BACKEND": SMTP_BACKEND,
        "EMAIL_HOST": "mail.example.com",
        "EMAIL_PORT": 2465,
        "EMAIL_USE_SSL": True,
        "DEFAULT_FROM_EMAIL": SENDER,
    }
    ses = settings_from_env(
        {"STOCKCHAT_EMAIL_BACKEND": "ses", "AWS_REGION": "eu-west-1", "DEFAULT_FROM_EMAIL": SENDER},
        "EMAIL_BACKEND",
        "AWS_SES_REGION_NAME",
        "USE_SES_V2",
    )
    assert ses == {"EMAIL_BACKEND": SES_BACKEND, "AWS_SES_REGION_NAME": "eu-west-1", "USE_SES_V2": True}
    assert settings_from_env({}, "EMAIL_BACKEND") == {"EMAIL_BACKEND": UNCONFIGURED_BACKEND}
