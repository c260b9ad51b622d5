"""GraphQL over HTTP (``/graphql/``) and over WebSocket (``/graphql/``, graphql-transport-ws).

Who is asking is decided as for the REST API, with its own classes:

- ``Authorization: Bearer <token>``: a personal API token (``sct_…``) or the identity
  provider's access token; no CSRF check (a browser never sends the header by itself);
- otherwise the session, with Django's CSRF check on every POST (mutations only travel by
  POST; GET runs queries only);
- on the socket, ``connection_init``'s payload may carry ``{"authorization": "Bearer …"}``;
  without it the socket's session (cookie) counts.

Anonymous requests may introspect the schema; every other field asks for a signed-in user.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from channels.db import database_sync_to_async
from cross_web import HTTPException
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.shortcuts import render
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_exempt
from rest_framework.exceptions import AuthenticationFailed
from strawberry.channels import GraphQLWSConsumer
from strawberry.django.views import GraphQLView
from strawberry.exceptions import ConnectionRejectionError

from accounts.authentication import (
    MAX_TOKEN_LENGTH,
    PersonalTokenAuthentication,
    ProviderAccessTokenAuthentication,
)
from core.inputs import ERROR_CONTROL_CHARACTER, InputError, find_forbidden_text, loads_json

MAX_SOCKET_MESSAGE_BYTES = 64 * 1024
BEARER_CLASSES = (PersonalTokenAuthentication, ProviderAccessTokenAuthentication)


def _error_body(code: str, detail: str) -> dict[str, Any]:
    return {"errors": [{"message": detail, "extensions": {"code": code}}]}


def hostile_input(text: str | bytes) -> InputError | None:
    """Why a GraphQL request body or socket message is refused before Strawberry reads it, or None.

    The same rules as every other path (``core.inputs``): JSON nested past the limit, and
    text (query, variables, operation name) with NUL, other control characters or lone
    surrogates, which PostgreSQL cannot store.
    """
    try:
        document = loads_json(text)
    except InputError as exc:
        return exc
    if find_forbidden_text(document):
        return InputError(ERROR_CONTROL_CHARACTER, "The request contains a control character, which is not allowed.")
    return None


def bearer_user(request):
    """The user of the request's bearer token, ``None`` without one; ``AuthenticationFailed`` if it is refused."""
    for authentication in BEARER_CLASSES:
        found = authentication().authenticate(request)
        if found is not None:
            return found[0]
    return None


def _refusal(exc: AuthenticationFailed) -> tuple[str, str]:
    detail = exc.detail if isinstance(exc.detail, dict) else {}
    return str(detail.get("code", "not_authenticated")), str(detail.get("detail", "Authentication failed."))


class _CsrfCheck(CsrfViewMiddleware):
    def _reject(self, request, reason):
        return reason


@method_decorator(csrf_exempt, name="dispatch")
class GraphQLHTTPView(GraphQLView):
    """Strawberry's Django view with the site's authentication, CSRF rule, error shape and GraphiQL page."""

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any):
        try:
            user = bearer_user(request)
        except AuthenticationFailed as exc:
            code, detail = _refusal(exc)
            response = JsonResponse(_error_body(code, detail), status=401)
            response["WWW-Authenticate"] = 'Bearer realm="stockchat"'
            return response
        if user is None:
            user = request.user
            if user.is_authenticated and request.method == "POST":
                reason = _CsrfCheck(lambda r: None).process_view(request, None, (), {})
                if reason is not None:
                    return JsonResponse(
                        _error_body("csrf_failed", f"CSRF check failed: {reason}. Send the X-CSRFToken header."),
                        status=403,
                    )
        if request.method == "POST" and request.content_type == "application/json":
            refusal = hostile_input(request.body)
            if refusal is not None:
                return JsonResponse(_error_body(refusal.code, refusal.detail), status=400)
        request.graphql_user = user
        try:
            return self.run(request=request)
        except HTTPException as exc:
            # Batches, bad JSON, mutations over GET: the same JSON error shape as everything else.
            return JsonResponse(_error_body("bad_request", exc.reason), status=exc.status_code)

    def get_context(self, request: HttpRequest, response: HttpResponse) -> dict[str, Any]:
        return {"request": request, "response": response, "user": request.graphql_user}

    def render_graphql_ide(self, request: HttpRequest) -> HttpResponse:
        if not request.graphql_user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        return render(request, "graphql/graphiql.html")


class GraphQLSocketConsumer(GraphQLWSConsumer):
    """graphql-transport-ws (and legacy graphql-ws) on the same ASGI app as /ws/.

    Subscriptions read from the process's fan-out hub; the socket has no channel of its own.
    """

    channel_layer_alias = "stockchat.no-channel-per-socket"

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if text_data is not None and (len(text_data) > MAX_SOCKET_MESSAGE_BYTES or hostile_input(text_data)):
            # graphql-transport-ws closes on an invalid message with 4400.
            await self.close(code=4400)
            return
        await super().receive(text_data=text_data, bytes_data=bytes_data)

    async def get_context(self, request, response) -> dict[str, Any]:
        return {"request": request, "ws": request, "user": None}

    async def on_ws_connect(self, context: dict[str, Any]):
        params = context.get("connection_params") or {}
        header = params.get("authorization", params.get("Authorization"))
        if header is not None:
            if not isinstance(header, str) or len(header) > MAX_TOKEN_LENGTH + 16:
                raise ConnectionRejectionError({"code": "malformed_token"})
            request = SimpleNamespace(META={"HTTP_AUTHORIZATION": header})
            try:
                user = await database_sync_to_async(bearer_user)(request)
            except AuthenticationFailed as exc:
                raise ConnectionRejectionError({"code": _refusal(exc)[0]}) from None
        else:
            user = self.scope.get("user")
            session = self.scope.get("session")
            context["session_key"] = getattr(session, "session_key", None)
        if user is None or not user.is_authenticated:
            raise ConnectionRejectionError({"code": "not_authenticated"})
        context["user"] = user
        return {"user": user.get_username()}
