"""Orders' HTTP routes: a buyer's orders, a shop's orders and their fulfilment, cancellation,
refunds, returns, and the customer-service conversation. Thin: the work is in the services."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

from fastapi import APIRouter, Depends, File, Form, Query, UploadFile, status
from sqlalchemy import select

from liveloop.accounts.auth import ShopStaff, SignedIn
from liveloop.accounts.service import Principal
from liveloop.checkout import flows
from liveloop.kit.db import utcnow
from liveloop.kit.deps import AppContainer, DbSession
from liveloop.kit.errors import Forbidden, Unprocessable, field_error
from liveloop.kit.pagination import Page, PageParams, page_params, paginate
from liveloop.orders import service as orders_service
from liveloop.orders import support
from liveloop.orders.models import Order, RequestKind
from liveloop.orders.schemas import (
    ConversationOut,
    MessageOut,
    OrderEventOut,
    OrderLineOut,
    OrderOut,
    OrderSummary,
    ReasonIn,
    RefundIn,
    RefundOut,
    ResolveIn,
    ResponseTimeOut,
    ReturnOut,
    ShipIn,
    SupportRequestOut,
)

router = APIRouter(prefix="/api/v1", tags=["orders"])


async def _order_out(session: DbSession, order: Order, principal: Principal) -> OrderOut:
    lines = await orders_service.lines_of(session, order.id)
    out = OrderOut.model_validate(order, from_attributes=True)
    out.lines = [OrderLineOut.model_validate(x) for x in lines]
    if principal.user_id == order.buyer_id and not principal.is_platform_admin:
        out.commission = None  # the platform's terms with the shop are not the buyer's business
    return out


# -- the buyer's side ------------------------------------------------------------------------


@router.get("/orders", response_model=Page[OrderSummary])
async def my_orders(
    principal: SignedIn, session: DbSession, params: PageParams = Depends(page_params)
) -> Page[OrderSummary]:
    rows: list[Order]
    rows, cursor = await paginate(
        session,
        select(Order).where(Order.buyer_id == principal.user_id),  # type: ignore[arg-type]
        keys=[Order.created_at, Order.id],
        params=params,
        scope="orders:buyer",
        descending=True,
    )
    return Page(items=[OrderSummary.model_validate(o) for o in rows], next_cursor=cursor)


@router.get("/orders/{order_id}", response_model=OrderOut)
async def get_order(order_id: uuid.UUID, principal: SignedIn, session: DbSession) -> OrderOut:
    """The order with its address: for the buyer, the shop's staff and admins only."""
    order = await orders_service.order_for(session, order_id, principal)
    return await _order_out(session, order, principal)


@router.get("/orders/{order_id}/events", response_model=list[OrderEventOut])
async def order_events(
    order_id: uuid.UUID, principal: SignedIn, session: DbSession
) -> list[OrderEventOut]:
    order = await orders_service.order_for(session, order_id, principal)
    return [
        OrderEventOut.model_validate(e) for e in await orders_service.events_of(session, order.id)
    ]


# -- the shop's side -------------------------------------------------------------------------


@router.get("/shops/{shop_id}/orders", response_model=Page[OrderSummary])
async def shop_orders(
    shop_id: uuid.UUID,
    principal: ShopStaff,
    session: DbSession,
    params: PageParams = Depends(page_params),
) -> Page[OrderSummary]:
    rows: list[Order]
    rows, cursor = await paginate(
        session,
        select(Order).where(Order.shop_id == shop_id),  # type: ignore[arg-type]
        keys=[Order.created_at, Order.id],
        params=params,
        scope=f"orders:shop:{shop_id}",
        descending=True,
    )
    return Page(items=[OrderSummary.model_validate(o) for o in rows], next_cursor=cursor)


@router.get("/shops/{shop_id}/orders/{order_id}", response_model=OrderOut)
async def shop_order(
    shop_id: uuid.UUID, order_id: uuid.UUID, principal: ShopStaff, session: DbSession
) -> OrderOut:
    order = await orders_service.order_of_shop(session, shop_id, order_id)
    return await _order_out(session, order, principal)


@router.post("/shops/{shop_id}/orders/{order_id}/fulfil", response_model=OrderOut)
async def fulfil(
    shop_id: uuid.UUID, order_id: uuid.UUID, principal: ShopStaff, session: DbSession
) -> OrderOut:
    await orders_service.order_of_shop(session, shop_id, order_id)
    order = await orders_service.mark_fulfilling(session, order_id, actor=principal.scope_key)
    return await _order_out(session, order, principal)


@router.post("/shops/{shop_id}/orders/{order_id}/ship", response_model=OrderOut)
async def ship(
    shop_id: uuid.UUID, order_id: uuid.UUID, body: ShipIn, principal: ShopStaff, session: DbSession
) -> OrderOut:
    await orders_service.order_of_shop(session, shop_id, order_id)
    order = await orders_service.mark_shipped(
        session, order_id, body.shipment_ref, actor=principal.scope_key
    )
    return await _order_out(session, order, principal)


@router.post("/shops/{shop_id}/orders/{order_id}/deliver", response_model=OrderOut)
async def deliver(
    shop_id: uuid.UUID, order_id: uuid.UUID, principal: ShopStaff, session: DbSession
) -> OrderOut:
    await orders_service.order_of_shop(session, shop_id, order_id)
    order = await orders_service.mark_delivered(session, order_id, actor=principal.scope_key)
    return await _order_out(session, order, principal)


@router.post("/shops/{shop_id}/orders/{order_id}/cancel", response_model=OrderOut)
async def cancel(
    shop_id: uuid.UUID,
    order_id: uuid.UUID,
    body: ReasonIn,
    principal: ShopStaff,
    session: DbSession,
    container: AppContainer,
) -> OrderOut:
    """Cancel before shipment: stock back, and a paid order refunded in full."""
    await orders_service.order_of_shop(session, shop_id, order_id)
    order = await orders_service.lock_order(session, order_id)
    await orders_service.cancel_order(
        session,
        flows.payments_of(container),
        order,
        actor=principal.scope_key,
        reason=body.reason,
    )
    return await _order_out(session, order, principal)


@router.post(
    "/shops/{shop_id}/orders/{order_id}/refunds",
    response_model=RefundOut,
    status_code=status.HTTP_201_CREATED,
)
async def refund(
    shop_id: uuid.UUID,
    order_id: uuid.UUID,
    body: RefundIn,
    principal: ShopStaff,
    session: DbSession,
    container: AppContainer,
) -> RefundOut:
    """Refund units of lines (and delivery), with a reason; taxes and commission follow.
    Send an `Idempotency-Key`: the same key never refunds twice."""
    await orders_service.order_of_shop(session, shop_id, order_id)
    order = await orders_service.lock_order(session, order_id)
    row = await orders_service.refund_order(
        session,
        flows.payments_of(container),
        order,
        lines=[(x.line_id, x.quantity) for x in body.lines],
        include_shipping=body.include_shipping,
        reason=body.reason,
        actor=principal.scope_key,
        key=f"manual:{uuid.uuid4()}",
    )
    return RefundOut.model_validate(row)


@router.post(
    "/shops/{shop_id}/orders/{order_id}/returns/{return_id}/receive", response_model=RefundOut
)
async def receive_return(
    shop_id: uuid.UUID,
    order_id: uuid.UUID,
    return_id: uuid.UUID,
    principal: ShopStaff,
    session: DbSession,
    container: AppContainer,
) -> RefundOut:
    """The returned goods arrived: restock and refund them."""
    await orders_service.order_of_shop(session, shop_id, order_id)
    order = await orders_service.lock_order(session, order_id)
    row = await orders_service.get_return(session, order, return_id)
    refund_row = await orders_service.receive_return(
        session, flows.payments_of(container), order, row, actor=principal.scope_key
    )
    return RefundOut.model_validate(refund_row)


@router.get("/orders/{order_id}/returns", response_model=list[ReturnOut])
async def returns_of(
    order_id: uuid.UUID, principal: SignedIn, session: DbSession
) -> list[ReturnOut]:
    from liveloop.orders.models import OrderReturn

    order = await orders_service.order_for(session, order_id, principal)
    rows = await session.scalars(
        select(OrderReturn).where(OrderReturn.order_id == order.id).order_by(OrderReturn.created_at)
    )
    return [ReturnOut.model_validate(r) for r in rows]


# -- customer service ------------------------------------------------------------------------


async def _conversation_out(
    session: DbSession, container: AppContainer, order: Order
) -> ConversationOut:
    conversation = await support.conversation_of(session, order)
    messages = await support.messages_of(session, conversation.id)
    requests = await support.requests_of(session, order.id)
    storage = container.media_storage
    return ConversationOut(
        id=conversation.id,
        order_id=order.id,
        platform_joined=conversation.platform_joined_at is not None,
        awaiting_shop_since=conversation.awaiting_shop_since,
        messages=[
            MessageOut(
                id=m.id,
                author_role=m.author_role,
                body=m.body,
                attachment_url=storage.url(m.attachment_key) if m.attachment_key else None,
                request_id=m.request_id,
                created_at=m.created_at,
            )
            for m in messages
        ],
        requests=[SupportRequestOut.model_validate(r) for r in requests],
    )


@router.get("/orders/{order_id}/conversation", response_model=ConversationOut)
async def conversation(
    order_id: uuid.UUID, principal: SignedIn, session: DbSession, container: AppContainer
) -> ConversationOut:
    """The order's thread between buyer and shop (admins may read and join)."""
    order = await orders_service.order_for(session, order_id, principal)
    return await _conversation_out(session, container, order)


@router.post(
    "/orders/{order_id}/conversation/messages",
    response_model=ConversationOut,
    status_code=status.HTTP_201_CREATED,
)
async def post_message(
    order_id: uuid.UUID,
    principal: SignedIn,
    session: DbSession,
    container: AppContainer,
    body: str = Form(min_length=1, max_length=4000),
    request: RequestKind | None = Form(default=None),
    request_details: str | None = Form(default=None, max_length=10_000),
    image: UploadFile | None = File(default=None),
) -> ConversationOut:
    """A message, with an optional image; the buyer may open a request (`cancellation`,
    `return` with `request_details` `{"lines": [{"line_id", "quantity"}], "reason"}`, or
    `where_is_my_parcel`)."""
    order = await orders_service.order_for(session, order_id, principal)
    details = None
    if request_details:
        try:
            details = json.loads(request_details)
        except ValueError as exc:
            raise Unprocessable(
                "request_details is not JSON.", errors=[field_error("request_details", "not JSON")]
            ) from exc
        if not isinstance(details, dict):
            raise Unprocessable(
                "request_details is a JSON object.",
                errors=[field_error("request_details", "not an object")],
            )
    attached = None
    if image is not None:
        data = await image.read(support.MAX_IMAGE_BYTES + 1)
        attached = support.Image(data, image.content_type or "application/octet-stream")
    await support.post_message(
        session,
        container.media_storage,
        order,
        principal,
        body=body,
        image=attached,
        request=request,
        request_details=details,
    )
    return await _conversation_out(session, container, order)


@router.post("/orders/{order_id}/requests/{request_id}/resolve", response_model=SupportRequestOut)
async def resolve_request(
    order_id: uuid.UUID,
    request_id: uuid.UUID,
    body: ResolveIn,
    principal: SignedIn,
    session: DbSession,
    container: AppContainer,
) -> SupportRequestOut:
    """The shop (or an admin) accepts or declines a buyer's request."""
    order = await orders_service.order_for(session, order_id, principal)
    if not (principal.may_act_for_shop(order.shop_id) or principal.is_platform_admin):
        raise Forbidden("Only the shop or liveloop answers a request.")
    order = await orders_service.lock_order(session, order.id)
    row = await support.resolve_request(
        session,
        flows.payments_of(container),
        order,
        request_id,
        accept=body.accept,
        actor=principal.scope_key,
        note=body.note,
    )
    return SupportRequestOut.model_validate(row)


@router.get("/shops/{shop_id}/response-time", response_model=ResponseTimeOut)
async def response_time(
    shop_id: uuid.UUID,
    principal: ShopStaff,
    session: DbSession,
    days: int = Query(default=30, ge=1, le=365),
) -> ResponseTimeOut:
    """Average time from a buyer's message to the shop's first reply, over `days`."""
    now = utcnow()
    found = await support.response_time(session, shop_id, now - timedelta(days=days), now)
    return ResponseTimeOut(
        shop_id=shop_id,
        days=days,
        replies=found.replies,
        average_seconds=found.average_seconds,
        waiting_now=found.waiting_now,
    )
