"""The live room a viewer watches and buys in, and the host's console. Both are thin pages; the
room's state comes over its real-time channel, and every action calls the JSON API."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from liveloop.accounts.auth import Public
from liveloop.kit.deps import AppContainer, DbSession
from liveloop.kit.errors import NotFound
from liveloop.live.schedule import in_zone
from liveloop.web.pages import render, viewer_market

router = APIRouter(include_in_schema=False)


@router.get("/live/{session_id}", response_class=HTMLResponse)
async def live_room(
    session_id: uuid.UUID,
    request: Request,
    principal: Public,
    session: DbSession,
    container: AppContainer,
) -> HTMLResponse:
    live = await container.live.get(session, session_id)
    market = viewer_market(request, principal, live.markets)
    zone = principal.time_zone if principal else "UTC"
    locale = principal.locale if principal else "en_GB"
    return render(
        request,
        "live/room.html",
        principal,
        live=live,
        market=market,
        starts=in_zone(live.scheduled_start, zone, locale),
        is_runner=principal is not None and await container.live.may_run(session, live, principal),
    )


@router.get("/live/{session_id}/host", response_model=None)
async def host_console(
    session_id: uuid.UUID,
    request: Request,
    principal: Public,
    session: DbSession,
    container: AppContainer,
) -> Response:
    if principal is None:
        return RedirectResponse(f"/login?next=/live/{session_id}/host", status_code=303)
    live = await container.live.get(session, session_id)
    if not await container.live.may_run(session, live, principal):
        raise NotFound("No such live session.", code="live_session_not_found")
    shop_ids = await container.live.shop_ids(session, live.id)
    return render(
        request,
        "live/host.html",
        principal,
        live=live,
        shop_ids=[str(s) for s in shop_ids],
        starts=in_zone(live.scheduled_start, live.host_time_zone, principal.locale),
    )
