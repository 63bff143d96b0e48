"""Carts: a signed-in buyer's, or a guest's (held by a `cart_token`), merged at sign-in; every
change re-checks prices against the live listing and any running offer."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from liveloop.catalog import service as catalog_service
from liveloop.catalog.errors import VariantNotFound
from liveloop.catalog.taxonomy import market as market_info
from liveloop.checkout import policy
from liveloop.checkout.errors import (
    CartLineNotFound,
    CartNotFound,
    CurrencyNotOfMarket,
    InvalidQuantity,
    OutOfStock,
    QuantityAboveCap,
    VariantNotListed,
)
from liveloop.checkout.models import Cart, CartLine, CartStatus, SourceKind
from liveloop.checkout.pricing import current_price
from liveloop.kit import outbox
from liveloop.kit.errors import field_error
from liveloop.kit.money import Money

TOKEN_PREFIX = "cart_"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def check_quantity(quantity: int, field: str = "quantity", *, already: int = 0) -> None:
    if quantity <= 0:
        raise InvalidQuantity(
            "The quantity must be at least 1.",
            errors=[field_error(field, "must be at least 1", code="not_positive")],
        )
    cap = policy.max_units_per_variant()
    if quantity + already > cap:
        raise QuantityAboveCap(
            f"At most {cap} of one item per buyer.",
            errors=[field_error(field, f"at most {cap} per buyer", code="above_cap")],
            cap=cap,
        )


def check_currency(currency: str | None, market: str, field: str = "currency") -> None:
    expected = market_info(market).currency
    if currency is not None and currency.upper() != expected:
        raise CurrencyNotOfMarket(
            f"Prices in {market} are in {expected}.",
            errors=[field_error(field, f"must be {expected}", code="wrong_currency")],
        )


async def create_guest_cart(session: AsyncSession, market: str) -> tuple[Cart, str]:
    token = TOKEN_PREFIX + secrets.token_urlsafe(24)
    cart = Cart(market=market, token_hash=hash_token(token), status=CartStatus.active)
    session.add(cart)
    await session.flush()
    return cart, token


async def cart_of_user(session: AsyncSession, user_id: uuid.UUID, market: str) -> Cart:
    """The user's active cart, made on first use."""
    cart = await session.scalar(
        select(Cart)
        .where(Cart.user_id == user_id, Cart.status == CartStatus.active)
        .order_by(Cart.created_at)
        .limit(1)
    )
    if cart is None:
        cart = Cart(user_id=user_id, market=market, status=CartStatus.active)
        session.add(cart)
        await session.flush()
    return cart


async def cart_of_token(session: AsyncSession, token: str) -> Cart:
    cart = await session.scalar(
        select(Cart).where(Cart.token_hash == hash_token(token), Cart.status == CartStatus.active)
    )
    if cart is None:
        raise CartNotFound("No such cart; start a new one.")
    return cart


async def lines_of(session: AsyncSession, cart_id: uuid.UUID) -> list[CartLine]:
    return list(
        (
            await session.scalars(
                select(CartLine)
                .where(CartLine.cart_id == cart_id)
                .order_by(CartLine.created_at, CartLine.id)
            )
        ).all()
    )


async def _check_stock(
    session: AsyncSession, variant_id: uuid.UUID, quantity: int, field: str
) -> None:
    available = await catalog_service.available(session, variant_id)
    if available < quantity:
        raise OutOfStock(
            "Not enough in stock." if available else "This item is out of stock.",
            errors=[field_error(field, f"{available} available", code="out_of_stock")],
            available=available,
        )


CART_LINE_ADDED = "checkout.cart_line_added"
"""Payload: `cart_id`, `buyer` (user id, or `cart:<id>` for a guest), `variant_id`,
`product_id`, `quantity`, `source_kind`, `source_id` (for the live room's add-to-cart count)."""


async def add_line(
    session: AsyncSession,
    cart: Cart,
    *,
    variant_id: uuid.UUID,
    quantity: int,
    source_kind: SourceKind,
    source_id: str | None,
    creator_id: uuid.UUID | None,
    currency: str | None = None,
) -> CartLine:
    """Add an item (or more of it); the first place the buyer found it is remembered."""
    check_currency(currency, cart.market)
    existing = await session.scalar(
        select(CartLine).where(CartLine.cart_id == cart.id, CartLine.variant_id == variant_id)
    )
    check_quantity(quantity, already=existing.quantity if existing else 0)
    try:
        variant = await catalog_service.get_variant(session, variant_id)
    except VariantNotFound as exc:
        raise VariantNotListed(
            "No such item.", errors=[field_error("variant_id", "unknown", code="not_listed")]
        ) from exc
    price = await current_price(session, variant_id, cart.market, source_kind, source_id)
    total = quantity + (existing.quantity if existing else 0)
    await _check_stock(session, variant_id, total, "quantity")
    outbox.record(
        session,
        CART_LINE_ADDED,
        aggregate_type="cart",
        aggregate_id=cart.id,
        payload={
            "cart_id": cart.id,
            "buyer": str(cart.user_id) if cart.user_id else f"cart:{cart.id}",
            "variant_id": variant_id,
            "product_id": variant.product_id,
            "quantity": quantity,
            "source_kind": source_kind.value,
            "source_id": source_id,
        },
    )
    if existing is not None:
        existing.quantity = total
        existing.unit_price = price.amount
        await session.flush()
        return existing
    line = CartLine(
        cart_id=cart.id,
        variant_id=variant_id,
        shop_id=variant.shop_id,
        market=cart.market,
        quantity=quantity,
        unit_price=price.amount,
        currency=price.currency,
        source_kind=source_kind,
        source_id=source_id,
        creator_id=creator_id,
    )
    session.add(line)
    await session.flush()
    return line


async def _line(session: AsyncSession, cart: Cart, line_id: uuid.UUID) -> CartLine:
    line = await session.get(CartLine, line_id)
    if line is None or line.cart_id != cart.id:
        raise CartLineNotFound("No such line in this cart.")
    return line


async def set_quantity(
    session: AsyncSession, cart: Cart, line_id: uuid.UUID, quantity: int
) -> CartLine:
    line = await _line(session, cart, line_id)
    check_quantity(quantity)
    await _check_stock(session, line.variant_id, quantity, "quantity")
    line.quantity = quantity
    await session.flush()
    return line


async def remove_line(session: AsyncSession, cart: Cart, line_id: uuid.UUID) -> None:
    line = await _line(session, cart, line_id)
    await session.delete(line)
    await session.flush()


@dataclass(frozen=True, slots=True)
class PricedLine:
    line: CartLine
    unit_price: Money
    listed: bool
    available: int
    previous_price: Money | None
    """Set when the price changed since the buyer last saw it."""


@dataclass(frozen=True, slots=True)
class PricedCart:
    cart: Cart
    lines: list[PricedLine]
    subtotal: Money


async def price_cart(session: AsyncSession, cart: Cart) -> PricedCart:
    """Every line at today's price (stored, so a change is reported once)."""
    currency = market_info(cart.market).currency
    lines = await lines_of(session, cart.id)
    stock = {v: await catalog_service.available(session, v) for v in {x.variant_id for x in lines}}
    priced: list[PricedLine] = []
    subtotal = Money.zero(currency)
    for line in lines:
        previous: Money | None = None
        try:
            price = await current_price(
                session, line.variant_id, cart.market, line.source_kind, line.source_id
            )
            listed = True
        except VariantNotListed:
            price, listed = Money(line.unit_price, line.currency), False
        if price.amount != line.unit_price:
            previous = Money(line.unit_price, line.currency)
            line.unit_price = price.amount
        priced.append(PricedLine(line, price, listed, stock[line.variant_id], previous))
        if listed:
            subtotal += price.times(line.quantity)
    await session.flush()
    return PricedCart(cart, priced, subtotal)


async def merge_guest_cart(session: AsyncSession, user_cart: Cart, token: str) -> int:
    """Move a guest cart's lines into the user's cart at sign-in; returns how many moved.

    Quantities of an item in both add up, to the per-buyer cap."""
    guest = await cart_of_token(session, token)
    if guest.id == user_cart.id:
        return 0
    mine = {line.variant_id: line for line in await lines_of(session, user_cart.id)}
    cap = policy.max_units_per_variant()
    moved = 0
    for line in await lines_of(session, guest.id):
        if line.market != user_cart.market:
            continue  # a price in another market's currency means nothing here
        if line.variant_id in mine:
            target = mine[line.variant_id]
            target.quantity = min(cap, target.quantity + line.quantity)
            await session.delete(line)
        else:
            line.cart_id = user_cart.id
        moved += 1
    guest.status = CartStatus.merged
    guest.merged_into = user_cart.id
    guest.token_hash = None
    await session.flush()
    return moved


async def empty(session: AsyncSession, cart_id: uuid.UUID, variant_ids: set[uuid.UUID]) -> None:
    """Take the bought items out of the cart."""
    for line in await lines_of(session, cart_id):
        if line.variant_id in variant_ids:
            await session.delete(line)
    await session.flush()
