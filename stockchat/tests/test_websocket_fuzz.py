"""Hostile and random frames on the real /ws/ consumer: never a 1011, never an internal error, the
socket still answers ping, and the hub follows nothing once the socket has closed.

The named frames are the ones that used to drop the socket (issue #14); the fuzz test sends a few
thousand more built from every frame type of docs/websocket.md, each field either a sensible value
or a hostile one (NUL, Unicode digits, huge numbers, wrong types, deep nesting).
"""

from __future__ import annotations

import asyncio
import json

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from chat.tests.conftest import make_world
from conftest import session_cookie_for
from core.inputs import MAX_JSON_DEPTH
from core.realtime import socket as socket_module
from core.realtime.hub import get_hub
from stockchat.asgi import application
from testsupport.socket_contract import ContractCommunicator
from trading import services as trading

pytestmark = pytest.mark.django_db(transaction=True)

DEEP = '{"type": "ping", "ref": ' + "[" * 5000 + "]" * 5000 + "}"


@pytest.fixture
def fuzz_world(make_user, settings, monkeypatch):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.STOCKCHAT_CHAT_SENDS_PER_MINUTE = 100_000
    # The frame budget would refuse most frames of a fuzz run before any handler saw them.
    monkeypatch.setattr(socket_module, "FRAME_RATE_PER_SECOND", 1e9)
    monkeypatch.setattr(socket_module, "FRAME_BURST", 10**9)
    world = make_world(make_user)
    trading.account_open(user=world.owner)
    world.fill = trading.order_place(user=world.owner, symbol="ACME", side="buy", quantity=1).fill
    world.headers = [
        (b"host", b"testserver"),
        (b"origin", b"http://testserver"),
        (b"cookie", session_cookie_for(world.owner).encode()),
    ]
    return world


async def play(headers, frames: list[str]) -> list[dict]:
    """Send ``frames`` on one socket, then a ping; every reply up to the pong, checked as it comes.

    A consumer that crashes makes ``receive_output`` raise its exception (a server closes such a
    socket with 1011); a close of any other kind fails the assertion on the output's type.
    """
    socket = ContractCommunicator(application, "/ws/", headers=headers)
    connected, _ = await socket.connect(timeout=5)
    assert connected
    assert (await socket.receive_json_from(timeout=5))["type"] == "hello"
    for text in frames:
        await socket.send_to(text_data=text)
    await socket.send_to(text_data='{"type": "ping", "ref": "still-here"}')
    replies = []
    while True:
        output = await socket.receive_output(timeout=20)
        assert output["type"] == "websocket.send", output
        frame = json.loads(output["text"])
        replies.append(frame)
        assert not (frame["type"] == "error" and frame["code"] == "internal_error"), frame
        if frame == {"type": "pong", "ref": "still-here"}:
            break
    await socket.disconnect()
    # Everything the socket followed (its user, its session, conversations, prices) is released.
    assert get_hub().group_sizes() == {}
    return replies


def errors(replies: list[dict]) -> list[str]:
    return [frame["code"] for frame in replies if frame["type"] == "error"]


# --- the frames that dropped the socket ---------------------------------------------------------

HOSTILE = [
    ('{"type": "chat.resume", "conversations": {"²": 0}}', "invalid"),
    ('{"type": "chat.resume", "conversations": {"{group}": 2e400}}', "malformed"),
    ('{"type": "chat.send", "conversation_id": {group}, "body": "a\\u0000b"}', "control_character"),
    (
        '{"type": "chat.send", "conversation_id": {group}, "body": "x", "client_message_id": "c\\u0000"}',
        "control_character",
    ),
    ('{"type": "chat.send", "conversation_id": 100000000000000000000, "body": "x"}', "invalid"),
    ('{"type": "chat.share_fill", "conversation_id": {group}, "fill_id": "²"}', "fill_not_found"),
    ('{"type": "chat.share_fill", "conversation_id": {group}, "fill_id": 100000000000000000000}', "fill_not_found"),
    ('{"type": "chat.read", "conversation_id": {group}, "message_id": 100000000000000000000}', "invalid"),
    ('{"type": "chat.subscribe", "conversation_ids": [100000000000000000000]}', "invalid"),
    ('{"type": "prices.subscribe", "symbols": ["AC\\u0000ME"]}', "control_character"),
    ('{"type": "ping", "ref": "\\ud800"}', "control_character"),
    ('{"type": "ping", "ref": NaN}', "malformed"),
    (DEEP, "too_deep"),
    ("[" * 100_000, "too_large"),
    ("[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1), "too_deep"),
]


@pytest.mark.parametrize(("frame", "code"), HOSTILE, ids=[f"{n}-{code}" for n, (_, code) in enumerate(HOSTILE)])
def test_hostile_frames_get_an_error_and_the_socket_stays(fuzz_world, frame, code):
    frame = frame.replace("{group}", str(fuzz_world.group.pk))
    replies = asyncio.run(play(fuzz_world.headers, [frame]))
    assert errors(replies) == [code]
    assert not fuzz_world.group.messages.exists()


# --- random frames of every type ------------------------------------------------------------------

HOSTILE_TEXT = st.sampled_from(
    ["", " ", "\x00", "a\x00b", "²", "٣", "\ud800", "\x1b[2J", "\x7f", "\u202e", "9" * 25, "-1", "1.5", "ACME"]
)
NUMBERS = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([0, 1, -1, 2**31, 2**63 - 1, 2**63, 2**64, 10**30]),
    st.floats(allow_nan=False, allow_infinity=False),
)
SCALARS = st.one_of(st.none(), st.booleans(), NUMBERS, st.text(max_size=12), HOSTILE_TEXT)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4) | HOSTILE_TEXT, inner, max_size=4),
    max_leaves=8,
)
# Frame types of docs/websocket.md and their fields.
FIELDS = {
    "ping": ["ref"],
    "prices.subscribe": ["symbols"],
    "prices.unsubscribe": ["symbols"],
    "chat.subscribe": ["conversation_ids"],
    "chat.unsubscribe": ["conversation_ids"],
    "chat.resume": ["conversations"],
    "chat.send": ["conversation_id", "body", "client_message_id"],
    "chat.share_fill": ["conversation_id", "fill_id", "body", "client_message_id"],
    "chat.read": ["conversation_id", "message_id"],
    "chat.typing": ["conversation_id"],
    "chat.presence": ["status", "conversation_ids"],
}


def sensible(field: str, world) -> st.SearchStrategy:
    """A value the server would accept for ``field`` (so that the handlers run past validation)."""
    conversations = st.sampled_from([world.group.pk, world.direct.pk])
    return {
        "ref": st.integers(0, 100) | st.text(max_size=8),
        "symbols": st.lists(st.sampled_from(["ACME", "acme", "SECR", "NOPE"]), min_size=1, max_size=3),
        "conversation_ids": st.lists(conversations, min_size=1, max_size=2),
        "conversations": st.dictionaries(conversations.map(str), st.integers(0, 50), min_size=1, max_size=2),
        "conversation_id": conversations,
        "body": st.text(max_size=30),
        "client_message_id": st.text(min_size=1, max_size=10),
        "fill_id": st.just(world.fill.pk),
        "message_id": st.integers(0, 50),
        "status": st.sampled_from(["online", "away"]),
    }[field]


def frames(world) -> st.SearchStrategy[str]:
    def of_type(kind: str) -> st.SearchStrategy[str]:
        field_values = {field: sensible(field, world) | VALUES for field in FIELDS[kind]}
        frame = st.fixed_dictionaries({"type": st.just(kind)}, optional=field_values)
        # ensure_ascii: a lone surrogate travels as an escape, as it must in real UTF-8 text.
        return frame.map(json.dumps)

    raw = st.sampled_from(
        [
            DEEP,
            '{"type": "ping", "ref": 1e999}',
            '{"type": "chat.resume", "conversations": {"²": 0}}',
            '{"type": "chat.read", "conversation_id": 1, "message_id": ' + "9" * 5000 + "}",
            "not json",
            "null",
            '{"type": ["ping"]}',
        ]
    )
    unknown = st.text(max_size=20).map(lambda kind: json.dumps({"type": kind}))
    return st.one_of(*(of_type(kind) for kind in FIELDS), raw, unknown, st.text(min_size=1, max_size=40))


@hypothesis_settings(
    max_examples=25,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_random_frames_never_drop_the_socket_or_leave_it_in_the_hub(fuzz_world, data):
    batch = data.draw(st.lists(frames(fuzz_world), min_size=60, max_size=100), label="frames")
    replies = asyncio.run(play(fuzz_world.headers, batch))
    assert replies[-1] == {"type": "pong", "ref": "still-here"}
