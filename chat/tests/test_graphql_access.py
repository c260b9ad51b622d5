"""The chat API's membership matrix (test_api.py) run against GraphQL: same actors, same answers.

For each route and actor, REST and GraphQL are called on the same data (each in a savepoint
that is rolled back) and must agree: both succeed, or both refuse with the same ``code``.
"""

from __future__ import annotations

import json

import pytest
from django.db import transaction

from chat.tests.conftest import client_for
from chat.tests.test_api import ACTORS, ROUTES, api_world, call  # noqa: F401 (api_world: fixture)

pytestmark = pytest.mark.django_db

OPERATIONS = {
    ("get", "/api/v1/conversations/{group}"): '{ conversation(id: "{group}") { id title } }',
    ("patch", "/api/v1/conversations/{group}"): (
        'mutation { muteConversation(conversationId: "{group}", muted: true) { muted } }'
    ),
    ("delete", "/api/v1/conversations/{group}"): 'mutation { leaveConversation(conversationId: "{group}") }',
    ("get", "/api/v1/conversations/{group}/members"): '{ conversation(id: "{group}") { members { role } } }',
    ("post", "/api/v1/conversations/{group}/members"): (
        'mutation { addMember(conversationId: "{group}", username: "dave") { id } }'
    ),
    ("delete", "/api/v1/conversations/{group}/members/{member_id}"): (
        'mutation { removeMember(conversationId: "{group}", userId: "{member_id}") { id } }'
    ),
    ("get", "/api/v1/conversations/{group}/messages"): '{ messages(conversationId: "{group}") { hasOlder } }',
    ("get", "/api/v1/conversations/{group}/messages?after=0&first=2"): (
        '{ messages(conversationId: "{group}", after: "0", first: 2) { hasNewer } }'
    ),
    ("get", "/api/v1/conversations/{group}/messages?before={message}"): (
        '{ messages(conversationId: "{group}", before: "{message}") { hasOlder } }'
    ),
    ("post", "/api/v1/conversations/{group}/messages"): (
        'mutation { sendMessage(conversationId: "{group}", body: "hi", clientMessageId: "x") { id } }'
    ),
    ("post", "/api/v1/conversations/{group}/read"): (
        'mutation { markRead(conversationId: "{group}", messageId: "1") { unreadCount } }'
    ),
    ("get", "/api/v1/messages/{message}"): '{ message(id: "{message}") { body } }',
    ("patch", "/api/v1/messages/{message}"): 'mutation { editMessage(id: "{message}", body: "edited") { body } }',
    ("delete", "/api/v1/messages/{message}"): 'mutation { deleteMessage(id: "{message}") { deleted } }',
}


def test_every_route_of_the_matrix_has_its_graphql_operation():
    assert {(method, url) for method, url, _, _ in ROUTES} == set(OPERATIONS)


def _rolled_back(action):
    with transaction.atomic():
        result = action()
        transaction.set_rollback(True)
    return result


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize(("method", "url", "body", "expected"), ROUTES, ids=[f"{m} {u}" for m, u, _, _ in ROUTES])
def test_graphql_answers_as_rest(api_world, actor, method, url, body, expected):  # noqa: F811
    world = api_world
    user = None if actor == "anonymous" else getattr(world, actor)
    document = OPERATIONS[(method, url)]
    ids = {"{group}": world.group.pk, "{member_id}": world.member.pk, "{message}": world.message.pk}
    for name, value in ids.items():
        url, document = url.replace(name, str(value)), document.replace(name, str(value))
    # The 0 of "after=0" is a position, not an id: GraphQL says it the same way.
    rest = _rolled_back(lambda: call(client_for(user), method, url, body))
    graphql = _rolled_back(
        lambda: client_for(user).post("/graphql/", json.dumps({"query": document}), content_type="application/json")
    )
    answer = graphql.json()
    if rest.status_code >= 400:
        assert [error["extensions"]["code"] for error in answer.get("errors", ())] == [rest.json()["code"]]
    else:
        assert "errors" not in answer, answer
