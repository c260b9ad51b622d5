"""Sockets opened with a bearer token: the header or the auth frame, the same rules as session sockets.

Three actors: alice (the token's owner), bob (a peer in her conversations, signed in with a
session), and tokens that are nobody's (unknown, revoked, expired).
"""

from __future__ import annotations

import time
from decimal import Decimal

import pytest
from channels.db import database_sync_to_async
from django.test import Client

from accounts import consumers, services
from accounts.tests.test_tokens import access_claims, id_claims
from chat import services as chat_services
from conftest import session_cookie_for
from core.realtime import socket as socket_module
from core.realtime.socket import CLOSE_SIGNED_OUT, CLOSE_UNAUTHENTICATED
from stockchat.asgi import application
from testsupport.socket_contract import ContractCommunicator
from trading import services as trading
from trading.tests.conftest import new_stock

pytestmark = pytest.mark.django_db(transaction=True)

SITE = b"http://testserver"


def handshake(token: str | None = None, *, origin: bytes | None = None, cookie: str | None = None) -> list:
    headers = [(b"host", b"testserver")]
    if token is not None:
        headers.append((b"authorization", f"Bearer {token}".encode()))
    if origin is not None:
        headers.append((b"origin", origin))
    if cookie is not None:
        headers.append((b"cookie", cookie.encode()))
    return headers


async def opened(headers: list) -> ContractCommunicator:
    communicator = ContractCommunicator(application, "/ws/", headers=headers)
    connected, _ = await communicator.connect(timeout=5)
    assert connected
    return communicator


async def signed_in(headers: list, *, auth_frame: str | None = None) -> ContractCommunicator:
    communicator = await opened(headers)
    if auth_frame is not None:
        await communicator.send_json_to({"type": "auth", "token": auth_frame})
    hello = await communicator.receive_json_from(timeout=5)
    assert hello["type"] == "hello", hello
    return communicator


async def assert_refused_with_4401(communicator: ContractCommunicator, code: str) -> None:
    error = await communicator.receive_json_from(timeout=5)
    assert error["type"] == "error"
    assert error["code"] == code
    assert error["detail"]
    assert await communicator.receive_output(timeout=5) == {"type": "websocket.close", "code": CLOSE_UNAUTHENTICATED}


async def assert_closed(communicator: ContractCommunicator, code: int = CLOSE_SIGNED_OUT) -> None:
    assert await communicator.receive_output(timeout=5) == {"type": "websocket.close", "code": code}


async def assert_open(communicator: ContractCommunicator) -> None:
    await communicator.send_json_to({"type": "ping", "ref": "still-there"})
    assert await communicator.receive_json_from(timeout=5) == {"type": "pong", "ref": "still-there"}


async def next_frame(communicator: ContractCommunicator, wanted: str) -> dict:
    while True:
        frame = await communicator.receive_json_from(timeout=5)
        assert frame["type"] != "error", frame
        if frame["type"] == wanted:
            return frame


@pytest.fixture
async def people(make_user):
    def make():
        alice, bob = make_user("alice"), make_user("bob")
        for user in (alice, bob):
            trading.account_open(user=user)
        new_stock("ACME", price="100.00")
        direct = chat_services.direct_start(user=alice, other_username="bob")
        _, token = services.api_token_create(user=alice, name="bot")
        return alice, bob, direct, token

    return await database_sync_to_async(make)()


async def test_a_token_socket_needs_no_origin_and_does_what_a_session_socket_does(people):
    alice, bob, direct, token = people
    bot = await signed_in(handshake(token))
    bob_socket = await signed_in(handshake(origin=SITE, cookie=await database_sync_to_async(session_cookie_for)(bob)))

    await bot.send_json_to({"type": "prices.subscribe", "symbols": ["ACME"], "ref": 1})
    assert (await next_frame(bot, "prices.subscribed"))["symbols"] == ["ACME"]
    assert Decimal((await next_frame(bot, "quote.updated"))["quote"]["price"]) == Decimal("100.00")

    order = await database_sync_to_async(trading.order_place)(
        user=alice, symbol="ACME", side="buy", quantity=2, client_order_id="bot-1"
    )
    assert (await next_frame(bot, "order.updated"))["order"]["client_order_id"] == "bot-1"
    assert (await next_frame(bot, "fill.created"))["fill"]["order_id"] == order.pk
    assert (await next_frame(bot, "account.updated"))["account"]["cash"]

    for socket in (bot, bob_socket):
        await socket.send_json_to({"type": "chat.subscribe", "conversation_ids": [direct.pk], "ref": "s"})
        await next_frame(socket, "chat.subscribed")
    await bot.send_json_to({"type": "chat.send", "conversation_id": direct.pk, "body": "filled", "ref": "m"})
    assert (await next_frame(bot, "chat.sent"))["message"]["author"]["username"] == "alice"
    assert (await next_frame(bob_socket, "chat.message.created"))["message"]["body"] == "filled"
    for socket in (bot, bob_socket):
        await socket.disconnect()


@pytest.mark.parametrize("origin", [None, SITE], ids=["no-origin", "site-origin"])
async def test_the_auth_frame_signs_in_a_socket_opened_without_credentials(people, origin):
    socket = await signed_in(handshake(origin=origin), auth_frame=people[3])
    await assert_open(socket)
    await socket.disconnect()


async def test_a_token_wins_over_a_session_cookie_sent_with_it(people):
    _, bob, _, token = people
    cookie = await database_sync_to_async(session_cookie_for)(bob)
    socket = await opened(handshake(token, origin=SITE, cookie=cookie))
    assert await socket.receive_json_from(timeout=5) == {"type": "hello", "v": 1, "user": "alice"}
    await socket.disconnect()


async def revoked_token(people) -> str:
    alice = people[0]

    def make() -> str:
        record, token = services.api_token_create(user=alice, name="old")
        services.api_token_revoke(user=alice, prefix=record.prefix)
        return token

    return await database_sync_to_async(make)()


@pytest.mark.parametrize("via", ["header", "frame"])
@pytest.mark.parametrize(
    ("token", "code"),
    [("sct_deadbeef_nope", "invalid_token"), ("revoked", "invalid_token"), ("eyJhbGciOi.x.y", "invalid_token")],
    ids=["unknown", "revoked", "not-ours"],
)
async def test_unknown_or_revoked_tokens_are_accepted_then_closed_with_4401(people, via, token, code):
    if token == "revoked":
        token = await revoked_token(people)
    if via == "header":
        socket = await opened(handshake(token))
    else:
        socket = await opened(handshake())
        await socket.send_json_to({"type": "auth", "token": token})
    await assert_refused_with_4401(socket, code)


@pytest.mark.parametrize("header", [b"Bearer", b"Bearer a b", b"Bearer x,y"])
async def test_a_malformed_bearer_header_is_closed_with_4401(people, header):
    socket = await opened([(b"host", b"testserver"), (b"authorization", header)])
    await assert_refused_with_4401(socket, "malformed_token")


@pytest.mark.parametrize(
    "frame",
    [
        {"type": "ping"},
        {"type": "auth"},
        {"type": "auth", "token": 7},
        {"type": "auth", "token": ""},
        {"type": "auth", "token": "x" * 9000},
        "not json",
    ],
)
async def test_a_first_frame_that_is_not_an_auth_frame_closes_with_4401(frame):
    socket = await opened(handshake())
    if isinstance(frame, str):
        await socket.send_to(text_data=frame)
    else:
        await socket.send_json_to(frame)
    await assert_refused_with_4401(socket, "not_authenticated")


async def test_a_socket_whose_auth_frame_does_not_come_in_time_is_closed_with_4401(monkeypatch):
    assert socket_module.AUTH_FRAME_SECONDS == 5.0  # as docs/websocket.md says
    monkeypatch.setattr(socket_module, "AUTH_FRAME_SECONDS", 0.05)
    socket = await opened(handshake())
    await assert_refused_with_4401(socket, "not_authenticated")


async def test_a_page_of_another_origin_cannot_open_a_socket_even_to_send_an_auth_frame(people):
    for headers in (handshake(origin=b"http://evil.example"), handshake(people[3], origin=b"http://testserver:1")):
        communicator = ContractCommunicator(application, "/ws/", headers=headers)
        connected, _ = await communicator.connect(timeout=5)
        assert not connected  # 403 at the handshake


def revoke_on_the_tokens_page(user, token: str) -> None:
    client = Client()
    client.force_login(user)
    prefix = token.split("_")[1]
    assert client.post(f"/accounts/tokens/{prefix}/revoke/").status_code == 302


async def test_revoking_a_token_closes_its_sockets_and_no_others(people):
    alice, _, _, token = people
    _, other_token = await database_sync_to_async(services.api_token_create)(user=alice, name="other")
    revoked = [await signed_in(handshake(token)), await signed_in(handshake(), auth_frame=token)]
    kept = [
        await signed_in(handshake(other_token)),
        await signed_in(handshake(origin=SITE, cookie=await database_sync_to_async(session_cookie_for)(alice))),
    ]
    await database_sync_to_async(revoke_on_the_tokens_page)(alice, token)
    for socket in revoked:
        await assert_closed(socket)
    for socket in kept:
        await assert_open(socket)
        await socket.disconnect()


async def test_a_revocation_while_the_token_is_being_checked_still_closes_the_socket(people, monkeypatch):
    alice, _, _, token = people
    check = consumers.socket_credential_for_token

    def check_then_revoke(raw: str):
        credential = check(raw)
        # Commits (and tells the token's group) before the socket follows that group.
        services.api_token_revoke(user=alice, prefix=raw.split("_")[1])
        monkeypatch.setattr(consumers, "socket_credential_for_token", check)
        return credential

    monkeypatch.setattr(consumers, "socket_credential_for_token", check_then_revoke)
    socket = await opened(handshake(token))
    while (output := await socket.receive_output(timeout=5))["type"] == "websocket.send":
        pass  # hello
    assert output == {"type": "websocket.close", "code": CLOSE_SIGNED_OUT}


async def test_deactivation_closes_the_token_sockets(people):
    alice, _, _, token = people
    socket = await signed_in(handshake(token))
    await database_sync_to_async(services.user_deactivate)(user=alice)
    await assert_closed(socket)
    refused = await opened(handshake(token))
    await assert_refused_with_4401(refused, "invalid_token")


async def test_a_password_change_closes_session_sockets_but_not_token_sockets(people):
    alice, _, _, token = people
    bot = await signed_in(handshake(token))
    phone = await signed_in(handshake(origin=SITE, cookie=await database_sync_to_async(session_cookie_for)(alice)))
    await database_sync_to_async(services.user_password_changed)(
        user=alice, session_key_before=None, session_key_after=None
    )
    await assert_closed(phone)
    await assert_open(bot)
    await database_sync_to_async(services.user_password_reset)(user=alice)
    await assert_open(bot)
    await bot.disconnect()


# --- provider access tokens (Cognito) ---------------------------------------------------------


@pytest.fixture
def carol(key_settings, signing_key):
    """A user who has signed in through the provider once."""
    return services.user_from_oidc_claims(issuer=signing_key.issuer, claims=id_claims(signing_key))


async def test_a_provider_access_token_opens_a_socket(carol, signing_key):
    token = signing_key.sign(access_claims(signing_key))
    socket = await opened(handshake(token))
    assert await socket.receive_json_from(timeout=5) == {"type": "hello", "v": 1, "user": carol.username}
    await socket.disconnect()


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"exp": int(time.time()) - 120}, "token_expired"),
        ({"client_id": "another-client"}, "wrong_client"),
        ({"token_use": "id"}, "wrong_token_use"),
        ({"sub": "never-signed-in"}, "unknown_user"),
    ],
)
async def test_bad_provider_access_tokens_are_closed_with_4401_and_the_apis_code(carol, signing_key, overrides, code):
    socket = await opened(handshake(signing_key.sign(access_claims(signing_key, **overrides))))
    await assert_refused_with_4401(socket, code)


async def test_a_provider_access_token_socket_closes_when_the_token_expires(carol, signing_key):
    # Accepted within the verifier's leeway; the socket closes at the token's expiry.
    token = signing_key.sign(access_claims(signing_key, exp=int(time.time()) + 1))
    socket = await signed_in(handshake(token))
    await assert_closed(socket, CLOSE_UNAUTHENTICATED)
