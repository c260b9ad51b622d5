"""GraphQL subscriptions' hub subscriber (core/graphql/streams.py)."""

from __future__ import annotations

import json

import pytest
from graphql import GraphQLError

from core.graphql.streams import HubStream


async def first(stream: HubStream) -> dict:
    return await anext(aiter(stream))


async def test_one_event_is_decoded_once_for_every_subscriber():
    streams = [HubStream() for _ in range(3)]
    texts = [json.dumps({"type": "quote.updated", "quote": {"symbol": "ACME", "n": n}}) for n in range(2)]
    for text in texts:  # as the hub's dispatch does: the same string to each subscriber in turn
        for stream in streams:
            stream.deliver(text, None)
    # Each subscriber reads at its own pace: the first reads both events before the others start.
    read = []
    for stream in streams:
        frames = aiter(stream)
        read.append([await anext(frames), await anext(frames)])
    assert [frame["quote"]["n"] for frame in read[0]] == [0, 1]
    for frames in read[1:]:
        assert frames[0] is read[0][0]
        assert frames[1] is read[0][1]


async def test_latest_value_frames_keep_only_the_newest():
    stream = HubStream()
    for price in ("1", "2", "3"):
        stream.deliver(json.dumps({"price": price}), "price.ACME")
    stream.deliver(json.dumps({"other": True}), None)
    frames = aiter(stream)
    assert await anext(frames) == {"price": "3"}
    assert await anext(frames) == {"other": True}


async def test_a_stream_that_falls_behind_ends_with_too_slow():
    stream = HubStream(limit=2)
    for n in range(3):
        stream.deliver(json.dumps({"n": n}), None)
    with pytest.raises(GraphQLError) as refused:
        await first(stream)
    assert refused.value.extensions["code"] == "too_slow"
