"""The Channels tutorial's chat design, for comparison: one consumer per socket,
``group_add`` on connect and one ``group_send`` per message on RedisChannelLayer.

Served only by bench/asgi.py; the app's routing never includes it.
"""

from __future__ import annotations

from channels.generic.websocket import AsyncWebsocketConsumer

ROOM = "bench-room"


class TutorialChatConsumer(AsyncWebsocketConsumer):
    channel_layer_alias = "tutorial"

    async def connect(self) -> None:
        await self.channel_layer.group_add(ROOM, self.channel_name)
        await self.accept()

    async def disconnect(self, code) -> None:
        await self.channel_layer.group_discard(ROOM, self.channel_name)

    async def receive(self, text_data=None, bytes_data=None) -> None:
        await self.channel_layer.group_send(ROOM, {"type": "chat.message", "text": text_data})

    async def chat_message(self, event) -> None:
        await self.send(text_data=event["text"])
