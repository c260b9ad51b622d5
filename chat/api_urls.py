"""Routes of the chat API, included under ``/api/v1/``."""

from django.urls import path

from chat import api

urlpatterns = [
    path("conversations", api.ConversationListView.as_view(), name="api-chat-conversations"),
    path("conversations/<int:conversation_id>", api.ConversationDetailView.as_view(), name="api-chat-conversation"),
    path("conversations/<int:conversation_id>/members", api.MemberListView.as_view(), name="api-chat-members"),
    path(
        "conversations/<int:conversation_id>/members/<int:user_id>",
        api.MemberDetailView.as_view(),
        name="api-chat-member",
    ),
    path("conversations/<int:conversation_id>/messages", api.MessageListView.as_view(), name="api-chat-messages"),
    path("conversations/<int:conversation_id>/read", api.ReadView.as_view(), name="api-chat-read"),
    path("messages/search", api.MessageSearchView.as_view(), name="api-chat-search"),
    path("messages/<int:message_id>", api.MessageDetailView.as_view(), name="api-chat-message"),
]
