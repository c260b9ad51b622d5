"""The GraphQL API (docs/graphql.md): the same services and selectors as REST and /ws/.

``base`` and ``streams`` are floor modules (they import no app): the apps' schema modules
(``trading/graphql/``, ``chat/graphql.py``) build on them. ``schema`` composes the apps'
types into one schema and ``views`` serves it over HTTP and WebSocket (the roof).
"""
