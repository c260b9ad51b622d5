"""Chat pages (HTML); the API is in ``chat.api_urls``."""

from django.urls import path

from chat import views
from core.inputs import register_id_converter

register_id_converter()  # <id:...>: ASCII digits within bigint, anything else is a 404

urlpatterns = [
    path("chat/", views.chat_index, name="chat"),
    path("chat/direct/", views.direct_new, name="chat_direct_new"),
    path("chat/group/", views.group_new, name="chat_group_new"),
    path("chat/<id:conversation_id>/", views.conversation, name="conversation"),
    path("chat/<id:conversation_id>/messages/", views.message_post, name="conversation_post"),
    path("chat/<id:conversation_id>/members/", views.member_add, name="conversation_member_add"),
    path(
        "chat/<id:conversation_id>/members/<id:user_id>/remove/",
        views.member_remove,
        name="conversation_member_remove",
    ),
    path("chat/<id:conversation_id>/leave/", views.conversation_leave, name="conversation_leave"),
    path("stocks/<str:symbol>/room/", views.stock_room, name="stock_room"),
]
