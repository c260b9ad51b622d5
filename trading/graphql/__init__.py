"""Trading in GraphQL: the market, the viewer's books and orders, live quotes and order updates.

Resolvers call ``trading.selectors`` for every read and ``trading.services`` for every
write, exactly as ``trading.api`` does, so visibility and refusals (and their codes)
are the REST API's. Lists are read with the selectors' ``select_related``, so a page
costs the same number of queries whatever its length. See docs/graphql.md.

One module each for the types, queries, mutations and subscriptions; ``stockchat.graphql.schema``
composes the three roots.
"""

from trading.graphql.mutations import TradingMutation
from trading.graphql.queries import TradingQuery
from trading.graphql.subscriptions import TradingSubscription

__all__ = ["TradingMutation", "TradingQuery", "TradingSubscription"]
