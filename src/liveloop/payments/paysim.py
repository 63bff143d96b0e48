"""paysim's engine: a pretend card processor with payment intents, test cards, idempotency keys
and signed webhooks delivered late, twice and out of order. It keeps its own state (memory, and
optionally a JSON file), never liveloop's tables, because it stands in for a third party."""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import os
import random
import secrets
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

import httpx

from liveloop.payments import signatures

log = logging.getLogger("liveloop.paysim")

SIGNATURE_HEADER = "Paysim-Signature"


class Behaviour(StrEnum):
    succeed = "succeed"
    decline = "decline"
    challenge = "challenge"
    timeout = "timeout"


@dataclass(frozen=True, slots=True)
class SimCard:
    number: str
    behaviour: Behaviour
    decline_code: str | None
    description: str
    token: str


SIM_CARDS: dict[str, SimCard] = {
    card.number: card
    for card in (
        SimCard("4242424242424242", Behaviour.succeed, None, "Succeeds", "pm_card_visa"),
        SimCard(
            "4000000000000002",
            Behaviour.decline,
            "card_declined",
            "Declined",
            "pm_card_chargeDeclined",
        ),
        SimCard(
            "4000000000009995",
            Behaviour.decline,
            "insufficient_funds",
            "Declined: insufficient funds",
            "pm_card_chargeDeclinedInsufficientFunds",
        ),
        SimCard(
            "4000002760003184",
            Behaviour.challenge,
            None,
            "Asks for 3-D Secure",
            "pm_card_authenticationRequired",
        ),
        SimCard(
            "4000000000000119",
            Behaviour.timeout,
            None,
            "Answers after the client has given up, then charges",
            "pm_card_timeout",
        ),
    )
}
TOKENS = {card.token: card.number for card in SIM_CARDS.values()}

# Statuses an intent may be cancelled from; like Stripe's PaymentIntents.
_CANCELABLE = frozenset({"requires_confirmation", "requires_action", "requires_capture"})


@dataclass
class PaysimConfig:
    """How the simulator behaves. Times are Unix seconds from `clock`, so tests can drive it."""

    api_key: str = "sk_sim_liveloop"
    webhook_secret: str = "whsec_paysim_development"
    webhook_url: str | None = None
    public_url: str | None = None
    """Base URL browsers reach paysim at (for challenge pages); default: the request's own."""
    min_delay_seconds: float = 0.0
    max_delay_seconds: float = 2.0
    duplicate_probability: float = 0.1
    reorder: bool = True
    """Let a later event's webhook overtake an earlier one; off, deliveries keep event order."""
    seed: int | None = None
    timeout_hold_seconds: float = 35.0
    max_delivery_attempts: int = 8
    state_file: Path | None = None
    deliver_in_background: bool = True
    clock: Callable[[], float] = time.time
    hold: Callable[[float], Awaitable[None]] = asyncio.sleep
    webhook_transport: httpx.AsyncBaseTransport | None = None


@dataclass
class Intent:
    id: str
    amount: int
    currency: str
    capture_method: str
    created: int
    status: str = "requires_confirmation"
    metadata: dict[str, str] = field(default_factory=dict)
    receipt_email: str | None = None
    return_url: str | None = None
    amount_capturable: int = 0
    amount_received: int = 0
    amount_refunded: int = 0
    last_payment_error: dict[str, Any] | None = None
    challenge_url: str | None = None
    card_last4: str | None = None
    cancellation_reason: str | None = None

    def to_json(self) -> dict[str, Any]:
        next_action = None
        if self.status == "requires_action":
            next_action = {
                "type": "redirect_to_url",
                "redirect_to_url": {"url": self.challenge_url, "return_url": self.return_url},
            }
        return {
            "id": self.id,
            "object": "payment_intent",
            "amount": self.amount,
            "currency": self.currency,
            "status": self.status,
            "capture_method": self.capture_method,
            "amount_capturable": self.amount_capturable,
            "amount_received": self.amount_received,
            "amount_refunded": self.amount_refunded,
            "created": self.created,
            "metadata": dict(self.metadata),
            "receipt_email": self.receipt_email,
            "return_url": self.return_url,
            "last_payment_error": self.last_payment_error,
            "next_action": next_action,
            "cancellation_reason": self.cancellation_reason,
            "payment_method": {"card": {"last4": self.card_last4}} if self.card_last4 else None,
            "livemode": False,
        }


@dataclass
class Refund:
    id: str
    payment_intent: str
    amount: int
    currency: str
    status: str
    created: int
    reason: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"object": "refund", **asdict(self)}


@dataclass(frozen=True)
class Charge:
    """Money actually taken from a card: the ledger tests read to prove nothing was taken twice."""

    payment_intent: str
    amount: int
    currency: str
    card_last4: str | None
    created: int


@dataclass(frozen=True)
class SimResponse:
    status: int
    body: dict[str, Any]
    replayed: bool = False


@dataclass(frozen=True)
class Delivery:
    event_id: str
    due: float
    seq: int
    attempt: int = 1


@dataclass(frozen=True)
class DeliveryAttempt:
    event_id: str
    event_type: str
    attempt: int
    status_code: int | None


class SimError(Exception):
    """A refusal in the shape of Stripe's errors: `{"error": {type, code, message, ...}}`."""

    def __init__(self, status: int, type_: str, code: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.body = {"error": {"type": type_, "code": code, "message": message, **extra}}

    def response(self) -> SimResponse:
        return SimResponse(self.status, self.body)


def luhn_valid(number: str) -> bool:
    if not number.isdigit() or not 12 <= len(number) <= 19:
        return False
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


@dataclass(frozen=True)
class CardInput:
    number: str
    exp_month: int
    exp_year: int
    cvc: str

    def __repr__(self) -> str:  # a card number never reaches a log or a traceback
        return f"CardInput(number='…{self.number[-4:]}')"


class Paysim:
    """The simulator's state and rules; `paysim_app` puts HTTP in front of it."""

    def __init__(self, config: PaysimConfig | None = None) -> None:
        self.config = config or PaysimConfig()
        self._rng = random.Random(self.config.seed)
        self._seq = itertools.count()
        self.intents: dict[str, Intent] = {}
        self.refunds: dict[str, Refund] = {}
        self.events: dict[str, dict[str, Any]] = {}
        self.charges: list[Charge] = []
        self.calls: Counter[str] = Counter()
        """Operations carried out (replays and refusals of in-flight keys not counted)."""
        self.requests: Counter[str] = Counter()
        """Requests received per operation, whatever became of them."""
        self.delivery_log: list[DeliveryAttempt] = []
        self._idempotency: dict[str, tuple[str, SimResponse]] = {}
        self._in_flight: set[str] = set()
        self._pending: list[Delivery] = []
        self._work: set[asyncio.Task[SimResponse]] = set()
        self._loop_task: asyncio.Task[None] | None = None
        self._client: httpx.AsyncClient | None = None
        self._load()

    # -- requests ------------------------------------------------------------------------------

    async def execute(
        self,
        name: str,
        key: str | None,
        fingerprint: str,
        op: Callable[[], Awaitable[SimResponse]],
    ) -> SimResponse:
        """Run `op` once per idempotency key. The work runs in its own task, shielded from the
        caller, so that a client hanging up (a timeout) does not stop a charge half way, as a
        real processor would carry on too."""
        self.requests[name] += 1
        self._ensure_delivery_loop()  # picks up deliveries restored from the state file
        if key is not None:
            stored = self._idempotency.get(key)
            if stored is not None:
                if stored[0] != fingerprint:
                    return SimError(
                        400,
                        "idempotency_error",
                        "idempotency_key_reused",
                        "Keys for idempotent requests can only be used with the same "
                        "parameters they were first used with.",
                    ).response()
                return replace(stored[1], replayed=True)
            if key in self._in_flight:
                return SimError(
                    409,
                    "idempotency_error",
                    "idempotency_key_in_use",
                    "A request with this idempotency key is still being processed.",
                ).response()
            self._in_flight.add(key)

        async def run() -> SimResponse:
            try:
                try:
                    response = await op()
                except SimError as exc:
                    response = exc.response()
                if key is not None and response.status < 500:
                    self._idempotency[key] = (fingerprint, response)
                self._save()
                return response
            finally:
                if key is not None:
                    self._in_flight.discard(key)

        task = asyncio.ensure_future(run())
        self._work.add(task)
        task.add_done_callback(self._work.discard)
        return await asyncio.shield(task)

    async def settle(self) -> None:
        """Wait for requests still running after their callers gave up (tests call this)."""
        while self._work:
            await asyncio.gather(*list(self._work), return_exceptions=True)

    def get_intent(self, intent_id: str) -> Intent:
        intent = self.intents.get(intent_id)
        if intent is None:
            raise SimError(
                404,
                "invalid_request_error",
                "resource_missing",
                f"No such payment_intent: '{intent_id}'",
                param="intent",
            )
        return intent

    def get_refund(self, refund_id: str) -> Refund:
        refund = self.refunds.get(refund_id)
        if refund is None:
            raise SimError(
                404, "invalid_request_error", "resource_missing", f"No such refund: '{refund_id}'"
            )
        return refund

    async def create_intent(
        self,
        *,
        amount: int,
        currency: str,
        capture_method: str,
        metadata: dict[str, str],
        receipt_email: str | None,
        return_url: str | None,
    ) -> SimResponse:
        self.calls["create"] += 1
        intent = Intent(
            id=_new_id("pi"),
            amount=amount,
            currency=currency.lower(),
            capture_method=capture_method,
            created=self._now(),
            metadata=metadata,
            receipt_email=receipt_email,
            return_url=return_url,
        )
        self.intents[intent.id] = intent
        return SimResponse(200, intent.to_json())

    async def confirm_intent(
        self,
        intent_id: str,
        *,
        card: CardInput | None,
        payment_method: str | None,
        return_url: str | None,
        challenge_url: str,
    ) -> SimResponse:
        self.calls["confirm"] += 1
        intent = self.get_intent(intent_id)
        if intent.status != "requires_confirmation":
            raise _unexpected_state(intent, "confirm")
        if card is None:
            number = TOKENS.get(payment_method or "")
            if number is None:
                raise SimError(
                    400,
                    "invalid_request_error",
                    "resource_missing",
                    f"No such PaymentMethod: '{payment_method}'",
                    param="payment_method",
                )
            year = datetime.fromtimestamp(self.config.clock(), UTC).year
            card = CardInput(number, 12, year + 5, "123")
        if return_url:
            intent.return_url = return_url
        number = "".join(ch for ch in card.number if ch.isdigit())
        intent.card_last4 = number[-4:] or None
        problem = self._card_problem(card, number)
        if problem is not None:
            return self._decline(intent, *problem)
        known = SIM_CARDS.get(number)
        behaviour = known.behaviour if known else Behaviour.succeed
        if behaviour is Behaviour.decline:
            assert known is not None and known.decline_code is not None
            return self._decline(
                intent, "card_declined", known.decline_code, "Your card was declined."
            )
        if behaviour is Behaviour.challenge:
            intent.status = "requires_action"
            intent.challenge_url = challenge_url
            self._emit("payment.requires_action", intent.to_json())
            return SimResponse(200, intent.to_json())
        if behaviour is Behaviour.timeout:
            intent.status = "processing"
            self._emit("payment.processing", intent.to_json())
            self._save()
            await self.config.hold(self.config.timeout_hold_seconds)
        self._settle_card(intent)
        return SimResponse(200, intent.to_json())

    def answer_challenge(self, intent_id: str, *, succeed: bool) -> Intent:
        """The buyer pressed a button on the challenge page."""
        intent = self.get_intent(intent_id)
        if intent.status != "requires_action":
            raise _unexpected_state(intent, "authenticate")
        self.calls["challenge"] += 1
        if succeed:
            self._settle_card(intent)
        else:
            self._decline(
                intent,
                "payment_intent_authentication_failure",
                "authentication_failed",
                "The buyer did not pass 3-D Secure authentication.",
            )
        self._save()
        return intent

    async def capture_intent(self, intent_id: str, *, amount: int | None) -> SimResponse:
        self.calls["capture"] += 1
        intent = self.get_intent(intent_id)
        if intent.status != "requires_capture":
            raise _unexpected_state(intent, "capture")
        to_capture = intent.amount_capturable if amount is None else amount
        if to_capture <= 0 or to_capture > intent.amount_capturable:
            raise SimError(
                400,
                "invalid_request_error",
                "amount_too_large",
                f"Capture amount {to_capture} is not between 1 and {intent.amount_capturable}.",
                param="amount_to_capture",
            )
        intent.amount_capturable = 0
        self._charge(intent, to_capture)
        return SimResponse(200, intent.to_json())

    async def cancel_intent(self, intent_id: str, *, reason: str | None) -> SimResponse:
        self.calls["cancel"] += 1
        intent = self.get_intent(intent_id)
        if intent.status not in _CANCELABLE:
            raise _unexpected_state(intent, "cancel")
        intent.status = "canceled"
        intent.amount_capturable = 0
        intent.cancellation_reason = reason
        self._emit("payment.canceled", intent.to_json())
        return SimResponse(200, intent.to_json())

    async def create_refund(
        self,
        *,
        intent_id: str,
        amount: int | None,
        reason: str | None,
        metadata: dict[str, str],
    ) -> SimResponse:
        self.calls["refund"] += 1
        intent = self.get_intent(intent_id)
        if intent.status != "succeeded":
            raise SimError(
                400,
                "invalid_request_error",
                "charge_not_refundable",
                f"This PaymentIntent ({intent.status}) has no successful charge to refund.",
            )
        remaining = intent.amount_received - intent.amount_refunded
        if remaining <= 0:
            raise SimError(
                400,
                "invalid_request_error",
                "charge_already_refunded",
                "The charge has already been refunded in full.",
            )
        to_refund = remaining if amount is None else amount
        if to_refund <= 0 or to_refund > remaining:
            raise SimError(
                400,
                "invalid_request_error",
                "amount_too_large",
                f"Refund amount ({to_refund}) is greater than the unrefunded amount ({remaining}).",
                param="amount",
            )
        refund = Refund(
            id=_new_id("re"),
            payment_intent=intent.id,
            amount=to_refund,
            currency=intent.currency,
            status="succeeded",
            created=self._now(),
            reason=reason,
            metadata=metadata,
        )
        self.refunds[refund.id] = refund
        intent.amount_refunded += to_refund
        self._emit("refund.succeeded", refund.to_json())
        return SimResponse(200, refund.to_json())

    # -- card rules ----------------------------------------------------------------------------

    def _card_problem(self, card: CardInput, number: str) -> tuple[str, str, str] | None:
        if not luhn_valid(number):
            return ("incorrect_number", "incorrect_number", "Your card number is incorrect.")
        now = datetime.fromtimestamp(self.config.clock(), UTC)
        if not 1 <= card.exp_month <= 12 or (card.exp_year, card.exp_month) < (
            now.year,
            now.month,
        ):
            return ("expired_card", "expired_card", "Your card has expired.")
        if not (card.cvc.isdigit() and 3 <= len(card.cvc) <= 4):
            return ("incorrect_cvc", "incorrect_cvc", "Your card's security code is incorrect.")
        return None

    def _decline(self, intent: Intent, code: str, decline_code: str, message: str) -> SimResponse:
        intent.status = "failed"
        intent.last_payment_error = {
            "type": "card_error",
            "code": code,
            "decline_code": decline_code,
            "message": message,
        }
        self._emit("payment.failed", intent.to_json())
        return SimResponse(
            402, {"error": {**intent.last_payment_error, "payment_intent": intent.to_json()}}
        )

    def _settle_card(self, intent: Intent) -> None:
        if intent.capture_method == "manual":
            intent.status = "requires_capture"
            intent.amount_capturable = intent.amount
            self._emit("payment.authorized", intent.to_json())
        else:
            self._charge(intent, intent.amount)

    def _charge(self, intent: Intent, amount: int) -> None:
        self.charges.append(
            Charge(intent.id, amount, intent.currency, intent.card_last4, self._now())
        )
        intent.amount_received = amount
        intent.status = "succeeded"
        self._emit("payment.succeeded", intent.to_json())

    def charges_for(self, intent_id: str) -> list[Charge]:
        return [c for c in self.charges if c.payment_intent == intent_id]

    # -- webhooks ------------------------------------------------------------------------------

    def _emit(self, event_type: str, obj: dict[str, Any]) -> None:
        event_id = _new_id("evt")
        event: dict[str, Any] = {
            "id": event_id,
            "object": "event",
            "type": event_type,
            "created": self._now(),
            "data": {"object": obj},
        }
        self.events[event_id] = event
        if self.config.webhook_url is None:
            return
        self._schedule(event_id)
        if self._rng.random() < self.config.duplicate_probability:
            self._schedule(event_id)
        self._ensure_delivery_loop()

    def _schedule(self, event_id: str, *, attempt: int = 1, delay: float | None = None) -> None:
        if delay is None:
            delay = self._rng.uniform(self.config.min_delay_seconds, self.config.max_delay_seconds)
        due = self.config.clock() + delay
        if not self.config.reorder and self._pending and attempt == 1:
            due = max(due, max(d.due for d in self._pending))
        self._pending.append(Delivery(event_id, due, next(self._seq), attempt))

    def pending(self) -> list[Delivery]:
        """Deliveries not yet made, in the order they fall due."""
        return sorted(self._pending, key=lambda d: (d.due, d.seq))

    async def deliver_due(self) -> list[DeliveryAttempt]:
        """Send every webhook whose time has come, earliest first."""
        now = self.config.clock()
        return [await self.deliver(d) for d in self.pending() if d.due <= now]

    async def deliver_all(self, *, reverse: bool = False) -> list[DeliveryAttempt]:
        """Send every pending webhook now, whatever its due time (in due order, or reversed)."""
        queue = self.pending()
        if reverse:
            queue.reverse()
        return [await self.deliver(d) for d in queue]

    async def resend(self, event_id: str) -> DeliveryAttempt:
        """Send an event again now, as a dashboard's "resend" button does."""
        if event_id not in self.events:
            raise KeyError(event_id)
        delivery = Delivery(event_id, self.config.clock(), next(self._seq))
        self._pending.append(delivery)
        return await self.deliver(delivery)

    async def deliver(self, delivery: Delivery) -> DeliveryAttempt:
        self._pending.remove(delivery)
        event = self.events[delivery.event_id]
        body = json.dumps(event, separators=(",", ":")).encode()
        headers = {
            "content-type": "application/json",
            "user-agent": "paysim/1.0",
            SIGNATURE_HEADER: signatures.sign(
                self.config.webhook_secret, body, int(self.config.clock())
            ),
        }
        status: int | None = None
        try:
            assert self.config.webhook_url is not None
            response = await self._http().post(
                self.config.webhook_url, content=body, headers=headers
            )
            status = response.status_code
        except httpx.HTTPError as exc:
            log.warning("webhook delivery failed", extra={"event": event["id"], "error": repr(exc)})
        attempt = DeliveryAttempt(event["id"], event["type"], delivery.attempt, status)
        self.delivery_log.append(attempt)
        if (status is None or not 200 <= status < 300) and (
            delivery.attempt < self.config.max_delivery_attempts
        ):
            backoff = min(3600.0, 5.0 * 2 ** (delivery.attempt - 1))
            self._schedule(event["id"], attempt=delivery.attempt + 1, delay=backoff)
        self._save()
        return attempt

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(transport=self.config.webhook_transport, timeout=10.0)
        return self._client

    def use_webhook_transport(self, transport: httpx.AsyncBaseTransport) -> None:
        """Deliver webhooks through `transport`, e.g. in-process to the app paysim is mounted in."""
        self.config.webhook_transport = transport
        self._client = None

    def _ensure_delivery_loop(self) -> None:
        if not self.config.deliver_in_background or not self._pending:
            return
        if self._loop_task is not None and not self._loop_task.done():
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        self._loop_task = loop.create_task(self._deliver_in_background())

    async def _deliver_in_background(self) -> None:
        while self._pending:
            try:
                await self.deliver_due()
            except Exception:
                log.exception("webhook delivery pass failed")
            if not self._pending:
                break
            wait = min(d.due for d in self._pending) - self.config.clock()
            await asyncio.sleep(min(1.0, max(0.05, wait)))

    async def drain(self) -> None:
        """Wait until the background delivery loop has nothing left to send."""
        while self._loop_task is not None and not self._loop_task.done():
            await asyncio.shield(self._loop_task)

    async def aclose(self) -> None:
        if self._loop_task is not None:
            self._loop_task.cancel()
            await asyncio.gather(self._loop_task, return_exceptions=True)
        await self.settle()
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    # -- persistence ---------------------------------------------------------------------------

    def _save(self) -> None:
        path = self.config.state_file
        if path is None:
            return
        state = {
            "intents": [asdict(i) for i in self.intents.values()],
            "refunds": [asdict(r) for r in self.refunds.values()],
            "events": list(self.events.values()),
            "charges": [asdict(c) for c in self.charges],
            "idempotency": {
                key: {"fingerprint": fp, "status": r.status, "body": r.body}
                for key, (fp, r) in self._idempotency.items()
            },
            "pending": [asdict(d) for d in self._pending],
        }
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(state))
        os.replace(tmp, path)

    def _load(self) -> None:
        path = self.config.state_file
        if path is None or not path.exists():
            return
        state = json.loads(path.read_text())
        self.intents = {i["id"]: Intent(**i) for i in state["intents"]}
        self.refunds = {r["id"]: Refund(**r) for r in state["refunds"]}
        self.events = {e["id"]: e for e in state["events"]}
        self.charges = [Charge(**c) for c in state["charges"]]
        self._idempotency = {
            key: (v["fingerprint"], SimResponse(v["status"], v["body"]))
            for key, v in state["idempotency"].items()
        }
        self._pending = [Delivery(**d) for d in state["pending"]]
        self._seq = itertools.count(max((d.seq for d in self._pending), default=-1) + 1)

    def _now(self) -> int:
        return int(self.config.clock())


def _new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(12)}"


def _unexpected_state(intent: Intent, action: str) -> SimError:
    return SimError(
        400,
        "invalid_request_error",
        "payment_intent_unexpected_state",
        f"You cannot {action} this PaymentIntent because it has a status of {intent.status}.",
        payment_intent=intent.to_json(),
    )
