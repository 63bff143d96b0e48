"""The fan-out benchmark through the live room itself: a seeded session, its host's real pin
endpoint (`POST /api/v1/live-sessions/{id}/pins`: a pin row written and committed, then the
broadcast) and the room's WebSocket, against the same bare `websockets` server.

    python -m bench.fanout_live --viewers 10000 [--workers 2]

One worker runs on a SQLite file; with --workers > 1 on PostgreSQL (`--database-url`, recreated)
and Redis (`--redis-url`). Every other option goes on to `bench.fanout`; its last line is the
RESULT line.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import uuid
from datetime import timedelta
from pathlib import Path

from tests.integration.live.conftest import running_sale

from liveloop import migrations
from liveloop.accounts.models import AuthSession, ShopMembership, ShopRole, User
from liveloop.accounts.service import hash_token
from liveloop.kit.db import create_engine, create_sessionmaker, utcnow


async def prepare(url: str) -> tuple[str, str, str]:
    """A live session of a stocked shop, its product in the bag, and its host signed in."""
    engine = create_engine(url)
    async with engine.connect() as conn:
        await conn.run_sync(migrations.upgrade_on)
        await conn.commit()
    async with create_sessionmaker(engine)() as session:
        host = User(
            email="host@bench.example",
            display_name="Host",
            password_hash="-",
            country="CN",
            time_zone="Asia/Shanghai",
            locale="en_GB",
        )
        session.add(host)
        await session.flush()
        made = await running_sale(session, quantity=1, stock=10, host_user_id=host.id)
        session.add(
            ShopMembership(shop_id=made.stocked.shop.id, user_id=host.id, role=ShopRole.staff)
        )
        token = f"lls_bench_{uuid.uuid4().hex}"
        session.add(
            AuthSession(
                user_id=host.id,
                token_hash=hash_token(token),
                expires_at=utcnow() + timedelta(days=1),
            )
        )
        await session.commit()
        room, product = str(made.live.id), str(made.stocked.product.id)
    await engine.dispose()
    return room, product, token


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument(
        "--database-url", default="postgresql+asyncpg://postgres@127.0.0.1:5432/liveloop_bench"
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/12")
    known, rest = parser.parse_known_args()
    with tempfile.TemporaryDirectory() as tmp:
        if known.workers > 1:
            from bench.flash_sale import _recreate_postgres

            url = known.database_url
            asyncio.run(_recreate_postgres(url))
        else:
            url = f"sqlite+aiosqlite:///{Path(tmp) / 'fanout.db'}"
        room, product, token = asyncio.run(prepare(url))
        os.environ.update(
            LIVELOOP_DATABASE_URL=url,
            LIVELOOP_VAR_DIR=tmp,
            LIVELOOP_SECRET_KEY="bench",
            LIVELOOP_LOG_LEVEL="WARNING",
            LIVELOOP_REALTIME_VIEWERS_INTERVAL="5",
        )
        sys.argv = [
            "bench.fanout",
            *rest,
            "--workers",
            str(known.workers),
            "--app",
            "liveloop.app:create_app",
            "--factory",
            "--room",
            room,
            "--ws-path",
            "/api/v1/live-sessions/{room}/room",
            "--trigger-path",
            "/api/v1/live-sessions/{room}/pins",
            "--trigger-header",
            f"Authorization: Bearer {token}",
            "--pin-product",
            product,
        ]
        if known.workers > 1:
            sys.argv += ["--redis-url", known.redis_url]
        from bench import fanout

        fanout.main()


if __name__ == "__main__":
    main()
