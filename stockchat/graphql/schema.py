"""The one GraphQL schema: each app's queries, mutations and subscriptions, composed here.

``docs/schema.graphql`` is this schema printed (``python manage.py export_graphql_schema``);
a test fails when the two differ.
"""

from __future__ import annotations

import strawberry
from strawberry.extensions import SchemaExtension

from chat.graphql import ChatMutation, ChatQuery, ChatSubscription
from stockchat.graphql.base import ServiceErrors, ThreadedRootFields
from stockchat.graphql.limits import limit_extensions
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
        unexpected = [error for error in errors if not (error.extensions and "code" in error.extensions)]
        if unexpected:
            super().process_errors(unexpected, execution_context)


schema = Schema(
    query=Query,
    mutation=Mutation,
    subscription=Subscription,
    extensions=[*limit_extensions(), ValidationCodes, ServiceErrors, ThreadedRootFields],
)
