"""Configuration picks the provider: the sandbox by default, Stripe when an operator says so."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from liveloop.payments.config import PaymentsSettings, build_embedded_paysim, build_provider
from liveloop.payments.errors import PaymentsMisconfigured
from liveloop.payments.paysim_app import paysim_of
from liveloop.payments.sandbox import SandboxProvider
from liveloop.payments.stripe_adapter import StripeProvider


def _settings(monkeypatch: pytest.MonkeyPatch, **env: str) -> PaymentsSettings:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return PaymentsSettings(_env_file=None)  # type: ignore[call-arg]


async def test_the_default_is_the_embedded_sandbox(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = _settings(monkeypatch)
    assert (settings.payments_provider, settings.needs_embedded_paysim) == ("sandbox", True)
    with pytest.raises(PaymentsMisconfigured):
        build_provider(settings)
    paysim_app = build_embedded_paysim(settings, public_base_url="https://live.example/")
    config = paysim_of(paysim_app).config
    assert config.public_url == "https://live.example/paysim"
    assert config.webhook_url == "http://liveloop.internal/api/v1/payments/webhooks/sandbox"
    assert config.webhook_secret == "whsec_paysim_development"
    provider = build_provider(settings, paysim_app=paysim_app)
    assert isinstance(provider, SandboxProvider)
    await provider.aclose()


async def test_a_standalone_paysim_by_url(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = _settings(
        monkeypatch,
        LIVELOOP_PAYSIM_URL="http://paysim:8090",
        LIVELOOP_PAYSIM_WEBHOOK_SECRET="whsec_shared",
        LIVELOOP_PAYMENTS_WEBHOOK_TOLERANCE_SECONDS="120",
    )
    assert not settings.needs_embedded_paysim
    assert settings.paysim_config().webhook_secret == "whsec_shared"
    provider = build_provider(settings)
    assert isinstance(provider, SandboxProvider)
    await provider.aclose()


async def test_stripe_by_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = _settings(
        monkeypatch,
        LIVELOOP_PAYMENTS_PROVIDER="stripe",
        LIVELOOP_STRIPE_API_KEY="sk_test_123",
        LIVELOOP_STRIPE_WEBHOOK_SECRET="whsec_123",
    )
    assert not settings.needs_embedded_paysim
    provider = build_provider(settings)
    assert isinstance(provider, StripeProvider)
    assert provider.name == "stripe"


@pytest.mark.parametrize(
    "env",
    [
        {"LIVELOOP_PAYMENTS_PROVIDER": "stripe"},
        {"LIVELOOP_PAYMENTS_PROVIDER": "stripe", "LIVELOOP_STRIPE_API_KEY": "sk_test_123"},
        {"LIVELOOP_PAYMENTS_PROVIDER": "paypal"},
        {"LIVELOOP_PAYSIM_MIN_DELAY_SECONDS": "5", "LIVELOOP_PAYSIM_MAX_DELAY_SECONDS": "1"},
        {"LIVELOOP_ENV": "production"},  # the sandbox with its public development secret
    ],
)
def test_incomplete_settings_are_refused(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str]
) -> None:
    with pytest.raises(ValidationError):
        _settings(monkeypatch, **env)


def test_a_production_sandbox_with_its_own_secret_is_allowed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = _settings(
        monkeypatch, LIVELOOP_ENV="production", LIVELOOP_PAYSIM_WEBHOOK_SECRET="whsec_private"
    )
    assert settings.paysim_config().webhook_secret == "whsec_private"
