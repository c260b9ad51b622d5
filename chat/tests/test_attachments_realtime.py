"""Attachments over the socket and GraphQL: ``chat.send`` with ``attachment_ids`` (frames checked
against the AsyncAPI contract), the refusal of a foreign id, and ``sendMessage(attachmentIds:)``."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async

from chat import attachments
from chat.models import Attachment, AttachmentKind, AttachmentStatus
from chat.tests.conftest import client_for, make_world
from chat.tests.test_consumers import connect, next_frame, subscribe

pytestmark = pytest.mark.django_db(transaction=True)


def ready_attachment(user, conversation) -> Attachment:
    """A confirmed image as attachment_confirm leaves it (the bytes do not matter here)."""
    return Attachment.objects.create(
        conversation=conversation,
        uploader=user,
        kind=AttachmentKind.IMAGE,
        status=AttachmentStatus.READY,
        upload_key=attachments.new_key(),
        key=attachments.new_key(),
        thumbnail_key=attachments.new_key() + ".jpg",
        name="chart.png",
        content_type="image/png",
        size=1234,
        width=800,
        height=600,
        thumbnail_width=480,
        thumbnail_height=360,
    )


@pytest.fixture
async def world(make_user):
    return await database_sync_to_async(make_world)(make_user)


async def test_chat_send_carries_attachments_to_every_member(world, ws_headers):
    image = await database_sync_to_async(ready_attachment)(world.owner, world.group)
    alice, bob = [await connect(ws_headers, user) for user in (world.owner, world.member)]
    for socket in (alice, bob):
        await subscribe(socket, world.group)
    frame = {"type": "chat.send", "conversation_id": world.group.pk, "body": "", "attachment_ids": [image.pk]}
    await alice.send_json_to({**frame, "ref": 1})
    sent = await next_frame(alice, "chat.sent", skip=("chat.message.created",))
    created = await next_frame(bob, "chat.message.created")
    for message in (sent["message"], created["message"]):
        assert message["payload"] == {"kind": "attachments"}
        (attachment,) = message["attachments"]
        assert attachment["id"] == image.pk
        assert attachment["url"] == f"/api/v1/attachments/{image.pk}"
        assert attachment["thumbnail_url"] == f"/api/v1/attachments/{image.pk}?variant=thumbnail"
    # Bob cannot send alice's attachment, nor may it ride a second message.
    for socket in (bob, alice):
        await socket.send_json_to({**frame, "ref": 2})
        error = await next_frame(socket, "error", skip=("chat.message.created",))
        assert (error["code"], error["ref"]) == ("invalid_attachment", 2)
    for socket in (alice, bob):
        await socket.disconnect()


def test_graphql_send_message_with_attachment_ids(world):
    image = ready_attachment(world.owner, world.group)
    query = """mutation($c: ID!, $a: [ID!]) { sendMessage(conversationId: $c, body: "see", attachmentIds: $a) {
        id attachments { id kind name url thumbnailUrl thumbnailWidth } } }"""
    response = client_for(world.owner).post(
        "/graphql/",
        {"query": query, "variables": {"c": str(world.group.pk), "a": [str(image.pk)]}},
        content_type="application/json",
    )
    data = response.json()
    assert "errors" not in data, data
    assert data["data"]["sendMessage"]["attachments"] == [
        {
            "id": str(image.pk),
            "kind": "image",
            "name": "chart.png",
            "url": f"/api/v1/attachments/{image.pk}",
            "thumbnailUrl": f"/api/v1/attachments/{image.pk}?variant=thumbnail",
            "thumbnailWidth": 480,
        }
    ]
    again = (
        client_for(world.member)
        .post(
            "/graphql/",
            {"query": query, "variables": {"c": str(world.group.pk), "a": [str(image.pk)]}},
            content_type="application/json",
        )
        .json()
    )
    assert again["errors"][0]["extensions"]["code"] == "invalid_attachment"
