"""Event types creators raises (outbox), the events it reacts to, and its handlers."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from liveloop.kit.outbox import DomainEvent, EventBus
from liveloop.live import events as live_events
from liveloop.orders import service as orders_service

if TYPE_CHECKING:
    from liveloop.bootstrap import Container

CREATOR_CREATED = "creators.creator_created"
CREATOR_FOLLOWED = "creators.creator_followed"
CREATOR_UNFOLLOWED = "creators.creator_unfollowed"
OFFER_CREATED = "creators.affiliate_offer_created"
OFFER_ENDED = "creators.affiliate_offer_ended"
VIDEO_PUBLISHED = "creators.video_published"
COMMISSION_EARNED = "creators.commission_earned"
COMMISSION_REVERSED = "creators.commission_reversed"
COMMISSIONS_PAID_OUT = "creators.commissions_paid_out"


def register(bus: EventBus, container: Container) -> None:
    """Creators' reactions: notify followers of their creator's live sessions; earn and reverse
    commissions as orders are paid and refunded."""

    # Imported here: they import this module for the event types they raise.
    from liveloop.creators import flows, notifications

    async def notify_followers(session: AsyncSession, event: DomainEvent) -> None:
        await notifications.on_live_session(
            session,
            event,
            accounts=container.accounts,
            live=container.live,
            sender=container.creators.email,
            public_base_url=container.settings.public_base_url,
        )

    async def earn_commissions(session: AsyncSession, event: DomainEvent) -> None:
        await flows.order_paid(
            session, event, ledger=container.creators.ledger, live=container.live
        )

    async def reverse_commissions(session: AsyncSession, event: DomainEvent) -> None:
        await flows.order_refunded(session, event, ledger=container.creators.ledger)

    async def hold_commissions(session: AsyncSession, event: DomainEvent) -> None:
        await flows.order_delivered(session, event)

    bus.subscribe(live_events.SESSION_SCHEDULED, notify_followers, name="creators.notify_followers")
    bus.subscribe(live_events.SESSION_STARTED, notify_followers, name="creators.notify_followers")
    bus.subscribe(orders_service.ORDER_PAID, earn_commissions, name="creators.earn_commissions")
    bus.subscribe(
        orders_service.ORDER_REFUNDED, reverse_commissions, name="creators.reverse_commissions"
    )
    bus.subscribe(
        orders_service.ORDER_DELIVERED, hold_commissions, name="creators.hold_commissions"
    )
