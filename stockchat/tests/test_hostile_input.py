"""Every route, page and API alike, answers hostile input with a 4xx, never a 5xx.

The walk takes every URL pattern of the site (admin and the static/docs
helpers aside) and sends, signed in as a user with a trading account, one
request per class of hostile input: NUL and other control characters in the
query string, in form fields and in JSON bodies, Unicode digits ("²") and
out-of-range numbers where ids are parsed, forged pagination cursors, and JSON
nested past any sane depth. PostgreSQL refuses NUL in text, so the walk
matters most in the ``--db=postgres`` pass.

``python -m pytest stockchat/tests/test_hostile_input.py --db=postgres -q``
prints each failure as ``METHOD path [input class] -> status``.
"""

from __future__ import annotations

import base64
import json
import logging
import re
from dataclasses import dataclass
from urllib.parse import quote, urlencode

import pytest
from django.db import transaction
from django.test import Client

from chat import services as chat_services
from testsupport.urls import fill_route, site_routes
from trading import services as trading_services
from trading.tests.conftest import new_stock

NUL = "x\x00y"
CONTROL = "bell\x07"
# Query parameters read anywhere in the views and the API (tried one at a time).
QUERY_NAMES = [
    "q",
    "search",
    "sector",
    "symbol",
    "status",
    "side",
    "kind",
    "interval",
    "start",
    "end",
    "days",
    "limit",
    "first",
    "before",
    "after",
    "cursor",
    "client_order_id",
    "next",
    "refresh",
    "code",
    "state",
    "error",
    "format",
    "lang",
]
# Form fields and JSON keys read anywhere in the views, forms and API (sent all at once).
FIELD_NAMES = [
    "q",
    "search",
    "sector",
    "symbol",
    "status",
    "side",
    "kind",
    "type",
    "interval",
    "start",
    "end",
    "days",
    "limit",
    "first",
    "before",
    "after",
    "cursor",
    "client_order_id",
    "next",
    "next_symbol",
    "name",
    "title",
    "members",
    "username",
    "password",
    "password1",
    "password2",
    "old_password",
    "new_password1",
    "new_password2",
    "email",
    "body",
    "quantity",
    "limit_price",
    "stop_price",
    "time_in_force",
    "step",
    "watchlist",
    "message_id",
    "fill_id",
    "muted",
    "symbols",
    "client_message_id",
    "refresh",
    "code",
    "state",
    "error",
    "format",
    "lang",
    "script",
]
METHODS = ("GET", "POST", "PATCH", "PUT", "DELETE")
SKIPPED_PREFIXES = ("admin/",)


def _forged_cursors() -> list[str]:
    def encode(text: str) -> str:
        return base64.b64encode(text.encode()).decode()

    return [
        "garbage!",
        encode("o=1&r=0&p=\x00"),
        encode("o=99999999999999999999999&p=1"),
        encode("p=not-a-number"),
        encode("p=²"),
        encode("p=99999999999999999999999"),
        encode("p=2026-13-45T99:99"),
        encode("r=1&p=" + "9" * 400),
        encode("\x00"),
    ]


@dataclass
class Hostile:
    label: str
    path_value: str | None = None  # substituted for every id in the path
    every_path_part: bool = False  # path_value also replaces symbols, prefixes and tokens
    query: dict[str, str] | None = None
    form: dict[str, str] | None = None
    json_body: str | None = None


def _deep_json() -> str:
    depth = 100_000
    return '{"body": ' + "[" * depth + "]" * depth + "}"


def hostile_inputs() -> list[Hostile]:
    # One query parameter at a time: a view that refuses the first bad parameter
    # would otherwise hide what the next one does.
    cases = [
        Hostile(f"{label} in query {name}", query={name: value})
        for label, value in (("nul", NUL), ("unicode digits", "²"), ("huge number", "9" * 30))
        for name in QUERY_NAMES
    ]
    cases += [
        Hostile("control char in query", query=dict.fromkeys(FIELD_NAMES, CONTROL)),
        Hostile("nul in form", form=dict.fromkeys(FIELD_NAMES, NUL)),
        Hostile("control char in form", form=dict.fromkeys(FIELD_NAMES, CONTROL)),
        Hostile("unicode digits in form", form=dict.fromkeys(FIELD_NAMES, "²")),
        Hostile("nul in json", json_body=json.dumps(dict.fromkeys(FIELD_NAMES, NUL))),
        Hostile("nul in json keys", json_body=json.dumps({NUL: "1", "body": "hi", "name": "w"})),
        Hostile("huge numbers in json", json_body=json.dumps(dict.fromkeys(FIELD_NAMES, 10**30))),
        Hostile("deep json", json_body=_deep_json()),
        Hostile("unicode digit id", path_value="²"),
        Hostile("arabic digit id", path_value="٣"),
        Hostile("huge id", path_value="9" * 25),
        Hostile("nul in path", path_value=quote(NUL), every_path_part=True),
    ]
    cases += [Hostile(f"forged cursor {n}", query={"cursor": c}) for n, c in enumerate(_forged_cursors())]
    return cases


def _fill(route: str, values: dict[str, str], case: Hostile) -> str:
    def value(match: re.Match) -> str:
        name = match.group("name")
        is_id = name.endswith("_id") or match.group("converter") in {"int", "id"}
        if case.path_value is not None and (is_id or case.every_path_part):
            return case.path_value
        return values.get(name, "x")

    return fill_route(route, value)


@pytest.fixture
def world(make_user, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    user, peer = make_user("alice"), make_user("bob")
    stock = new_stock("ACME")
    order = trading_services.order_place(user=user, symbol="ACME", side="buy", type="limit", quantity=1, limit_price=1)
    watchlist = trading_services.watchlist_create(owner=user, name="Tech", symbols=["ACME"])
    conversation = chat_services.direct_start(user=user, other_username="bob")
    message = chat_services.message_send(user=user, conversation_id=conversation.pk, body="hello $ACME")
    values = {
        "order_id": str(order.pk),
        "watchlist_id": str(watchlist.pk),
        "conversation_id": str(conversation.pk),
        "message_id": str(message.pk),
        "user_id": str(peer.pk),
        "symbol": stock.symbol,
        "prefix": "abcd",
        "uidb64": "MQ",
        "token": "set-password",
    }
    return user, values


def _send(client: Client, method: str, path: str, case: Hostile):
    query = "?" + urlencode(case.query) if case.query else ""
    url = path + query
    if case.json_body is not None:
        return client.generic(method, url, case.json_body, content_type="application/json")
    if case.form is not None:
        if method == "GET":
            return client.get(url)
        return client.generic(method, url, urlencode(case.form), content_type="application/x-www-form-urlencoded")
    return client.generic(method, url)


def test_no_route_answers_hostile_input_with_a_server_error(world):
    user, values = world
    client = Client(raise_request_exception=False)
    client.force_login(user)
    routes = site_routes(skip_prefixes=SKIPPED_PREFIXES)
    assert len(routes) > 40, routes
    failures = []
    logging.disable(logging.CRITICAL)  # thousands of requests: the request log would dominate the run
    try:
        for route in routes:
            readable = client.get(_fill(route, values, Hostile("plain"))).status_code != 405
            for case in hostile_inputs():
                path = _fill(route, values, case)
                if case.json_body is not None or case.form is not None:
                    methods = ("POST", "PATCH", "PUT")
                elif case.query:
                    if not readable:
                        continue
                    methods = ("GET",)
                else:
                    methods = METHODS
                for method in methods:
                    status = _status(client, user, method, path, case)
                    if status >= 500:
                        failures.append(f"{method} {path} [{case.label}] -> {status}")
    finally:
        logging.disable(logging.NOTSET)
    routes_failing = sorted({f.split(" [")[0] for f in failures})
    assert not failures, f"{len(failures)} server errors on {len(routes_failing)} routes:\n" + "\n".join(failures)


def _status(client: Client, user, method: str, path: str, case: Hostile) -> int:
    # Each request in a savepoint rolled back after it: a hostile request that
    # happens to succeed (leaving a conversation, signing out) changes nothing
    # for the next, and a database error cannot poison the test's transaction.
    with transaction.atomic():
        status = _send(client, method, path, case).status_code
        transaction.set_rollback(True)
    if not client.cookies.get("sessionid") or not client.cookies["sessionid"].value:
        client.force_login(user)  # signed out by the request (the sign-out page)
    return status
