"""GraphQL end to end with a real client (gql, websockets transport) on real servers.

Two daphne processes, the feed worker, PostgreSQL and Redis. Alice and Bob sign in with
personal API tokens as docs/graphql.md shows: HTTP for queries and mutations, the
graphql-transport-ws socket for subscriptions. Quotes from the worker, Alice's order updates
and a conversation with a reconnect (afterSeq) reach sockets on either process.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import urllib.request
from collections.abc import AsyncIterator

import pytest
from channels.db import database_sync_to_async
from gql import Client, GraphQLRequest, gql
from gql.transport.websockets import WebsocketsTransport

from accounts import services as accounts
from chat import services as chat
from testsupport.processes import app_environment, start_daphne, start_feed_worker
from trading import services as trading
from trading.tests.conftest import new_stock

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

QUOTES = gql('subscription { quotes(symbols: ["ACME"]) { symbol price at } }')
ORDER_UPDATES = gql("subscription { orderUpdates { kind order { id status } fill { orderId quantity } } }")
MESSAGES = gql("subscription($c: ID!, $after: Int) { messages(conversationId: $c, afterSeq: $after) { seq body } }")
PLACE = gql(
    'mutation { placeOrder(input: {symbol: "ACME", side: BUY, quantity: 2, clientOrderId: "e2e-1"}) { id status } }'
)
SEND = gql("mutation($c: ID!, $body: String!) { sendMessage(conversationId: $c, body: $body) { seq } }")


@database_sync_to_async
def prepare(make_user) -> tuple[str, str, int]:
    alice, bob = make_user("alice"), make_user("bob")
    for user in (alice, bob):
        trading.account_open(user=user)
    new_stock("ACME", price="100.00")
    direct = chat.direct_start(user=alice, other_username="bob")
    return (
        accounts.api_token_create(user=alice, name="e2e")[1],
        accounts.api_token_create(user=bob, name="e2e")[1],
        direct.pk,
    )


def graphql_http(port: int, token: str, query: str) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql/",
        data=json.dumps({"query": query}).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - a fixed http URL
        return json.loads(response.read())


def client(port: int, token: str) -> Client:
    transport = WebsocketsTransport(
        url=f"ws://127.0.0.1:{port}/graphql/",
        init_payload={"authorization": f"Bearer {token}"},
        headers={"Origin": f"http://127.0.0.1:{port}"},
        subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
    )
    return Client(transport=transport)


class Feed:
    """A subscription read into a queue by a task, so the test can act while it listens."""

    def __init__(self, results: AsyncIterator[dict]) -> None:
        self.queue: asyncio.Queue[dict] = asyncio.Queue()
        self.task = asyncio.create_task(self._read(results))

    async def _read(self, results: AsyncIterator[dict]) -> None:
        async for result in results:
            await self.queue.put(result)

    async def next(self) -> dict:
        async with asyncio.timeout(20):
            return await self.queue.get()

    async def stop(self) -> None:
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task


async def test_query_mutate_and_watch_quotes_orders_and_a_conversation(make_user, redis_url):
    alice_token, bob_token, conversation = await prepare(make_user)
    env = app_environment(REDIS_URL=redis_url, STOCKCHAT_MARKET_FEED="off")
    processes = []
    try:
        (daphne_a, port_a), (daphne_b, port_b) = start_daphne(env), start_daphne(env)
        processes += [daphne_a, daphne_b]
        listed = await asyncio.to_thread(graphql_http, port_a, alice_token, "{ stocks { edges { node { symbol } } } }")
        assert listed == {"data": {"stocks": {"edges": [{"node": {"symbol": "ACME"}}]}}}

        async with client(port_b, alice_token) as alice_b, client(port_a, alice_token) as alice_a:
            quotes = Feed(alice_b.subscribe(QUOTES))
            snapshot = (await quotes.next())["quotes"]
            assert snapshot["price"] == "100.0000"
            processes.append(
                start_feed_worker(app_environment(REDIS_URL=redis_url), "--interval", "0.2", "--seed", "4")
            )
            tick = await quotes.next()  # published once by the worker, through Redis, to process B
            assert tick["quotes"]["symbol"] == "ACME"
            assert tick["quotes"]["at"] > snapshot["at"]
            await quotes.stop()

            updates = Feed(alice_b.subscribe(ORDER_UPDATES))
            # The mutation travels over process A's socket; its events reach process B's.
            placed = (await alice_a.execute(PLACE))["placeOrder"]
            seen = {}
            while "fill.created" not in seen:
                update = (await updates.next())["orderUpdates"]
                seen[update["kind"]] = update
            assert seen["fill.created"]["fill"] == {"orderId": placed["id"], "quantity": 2}
            await updates.stop()

            variables = {"c": str(conversation)}
            async with client(port_b, bob_token) as bob:
                # afterSeq 0: whatever is sent from now on arrives, however the two race.
                messages = Feed(bob.subscribe(GraphQLRequest(MESSAGES, variable_values={**variables, "after": 0})))
                await alice_a.execute(GraphQLRequest(SEND, variable_values={**variables, "body": "one"}))
                assert await messages.next() == {"messages": {"seq": 1, "body": "one"}}
                await messages.stop()
            # Bob is away; Alice goes on.
            for body in ("two", "three"):
                await alice_a.execute(GraphQLRequest(SEND, variable_values={**variables, "body": body}))
            async with client(port_b, bob_token) as bob:
                messages = Feed(bob.subscribe(GraphQLRequest(MESSAGES, variable_values={**variables, "after": 1})))
                assert await messages.next() == {"messages": {"seq": 2, "body": "two"}}
                assert await messages.next() == {"messages": {"seq": 3, "body": "three"}}
                await alice_a.execute(GraphQLRequest(SEND, variable_values={**variables, "body": "four"}))
                assert await messages.next() == {"messages": {"seq": 4, "body": "four"}}
                assert messages.queue.empty()
                await messages.stop()
    finally:
        for process in processes:
            process.stop()
