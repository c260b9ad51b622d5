"""The /ws/ consumer: the base protocol plus each app's frame types.

Each app adds its frame types as a mixin listed in ``SocketConsumer``'s bases;
a mixin contributes handlers by extending ``frame_handlers()``.
"""

from chat.consumers import ChatFrames
from stockchat.realtime.socket import BaseSocketConsumer
from trading.consumers import PriceFrames


class SocketConsumer(ChatFrames, PriceFrames, BaseSocketConsumer):
    pass
