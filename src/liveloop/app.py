"""The ASGI application: routes of every context, the shared middleware and error rendering."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from liveloop import __version__
from liveloop.accounts import endpoints as accounts_endpoints
from liveloop.accounts.auth import idempotency_scope_key
from liveloop.bootstrap import Container, bootstrap, start_event_delivery
from liveloop.catalog import endpoints as catalog_endpoints
from liveloop.checkout import endpoints as checkout_endpoints
from liveloop.creators import endpoints as creators_endpoints
from liveloop.kit import errors, health
from liveloop.kit.http import BodyLimitMiddleware, RequestContextMiddleware, UnitOfWorkMiddleware
from liveloop.kit.settings import Settings, get_settings
from liveloop.ledger import endpoints as ledger_endpoints
from liveloop.live import demo as live_demo
from liveloop.live import endpoints as live_endpoints
from liveloop.live import tasks as live_tasks
from liveloop.logistics import endpoints as logistics_endpoints
from liveloop.media import endpoints as media_endpoints
from liveloop.moderation import endpoints as moderation_endpoints
from liveloop.orders import endpoints as orders_endpoints
from liveloop.payments import endpoints as payments_endpoints
from liveloop.payments.config import attach_embedded_paysim
from liveloop.web import admin as admin_pages
from liveloop.web import live_pages, orders_pages, pages, shop_pages
from liveloop.web import seller as seller_pages

UPLOAD_LIMITS = {"catalog_import": 50 * 1024 * 1024}

DESCRIPTION = """
liveloop's HTTP API. Conventions that hold for every route:

* Errors are `application/problem+json` (RFC 9457) with a stable machine-readable `code`.
* Lists are paginated with an opaque `cursor` (from `next_cursor`) and a `limit`.
* A POST that creates something honours `Idempotency-Key`: the same key with the same body
  replays the first response (header `Idempotent-Replayed: true`); with another body, 422.
* Authenticate with `Authorization: Bearer <session token or shop API key>`, or the session
  cookie plus `X-CSRF-Token` on writes.
* Every response carries `X-Request-ID`; money is integer minor units with an ISO 4217 code.
"""


def create_app(settings: Settings | None = None, *, container: Container | None = None) -> FastAPI:
    settings = settings or get_settings()
    owns_container = container is None
    the_container = container or bootstrap(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        stop = asyncio.Event()
        if owns_container:
            start_event_delivery(the_container, stop)
            await the_container.rooms.start()
            the_container.spawn(live_tasks.run(the_container, stop))
            if settings.demo_host:
                the_container.spawn(live_demo.run_demo_host(the_container, stop))
                the_container.spawn(live_demo.run_demo_stream(the_container, stop))
        try:
            yield
        finally:
            stop.set()
            if owns_container:
                await the_container.close()

    app = FastAPI(
        title="liveloop",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        openapi_url="/openapi.json",
        docs_url="/docs",
        redoc_url=None,
    )
    app.state.container = the_container
    errors.install_handlers(app)
    app.include_router(health.router)
    app.include_router(accounts_endpoints.router)
    app.include_router(catalog_endpoints.router)
    app.include_router(catalog_endpoints.admin_router)
    app.include_router(live_endpoints.router)
    app.include_router(live_endpoints.sets_router)
    app.include_router(media_endpoints.router)
    app.include_router(creators_endpoints.router)
    app.include_router(logistics_endpoints.router)
    app.include_router(moderation_endpoints.router)
    app.include_router(payments_endpoints.router)
    app.include_router(checkout_endpoints.router)
    app.include_router(orders_endpoints.router)
    app.include_router(ledger_endpoints.router)
    app.include_router(live_pages.router)
    app.include_router(orders_pages.router)
    app.include_router(pages.router)
    app.include_router(shop_pages.router)
    app.include_router(seller_pages.router)
    app.include_router(admin_pages.router)
    if the_container.paysim is not None:
        attach_embedded_paysim(app, the_container.paysim)  # the sandbox card processor, /paysim
    app.mount("/static", StaticFiles(directory=pages.STATIC_DIR), name="static")
    app.mount("/media", StaticFiles(directory=settings.media_dir, check_dir=False), name="media")

    app.add_middleware(
        UnitOfWorkMiddleware,
        sessionmaker=lambda: app.state.container.sessionmaker,
        scope_key=idempotency_scope_key,
        skip_prefixes=("/paysim",),
    )
    app.add_middleware(
        BodyLimitMiddleware,
        limit=settings.max_body_bytes,
        overrides={
            r"/api/v1/shops/[^/]+/catalog/imports$": UPLOAD_LIMITS["catalog_import"],
            r"/seller/shops/[^/]+/import$": UPLOAD_LIMITS["catalog_import"],
            # the upload route refuses oversized videos itself, with `video_too_large`
            r"/api/v1/videos/uploads$": the_container.media.config.max_upload_bytes + 1_048_576,
        },
    )
    app.add_middleware(RequestContextMiddleware)
    return app
