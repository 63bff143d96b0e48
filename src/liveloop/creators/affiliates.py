"""The affiliate programme: shops' offers (a product, a commission rate, a period, an audience),
invitations, and creators' storefronts built from the offers open to them."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession

from liveloop.catalog import service as catalog_service
from liveloop.catalog.errors import ProductNotFound
from liveloop.catalog.taxonomy import markets as all_markets
from liveloop.creators import events
from liveloop.creators import repository as repo
from liveloop.creators.errors import (
    InvalidCommissionRate,
    InvalidOfferPeriod,
    OfferExpired,
    OfferNotFound,
    OfferNotOpenToYou,
    OfferOverlaps,
    ProductNotListed,
    StorefrontItemExists,
    StorefrontItemNotFound,
)
from liveloop.creators.models import (
    AffiliateInvitation,
    AffiliateOffer,
    Creator,
    OfferAudience,
    StorefrontItem,
)
from liveloop.creators.rules import rules_at
from liveloop.kit import outbox
from liveloop.kit.db import utcnow
from liveloop.kit.errors import Unprocessable, field_error
from liveloop.moderation import service as moderation_service

PERCENT = Decimal(100)


def percent_of(rate: Decimal) -> Decimal:
    """A rate as a plain percentage: 0.1250 is 12.5, 0.8000 is 80 (never 8E+1)."""
    return Decimal(format((rate * PERCENT).normalize(), "f"))


def rate_from_percent(percent: Decimal | str | float, at: datetime) -> Decimal:
    """A commission percentage (1 to 80 under the current terms) as a fraction, exactly."""
    rules = rules_at(at)
    low, high = percent_of(rules.min_rate), percent_of(rules.max_rate)
    try:
        value = Decimal(str(percent))
    except InvalidOperation as exc:
        raise InvalidCommissionRate(
            "The commission is a percentage, e.g. 15 or 12.5.",
            errors=[field_error("commission_percent", "not a number", code="invalid_rate")],
        ) from exc
    rate = value / PERCENT
    if not value.is_finite() or rate != rate.quantize(Decimal("0.0001")):
        raise InvalidCommissionRate(
            "The commission has at most two decimal places, e.g. 12.5 or 12.75.",
            errors=[field_error("commission_percent", "too precise", code="invalid_rate")],
        )
    if not low <= value <= high:
        raise InvalidCommissionRate(
            f"The commission must be between {low}% and {high}%; "
            f"{format(value.normalize(), 'f')}% is outside that range.",
            errors=[
                field_error(
                    "commission_percent",
                    f"must be {low} to {high}",
                    code="out_of_range",
                )
            ],
        )
    return rate.quantize(Decimal("0.0001"))


async def listed_markets(session: AsyncSession, product_id: uuid.UUID) -> list[str]:
    """The markets where the product is on sale now."""
    found = []
    for market in sorted(all_markets()):
        try:
            await catalog_service.product_for_buyer(session, product_id, market)
        except ProductNotFound:
            continue
        found.append(market)
    return found


async def create_offer(
    session: AsyncSession,
    shop_id: uuid.UUID,
    *,
    product_id: uuid.UUID,
    commission_percent: Decimal,
    audience: OfferAudience,
    starts_at: datetime | None,
    ends_at: datetime,
    actor: str,
) -> AffiliateOffer:
    now = utcnow()
    rate = rate_from_percent(commission_percent, now)
    start = starts_at or now
    if ends_at <= start:
        raise InvalidOfferPeriod(
            "An offer ends after it starts.",
            errors=[field_error("ends_at", "not after starts_at", code="before_start")],
        )
    if ends_at <= now:
        raise InvalidOfferPeriod(
            "An offer cannot end in the past.",
            errors=[field_error("ends_at", "in the past", code="in_past")],
        )
    product = await catalog_service.get_product_of_shop(session, shop_id, product_id)
    if not await listed_markets(session, product.id):
        raise ProductNotListed(
            f"{product.title!r} is not listed: it has no active listing in any market, so "
            "creators could not sell it. List it first.",
            errors=[field_error("product_id", "no active listing", code="not_listed")],
        )
    clashes = await repo.overlapping_offers(session, product.id, start, ends_at)
    if clashes:
        raise OfferOverlaps(
            "This product already has an offer in that period; end it first.",
            errors=[field_error("starts_at", str(clashes[0].id), code="overlaps")],
            offer_id=str(clashes[0].id),
        )
    offer = AffiliateOffer(
        shop_id=shop_id,
        product_id=product.id,
        commission_rate=rate,
        audience=audience,
        starts_at=start,
        ends_at=ends_at,
        created_by=actor,
    )
    session.add(offer)
    await session.flush()
    outbox.record(
        session,
        events.OFFER_CREATED,
        aggregate_type="affiliate_offer",
        aggregate_id=offer.id,
        payload={
            "offer_id": offer.id,
            "shop_id": shop_id,
            "product_id": product.id,
            "commission_rate": str(rate),
            "audience": audience.value,
        },
        actor_id=actor,
    )
    return offer


async def get_offer_of_shop(
    session: AsyncSession, shop_id: uuid.UUID, offer_id: uuid.UUID
) -> AffiliateOffer:
    offer = await repo.get_offer_of_shop(session, shop_id, offer_id)
    if offer is None:
        raise OfferNotFound("No such offer in this shop.")
    return offer


async def get_offer(session: AsyncSession, offer_id: uuid.UUID) -> AffiliateOffer:
    offer = await repo.get_offer(session, offer_id)
    if offer is None:
        raise OfferNotFound("No such affiliate offer.")
    return offer


def offers_of_shop(shop_id: uuid.UUID) -> Select[AffiliateOffer]:
    return repo.offers_of_shop_stmt(shop_id)


async def end_offer(
    session: AsyncSession, shop_id: uuid.UUID, offer_id: uuid.UUID, *, actor: str
) -> None:
    """End a running offer now (sales already attributed keep their commission); withdraw one
    that has not started."""
    offer = await get_offer_of_shop(session, shop_id, offer_id)
    now = utcnow()
    if offer.ends_at <= now:
        return
    if offer.starts_at > now:
        # Nothing can have been sold or showcased under it yet.
        await session.delete(offer)
    else:
        offer.ends_at = now
    await session.flush()
    outbox.record(
        session,
        events.OFFER_ENDED,
        aggregate_type="affiliate_offer",
        aggregate_id=offer_id,
        payload={"offer_id": offer_id, "shop_id": shop_id, "ends_at": now},
        actor_id=actor,
    )


async def invite(
    session: AsyncSession, shop_id: uuid.UUID, offer_id: uuid.UUID, creator: Creator
) -> AffiliateInvitation:
    offer = await get_offer_of_shop(session, shop_id, offer_id)
    if offer.audience is not OfferAudience.invited:
        raise Unprocessable(
            "This offer is open to every creator; invitations are for invited-only offers.",
            code="offer_is_open",
        )
    existing = await session.get(AffiliateInvitation, (offer.id, creator.id))
    if existing is not None:
        return existing
    invitation = AffiliateInvitation(offer_id=offer.id, creator_id=creator.id)
    session.add(invitation)
    await session.flush()
    return invitation


async def invitations_of(session: AsyncSession, offer_id: uuid.UUID) -> list[AffiliateInvitation]:
    return await repo.invitations_of_offer(session, offer_id)


def offers_open_to(creator_id: uuid.UUID) -> Select[AffiliateOffer]:
    return repo.offers_open_to_stmt(creator_id, utcnow())


async def offer_for_creator(
    session: AsyncSession, product_id: uuid.UUID, creator_id: uuid.UUID, at: datetime
) -> AffiliateOffer | None:
    return await repo.offer_for_creator(session, product_id, creator_id, at)


async def usable_offer(
    session: AsyncSession, creator: Creator, offer: AffiliateOffer, *, field: str
) -> None:
    """Refuse an offer the creator may not use now: not started, ended, or not open to them."""
    now = utcnow()
    if offer.ends_at <= now:
        raise OfferExpired(
            f"This offer ended on {offer.ends_at:%Y-%m-%d %H:%M} UTC; ask the shop for a new one.",
            errors=[field_error(field, "offer ended", code="expired")],
        )
    if offer.starts_at > now:
        raise OfferExpired(
            f"This offer starts on {offer.starts_at:%Y-%m-%d %H:%M} UTC.",
            errors=[field_error(field, "offer not started", code="not_started")],
        )
    if offer.audience is OfferAudience.invited and not await repo.is_invited(
        session, offer.id, creator.id
    ):
        raise OfferNotOpenToYou(
            "This offer is for invited creators only.",
            errors=[field_error(field, "not invited", code="not_invited")],
        )


# -- storefronts ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ShowcaseEntry:
    item: StorefrontItem
    offer: AffiliateOffer

    @property
    def active(self) -> bool:
        now = utcnow()
        return self.offer.starts_at <= now < self.offer.ends_at


async def add_to_storefront(
    session: AsyncSession, creator: Creator, *, offer_id: uuid.UUID, note: str
) -> StorefrontItem:
    moderation_service.ensure_allowed("note", note)
    offer = await get_offer(session, offer_id)
    await usable_offer(session, creator, offer, field="offer_id")
    if not await listed_markets(session, offer.product_id):
        raise ProductNotListed(
            "This product is no longer on sale in any market.",
            errors=[field_error("offer_id", "product not listed", code="not_listed")],
        )
    existing = await repo.storefront_item_for_product(session, creator.id, offer.product_id)
    if existing is not None:
        if existing.offer_id == offer.id:
            raise StorefrontItemExists(
                "This product is already in your storefront.",
                errors=[field_error("offer_id", str(existing.id), code="exists")],
                item_id=str(existing.id),
            )
        # The product's earlier offer ran out and the shop opened a new one: keep the place.
        existing.offer_id = offer.id
        existing.note = note
        await session.flush()
        return existing
    item = StorefrontItem(
        creator_id=creator.id,
        offer_id=offer.id,
        product_id=offer.product_id,
        shop_id=offer.shop_id,
        position=await repo.next_storefront_position(session, creator.id),
        note=note,
    )
    session.add(item)
    await session.flush()
    return item


async def storefront_item(
    session: AsyncSession, creator: Creator, item_id: uuid.UUID
) -> StorefrontItem:
    item = await repo.get_storefront_item(session, creator.id, item_id)
    if item is None:
        raise StorefrontItemNotFound("No such item in your storefront.")
    return item


async def update_storefront_note(
    session: AsyncSession, creator: Creator, item_id: uuid.UUID, note: str
) -> StorefrontItem:
    moderation_service.ensure_allowed("note", note)
    item = await storefront_item(session, creator, item_id)
    item.note = note
    await session.flush()
    return item


async def remove_from_storefront(
    session: AsyncSession, creator: Creator, item_id: uuid.UUID
) -> None:
    item = await storefront_item(session, creator, item_id)
    await session.delete(item)
    await session.flush()


async def reorder_storefront(
    session: AsyncSession, creator: Creator, item_ids: Sequence[uuid.UUID]
) -> list[ShowcaseEntry]:
    entries = await storefront(session, creator.id, active_only=False)
    current = {e.item.id for e in entries}
    if len(item_ids) != len(current) or set(item_ids) != current:
        raise Unprocessable(
            "Name every item of your storefront once, in the new order.",
            errors=[field_error("item_ids", "must list each item once", code="mismatch")],
        )
    position = {item_id: i for i, item_id in enumerate(item_ids)}
    for entry in entries:
        entry.item.position = position[entry.item.id]
    await session.flush()
    return sorted(entries, key=lambda e: e.item.position)


async def storefront(
    session: AsyncSession, creator_id: uuid.UUID, *, active_only: bool = True
) -> list[ShowcaseEntry]:
    """The showcase in the creator's order; by default only items whose offer runs now."""
    entries = [ShowcaseEntry(i, o) for i, o in await repo.storefront_of(session, creator_id)]
    return [e for e in entries if e.active] if active_only else entries
