"""The demo room a newcomer meets after `make run`, and the live pages."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from liveloop.bootstrap import Container
from liveloop.catalog.seed import seed_catalog
from liveloop.demo import SeedReport, seed_users
from liveloop.kit.db import commit
from liveloop.live import demo as live_demo
from tests.conftest import MakeUser


async def _seed(container: Container, sessionmaker: async_sessionmaker[AsyncSession]) -> SeedReport:
    report = SeedReport()
    for step in (seed_users, seed_catalog, live_demo.seed_live, live_demo.seed_live):
        async with sessionmaker() as session:
            await step(session, container, report)
            await session.commit()
    return report


async def test_demo_room_is_live_and_the_demo_host_pins_and_runs_a_flash_sale(
    container: Container, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    report = await _seed(container, sessionmaker)
    assert report.created["live sessions"] == 1  # seeding twice made one session
    async with sessionmaker() as session:
        live = await live_demo.demo_session(session)
        assert live is not None
        assert live.markets == ["DE", "GB", "SG", "US"]
        bag = await container.live.bag(session, live.id)
        assert len(bag) >= 3
        for turn in range(3):
            await live_demo._host_turn(session, container, turn)
            await commit(session)
        pin = await container.live.current_pin(session, live.id)
        assert pin is not None and pin.product_id == bag[2].product_id
        sale = await container.live.flash.current(session, live.id)
        assert sale is not None and sale.product_id == bag[2].product_id
        assert sale.quantity == 5
        assert sorted(sale.deal_prices) == ["EUR", "GBP", "SGD", "USD"]


async def test_room_page_and_host_console(
    client: httpx.AsyncClient,
    container: Container,
    sessionmaker: async_sessionmaker[AsyncSession],
    make_user: MakeUser,
) -> None:
    await _seed(container, sessionmaker)
    async with sessionmaker() as session:
        live = await live_demo.demo_session(session)
        assert live is not None
    page = await client.get(f"/live/{live.id}")
    assert page.status_code == 200
    assert 'id="room"' in page.text and 'data-market="GB"' in page.text
    assert "/static/js/room.js" in page.text
    german = await client.get(f"/live/{live.id}", headers={"Accept-Language": "de-DE,de;q=0.9"})
    assert 'data-market="DE"' in german.text
    us_page = await client.get(f"/live/{live.id}?market=US")
    assert 'data-market="US"' in us_page.text

    anonymous = await client.get(f"/live/{live.id}/host", follow_redirects=False)
    assert anonymous.status_code == 303
    viewer = await make_user()
    other = await client.get(f"/live/{live.id}/host", headers=viewer.headers)
    assert other.status_code == 404
    login = await client.post(
        "/api/v1/auth/login",
        json={"email": "host@melody-box.demo", "password": "liveloop-demo-2026"},
    )
    console = await client.get(
        f"/live/{live.id}/host", headers={"Authorization": f"Bearer {login.json()['token']}"}
    )
    assert console.status_code == 200
    assert "Live numbers" in console.text and "/static/js/host.js" in console.text
