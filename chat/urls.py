"""Chat pages (HTML); the API is in ``chat.api_urls``."""

from django.urls import path

from chat import views

urlpatterns = [
    path("chat/", views.chat_index, name="chat"),
    path("chat/direct/", views.direct_new, name="chat_direct_new"),
    path("chat/group/", views.group_new, name="chat_group_new"),
    path("chat/<int:conversation_id>/", views.conversation, name="conversation"),
    path("chat/<int:conversation_id>/messages/", views.message_post, name="conversation_post"),
    path("chat/<int:conversation_id>/members/", views.member_add, name="conversation_member_add"),
    path(
        "chat/<int:conversation_id>/members/<int:user_id>/remove/",
        views.member_remove,
        name="conversation_member_remove",
    ),
    path("chat/<int:conversation_id>/leave/", views.conversation_leave, name="conversation_leave"),
    path("stocks/<str:symbol>/room/", views.stock_room, name="stock_room"),
]
