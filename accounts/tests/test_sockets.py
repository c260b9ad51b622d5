"""Open WebSockets are closed when their session signs out, the user is deactivated or their password changes."""

from __future__ import annotations

import asyncio
import re

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.contrib.auth import get_user_model
from django.core import mail
from django.db import transaction
from django.test import Client

from accounts import services
from accounts.events import close_command
from core.realtime.groups import session_group, user_group
from core.realtime.hub import get_hub, hub_control
from core.realtime.socket import CLOSE_SIGNED_OUT
from stockchat.asgi import application
from testsupport.socket_contract import ContractCommunicator
from testsupport.waiting import wait_until_async

pytestmark = pytest.mark.django_db(transaction=True)


def signed_in_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


async def open_socket(client: Client) -> ContractCommunicator:
    headers = [
        (b"host", b"testserver"),
        (b"origin", b"http://testserver"),
        (b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode()),
    ]
    communicator = ContractCommunicator(application, "/ws/", headers=headers)
    connected, _ = await communicator.connect(timeout=5)
    assert connected
    assert (await communicator.receive_json_from(timeout=5))["type"] == "hello"
    return communicator


async def assert_closed(communicator: ContractCommunicator) -> None:
    message = await communicator.receive_output(timeout=5)
    assert message == {"type": "websocket.close", "code": CLOSE_SIGNED_OUT}


async def assert_open(communicator: ContractCommunicator) -> None:
    await communicator.send_json_to({"type": "ping", "ref": "still-there"})
    assert await communicator.receive_json_from(timeout=5) == {"type": "pong", "ref": "still-there"}


@pytest.fixture
async def alice():
    return await database_sync_to_async(get_user_model().objects.create_user)("alice", password="correct-horse-9")


async def test_sign_out_closes_the_sockets_of_that_session_only(alice):
    laptop = await database_sync_to_async(signed_in_client)(alice)
    phone = await database_sync_to_async(signed_in_client)(alice)
    laptop_socket, phone_socket = await open_socket(laptop), await open_socket(phone)
    response = await database_sync_to_async(laptop.post)("/accounts/logout/")
    assert response.status_code == 302
    await assert_closed(laptop_socket)
    await assert_open(phone_socket)
    await phone_socket.disconnect()


async def test_deactivation_closes_every_socket_of_the_user(alice):
    bob = await database_sync_to_async(get_user_model().objects.create_user)("bob", password="correct-horse-9")
    sockets = [await open_socket(await database_sync_to_async(signed_in_client)(alice)) for _ in range(2)]
    bystander = await open_socket(await database_sync_to_async(signed_in_client)(bob))
    await database_sync_to_async(services.user_deactivate)(user=alice)
    for socket in sockets:
        await assert_closed(socket)
    await assert_open(bystander)
    await bystander.disconnect()


async def test_deactivation_in_the_admin_closes_the_sockets(alice):
    admin_user = await database_sync_to_async(get_user_model().objects.create_superuser)(
        "root", "root@example.com", "correct-horse-9"
    )
    socket = await open_socket(await database_sync_to_async(signed_in_client)(alice))
    admin = await database_sync_to_async(signed_in_client)(admin_user)
    response = await database_sync_to_async(admin.post)(
        "/admin/accounts/user/",
        {"action": "deactivate", "_selected_action": [alice.pk], "index": 0},
    )
    assert response.status_code == 302
    await assert_closed(socket)


async def test_no_close_is_sent_when_the_deactivation_rolls_back(alice):
    socket = await open_socket(await database_sync_to_async(signed_in_client)(alice))

    def deactivate_then_fail():
        with transaction.atomic():
            services.user_deactivate(user=alice)
            raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError):
        await database_sync_to_async(deactivate_then_fail)()
    await assert_open(socket)
    await socket.disconnect()


def test_unticking_active_in_the_admin_form_sends_the_close_event(alice):
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(user_group(alice.pk), channel)
    root = get_user_model().objects.create_superuser("root", "root@example.com", "correct-horse-9")
    admin = signed_in_client(root)
    url = f"/admin/accounts/user/{alice.pk}/change/"
    form = admin.get(url).context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None and name != "password"}
    data.update(
        {
            "is_active": "",
            "date_joined_0": alice.date_joined.strftime("%Y-%m-%d"),
            "date_joined_1": alice.date_joined.strftime("%H:%M:%S"),
            "identities-TOTAL_FORMS": "0",
            "identities-INITIAL_FORMS": "0",
        }
    )
    data.pop("date_joined", None)
    data.pop("groups", None)
    data.pop("user_permissions", None)
    data.pop("last_login", None)
    response = admin.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else response
    alice.refresh_from_db()
    assert not alice.is_active
    event = async_to_sync(asyncio.wait_for)(layer.receive(channel), 5)
    assert event == hub_control(user_group(alice.pk), close_command("deactivated"))
    assert event["control"] == {"action": "close", "code": CLOSE_SIGNED_OUT, "reason": "deactivated"}


def change_password(client: Client) -> None:
    response = client.post(
        "/accounts/password_change/",
        {"old_password": "correct-horse-9", "new_password1": "fresh-meadow-77", "new_password2": "fresh-meadow-77"},
    )
    assert response.status_code == 302


async def test_password_change_closes_the_other_sessions_sockets_and_keeps_this_ones(alice):
    bob = await database_sync_to_async(get_user_model().objects.create_user)("bob", password="correct-horse-9")
    laptop = await database_sync_to_async(signed_in_client)(alice)
    phone = await database_sync_to_async(signed_in_client)(alice)
    laptop_socket, phone_socket = await open_socket(laptop), await open_socket(phone)
    bystander = await open_socket(await database_sync_to_async(signed_in_client)(bob))
    old_key = laptop.session.session_key
    await database_sync_to_async(change_password)(laptop)
    await assert_closed(phone_socket)
    await assert_open(laptop_socket)
    await assert_open(bystander)
    # The session that changed the password has a new key; its socket follows it,
    # so signing out of that session still closes the socket.
    new_key = laptop.session.session_key
    assert new_key != old_key
    await wait_until_async(
        lambda: get_hub().local_subscribers(session_group(new_key)) == 1,
        what="the socket following the session's new key",
        timeout=10,
    )
    assert (await database_sync_to_async(laptop.post)("/accounts/logout/")).status_code == 302
    await assert_closed(laptop_socket)
    await assert_open(bystander)
    await bystander.disconnect()


async def test_password_reset_closes_every_socket_of_the_user(alice):
    await database_sync_to_async(get_user_model().objects.filter(pk=alice.pk).update)(email="alice@example.com")
    sockets = [await open_socket(await database_sync_to_async(signed_in_client)(alice)) for _ in range(2)]

    def reset_by_email_link() -> None:
        client = Client()
        assert client.post("/accounts/password_reset/", {"email": "alice@example.com"}).status_code == 302
        link = re.search(r"http://testserver(/accounts/reset/\S+/)", mail.outbox[-1].body).group(1)
        set_url = client.get(link, follow=True).redirect_chain[-1][0]
        response = client.post(set_url, {"new_password1": "fresh-meadow-77", "new_password2": "fresh-meadow-77"})
        assert response.status_code == 302

    await database_sync_to_async(reset_by_email_link)()
    for socket in sockets:
        await assert_closed(socket)


async def test_a_password_set_in_the_admin_closes_every_socket_of_the_user(alice):
    admin_user = await database_sync_to_async(get_user_model().objects.create_superuser)(
        "root", "root@example.com", "correct-horse-9"
    )
    socket = await open_socket(await database_sync_to_async(signed_in_client)(alice))
    admin_socket_client = await database_sync_to_async(signed_in_client)(admin_user)
    admin_socket = await open_socket(admin_socket_client)
    response = await database_sync_to_async(admin_socket_client.post)(
        f"/admin/accounts/user/{alice.pk}/password/",
        {"set_usable_password": "true", "password1": "fresh-meadow-77", "password2": "fresh-meadow-77"},
    )
    assert response.status_code == 302
    await assert_closed(socket)
    await assert_open(admin_socket)
    await admin_socket.disconnect()
