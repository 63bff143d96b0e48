"""The home page shows who is live, what starts soon in the viewer's zone, and what is on sale."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from liveloop.bootstrap import Container
from liveloop.catalog.seed import seed_catalog
from liveloop.demo import SeedReport, seed_users
from liveloop.live.demo import DEMO_TITLE, seed_live


async def test_home_lists_the_live_room_and_products(
    client: httpx.AsyncClient, container: Container, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    report = SeedReport()
    for step in (seed_users, seed_catalog, seed_live):
        async with sessionmaker() as session:
            await step(session, container, report)
            await session.commit()
    page = await client.get("/?market=GB")
    assert page.status_code == 200
    assert DEMO_TITLE.replace("&", "&amp;") in page.text
    assert "On sale in GB" in page.text
    assert "£" in page.text
    assert "lin@melody-box.demo" in page.text  # demo logins outside production
