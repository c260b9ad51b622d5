"""The /ws/ consumer: the base protocol plus each app's frame types.

Each app adds its frame types as a mixin listed in ``SocketConsumer``'s bases;
a mixin contributes handlers by extending ``frame_handlers()``. ``accounts``
contributes what a bearer token signs in as (``authenticate_token()``).
"""

from accounts.consumers import TokenSignIn
from chat.consumers import ChatFrames
from core.realtime.socket import BaseSocketConsumer
from trading.consumers import PriceFrames


class SocketConsumer(TokenSignIn, ChatFrames, PriceFrames, BaseSocketConsumer):
    pass
