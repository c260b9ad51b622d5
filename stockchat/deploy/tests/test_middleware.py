"""Request ids, Content-Security-Policy, HTTPS redirects, and /healthz for the load balancer."""

from __future__ import annotations

import logging

import pytest
from django.test import AsyncClient, Client

pytestmark = pytest.mark.django_db(transaction=True)

PRIVATE_IP = "10.0.3.17"  # what an ALB health check sends as Host


def test_healthz_answers_the_load_balancer_on_its_private_ip():
    response = Client().get("/healthz", HTTP_HOST=PRIVATE_IP)
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_readyz_answers_an_unknown_host_over_plain_http(settings):
    settings.SECURE_SSL_REDIRECT = True
    response = Client().get("/readyz", HTTP_HOST=PRIVATE_IP)
    assert response.status_code == 200
    assert response.json()["checks"]["database"] == {"ok": True}


def test_other_paths_still_refuse_an_unknown_host():
    assert Client().get("/", HTTP_HOST=PRIVATE_IP).status_code == 400
    assert Client().get("/healthz/", HTTP_HOST=PRIVATE_IP).status_code == 400


async def test_healthz_answers_an_unknown_host_under_asgi_too():
    response = await AsyncClient().get("/healthz", headers={"host": PRIVATE_IP})
    assert response.status_code == 200
    assert response["X-Request-ID"]


def test_plain_http_is_redirected_except_the_health_check(settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31536000
    client = Client()
    redirect = client.get("/")
    assert redirect.status_code == 301
    assert redirect["Location"] == "https://testserver/"
    assert client.get("/healthz", HTTP_HOST=PRIVATE_IP).status_code == 200
    assert client.get("/healthz").status_code == 200
    secure = client.get("/", secure=True)
    assert secure.status_code == 200
    assert secure["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"


def test_forwarded_proto_is_trusted_only_behind_the_load_balancer(settings):
    settings.SECURE_SSL_REDIRECT = True
    client = Client()
    # Without the opt-in, a client cannot claim HTTPS with a header.
    assert client.get("/", HTTP_X_FORWARDED_PROTO="https").status_code == 301
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    assert client.get("/", HTTP_X_FORWARDED_PROTO="https").status_code == 200
    assert client.get("/", HTTP_X_FORWARDED_PROTO="http").status_code == 301


def policy_of(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in header.split("; ")}


def test_every_response_carries_a_content_security_policy():
    client = Client()
    for response in (client.get("/"), client.get("/no-such-page"), client.get("/healthz", HTTP_HOST=PRIVATE_IP)):
        assert "Content-Security-Policy" in response
    policy = policy_of(client.get("/"))
    assert policy["script-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    # The page's WebSocket goes to the host that served it, and nowhere else.
    assert policy["connect-src"] == ["'self'", "wss://testserver", "ws://testserver"]
    assert policy_of(client.get("/", secure=True))["connect-src"] == ["'self'", "wss://testserver"]


def test_forms_may_be_redirected_to_the_identity_provider_only(settings):
    assert policy_of(Client().get("/"))["form-action"] == ["'self'"]
    settings.OIDC_OP_AUTHORIZATION_ENDPOINT = "https://login.example.com/oauth2/authorize"
    settings.OIDC_OP_LOGOUT_ENDPOINT = "https://logout.example.com/end"
    assert policy_of(Client().get("/"))["form-action"] == [
        "'self'",
        "https://login.example.com",
        "https://logout.example.com",
    ]


def test_a_view_may_set_its_own_policy(settings):
    settings.CSP_DIRECTIVES = {"default-src": ["'none'"]}
    assert Client().get("/")["Content-Security-Policy"] == "default-src 'none'"


def test_request_id_is_taken_from_the_caller_or_made_and_returned(caplog):
    client = Client()
    with caplog.at_level(logging.INFO, logger="stockchat.request"):
        given = client.get("/", HTTP_X_REQUEST_ID="lb-7f3a9c")
        made = client.get("/")
        refused = client.get("/", HTTP_X_REQUEST_ID="bad id\nwith newline")
    assert given["X-Request-ID"] == "lb-7f3a9c"
    assert len(made["X-Request-ID"]) == 32
    assert refused["X-Request-ID"] != "bad id\nwith newline"
    assert len(refused["X-Request-ID"]) == 32
    records = [r for r in caplog.records if r.name == "stockchat.request"]
    assert [r.request_id for r in records] == [given["X-Request-ID"], made["X-Request-ID"], refused["X-Request-ID"]]
    assert records[0].status == 200
    assert records[0].path == "/"


def test_the_load_balancers_trace_id_serves_when_the_caller_sent_none():
    trace = "Root=1-67891233-abcdef012345678912345678"
    assert Client().get("/", HTTP_X_AMZN_TRACE_ID=trace)["X-Request-ID"] == trace
    assert Client().get("/", HTTP_X_AMZN_TRACE_ID=trace, HTTP_X_REQUEST_ID="mine")["X-Request-ID"] == "mine"
