"""Which payment provider liveloop uses, read from `LIVELOOP_*` settings, and how to build it."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import httpx
from fastapi import FastAPI
from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from liveloop.kit.settings import Environment
from liveloop.payments.errors import PaymentsMisconfigured
from liveloop.payments.paysim import Paysim, PaysimConfig
from liveloop.payments.paysim_app import create_paysim_app, paysim_of
from liveloop.payments.provider import PaymentProvider
from liveloop.payments.sandbox import SandboxProvider
from liveloop.payments.stripe_adapter import StripeProvider

EMBEDDED_PAYSIM_PATH = "/paysim"
WEBHOOK_PATH = "/api/v1/payments/webhooks/{provider}"
_IN_PROCESS_BASE = "http://paysim.internal"
DEVELOPMENT_WEBHOOK_SECRET = "whsec_paysim_development"
_IN_PROCESS_APP = "http://liveloop.internal"


class PaymentsSettings(BaseSettings):
    """Payments' settings. `LIVELOOP_PAYMENTS_PROVIDER=stripe` with the two Stripe secrets
    switches a real operator to Stripe; the default is the sandbox (paysim)."""

    model_config = SettingsConfigDict(env_prefix="LIVELOOP_", env_file=".env", extra="ignore")

    env: Environment = Environment.development
    payments_provider: Literal["sandbox", "stripe"] = "sandbox"
    stripe_api_key: SecretStr | None = None
    stripe_webhook_secret: SecretStr | None = None
    paysim_url: str | None = None
    """A standalone `liveloop paysim`; unset, paysim runs inside liveloop at /paysim."""
    paysim_api_key: SecretStr = SecretStr("sk_sim_liveloop")
    paysim_webhook_secret: SecretStr = SecretStr(DEVELOPMENT_WEBHOOK_SECRET)
    paysim_webhook_url: str | None = None
    """Where a standalone paysim sends webhooks (default: liveloop on 127.0.0.1:8000)."""
    paysim_min_delay_seconds: float = Field(default=0.2, ge=0)
    paysim_max_delay_seconds: float = Field(default=3.0, ge=0)
    paysim_duplicate_probability: float = Field(default=0.2, ge=0, le=1)
    paysim_seed: int | None = None
    payments_timeout_seconds: float = Field(default=10.0, gt=0)
    payments_webhook_tolerance_seconds: int = Field(default=300, ge=1)

    @model_validator(mode="after")
    def _complete(self) -> PaymentsSettings:
        if self.payments_provider == "stripe" and not (
            self.stripe_api_key and self.stripe_webhook_secret
        ):
            raise ValueError(
                "LIVELOOP_PAYMENTS_PROVIDER=stripe needs LIVELOOP_STRIPE_API_KEY and "
                "LIVELOOP_STRIPE_WEBHOOK_SECRET"
            )
        if (
            self.env is Environment.production
            and self.payments_provider == "sandbox"
            and self.paysim_webhook_secret.get_secret_value() == DEVELOPMENT_WEBHOOK_SECRET
        ):
            # The default is public: anyone could sign "payment succeeded" for a free order.
            raise ValueError("a production sandbox needs its own LIVELOOP_PAYSIM_WEBHOOK_SECRET")
        if self.paysim_min_delay_seconds > self.paysim_max_delay_seconds:
            raise ValueError("LIVELOOP_PAYSIM_MIN_DELAY_SECONDS is above the maximum")
        return self

    @property
    def needs_embedded_paysim(self) -> bool:
        return self.payments_provider == "sandbox" and not self.paysim_url

    def paysim_config(self, **overrides: Any) -> PaysimConfig:
        values: dict[str, Any] = {
            "api_key": self.paysim_api_key.get_secret_value(),
            "webhook_secret": self.paysim_webhook_secret.get_secret_value(),
            "webhook_url": self.paysim_webhook_url,
            "min_delay_seconds": self.paysim_min_delay_seconds,
            "max_delay_seconds": self.paysim_max_delay_seconds,
            "duplicate_probability": self.paysim_duplicate_probability,
            "seed": self.paysim_seed,
        }
        values.update(overrides)
        return PaysimConfig(**values)


def build_provider(settings: PaymentsSettings, *, paysim_app: Any = None) -> PaymentProvider:
    """The provider the settings choose. The sandbox without `LIVELOOP_PAYSIM_URL` talks to
    `paysim_app` in-process (see `build_embedded_paysim`)."""
    if settings.payments_provider == "stripe":
        assert settings.stripe_api_key and settings.stripe_webhook_secret  # the validator's
        return StripeProvider(
            settings.stripe_api_key.get_secret_value(),
            settings.stripe_webhook_secret.get_secret_value(),
            timeout_seconds=settings.payments_timeout_seconds,
            tolerance_seconds=settings.payments_webhook_tolerance_seconds,
        )
    transport: httpx.AsyncBaseTransport | None = None
    base_url = settings.paysim_url
    if base_url is None:
        if paysim_app is None:
            raise PaymentsMisconfigured(
                "the sandbox needs LIVELOOP_PAYSIM_URL or an embedded paysim app"
            )
        transport = httpx.ASGITransport(app=paysim_app)
        base_url = _IN_PROCESS_BASE
    return SandboxProvider(
        base_url,
        settings.paysim_api_key.get_secret_value(),
        settings.paysim_webhook_secret.get_secret_value(),
        transport=transport,
        timeout_seconds=settings.payments_timeout_seconds,
        tolerance_seconds=settings.payments_webhook_tolerance_seconds,
    )


def build_embedded_paysim(
    settings: PaymentsSettings, *, public_base_url: str, state_file: Path | None = None
) -> FastAPI:
    """paysim for mounting at /paysim inside liveloop (the embedded default). Its webhooks go
    to liveloop in-process once `attach_embedded_paysim` has wired it to the app."""
    config = settings.paysim_config(
        public_url=public_base_url.rstrip("/") + EMBEDDED_PAYSIM_PATH,
        webhook_url=_IN_PROCESS_APP + WEBHOOK_PATH.format(provider="sandbox"),
        state_file=state_file,
    )
    return create_paysim_app(config)


def attach_embedded_paysim(app: FastAPI, paysim_app: FastAPI) -> Paysim:
    """Mount paysim at /paysim and deliver its webhooks to `app` without the network."""
    app.mount(EMBEDDED_PAYSIM_PATH, paysim_app)
    sim = paysim_of(paysim_app)
    sim.use_webhook_transport(httpx.ASGITransport(app=app))
    return sim
