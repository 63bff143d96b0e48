"""Flash-sale rush: N buyers claim one flash sale through the HTTP API within one second, against
a real uvicorn server on 127.0.0.1; the same server's bare endpoint (/healthz) under the same
load is the ceiling.

    python -m bench.flash_sale --buyers 5000 --stock 500 --backend postgres+redis

Backends: `sqlite` (embedded default), `postgres`, `postgres+redis` (the Redis Lua script).
PostgreSQL and Redis URLs come from --database-url / --redis-url (defaults: the local test
servers, database `liveloop_bench`, which is recreated). Last line:
RESULT flash_sale backend=B buyers=N stock=S sold=X oversold=X p99_ms=X reservations_per_s=X
ceiling_per_s=X
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

import httpx
from sqlalchemy import func, select, text
from tests.integration.live.conftest import running_sale

from liveloop import migrations
from liveloop.accounts.models import AuthSession, User
from liveloop.accounts.service import hash_token
from liveloop.catalog import inventory
from liveloop.kit.db import create_engine, create_sessionmaker, utcnow
from liveloop.live.models import FlashSale


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _recreate_postgres(url: str) -> None:
    from sqlalchemy.engine import make_url

    target = make_url(url)
    admin = create_engine(target.set(database="postgres").render_as_string(hide_password=False))
    async with admin.connect() as conn:
        conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
        await conn.execute(text(f'CREATE DATABASE "{target.database}"'))
    await admin.dispose()


async def prepare(url: str, *, buyers: int, stock: int) -> tuple[str, list[str]]:
    """A migrated database with one running flash sale of `stock` units and `buyers` signed-in
    buyers (users written directly: hashing 5,000 passwords is not what is measured)."""
    engine = create_engine(url)
    async with engine.connect() as conn:
        await conn.run_sync(migrations.upgrade_on)
        await conn.commit()
    sessionmaker = create_sessionmaker(engine)
    tokens = []
    async with sessionmaker() as session:
        made = await running_sale(session, quantity=stock, stock=stock * 2)
        stocked, live, sale = made.stocked, made.live, made.sale
        now = utcnow()
        for i in range(buyers):
            user = User(
                email=f"buyer{i}@bench.example",
                display_name=f"Buyer {i}",
                password_hash="-",
                country="GB",
                time_zone="Europe/London",
                locale="en_GB",
            )
            session.add(user)
            token = f"lls_bench_{uuid.uuid4().hex}"
            await session.flush()
            session.add(
                AuthSession(
                    user_id=user.id,
                    token_hash=hash_token(token),
                    expires_at=now + timedelta(days=1),
                )
            )
            tokens.append(token)
        await session.commit()
        path = f"/api/v1/live-sessions/{live.id}/flash-sales/{sale.id}/claims"
        variant_id, sale_id = stocked.variant.id, sale.id
    await engine.dispose()
    os.environ["_BENCH_VARIANT"] = str(variant_id)
    os.environ["_BENCH_SALE"] = str(sale_id)
    return path, tokens


async def rush(
    base: str, path: str, tokens: list[str], *, spread: float
) -> tuple[list[float], list[int], float]:
    """Send one request per token, their start times spread evenly over `spread` seconds."""
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    # A slow backend queues requests for minutes: wait for a connection, however long.
    timeout = httpx.Timeout(300, pool=None)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=timeout) as client:
        latencies: list[float] = [0.0] * len(tokens)
        statuses: list[int] = [0] * len(tokens)
        started = time.perf_counter()

        async def one(i: int, token: str) -> None:
            await asyncio.sleep(spread * i / max(len(tokens), 1))
            t0 = time.perf_counter()
            if path == "/healthz":
                r = await client.get(path)
            else:
                r = await client.post(
                    path,
                    json={"quantity": 1, "market": "GB"},
                    headers={"Authorization": f"Bearer {token}"},
                )
            latencies[i] = (time.perf_counter() - t0) * 1000
            statuses[i] = r.status_code

        await asyncio.gather(*(one(i, t) for i, t in enumerate(tokens)))
        return latencies, statuses, time.perf_counter() - started


def _p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[98] if len(values) > 1 else values[0]


async def main_async(args: argparse.Namespace) -> str:
    backend = args.backend
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "LIVELOOP_VAR_DIR": tmp,
            "LIVELOOP_SECRET_KEY": "bench",
            "LIVELOOP_LOG_LEVEL": "WARNING",
        }
        if backend == "sqlite":
            url = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        else:
            url = args.database_url
            await _recreate_postgres(url)
        env["LIVELOOP_DATABASE_URL"] = url
        if backend == "postgres+redis":
            env["LIVELOOP_REDIS_URL"] = args.redis_url
            from redis.asyncio import Redis

            r = Redis.from_url(args.redis_url)
            await r.flushdb()
            await r.aclose()
        else:
            env.pop("LIVELOOP_REDIS_URL", None)
        print(
            f"preparing {args.buyers} buyers and a sale of {args.stock} on {backend}…", flush=True
        )
        path, tokens = await prepare(url, buyers=args.buyers, stock=args.stock)
        port = _free_port()
        server = subprocess.Popen(  # noqa: ASYNC220
            [
                sys.executable,
                "-m",
                "uvicorn",
                "liveloop.app:create_app",
                "--factory",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workers",
                str(args.workers),
                "--no-access-log",
                "--log-level",
                "warning",
            ],
            env=env,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(200):
                try:
                    async with httpx.AsyncClient() as probe:
                        ready = await probe.get(f"{base}/healthz", timeout=1)
                    if ready.status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.1)
            ceiling_lat, _, ceiling_time = await rush(base, "/healthz", tokens, spread=args.spread)
            latencies, statuses, elapsed = await rush(base, path, tokens, spread=args.spread)
        finally:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
        engine = create_engine(url)
        async with create_sessionmaker(engine)() as session:
            claimed = await session.scalar(
                select(FlashSale.claimed).where(
                    FlashSale.id == uuid.UUID(os.environ["_BENCH_SALE"])
                )
            )
            available = await inventory.available(session, uuid.UUID(os.environ["_BENCH_VARIANT"]))
            users = await session.scalar(select(func.count()).select_from(User))
        await engine.dispose()
    sold = sum(1 for s in statuses if s == 201)
    refused = {s: statuses.count(s) for s in set(statuses) if s != 201}
    oversold = (
        max(0, sold - args.stock)
        + max(0, int(claimed or 0) - args.stock)
        + (1 if available < 0 else 0)
    )
    rate = len(tokens) / elapsed
    ceiling = len(tokens) / ceiling_time
    print(f"buyers {users}; answers: 201 x{sold}, others {refused}")
    print(
        f"claims: {elapsed:.2f} s for all answers, p50 {statistics.median(latencies):.1f} ms, p99 {_p99(latencies):.1f} ms"
    )
    print(f"ceiling (/healthz, same load): {ceiling_time:.2f} s, p99 {_p99(ceiling_lat):.1f} ms")
    print(f"sale counter {claimed}, stock still available {available}")
    return (
        f"RESULT flash_sale backend={backend} buyers={args.buyers} stock={args.stock} sold={sold} "
        f"oversold={oversold} p99_ms={_p99(latencies):.1f} reservations_per_s={rate:.0f} ceiling_per_s={ceiling:.0f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--buyers", type=int, default=5000)
    parser.add_argument("--stock", type=int, default=500)
    parser.add_argument(
        "--backend", choices=["sqlite", "postgres", "postgres+redis"], default="sqlite"
    )
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument(
        "--spread", type=float, default=1.0, help="seconds over which buyers arrive"
    )
    parser.add_argument(
        "--database-url", default="postgresql+asyncpg://postgres@127.0.0.1:5432/liveloop_bench"
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/6")
    args = parser.parse_args()
    if args.buyers < 1 or args.stock < 1:
        parser.error("--buyers and --stock must be at least 1")
    if args.workers > 1 and args.backend != "postgres+redis":
        parser.error("several workers need --backend postgres+redis")
    print(asyncio.run(main_async(args)))


if __name__ == "__main__":
    main()
