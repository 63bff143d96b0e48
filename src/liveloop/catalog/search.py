"""Text search over the active listings of a market, with filters, facet counts and cursors.

The text index is over products (title, brand, description): PostgreSQL full-text search with
the `simple` configuration (an expression GIN index the query repeats exactly), SQLite FTS5 (a
table kept in step by triggers). Both match every word of the query as a prefix. Results are
newest listing first; facets count listings per category and per country stock ships from, each
under every filter but its own.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Uuid, and_, column, func, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from liveloop.catalog.models import (
    Listing,
    ListingStatus,
    Product,
    Shop,
    StockLevel,
    Variant,
    Warehouse,
)
from liveloop.kit.pagination import PageParams, paginate

_PG_DOCUMENT = (
    "to_tsvector('simple', coalesce(products.title, '') || ' ' || coalesce(products.brand, '') "
    "|| ' ' || coalesce(products.description, ''))"
)
_IN_STOCK = (StockLevel.on_hand - StockLevel.reserved - StockLevel.allocated) > 0


@dataclass(frozen=True, slots=True)
class SearchFilters:
    q: str | None = None
    category: str | None = None
    min_price: int | None = None
    max_price: int | None = None
    ships_from: str | None = None


@dataclass(frozen=True, slots=True)
class Hit:
    listing: Listing
    product: Product
    shop: Shop
    ships_from: list[str]


@dataclass(frozen=True, slots=True)
class SearchResult:
    hits: list[Hit]
    next_cursor: str | None
    facets: dict[str, list[tuple[str, int]]]


def tokens(query: str) -> list[str]:
    return re.findall(r"\w+", query.lower())[:10]


def _text_match(dialect: str, words: list[str]) -> ColumnElement[bool]:
    if dialect == "postgresql":
        return text(f"{_PG_DOCUMENT} @@ to_tsquery('simple', :search_query)").bindparams(
            search_query=" & ".join(f"{w}:*" for w in words)
        )  # type: ignore[return-value]
    matching = text(
        "SELECT products.id FROM product_search "
        "JOIN products ON products.rowid = product_search.rowid "
        "WHERE product_search MATCH :search_query"
    ).bindparams(search_query=" ".join(f'"{w}"*' for w in words))
    return Product.id.in_(matching.columns(column("id", Uuid())))


def _ships_from(country: str) -> ColumnElement[bool]:
    return (
        select(StockLevel.variant_id)
        .join(Variant, Variant.id == StockLevel.variant_id)
        .join(Warehouse, Warehouse.id == StockLevel.warehouse_id)
        .where(Variant.product_id == Listing.product_id, _IN_STOCK, Warehouse.country == country)
        .exists()
    )


def _conditions(
    dialect: str, market: str, filters: SearchFilters, *, skip: str | None = None
) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = [
        Listing.market == market,
        Listing.status == ListingStatus.active,
    ]
    words = tokens(filters.q or "")
    if words:
        found.append(_text_match(dialect, words))
    if filters.category and skip != "category":
        found.append(
            or_(
                Product.category == filters.category,
                Product.category.like(filters.category + ".%"),
            )
        )
    if filters.min_price is not None:
        found.append(Listing.price >= filters.min_price)
    if filters.max_price is not None:
        found.append(Listing.price <= filters.max_price)
    if filters.ships_from and skip != "ships_from":
        found.append(_ships_from(filters.ships_from))
    return found


async def search(
    session: AsyncSession, market: str, filters: SearchFilters, params: PageParams
) -> SearchResult:
    dialect = session.get_bind().dialect.name
    stmt = (
        select(Listing)
        .join(Product, Product.id == Listing.product_id)
        .where(and_(*_conditions(dialect, market, filters)))
    )
    listings: list[Listing]
    listings, next_cursor = await paginate(
        session,
        stmt,  # type: ignore[arg-type]  # kit.paginate predates SQLAlchemy 2.1's Select[T]
        keys=[Listing.id],
        params=params,
        scope=f"search:{market}",
        descending=True,
    )
    product_ids = [lst.product_id for lst in listings]
    products = {
        p.id: p for p in (await session.scalars(select(Product).where(Product.id.in_(product_ids))))
    }
    shops = {
        s.id: s
        for s in await session.scalars(
            select(Shop).where(Shop.id.in_({lst.shop_id for lst in listings}))
        )
    }
    origins = await _countries_by_product(session, product_ids)
    hits = [
        Hit(lst, products[lst.product_id], shops[lst.shop_id], origins.get(lst.product_id, []))
        for lst in listings
    ]
    facets = {
        "category": await _category_facet(session, dialect, market, filters),
        "ships_from": await _ships_from_facet(session, dialect, market, filters),
    }
    return SearchResult(hits, next_cursor, facets)


async def _countries_by_product(
    session: AsyncSession, product_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[str]]:
    if not product_ids:
        return {}
    rows = await session.execute(
        select(Variant.product_id, Warehouse.country)
        .join(StockLevel, StockLevel.variant_id == Variant.id)
        .join(Warehouse, Warehouse.id == StockLevel.warehouse_id)
        .where(Variant.product_id.in_(product_ids), _IN_STOCK)
        .distinct()
        .order_by(Variant.product_id, Warehouse.country)
    )
    found: dict[uuid.UUID, list[str]] = {}
    for product_id, country in rows:
        found.setdefault(product_id, []).append(country)
    return found


async def _category_facet(
    session: AsyncSession, dialect: str, market: str, filters: SearchFilters
) -> list[tuple[str, int]]:
    rows = await session.execute(
        select(Product.category, func.count(Listing.id))
        .select_from(Listing)
        .join(Product, Product.id == Listing.product_id)
        .where(and_(*_conditions(dialect, market, filters, skip="category")))
        .group_by(Product.category)
        .order_by(func.count(Listing.id).desc(), Product.category)
    )
    return [(category, int(count)) for category, count in rows]


async def _ships_from_facet(
    session: AsyncSession, dialect: str, market: str, filters: SearchFilters
) -> list[tuple[str, int]]:
    count: Any = func.count(func.distinct(Listing.id))
    rows = await session.execute(
        select(Warehouse.country, count)
        .select_from(Listing)
        .join(Product, Product.id == Listing.product_id)
        .join(Variant, Variant.product_id == Product.id)
        .join(StockLevel, StockLevel.variant_id == Variant.id)
        .join(Warehouse, Warehouse.id == StockLevel.warehouse_id)
        .where(_IN_STOCK, and_(*_conditions(dialect, market, filters, skip="ships_from")))
        .group_by(Warehouse.country)
        .order_by(count.desc(), Warehouse.country)
    )
    return [(country, int(n)) for country, n in rows]
