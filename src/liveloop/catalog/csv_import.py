"""Catalog import from a flat CSV file (one row per variant), as sellers export it from another
marketplace. The columns are documented in docs/CATALOG_IMPORT.md.

The whole file is read and checked first; then the good rows are written in batches, creating
or updating variants by SKU. A row is written whole or not at all, and so is a product: when
one row of a product is bad, none of that product's rows are written (each is reported). With
`atomic`, nothing at all is written when any row is bad. Existing SKUs and handles of the shop
are loaded once, so the cost does not grow with per-row queries.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from liveloop.catalog import events
from liveloop.catalog import repository as repo
from liveloop.catalog import service as catalog_service
from liveloop.catalog.errors import ImportFileRefused, ImportRowsRefused
from liveloop.catalog.models import Listing, ListingStatus, Product, Variant
from liveloop.catalog.schemas import Barcode, CategoryId, Handle, HsCode, Sku
from liveloop.kit import outbox
from liveloop.kit.db import new_id, utcnow
from liveloop.kit.errors import field_error
from liveloop.kit.money import Money, MoneyError
from liveloop.kit.validation import CountryCode, CurrencyCode

REQUIRED = (
    "sku",
    "product_handle",
    "title",
    "category",
    "price",
    "currency",
    "weight_g",
    "length_mm",
    "width_mm",
    "height_mm",
    "hs_code",
    "origin_country",
    "customs_description",
)
OPTIONAL = (
    "description",
    "brand",
    "option1_name",
    "option1_value",
    "option2_name",
    "option2_value",
    "barcode",
    "contains_battery",
    "contains_liquid",
    "age_restricted",
)
COLUMNS = REQUIRED + OPTIONAL
PRODUCT_COLUMNS = ("title", "description", "brand", "category", "option1_name", "option2_name")
MAX_ROWS = 50_000
BATCH = 1000

Progress = Callable[[str, int, int], None]
"""`(phase, done, total)`: phase is "checking" or "writing"."""


class ImportRow(BaseModel):
    """One row as the file has it (blank cells are None)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    sku: Sku
    product_handle: Handle
    title: str | None = Field(default=None, max_length=200)
    description: str | None = Field(default=None, max_length=20000)
    brand: str | None = Field(default=None, max_length=100)
    category: CategoryId | None = None
    option1_name: str | None = Field(default=None, max_length=50)
    option1_value: str | None = Field(default=None, max_length=100)
    option2_name: str | None = Field(default=None, max_length=50)
    option2_value: str | None = Field(default=None, max_length=100)
    price: Decimal
    currency: CurrencyCode
    weight_g: int = Field(gt=0)
    length_mm: int = Field(gt=0)
    width_mm: int = Field(gt=0)
    height_mm: int = Field(gt=0)
    barcode: Barcode | None = None
    hs_code: HsCode
    origin_country: CountryCode
    customs_description: str = Field(min_length=1, max_length=200)
    contains_battery: bool = False
    contains_liquid: bool = False
    age_restricted: bool = False


@dataclass(frozen=True, slots=True)
class RowError:
    row: int
    column: str
    reason: str


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    failed: int = 0
    products_created: int = 0
    atomic: bool = False
    errors: list[RowError] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "created": self.created,
            "updated": self.updated,
            "failed": self.failed,
            "products_created": self.products_created,
            "atomic": self.atomic,
            "errors": [{"row": e.row, "column": e.column, "reason": e.reason} for e in self.errors],
        }


@dataclass
class _Good:
    row: int
    data: ImportRow
    price: int
    options: list[str]


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ImportFileRefused(
            f"The file is not UTF-8 text (line {line}, byte {exc.start}); "
            "save it as 'CSV UTF-8' and try again.",
            code="bad_encoding",
            errors=[field_error("file", f"invalid UTF-8 at line {line}", code="bad_encoding")],
        ) from exc


def read_rows(data: bytes) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """The header and the data rows with their row numbers (the header is row 1)."""
    text = _decode(data)
    try:
        records = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise ImportFileRefused(
            f"The file is not readable CSV: {exc}.",
            code="bad_csv",
            errors=[field_error("file", str(exc), code="bad_csv")],
        ) from exc
    if not records or not any(cell.strip() for cell in records[0]):
        raise ImportFileRefused(
            "The file is empty; its first row must be the header.",
            code="bad_header",
            errors=[field_error("header", "missing", code="missing")],
        )
    header = [h.strip().lower() for h in records[0]]
    problems = []
    missing = [c for c in REQUIRED if c not in header]
    unknown = [h for h in header if h not in COLUMNS]
    repeated = sorted({h for h in header if header.count(h) > 1})
    if missing:
        problems.append(
            field_error("header", f"missing columns: {', '.join(missing)}", code="missing")
        )
    if unknown:
        problems.append(
            field_error("header", f"unknown columns: {', '.join(unknown)}", code="unknown")
        )
    if repeated:
        problems.append(
            field_error("header", f"repeated columns: {', '.join(repeated)}", code="repeated")
        )
    if problems:
        raise ImportFileRefused(
            "The header is not the documented one; see `errors` and docs/CATALOG_IMPORT.md.",
            code="bad_header",
            errors=problems,
        )
    rows = [(n, r) for n, r in enumerate(records[1:], start=2) if any(c.strip() for c in r)]
    if len(rows) > MAX_ROWS:
        raise ImportFileRefused(
            f"The file has {len(rows)} rows; split it into files of at most {MAX_ROWS}.",
            code="too_many_rows",
        )
    return header, rows


def _check_row(header: list[str], number: int, cells: list[str]) -> _Good | list[RowError]:
    if len(cells) != len(header):
        return [RowError(number, "*", f"has {len(cells)} fields; the header has {len(header)}")]
    raw = {h: (c.strip() or None) for h, c in zip(header, cells, strict=True)}
    for flag in ("contains_battery", "contains_liquid", "age_restricted"):
        if raw.get(flag) is None:
            raw.pop(flag, None)
    try:
        data = ImportRow.model_validate(raw)
    except ValidationError as exc:
        return [
            RowError(number, str(e["loc"][0]) if e["loc"] else "*", e["msg"]) for e in exc.errors()
        ]
    errors = []
    price = 0
    try:
        price = Money.from_decimal(data.price, data.currency).amount
    except MoneyError as exc:
        errors.append(RowError(number, "price", str(exc)))
    else:
        if price <= 0:
            errors.append(RowError(number, "price", "must be more than zero"))
    options = [v for v in (data.option1_value, data.option2_value) if v is not None]
    return errors or _Good(number, data, price, options)


def _product_errors(
    handle: str,
    rows: list[_Good],
    existing_product: Product | None,
    skus: dict[str, tuple[uuid.UUID, uuid.UUID]],
) -> list[RowError]:
    """Checks across the rows of one product, and against what the shop already has."""
    first = rows[0]
    errors = []
    for good in rows[1:]:
        for name in PRODUCT_COLUMNS:
            value, expected = getattr(good.data, name), getattr(first.data, name)
            if value is not None and value != expected:
                errors.append(
                    RowError(
                        good.row,
                        name,
                        f"differs from row {first.row}, the first row of product {handle}",
                    )
                )
        if good.data.currency != first.data.currency:
            errors.append(
                RowError(good.row, "currency", f"differs from row {first.row}: one per product")
            )
    if first.data.title is None and existing_product is None:
        errors.append(RowError(first.row, "title", "required on a new product's first row"))
    if first.data.category is None and existing_product is None:
        errors.append(RowError(first.row, "category", "required on a new product's first row"))
    names = [n for n in (first.data.option1_name, first.data.option2_name) if n is not None]
    if existing_product is not None and names and names != existing_product.option_names:
        errors.append(
            RowError(
                first.row,
                "option1_name",
                f"the product's options are {existing_product.option_names}",
            )
        )
    expected_names = existing_product.option_names if existing_product and not names else names
    combinations: dict[tuple[str, ...], int] = {}
    for good in rows:
        if len(good.options) != len(expected_names):
            column = f"option{min(len(good.options), len(expected_names)) + 1}_value"
            errors.append(
                RowError(good.row, column, f"needs one value per option {expected_names}")
            )
        key = tuple(good.options)
        if key in combinations and expected_names:
            errors.append(
                RowError(good.row, "option1_value", f"same options as row {combinations[key]}")
            )
        combinations.setdefault(key, good.row)
        owner = skus.get(good.data.sku)
        if owner is not None and (existing_product is None or owner[1] != existing_product.id):
            errors.append(
                RowError(good.row, "product_handle", "the SKU belongs to another product")
            )
    return errors


async def import_catalog(
    session: AsyncSession,
    shop_id: uuid.UUID,
    data: bytes,
    *,
    actor: str,
    atomic: bool = False,
    progress: Progress | None = None,
) -> ImportReport:
    """Check the file, then create or update the good rows; flushes, never commits."""
    header, rows = read_rows(data)
    total = len(rows)
    report = ImportReport(atomic=atomic)
    bad_rows: set[int] = set()
    rows_of_handle: dict[str, list[int]] = {}  # every row of a product, good or bad
    goods_of_handle: dict[str, list[_Good]] = {}
    handle_at = header.index("product_handle")
    for done, (number, cells) in enumerate(rows, start=1):
        handle = cells[handle_at].strip() if handle_at < len(cells) else ""
        if handle:
            rows_of_handle.setdefault(handle, []).append(number)
        checked = _check_row(header, number, cells)
        if isinstance(checked, list):
            report.errors += checked
            bad_rows.add(number)
        else:
            goods_of_handle.setdefault(checked.data.product_handle, []).append(checked)
        if progress and (done % BATCH == 0 or done == total):
            progress("checking", done, total)
    # A SKU repeated inside the file: the later rows are the errors.
    seen_skus: dict[str, int] = {}
    for good in sorted((g for gs in goods_of_handle.values() for g in gs), key=lambda g: g.row):
        if good.data.sku in seen_skus:
            report.errors.append(
                RowError(good.row, "sku", f"repeats the SKU of row {seen_skus[good.data.sku]}")
            )
            bad_rows.add(good.row)
        else:
            seen_skus[good.data.sku] = good.row

    skus = await repo.skus_of_shop(session, shop_id)
    handles = await repo.handles_of_shop(session, shop_id)
    existing = await repo.get_products(
        session, [handles[h] for h in goods_of_handle if h in handles]
    )
    product_of_handle = {h: existing[handles[h]] for h in goods_of_handle if h in handles}
    writable: dict[str, list[_Good]] = {}
    for handle, goods in goods_of_handle.items():
        problems = _product_errors(handle, goods, product_of_handle.get(handle), skus)
        report.errors += problems
        bad_rows |= {p.row for p in problems}
        every_row = rows_of_handle.get(handle, [g.row for g in goods])
        failed = [r for r in every_row if r in bad_rows]
        if failed:
            listed = ", ".join(str(r) for r in failed)
            for r in every_row:
                if r not in bad_rows:
                    report.errors.append(
                        RowError(
                            r,
                            "product_handle",
                            f"not imported: product {handle} has invalid rows ({listed})",
                        )
                    )
            bad_rows |= set(every_row)
            continue
        writable[handle] = goods
    report.errors.sort(key=lambda e: (e.row, e.column))
    report.failed = len(bad_rows)
    if atomic and bad_rows:
        raise ImportRowsRefused(
            f"{len(bad_rows)} of {total} rows are invalid; with atomic import nothing was written.",
            report=report.as_dict(),
        )
    await _write(session, shop_id, writable, product_of_handle, skus, report, progress)
    outbox.record(
        session,
        events.CATALOG_IMPORTED,
        aggregate_type="shop",
        aggregate_id=shop_id,
        payload={
            "shop_id": shop_id,
            "created": report.created,
            "updated": report.updated,
            "failed": report.failed,
            "products_created": report.products_created,
        },
        actor_id=actor,
    )
    return report


async def _write(
    session: AsyncSession,
    shop_id: uuid.UUID,
    writable: dict[str, list[_Good]],
    product_of_handle: dict[str, Product],
    skus: dict[str, tuple[uuid.UUID, uuid.UUID]],
    report: ImportReport,
    progress: Progress | None,
) -> None:
    now = utcnow()
    new_products: list[dict[str, Any]] = []
    changed_products: list[dict[str, Any]] = []
    new_variants: list[dict[str, Any]] = []
    changed_variants: list[dict[str, Any]] = []
    for handle, goods in writable.items():
        first = goods[0].data
        product = product_of_handle.get(handle)
        names = [n for n in (first.option1_name, first.option2_name) if n is not None]
        if product is None:
            product_id = new_id()
            new_products.append(
                {
                    "id": product_id,
                    "shop_id": shop_id,
                    "handle": handle,
                    "title": first.title,
                    "description": first.description or "",
                    "brand": first.brand,
                    "category": first.category,
                    "option_names": names,
                    "is_physical": True,
                    "compliance_documents": [],
                    "created_at": now,
                    "updated_at": now,
                }
            )
        else:
            product_id = product.id
            changes: dict[str, Any] = {"id": product_id, "updated_at": now}
            for name in ("title", "description", "brand", "category"):
                value = getattr(first, name)
                if value is not None:
                    changes[name] = value
            changed_products.append(changes)
        for good in goods:
            d = good.data
            values = {
                "option_values": good.options,
                "price": good.price,
                "currency": d.currency,
                "weight_g": d.weight_g,
                "length_mm": d.length_mm,
                "width_mm": d.width_mm,
                "height_mm": d.height_mm,
                "barcode": d.barcode,
                "hs_code": d.hs_code,
                "origin_country": d.origin_country,
                "customs_description": d.customs_description,
                "contains_battery": d.contains_battery,
                "contains_liquid": d.contains_liquid,
                "age_restricted": d.age_restricted,
                "updated_at": now,
            }
            if d.sku in skus:
                changed_variants.append({"id": skus[d.sku][0], **values})
            else:
                new_variants.append(
                    {
                        "id": new_id(),
                        "product_id": product_id,
                        "shop_id": shop_id,
                        "sku": d.sku,
                        "created_at": now,
                        **values,
                    }
                )
    total = len(new_variants) + len(changed_variants)
    done = 0
    for start in range(0, len(new_products), BATCH):
        await session.execute(insert(Product), new_products[start : start + BATCH])
    for start in range(0, len(changed_products), BATCH):
        await session.execute(update(Product), changed_products[start : start + BATCH])
    for batch_rows, statement in ((new_variants, insert(Variant)), (changed_variants, None)):
        for start in range(0, len(batch_rows), BATCH):
            chunk = batch_rows[start : start + BATCH]
            await session.execute(statement if statement is not None else update(Variant), chunk)
            done += len(chunk)
            if progress:
                progress("writing", done, total)
    report.created = len(new_variants)
    report.updated = len(changed_variants)
    report.products_created = len(new_products)
    touched = [p["id"] for p in changed_products]
    if touched:
        active = await session.scalar(
            select(Listing.id)
            .where(Listing.product_id.in_(touched), Listing.status == ListingStatus.active)
            .limit(1)
        )
        if active is not None:
            for product in (await repo.get_products(session, touched)).values():
                await session.refresh(product)
                await catalog_service.recheck_product(
                    session, product, actor="import", why="the catalog import changed it"
                )
