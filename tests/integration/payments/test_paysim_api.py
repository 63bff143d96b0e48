"""paysim's own HTTP API, as a third party's client sees it: keys, idempotency, refusals in
Stripe's error shape, pages under a mount prefix, webhook schedules and its state file."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Mount

from liveloop.kit.clock import clock
from liveloop.payments import signatures
from liveloop.payments.paysim import SIGNATURE_HEADER, SIM_CARDS, Paysim, PaysimConfig
from liveloop.payments.paysim_app import create_paysim_app, paysim_of
from tests.integration.payments.conftest import API_KEY, Gate, SimClock, paysim_config

AUTH = {"Authorization": f"Bearer {API_KEY}"}
CARD = {
    "number": "4242424242424242",
    "exp_month": 12,
    "exp_year": clock.now().year + 2,
    "cvc": "123",
}


@pytest.fixture
async def api(paysim_app: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=paysim_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://paysim") as client:
        yield client


async def _intent(api: httpx.AsyncClient, **extra: Any) -> dict[str, Any]:
    response = await api.post(
        "/v1/payment_intents", json={"amount": 1999, "currency": "EUR", **extra}, headers=AUTH
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_the_api_needs_the_key(api: httpx.AsyncClient) -> None:
    for headers in ({}, {"Authorization": "Bearer sk_wrong"}):
        response = await api.post(
            "/v1/payment_intents", json={"amount": 1, "currency": "eur"}, headers=headers
        )
        assert response.status_code == 401
        assert response.json() == {
            "error": {
                "type": "invalid_request_error",
                "code": "api_key_invalid",
                "message": "Invalid API key provided.",
            }
        }


async def test_create_retrieve_and_bad_parameters(api: httpx.AsyncClient) -> None:
    intent = await _intent(api, metadata={"reference": "checkout:P1"})
    assert (intent["amount"], intent["currency"], intent["status"]) == (
        1999,
        "eur",
        "requires_confirmation",
    )
    fetched = await api.get(f"/v1/payment_intents/{intent['id']}", headers=AUTH)
    assert fetched.json() == intent
    missing = await api.get("/v1/payment_intents/pi_nope", headers=AUTH)
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "resource_missing"
    negative = await api.post(
        "/v1/payment_intents", json={"amount": -5, "currency": "eur"}, headers=AUTH
    )
    assert negative.status_code == 400
    assert negative.json()["error"]["param"] == "amount"
    unknown = await api.post(
        "/v1/payment_intents", json={"amount": 5, "currency": "xyz"}, headers=AUTH
    )
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (400, "parameter_invalid")


async def test_idempotency_keys_replay_or_refuse(api: httpx.AsyncClient, sim: Paysim) -> None:
    headers = {**AUTH, "Idempotency-Key": "k-1"}
    body = {"amount": 500, "currency": "gbp"}
    first = await api.post("/v1/payment_intents", json=body, headers=headers)
    second = await api.post("/v1/payment_intents", json=body, headers=headers)
    assert second.json() == first.json()
    assert second.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert len(sim.intents) == 1
    other = await api.post("/v1/payment_intents", json={**body, "amount": 501}, headers=headers)
    assert other.status_code == 400
    assert other.json()["error"]["type"] == "idempotency_error"
    assert len(sim.intents) == 1

    intent_id = first.json()["id"]
    confirm = {**AUTH, "Idempotency-Key": "k-2"}
    declined = await api.post(
        f"/v1/payment_intents/{intent_id}/confirm",
        json={"card": {**CARD, "number": "4000000000000002"}},
        headers=confirm,
    )
    assert declined.status_code == 402
    # a stored decline replays as the same decline, without asking the card again
    again = await api.post(
        f"/v1/payment_intents/{intent_id}/confirm",
        json={"card": {**CARD, "number": "4000000000000002"}},
        headers=confirm,
    )
    assert (again.status_code, again.json()) == (402, declined.json())
    assert sim.calls["confirm"] == 1
    assert declined.json()["error"]["decline_code"] == "card_declined"
    assert declined.json()["error"]["payment_intent"]["status"] == "failed"


async def test_refusals_follow_the_payment_intent_state(api: httpx.AsyncClient) -> None:
    intent = await _intent(api, capture_method="manual")
    path = f"/v1/payment_intents/{intent['id']}"
    early = await api.post(f"{path}/capture", json={}, headers=AUTH)
    assert early.status_code == 400
    assert early.json()["error"]["code"] == "payment_intent_unexpected_state"
    no_method = await api.post(f"{path}/confirm", json={}, headers=AUTH)
    assert no_method.json()["error"]["code"] == "parameter_missing"
    unknown_token = await api.post(f"{path}/confirm", json={"payment_method": "pm_x"}, headers=AUTH)
    assert unknown_token.json()["error"]["code"] == "resource_missing"
    authorized = await api.post(f"{path}/confirm", json={"card": CARD}, headers=AUTH)
    assert authorized.json()["status"] == "requires_capture"
    assert authorized.json()["amount_capturable"] == 1999
    too_much = await api.post(f"{path}/capture", json={"amount_to_capture": 2000}, headers=AUTH)
    assert too_much.json()["error"]["code"] == "amount_too_large"
    unpaid = await api.post(
        "/v1/refunds", json={"payment_intent": intent["id"], "amount": 1}, headers=AUTH
    )
    assert unpaid.json()["error"]["code"] == "charge_not_refundable"
    captured = await api.post(f"{path}/capture", json={"amount_to_capture": 1500}, headers=AUTH)
    assert (captured.json()["status"], captured.json()["amount_received"]) == ("succeeded", 1500)
    over = await api.post(
        "/v1/refunds", json={"payment_intent": intent["id"], "amount": 1501}, headers=AUTH
    )
    assert (over.status_code, over.json()["error"]["code"]) == (400, "amount_too_large")
    refund = await api.post(
        "/v1/refunds", json={"payment_intent": intent["id"], "reason": "damaged"}, headers=AUTH
    )
    assert (refund.json()["amount"], refund.json()["status"]) == (1500, "succeeded")
    fetched = await api.get(f"/v1/refunds/{refund.json()['id']}", headers=AUTH)
    assert fetched.json() == refund.json()
    done = await api.post("/v1/refunds", json={"payment_intent": intent["id"]}, headers=AUTH)
    assert done.json()["error"]["code"] == "charge_already_refunded"
    late_cancel = await api.post(f"{path}/cancel", json={}, headers=AUTH)
    assert late_cancel.json()["error"]["code"] == "payment_intent_unexpected_state"


async def test_the_challenge_page_works_under_any_mount_prefix(
    gate: Gate, sim_clock: SimClock
) -> None:
    paysim = create_paysim_app(paysim_config(gate, sim_clock, public_url=None))
    host = Starlette(routes=[Mount("/psp/sandbox", app=paysim)])
    transport = httpx.ASGITransport(app=host)
    async with httpx.AsyncClient(transport=transport, base_url="https://shop.test") as client:
        intent = (
            await client.post(
                "/psp/sandbox/v1/payment_intents",
                json={"amount": 700, "currency": "jpy", "return_url": "https://shop.test/back"},
                headers=AUTH,
            )
        ).json()
        pending = await client.post(
            f"/psp/sandbox/v1/payment_intents/{intent['id']}/confirm",
            json={"payment_method": "pm_card_authenticationRequired"},
            headers=AUTH,
        )
        url = pending.json()["next_action"]["redirect_to_url"]["url"]
        assert url == f"https://shop.test/psp/sandbox/challenge/{intent['id']}"
        page = await client.get(url)
        assert (
            f'action="https://shop.test/psp/sandbox/challenge/{intent["id"]}/complete"' in page.text
        )
        assert "¥700" in page.text
        answered = await client.post(f"{url}/complete")
        assert answered.headers["location"] == (
            f"https://shop.test/back?payment_intent={intent['id']}&redirect_status=succeeded"
        )
        index = await client.get("/psp/sandbox/")
        assert all(card.token in index.text for card in SIM_CARDS.values())
    await paysim_of(paysim).aclose()


def _schedule(seed: int, duplicates: float, *, reorder: bool = True) -> list[tuple[str, float]]:
    sim = Paysim(
        PaysimConfig(
            webhook_url="http://liveloop/hooks",
            seed=seed,
            duplicate_probability=duplicates,
            min_delay_seconds=0,
            max_delay_seconds=60,
            reorder=reorder,
            deliver_in_background=False,
            clock=lambda: 1_000_000.0,
        )
    )
    for n in range(8):
        sim._emit("payment.succeeded", {"n": n})
    order = {event_id: str(e["data"]["object"]["n"]) for event_id, e in sim.events.items()}
    return [(order[d.event_id], d.due) for d in sim.pending()]


def test_webhook_schedules_are_late_duplicated_reordered_and_repeatable() -> None:
    plain = _schedule(seed=3, duplicates=0.0)
    assert plain == _schedule(seed=3, duplicates=0.0)  # the seed fixes delays and order
    assert plain != _schedule(seed=4, duplicates=0.0)
    assert len(plain) == 8
    assert all(1_000_000 <= due <= 1_000_060 for _, due in plain)
    assert [n for n, _ in plain] != sorted(n for n, _ in plain)  # out of event order

    doubled = _schedule(seed=3, duplicates=1.0)
    assert sorted(n for n, _ in doubled) == sorted([str(n) for n in range(8)] * 2)

    in_order = _schedule(seed=3, duplicates=0.0, reorder=False)
    assert [n for n, _ in in_order] == [str(n) for n in range(8)]


async def test_webhooks_are_signed_over_the_timestamp_and_body() -> None:
    received: list[httpx.Request] = []

    def receive(request: httpx.Request) -> httpx.Response:
        received.append(request)
        return httpx.Response(200)

    sim = Paysim(
        PaysimConfig(
            webhook_url="http://liveloop/hooks",
            webhook_secret="whsec_x",
            duplicate_probability=0,
            min_delay_seconds=0,
            max_delay_seconds=0,
            deliver_in_background=False,
            webhook_transport=httpx.MockTransport(receive),
        )
    )
    sim._emit("refund.succeeded", {"id": "re_1"})
    [attempt] = await sim.deliver_due()
    assert (attempt.event_type, attempt.status_code) == ("refund.succeeded", 200)
    [request] = received
    header = request.headers[SIGNATURE_HEADER]
    timestamp = signatures.verify("whsec_x", header, request.content, now=clock.now())
    assert header == f"t={timestamp},v1={signatures.compute('whsec_x', request.content, timestamp)}"
    assert json.loads(request.content)["data"]["object"] == {"id": "re_1"}
    await sim.aclose()


async def test_state_survives_a_restart_through_the_state_file(tmp_path: Path) -> None:
    state = tmp_path / "paysim.json"
    # No duplicate deliveries: the test counts what is still to be delivered after a restart.
    config = PaysimConfig(
        state_file=state,
        deliver_in_background=False,
        webhook_url="http://x/h",
        duplicate_probability=0.0,
    )
    app = create_paysim_app(config)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://paysim") as api:
        headers = {"Authorization": "Bearer sk_sim_liveloop", "Idempotency-Key": "k-9"}
        created = await api.post(
            "/v1/payment_intents", json={"amount": 10, "currency": "usd"}, headers=headers
        )
        await api.post(
            f"/v1/payment_intents/{created.json()['id']}/confirm",
            json={"payment_method": "pm_card_visa"},
            headers={"Authorization": "Bearer sk_sim_liveloop"},
        )
    await paysim_of(app).aclose()

    restarted = Paysim(PaysimConfig(state_file=state, deliver_in_background=False))
    intent = restarted.intents[created.json()["id"]]
    assert (intent.status, intent.amount_received) == ("succeeded", 10)
    assert [c.amount for c in restarted.charges] == [10]
    assert [restarted.events[d.event_id]["type"] for d in restarted.pending()] == [
        "payment.succeeded"
    ]
    replay = await restarted.execute("create", "k-9", "not-the-same-request", _never)
    assert replay.body["error"]["type"] == "idempotency_error"


async def _never() -> Any:
    raise AssertionError("a stored key must not run again")
