"""Payments fixtures: paysim in-process with a clock and a gate the test drives, liveloop's
client for it, the payments service, and the app with the payments routes and paysim mounted
at /paysim with its webhooks delivered in-process, as in the embedded default."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

import liveloop.payments.models  # noqa: F401  (until migrations/models.py imports it)
from liveloop.app import create_app
from liveloop.bootstrap import Container
from liveloop.kit.clock import clock
from liveloop.kit.money import Money
from liveloop.kit.outbox import OutboxEvent
from liveloop.kit.settings import Settings
from liveloop.payments import endpoints as payments_endpoints
from liveloop.payments.config import attach_embedded_paysim
from liveloop.payments.models import Payment, PaymentEvent, ProviderWebhook
from liveloop.payments.paysim import Paysim, PaysimConfig
from liveloop.payments.paysim_app import create_paysim_app, paysim_of
from liveloop.payments.provider import CardDetails
from liveloop.payments.sandbox import SandboxProvider
from liveloop.payments.service import Payments

API_KEY = "sk_sim_test"
WEBHOOK_SECRET = "whsec_test_secret"
WEBHOOK_URL = "http://testserver/api/v1/payments/webhooks/sandbox"
RETURN_URL = "http://testserver/checkout/return"

_YEAR = clock.now().year + 3
VISA = CardDetails("4242 4242 4242 4242", 12, _YEAR, "123")
DECLINED = CardDetails("4000 0000 0000 0002", 12, _YEAR, "123")
NO_FUNDS = CardDetails("4000 0000 0000 9995", 12, _YEAR, "123")
THREE_DS = CardDetails("4000 0027 6000 3184", 12, _YEAR, "123")
TIMEOUT = CardDetails("4000 0000 0000 0119", 12, _YEAR, "123")


class Gate:
    """Stands in for paysim's hold: a held request waits until the test opens the gate."""

    def __init__(self) -> None:
        self._open = asyncio.Event()
        self._changed = asyncio.Condition()
        self.held = 0

    async def __call__(self, seconds: float) -> None:
        if self._open.is_set():
            return
        async with self._changed:
            self.held += 1
            self._changed.notify_all()
        await self._open.wait()

    async def wait_for_hold(self, beyond: int) -> None:
        async with self._changed:
            await self._changed.wait_for(lambda: self.held > beyond)

    def release(self) -> None:
        self._open.set()


class GivingUpTransport(httpx.AsyncBaseTransport):
    """The client's side of a timeout without waiting for one: the moment paysim holds a
    request, the client gives up on it with a read timeout, as it would once its timeout ran
    out. paysim carries on with the request regardless, as it would on a real network."""

    def __init__(self, app: Any, gate: Gate) -> None:
        self._inner = httpx.ASGITransport(app=app)
        self._gate = gate

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        held_before = self._gate.held
        call = asyncio.ensure_future(self._inner.handle_async_request(request))
        hold = asyncio.ensure_future(self._gate.wait_for_hold(held_before))
        await asyncio.wait({call, hold}, return_when=asyncio.FIRST_COMPLETED)
        if call.done():
            hold.cancel()
            await asyncio.gather(hold, return_exceptions=True)
            return call.result()
        call.cancel()
        await asyncio.gather(call, return_exceptions=True)
        raise httpx.ReadTimeout("paysim is holding the request", request=request)


class SimClock:
    """paysim's clock: stopped at liveloop's time when made, moved on only by the test."""

    def __init__(self) -> None:
        self.start = float(int(clock.now().timestamp()))
        self.offset = 0.0

    def __call__(self) -> float:
        return self.start + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


def paysim_config(gate: Gate, sim_clock: SimClock, **overrides: Any) -> PaysimConfig:
    values: dict[str, Any] = {
        "api_key": API_KEY,
        "webhook_secret": WEBHOOK_SECRET,
        "webhook_url": WEBHOOK_URL,
        "public_url": "http://testserver/paysim",
        "min_delay_seconds": 1.0,
        "max_delay_seconds": 30.0,
        "duplicate_probability": 0.0,
        "seed": 7,
        "deliver_in_background": False,
        "clock": sim_clock,
        "hold": gate,
    }
    values.update(overrides)
    return PaysimConfig(**values)


def sandbox_provider(paysim_app: Any, gate: Gate, **kwargs: Any) -> SandboxProvider:
    return SandboxProvider(
        "http://paysim.internal",
        API_KEY,
        WEBHOOK_SECRET,
        transport=GivingUpTransport(paysim_app, gate),
        **kwargs,
    )


@pytest.fixture
def gate() -> Gate:
    return Gate()


@pytest.fixture
def sim_clock() -> SimClock:
    return SimClock()


@pytest.fixture
async def paysim_app(gate: Gate, sim_clock: SimClock) -> AsyncIterator[FastAPI]:
    app = create_paysim_app(paysim_config(gate, sim_clock))
    yield app
    gate.release()  # a test that left a request held must not leave it running
    await paysim_of(app).aclose()


@pytest.fixture
def sim(paysim_app: FastAPI) -> Paysim:
    return paysim_of(paysim_app)


@pytest.fixture
async def provider(paysim_app: FastAPI, gate: Gate) -> AsyncIterator[SandboxProvider]:
    provider = sandbox_provider(paysim_app, gate)
    yield provider
    await provider.aclose()


@pytest.fixture
def payments(provider: SandboxProvider) -> Payments:
    return Payments(provider)


def payments_app(
    settings: Settings, container: Container, payments: Payments, paysim_app: FastAPI
) -> FastAPI:
    """liveloop with this test's payments service and paysim (mounted at /paysim, webhooks
    delivered in-process), whether or not `create_app` wires payments itself yet."""
    container.payments = payments  # type: ignore[attr-defined]
    container.paysim = paysim_app  # type: ignore[attr-defined]
    app = create_app(settings, container=container)
    paths = {getattr(r, "path", None) for r in app.routes}
    if "/paysim" not in paths:
        attach_embedded_paysim(app, paysim_app)
    else:  # create_app mounted the container's paysim: make sure it is this test's
        mounted = next(r for r in app.routes if getattr(r, "path", None) == "/paysim")
        assert getattr(mounted, "app", None) is paysim_app
    if not any(
        getattr(r, "original_router", None) is payments_endpoints.router for r in app.routes
    ):
        app.include_router(payments_endpoints.router)
    return app


@pytest.fixture
def app(
    settings: Settings, container: Container, payments: Payments, paysim_app: FastAPI
) -> FastAPI:
    return payments_app(settings, container, payments, paysim_app)


async def start(
    payments: Payments,
    session: AsyncSession,
    *,
    amount: int = 2500,
    currency: str = "GBP",
    reference: str | None = None,
    key: str | None = None,
    capture: bool = True,
) -> Payment:
    payment = await payments.start_payment(
        session,
        reference=reference or f"checkout:{uuid.uuid4()}",
        amount=Money(amount, currency),
        customer_email="buyer@example.com",
        idempotency_key=key or f"pay-{uuid.uuid4().hex}",
        return_url=RETURN_URL,
        capture=capture,
    )
    await session.commit()
    return payment


async def count(session: AsyncSession, model: Any, *where: Any) -> int:
    return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def outbox_of(
    session: AsyncSession, payment_id: uuid.UUID
) -> list[tuple[str, dict[str, Any]]]:
    rows = (
        await session.scalars(
            select(OutboxEvent)
            .where(OutboxEvent.aggregate_type == "payment")
            .where(OutboxEvent.aggregate_id == str(payment_id))
            .order_by(OutboxEvent.id)
        )
    ).all()
    return [(r.event_type, r.payload) for r in rows]


async def events_of(session: AsyncSession, payment_id: uuid.UUID) -> list[tuple[str, int]]:
    rows = (
        await session.scalars(
            select(PaymentEvent)
            .where(PaymentEvent.payment_id == payment_id)
            .order_by(PaymentEvent.created_at, PaymentEvent.id)
        )
    ).all()
    return [(str(r.kind), r.amount) for r in rows]


async def fresh(session: AsyncSession, payment: Payment) -> Payment:
    """The payment as the database has it now (another session may have changed it)."""
    await session.refresh(payment)
    return payment


async def table_counts(session: AsyncSession) -> tuple[int, int, int, int]:
    return (
        await count(session, Payment),
        await count(session, PaymentEvent),
        await count(session, ProviderWebhook),
        await count(session, OutboxEvent),
    )
