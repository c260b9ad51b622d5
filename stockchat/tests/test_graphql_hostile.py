"""Hostile input on /graphql/ (HTTP and socket) is refused with a code, never a fault.

The same classes as every other path (core/inputs.py): NUL and other control
characters, lone surrogates, Unicode digits in ids, deep JSON.
"""

from __future__ import annotations

import json

import pytest
from channels.testing import WebsocketCommunicator
from django.test import Client

from accounts import services as accounts
from stockchat.asgi import application

pytestmark = pytest.mark.django_db(transaction=True)

HOSTILE_BODIES = {
    "NUL in an argument": json.dumps({"query": 'mutation { startDirect(username: "a\\u0000b") { id } }'}),
    "NUL in a variable": json.dumps(
        {"query": "mutation($u: String!) { startDirect(username: $u) { id } }", "variables": {"u": "a\x00b"}}
    ),
    "NUL in a search": json.dumps({"query": '{ stocks(search: "a\\u0000") { edges { node { symbol } } } }'}),
    "NUL in a message": json.dumps({"query": 'mutation { sendMessage(conversationId: "1", body: "x\\u0000") { id } }'}),
    "lone surrogate in a variable": '{"query": "{ conversations { id } }", "variables": {"a": "\\ud800"}}',
    "escape character in the query": json.dumps({"query": "{ conversations { id } }\x1b"}),
    "deep variables": '{"query": "{ conversations { id } }", "variables": ' + "[" * 5000 + "]" * 5000 + "}",
}


@pytest.mark.parametrize("body", HOSTILE_BODIES.values(), ids=HOSTILE_BODIES.keys())
def test_hostile_bodies_are_refused_with_a_code(make_user, body):
    client = Client()
    client.force_login(make_user())
    response = client.post("/graphql/", body, content_type="application/json")
    # Refused before anything runs: 400 for the body, a validation error for a string literal
    # whose escape decodes to a control character.
    assert response.status_code in {200, 400}, response.content[:300]
    assert response.json().get("data") is None
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] in {"control_character", "too_deep"}


@pytest.mark.parametrize("value", ["²", "٣", "99999999999999999999999", "-1"])
def test_ids_that_are_not_ascii_digits_are_invalid_id(make_user, value):
    client = Client()
    client.force_login(make_user())
    body = json.dumps({"query": "query($id: ID!) { conversation(id: $id) { id } }", "variables": {"id": value}})
    response = client.post("/graphql/", body, content_type="application/json")
    assert response.status_code == 200
    assert [e["extensions"]["code"] for e in response.json()["errors"]] == ["invalid_id"]


async def test_a_hostile_socket_message_closes_with_4400(make_user):
    from channels.db import database_sync_to_async

    user = await database_sync_to_async(make_user)()
    _, secret = await database_sync_to_async(accounts.api_token_create)(user=user, name="gql")
    socket = WebsocketCommunicator(application, "/graphql/", subprotocols=["graphql-transport-ws"])
    connected, _ = await socket.connect(timeout=5)
    assert connected
    await socket.send_json_to({"type": "connection_init", "payload": {"authorization": f"Bearer {secret}"}})
    assert (await socket.receive_json_from(timeout=5))["type"] == "connection_ack"
    # A string literal whose escape decodes to NUL: an error message with the code.
    query = 'subscription { quotes(symbols: ["A\\u0000"]) { symbol } }'
    await socket.send_to(text_data=json.dumps({"type": "subscribe", "id": "1", "payload": {"query": query}}))
    reply = await socket.receive_json_from(timeout=5)
    assert reply["type"] == "error"
    assert [e["extensions"]["code"] for e in reply["payload"]] == ["control_character"]
    # NUL in the message itself: an invalid message, which graphql-transport-ws closes with 4400.
    variables = {"symbols": ["A\x00"]}
    query = "subscription($symbols: [String!]!) { quotes(symbols: $symbols) { symbol } }"
    message = {"type": "subscribe", "id": "2", "payload": {"query": query, "variables": variables}}
    await socket.send_to(text_data=json.dumps(message))
    output = await socket.receive_output(timeout=5)
    assert output == {"type": "websocket.close", "code": 4400}
