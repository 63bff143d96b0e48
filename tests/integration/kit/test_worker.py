"""`liveloop worker` delivers committed events in its own process, woken through Redis."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from liveloop.kit import outbox
from liveloop.kit.outbox import OutboxEvent


@pytest.mark.postgres
@pytest.mark.redis
async def test_worker_process_delivers_events(
    committing_sessionmaker: async_sessionmaker[AsyncSession], tmp_path: object
) -> None:
    async with committing_sessionmaker() as session:
        row = outbox.record(
            session, "test.worker", aggregate_type="test", aggregate_id="w1", payload={"n": 1}
        )
        await session.commit()
        event_id = row.id
    env = {
        **os.environ,
        "LIVELOOP_DATABASE_URL": os.environ["LIVELOOP_TEST_DATABASE_URL"],
        "LIVELOOP_REDIS_URL": os.environ["LIVELOOP_TEST_REDIS_URL"],
        "LIVELOOP_VAR_DIR": str(tmp_path),
        "LIVELOOP_SECRET_KEY": "worker-test-secret",
    }
    worker = subprocess.Popen([sys.executable, "-m", "liveloop", "worker"], env=env)  # noqa: ASYNC220
    try:
        deadline = time.monotonic() + 30
        delivered = None
        while time.monotonic() < deadline:
            async with committing_sessionmaker() as session:
                delivered = await session.scalar(
                    select(OutboxEvent.delivered_at).where(OutboxEvent.id == event_id)
                )
            if delivered is not None:
                break
            await asyncio.sleep(0.1)
        assert delivered is not None
        assert worker.poll() is None  # still running, waiting for more
    finally:
        worker.terminate()
        assert worker.wait(timeout=15) == 0
