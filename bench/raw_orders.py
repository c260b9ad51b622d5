"""The orders/s baseline: raw psycopg doing the order path's locking SQL, no Django.

``clients`` threads, each with its own connection, for ``seconds``: in one
transaction, lock the account row (``SELECT ... FOR UPDATE``), insert an order,
move its reservation on the account, commit. Uses its own two tables
(``bench_account``, ``bench_order``) so the app's books stay untouched.

    raw_orders.py '{"url": "postgresql://...", "clients": 8, "accounts": 1, "seconds": 10}'
"""

from __future__ import annotations

import json
import sys
import threading
import time
from pathlib import Path

import psycopg

SCHEMA = """
DROP TABLE IF EXISTS bench_order;
DROP TABLE IF EXISTS bench_account;
CREATE TABLE bench_account (
    id bigint PRIMARY KEY, cash numeric(16, 2) NOT NULL CHECK (cash >= 0),
    reserved numeric(16, 2) NOT NULL DEFAULT 0 CHECK (reserved >= 0)
);
CREATE TABLE bench_order (
    id bigserial PRIMARY KEY, account_id bigint NOT NULL REFERENCES bench_account (id),
    symbol varchar(12) NOT NULL, side varchar(4) NOT NULL, quantity integer NOT NULL,
    limit_price numeric(14, 4) NOT NULL, status varchar(16) NOT NULL, created_at timestamptz NOT NULL DEFAULT now()
);
"""


def main(cfg: dict) -> dict:
    with psycopg.connect(cfg["url"], autocommit=True) as admin:
        admin.execute(SCHEMA)
        with admin.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO bench_account (id, cash) VALUES (%s, 100000)", [(n,) for n in range(cfg["accounts"])]
            )
    counts = [0] * cfg["clients"]
    state = {"record": False, "stop": False}

    def client(n: int) -> None:
        with psycopg.connect(cfg["url"]) as conn:
            i = n
            while not state["stop"]:
                account = i % cfg["accounts"]
                i += cfg["clients"]
                with conn.transaction():
                    cash, reserved = conn.execute(
                        "SELECT cash, reserved FROM bench_account WHERE id = %s FOR UPDATE", (account,)
                    ).fetchone()
                    if cash - reserved >= 1:
                        conn.execute(
                            "INSERT INTO bench_order (account_id, symbol, side, quantity, limit_price, status) "
                            "VALUES (%s, 'ACME', 'buy', 1, 1.00, 'open')",
                            (account,),
                        )
                        conn.execute("UPDATE bench_account SET reserved = reserved + 1.00 WHERE id = %s", (account,))
                if state["record"]:
                    counts[n] += 1

    threads = [threading.Thread(target=client, args=(n,)) for n in range(cfg["clients"])]
    for thread in threads:
        thread.start()
    time.sleep(cfg.get("warmup_seconds", 2))
    state["record"] = True
    start = time.perf_counter()
    time.sleep(cfg["seconds"])
    state["record"] = False
    elapsed = time.perf_counter() - start
    state["stop"] = True
    for thread in threads:
        thread.join()
    return {"orders_per_s": sum(counts) / elapsed}


def read_config(arg: str) -> dict:
    """JSON, or ``@path`` of a JSON file (long configs exceed the argument limit)."""
    return json.loads(Path(arg[1:]).read_text()) if arg.startswith("@") else json.loads(arg)


if __name__ == "__main__":
    print(json.dumps(main(read_config(sys.argv[1]))), flush=True)
