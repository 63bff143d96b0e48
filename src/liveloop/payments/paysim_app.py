"""paysim's HTTP face: a REST API shaped like Stripe's PaymentIntents, and the 3-D Secure
challenge page a browser completes with one click. It runs alone (`liveloop paysim`) or mounted
under a prefix inside liveloop (`/paysim` in the embedded default)."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from html import escape
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import Depends, FastAPI, Header, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from liveloop.kit.money import Money, MoneyError
from liveloop.payments.paysim import (
    SIM_CARDS,
    CardInput,
    Paysim,
    PaysimConfig,
    SimError,
    SimResponse,
)


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CreateIntentBody(_Body):
    amount: int = Field(gt=0, le=99_999_999_999)
    currency: str = Field(pattern=r"^[A-Za-z]{3}$")
    capture_method: Literal["automatic", "manual"] = "automatic"
    metadata: dict[str, str] = Field(default_factory=dict, max_length=50)
    receipt_email: str | None = Field(default=None, max_length=320)
    return_url: str | None = Field(default=None, max_length=2000)


class CardBody(_Body):
    number: str = Field(min_length=1, max_length=30)
    exp_month: int
    exp_year: int
    cvc: str = Field(max_length=8)


class ConfirmBody(_Body):
    payment_method: str | None = Field(default=None, max_length=100)
    card: CardBody | None = None
    return_url: str | None = Field(default=None, max_length=2000)


class CaptureBody(_Body):
    amount_to_capture: int | None = None


class CancelBody(_Body):
    cancellation_reason: str | None = Field(default=None, max_length=200)


class RefundBody(_Body):
    payment_intent: str = Field(max_length=100)
    amount: int | None = None
    reason: str | None = Field(default=None, max_length=200)
    metadata: dict[str, str] = Field(default_factory=dict, max_length=50)


async def _authenticated(
    request: Request, authorization: Annotated[str | None, Header()] = None
) -> None:
    sim = paysim_of(request.app)
    if not hmac.compare_digest(authorization or "", f"Bearer {sim.config.api_key}"):
        raise SimError(401, "invalid_request_error", "api_key_invalid", "Invalid API key provided.")


Authenticated = Annotated[None, Depends(_authenticated)]
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=255)]


def paysim_of(app: Any) -> Paysim:
    """The engine behind an app made by `create_paysim_app`."""
    sim: Paysim = app.state.paysim
    return sim


def create_paysim_app(config: PaysimConfig | Paysim | None = None) -> FastAPI:
    sim = config if isinstance(config, Paysim) else Paysim(config)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # Only runs standalone: a mounted app's lifespan is its host's to manage.
        try:
            yield
        finally:
            await sim.aclose()

    app = FastAPI(
        title="paysim",
        description="liveloop's sandbox card processor. Nothing here moves real money.",
        version="1.0",
        lifespan=lifespan,
        docs_url="/docs",
        redoc_url=None,
    )
    app.state.paysim = sim

    @app.exception_handler(SimError)
    async def _sim_error(_: Request, exc: SimError) -> JSONResponse:
        return JSONResponse(exc.body, status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        param = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
        return JSONResponse(
            {
                "error": {
                    "type": "invalid_request_error",
                    "code": "parameter_invalid",
                    "message": str(first.get("msg", "Invalid request.")),
                    "param": param,
                }
            },
            status_code=400,
        )

    async def run(
        key: str | None,
        op_name: str,
        subject: str,
        body: BaseModel | None,
        op: Callable[[], Awaitable[SimResponse]],
    ) -> JSONResponse:
        params = body.model_dump(mode="json") if body is not None else {}
        fingerprint = hashlib.sha256(
            json.dumps([op_name, subject, params], sort_keys=True).encode()
        ).hexdigest()
        response = await sim.execute(op_name, key, fingerprint, op)
        headers = {"Idempotent-Replayed": "true"} if response.replayed else {}
        return JSONResponse(response.body, status_code=response.status, headers=headers)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/v1/payment_intents")
    async def create_intent(
        body: CreateIntentBody, _: Authenticated, idempotency_key: IdempotencyKey = None
    ) -> JSONResponse:
        try:
            Money(body.amount, body.currency)
        except MoneyError as exc:
            raise SimError(400, "invalid_request_error", "parameter_invalid", str(exc)) from exc
        return await run(
            idempotency_key,
            "create",
            "",
            body,
            lambda: sim.create_intent(
                amount=body.amount,
                currency=body.currency,
                capture_method=body.capture_method,
                metadata=body.metadata,
                receipt_email=body.receipt_email,
                return_url=body.return_url,
            ),
        )

    @app.get("/v1/payment_intents/{intent_id}")
    async def retrieve_intent(intent_id: str, _: Authenticated) -> dict[str, Any]:
        sim.requests["retrieve"] += 1
        return sim.get_intent(intent_id).to_json()

    @app.post("/v1/payment_intents/{intent_id}/confirm")
    async def confirm_intent(
        intent_id: str,
        body: ConfirmBody,
        request: Request,
        _: Authenticated,
        idempotency_key: IdempotencyKey = None,
    ) -> JSONResponse:
        if (body.card is None) == (body.payment_method is None):
            raise SimError(
                400,
                "invalid_request_error",
                "parameter_missing",
                "Pass exactly one of `card` and `payment_method`.",
                param="payment_method",
            )
        card = CardInput(**body.card.model_dump()) if body.card is not None else None
        challenge_url = _external_url(request, sim, "challenge_page", intent_id=intent_id)
        return await run(
            idempotency_key,
            "confirm",
            intent_id,
            body,
            lambda: sim.confirm_intent(
                intent_id,
                card=card,
                payment_method=body.payment_method,
                return_url=body.return_url,
                challenge_url=challenge_url,
            ),
        )

    @app.post("/v1/payment_intents/{intent_id}/capture")
    async def capture_intent(
        intent_id: str,
        _: Authenticated,
        body: CaptureBody | None = None,
        idempotency_key: IdempotencyKey = None,
    ) -> JSONResponse:
        amount = body.amount_to_capture if body is not None else None
        return await run(
            idempotency_key,
            "capture",
            intent_id,
            body,
            lambda: sim.capture_intent(intent_id, amount=amount),
        )

    @app.post("/v1/payment_intents/{intent_id}/cancel")
    async def cancel_intent(
        intent_id: str,
        _: Authenticated,
        body: CancelBody | None = None,
        idempotency_key: IdempotencyKey = None,
    ) -> JSONResponse:
        reason = body.cancellation_reason if body is not None else None
        return await run(
            idempotency_key,
            "cancel",
            intent_id,
            body,
            lambda: sim.cancel_intent(intent_id, reason=reason),
        )

    @app.post("/v1/refunds")
    async def create_refund(
        body: RefundBody, _: Authenticated, idempotency_key: IdempotencyKey = None
    ) -> JSONResponse:
        return await run(
            idempotency_key,
            "refund",
            body.payment_intent,
            body,
            lambda: sim.create_refund(
                intent_id=body.payment_intent,
                amount=body.amount,
                reason=body.reason,
                metadata=body.metadata,
            ),
        )

    @app.get("/v1/refunds/{refund_id}")
    async def retrieve_refund(refund_id: str, _: Authenticated) -> dict[str, Any]:
        return sim.get_refund(refund_id).to_json()

    @app.get("/challenge/{intent_id}", response_class=HTMLResponse, name="challenge_page")
    async def challenge_page(intent_id: str, request: Request) -> HTMLResponse:
        intent = sim.get_intent(intent_id)
        if intent.status != "requires_action":
            return HTMLResponse(_page("Nothing to authenticate", _done_text(intent.status)))
        amount = Money(intent.amount, intent.currency).format("en_GB")
        complete = escape(str(request.url_for("challenge_complete", intent_id=intent_id)))
        fail = escape(str(request.url_for("challenge_fail", intent_id=intent_id)))
        card = escape(intent.card_last4 or "????")
        body = (
            f"<p>paysim test bank: confirm the payment of <strong>{escape(amount)}</strong> "
            f"with the card ending {card}.</p>"
            f'<form method="post" action="{complete}">'
            '<button type="submit" name="result" value="complete">Complete authentication'
            "</button></form>"
            f'<form method="post" action="{fail}">'
            '<button type="submit" name="result" value="fail">Fail authentication</button>'
            "</form>"
        )
        return HTMLResponse(_page("3-D Secure authentication", body))

    async def answer(intent_id: str, succeed: bool) -> Response:
        intent = sim.get_intent(intent_id)
        if intent.status == "requires_action":  # a second click finds it answered already
            sim.answer_challenge(intent_id, succeed=succeed)
        if intent.return_url is None:
            return HTMLResponse(_page("Authentication finished", _done_text(intent.status)))
        outcome = "succeeded" if intent.status in ("succeeded", "requires_capture") else "failed"
        query = urlencode({"payment_intent": intent.id, "redirect_status": outcome})
        separator = "&" if "?" in intent.return_url else "?"
        return RedirectResponse(f"{intent.return_url}{separator}{query}", status_code=303)

    @app.post("/challenge/{intent_id}/complete", name="challenge_complete")
    async def challenge_complete(intent_id: str) -> Response:
        return await answer(intent_id, True)

    @app.post("/challenge/{intent_id}/fail", name="challenge_fail")
    async def challenge_fail(intent_id: str) -> Response:
        return await answer(intent_id, False)

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def index() -> HTMLResponse:
        rows = "".join(
            f"<tr><td><code>{c.number[:4]} {c.number[4:8]} {c.number[8:12]} {c.number[12:]}"
            f"</code></td><td><code>{c.token}</code></td><td>{escape(c.description)}</td></tr>"
            for c in SIM_CARDS.values()
        )
        body = (
            "<p>A pretend card processor for liveloop. Any other valid card number succeeds; "
            "use any future expiry date and any three-digit CVC.</p>"
            f"<table><tr><th>Card</th><th>Token</th><th>Behaviour</th></tr>{rows}</table>"
        )
        return HTMLResponse(_page("paysim test cards", body))

    return app


def _external_url(request: Request, sim: Paysim, name: str, **params: str) -> str:
    """A URL for the buyer's browser: under `public_url` when paysim sits behind another host."""
    if sim.config.public_url:
        path = request.app.url_path_for(name, **params)
        return sim.config.public_url.rstrip("/") + str(path)
    return str(request.url_for(name, **params))


def _done_text(status: str) -> str:
    return f"<p>This payment is now <strong>{escape(status)}</strong>. You may close this page.</p>"


def _page(title: str, body: str) -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)} · paysim</title>"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;"
        "padding:0 1rem}button{font-size:1rem;padding:.6rem 1rem;margin:.3rem 0;width:100%}"
        "td,th{padding:.2rem .6rem;text-align:left}</style></head>"
        f"<body><h1>{escape(title)}</h1>{body}</body></html>"
    )
