"""Moderation in the admin: read conversations, delete messages, remove members.

Nothing is edited in place: the actions call the same services as the API and
the socket, so members' sockets hear of every change (a removed member's
sockets stop following the conversation at once).
"""

from __future__ import annotations

from django.contrib import admin, messages

from chat import services
from chat.models import Conversation, Membership, Message
from core.errors import ServiceError


class ModerationAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        # Deletion goes through the actions below (services), never a bare row delete.
        return False


class MembershipInline(admin.TabularInline):
    model = Membership
    fields = ["user", "role", "joined_at", "last_read_message_id", "muted"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Conversation)
class ConversationAdmin(ModerationAdmin):
    list_display = ["id", "kind", "title", "stock", "created_by", "created_at"]
    list_filter = ["kind"]
    search_fields = ["title", "stock__symbol"]
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(ModerationAdmin):
    list_display = ["id", "conversation", "user", "role", "joined_at", "muted"]
    list_filter = ["role"]
    search_fields = ["user__username", "conversation__title"]
    list_select_related = ["conversation", "conversation__stock", "user"]
    actions = ["remove_members"]

    @admin.action(description="Remove the selected members from their conversations")
    def remove_members(self, request, queryset):
        removed = 0
        for membership in queryset:
            try:
                services.member_remove(
                    actor=request.user,
                    conversation_id=membership.conversation_id,
                    user_id=membership.user_id,
                    moderate=True,
                )
                removed += 1
            except ServiceError as exc:
                self.message_user(request, f"{membership}: {exc.detail}", messages.ERROR)
        self.message_user(request, f"Removed {removed} member(s).", messages.SUCCESS)


@admin.register(Message)
class MessageAdmin(ModerationAdmin):
    list_display = ["id", "conversation", "author", "created_at", "edited_at", "deleted_at", "body_start"]
    list_filter = ["created_at"]
    search_fields = ["body", "author__username"]
    list_select_related = ["conversation", "conversation__stock", "author"]
    actions = ["delete_messages"]

    @admin.display(description="body")
    def body_start(self, message: Message) -> str:
        return message.body[:80]

    @admin.action(description="Delete the selected messages (moderation)")
    def delete_messages(self, request, queryset):
        for message in queryset:
            services.message_delete(user=request.user, message_id=message.pk, moderate=True)
        self.message_user(request, f"Deleted {queryset.count()} message(s).", messages.SUCCESS)
