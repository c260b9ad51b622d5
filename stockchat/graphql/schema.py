"""The one GraphQL schema: each app's queries, mutations and subscriptions, composed here.

``docs/schema.graphql`` is this schema printed (``python manage.py export_graphql_schema``);
a test fails when the two differ.
"""

from __future__ import annotations

import strawberry
from graphql import GraphQLError
from strawberry.extensions import MaskErrors, SchemaExtension

from chat.graphql import ChatMutation, ChatQuery, ChatSubscription
from core.graphql.base import ServiceErrors, ThreadedRootFields
from core.graphql.limits import limit_extensions
from trading.graphql import TradingMutation, TradingQuery, TradingSubscription

# Validation refusals by the message graphql-core and Strawberry give them.
_VALIDATION_CODES = (
    ("exceeds maximum operation depth", "too_deep"),
    ("aliases found", "too_many_aliases"),
    ("token limit", "too_many_tokens"),
)


class ValidationCodes(SchemaExtension):
    """Gives every refusal found before execution an ``extensions.code``, as resolver errors have."""

    def on_validate(self):
        yield
        for error in self.execution_context.pre_execution_errors or ():
            if error.extensions and "code" in error.extensions:
                continue
            message = error.message.lower()
            code = next((code for text, code in _VALIDATION_CODES if text in message), "invalid_query")
            error.extensions = {**(error.extensions or {}), "code": code}


def _has_code(error: GraphQLError) -> bool:
    return bool(error.extensions and "code" in error.extensions)


class MaskUnexpectedErrors(MaskErrors):
    """A fault (anything but a refusal with a code) reaches the client as ``internal_error``,
    never with its message: it may name tables, settings or internals. It is logged in full."""

    def __init__(self) -> None:
        super().__init__(should_mask_error=lambda error: not _has_code(error), error_message="Internal error.")

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        masked = super().anonymise_error(error)
        masked.extensions = {"code": "internal_error", "status": 500}
        return masked


@strawberry.type
class Query(TradingQuery, ChatQuery):
    pass


@strawberry.type
class Mutation(TradingMutation, ChatMutation):
    pass


@strawberry.type
class Subscription(TradingSubscription, ChatSubscription):
    pass


class Schema(strawberry.Schema):
    def process_errors(self, errors, execution_context=None) -> None:
        # Refusals with a code are answers, not faults: only the others are logged as errors.
        unexpected = [error for error in errors if not _has_code(error)]
        if unexpected:
            super().process_errors(unexpected, execution_context)


schema = Schema(
    query=Query,
    mutation=Mutation,
    subscription=Subscription,
    extensions=[*limit_extensions(), ValidationCodes, MaskUnexpectedErrors, ServiceErrors, ThreadedRootFields],
)
