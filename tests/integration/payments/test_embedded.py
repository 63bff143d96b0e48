"""The embedded default as the lead wires it from settings: paysim mounted at /paysim, liveloop
talking to it in-process, and its webhooks delivered in the background to liveloop's route."""

from __future__ import annotations

import re
import uuid

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from liveloop.bootstrap import bootstrap
from liveloop.kit.money import Money
from liveloop.kit.settings import Settings
from liveloop.payments.config import PaymentsSettings, build_embedded_paysim, build_provider
from liveloop.payments.models import Payment, ProviderWebhook
from liveloop.payments.paysim_app import paysim_of
from liveloop.payments.sandbox import SandboxProvider
from liveloop.payments.service import Payments
from tests.integration.payments.conftest import THREE_DS, payments_app


async def test_embedded_default_from_settings_to_webhooks(
    settings: Settings, committing_sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    config = PaymentsSettings(
        _env_file=None,  # type: ignore[call-arg]
        paysim_min_delay_seconds=0,
        paysim_max_delay_seconds=0,
        paysim_duplicate_probability=1.0,
        paysim_seed=11,
    )
    assert config.needs_embedded_paysim
    paysim_app = build_embedded_paysim(config, public_base_url="http://liveloop.test/")
    provider = build_provider(config, paysim_app=paysim_app)
    assert isinstance(provider, SandboxProvider)
    container = bootstrap(settings, sessionmaker=committing_sessionmaker)
    app = payments_app(settings, container, Payments(provider), paysim_app)
    sim = paysim_of(paysim_app)
    transport = httpx.ASGITransport(app=app)
    try:
        async with committing_sessionmaker() as session:
            payment = await container.payments.start_payment(  # type: ignore[attr-defined]
                session,
                reference=f"checkout:{uuid.uuid4()}",
                amount=Money(4200, "EUR"),
                customer_email="buyer@example.com",
                idempotency_key="embedded-1",
                return_url="http://liveloop.test/checkout/done",
            )
            payment = await container.payments.confirm_payment(  # type: ignore[attr-defined]
                session, payment.id, payment_method=THREE_DS
            )
            await session.commit()
        url = f"http://liveloop.test/paysim/challenge/{payment.provider_payment_id}"
        assert payment.challenge_url == url

        async with httpx.AsyncClient(transport=transport, base_url="http://liveloop.test") as web:
            page = await web.get(url)
            action = re.search(r'action="([^"]+/complete)"', page.text)
            assert action is not None
            back = await web.post(action.group(1))
        assert back.headers["location"].startswith("http://liveloop.test/checkout/done?")

        await sim.drain()  # paysim's own loop delivers, each webhook twice
        assert [a.status_code for a in sim.delivery_log] == [200, 200, 200, 200]
        async with committing_sessionmaker() as session:
            stored = await session.get(Payment, payment.id)
            assert stored is not None
            assert (stored.status, stored.captured_amount) == ("succeeded", 4200)
            rows = await session.execute(select(ProviderWebhook.event_type, ProviderWebhook.result))
            results = sorted((kind, result) for kind, result in rows)
        assert results == [
            ("payment.requires_action", "no_change"),
            ("payment.succeeded", "applied"),
        ]
    finally:
        await sim.aclose()
        await provider.aclose()
        await container.close()
