"""What every app's GraphQL module shares: the viewer, errors, pages and limits.

Resolvers stay as thin as API views: they find the viewer, call one selector or
service and shape the result. A ``ServiceError`` raised below becomes a GraphQL
error whose ``extensions.code`` is the REST API's ``code`` (see ``ServiceErrors``).
"""

from __future__ import annotations

import asyncio
import base64
import functools
import inspect
from collections.abc import Sequence
from typing import Any, Generic, TypeVar

import strawberry
from channels.db import database_sync_to_async
from graphql import GraphQLError, OperationType
from strawberry.extensions import SchemaExtension
from strawberry.types import Info

from core.errors import ServiceError
from core.inputs import InputError, parse_int

# Page sizes: larger requests are refused (not clamped) so a client learns the limit.
DEFAULT_PAGE = 50
MAX_PAGE = 100

ERROR_NOT_AUTHENTICATED = "not_authenticated"
ERROR_PAGE_TOO_LARGE = "page_too_large"
ERROR_INVALID_CURSOR = "invalid_cursor"
ERROR_FORBIDDEN = "forbidden"

T = TypeVar("T")


def graphql_error(code: str, detail: str, *, status: int = 400) -> GraphQLError:
    return GraphQLError(detail, extensions={"code": code, "status": status})


def service_error(exc: ServiceError) -> GraphQLError:
    """The GraphQL form of a refusal: the same ``code`` (and HTTP ``status``) as the REST API's."""
    return graphql_error(exc.code, exc.detail, status=exc.status)


class ServiceErrors(SchemaExtension):
    """Turns a ``ServiceError`` raised by any resolver into a typed GraphQL error."""

    def resolve(self, _next, root, info, *args, **kwargs):
        try:
            result = _next(root, info, *args, **kwargs)
        except ServiceError as exc:
            raise service_error(exc) from exc
        if inspect.isawaitable(result):
            return _awaiting(result)
        return result


class ThreadedRootFields(SchemaExtension):
    """Runs query and mutation root resolvers in a worker thread when executed on an event loop.

    Over HTTP the view runs in a thread already; over the WebSocket (a client may send queries
    and mutations there too) execution is on the event loop, where the ORM must not be used.
    Root resolvers return plain objects, built in full (``from_model``), so the fields under
    them need no database.
    """

    def resolve(self, _next, root, info, *args, **kwargs):
        if info.path.prev is not None or info.operation.operation == OperationType.SUBSCRIPTION:
            return _next(root, info, *args, **kwargs)
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return _next(root, info, *args, **kwargs)
        return _awaiting(database_sync_to_async(_next)(root, info, *args, **kwargs))


async def _awaiting(result):
    try:
        return await result
    except ServiceError as exc:
        raise service_error(exc) from exc


def refusals_as_errors(subscription):
    """For a subscription's async generator: what ``ServiceErrors`` does for other resolvers
    (Strawberry does not pass a subscription's iteration through extensions' ``resolve``)."""

    @functools.wraps(subscription)
    async def stream(*args, **kwargs):
        source = subscription(*args, **kwargs)
        try:
            async for item in source:
                yield item
        except ServiceError as exc:
            raise service_error(exc) from exc
        finally:
            await source.aclose()

    return stream


def viewer(info: Info):
    """The signed-in user of the request or socket; an error for anyone else.

    The HTTP view and the socket consumer put the user they authenticated (session,
    personal API token or provider access token) in the context as ``user``.
    """
    user = info.context.get("user") if isinstance(info.context, dict) else getattr(info.context, "user", None)
    if user is None or not user.is_authenticated:
        raise graphql_error(ERROR_NOT_AUTHENTICATED, "Sign in, or send an API token, first.", status=401)
    return user


def staff_viewer(info: Info):
    user = viewer(info)
    if not user.is_staff:
        raise graphql_error(ERROR_FORBIDDEN, "Only staff may do this.", status=403)
    return user


def page_size(first: int | None, *, default: int = DEFAULT_PAGE, maximum: int = MAX_PAGE) -> int:
    if first is None:
        return default
    if first < 1 or first > maximum:
        raise graphql_error(ERROR_PAGE_TOO_LARGE, f"first must be between 1 and {maximum}.")
    return first


def encode_cursor(position: int) -> str:
    return base64.urlsafe_b64encode(f"p:{position}".encode()).decode()


def decode_cursor(cursor: str | None) -> int | None:
    """The position a cursor stands for (an id or an offset), or ``None`` for no cursor."""
    if cursor is None:
        return None
    try:
        text = base64.urlsafe_b64decode(cursor.encode("ascii")).decode("ascii")
    except (ValueError, UnicodeError):
        text = ""
    number = parse_int(text[2:]) if text.startswith("p:") else None
    if number is None:
        raise InputError(ERROR_INVALID_CURSOR, "after/before must be a cursor returned by this API.")
    return number


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class Edge(Generic[T]):
    cursor: str
    node: T


@strawberry.type
class Connection(Generic[T]):
    """A Relay-style page: ``edges`` with cursors, and where to go on."""

    edges: list[Edge[T]]
    page_info: PageInfo


def connection(rows: Sequence[Any], *, first: int, position, node=lambda row: row) -> Connection:
    """A page from ``rows`` fetched with ``first + 1`` rows (the extra one says there is more)."""
    more = len(rows) > first
    rows = list(rows[:first])
    edges = [Edge(cursor=encode_cursor(position(row)), node=node(row)) for row in rows]
    return Connection(
        edges=edges,
        page_info=PageInfo(has_next_page=more, end_cursor=edges[-1].cursor if edges else None),
    )
