"""Load generators, run in their own process: ``loadgen.py '<json config>'``.

Modes (``config["mode"]``):

- ``fanout``: ``len(cookies)`` receiver sockets and one sender; the sender
  sends ``rate`` messages a second for ``seconds``, each carrying its sequence
  number and send time in the body; receivers record latency and gaps.
- ``prices``: ``count`` sockets follow one symbol; records deliveries and the
  age of each tick (receive time minus the tick's own time).
- ``idle``: opens ``count`` sockets, prints ``{"opened": ...}``, waits for a
  line on stdin, then closes them.
- ``http``: ``clients`` keep-alive HTTP/1.1 connections send requests back to
  back for ``seconds``; records requests/s, latency and status codes.

``protocol`` is ``stockchat`` (the app's ``/ws/`` frames), ``graphql`` (``/graphql/``,
graphql-transport-ws; prices only), ``relay`` (bench/relay.py) or ``tutorial``
(bench/tutorial.py). Prints one JSON object on its last line.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import time
from datetime import datetime
from pathlib import Path

from websockets.asyncio.client import connect


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))]


async def open_socket(cfg: dict, cookie: str | None):
    headers = {"Origin": cfg["origin"]}
    if cookie:
        headers["Cookie"] = f"sessionid={cookie}"
    graphql = cfg["protocol"] == "graphql"
    ws = await connect(
        cfg["url"],
        additional_headers=headers,
        max_queue=None,
        ping_interval=None,
        open_timeout=60,
        close_timeout=2,
        subprotocols=[GRAPHQL_PROTOCOL] if graphql else None,
    )
    if graphql:
        await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
        ack = json.loads(await ws.recv())
        if ack.get("type") != "connection_ack":
            raise RuntimeError(f"expected connection_ack, got {ack}")
    if cfg["protocol"] == "stockchat":
        hello = json.loads(await ws.recv())
        if hello.get("type") != "hello":
            raise RuntimeError(f"expected hello, got {hello}")
    return ws


async def open_many(cfg: dict, cookies: list, concurrency: int = 50) -> tuple[list, float]:
    limit = asyncio.Semaphore(concurrency)

    async def one(cookie):
        async with limit:
            return await open_socket(cfg, cookie)

    started = time.perf_counter()
    sockets = await asyncio.gather(*(one(c) for c in cookies))
    return list(sockets), time.perf_counter() - started


async def request_reply(ws, frame: dict, reply_type: str) -> None:
    await ws.send(json.dumps(frame))
    while True:
        reply = json.loads(await ws.recv())
        if reply.get("type") == reply_type:
            return
        if reply.get("type") == "error":
            raise RuntimeError(f"{frame['type']}: {reply}")


def body_of(protocol: str, text: str) -> dict | None:
    if protocol == "stockchat":
        frame = json.loads(text)
        if frame.get("type") != "chat.message.created":
            return None
        return json.loads(frame["message"]["body"])
    return json.loads(text)


async def fanout(cfg: dict) -> dict:
    protocol = cfg["protocol"]
    receivers, _ = await open_many(cfg, cfg["cookies"])
    sender = await open_socket(cfg, cfg.get("sender_cookie"))
    if protocol == "stockchat":
        await asyncio.gather(
            *(
                request_reply(
                    ws, {"type": "chat.subscribe", "conversation_ids": [cfg["conversation_id"]]}, "chat.subscribed"
                )
                for ws in receivers
            )
        )
    received: list[list[tuple[int, float]]] = [[] for _ in receivers]

    async def receive(n: int, ws) -> None:
        with contextlib.suppress(Exception):
            async for text in ws:
                now = time.time()
                body = body_of(protocol, text)
                if body is not None:
                    received[n].append((body["seq"], now - body["t"]))

    async def drain(ws) -> None:
        with contextlib.suppress(Exception):
            async for _ in ws:
                pass

    tasks = [asyncio.create_task(receive(n, ws)) for n, ws in enumerate(receivers)]
    tasks.append(asyncio.create_task(drain(sender)))

    async def send(seq: int) -> None:
        body = json.dumps({"seq": seq, "t": time.time(), "text": "anvils up $ACME"})
        if protocol == "stockchat":
            await sender.send(
                json.dumps({"type": "chat.send", "conversation_id": cfg["conversation_id"], "body": body})
            )
        else:
            await sender.send(body)

    rate, warmup = cfg["rate"], cfg.get("warmup", 10)
    # Warm-up messages carry negative sequence numbers and are left out of the figures.
    for seq in range(-warmup, 0):
        await send(seq)
        await asyncio.sleep(1 / rate)
    await asyncio.sleep(1.0)
    total = int(rate * cfg["seconds"])
    windows = []
    # Each window is one run on the same sockets; sequence numbers go on from window to window.
    for window in range(cfg.get("windows", 1)):
        first = window * total
        start = time.perf_counter()
        for n in range(total):
            delay = start + n / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            await send(first + n)
        # Wait for stragglers: stop once nothing new arrived for two seconds (30 s at most).
        deadline = time.monotonic() + 30
        seen = -1
        while time.monotonic() < deadline:
            count = sum(len(r) for r in received)
            if count == seen:
                break
            seen = count
            await asyncio.sleep(2.0)
        windows.append(fanout_figures(received, first, total))
    for ws in [*receivers, sender]:
        await ws.close()
    for task in tasks:
        task.cancel()
    return {"windows": windows}


def fanout_figures(received: list[list[tuple[int, float]]], first: int, total: int) -> dict:
    latencies, gaps, delivered = [], 0, 0
    for rows in received:
        last = first - 1
        for seq, latency in rows:
            if not first <= seq < first + total:
                continue
            delivered += 1
            latencies.append(latency)
            if seq != last + 1:
                gaps += 1
            last = seq
        if last != first + total - 1:
            gaps += 1  # the tail went missing
    expected = total * len(received)
    return {
        "sent": total,
        "members": len(received),
        "delivered_pct": 100.0 * delivered / expected if expected else 0.0,
        "gaps": gaps,
        "p50_ms": pct(latencies, 0.50) * 1000,
        "p99_ms": pct(latencies, 0.99) * 1000,
    }


def tick_time(protocol: str, text: str) -> float | None:
    frame = json.loads(text)
    if protocol == "graphql":
        if frame.get("type") != "next":
            return None
        return datetime.fromisoformat(frame["payload"]["data"]["quotes"]["at"]).timestamp()
    if protocol == "stockchat":
        if frame.get("type") != "quote.updated":
            return None
        return datetime.fromisoformat(frame["quote"]["at"]).timestamp()
    return frame["t"]


async def prices(cfg: dict) -> dict:
    protocol = cfg["protocol"]
    cookies = cfg["cookies"] or [None]
    sockets, _ = await open_many(cfg, [cookies[n % len(cookies)] for n in range(cfg["count"])])
    if protocol == "stockchat":
        await asyncio.gather(
            *(
                request_reply(ws, {"type": "prices.subscribe", "symbols": [cfg["symbol"]]}, "prices.subscribed")
                for ws in sockets
            )
        )
    if protocol == "graphql":
        # The same symbol through GraphQL's quotes subscription; the snapshot is its first result.
        query = "subscription($s: [String!]!) { quotes(symbols: $s) { symbol price at } }"
        subscribe = {"id": "1", "type": "subscribe", "payload": {"query": query, "variables": {"s": [cfg["symbol"]]}}}
        await asyncio.gather(*(request_reply(ws, subscribe, "next") for ws in sockets))
    window = {"open": False}
    ages: list[float] = []
    counts = [0]

    async def receive(ws) -> None:
        with contextlib.suppress(Exception):
            async for text in ws:
                if not window["open"]:
                    continue
                sent = tick_time(protocol, text)
                if sent is not None:
                    counts[0] += 1
                    ages.append(time.time() - sent)

    tasks = [asyncio.create_task(receive(ws)) for ws in sockets]
    publisher = None
    if protocol == "relay":
        publisher = await open_socket(cfg, None)

        async def publish() -> None:
            seq = 0
            start = time.perf_counter()
            while True:
                delay = start + seq / cfg["rate"] - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                await publisher.send(
                    json.dumps({"quote": {"symbol": cfg["symbol"], "price": "84.1200"}, "t": time.time()})
                )
                seq += 1

        tasks.append(asyncio.create_task(publish()))
    await asyncio.sleep(cfg.get("warmup_seconds", 3))
    windows = []
    # Each window is one run on the same sockets.
    for _ in range(cfg.get("windows", 1)):
        ages.clear()
        counts[0] = 0
        window["open"] = True
        start = time.perf_counter()
        await asyncio.sleep(cfg["seconds"])
        window["open"] = False
        elapsed = time.perf_counter() - start
        windows.append(
            {
                "subscribers": len(sockets),
                "deliveries_per_s": counts[0] / elapsed,
                "p50_age_ms": pct(ages, 0.50) * 1000,
                "p99_age_ms": pct(ages, 0.99) * 1000,
            }
        )
        await asyncio.sleep(1.0)
    for task in tasks:
        task.cancel()
    for ws in sockets + ([publisher] if publisher else []):
        with contextlib.suppress(Exception):
            await ws.close()
    return {"windows": windows}


async def idle(cfg: dict) -> dict:
    cookies = cfg["cookies"] or [None]
    sockets, elapsed = await open_many(
        cfg, [cookies[n % len(cookies)] for n in range(cfg["count"])], cfg.get("concurrency", 50)
    )
    print(json.dumps({"opened": len(sockets), "handshakes_per_s": len(sockets) / elapsed}), flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    alive = sum(1 for ws in sockets if ws.state.name == "OPEN")
    await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)
    return {"opened": len(sockets), "alive_at_end": alive, "handshakes_per_s": len(sockets) / elapsed}


async def http_one(reader, writer, request: bytes) -> int:
    writer.write(request)
    status_line = await reader.readline()
    status = int(status_line.split()[1])
    length = 0
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b""):
            break
        name, _, value = line.decode("latin-1").partition(":")
        if name.strip().lower() == "content-length":
            length = int(value)
    if length:
        await reader.readexactly(length)
    return status


async def http(cfg: dict) -> dict:
    raw = []
    for req in cfg["requests"]:
        body = req.get("body", "").encode()
        headers = {"Host": "127.0.0.1", "Connection": "keep-alive", **req.get("headers", {})}
        if body:
            headers["Content-Type"] = "application/json"
            headers["Content-Length"] = str(len(body))
        head = f"{req.get('method', 'GET')} {req['path']} HTTP/1.1\r\n" + "".join(
            f"{k}: {v}\r\n" for k, v in headers.items()
        )
        raw.append(head.encode() + b"\r\n" + body)
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    state = {"record": False, "stop": False, "next": 0, "answered": 0}

    async def client() -> None:
        reader, writer = await asyncio.open_connection(cfg["host"], cfg["port"])
        while not state["stop"]:
            request = raw[state["next"] % len(raw)]
            state["next"] += 1
            started = time.perf_counter()
            try:
                status = await http_one(reader, writer, request)
            except (asyncio.IncompleteReadError, ConnectionError, IndexError):
                writer.close()
                reader, writer = await asyncio.open_connection(cfg["host"], cfg["port"])
                status = 0
            state["answered"] += 1
            if state["record"]:
                latencies.append(time.perf_counter() - started)
                statuses[str(status)] = statuses.get(str(status), 0) + 1
        writer.close()

    tasks = [asyncio.create_task(client()) for _ in range(cfg["clients"])]
    await asyncio.sleep(cfg.get("warmup_seconds", 2))
    state["record"] = True
    start = time.perf_counter()
    await asyncio.sleep(cfg["seconds"])
    state["record"] = False
    elapsed = time.perf_counter() - start
    state["stop"] = True
    await asyncio.gather(*tasks, return_exceptions=True)
    return {
        "requests_per_s": len(latencies) / elapsed,
        # Only answers in the 2xx range count as served.
        "ok_per_s": sum(n for status, n in statuses.items() if status.startswith("2")) / elapsed,
        "p50_ms": pct(latencies, 0.50) * 1000,
        "p99_ms": pct(latencies, 0.99) * 1000,
        "statuses": statuses,
        # Warm-up included: what the server's CPU time over the whole run is divided by.
        "answered": state["answered"],
    }


GRAPHQL_PROTOCOL = "graphql-transport-ws"
MODES = {"fanout": fanout, "prices": prices, "idle": idle, "http": http}


def read_config(arg: str) -> dict:
    """JSON, or ``@path`` of a JSON file (long configs exceed the argument limit)."""
    return json.loads(Path(arg[1:]).read_text()) if arg.startswith("@") else json.loads(arg)


if __name__ == "__main__":
    config = read_config(sys.argv[1])
    print(json.dumps(asyncio.run(MODES[config["mode"]](config))), flush=True)
