"""Conversations, memberships and messages."""
