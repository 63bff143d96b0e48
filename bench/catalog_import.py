"""Times a catalog import: `python -m bench.catalog_import --rows 10000 [--database-url URL]`.

Generates a CSV file (products of one to four variants, as a marketplace export has them),
imports it into a freshly migrated database (SQLite by default) for a new shop, and prints the
timing; the last line is `RESULT catalog_import rows=N seconds=X rows_per_s=X`.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import tempfile
import time
from pathlib import Path

from sqlalchemy import text

from liveloop import migrations
from liveloop.catalog import csv_import
from liveloop.catalog.models import Shop
from liveloop.kit.db import create_engine, create_sessionmaker

TUNES = ["Swan Lake", "Fur Elise", "Clair de Lune", "Canon in D"]
CATEGORIES = [
    ("home.music-boxes", "920810", "Wooden music box"),
    ("toys-collectibles.figurines", "950300", "Resin figurine"),
    ("fashion.accessories", "621410", "Silk scarf"),
    ("home.decor", "442090", "Wooden ornament"),
]


def generate_csv(rows: int) -> bytes:
    """`rows` variant rows; every product has up to four tunes as its variants."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(csv_import.COLUMNS)
    n = 0
    product = 0
    while n < rows:
        category, hs_code, customs = CATEGORIES[product % len(CATEGORIES)]
        for tune in TUNES[: min(len(TUNES), rows - n, 1 + product % 4)]:
            values = {
                "sku": f"MB-{product:06d}-{tune.replace(' ', '').upper()[:6]}",
                "product_handle": f"product-{product:06d}",
                "title": f"Product {product} {customs.lower()}",
                "description": f"{customs} number {product}, hand finished.",
                "brand": "Melody Box",
                "category": category,
                "option1_name": "Tune",
                "option1_value": tune,
                "price": f"{59 + product % 90}.00",
                "currency": "CNY",
                "weight_g": str(200 + product % 500),
                "length_mm": "120",
                "width_mm": "90",
                "height_mm": "80",
                "hs_code": hs_code,
                "origin_country": "CN",
                "customs_description": customs,
                "contains_battery": "false",
            }
            writer.writerow([values.get(c, "") for c in csv_import.COLUMNS])
            n += 1
        product += 1
    return out.getvalue().encode("utf-8")


async def run(rows: int, database_url: str | None) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        url = database_url or f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        engine = create_engine(url)
        if database_url:
            async with engine.connect() as conn:
                await conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
                await conn.execute(text("CREATE SCHEMA public"))
                await conn.commit()
        async with engine.connect() as conn:
            await conn.run_sync(migrations.upgrade_on)
            await conn.commit()
        sessionmaker = create_sessionmaker(engine)
        async with sessionmaker() as session:
            shop = Shop(
                slug="bench-shop",
                legal_name="Bench Trading Co., Ltd.",
                display_name="Bench",
                origin_country="CN",
                business_address={"line1": "1 Road", "city": "Guangzhou", "country": "CN"},
                payout_currency="CNY",
                ships_to=["GB"],
            )
            session.add(shop)
            await session.commit()
        data = generate_csv(rows)
        started = time.perf_counter()
        async with sessionmaker() as session:
            report = await csv_import.import_catalog(session, shop.id, data, actor="bench")
            await session.commit()
        elapsed = time.perf_counter() - started
        await engine.dispose()
    assert report.created == rows and report.failed == 0, report.as_dict()
    print(
        f"imported {report.created} variants of {report.products_created} products "
        f"({len(data) / 1e6:.1f} MB) into {'PostgreSQL' if database_url else 'SQLite'}"
    )
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument(
        "--database-url",
        help="A PostgreSQL database to use (its public schema is dropped and rebuilt).",
    )
    args = parser.parse_args()
    seconds = asyncio.run(run(args.rows, args.database_url))
    print(
        f"RESULT catalog_import rows={args.rows} seconds={seconds:.2f} "
        f"rows_per_s={args.rows / seconds:.0f}"
    )


if __name__ == "__main__":
    main()
