"""Random histories of confirmations (double taps, declined and 3-D Secure cards), webhooks
delivered late, twice and out of order, expiry, cancellation and refunds: the ledger stays
balanced after every step, a checkout never gets two orders per shop nor two charges, and no
payment or order is refunded beyond what was paid."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import hypothesis.strategies as st
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from liveloop.app import create_app
from liveloop.bootstrap import bootstrap
from liveloop.checkout import flows
from liveloop.checkout import service as checkout_service
from liveloop.kit.errors import LiveloopError
from liveloop.kit.settings import Settings
from liveloop.ledger import service as ledger_service
from liveloop.orders import service as orders_service
from liveloop.orders.models import Order
from liveloop.payments import endpoints as payments_endpoints
from liveloop.payments.config import attach_embedded_paysim
from liveloop.payments.models import Payment, PaymentStatus
from liveloop.payments.paysim import PaysimConfig
from liveloop.payments.paysim_app import create_paysim_app, paysim_of
from liveloop.payments.sandbox import SandboxProvider
from liveloop.payments.service import Payments
from tests.integration.catalog.conftest import make_stocked
from tests.integration.commerce.conftest import GB_ADDRESS, WEBHOOK_URL, SimClock, add_rates

CARDS = ["pm_card_visa", "pm_card_chargeDeclined", "pm_card_authenticationRequired"]

steps = st.lists(
    st.one_of(
        st.tuples(st.just("confirm"), st.integers(0, len(CARDS) - 1)),
        st.tuples(st.just("confirm"), st.just(0)),
        st.tuples(st.just("challenge"), st.booleans()),
        st.tuples(st.just("webhooks"), st.booleans()),
        st.tuples(st.just("resend"), st.integers(0, 50)),
        st.tuples(st.just("drain"), st.just(0)),
        st.tuples(st.just("expire"), st.just(0)),
        st.tuples(st.just("cancel"), st.integers(0, 1)),
        st.tuples(st.just("refund"), st.integers(0, 1)),
    ),
    min_size=2,
    max_size=10,
)


async def _listed(session: AsyncSession, price: int) -> uuid.UUID:
    from liveloop.catalog import service as catalog_service
    from liveloop.catalog.models import ListingStatus
    from liveloop.catalog.schemas import ListingCreate

    stocked = await make_stocked(session, on_hand=10)
    listing = await catalog_service.create_listing(
        session,
        stocked.shop.id,
        stocked.product.id,
        ListingCreate(market="GB", price=price, currency="GBP"),
        actor="test",
    )
    listing = await catalog_service.submit_listing(session, stocked.shop.id, listing.id, actor="t")
    if listing.status is ListingStatus.pending_review:
        await catalog_service.approve_listing(session, listing.id, actor="test", reason="ok")
    return stocked.variant.id


async def _check(sessions: async_sessionmaker[AsyncSession], checkout_id: uuid.UUID) -> None:
    async with sessions() as session:
        assert await ledger_service.unbalanced_entries(session) == []
        assert all(v == 0 for v in (await ledger_service.trial_balance(session)).values())
        rows = await session.execute(
            select(Order.shop_id, func.count())
            .where(Order.checkout_id == checkout_id)
            .group_by(Order.shop_id)
        )
        assert all(n == 1 for _, n in rows)
        payments = (
            await session.scalars(
                select(Payment).where(Payment.reference == flows.reference_of(checkout_id))
            )
        ).all()
        assert sum(1 for p in payments if p.captured_amount > 0) <= 1
        for p in payments:
            assert 0 <= p.refunded_amount <= p.captured_amount
        for order in (await session.scalars(select(Order))).all():
            assert 0 <= order.refunded_amount <= order.total


@hypothesis_settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(history=steps, seed=st.integers(0, 2**16), duplicates=st.sampled_from([0.0, 1.0]))
async def test_random_histories_keep_the_ledger_balanced_and_charge_once(
    engine: AsyncEngine,
    settings: Settings,
    history: list[tuple[Any, ...]],
    seed: int,
    duplicates: float,
) -> None:
    sim_clock = SimClock()
    paysim_app = create_paysim_app(
        PaysimConfig(
            api_key="sk_sim_test",
            webhook_secret="whsec_test",
            webhook_url=WEBHOOK_URL,
            public_url="http://testserver/paysim",
            min_delay_seconds=0.0,
            max_delay_seconds=60.0,
            duplicate_probability=duplicates,
            seed=seed,
            deliver_in_background=False,
            clock=sim_clock,
        )
    )
    sim = paysim_of(paysim_app)
    provider = SandboxProvider(
        "http://paysim.internal",
        "sk_sim_test",
        "whsec_test",
        transport=httpx.ASGITransport(app=paysim_app),
    )
    payments = Payments(provider)
    async with engine.connect() as connection:
        outer = await connection.begin()
        sessions = async_sessionmaker(
            bind=connection,
            join_transaction_mode="create_savepoint",
            expire_on_commit=False,
            autoflush=False,
        )
        container = bootstrap(settings, sessionmaker=sessions)
        container.payments = payments  # type: ignore[attr-defined]
        app = create_app(settings, container=container)
        if not any(getattr(r, "path", "").startswith("/api/v1/payments") for r in app.routes):
            app.include_router(payments_endpoints.router)
        attach_embedded_paysim(app, paysim_app)
        buyer = uuid.uuid4()
        try:
            async with sessions() as session:
                await add_rates(session)
                first = await _listed(session, 2500)
                second = await _listed(session, 1299)
                checkout = await checkout_service.create_checkout(
                    session,
                    buyer_id=buyer,
                    email="b@example.com",
                    market="GB",
                    items=[checkout_service.Item(first, 2), checkout_service.Item(second, 1)],
                    address=GB_ADDRESS,
                )
                checkout_id = checkout.id
                await session.commit()
            for step in history:
                await _run(step, sessions, payments, sim, sim_clock, container, checkout_id, buyer)
                await _check(sessions, checkout_id)
            sim_clock.advance(3600)
            await sim.deliver_all()
            await container.dispatcher.drain()
            await _check(sessions, checkout_id)
        finally:
            await sim.aclose()
            await provider.aclose()
            await container.close()
            await outer.rollback()


async def _run(
    step: tuple[Any, ...],
    sessions: async_sessionmaker[AsyncSession],
    payments: Payments,
    sim: Any,
    sim_clock: SimClock,
    container: Any,
    checkout_id: uuid.UUID,
    buyer: uuid.UUID,
) -> None:
    name = step[0]
    if name == "webhooks":
        sim_clock.advance(30)
        if step[1]:
            await sim.deliver_all(reverse=True)
        else:
            await sim.deliver_due()
        return
    if name == "resend":
        if sim.events:
            event_id = sorted(sim.events)[step[1] % len(sim.events)]
            await sim.resend(event_id)
        return
    if name == "drain":
        await container.dispatcher.drain()
        return
    async with sessions() as session:
        try:
            if name == "confirm":
                await flows.confirm_checkout(
                    session, payments, checkout_id, buyer_id=buyer, payment_method=CARDS[step[1]]
                )
            elif name == "challenge":
                found = await session.scalar(
                    select(Payment).where(
                        Payment.reference == flows.reference_of(checkout_id),
                        Payment.status == PaymentStatus.requires_action,
                    )
                )
                if found is not None:
                    sim.answer_challenge(found.provider_payment_id, succeed=step[1])
                return
            elif name == "expire":
                await flows.expire(session, payments, checkout_id)
            elif name in ("cancel", "refund"):
                orders = await orders_service.orders_of_checkout(session, checkout_id)
                if not orders:
                    return
                order = await orders_service.lock_order(session, orders[step[1] % len(orders)].id)
                if name == "cancel":
                    await orders_service.cancel_order(
                        session, payments, order, actor="test", reason="random cancel"
                    )
                else:
                    [line, *_] = await orders_service.lines_of(session, order.id)
                    await orders_service.refund_order(
                        session,
                        payments,
                        order,
                        lines=[(line.id, 1)],
                        reason="random refund",
                        actor="test",
                        key=f"random:{uuid.uuid4()}",
                    )
            await session.commit()
        except LiveloopError:
            await session.rollback()
