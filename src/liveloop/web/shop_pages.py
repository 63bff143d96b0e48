"""Buyers' catalog pages (a shop, a product, search) and the helpers every catalog page shares:
the viewer's market, locale and zone, field errors from problems, and the HTML 404."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from liveloop.accounts.auth import Public
from liveloop.accounts.service import Principal
from liveloop.catalog import repository as catalog_repo
from liveloop.catalog import search as catalog_search
from liveloop.catalog import service as catalog_service
from liveloop.catalog.errors import ProductNotFound, ShopNotFound
from liveloop.catalog.taxonomy import categories, markets
from liveloop.kit.deps import AppContainer, DbSession
from liveloop.kit.errors import LiveloopError
from liveloop.kit.money import Money, MoneyError
from liveloop.kit.pagination import PageParams
from liveloop.web.pages import render

router = APIRouter(include_in_schema=False)

MARKET_COOKIE = "liveloop_market"
DEFAULT_MARKET = "GB"
_CRUMB = " \N{SINGLE RIGHT-POINTING ANGLE QUOTATION MARK} "
SEARCH_PAGE_SIZE = 12


# -- the viewer ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Viewer:
    """Where the reader shops and how numbers, money and times are written for them."""

    market: str
    locale: str
    time_zone: str
    market_chosen: bool = False

    @property
    def currency(self) -> str:
        return markets()[self.market].currency

    @property
    def html_lang(self) -> str:
        return self.locale.split("_")[0]

    def money(self, amount: int, currency: str) -> str:
        return Money(amount, currency).format(self.locale)

    def major(self, amount: int, currency: str) -> str:
        """An amount without its currency sign, as a form field shows it back (e.g. 89.00)."""
        return Money(amount, currency).as_str()

    def number(self, value: int | Decimal | str) -> str:
        return str(format_decimal(Decimal(str(value)), locale=self.locale))

    def when(self, moment: datetime | None) -> str:
        if moment is None:
            return ""
        return str(
            format_datetime(
                moment, format="medium", tzinfo=ZoneInfo(self.time_zone), locale=self.locale
            )
        )

    def day(self, value: date | None) -> str:
        return "" if value is None else str(format_date(value, format="medium", locale=self.locale))

    def country(self, code: str) -> str:
        """A country's name in the pages' language (English), whatever the number format."""
        name = _ENGLISH.territories.get(code)
        return str(name) if name else code

    def countries(self, codes: Iterable[str], separator: str = ", ") -> str:
        return separator.join(self.country(code) for code in codes)

    def category(self, category_id: str) -> str:
        found = categories().get(category_id)
        if found is None:
            return category_id
        if found.parent:
            return f"{categories()[found.parent].name}{_CRUMB}{found.name}"
        return found.name


_ENGLISH = Locale.parse("en_GB")


def _known_locale(tag: str) -> str | None:
    try:
        return str(Locale.parse(tag.strip().replace("-", "_")))
    except (UnknownLocaleError, ValueError, TypeError):
        return None


def _browser_locale(request: Request, market: str) -> str:
    """The first language the browser asks for, with the market's country when it names none
    (so "en" shopping in GB formats as en_GB); else the market's own locale."""
    header = request.headers.get("accept-language", "")
    first = header.split(",")[0].split(";")[0].strip()
    if first and first != "*":
        with_country = _known_locale(first if "-" in first or "_" in first else f"{first}_{market}")
        found = with_country or _known_locale(first)
        if found:
            return found
    return markets()[market].locale


def _zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return "UTC"
    return name


def viewer_of(request: Request, principal: Principal | None) -> Viewer:
    """The market: `?market=` when given, else a signed-in buyer's country when liveloop sells
    there, else the market chosen earlier (cookie), else GB."""
    asked = request.query_params.get("market", "").strip().upper()
    chosen = asked if asked in markets() else ""
    user = principal if principal is not None and principal.kind == "user" else None
    if chosen:
        market = chosen
    elif user is not None and user.country in markets():
        market = str(user.country)
    else:
        cookie = request.cookies.get(MARKET_COOKIE, "").upper()
        market = cookie if cookie in markets() else DEFAULT_MARKET
    locale = user.locale if user is not None else _browser_locale(request, market)
    zone = _zone(user.time_zone) if user is not None else "UTC"
    return Viewer(market=market, locale=locale, time_zone=zone, market_chosen=bool(chosen))


def remember_market(response: Response, viewer: Viewer) -> Response:
    if viewer.market_chosen:
        response.set_cookie(
            MARKET_COOKIE, viewer.market, max_age=365 * 24 * 3600, samesite="lax", path="/"
        )
    return response


def market_choices(viewer: Viewer) -> list[tuple[str, str]]:
    """Every market with its name in the viewer's language, sorted by that name."""
    return sorted(((c, viewer.country(c)) for c in markets()), key=lambda item: item[1])


# -- errors ----------------------------------------------------------------------------------


def clean_message(text: str) -> str:
    """A pydantic message without its "Value error, " prefix."""
    for prefix in ("Value error, ", "Assertion failed, "):
        if text.startswith(prefix):
            return text[len(prefix) :]
    return text


def validation_errors(exc: ValidationError, prefix: str = "") -> dict[str, str]:
    """Pydantic's errors keyed by the dotted field path the API reports in `errors[].field`."""
    found: dict[str, str] = {}
    for err in exc.errors():
        field = prefix + ".".join(str(part) for part in err["loc"]) if err["loc"] else "form"
        found.setdefault(field, clean_message(str(err["msg"])))
    return found


def problem_errors(
    exc: LiveloopError, *, rename: Mapping[str, str] | None = None
) -> dict[str, str]:
    """A service's problem as field errors (its `errors[].field`), plus its detail under `form`."""
    found: dict[str, str] = {}
    for item in exc.errors:
        field = str(item.get("field") or "form")
        field = (rename or {}).get(field, field)
        found.setdefault(field, str(item.get("message", "invalid")))
    found.setdefault("form", exc.detail)
    return found


def not_found(request: Request, principal: Principal | None, what: str = "page") -> HTMLResponse:
    return render(
        request,
        "shop/not_found.html",
        principal,
        status_code=404,
        what=what,
        viewer=viewer_of(request, principal),
    )


def login_redirect(request: Request) -> Response:
    """To the sign-in page, coming back here afterwards."""
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target, safe='/')}", status_code=303)


def parse_uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


# -- pages -----------------------------------------------------------------------------------


async def _ships_from(session: DbSession, variant_ids: Iterable[uuid.UUID]) -> list[str]:
    countries: set[str] = set()
    for variant_id in variant_ids:
        for stock in await catalog_service.warehouses_with_stock(session, variant_id):
            countries.add(stock.warehouse.country)
    return sorted(countries)


@router.get("/shops/{slug}", response_class=HTMLResponse)
async def shop_page(
    slug: str,
    request: Request,
    principal: Public,
    session: DbSession,
    container: AppContainer,
) -> Response:
    viewer = viewer_of(request, principal)
    try:
        shop = await catalog_service.get_shop_by_slug_or_id(session, slug)
    except ShopNotFound:
        return not_found(request, principal, "shop")
    on_sale = []
    # No catalog call lists a shop's listings for buyers yet: each product is asked for in the
    # viewer's market, and only those on sale there are shown.
    for product_id in (await catalog_repo.handles_of_shop(session, shop.id)).values():
        try:
            on_sale.append(
                await catalog_service.product_for_buyer(session, product_id, viewer.market)
            )
        except ProductNotFound:
            continue
    on_sale.sort(key=lambda found: found.product.title)
    storage = container.media_storage
    response = render(
        request,
        "shop/shop.html",
        principal,
        viewer=viewer,
        shop=shop,
        logo_url=storage.url(shop.logo_key) if shop.logo_key else None,
        on_sale=on_sale,
        image_url=storage.url,
        ships_here=viewer.market in shop.ships_to,
        market_choices=market_choices(viewer),
    )
    return remember_market(response, viewer)


@router.get("/products/{product_id}", response_class=HTMLResponse)
async def product_page(
    product_id: str,
    request: Request,
    principal: Public,
    session: DbSession,
    container: AppContainer,
) -> Response:
    viewer = viewer_of(request, principal)
    pid = parse_uuid(product_id)
    if pid is None:
        return not_found(request, principal, "product")
    try:
        found = await catalog_service.product_for_buyer(session, pid, viewer.market)
    except ProductNotFound:
        try:
            await catalog_service.get_product(session, pid)
        except ProductNotFound:
            return not_found(request, principal, "product")
        response = render(
            request,
            "shop/not_sold_here.html",
            principal,
            status_code=404,
            viewer=viewer,
            market_choices=market_choices(viewer),
            product_id=pid,
        )
        return remember_market(response, viewer)
    ships_from = await _ships_from(session, [v.variant.id for v in found.variants])
    response = render(
        request,
        "shop/product.html",
        principal,
        viewer=viewer,
        found=found,
        ships_from=ships_from,
        images=[container.media_storage.url(i.storage_key) for i in found.images],
        market_choices=market_choices(viewer),
        options_of=lambda v: ", ".join(
            f"{name}: {value}"
            for name, value in zip(found.product.option_names, v.option_values, strict=False)
        ),
    )
    return remember_market(response, viewer)


def _price_filter(value: str, currency: str, field: str, errors: dict[str, str]) -> int | None:
    text = value.strip()
    if not text:
        return None
    try:
        amount = Money.from_decimal(text, currency).amount
    except MoneyError as exc:
        errors[field] = f"{exc}; write an amount such as 25 or 25.50"
        return None
    if amount < 0:
        errors[field] = "must not be negative"
        return None
    return amount


@router.get("/search", response_class=HTMLResponse)
async def search_page(request: Request, principal: Public, session: DbSession) -> Response:
    viewer = viewer_of(request, principal)
    query = request.query_params
    values = {
        name: query.get(name, "").strip()
        for name in ("q", "category", "min_price", "max_price", "ships_from")
    }
    errors: dict[str, str] = {}
    if values["category"] and values["category"] not in categories():
        errors["category"] = "not a category of the catalog"
    ships_from = values["ships_from"].upper()
    if ships_from and (len(ships_from) != 2 or not ships_from.isalpha()):
        errors["ships_from"] = "a two-letter country code, e.g. GB"
    min_price = _price_filter(values["min_price"], viewer.currency, "min_price", errors)
    max_price = _price_filter(values["max_price"], viewer.currency, "max_price", errors)
    result: catalog_search.SearchResult | None = None
    if not errors:
        try:
            result = await catalog_search.search(
                session,
                viewer.market,
                catalog_search.SearchFilters(
                    q=values["q"][:200] or None,
                    category=values["category"] or None,
                    min_price=min_price,
                    max_price=max_price,
                    ships_from=ships_from or None,
                ),
                PageParams(cursor=query.get("cursor") or None, limit=SEARCH_PAGE_SIZE),
            )
        except LiveloopError as exc:
            errors["form"] = exc.detail
    status = 422 if errors else 200

    def link(**changes: str | None) -> str:
        params = {
            k: v
            for k, v in {**values, "market": viewer.market, "cursor": None, **changes}.items()
            if v
        }
        return "/search" + (f"?{urlencode(params)}" if params else "")

    response = render(
        request,
        "shop/search.html",
        principal,
        status_code=status,
        viewer=viewer,
        values=values,
        errors=errors,
        result=result,
        link=link,
        categories=sorted(categories().values(), key=lambda c: c.id),
        market_choices=market_choices(viewer),
        first_page=not query.get("cursor"),
    )
    return remember_market(response, viewer)
