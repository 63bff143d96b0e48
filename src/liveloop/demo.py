"""`liveloop demo seed`: idempotent demo data across contexts (a flow, calling each service)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from liveloop.bootstrap import Container
from liveloop.catalog.seed import seed_catalog
from liveloop.checkout.seed import seed_orders
from liveloop.creators.seed import seed_creators
from liveloop.live.demo import seed_live
from liveloop.web.demo_accounts import DEMO_LOGINS


@dataclass
class SeedReport:
    created: dict[str, int] = field(default_factory=dict)

    def add(self, what: str, count: int = 1) -> None:
        self.created[what] = self.created.get(what, 0) + count


SeedStep = Callable[[AsyncSession, Container, SeedReport], Awaitable[None]]


async def seed_users(session: AsyncSession, container: Container, report: SeedReport) -> None:
    for login in DEMO_LOGINS:
        if await container.accounts.get_user_by_email(session, login.email) is not None:
            continue
        await container.accounts.create_user(
            session,
            email=login.email,
            password=login.password,
            display_name=login.display_name,
            country=login.country,
            time_zone=login.time_zone,
            locale=login.locale,
            is_platform_admin=login.is_platform_admin,
            is_creator=login.is_creator,
        )
        report.add("users")


STEPS: list[tuple[str, SeedStep]] = [
    ("users", seed_users),
    ("catalog", seed_catalog),
    ("live", seed_live),
    ("orders", seed_orders),
    ("creators", seed_creators),
]


async def seed(container: Container, on_step: Callable[[str], None] | None = None) -> SeedReport:
    """Run every step, each in its own transaction; running it again creates nothing new."""
    report = SeedReport()
    for name, step in STEPS:
        async with container.sessionmaker() as session:
            await step(session, container, report)
            await session.commit()
        if on_step:
            on_step(name)
    await container.dispatcher.drain()
    return report
