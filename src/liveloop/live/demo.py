"""The demo live room: a session of the Guangzhou music-box shop that is live, and a demo host
that pins a product every few seconds and runs a flash sale now and then (for `make run`)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from liveloop.accounts.service import Principal
from liveloop.catalog import inventory
from liveloop.catalog import service as catalog_service
from liveloop.kit.db import commit, rollback, utcnow
from liveloop.kit.errors import LiveloopError
from liveloop.live.flash_sales import state_of
from liveloop.live.models import FlashSaleState, LiveSession, SessionState

if TYPE_CHECKING:
    from liveloop.bootstrap import Container
    from liveloop.demo import SeedReport

log = logging.getLogger("liveloop.live.demo")

DEMO_TITLE = "Music boxes & wizard-school figurines, live from Guangzhou"
HOST_EMAIL = "host@melody-box.demo"
SHOP_SLUG = "melody-box"
MARKETS = ["GB", "US", "DE", "SG"]


async def _host_principal(session: AsyncSession, container: Container) -> Principal | None:
    user = await container.accounts.get_user_by_email(session, HOST_EMAIL)
    if user is None:
        return None

    shops = await container.accounts.list_memberships(session, user.id)
    return Principal(
        kind="user",
        user_id=user.id,
        shop_roles={m.shop_id: m.role for m in shops},
        time_zone=user.time_zone,
        locale=user.locale,
        country=user.country,
    )


async def demo_session(session: AsyncSession) -> LiveSession | None:
    return await session.scalar(
        select(LiveSession)
        .where(LiveSession.title == DEMO_TITLE, LiveSession.state == SessionState.live)
        .order_by(LiveSession.started_at.desc())
        .limit(1)
    )


async def seed_live(session: AsyncSession, container: Container, report: SeedReport) -> None:
    """A live session of the demo shop with its products in the bag (kept live across runs)."""
    if await demo_session(session) is not None:
        return
    principal = await _host_principal(session, container)
    shop = await catalog_service.get_shop_by_slug_or_id(session, SHOP_SLUG)
    if principal is None:
        return
    local = utcnow().astimezone(ZoneInfo("Asia/Shanghai")).replace(tzinfo=None, microsecond=0)
    live = await container.live.schedule(
        session,
        principal,
        title=DEMO_TITLE,
        description="Hand-cranked music boxes and collectible figurines, shipped from Guangzhou "
        "with duties included.",
        shop_id=shop.id,
        partner_shop_ids=[],
        markets=MARKETS,
        start_local=local,
        end_local=local + timedelta(hours=8),
        time_zone="Asia/Shanghai",
    )
    products = await catalog_service.list_products_of_shop(session, shop.id)
    await container.live.add_to_bag(session, live.id, principal, [p.id for p in products])
    await container.live.go_live(session, live.id, actor_id=principal.user_id, reason="demo")
    report.add("live sessions")


async def run_demo_host(container: Container, stop: asyncio.Event, every: float = 8.0) -> None:
    """Pin the next bag product every `every` seconds; start a flash sale when none runs."""
    turn = 0
    while not stop.is_set():
        async with container.sessionmaker() as session:
            try:
                await _host_turn(session, container, turn)
                await commit(session)
            except LiveloopError as exc:
                await rollback(session)
                log.info("demo host skipped a turn: %s", exc.detail)
            except Exception:
                await rollback(session)
                log.exception("demo host failed")
        turn += 1
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=every)


async def _host_turn(session: AsyncSession, container: Container, turn: int) -> None:
    live = await demo_session(session)
    principal = await _host_principal(session, container)
    if live is None or principal is None:
        return
    bag = await container.live.bag(session, live.id)
    if not bag:
        return
    item = bag[turn % len(bag)]
    await container.live.pin(session, live.id, principal, item.product_id)
    if turn % 5 != 2:
        return
    current = await container.live.flash.current(session, live.id)
    if current is not None and state_of(current, utcnow()) in (
        FlashSaleState.scheduled,
        FlashSaleState.running,
    ):
        return
    [variant, *_] = await catalog_service.variants_of(session, item.product_id)
    if await inventory.available(session, variant.id) < 5:
        return
    prices = {}
    for market in live.markets:
        with contextlib.suppress(LiveloopError):
            listed = await catalog_service.price_of(session, variant.id, market)
            prices[listed.currency] = max(1, listed.amount * 7 // 10)
    if not prices:
        return
    await container.live.create_flash_sale(
        session,
        live.id,
        principal,
        product_id=item.product_id,
        variant_id=variant.id,
        deal_prices=prices,
        quantity=5,
        per_buyer_cap=1,
        countdown_seconds=15,
        duration_minutes=2,
    )


async def run_demo_stream(container: Container, stop: asyncio.Event) -> None:
    """Publish a simulated stream to the demo room while the server runs (when this machine has
    nginx with the RTMP module and ffmpeg, which `liveloop serve` then starts)."""
    from liveloop.media.nginx import missing_tools
    from liveloop.media.simulate import simulate

    if missing_tools(container.media.config):
        return
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=3)  # let nginx come up, or back
        if stop.is_set():
            return
        async with container.sessionmaker() as session:
            live = await demo_session(session)
        if live is None:
            continue
        try:
            publisher = asyncio.ensure_future(
                simulate(container.media, container.sessionmaker, live.id)
            )
            stopping = asyncio.ensure_future(stop.wait())
            await asyncio.wait({publisher, stopping}, return_when=asyncio.FIRST_COMPLETED)
            for task in (publisher, stopping):
                task.cancel()
        except Exception:
            log.exception("demo stream failed; retrying")
