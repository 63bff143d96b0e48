"""Checkout's HTTP routes: carts, checkouts (and the express path from a live tag), confirmation
with payment, coupons. Thin: the work is in the service modules and `flows.py`."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Header, Response, status

from liveloop.accounts.auth import Admin, Public, ShopOwner, SignedIn
from liveloop.accounts.service import Principal
from liveloop.catalog.taxonomy import check_market
from liveloop.catalog.taxonomy import market as market_info
from liveloop.checkout import cart as carts
from liveloop.checkout import flows
from liveloop.checkout import service as checkout_service
from liveloop.checkout.errors import CartNotFound
from liveloop.checkout.models import Cart, Checkout
from liveloop.checkout.schemas import (
    CartCreate,
    CartLineIn,
    CartLineOut,
    CartLineUpdate,
    CartMerge,
    CartOut,
    CheckoutCreate,
    CheckoutLineOut,
    CheckoutOut,
    ConfirmIn,
    CouponIn,
    CouponOut,
    ExpressCheckoutCreate,
    ParcelOut,
    ShippingChoice,
    ShippingOptionOut,
    TotalsOut,
)
from liveloop.kit.db import utcnow
from liveloop.kit.deps import AppContainer, DbSession
from liveloop.kit.errors import Unprocessable, field_error
from liveloop.orders import service as orders_service
from liveloop.payments.models import Payment
from liveloop.payments.provider import CardDetails, PaymentMethod

router = APIRouter(prefix="/api/v1", tags=["checkout"])

CART_TOKEN_HEADER = "X-Cart-Token"


def _market(value: str, field: str = "market") -> str:
    try:
        return check_market(value)
    except ValueError as exc:
        raise Unprocessable(str(exc), errors=[field_error(field, str(exc))]) from exc


def _buyer_market(principal: Principal | None, requested: str | None) -> str:
    if requested:
        return _market(requested)
    if principal is not None and principal.country:
        return _market(principal.country)
    raise Unprocessable("Name the market.", errors=[field_error("market", "required")])


async def _cart(
    session: DbSession, principal: Principal | None, token: str | None, market: str | None = None
) -> Cart:
    if principal is not None and principal.kind == "user" and principal.user_id is not None:
        if token:
            # A guest who signed in keeps using the guest cart until it is merged.
            try:
                return await carts.cart_of_token(session, token)
            except CartNotFound:
                pass
        return await carts.cart_of_user(
            session, principal.user_id, _buyer_market(principal, market)
        )
    if not token:
        raise CartNotFound(f"Send the {CART_TOKEN_HEADER} header from POST /api/v1/carts.")
    return await carts.cart_of_token(session, token)


async def _cart_out(session: DbSession, cart: Cart, token: str | None = None) -> CartOut:
    priced = await carts.price_cart(session, cart)
    return CartOut(
        id=cart.id,
        market=cart.market,
        currency=market_info(cart.market).currency,
        cart_token=token,
        lines=[
            CartLineOut(
                id=p.line.id,
                variant_id=p.line.variant_id,
                shop_id=p.line.shop_id,
                quantity=p.line.quantity,
                unit_price=p.unit_price.amount,
                currency=p.unit_price.currency,
                listed=p.listed,
                available=p.available,
                previous_unit_price=p.previous_price.amount if p.previous_price else None,
                source_kind=p.line.source_kind,
                source_id=p.line.source_id,
                creator_id=p.line.creator_id,
            )
            for p in priced.lines
        ],
        subtotal=priced.subtotal.amount,
    )


@router.post("/carts", response_model=CartOut, status_code=status.HTTP_201_CREATED)
async def create_cart(body: CartCreate, principal: Public, session: DbSession) -> CartOut:
    """A guest cart (its `cart_token` is shown once), or the signed-in buyer's own cart."""
    market = _market(body.market)
    if principal is not None and principal.kind == "user" and principal.user_id is not None:
        cart = await carts.cart_of_user(session, principal.user_id, market)
        return await _cart_out(session, cart)
    cart, token = await carts.create_guest_cart(session, market)
    return await _cart_out(session, cart, token)


@router.get("/carts/current", response_model=CartOut)
async def get_cart(
    principal: Public,
    session: DbSession,
    cart_token: str | None = Header(default=None, alias=CART_TOKEN_HEADER),
) -> CartOut:
    """The cart with every price re-checked; `previous_unit_price` marks a change."""
    return await _cart_out(session, await _cart(session, principal, cart_token))


@router.post("/carts/lines", response_model=CartOut, status_code=status.HTTP_201_CREATED)
async def add_cart_line(
    body: CartLineIn,
    principal: Public,
    session: DbSession,
    cart_token: str | None = Header(default=None, alias=CART_TOKEN_HEADER),
) -> CartOut:
    """Add an item; `source_kind`/`source_id` say where the buyer found it (a live session's
    tap-to-buy sends `live` and the session id)."""
    cart = await _cart(session, principal, cart_token, body.market)
    await carts.add_line(
        session,
        cart,
        variant_id=body.variant_id,
        quantity=body.quantity,
        source_kind=body.source_kind,
        source_id=body.source_id,
        creator_id=body.creator_id,
        currency=body.currency,
    )
    return await _cart_out(session, cart)


@router.patch("/carts/lines/{line_id}", response_model=CartOut)
async def update_cart_line(
    line_id: uuid.UUID,
    body: CartLineUpdate,
    principal: Public,
    session: DbSession,
    cart_token: str | None = Header(default=None, alias=CART_TOKEN_HEADER),
) -> CartOut:
    cart = await _cart(session, principal, cart_token)
    await carts.set_quantity(session, cart, line_id, body.quantity)
    return await _cart_out(session, cart)


@router.delete("/carts/lines/{line_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_cart_line(
    line_id: uuid.UUID,
    principal: Public,
    session: DbSession,
    cart_token: str | None = Header(default=None, alias=CART_TOKEN_HEADER),
) -> Response:
    cart = await _cart(session, principal, cart_token)
    await carts.remove_line(session, cart, line_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/carts/merge", response_model=CartOut)
async def merge_cart(body: CartMerge, principal: SignedIn, session: DbSession) -> CartOut:
    """At sign-in: the guest cart's lines join the buyer's cart."""
    assert principal.user_id is not None
    guest = await carts.cart_of_token(session, body.cart_token)
    mine = await carts.cart_of_user(session, principal.user_id, guest.market)
    await carts.merge_guest_cart(session, mine, body.cart_token)
    return await _cart_out(session, mine)


# -- checkouts -------------------------------------------------------------------------------


async def _checkout_out(
    session: DbSession, container: AppContainer, checkout: Checkout, payment: Payment | None = None
) -> CheckoutOut:
    lines = await checkout_service.lines_of(session, checkout.id)
    parcels = await checkout_service.parcels_of(session, checkout.id)
    if payment is None and checkout.payment_id is not None:
        payment = await flows.payments_of(container).get_payment(session, checkout.payment_id)
    orders = await orders_service.orders_of_checkout(session, checkout.id)
    return CheckoutOut(
        id=checkout.id,
        status=checkout.status,
        market=checkout.market,
        express=checkout.express,
        expires_at=checkout.expires_at,
        seconds_left=max(0, int((checkout.expires_at - utcnow()).total_seconds())),
        coupon_codes=checkout.coupon_codes,
        address=checkout.address,
        parcels=[
            ParcelOut(
                id=p.id,
                shop_id=p.shop_id,
                shipping_service_id=p.shipping_service_id,
                shipping_service_name=p.shipping_service_name,
                shipping=p.shipping,
                shipping_tax=p.shipping_tax,
                duties=p.duties,
                taxes=p.taxes,
                fees=p.fees,
                promised_delivery=p.promised_delivery,
                options=[ShippingOptionOut.model_validate(o) for o in p.options],
                landed_cost=p.breakdown,
                lines=[CheckoutLineOut.model_validate(x) for x in lines if x.parcel_id == p.id],
            )
            for p in parcels
        ],
        totals=TotalsOut(
            currency=checkout.currency,
            subtotal=checkout.subtotal,
            shop_discount=checkout.shop_discount,
            platform_discount=checkout.platform_discount,
            shipping=checkout.shipping,
            duties_and_taxes=checkout.duties_and_taxes,
            total=checkout.total,
        ),
        payment_id=checkout.payment_id,
        payment_status=payment.status.value if payment is not None else None,
        challenge_url=checkout.challenge_url,
        decline_code=payment.decline_code if payment is not None else None,
        order_ids=[o.id for o in orders],
    )


async def _email(session: DbSession, container: AppContainer, principal: Principal) -> str:
    assert principal.user_id is not None
    user = await container.accounts.get_user(session, principal.user_id)
    return user.email


@router.post("/checkouts", response_model=CheckoutOut, status_code=status.HTTP_201_CREATED)
async def create_checkout(
    body: CheckoutCreate, principal: SignedIn, session: DbSession, container: AppContainer
) -> CheckoutOut:
    """Check out the buyer's cart: parcels per shop and warehouse, shipping options, landed
    cost, coupons and totals; the stock is held until `expires_at`."""
    assert principal.user_id is not None
    cart = await carts.cart_of_user(session, principal.user_id, _buyer_market(principal, None))
    lines = await carts.lines_of(session, cart.id)
    checkout = await checkout_service.create_checkout(
        session,
        buyer_id=principal.user_id,
        email=body.email or await _email(session, container, principal),
        market=cart.market,
        items=[
            checkout_service.Item(
                x.variant_id, x.quantity, x.source_kind, x.source_id, x.creator_id
            )
            for x in lines
        ],
        address=body.address.model_dump(),
        coupon_codes=body.coupon_codes,
        shipping_choices=body.shipping,
        currency=body.currency,
        cart_id=cart.id,
    )
    return await _checkout_out(session, container, checkout)


@router.post("/checkouts/express", response_model=CheckoutOut, status_code=status.HTTP_201_CREATED)
async def create_express_checkout(
    body: ExpressCheckoutCreate, principal: SignedIn, session: DbSession, container: AppContainer
) -> CheckoutOut:
    """One item straight from a live tag, without the cart."""
    assert principal.user_id is not None
    market = _buyer_market(principal, body.market or body.address.country)
    held = None
    if body.flash_claim_id is not None:
        won = await container.live.flash.claim_for_checkout(
            session,
            body.flash_claim_id,
            buyer_id=principal.user_id,
            variant_id=body.variant_id,
            quantity=body.quantity,
            market=market,
        )
        held = checkout_service.HeldUnits(won.reservation_id, won.unit_price, won.expires_at)
    checkout = await checkout_service.create_checkout(
        session,
        buyer_id=principal.user_id,
        email=body.email or await _email(session, container, principal),
        market=market,
        items=[
            checkout_service.Item(
                body.variant_id,
                body.quantity,
                body.source_kind,
                body.source_id,
                body.creator_id,
                held,
            )
        ],
        address=body.address.model_dump(),
        coupon_codes=body.coupon_codes,
        shipping_choices=body.shipping,
        currency=body.currency,
        express=True,
    )
    return await _checkout_out(session, container, checkout)


@router.get("/checkouts/{checkout_id}", response_model=CheckoutOut)
async def get_checkout(
    checkout_id: uuid.UUID, principal: SignedIn, session: DbSession, container: AppContainer
) -> CheckoutOut:
    assert principal.user_id is not None
    checkout = await checkout_service.get_checkout_of_buyer(session, checkout_id, principal.user_id)
    return await _checkout_out(session, container, checkout)


@router.post("/checkouts/{checkout_id}/parcels/{parcel_id}/shipping", response_model=CheckoutOut)
async def choose_shipping(
    checkout_id: uuid.UUID,
    parcel_id: uuid.UUID,
    body: ShippingChoice,
    principal: SignedIn,
    session: DbSession,
    container: AppContainer,
) -> CheckoutOut:
    assert principal.user_id is not None
    checkout = await checkout_service.get_checkout_of_buyer(session, checkout_id, principal.user_id)
    checkout = await checkout_service.choose_shipping(session, checkout, parcel_id, body.service_id)
    return await _checkout_out(session, container, checkout)


def _payment_method(body: ConfirmIn) -> PaymentMethod:
    if body.card is not None:
        return CardDetails(body.card.number, body.card.exp_month, body.card.exp_year, body.card.cvc)
    if body.payment_method:
        return body.payment_method
    raise Unprocessable(
        "Give a card or a payment method token.",
        errors=[field_error("payment_method", "required", code="missing")],
    )


@router.post("/checkouts/{checkout_id}/confirm", response_model=CheckoutOut)
async def confirm_checkout(
    checkout_id: uuid.UUID,
    body: ConfirmIn,
    principal: SignedIn,
    session: DbSession,
    container: AppContainer,
) -> CheckoutOut:
    """Pay and place the orders, once. A declined card leaves the checkout open (status
    `open`, `payment_status: failed`); 3-D Secure answers `awaiting_payment` with the
    `challenge_url`; confirm again after the challenge."""
    assert principal.user_id is not None
    payments = flows.payments_of(container)
    result = await flows.confirm_checkout(
        session,
        payments,
        checkout_id,
        buyer_id=principal.user_id,
        payment_method=_payment_method(body),
        return_url=body.return_url,
        expected_total=body.expected_total,
    )
    return await _checkout_out(session, container, result.checkout, result.payment)


# -- coupons ---------------------------------------------------------------------------------


async def _coupon(
    session: DbSession, body: CouponIn, shop_id: uuid.UUID | None, principal: Principal
) -> CouponOut:
    coupon = await checkout_service.create_coupon(
        session,
        code=body.code,
        shop_id=shop_id,
        kind=body.kind,
        percent_off=body.percent_off,
        amount_off=body.amount_off,
        currency=body.currency,
        min_spend=body.min_spend,
        per_user_limit=body.per_user_limit,
        starts_at=body.starts_at,
        ends_at=body.ends_at,
        actor=principal.scope_key,
    )
    return CouponOut.model_validate(coupon)


@router.post(
    "/shops/{shop_id}/coupons", response_model=CouponOut, status_code=status.HTTP_201_CREATED
)
async def create_shop_coupon(
    shop_id: uuid.UUID, body: CouponIn, principal: ShopOwner, session: DbSession
) -> CouponOut:
    """A coupon on this shop's goods, paid for by the shop."""
    return await _coupon(session, body, shop_id, principal)


@router.post("/admin/coupons", response_model=CouponOut, status_code=status.HTTP_201_CREATED)
async def create_platform_coupon(body: CouponIn, principal: Admin, session: DbSession) -> CouponOut:
    """A coupon on a whole checkout, paid for by liveloop."""
    return await _coupon(session, body, None, principal)
