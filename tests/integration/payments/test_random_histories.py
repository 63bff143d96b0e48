"""Random histories of confirmations, double taps, 3-D Secure answers, timeouts, captures,
cancellations, refunds and webhooks delivered late, twice, out of order and resent: money is
never taken twice, never refunded beyond what was taken, and liveloop ends agreeing with paysim."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import hypothesis.strategies as st
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from liveloop.bootstrap import bootstrap
from liveloop.kit.errors import LiveloopError
from liveloop.kit.money import Money
from liveloop.kit.outbox import OutboxEvent
from liveloop.kit.settings import Settings
from liveloop.payments.lifecycle import FROM_PROVIDER
from liveloop.payments.models import Payment, PaymentEvent
from liveloop.payments.paysim import Paysim
from liveloop.payments.paysim_app import create_paysim_app, paysim_of
from liveloop.payments.sandbox import _STATUSES
from liveloop.payments.service import Payments
from tests.integration.payments.conftest import (
    DECLINED,
    RETURN_URL,
    THREE_DS,
    TIMEOUT,
    VISA,
    Gate,
    SimClock,
    payments_app,
    paysim_config,
    sandbox_provider,
)

pytestmark = pytest.mark.slow

CARDS = [VISA, DECLINED, THREE_DS, TIMEOUT]
MAX_PAYMENTS = 2

payment_index = st.integers(0, MAX_PAYMENTS - 1)
starts = st.lists(
    st.tuples(st.just("start"), st.integers(0, len(CARDS) - 1), st.booleans()),
    min_size=1,
    max_size=MAX_PAYMENTS,
)
steps = st.lists(
    st.one_of(
        st.tuples(st.just("confirm"), payment_index),
        st.tuples(st.just("confirm"), payment_index),
        st.tuples(st.just("browser"), payment_index, st.booleans()),
        st.tuples(st.just("back_from_challenge"), payment_index),
        st.tuples(
            st.just("release"),
        ),
        st.tuples(st.just("capture"), payment_index),
        st.tuples(st.just("cancel"), payment_index),
        st.tuples(st.just("refund"), payment_index, st.integers(1, 3000), st.integers(0, 2)),
        st.tuples(st.just("deliver_due"), st.integers(0, 90)),
        st.tuples(
            st.just("deliver_reversed"),
        ),
        st.tuples(st.just("resend"), st.integers(0, 50)),
        st.tuples(st.just("sync"), payment_index),
    ),
    min_size=3,
    max_size=30,
)


@dataclass
class World:
    sim: Paysim
    payments: Payments
    sessions: async_sessionmaker[AsyncSession]
    gate: Gate
    clock: SimClock
    started: list[tuple[uuid.UUID, Any]] = field(default_factory=list)
    """Our payment id and the card it is paid with."""

    async def run(self, step: tuple[Any, ...]) -> None:
        name, *args = step
        if name == "start":
            if len(self.started) < MAX_PAYMENTS:
                card, capture = CARDS[args[0]], args[1]
                async with self.sessions() as session:
                    payment = await self.payments.start_payment(
                        session,
                        reference=f"checkout:{len(self.started)}",
                        amount=Money(2500, "GBP"),
                        customer_email=None,
                        idempotency_key=f"pay-{len(self.started)}",
                        return_url=RETURN_URL,
                        capture=capture,
                    )
                    await session.commit()
                self.started.append((payment.id, card))
        elif name in ("browser", "resend", "release", "deliver_due", "deliver_reversed"):
            await self._at_paysim(name, *args)
        elif self.started:
            payment_id, card = self.started[args[0] % len(self.started)]
            await self._service(name, payment_id, card, *args[1:])

    async def _at_paysim(self, name: str, *args: Any) -> None:
        if name == "browser" and self.started:
            payment_id, _ = self.started[args[0] % len(self.started)]
            intent = self.sim.intents[await self._ppid(payment_id)]
            if intent.status == "requires_action":
                self.sim.answer_challenge(intent.id, succeed=args[1])
        elif name == "resend" and self.sim.delivery_log:
            sent = self.sim.delivery_log[args[0] % len(self.sim.delivery_log)]
            await self.sim.resend(sent.event_id)
        elif name == "release":
            self.gate.release()
            await self.sim.settle()
        elif name == "deliver_due":
            self.clock.advance(args[0])
            await self.sim.deliver_due()
        elif name == "deliver_reversed":
            await self.sim.deliver_all(reverse=True)

    async def _service(self, name: str, payment_id: uuid.UUID, card: Any, *args: Any) -> None:
        async with self.sessions() as session:
            try:
                if name == "confirm":
                    await self.payments.confirm_payment(session, payment_id, payment_method=card)
                elif name == "back_from_challenge":
                    await self.payments.complete_challenge(session, payment_id)
                elif name == "capture":
                    await self.payments.capture_payment(session, payment_id)
                elif name == "cancel":
                    await self.payments.cancel_payment(session, payment_id)
                elif name == "sync":
                    await self.payments.sync_payment(session, payment_id)
                elif name == "refund":
                    amount, key = args
                    await self.payments.refund(
                        session, payment_id, Money(amount, "GBP"), idempotency_key=f"r-{key}"
                    )
            except LiveloopError as exc:
                assert exc.status < 500, repr(exc)  # a refusal, never a failure
                await session.rollback()
                return
            await session.commit()

    async def _ppid(self, payment_id: uuid.UUID) -> str:
        async with self.sessions() as session:
            payment = await session.get(Payment, payment_id)
            assert payment is not None
            return payment.provider_payment_id

    async def check(self) -> None:
        """What must hold after every step."""
        async with self.sessions() as session:
            for payment_id, _ in self.started:
                payment = await session.get(Payment, payment_id, populate_existing=True)
                assert payment is not None
                intent = self.sim.intents[payment.provider_payment_id]
                charges = self.sim.charges_for(intent.id)
                assert len(charges) <= 1, "charged twice"
                assert payment.captured_amount - payment.refunded_amount >= 0
                assert payment.captured_amount in (0, intent.amount_received)
                assert payment.refunded_amount == intent.amount_refunded
                assert intent.amount_refunded <= sum(c.amount for c in charges)
                kinds = (
                    await session.scalars(
                        select(PaymentEvent.kind).where(PaymentEvent.payment_id == payment_id)
                    )
                ).all()
                assert kinds.count("charge") <= 1

    async def settle_everything(self) -> None:
        self.gate.release()
        await self.sim.settle()
        for _ in range(10):
            if not self.sim.pending():
                break
            await self.sim.deliver_all()
        assert self.sim.pending() == []

    async def check_agreement(self) -> None:
        """Once every webhook is in, liveloop's record is paysim's."""
        assert {a.status_code for a in self.sim.delivery_log} <= {200}
        async with self.sessions() as session:
            for payment_id, _ in self.started:
                payment = await session.get(Payment, payment_id, populate_existing=True)
                assert payment is not None
                intent = self.sim.intents[payment.provider_payment_id]
                expected = FROM_PROVIDER[_STATUSES[intent.status]]
                assert payment.status == expected, (payment.status, intent.status)
                assert payment.captured_amount == intent.amount_received
                assert payment.refunded_amount == intent.amount_refunded
                announced = (
                    await session.scalars(
                        select(OutboxEvent.event_type).where(
                            OutboxEvent.aggregate_id == str(payment_id),
                            OutboxEvent.event_type != "payments.refund_succeeded",
                        )
                    )
                ).all()
                assert len(announced) == len(set(announced))  # each status announced once
                final = {
                    "payments.payment_succeeded",
                    "payments.payment_failed",
                    "payments.payment_canceled",
                }
                assert len(final.intersection(announced)) <= 1


@hypothesis_settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    opening=starts,
    history=steps,
    seed=st.integers(0, 2**16),
    duplicates=st.sampled_from([0.0, 0.5, 1.0]),
)
async def test_random_histories_never_charge_twice_and_end_agreeing_with_paysim(
    engine: AsyncEngine,
    settings: Settings,
    opening: list[tuple[Any, ...]],
    history: list[tuple[Any, ...]],
    seed: int,
    duplicates: float,
) -> None:
    gate, sim_clock = Gate(), SimClock()
    paysim_app = create_paysim_app(
        paysim_config(
            gate,
            sim_clock,
            seed=seed,
            duplicate_probability=duplicates,
            min_delay_seconds=0.0,
            max_delay_seconds=60.0,
        )
    )
    provider = sandbox_provider(paysim_app, gate)
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
        payments_app(settings, container, payments, paysim_app)
        world = World(paysim_of(paysim_app), payments, sessions, gate, sim_clock)
        try:
            for step in [*opening, *history]:
                await world.run(step)
                await world.check()
            await world.settle_everything()
            await world.check()
            await world.check_agreement()
        finally:
            gate.release()
            await world.sim.aclose()
            await provider.aclose()
            await container.close()
            await outer.rollback()
