"""Server-rendered pages. They call the contexts' services, never their tables."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from pydantic import ValidationError

from liveloop.accounts.auth import SESSION_COOKIE, Public
from liveloop.accounts.schemas import SignUp
from liveloop.accounts.service import Principal
from liveloop.catalog import search as catalog_search
from liveloop.kit.deps import AppContainer, DbSession
from liveloop.kit.errors import LiveloopError
from liveloop.kit.http import client_address
from liveloop.kit.money import Money
from liveloop.kit.pagination import PageParams
from liveloop.kit.settings import Environment
from liveloop.live.schedule import in_zone
from liveloop.web import demo_accounts

MARKETS = ["GB", "US", "DE", "FR", "IT", "ES", "NL", "SG", "MY", "TH", "VN", "PH", "ID"]

HERE = Path(__file__).parent
STATIC_DIR = HERE / "static"
templates = Jinja2Templates(directory=HERE / "templates")

router = APIRouter(include_in_schema=False)


def render(
    request: Request,
    name: str,
    principal: Principal | None,
    *,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    container = request.app.state.container
    csrf = (
        container.accounts.csrf_token(principal.token_hash)
        if principal and principal.token_hash
        else ""
    )
    return templates.TemplateResponse(
        request,
        name,
        {"principal": principal, "csrf_token": csrf, **context},
        status_code=status_code,
    )


MARKET_COOKIE = "liveloop_market"


def viewer_market(request: Request, principal: Principal | None, offered: list[str]) -> str:
    """The market a viewer buys in: chosen explicitly (query or cookie), else their country,
    else the first market offered."""
    for candidate in (
        request.query_params.get("market"),
        request.cookies.get(MARKET_COOKIE),
        principal.country if principal else None,
        *_regions(request.headers.get("accept-language", "")),
        "GB",
    ):
        if candidate and candidate.upper() in offered:
            return candidate.upper()
    return offered[0] if offered else "GB"


def _regions(accept_language: str) -> list[str]:
    """Country parts of an Accept-Language header, most preferred first ("de-DE" → "DE")."""
    regions = []
    for part in accept_language.split(","):
        tag = part.split(";")[0].strip()
        if "-" in tag:
            regions.append(tag.rsplit("-", 1)[1])
    return regions


def _set_session_cookie(response: Response, request: Request, token: str, max_age: int) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=max_age,
        httponly=True,
        secure=request.url.scheme == "https",
        samesite="lax",
        path="/",
    )


@router.get("/", response_class=HTMLResponse)
async def home(
    request: Request, principal: Public, session: DbSession, container: AppContainer
) -> HTMLResponse:
    """Live now, starting soon (in the viewer's time zone), and what is on sale in their market."""
    show_demo = container.settings.env is not Environment.production
    market = viewer_market(request, principal, MARKETS)
    zone = principal.time_zone if principal else "UTC"
    locale = principal.locale if principal else "en_GB"
    sessions = await container.live.list_for_discovery(session, market=market, limit=12)
    rooms: list[dict[str, Any]] = [
        {"live": s, "state": s.state.value, "starts": in_zone(s.scheduled_start, zone, locale)}
        for s in sessions
    ]
    found = await catalog_search.search(
        session, market, catalog_search.SearchFilters(), PageParams(limit=8)
    )
    products = [
        {
            "id": hit.product.id,
            "title": hit.product.title,
            "shop": hit.shop.display_name,
            "price": Money(hit.listing.price, hit.listing.currency).format(locale),
            "ships_from": hit.ships_from,
        }
        for hit in found.hits
    ]
    return render(
        request,
        "home.html",
        principal,
        market=market,
        markets=MARKETS,
        live_now=[r for r in rooms if r["state"] == "live"],
        soon=[r for r in rooms if r["state"] == "scheduled"],
        products=products,
        demo_logins=demo_accounts.DEMO_LOGINS if show_demo else [],
    )


@router.get("/login", response_class=HTMLResponse)
async def login_page(request: Request, principal: Public, next: str = "/") -> HTMLResponse:
    return render(request, "login.html", principal, next=_safe_next(next), errors={}, values={})


def _safe_next(target: str) -> str:
    """Only same-site paths, so a login link cannot bounce the buyer to another site."""
    return target if target.startswith("/") and not target.startswith("//") else "/"


@router.post("/login", response_model=None)
async def login_submit(
    request: Request, principal: Public, session: DbSession, container: AppContainer
) -> Response:
    form = await request.form()
    email = str(form.get("email", ""))
    password = str(form.get("password", ""))
    target = _safe_next(str(form.get("next", "/")))
    try:
        result = await container.accounts.log_in(
            session,
            email=email,
            password=password,
            ip_address=client_address(request.scope),
            user_agent=request.headers.get("user-agent"),
        )
    except LiveloopError as exc:
        return render(
            request,
            "login.html",
            principal,
            status_code=exc.status,
            next=target,
            errors={"form": exc.detail},
            values={"email": email},
        )
    response = RedirectResponse(target, status_code=303)
    _set_session_cookie(
        response, request, result.token, int(container.accounts.session_ttl.total_seconds())
    )
    return response


@router.get("/signup", response_class=HTMLResponse)
async def signup_page(request: Request, principal: Public) -> HTMLResponse:
    return render(request, "signup.html", principal, errors={}, values={"time_zone": "UTC"})


@router.post("/signup", response_model=None)
async def signup_submit(
    request: Request, principal: Public, session: DbSession, container: AppContainer
) -> Response:
    form = await request.form()
    values = {
        k: str(form.get(k, ""))
        for k in ("email", "password", "display_name", "country", "time_zone", "locale")
    }
    values["locale"] = values["locale"] or "en_GB"
    values["time_zone"] = values["time_zone"] or "UTC"
    errors: dict[str, str] = {}
    try:
        data = SignUp.model_validate(values)
    except ValidationError as exc:
        for err in exc.errors():
            errors[str(err["loc"][0])] = err["msg"]
        return render(
            request, "signup.html", principal, status_code=422, errors=errors, values=values
        )
    try:
        result = await container.accounts.sign_up(
            session,
            email=str(data.email),
            password=data.password,
            display_name=data.display_name,
            country=data.country,
            time_zone=data.time_zone,
            locale=data.locale,
            ip_address=client_address(request.scope),
            user_agent=request.headers.get("user-agent"),
        )
    except LiveloopError as exc:
        for detail in exc.errors:
            errors[str(detail.get("field"))] = str(detail.get("message"))
        errors.setdefault("form", exc.detail)
        return render(
            request, "signup.html", principal, status_code=exc.status, errors=errors, values=values
        )
    response = RedirectResponse("/account", status_code=303)
    _set_session_cookie(
        response, request, result.token, int(container.accounts.session_ttl.total_seconds())
    )
    return response


@router.post("/logout", response_model=None)
async def logout_submit(
    request: Request, principal: Public, session: DbSession, container: AppContainer
) -> Response:
    if principal is not None:
        await container.accounts.log_out(session, principal)
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/account", response_model=None)
async def account_page(
    request: Request, principal: Public, session: DbSession, container: AppContainer
) -> Response:
    if principal is None or principal.user_id is None:
        return RedirectResponse("/login?next=/account", status_code=303)
    user = await container.accounts.get_user(session, principal.user_id)
    memberships = await container.accounts.list_memberships(session, principal.user_id)
    return render(request, "account.html", principal, user=user, memberships=memberships)
