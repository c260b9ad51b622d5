"""Bearer tokens on the one WebSocket: the same tokens, and the same refusals, as the REST API.

A socket opened with a personal API token follows that token's group, so that
revoking the token closes it; one opened with a provider access token closes
when the token expires. Deactivating the user closes both (the user's group).
"""

from __future__ import annotations

from channels.db import database_sync_to_async

from accounts.authentication import access_token_holder, personal_token_holder
from accounts.services import TOKEN_PREFIX
from accounts.tokens import TokenRejected
from core.realtime.groups import api_token_group
from core.realtime.socket import CredentialRefused, SocketCredential


def socket_credential_for_token(token: str) -> SocketCredential:
    try:
        if token.startswith(TOKEN_PREFIX):
            record = personal_token_holder(token)
            return SocketCredential(record.user, "api_token", group=api_token_group(record.pk))
        user, claims = access_token_holder(token)
    except TokenRejected as exc:
        raise CredentialRefused(exc.code, exc.detail) from None
    return SocketCredential(user, "access_token", expires_at=float(claims["exp"]))


class TokenSignIn:
    """Mixin for the socket consumer: what a bearer token (header or auth frame) signs in as."""

    async def authenticate_token(self, token: str) -> SocketCredential:
        return await database_sync_to_async(socket_credential_for_token)(token)
