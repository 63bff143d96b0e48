"""Customer service: one conversation per order between buyer and shop (the platform may join),
messages with optional images, the shop's response-time clock, and the requests (cancellation,
return, where is my parcel) that start from the conversation."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from liveloop.accounts.service import Principal
from liveloop.kit.db import new_id, utcnow
from liveloop.kit.errors import Forbidden, field_error
from liveloop.kit.storage import MediaStorage
from liveloop.moderation import service as moderation_service
from liveloop.orders import service as orders_service
from liveloop.orders.errors import (
    AttachmentRefused,
    IllegalTransition,
    RequestNotFound,
    RequestStateConflict,
)
from liveloop.orders.models import (
    AuthorRole,
    Conversation,
    Message,
    Order,
    OrderStatus,
    RequestKind,
    RequestStatus,
    ShopResponse,
    SupportRequest,
)
from liveloop.payments.service import Payments

IMAGE_TYPES = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}
MAX_IMAGE_BYTES = 5 * 1024 * 1024
_CANCELLABLE = (OrderStatus.pending_payment, OrderStatus.paid, OrderStatus.fulfilling)


def role_of(order: Order, principal: Principal) -> AuthorRole:
    """How the caller speaks in this order's conversation."""
    if principal.user_id == order.buyer_id:
        return AuthorRole.buyer
    if principal.may_act_for_shop(order.shop_id):
        return AuthorRole.shop
    if principal.is_platform_admin:
        return AuthorRole.platform
    raise Forbidden("Not your conversation.")


async def conversation_of(session: AsyncSession, order: Order) -> Conversation:
    found = await session.scalar(select(Conversation).where(Conversation.order_id == order.id))
    if found is None:
        found = Conversation(order_id=order.id, shop_id=order.shop_id, buyer_id=order.buyer_id)
        session.add(found)
        await session.flush()
    return found


async def messages_of(session: AsyncSession, conversation_id: uuid.UUID) -> list[Message]:
    return list(
        (
            await session.scalars(
                select(Message)
                .where(Message.conversation_id == conversation_id)
                .order_by(Message.created_at, Message.id)
            )
        ).all()
    )


async def requests_of(session: AsyncSession, order_id: uuid.UUID) -> list[SupportRequest]:
    return list(
        (
            await session.scalars(
                select(SupportRequest)
                .where(SupportRequest.order_id == order_id)
                .order_by(SupportRequest.created_at)
            )
        ).all()
    )


@dataclass(frozen=True, slots=True)
class Image:
    data: bytes
    content_type: str


async def post_message(
    session: AsyncSession,
    storage: MediaStorage,
    order: Order,
    principal: Principal,
    *,
    body: str,
    image: Image | None = None,
    request: RequestKind | None = None,
    request_details: dict[str, Any] | None = None,
) -> Message:
    """Add a message (links out are refused, as everywhere); the buyer may start a request."""
    role = role_of(order, principal)
    moderation_service.ensure_allowed("body", body)
    conversation = await conversation_of(session, order)
    if role is AuthorRole.platform and conversation.platform_joined_at is None:
        conversation.platform_joined_at = utcnow()
    message_id = new_id()
    key = None
    if image is not None:
        ext = IMAGE_TYPES.get(image.content_type)
        if ext is None:
            raise AttachmentRefused(
                "Attach a JPEG, PNG or WebP image.",
                errors=[field_error("image", "not an image type we keep")],
            )
        if len(image.data) > MAX_IMAGE_BYTES:
            raise AttachmentRefused(
                "Images are at most 5 MiB.", errors=[field_error("image", "too large")]
            )
        key = f"support/{order.id}/{message_id}.{ext}"
        await storage.save(key, image.data, image.content_type)
    request_id = None
    if request is not None:
        if role is not AuthorRole.buyer:
            raise Forbidden("Requests are the buyer's to make.")
        row = await open_request(
            session, order, request, actor=principal.scope_key, details=request_details or {}
        )
        request_id = row.id
    now = utcnow()
    message = Message(
        id=message_id,
        conversation_id=conversation.id,
        author_id=principal.user_id,
        author_role=role,
        body=body,
        attachment_key=key,
        request_id=request_id,
        created_at=now,
    )
    session.add(message)
    if role is AuthorRole.buyer and conversation.awaiting_shop_since is None:
        conversation.awaiting_shop_since = now
    elif role is AuthorRole.shop and conversation.awaiting_shop_since is not None:
        session.add(
            ShopResponse(
                shop_id=order.shop_id,
                conversation_id=conversation.id,
                waited_seconds=int((now - conversation.awaiting_shop_since).total_seconds()),
                answered_at=now,
            )
        )
        conversation.awaiting_shop_since = None
        for pending in await requests_of(session, order.id):
            if pending.kind is RequestKind.where_is_my_parcel and (
                pending.status is RequestStatus.open
            ):
                pending.status = RequestStatus.answered
                pending.resolved_by = principal.scope_key
                pending.resolved_at = now
    await session.flush()
    return message


async def open_request(
    session: AsyncSession,
    order: Order,
    kind: RequestKind,
    *,
    actor: str,
    details: dict[str, Any],
) -> SupportRequest:
    if kind is RequestKind.cancellation and order.status not in _CANCELLABLE:
        raise IllegalTransition(
            f"A {order.status.value} order can no longer be cancelled; ask for a return."
        )
    if kind is RequestKind.return_:
        lines = [
            (uuid.UUID(str(x["line_id"])), int(x["quantity"])) for x in details.get("lines", [])
        ]
        row = await orders_service.request_return(
            session, order, lines=lines, reason=str(details.get("reason", "")), actor=actor
        )
        details = {**details, "return_id": str(row.id)}
    if kind is RequestKind.where_is_my_parcel:
        details = {
            **details,
            "fulfilment_status": order.fulfilment_status.value,
            "shipment_refs": list(order.shipment_refs),
        }
    request = SupportRequest(
        order_id=order.id,
        kind=kind,
        status=RequestStatus.open,
        details=details,
        created_by=actor,
    )
    session.add(request)
    await session.flush()
    return request


async def resolve_request(
    session: AsyncSession,
    payments: Payments,
    order: Order,
    request_id: uuid.UUID,
    *,
    accept: bool,
    actor: str,
    note: str = "",
) -> SupportRequest:
    """The shop (or the platform) accepts or declines: an accepted cancellation cancels and
    refunds; an accepted return is approved, to be refunded when the goods arrive."""
    request = await session.get(SupportRequest, request_id)
    if request is None or request.order_id != order.id:
        raise RequestNotFound("No such request on this order.")
    if request.status is not RequestStatus.open:
        raise RequestStateConflict(f"This request is {request.status.value}.")
    if accept and request.kind is RequestKind.cancellation:
        await orders_service.cancel_order(
            session, payments, order, actor=actor, reason=note or "cancelled at buyer's request"
        )
    elif request.kind is RequestKind.return_:
        row = await orders_service.get_return(
            session, order, uuid.UUID(str(request.details["return_id"]))
        )
        await orders_service.decide_return(session, row, approve=accept, actor=actor)
    request.status = RequestStatus.accepted if accept else RequestStatus.declined
    request.resolved_by = actor
    request.resolution = note or None
    request.resolved_at = utcnow()
    await session.flush()
    return request


@dataclass(frozen=True, slots=True)
class ResponseTime:
    shop_id: uuid.UUID
    replies: int
    average_seconds: int | None
    waiting_now: int
    """Conversations where a buyer is waiting for the shop's answer at this moment."""


async def response_time(
    session: AsyncSession, shop_id: uuid.UUID, since: datetime, until: datetime
) -> ResponseTime:
    row = (
        await session.execute(
            select(func.count(), func.avg(ShopResponse.waited_seconds)).where(
                ShopResponse.shop_id == shop_id,
                ShopResponse.answered_at >= since,
                ShopResponse.answered_at < until,
            )
        )
    ).one()
    waiting = await session.scalar(
        select(func.count())
        .select_from(Conversation)
        .where(Conversation.shop_id == shop_id, Conversation.awaiting_shop_since.is_not(None))
    )
    count, average = int(row[0] or 0), row[1]
    return ResponseTime(
        shop_id,
        count,
        round(float(average)) if average is not None else None,
        int(waiting or 0),
    )
