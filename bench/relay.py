"""The baseline: a bare ``websockets`` broadcast relay.

Every text message any client sends is relayed as is to every connected client
(the sender included). No authentication, no JSON, no channel layer: the least
work a Python WebSocket server can do to fan a message out.

    .venv/bin/python bench/relay.py --port 8765
"""

from __future__ import annotations

import argparse
import asyncio

from websockets.asyncio.server import broadcast, serve

CLIENTS: set = set()


async def handler(websocket) -> None:
    CLIENTS.add(websocket)
    try:
        async for message in websocket:
            broadcast(CLIENTS, message)
    finally:
        CLIENTS.discard(websocket)


async def main(host: str, port: int) -> None:
    async with serve(handler, host, port, max_queue=None, ping_interval=None):
        await asyncio.get_running_loop().create_future()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    asyncio.run(main(args.host, args.port))
