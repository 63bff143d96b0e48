"""Checkouts: the cart (or one express item) priced for one address, split into parcels per shop
and warehouse, each with its shipping options and landed cost, coupons applied, totals in the
market's currency, and the stock held until a visible deadline.

Other contexts call this module (as `checkout_service`); `flows.py` takes a checkout through
payment to orders.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from liveloop.catalog import inventory
from liveloop.catalog import service as catalog_service
from liveloop.catalog.errors import InsufficientStock, VariantNotFound
from liveloop.catalog.taxonomy import market as market_info
from liveloop.checkout import cart as carts
from liveloop.checkout import policy
from liveloop.checkout.address import validate_address
from liveloop.checkout.errors import (
    CartEmpty,
    CheckoutClosed,
    CheckoutExpired,
    CheckoutNotFound,
    CheckoutStale,
    CouponCodeTaken,
    CouponNotApplicable,
    MarketMismatch,
    NoShippingOption,
    OutOfStock,
    VariantNotListed,
)
from liveloop.checkout.models import (
    Checkout,
    CheckoutLine,
    CheckoutParcel,
    CheckoutStatus,
    Coupon,
    CouponKind,
    CouponRedemption,
    SourceKind,
)
from liveloop.checkout.pricing import current_price
from liveloop.kit.db import new_id, utcnow
from liveloop.kit.errors import Unprocessable, field_error
from liveloop.kit.money import Money
from liveloop.logistics import landed_cost as logistics_landed_cost
from liveloop.logistics import quotes as logistics_quotes
from liveloop.logistics.errors import ExchangeRateMissing as LogisticsRateMissing
from liveloop.logistics.errors import LogisticsInputError
from liveloop.logistics.landed_cost import Consignment, ConsignmentLine
from liveloop.logistics.quotes import Dimensions, Parcel, ParcelItem, ShippingOption
from liveloop.logistics.rate_cards import default_rate_cards
from liveloop.logistics.schemas import LandedCostAnswer

T = TypeVar("T")


# -- exchange rates for the logistics engines --------------------------------------------------


class _Rates:
    """A synchronous `RateLookup` over rates fetched from the catalog's table beforehand."""

    def __init__(self) -> None:
        self.known: dict[tuple[str, str, date], tuple[Decimal, date]] = {}
        self.missing: set[tuple[str, str, date]] = set()

    def __call__(self, base: str, quote: str, on: date) -> tuple[Decimal, date]:
        key = (base, quote, on)
        if key not in self.known:
            self.missing.add(key)
            raise LookupError(f"{base}/{quote} not fetched yet")
        return self.known[key]


async def _with_rates(session: AsyncSession, compute: Callable[[_Rates], T]) -> T:
    """Run a pure logistics calculation, fetching the exchange rates it asks for (async) and
    running it again until it has them all."""
    rates = _Rates()
    for _ in range(5):
        try:
            return compute(rates)
        except LogisticsRateMissing:
            if not rates.missing:
                raise
            for base, quote, on in sorted(rates.missing):
                rates.known[(base, quote, on)] = await catalog_service.get_rate(
                    session, base, quote, on
                )
            rates.missing.clear()
    return compute(rates)


# -- coupons ---------------------------------------------------------------------------------


async def create_coupon(
    session: AsyncSession,
    *,
    code: str,
    shop_id: uuid.UUID | None,
    kind: CouponKind,
    percent_off: int | None,
    amount_off: int | None,
    currency: str | None,
    min_spend: int,
    per_user_limit: int | None,
    starts_at: datetime | None,
    ends_at: datetime | None,
    actor: str,
) -> Coupon:
    code = code.strip().upper()
    if kind is CouponKind.percent and not (percent_off and 1 <= percent_off <= 100):
        raise Unprocessable(
            "A percentage coupon takes 1-100 percent off.",
            errors=[field_error("percent_off", "1-100")],
        )
    if kind is CouponKind.fixed and not (amount_off and amount_off > 0 and currency):
        raise Unprocessable(
            "A fixed coupon takes an amount off in a currency.",
            errors=[field_error("amount_off", "positive, with a currency")],
        )
    if await session.scalar(select(Coupon.id).where(Coupon.code == code)) is not None:
        raise CouponCodeTaken(f"The code {code} is taken.")
    coupon = Coupon(
        code=code,
        shop_id=shop_id,
        kind=kind,
        percent_off=percent_off if kind is CouponKind.percent else None,
        amount_off=amount_off if kind is CouponKind.fixed else None,
        currency=currency.upper() if currency and kind is CouponKind.fixed else None,
        min_spend=min_spend,
        per_user_limit=per_user_limit,
        starts_at=starts_at,
        ends_at=ends_at,
        active=True,
        created_by=actor,
    )
    session.add(coupon)
    await session.flush()
    return coupon


def _not_applicable(code: str, why: str) -> CouponNotApplicable:
    return CouponNotApplicable(
        f"The coupon {code} does not apply: {why}.",
        errors=[field_error("coupon_codes", why, code="coupon_not_applicable")],
        coupon=code,
    )


async def _coupons(
    session: AsyncSession, codes: list[str], buyer_id: uuid.UUID, currency: str
) -> list[Coupon]:
    now = utcnow()
    found: list[Coupon] = []
    scopes: set[uuid.UUID | None] = set()
    for raw in codes:
        code = raw.strip().upper()
        coupon = await session.scalar(select(Coupon).where(Coupon.code == code))
        if coupon is None or not coupon.active:
            raise _not_applicable(code, "no such coupon")
        if coupon.starts_at is not None and now < coupon.starts_at:
            raise _not_applicable(code, "not started yet")
        if coupon.ends_at is not None and now >= coupon.ends_at:
            raise _not_applicable(code, "it has ended")
        if coupon.kind is CouponKind.fixed and coupon.currency != currency:
            raise _not_applicable(code, f"it is in {coupon.currency}, not {currency}")
        if coupon.shop_id in scopes:
            raise _not_applicable(code, "one coupon per shop and one from liveloop")
        if coupon.per_user_limit is not None:
            used = await session.scalar(
                select(func.count())
                .select_from(CouponRedemption)
                .where(
                    CouponRedemption.coupon_id == coupon.id, CouponRedemption.user_id == buyer_id
                )
            )
            if int(used or 0) >= coupon.per_user_limit:
                raise _not_applicable(code, "you have used it as often as it allows")
        scopes.add(coupon.shop_id)
        found.append(coupon)
    return found


def _discount(coupon: Coupon, base: Money) -> Money:
    if coupon.kind is CouponKind.percent:
        assert coupon.percent_off is not None
        return base.scale(Decimal(coupon.percent_off) / 100)
    assert coupon.amount_off is not None
    return Money(min(coupon.amount_off, base.amount), base.currency)


# -- building a checkout ---------------------------------------------------------------------


FLASH_SALE_HOLD = "flash_sale:"


@dataclass(frozen=True)
class HeldUnits:
    """Units already held for the buyer at a set price (a won flash sale): the checkout takes
    over that reservation instead of making its own, and must be paid by its deadline."""

    reservation_id: uuid.UUID
    unit_price: Money
    expires_at: datetime


@dataclass
class Item:
    """One thing to buy, as the cart or the express path gives it."""

    variant_id: uuid.UUID
    quantity: int
    source_kind: SourceKind = SourceKind.direct
    source_id: str | None = None
    creator_id: uuid.UUID | None = None
    held: HeldUnits | None = None


@dataclass
class _Line:
    item: Item
    position: int
    shop_id: uuid.UUID
    product_id: uuid.UUID
    title: str
    sku: str
    category: str
    hs_code: str
    origin: str
    weight_g: int
    sides_mm: tuple[int, int, int]
    battery: bool
    liquid: bool
    unit_price: Money
    reservation_id: uuid.UUID
    warehouse_id: uuid.UUID
    warehouse_country: str
    warehouse_code: str
    shop_discount: Money
    platform_discount: Money

    @property
    def gross(self) -> Money:
        return self.unit_price.times(self.item.quantity)

    @property
    def net(self) -> Money:
        return self.gross - self.shop_discount - self.platform_discount


@dataclass
class _Parcel:
    shop_id: uuid.UUID
    warehouse_id: uuid.UUID
    warehouse_country: str
    warehouse_code: str
    lines: list[_Line] = field(default_factory=list)


def _rate_card_warehouses(country: str) -> list[str]:
    """The rate cards' warehouses in the stock's country: the carriers that can collect it."""
    book = default_rate_cards()
    return sorted(code for code, w in book.warehouses.items() if w.country == country)


def _logistics_parcel(lines: list[_Line]) -> Parcel:
    items = []
    for line in lines:
        sides = [Decimal(s) / 10 for s in line.sides_mm]
        items.append(
            ParcelItem(
                weight_kg=Decimal(line.weight_g) / 1000,
                dimensions=Dimensions(sides[0], sides[1], sides[2]),
                quantity=line.item.quantity,
                batteries=line.battery,
                liquid=line.liquid,
                description=line.title,
            )
        )
    return Parcel(tuple(items))


def _option_json(option: ShippingOption) -> dict[str, Any]:
    return {
        "service_id": option.service_id,
        "name": option.service_name,
        "carrier": option.carrier,
        "price": option.compared_price.amount,
        "currency": option.compared_price.currency,
        "promised_delivery": option.promised_delivery.isoformat(),
        "earliest_delivery": option.earliest_delivery.isoformat(),
        "cheapest": option.cheapest,
        "fastest": option.fastest,
    }


async def _quote(
    session: AsyncSession, parcel: _Parcel, destination: str, currency: str, now: datetime
) -> list[ShippingOption]:
    warehouses = _rate_card_warehouses(parcel.warehouse_country)
    if not warehouses:
        return []
    physical = _logistics_parcel(parcel.lines)
    try:
        result = await _with_rates(
            session,
            lambda rates: logistics_quotes.quote(
                physical,
                destination,
                now=now,
                warehouses=warehouses,
                currency=currency,
                rates=rates,
            ),
        )
    except LogisticsRateMissing:
        raise
    except LogisticsInputError:
        return []
    return list(result.options)


@dataclass(frozen=True, slots=True)
class _Priced:
    option: ShippingOption
    answer: LandedCostAnswer
    duties: Money
    taxes: Money
    fees: Money
    collected: Money
    line_taxes: list[Money]
    shipping_tax: Money


async def _land(
    session: AsyncSession,
    lines: list[tuple[str, str, Money]],
    option: ShippingOption,
    destination: str,
    on: date,
) -> _Priced:
    """Landed cost (DDP: every duty, tax and fee is collected at checkout) and its share per
    line and for delivery, so a refund can reverse exactly its part."""
    shipping = option.compared_price
    consignment = Consignment(
        destination,
        tuple(ConsignmentLine(hs, origin, net, 1) for hs, origin, net in lines),
        shipping,
    )
    cost = await _with_rates(
        session,
        lambda rates: logistics_landed_cost.compute_landed_cost(consignment, on=on, rates=rates),
    )
    currency = shipping.currency
    collected = cost.price_at_checkout - cost.goods_value - cost.shipping
    weights = [net.amount for _, _, net in lines] + [shipping.amount]
    shares = (
        collected.allocate(weights)
        if sum(weights) > 0
        else [Money.zero(currency)] * (len(lines) + 1)
    )
    taxes = Money(sum(c.amount.amount for c in cost.taxes), currency)
    fees = Money(sum(c.amount.amount for c in cost.fees), currency)
    return _Priced(
        option,
        logistics_landed_cost.render_answer(cost),
        cost.duty,
        taxes,
        fees,
        collected,
        shares[:-1],
        shares[-1],
    )


async def _resolve_items(
    session: AsyncSession,
    items: list[Item],
    *,
    market: str,
    destination: str,
    holder: str,
    expires_at: datetime,
    actor: str,
) -> list[_Line]:
    seen: dict[uuid.UUID, int] = {}
    for index, item in enumerate(items):
        carts.check_quantity(
            item.quantity, f"items.{index}.quantity", already=seen.get(item.variant_id, 0)
        )
        seen[item.variant_id] = seen.get(item.variant_id, 0) + item.quantity
    lines: list[_Line] = []
    for index, item in enumerate(items):
        try:
            variant = await catalog_service.get_variant(session, item.variant_id)
        except VariantNotFound as exc:
            raise VariantNotListed(
                "No such item.",
                errors=[field_error(f"items.{index}.variant_id", "unknown", code="not_listed")],
            ) from exc
        product = await catalog_service.get_product(session, variant.product_id)
        price = (
            item.held.unit_price
            if item.held is not None
            else await current_price(
                session,
                item.variant_id,
                market,
                item.source_kind,
                item.source_id,
                field=f"items.{index}.variant_id",
            )
        )
        stock = {
            w.warehouse.id: w.warehouse
            for w in await catalog_service.warehouses_with_stock(session, item.variant_id)
        }
        if item.held is not None:
            reservation = await inventory.get_reservation(session, item.held.reservation_id)
            warehouse = await inventory.get_warehouse(session, reservation.warehouse_id)
            stock[warehouse.id] = warehouse
        try:
            reservation = (
                reservation
                if item.held is not None
                else await catalog_service.reserve(
                    session,
                    item.variant_id,
                    None,
                    item.quantity,
                    holder=holder,
                    expires_at=expires_at,
                    actor=actor,
                    prefer_country=destination,
                )
            )
        except InsufficientStock as exc:
            raise OutOfStock(
                f"Not enough of {product.title} in stock.",
                errors=[
                    field_error(
                        f"items.{index}.quantity", "more than in stock", code="out_of_stock"
                    )
                ],
                line=index,
            ) from exc
        warehouse = stock[reservation.warehouse_id]
        side = policy.default_side_mm()
        lines.append(
            _Line(
                item=item,
                position=index,
                shop_id=variant.shop_id,
                product_id=product.id,
                title=product.title,
                sku=variant.sku,
                category=product.category,
                hs_code=variant.hs_code,
                origin=variant.origin_country,
                weight_g=variant.weight_g or policy.default_unit_weight_g(),
                sides_mm=(
                    variant.length_mm or side,
                    variant.width_mm or side,
                    variant.height_mm or side,
                ),
                battery=variant.contains_battery,
                liquid=variant.contains_liquid,
                unit_price=price,
                reservation_id=reservation.id,
                warehouse_id=warehouse.id,
                warehouse_country=warehouse.country,
                warehouse_code=warehouse.code,
                shop_discount=Money.zero(price.currency),
                platform_discount=Money.zero(price.currency),
            )
        )
    return lines


def _apply_coupons(lines: list[_Line], coupons: list[Coupon], currency: str) -> None:
    for coupon in sorted(coupons, key=lambda c: c.shop_id is None):  # shops' first
        eligible = [x for x in lines if coupon.shop_id is None or x.shop_id == coupon.shop_id]
        base = Money(sum(x.gross.amount - x.shop_discount.amount for x in eligible), currency)
        if not eligible or base.amount <= 0:
            raise _not_applicable(coupon.code, "nothing in the checkout is from its shop")
        if base.amount < coupon.min_spend:
            minimum = Money(coupon.min_spend, currency)
            raise _not_applicable(coupon.code, f"it needs a spend of at least {minimum}")
        discount = _discount(coupon, base)
        shares = discount.allocate([x.gross.amount - x.shop_discount.amount for x in eligible])
        for line, share in zip(eligible, shares, strict=True):
            if coupon.shop_id is None:
                line.platform_discount += share
            else:
                line.shop_discount += share


async def create_checkout(
    session: AsyncSession,
    *,
    buyer_id: uuid.UUID,
    email: str,
    market: str,
    items: list[Item],
    address: dict[str, Any],
    coupon_codes: list[str] | None = None,
    shipping_choices: dict[uuid.UUID, str] | None = None,
    currency: str | None = None,
    cart_id: uuid.UUID | None = None,
    express: bool = False,
) -> Checkout:
    """Price, split and hold stock for `items` delivered to `address`."""
    if not items:
        raise CartEmpty("There is nothing to check out.")
    clean = validate_address(address)
    if clean["country"] != market:
        raise MarketMismatch(
            f"Items priced for {market} are delivered in {market}.",
            errors=[field_error("address.country", f"must be {market}", code="market_mismatch")],
        )
    carts.check_currency(currency, market)
    currency = market_info(market).currency
    now = utcnow()
    checkout_id = new_id()
    expires_at = min([now + policy.hold(), *(i.held.expires_at for i in items if i.held)])
    lines = await _resolve_items(
        session,
        items,
        market=market,
        destination=market,
        holder=f"checkout:{checkout_id}",
        expires_at=expires_at,
        actor=f"user:{buyer_id}",
    )
    coupons = await _coupons(session, coupon_codes or [], buyer_id, currency)
    _apply_coupons(lines, coupons, currency)

    parcels: dict[tuple[uuid.UUID, uuid.UUID], _Parcel] = {}
    for line in lines:
        key = (line.shop_id, line.warehouse_id)
        if key not in parcels:
            parcels[key] = _Parcel(
                line.shop_id, line.warehouse_id, line.warehouse_country, line.warehouse_code
            )
        parcels[key].lines.append(line)
    ordered = sorted(parcels.values(), key=lambda p: (str(p.shop_id), p.warehouse_code))

    checkout = Checkout(
        id=checkout_id,
        buyer_id=buyer_id,
        cart_id=cart_id,
        express=express,
        market=market,
        currency=currency,
        status=CheckoutStatus.open,
        email=email,
        address=clean,
        coupon_codes=[c.code for c in coupons],
        subtotal=0,
        shop_discount=0,
        platform_discount=0,
        shipping=0,
        duties_and_taxes=0,
        total=0,
        expires_at=expires_at,
    )
    session.add(checkout)
    await session.flush()
    choices = shipping_choices or {}
    for position, parcel in enumerate(ordered):
        options = await _quote(session, parcel, market, currency, now)
        if not options:
            raise NoShippingOption(
                f"No carrier can take this shop's parcel to {market}.",
                errors=[field_error("address.country", "no shipping option", code="no_option")],
                shop_id=str(parcel.shop_id),
            )
        wanted = choices.get(parcel.shop_id)
        option = next((o for o in options if o.service_id == wanted), options[0])
        priced = await _land(
            session,
            [(x.hs_code, x.origin, x.net) for x in parcel.lines],
            option,
            market,
            now.date(),
        )
        row = CheckoutParcel(
            id=new_id(),
            checkout_id=checkout.id,
            shop_id=parcel.shop_id,
            warehouse_id=parcel.warehouse_id,
            position=position,
            options=[_option_json(o) for o in options],
            **_parcel_prices(priced),
        )
        session.add(row)
        await session.flush()
        for line, tax in zip(parcel.lines, priced.line_taxes, strict=True):
            session.add(
                CheckoutLine(
                    checkout_id=checkout.id,
                    parcel_id=row.id,
                    shop_id=line.shop_id,
                    variant_id=line.item.variant_id,
                    product_id=line.product_id,
                    title=line.title,
                    sku=line.sku,
                    category=line.category,
                    quantity=line.item.quantity,
                    unit_price=line.unit_price.amount,
                    shop_discount=line.shop_discount.amount,
                    platform_discount=line.platform_discount.amount,
                    tax=tax.amount,
                    reservation_id=line.reservation_id,
                    source_kind=line.item.source_kind,
                    source_id=line.item.source_id,
                    creator_id=line.item.creator_id,
                    position=line.position,
                )
            )
    await session.flush()
    await _total(session, checkout)
    return checkout


def _parcel_prices(priced: _Priced) -> dict[str, Any]:
    return {
        "shipping_service_id": priced.option.service_id,
        "shipping_service_name": priced.option.service_name,
        "shipping": priced.option.compared_price.amount,
        "shipping_tax": priced.shipping_tax.amount,
        "duties": priced.duties.amount,
        "taxes": priced.taxes.amount,
        "fees": priced.fees.amount,
        "promised_delivery": priced.option.promised_delivery,
        "breakdown": priced.answer.model_dump(mode="json"),
    }


async def _total(session: AsyncSession, checkout: Checkout) -> None:
    lines = await lines_of(session, checkout.id)
    parcels = await parcels_of(session, checkout.id)
    checkout.subtotal = sum(x.unit_price * x.quantity for x in lines)
    checkout.shop_discount = sum(x.shop_discount for x in lines)
    checkout.platform_discount = sum(x.platform_discount for x in lines)
    checkout.shipping = sum(p.shipping for p in parcels)
    checkout.duties_and_taxes = sum(x.tax for x in lines) + sum(p.shipping_tax for p in parcels)
    checkout.total = (
        checkout.subtotal
        - checkout.shop_discount
        - checkout.platform_discount
        + checkout.shipping
        + checkout.duties_and_taxes
    )
    await session.flush()


async def choose_shipping(
    session: AsyncSession, checkout: Checkout, parcel_id: uuid.UUID, service_id: str
) -> Checkout:
    """The buyer picks another of a parcel's shipping options: landed cost and totals follow."""
    ensure_open(checkout)
    parcel = await session.get(CheckoutParcel, parcel_id)
    if parcel is None or parcel.checkout_id != checkout.id:
        raise CheckoutNotFound("No such parcel in this checkout.")
    if service_id not in {o["service_id"] for o in parcel.options}:
        raise Unprocessable(
            "Not one of this parcel's shipping options.",
            errors=[field_error("service_id", "unknown option", code="unknown_option")],
        )
    lines = [x for x in await lines_of(session, checkout.id) if x.parcel_id == parcel.id]
    variants = {
        x.variant_id: await catalog_service.get_variant(session, x.variant_id) for x in lines
    }
    warehouse_country = next(
        (
            w.warehouse.country
            for w in await catalog_service.warehouses_with_stock(session, lines[0].variant_id)
            if w.warehouse.id == parcel.warehouse_id
        ),
        None,
    )
    side = policy.default_side_mm()
    draft = _Parcel(parcel.shop_id, parcel.warehouse_id, warehouse_country or "", "")
    for x in lines:
        v = variants[x.variant_id]
        draft.lines.append(
            _Line(
                item=Item(x.variant_id, x.quantity),
                position=x.position,
                shop_id=x.shop_id,
                product_id=x.product_id,
                title=x.title,
                sku=x.sku,
                category=x.category,
                hs_code=v.hs_code,
                origin=v.origin_country,
                weight_g=v.weight_g or policy.default_unit_weight_g(),
                sides_mm=(v.length_mm or side, v.width_mm or side, v.height_mm or side),
                battery=v.contains_battery,
                liquid=v.contains_liquid,
                unit_price=Money(x.unit_price, checkout.currency),
                reservation_id=x.reservation_id,
                warehouse_id=parcel.warehouse_id,
                warehouse_country=warehouse_country or "",
                warehouse_code="",
                shop_discount=Money(x.shop_discount, checkout.currency),
                platform_discount=Money(x.platform_discount, checkout.currency),
            )
        )
    options = await _quote(session, draft, checkout.market, checkout.currency, utcnow())
    option = next((o for o in options if o.service_id == service_id), None)
    if option is None:
        raise NoShippingOption("That option no longer takes this parcel.")
    priced = await _land(
        session,
        [(x.hs_code, x.origin, x.net) for x in draft.lines],
        option,
        checkout.market,
        utcnow().date(),
    )
    for key, value in _parcel_prices(priced).items():
        setattr(parcel, key, value)
    parcel.options = [_option_json(o) for o in options]
    for x, tax in zip(lines, priced.line_taxes, strict=True):
        x.tax = tax.amount
    await session.flush()
    await _total(session, checkout)
    return checkout


# -- reading and checking --------------------------------------------------------------------


async def get_checkout(session: AsyncSession, checkout_id: uuid.UUID) -> Checkout:
    checkout = await session.get(Checkout, checkout_id)
    if checkout is None:
        raise CheckoutNotFound("No such checkout.")
    return checkout


async def get_checkout_of_buyer(
    session: AsyncSession, checkout_id: uuid.UUID, buyer_id: uuid.UUID
) -> Checkout:
    checkout = await session.get(Checkout, checkout_id)
    if checkout is None or checkout.buyer_id != buyer_id:
        raise CheckoutNotFound("No such checkout.")
    return checkout


async def lock_checkout(session: AsyncSession, checkout_id: uuid.UUID) -> Checkout:
    """The checkout, its row locked until the transaction ends (PostgreSQL; SQLite's writers
    are serialised already): confirmations and payment events of one checkout queue here."""
    checkout = await session.scalar(
        select(Checkout)
        .where(Checkout.id == checkout_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if checkout is None:
        raise CheckoutNotFound("No such checkout.")
    return checkout


async def lines_of(session: AsyncSession, checkout_id: uuid.UUID) -> list[CheckoutLine]:
    return list(
        (
            await session.scalars(
                select(CheckoutLine)
                .where(CheckoutLine.checkout_id == checkout_id)
                .order_by(CheckoutLine.position)
            )
        ).all()
    )


async def parcels_of(session: AsyncSession, checkout_id: uuid.UUID) -> list[CheckoutParcel]:
    return list(
        (
            await session.scalars(
                select(CheckoutParcel)
                .where(CheckoutParcel.checkout_id == checkout_id)
                .order_by(CheckoutParcel.position)
            )
        ).all()
    )


def ensure_open(checkout: Checkout) -> None:
    if checkout.status is CheckoutStatus.expired or (
        checkout.status is CheckoutStatus.open and utcnow() >= checkout.expires_at
    ):
        raise CheckoutExpired(
            "This checkout has expired and its stock was released; start again from the cart.",
            changes=[
                {
                    "line": None,
                    "field": "deadline",
                    "old": checkout.expires_at.isoformat(),
                    "new": None,
                }
            ],
        )
    if checkout.status is not CheckoutStatus.open:
        raise CheckoutClosed(f"This checkout is {checkout.status.value}.")


async def check_still_valid(
    session: AsyncSession, checkout: Checkout, expected_total: int | None = None
) -> None:
    """Refuse (409 `checkout_stale`, listing each change) when a price moved or an item left
    the market since the buyer saw the checkout; stock is held, so it cannot have moved."""
    ensure_open(checkout)
    changes: list[dict[str, Any]] = []
    for line in await lines_of(session, checkout.id):
        reservation = await inventory.get_reservation(session, line.reservation_id)
        if reservation.holder.startswith(FLASH_SALE_HOLD):
            continue  # the deal price was won in a flash sale and holds until its deadline
        try:
            price = await current_price(
                session, line.variant_id, checkout.market, line.source_kind, line.source_id
            )
        except VariantNotListed:
            changes.append({"line": line.position, "field": "listed", "old": True, "new": False})
            continue
        if price.amount != line.unit_price:
            changes.append(
                {
                    "line": line.position,
                    "field": "unit_price",
                    "old": line.unit_price,
                    "new": price.amount,
                }
            )
    if expected_total is not None and expected_total != checkout.total:
        changes.append(
            {"line": None, "field": "total", "old": expected_total, "new": checkout.total}
        )
    if changes:
        raise CheckoutStale(
            "The checkout changed since it was shown; look again before paying.",
            changes=changes,
        )


async def record_coupon_redemptions(session: AsyncSession, checkout: Checkout) -> None:
    """Count the checkout's coupons against their per-user limits (once)."""
    lines = await lines_of(session, checkout.id)
    for code in checkout.coupon_codes:
        coupon = await session.scalar(select(Coupon).where(Coupon.code == code))
        if coupon is None:
            continue
        done = await session.scalar(
            select(CouponRedemption.id).where(
                CouponRedemption.coupon_id == coupon.id,
                CouponRedemption.checkout_id == checkout.id,
            )
        )
        if done is not None:
            continue
        amount = sum(
            x.platform_discount if coupon.shop_id is None else x.shop_discount
            for x in lines
            if coupon.shop_id is None or x.shop_id == coupon.shop_id
        )
        session.add(
            CouponRedemption(
                coupon_id=coupon.id,
                user_id=checkout.buyer_id,
                checkout_id=checkout.id,
                amount=amount,
                currency=checkout.currency,
            )
        )
    await session.flush()


async def due_for_expiry(session: AsyncSession, now: datetime, limit: int = 200) -> list[uuid.UUID]:
    """Open checkouts past their deadline, and ones still waiting on the payment provider past
    the deadline plus the grace for 3-D Secure."""
    rows = await session.scalars(
        select(Checkout.id)
        .where(
            ((Checkout.status == CheckoutStatus.open) & (Checkout.expires_at <= now))
            | (
                (Checkout.status == CheckoutStatus.awaiting_payment)
                & (Checkout.expires_at <= now - policy.payment_grace())
            )
        )
        .order_by(Checkout.expires_at)
        .limit(limit)
    )
    return list(rows.all())


def item_ids(lines: list[CheckoutLine]) -> set[uuid.UUID]:
    return {x.variant_id for x in lines}
