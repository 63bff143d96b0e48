"""What a buyer pays for a variant now: the listing's price, unless a running offer (a live
flash sale) gives another. The live context registers its offer with `register_price_override`."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

from liveloop.catalog import service as catalog_service
from liveloop.catalog.errors import ListingNotFound
from liveloop.checkout.errors import VariantNotListed
from liveloop.checkout.models import SourceKind
from liveloop.kit.errors import field_error
from liveloop.kit.money import Money

PriceOverride = Callable[
    [AsyncSession, uuid.UUID, str, SourceKind, str | None], Awaitable[Money | None]
]
"""`(session, variant_id, market, source_kind, source_id) -> price or None (no offer)`."""

_overrides: list[PriceOverride] = []


def register_price_override(override: PriceOverride) -> Callable[[], None]:
    """Add an offer source (e.g. the live context's flash sales); returns an unregisterer."""
    _overrides.append(override)

    def remove() -> None:
        if override in _overrides:
            _overrides.remove(override)

    return remove


async def current_price(
    session: AsyncSession,
    variant_id: uuid.UUID,
    market: str,
    source_kind: SourceKind = SourceKind.direct,
    source_id: str | None = None,
    *,
    field: str = "variant_id",
) -> Money:
    """The price now; an offer only ever lowers it, and only in the listing's currency."""
    try:
        price = await catalog_service.price_of(session, variant_id, market)
    except ListingNotFound as exc:
        raise VariantNotListed(
            f"This item is not on sale in {market}.",
            errors=[field_error(field, "not listed in this market", code="not_listed")],
        ) from exc
    for override in _overrides:
        offer = await override(session, variant_id, market, source_kind, source_id)
        if offer is not None and offer.currency == price.currency and offer < price:
            price = offer
    return price
