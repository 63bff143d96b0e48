"""`liveloop demo seed` builds the demo catalog once: shops, stock in Guangzhou and the UK,
exchange rates and active listings in GB, US, DE and SG; running it again adds nothing."""

from __future__ import annotations

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from liveloop import demo
from liveloop.bootstrap import Container
from liveloop.catalog.models import Listing, ListingStatus, StockLevel, Warehouse


async def test_demo_catalog_is_seeded_once(
    container: Container, session: AsyncSession, client: httpx.AsyncClient
) -> None:
    first = await demo.seed(container)
    assert {
        k: first.created[k]
        for k in ("shops", "products", "listings", "exchange rates", "warehouses")
    } == {
        "shops": 3,
        "products": 8,
        "listings": 32,
        "exchange rates": 4,
        "warehouses": 4,
    }
    second = await demo.seed(container)
    assert second.created == {}

    statuses = (
        await session.execute(
            select(Listing.market, Listing.status, func.count()).group_by(
                Listing.market, Listing.status
            )
        )
    ).all()
    assert sorted(statuses) == [(m, ListingStatus.active, 8) for m in ("DE", "GB", "SG", "US")]
    countries = set((await session.scalars(select(Warehouse.country))).all())
    assert countries == {"CN", "GB"}
    uk_units = await session.scalar(
        select(func.sum(StockLevel.on_hand))
        .join(Warehouse, Warehouse.id == StockLevel.warehouse_id)
        .where(Warehouse.country == "GB")
    )
    assert uk_units == 12 * 6

    page = await client.get("/api/v1/shops/melody-box")
    assert page.json()["display_name"] == "Melody Box Guangzhou"
    found = (await client.get("/api/v1/markets/GB/search", params={"q": "swan lake"})).json()
    [swan] = found["items"]
    # 89.00 CNY at 0.79/7.10 GBP per CNY = 9.90 -> rounded to .99
    assert (swan["price"], swan["price_display"], swan["ships_from"]) == (
        999,
        "£9.99",
        ["CN", "GB"],
    )
    sg = (await client.get("/api/v1/markets/SG/search", params={"q": "owl"})).json()
    assert [(i["price"], i["currency"]) for i in sg["items"]] == [(1290, "SGD")]
