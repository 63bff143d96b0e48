"""`liveloop paysim` as its own process: liveloop's client talks to it over the network, a real
client timeout is recovered from, and its signed webhooks reach an HTTP endpoint."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from liveloop.kit.money import Money
from liveloop.payments.errors import ProviderTimeout
from liveloop.payments.provider import ProviderStatus, WebhookEvent, WebhookEventType
from liveloop.payments.sandbox import SandboxProvider
from tests.conftest import ROOT
from tests.integration.payments.conftest import TIMEOUT, VISA

pytestmark = pytest.mark.slow

SECRET = "whsec_process"
API_KEY = "sk_process"
WAIT = 15.0


def _listening() -> socket.socket:
    # Listening before the server starts: clients queue in its backlog, no polling needed.
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    return sock


@dataclass
class Inbox:
    """The webhook endpoint: keeps what arrives and wakes whoever waits for it."""

    provider: SandboxProvider | None = None
    events: list[WebhookEvent] = field(default_factory=list)
    arrived: asyncio.Condition = field(default_factory=asyncio.Condition)

    async def receive(self, request: Request) -> Response:
        assert self.provider is not None
        event = self.provider.parse_webhook(request.headers, await request.body())
        async with self.arrived:
            self.events.append(event)
            self.arrived.notify_all()
        return Response(status_code=200)

    async def wait_for(self, kind: WebhookEventType, payment_id: str) -> WebhookEvent:
        def found() -> WebhookEvent | None:
            return next(
                (e for e in self.events if e.type is kind and e.payment_id == payment_id), None
            )

        async with self.arrived:
            await asyncio.wait_for(self.arrived.wait_for(lambda: found() is not None), WAIT)
        event = found()
        assert event is not None
        return event


@pytest.fixture
async def inbox() -> AsyncIterator[tuple[Inbox, int]]:
    inbox = Inbox()
    sock = _listening()
    app = Starlette(routes=[Route("/hooks", inbox.receive, methods=["POST"])])
    server = uvicorn.Server(uvicorn.Config(app, lifespan="off", log_level="warning"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    yield inbox, sock.getsockname()[1]
    server.should_exit = True
    await task
    sock.close()


@pytest.fixture
def paysim_process(inbox: tuple[Inbox, int]) -> Iterator[int]:
    _, hook_port = inbox
    sock = _listening()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "liveloop.payments.cli",  # `liveloop paysim` once the lead adds it to the CLI
            "--fd",
            str(sock.fileno()),
            "--webhook-url",
            f"http://127.0.0.1:{hook_port}/hooks",
            "--webhook-secret",
            SECRET,
            "--api-key",
            API_KEY,
            "--min-delay",
            "0",
            "--max-delay",
            "0",
            "--duplicates",
            "0",
            "--timeout-hold",
            "1.5",
        ],
        pass_fds=[sock.fileno()],
        cwd=ROOT,
        env={**os.environ, "LIVELOOP_LOG_LEVEL": "WARNING"},
    )
    port = sock.getsockname()[1]
    sock.close()
    try:
        yield port
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def test_paysim_runs_as_its_own_service(
    inbox: tuple[Inbox, int], paysim_process: int
) -> None:
    received, _ = inbox
    base = f"http://127.0.0.1:{paysim_process}"
    provider = SandboxProvider(base, API_KEY, SECRET, timeout_seconds=WAIT)
    impatient = SandboxProvider(base, API_KEY, SECRET, timeout_seconds=0.5)
    received.provider = provider
    options: dict[str, Any] = {"customer_email": None, "return_url": None}
    try:
        paid = await provider.create_payment(
            Money(1250, "EUR"), idempotency_key="proc-1", reference="checkout:P", **options
        )
        charged = await provider.confirm(paid.id, payment_method=VISA, idempotency_key="proc-1:c")
        assert (charged.status, charged.captured) == (ProviderStatus.succeeded, 1250)
        event = await received.wait_for(WebhookEventType.payment_succeeded, paid.id)
        assert event.payment is not None and event.payment.reference == "checkout:P"

        # paysim holds the timeout card for 1.5 s; the client gives up after 0.5 s
        slow = await provider.create_payment(
            Money(990, "EUR"), idempotency_key="proc-2", reference="checkout:Q", **options
        )
        with pytest.raises(ProviderTimeout):
            await impatient.confirm(slow.id, payment_method=TIMEOUT, idempotency_key="proc-2:c")
        assert (await provider.retrieve(slow.id)).status is ProviderStatus.processing
        await received.wait_for(WebhookEventType.payment_succeeded, slow.id)
        replayed = await provider.confirm(
            slow.id, payment_method=TIMEOUT, idempotency_key="proc-2:c"
        )
        assert (replayed.status, replayed.captured) == (ProviderStatus.succeeded, 990)
        assert [e.type for e in received.events if e.payment_id == slow.id] == [
            WebhookEventType.payment_processing,
            WebhookEventType.payment_succeeded,
        ]
    finally:
        await provider.aclose()
        await impatient.aclose()
