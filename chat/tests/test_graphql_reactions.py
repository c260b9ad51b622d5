"""Reactions in GraphQL: the same service and answers as REST, and live in conversationEvents."""

from __future__ import annotations

import json

import pytest
from channels.db import database_sync_to_async

from chat import reactions, services
from chat.tests.conftest import client_for
from chat.tests.test_graphql import following, live_world, signed_in  # noqa: F401 - fixture

pytestmark = pytest.mark.django_db

REACT = (
    'mutation { reactToMessage(id: "%d", reaction: "%s", on: %s) '
    "{ id reactions { name emoji count users { username } } } }"
)


def graphql(user, document: str) -> dict:
    return client_for(user).post("/graphql/", json.dumps({"query": document}), content_type="application/json").json()


@pytest.mark.parametrize("actor", ["anonymous", "owner", "member", "outsider", "removed"])
@pytest.mark.parametrize(("name", "on"), [("heart", True), ("heart", False), ("skull", True)])
def test_graphql_answers_as_rest(world, actor, name, on):
    message = services.message_send(user=world.owner, conversation_id=world.group.pk, body="the plan")
    if actor == "removed":
        services.member_remove(actor=world.owner, conversation_id=world.group.pk, user_id=world.member.pk)
    user = {"anonymous": None, "removed": world.member}.get(actor, getattr(world, actor, None))
    url = f"/api/v1/messages/{message.pk}/reactions/{name}"
    rest = getattr(client_for(user), "put" if on else "delete")(url)
    answer = graphql(user, REACT % (message.pk, name, "true" if on else "false"))
    if rest.status_code >= 400:
        assert [error["extensions"]["code"] for error in answer["errors"]] == [rest.json()["code"]]
        assert "the plan" not in json.dumps(answer)
    else:
        assert "errors" not in answer, answer
        assert answer["data"]["reactToMessage"]["reactions"] == [
            {k: v for k, v in r.items() if k in ("name", "emoji", "count")}
            | {"users": [{"username": u["username"]} for u in r["users"]]}
            for r in rest.json()["reactions"]
        ]


def test_messages_carry_their_reactions(world):
    message = services.message_send(user=world.owner, conversation_id=world.group.pk, body="the plan")
    reactions.reaction_set(user=world.member, message_id=message.pk, reaction="joy", on=True)
    query = '{ messages(conversationId: "GROUP") { messages { reactions { name count } } } }'
    page = graphql(world.owner, query.replace("GROUP", str(world.group.pk)))
    assert page["data"]["messages"]["messages"][0]["reactions"] == [{"name": "joy", "count": 1}]


@pytest.mark.django_db(transaction=True)
async def test_conversation_events_bring_reaction_counts(live_world, ws_headers):  # noqa: F811
    world = live_world
    message = await database_sync_to_async(services.message_send)(
        user=world.owner, conversation_id=world.group.pk, body="the plan"
    )
    socket = await signed_in(ws_headers, world.owner)
    op = await socket.subscribe(
        "subscription($c: ID!) { conversationEvents(conversationId: $c) "
        "{ kind messageId reactions { name count users { username } } } }",
        {"c": str(world.group.pk)},
    )
    await following(f"conversation.{world.group.pk}")
    await database_sync_to_async(reactions.reaction_set)(
        user=world.member, message_id=message.pk, reaction="thumbs_up", on=True
    )
    assert await socket.next_data(op) == {
        "conversationEvents": {
            "kind": "chat.message.reactions",
            "messageId": str(message.pk),
            "reactions": [{"name": "thumbs_up", "count": 1, "users": [{"username": "bob"}]}],
        }
    }
    await socket.close()
