"""Catalog import: good rows are created or updated by SKU, bad rows reported (row, column,
reason) and never half-written, `atomic` writes nothing, bad files are refused whole; through
the service, the API upload and the CLI."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from bench.catalog_import import generate_csv
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from typer.testing import CliRunner

from liveloop import migrations
from liveloop.catalog import csv_import
from liveloop.catalog.errors import ImportFileRefused, ImportRowsRefused
from liveloop.catalog.models import Product, Shop, Variant
from liveloop.kit.db import create_engine, create_sessionmaker
from tests.conftest import MakeUser, assert_problem
from tests.integration.catalog.conftest import make_stocked, shop_body


def row(sku: str, handle: str, **values: str) -> dict[str, str]:
    base = {
        "sku": sku,
        "product_handle": handle,
        "title": f"Music box {handle}",
        "category": "home.music-boxes",
        "option1_name": "Tune",
        "option1_value": sku,
        "price": "89.00",
        "currency": "CNY",
        "weight_g": "450",
        "length_mm": "120",
        "width_mm": "90",
        "height_mm": "80",
        "hs_code": "920810",
        "origin_country": "CN",
        "customs_description": "Wooden music box",
    }
    base.update(values)
    return base


def to_csv(rows: list[dict[str, str]], columns: tuple[str, ...] = csv_import.COLUMNS) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    for r in rows:
        writer.writerow([r.get(c, "") for c in columns])
    return out.getvalue().encode()


async def _count(session: AsyncSession, shop_id: Any) -> tuple[int, int]:
    products = await session.scalar(
        select(func.count()).select_from(Product).where(Product.shop_id == shop_id)
    )
    variants = await session.scalar(
        select(func.count()).select_from(Variant).where(Variant.shop_id == shop_id)
    )
    return products or 0, variants or 0


MIXED = [
    row("A-1", "alpha"),
    row("A-2", "alpha", title="", category=""),
    row("B-1", "beta", price="-5"),  # bad: the whole of beta is refused
    row("B-2", "beta"),
    row("C-1", "gamma", hs_code="12345"),
    row("D-1", "delta", category="weapons", weight_g=""),
    row("A-1", "alpha-two"),  # repeats a SKU of the file
    row("E-1", "epsilon", currency="GBP", price="12.345"),
]


async def test_good_rows_import_and_bad_rows_are_reported_without_a_trace(
    session: AsyncSession,
) -> None:
    stocked = await make_stocked(session)
    shop_id = stocked.shop.id
    before = await _count(session, shop_id)
    report = await csv_import.import_catalog(session, shop_id, to_csv(MIXED), actor="test")
    assert (report.created, report.updated, report.products_created, report.failed) == (2, 0, 1, 6)
    assert [(e.row, e.column, e.reason) for e in report.errors] == [
        (4, "price", "must be more than zero"),
        (5, "product_handle", "not imported: product beta has invalid rows (4)"),
        (6, "hs_code", "Value error, '12345' is not an HS code: 6 to 10 digits, no dots or spaces"),
        (
            7,
            "category",
            "Value error, 'weapons' is not a category of the taxonomy (e.g. 'home.music-boxes')",
        ),
        (7, "weight_g", "Input should be a valid integer"),
        (8, "sku", "repeats the SKU of row 2"),
        (9, "price", "12.345 has more than 2 decimal places for GBP"),
    ]
    assert await _count(session, shop_id) == (before[0] + 1, before[1] + 2)
    alpha = await session.scalar(
        select(Product).where(Product.shop_id == shop_id, Product.handle == "alpha")
    )
    assert alpha is not None
    assert (alpha.title, alpha.option_names) == ("Music box alpha", ["Tune"])
    assert await session.scalar(select(Product).where(Product.handle == "beta")) is None

    # the same SKUs again update in place
    again = await csv_import.import_catalog(
        session,
        shop_id,
        to_csv([row("A-1", "alpha", price="99.00"), row("A-3", "alpha")]),
        actor="test",
    )
    assert (again.created, again.updated, again.failed) == (1, 1, 0)
    price = await session.scalar(
        select(Variant.price).where(Variant.shop_id == shop_id, Variant.sku == "A-1")
    )
    assert price == 9900
    moved = await csv_import.import_catalog(
        session, shop_id, to_csv([row("A-1", "other")]), actor="test"
    )
    assert [(e.row, e.column) for e in moved.errors] == [(2, "product_handle")]


async def test_atomic_import_writes_nothing_when_a_row_is_bad(session: AsyncSession) -> None:
    stocked = await make_stocked(session)
    before = await _count(session, stocked.shop.id)
    with pytest.raises(ImportRowsRefused) as refused:
        await csv_import.import_catalog(
            session, stocked.shop.id, to_csv(MIXED), actor="test", atomic=True
        )
    assert refused.value.extra["report"]["failed"] == 6
    assert refused.value.extra["report"]["created"] == 0
    assert await _count(session, stocked.shop.id) == before


async def test_a_thousand_bad_rows_are_all_reported(session: AsyncSession) -> None:
    stocked = await make_stocked(session)
    rows = [row(f"X-{i}", f"bad-{i}", hs_code="000000") for i in range(1000)]
    report = await csv_import.import_catalog(session, stocked.shop.id, to_csv(rows), actor="test")
    assert (report.created, report.failed, len(report.errors)) == (0, 1000, 1000)
    assert {(e.column, e.reason) for e in report.errors} == {
        ("hs_code", "Value error, 000000 is not an HS 2022 subheading")
    }
    assert [e.row for e in report.errors] == list(range(2, 1002))


async def test_the_file_itself_is_refused_with_a_clear_reason(session: AsyncSession) -> None:
    stocked = await make_stocked(session)
    shop_id = stocked.shop.id
    wrong = to_csv([row("A-1", "alpha")], columns=("sku", "handle", "title", "colour"))
    with pytest.raises(ImportFileRefused) as header:
        await csv_import.import_catalog(session, shop_id, wrong, actor="test")
    assert header.value.code == "bad_header"
    assert [e["message"] for e in header.value.errors] == [
        "missing columns: product_handle, category, price, currency, weight_g, length_mm, "
        "width_mm, height_mm, hs_code, origin_country, customs_description",
        "unknown columns: handle, colour",
    ]
    latin1 = to_csv([row("A-1", "alpha", title="Boîte à musique")]).decode().encode("latin-1")
    with pytest.raises(ImportFileRefused) as encoding:
        await csv_import.import_catalog(session, shop_id, latin1, actor="test")
    assert encoding.value.code == "bad_encoding"
    assert encoding.value.detail.startswith("The file is not UTF-8 text (line 2, byte ")
    with pytest.raises(ImportFileRefused) as empty:
        await csv_import.import_catalog(session, shop_id, b"", actor="test")
    assert empty.value.code == "bad_header"
    assert await _count(session, shop_id) == (1, 1)


async def test_ten_thousand_rows_import(session: AsyncSession) -> None:
    stocked = await make_stocked(session)
    report = await csv_import.import_catalog(
        session, stocked.shop.id, generate_csv(10_000), actor="bench"
    )
    assert (report.created, report.products_created, report.failed) == (10_000, 4000, 0)
    assert await _count(session, stocked.shop.id) == (4001, 10_001)


async def test_upload_through_the_api(client: httpx.AsyncClient, make_user: MakeUser) -> None:
    lin = await make_user(country="CN")
    shop = (
        await client.post("/api/v1/shops", json=shop_body("import-shop"), headers=lin.headers)
    ).json()
    url = f"/api/v1/shops/{shop['id']}/catalog/imports"
    files = {"file": ("export.csv", to_csv(MIXED), "text/csv")}
    refused = await client.post(url, files=files, data={"atomic": "true"}, headers=lin.headers)
    body = assert_problem(refused, 422, "import_rows_refused")
    assert body["report"]["failed"] == 6
    assert len(body["report"]["errors"]) == 7
    listed = await client.get(f"/api/v1/shops/{shop['id']}/products", headers=lin.headers)
    assert listed.json()["items"] == []
    imported = await client.post(url, files=files, headers=lin.headers)
    assert imported.status_code == 200
    assert {k: imported.json()[k] for k in ("created", "updated", "failed")} == {
        "created": 2,
        "updated": 0,
        "failed": 6,
    }
    assert imported.json()["errors"][0] == {
        "row": 4,
        "column": "price",
        "reason": "must be more than zero",
    }
    bad_header = await client.post(
        url, files={"file": ("x.csv", b"sku,colour\nA,red\n", "text/csv")}, headers=lin.headers
    )
    assert assert_problem(bad_header, 422, "bad_header")["errors"][0]["field"] == "header"
    other = await make_user()
    assert_problem(
        await client.post(url, files=files, headers=other.headers), 404, "shop_not_found"
    )


def test_cli_imports_with_a_progress_bar_and_reports_bad_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from liveloop.cli import app
    from liveloop.kit.settings import get_settings

    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    migrations.upgrade(url)

    async def setup() -> None:
        engine = create_engine(url)
        async with create_sessionmaker(engine)() as session:
            data = shop_body("cli-shop")
            session.add(
                Shop(
                    slug="cli-shop",
                    legal_name=data["legal_name"],
                    display_name="CLI",
                    origin_country="CN",
                    business_address=data["business_address"],
                    payout_currency="CNY",
                    ships_to=["GB"],
                )
            )
            await session.commit()
        await engine.dispose()

    async def variants() -> int:
        engine = create_engine(url)
        async with create_sessionmaker(engine)() as session:
            count = await session.scalar(select(func.count()).select_from(Variant))
        await engine.dispose()
        return count or 0

    asyncio.run(setup())
    monkeypatch.setenv("LIVELOOP_DATABASE_URL", url)
    monkeypatch.setenv("LIVELOOP_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("LIVELOOP_SECRET_KEY", "cli-test-secret")
    get_settings.cache_clear()
    file = tmp_path / "export.csv"
    file.write_bytes(to_csv(MIXED))
    report_file = tmp_path / "report.json"
    runner = CliRunner()
    try:
        atomic = runner.invoke(
            app, ["catalog", "import", str(file), "--shop", "cli-shop", "--atomic"]
        )
        assert atomic.exit_code == 1
        assert "6 of 8 rows are invalid; with atomic import nothing was written." in atomic.output
        assert asyncio.run(variants()) == 0
        result = runner.invoke(
            app,
            ["catalog", "import", str(file), "--shop", "cli-shop", "--report", str(report_file)],
        )
        assert result.exit_code == 1
        assert "created 2, updated 0 (1 new products); failed 6" in result.output
        assert "checking" in result.output and "writing" in result.output
        assert json.loads(report_file.read_text())["errors"][0] == {
            "row": 4,
            "column": "price",
            "reason": "must be more than zero",
        }
        assert asyncio.run(variants()) == 2
        missing = runner.invoke(app, ["catalog", "import", str(file), "--shop", "nobody"])
        assert missing.exit_code == 2
        assert "No such shop." in missing.output
    finally:
        get_settings.cache_clear()


async def test_api_takes_a_ten_thousand_row_file(
    client: httpx.AsyncClient, make_user: MakeUser
) -> None:
    """Catalog files have their own body limit: a 10,000-row export (about 2 MB) goes through."""
    owner = await make_user(country="CN")
    shop = (
        await client.post("/api/v1/shops", json=shop_body("big-import"), headers=owner.headers)
    ).json()
    data = generate_csv(10_000)
    assert len(data) > 1_048_576
    response = await client.post(
        f"/api/v1/shops/{shop['id']}/catalog/imports",
        files={"file": ("export.csv", data, "text/csv")},
        headers=owner.headers,
    )
    assert response.status_code == 200, response.text[:500]
    assert {k: response.json()[k] for k in ("created", "failed")} == {
        "created": 10_000,
        "failed": 0,
    }
