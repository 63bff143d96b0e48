"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from liveloop.accounts.auth import Anyone
from liveloop.kit.deps import get_container

router = APIRouter(tags=["operations"])


@router.get("/healthz")
async def healthz(_: Anyone) -> dict[str, str]:
    """The process is alive."""
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "A dependency is unreachable."}})
async def readyz(request: Request, _: Anyone) -> JSONResponse:
    """The database and, when configured, Redis answer."""
    container = get_container(request)
    checks: dict[str, str] = {}
    ok = True
    try:
        async with container.sessionmaker() as session:
            await session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:
        ok = False
        checks["database"] = f"error: {type(exc).__name__}"
    if container.redis is not None:
        try:
            await container.redis.ping()
            checks["redis"] = "ok"
        except Exception as exc:
            ok = False
            checks["redis"] = f"error: {type(exc).__name__}"
    return JSONResponse(
        {"status": "ok" if ok else "unavailable", "checks": checks}, status_code=200 if ok else 503
    )


@router.get("/metrics", include_in_schema=False)
async def metrics(_: Anyone) -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
