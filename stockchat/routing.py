from django.urls import path

from stockchat.consumers import SocketConsumer

websocket_urlpatterns = [
    path("ws/", SocketConsumer.as_asgi()),
]
