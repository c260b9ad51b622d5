"""Routes of the chat API, included under ``/api/v1/``."""

from django.urls import path

from chat import api, api_attachments, api_reactions
from core.inputs import register_id_converter

register_id_converter()  # <id:...>: ASCII digits within bigint, anything else is a 404

urlpatterns = [
    path("conversations", api.ConversationListView.as_view(), name="api-chat-conversations"),
    path("conversations/<id:conversation_id>", api.ConversationDetailView.as_view(), name="api-chat-conversation"),
    path("conversations/<id:conversation_id>/members", api.MemberListView.as_view(), name="api-chat-members"),
    path(
        "conversations/<id:conversation_id>/members/<id:user_id>",
        api.MemberDetailView.as_view(),
        name="api-chat-member",
    ),
    path("conversations/<id:conversation_id>/messages", api.MessageListView.as_view(), name="api-chat-messages"),
    path("conversations/<id:conversation_id>/read", api.ReadView.as_view(), name="api-chat-read"),
    path(
        "conversations/<id:conversation_id>/attachments",
        api_attachments.AttachmentSlotView.as_view(),
        name="api-attachment-slots",
    ),
    path("attachments/upload", api_attachments.local_upload, name="api-attachment-upload"),
    path("attachments/blob/<str:token>", api_attachments.local_blob, name="api-attachment-blob"),
    path("attachments/<id:attachment_id>", api_attachments.AttachmentView.as_view(), name="api-attachment"),
    path(
        "attachments/<id:attachment_id>/confirm",
        api_attachments.AttachmentConfirmView.as_view(),
        name="api-attachment-confirm",
    ),
    path("messages/search", api.MessageSearchView.as_view(), name="api-chat-search"),
    path("messages/<id:message_id>", api.MessageDetailView.as_view(), name="api-chat-message"),
    path(
        "messages/<id:message_id>/reactions/<str:reaction>",
        api_reactions.ReactionView.as_view(),
        name="api-chat-reaction",
    ),
]
