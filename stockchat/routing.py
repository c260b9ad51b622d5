from django.urls import path

from stockchat.consumers import SocketConsumer
from stockchat.graphql.schema import schema as graphql_schema
from stockchat.graphql.views import GraphQLSocketConsumer

websocket_urlpatterns = [
    path("ws/", SocketConsumer.as_asgi()),
    path("graphql/", GraphQLSocketConsumer.as_asgi(schema=graphql_schema)),
]
