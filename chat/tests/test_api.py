"""The chat API: every route against anonymous, owner, member and outsider; shapes; escaping.

A conversation the caller is not a member of answers exactly like one that does
not exist (404 ``conversation_not_found``), so no route tells an outsider that it
exists, who is in it, or what was said.
"""

from __future__ import annotations

import pytest

from chat import services
from chat.models import Membership, Message
from chat.selectors import UNREAD_COUNT_CAP
from chat.tests.conftest import client_for, pile_of_messages

pytestmark = pytest.mark.django_db

# (method, url, body, expected per actor: owner, member, outsider). Statuses: a number, or
# (status, code). Conversation routes act on a group where alice owns and bob is a member;
# message routes on a message by alice.
NF = (404, "conversation_not_found")
MNF = (404, "message_not_found")
ROUTES = [
    ("get", "/api/v1/conversations/{group}", None, (200, 200, NF)),
    ("patch", "/api/v1/conversations/{group}", {"muted": True}, (200, 200, NF)),
    ("delete", "/api/v1/conversations/{group}", None, (204, 204, NF)),
    ("get", "/api/v1/conversations/{group}/members", None, (200, 200, NF)),
    ("post", "/api/v1/conversations/{group}/members", {"username": "dave"}, (201, (403, "not_an_owner"), NF)),
    ("delete", "/api/v1/conversations/{group}/members/{member_id}", None, (204, (403, "not_an_owner"), NF)),
    ("get", "/api/v1/conversations/{group}/messages", None, (200, 200, NF)),
    ("get", "/api/v1/conversations/{group}/messages?after=0&first=2", None, (200, 200, NF)),
    ("get", "/api/v1/conversations/{group}/messages?before={message}", None, (200, 200, NF)),
    ("post", "/api/v1/conversations/{group}/messages", {"body": "hi", "client_message_id": "x"}, (201, 201, NF)),
    ("post", "/api/v1/conversations/{group}/read", {"message_id": 1}, (200, 200, NF)),
    ("get", "/api/v1/messages/{message}", None, (200, 200, MNF)),
    ("patch", "/api/v1/messages/{message}", {"body": "edited"}, (200, (403, "not_the_author"), MNF)),
    ("delete", "/api/v1/messages/{message}", None, (204, (403, "not_the_author"), MNF)),
]
ACTORS = ["anonymous", "owner", "member", "outsider"]


@pytest.fixture
def api_world(world, make_user):
    make_user("dave")
    world.message = services.message_send(user=world.owner, conversation_id=world.group.pk, body="the plan")
    return world


def call(client, method, url, body):
    if body is None:
        return getattr(client, method)(url)
    return getattr(client, method)(url, body, content_type="application/json")


def state(world) -> tuple:
    message = Message.objects.get(pk=world.message.pk)
    return (
        sorted(Membership.objects.filter(conversation=world.group).values_list("user_id", "role", "muted")),
        Message.objects.filter(conversation=world.group).count(),
        message.body,
        message.deleted_at,
    )


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize(("method", "url", "body", "expected"), ROUTES, ids=[f"{m} {u}" for m, u, _, _ in ROUTES])
def test_membership_matrix(api_world, actor, method, url, body, expected):
    world = api_world
    user = None if actor == "anonymous" else getattr(world, actor)
    url = url.format(group=world.group.pk, member_id=world.member.pk, message=world.message.pk)
    before = state(world)
    response = call(client_for(user), method, url, body)
    if actor == "anonymous":
        # 401, not 403: the API also takes Bearer tokens and says so in WWW-Authenticate.
        assert response.status_code == 401
        assert response.json()["code"] == "not_authenticated"
        assert response["WWW-Authenticate"].startswith("Bearer")
        assert state(world) == before
        return
    want = dict(zip(["owner", "member", "outsider"], expected, strict=True))[actor]
    status, code = want if isinstance(want, tuple) else (want, None)
    assert response.status_code == status, response.content
    if code is not None:
        assert response.json()["code"] == code
        assert state(world) == before
        text = response.content.decode()
        # Nothing about the conversation in a refusal to an outsider.
        if actor == "outsider":
            assert "the plan" not in text
            assert "alice" not in text
            assert "Traders" not in text


@pytest.mark.parametrize("actor", ["owner", "member", "outsider"])
def test_unknown_ids_answer_like_a_conversation_one_is_not_in(api_world, actor):
    client = client_for(getattr(api_world, actor))
    missing = client.get("/api/v1/conversations/987654/messages")
    hidden = client.get(f"/api/v1/conversations/{api_world.direct.pk}/messages")
    assert missing.status_code == 404
    if actor == "outsider":
        assert hidden.status_code == 404
        assert hidden.json() == missing.json()


def test_lists_and_search_show_only_the_callers_conversations(api_world):
    world = api_world
    services.direct_start(user=world.outsider, other_username="dave")
    outsider = client_for(world.outsider)
    listed = outsider.get("/api/v1/conversations").json()
    assert [c["kind"] for c in listed] == ["direct"]
    assert [m["user"]["username"] for m in listed[0]["members"]] == ["carol", "dave"]
    assert outsider.get("/api/v1/messages/search?q=plan").json()["results"] == []
    found = client_for(world.member).get("/api/v1/messages/search?q=plan").json()["results"]
    assert [m["id"] for m in found] == [world.message.pk]
    assert client_for(None).get("/api/v1/messages/search?q=plan").status_code == 401


def test_conversation_list_shape(api_world):
    world = api_world
    listed = client_for(world.member).get("/api/v1/conversations").json()
    group = next(c for c in listed if c["id"] == world.group.pk)
    assert group["kind"] == "group"
    assert group["title"] == "Traders"
    assert group["role"] == "member"
    assert group["unread_count"] == 1
    assert group["last_message"]["body"] == "the plan"
    assert group["last_message"]["author"] == {"id": world.owner.pk, "username": "alice"}
    read = client_for(world.member).post(
        f"/api/v1/conversations/{world.group.pk}/read",
        {"message_id": world.message.pk},
        content_type="application/json",
    )
    assert read.json() == {
        "conversation_id": world.group.pk,
        "last_read_message_id": world.message.pk,
        "unread_count": 0,
    }


def test_unread_counts_in_the_api_stop_at_the_cap(api_world):
    world = api_world
    pile_of_messages(world.owner, world.group, UNREAD_COUNT_CAP + 10)
    client = client_for(world.member)
    listed = client.get("/api/v1/conversations").json()
    assert next(c for c in listed if c["id"] == world.group.pk)["unread_count"] == UNREAD_COUNT_CAP
    read = client.post(
        f"/api/v1/conversations/{world.group.pk}/read",
        {"message_id": world.message.pk},
        content_type="application/json",
    )
    assert read.json()["unread_count"] == UNREAD_COUNT_CAP


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "direct", "username": "bob"}, "direct"),
        ({"kind": "group", "title": "New", "members": ["bob"]}, "group"),
        ({"kind": "stock", "symbol": "acme"}, "stock"),
    ],
)
def test_create_each_kind_of_conversation(api_world, body, field):
    response = client_for(api_world.outsider).post("/api/v1/conversations", body, content_type="application/json")
    assert response.status_code == 201, response.content
    assert response.json()["kind"] == field
    if field == "stock":
        assert response.json()["symbol"] == "ACME"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"kind": "group"}, "invalid"),
        ({"kind": "chatroom"}, "invalid"),
        ({"kind": "direct", "username": "nobody"}, "user_not_found"),
        ({"kind": "stock", "symbol": "SECR"}, "stock_not_found"),
    ],
)
def test_bad_conversation_requests_get_a_code_and_a_detail(api_world, body, code):
    response = client_for(api_world.outsider).post("/api/v1/conversations", body, content_type="application/json")
    assert response.status_code in (400, 404)
    assert response.json()["code"] == code
    assert response.json()["detail"]


def test_history_pages_link_older_and_newer(api_world):
    world = api_world
    client = client_for(world.member)
    ids = [world.message.pk] + [
        services.message_send(user=world.owner, conversation_id=world.group.pk, body=f"m{n}").pk for n in range(4)
    ]
    page = client.get(f"/api/v1/conversations/{world.group.pk}/messages?limit=2").json()
    assert [m["id"] for m in page["results"]] == ids[3:]
    assert page["next"] is None
    older = client.get(page["previous"]).json()
    assert [m["id"] for m in older["results"]] == ids[1:3]
    oldest = client.get(older["previous"]).json()
    assert [m["id"] for m in oldest["results"]] == ids[:1]
    assert oldest["previous"] is None
    forward = client.get(f"/api/v1/conversations/{world.group.pk}/messages?after={ids[0]}&first=3").json()
    assert [m["id"] for m in forward["results"]] == ids[1:4]
    assert [m["id"] for m in client.get(forward["next"]).json()["results"]] == ids[4:]


@pytest.mark.parametrize("query", ["before=1&after=2", "before=x", "limit=0", "limit=1000", "first=-1", "after=1.5"])
def test_bad_history_queries_are_refused(api_world, query):
    response = client_for(api_world.owner).get(f"/api/v1/conversations/{api_world.group.pk}/messages?{query}")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_query"


def test_resending_a_client_message_id_answers_200_with_the_same_message(api_world):
    client = client_for(api_world.member)
    url = f"/api/v1/conversations/{api_world.group.pk}/messages"
    first = client.post(url, {"body": "once", "client_message_id": "k1"}, content_type="application/json")
    again = client.post(url, {"body": "once", "client_message_id": "k1"}, content_type="application/json")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json() == again.json()
    assert Message.objects.filter(client_message_id="k1").count() == 1


def test_too_long_and_rate_limited_sends_are_refused_clearly(api_world, settings):
    client = client_for(api_world.member)
    url = f"/api/v1/conversations/{api_world.group.pk}/messages"
    long = client.post(url, {"body": "x" * 4001}, content_type="application/json")
    assert long.status_code == 400
    assert long.json()["code"] == "body_too_long"  # the same code as the socket's chat.send
    assert "4000" in long.json()["detail"]
    settings.STOCKCHAT_CHAT_SENDS_PER_MINUTE = 1
    assert client.post(url, {"body": "one"}, content_type="application/json").status_code == 201
    limited = client.post(url, {"body": "two"}, content_type="application/json")
    assert limited.status_code == 429
    assert limited.json()["code"] == "rate_limited"


def test_markup_in_a_body_is_stored_and_returned_as_text(api_world):
    body = '<script>alert("x")</script> & <b>bold</b>'
    client = client_for(api_world.member)
    url = f"/api/v1/conversations/{api_world.group.pk}/messages"
    sent = client.post(url, {"body": body}, content_type="application/json").json()
    assert sent["body"] == body
    assert Message.objects.get(pk=sent["id"]).body == body
    listed = client.get(url).json()["results"][-1]
    assert listed["body"] == body
    assert client.get(url)["Content-Type"] == "application/json"


def test_the_admin_moderates_through_the_services(api_world, make_user):
    world = api_world
    staff = make_user("mod", is_staff=True, is_superuser=True)
    admin = client_for(staff)
    membership = Membership.objects.get(conversation=world.group, user=world.member)
    response = admin.post(
        "/admin/chat/membership/",
        {"action": "remove_members", "_selected_action": [membership.pk]},
    )
    assert response.status_code == 302
    assert not Membership.objects.filter(pk=membership.pk).exists()
    response = admin.post("/admin/chat/message/", {"action": "delete_messages", "_selected_action": [world.message.pk]})
    assert response.status_code == 302
    world.message.refresh_from_db()
    assert world.message.deleted_at is not None
    assert world.message.body == ""
    assert admin.get(f"/admin/chat/conversation/{world.group.pk}/change/").status_code == 200
    # Not for non-staff.
    assert client_for(world.owner).get("/admin/chat/message/").status_code == 302


def test_session_writes_need_the_csrf_token(api_world):
    client = client_for(api_world.member)
    client.handler.enforce_csrf_checks = True
    response = client.post(
        f"/api/v1/conversations/{api_world.group.pk}/messages", {"body": "forged"}, content_type="application/json"
    )
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]
    assert not Message.objects.filter(body="forged").exists()


def test_catching_up_with_after_comes_in_pages_of_at_most_200_until_next_is_null(world):
    # The rule chat.resume follows too (docs/websocket.md): a bounded page and a link to the next.
    pile_of_messages(world.owner, world.group, 450)
    expected = list(world.group.messages.order_by("id").values_list("id", flat=True))
    client = client_for(world.member)
    url = f"/api/v1/conversations/{world.group.pk}/messages?after=0&limit=200"
    got, pages = [], 0
    while url is not None:
        page = client.get(url).json()
        assert len(page["results"]) <= 200
        got += [m["id"] for m in page["results"]]
        url, pages = page["next"], pages + 1
    assert got == expected
    assert pages == 3
    # Without a limit, the default page of 50.
    first = client.get(f"/api/v1/conversations/{world.group.pk}/messages?after=0").json()
    assert len(first["results"]) == 50
