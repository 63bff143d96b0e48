"""Platform admin pages: the listing review queue, compliance rules with their versions, exchange
rates, and the link-ban tester; anyone who is not a platform admin gets 404."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from liveloop.accounts.auth import Public
from liveloop.accounts.service import Principal
from liveloop.catalog import compliance, fx
from liveloop.catalog import repository as catalog_repo
from liveloop.catalog import service as catalog_service
from liveloop.catalog.schemas import FxRateIn
from liveloop.kit.db import utcnow
from liveloop.kit.deps import DbSession
from liveloop.kit.errors import LiveloopError
from liveloop.moderation.linkban import default_link_ban
from liveloop.web.pages import render
from liveloop.web.shop_pages import (
    login_redirect,
    not_found,
    parse_uuid,
    problem_errors,
    validation_errors,
    viewer_of,
)

router = APIRouter(include_in_schema=False)


def _refused(request: Request, principal: Principal | None) -> Response | None:
    if principal is None or principal.kind != "user":
        return login_redirect(request)
    if not principal.is_platform_admin:
        return not_found(request, principal)
    return None


def _page(
    request: Request,
    name: str,
    principal: Principal | None,
    section: str,
    *,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    return render(
        request,
        name,
        principal,
        status_code=status_code,
        viewer=viewer_of(request, principal),
        section=section,
        **context,
    )


@router.get("/admin", response_class=HTMLResponse)
async def admin_home(request: Request, principal: Public, session: DbSession) -> Response:
    if refused := _refused(request, principal):
        return refused
    queue = await catalog_service.review_queue(session)
    rules = await compliance.current_rules(session)
    rates = await fx.list_rates(session, limit=1)
    return _page(
        request,
        "admin/index.html",
        principal,
        "home",
        waiting=len(queue),
        rule_count=len(rules),
        latest_rate=rates[0] if rates else None,
    )


# -- review queue ----------------------------------------------------------------------------


async def _review_page(
    request: Request,
    principal: Principal | None,
    session: DbSession,
    *,
    errors: dict[str, dict[str, str]] | None = None,
    notice: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    items = []
    for listing in await catalog_service.review_queue(session):
        product = await catalog_service.get_product(session, listing.product_id)
        shop = await catalog_service.get_shop(session, listing.shop_id)
        variants = await catalog_service.variants_of(session, product.id)
        items.append({"listing": listing, "product": product, "shop": shop, "variants": variants})
    return _page(
        request,
        "admin/review.html",
        principal,
        "review",
        status_code=status_code,
        items=items,
        errors=errors or {},
        notice=notice,
    )


@router.get("/admin/review", response_class=HTMLResponse)
async def review_page(request: Request, principal: Public, session: DbSession) -> Response:
    if refused := _refused(request, principal):
        return refused
    notice = {"approved": "Listing approved: it is on sale.", "rejected": "Listing rejected."}
    shown = next((text for key, text in notice.items() if request.query_params.get(key)), "")
    return await _review_page(request, principal, session, notice=shown)


@router.post("/admin/review/{listing_id}", response_class=HTMLResponse)
async def review_decision(
    listing_id: str, request: Request, principal: Public, session: DbSession
) -> Response:
    if refused := _refused(request, principal):
        return refused
    assert principal is not None
    lid = parse_uuid(listing_id)
    listing = await catalog_repo.get_listing(session, lid) if lid else None
    if listing is None:
        return not_found(request, principal, "listing")
    form = await request.form()
    decision = str(form.get("decision", ""))
    reason = str(form.get("reason", "")).strip()
    actor = catalog_service.actor_of(principal)
    key = str(listing.id)
    try:
        if decision == "approve":
            await catalog_service.approve_listing(
                session, listing.id, actor=actor, reason=reason[:1000]
            )
        elif decision == "reject":
            if not reason:
                return await _review_page(
                    request,
                    principal,
                    session,
                    errors={key: {"reason": "say why, so the seller can fix it"}},
                    status_code=422,
                )
            await catalog_service.reject_listing(
                session, listing.id, actor=actor, reasons=[reason[:1000]]
            )
        else:
            return await _review_page(
                request,
                principal,
                session,
                errors={key: {"form": "Choose approve or reject."}},
                status_code=422,
            )
    except LiveloopError as exc:
        return await _review_page(
            request, principal, session, notice=exc.detail, status_code=exc.status
        )
    done = "approved" if decision == "approve" else "rejected"
    return RedirectResponse(f"/admin/review?{done}=1", status_code=303)


# -- compliance rules ------------------------------------------------------------------------


@router.get("/admin/rules", response_class=HTMLResponse)
async def rules_page(request: Request, principal: Public, session: DbSession) -> Response:
    if refused := _refused(request, principal):
        return refused
    rules = await compliance.current_rules(session)
    baseline = compliance.baseline_rules()
    versions = {rid: len(await compliance.rule_history(session, rid)) for rid in rules}
    return _page(
        request,
        "admin/rules.html",
        principal,
        "rules",
        rules=sorted(rules.values(), key=lambda r: r.id),
        baseline=baseline,
        versions=versions,
        today=utcnow().date(),
    )


async def _rule_page(
    request: Request,
    principal: Principal | None,
    session: DbSession,
    rule_id: str,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    result: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    rules = await compliance.current_rules(session)
    rule = rules.get(rule_id)
    history = await compliance.rule_history(session, rule_id)
    if rule is None and rule_id != "new":
        return not_found(request, principal, "rule")
    definition = rule.model_dump(mode="json", exclude={"id"}) if rule else {}
    return _page(
        request,
        "admin/rule.html",
        principal,
        "rules",
        status_code=status_code,
        rule=rule,
        rule_id=rule_id,
        history=list(reversed(history)),
        in_baseline=rule_id in compliance.baseline_rules(),
        values=values or {"definition": json.dumps(definition, indent=2), "reason": ""},
        errors=errors or {},
        result=result,
    )


@router.get("/admin/rules/{rule_id}", response_class=HTMLResponse)
async def rule_page(
    rule_id: str, request: Request, principal: Public, session: DbSession
) -> Response:
    if refused := _refused(request, principal):
        return refused
    return await _rule_page(request, principal, session, rule_id)


@router.post("/admin/rules/{rule_id}", response_class=HTMLResponse)
async def change_rule(
    rule_id: str, request: Request, principal: Public, session: DbSession
) -> Response:
    if refused := _refused(request, principal):
        return refused
    assert principal is not None
    if rule_id not in await compliance.current_rules(session):
        return not_found(request, principal, "rule")
    form = await request.form()
    values = {k: str(form.get(k, "")).strip() for k in ("definition", "reason")}
    errors: dict[str, str] = {}
    definition: Any = None
    try:
        definition = json.loads(values["definition"])
    except json.JSONDecodeError as exc:
        errors["definition"] = f"not valid JSON: {exc.msg} at line {exc.lineno}"
    else:
        if not isinstance(definition, dict):
            errors["definition"] = "the rule is one JSON object"
    if not values["reason"]:
        errors["reason"] = "say why the rule changes; it is kept in the history"
    if not errors:
        try:
            _, version, checked, moved, rejected = await catalog_service.change_rule(
                session,
                rule_id,
                definition,
                actor=catalog_service.actor_of(principal),
                reason=values["reason"][:1000],
            )
        except LiveloopError as exc:
            errors = {
                ("definition" if k.startswith("definition") else k): (
                    f"{k.removeprefix('definition.')}: {v}" if k.startswith("definition.") else v
                )
                for k, v in problem_errors(exc).items()
            }
        else:
            result = {
                "version": version,
                "checked": checked,
                "moved": len(moved),
                "rejected": len(rejected),
            }
            return await _rule_page(
                request, principal, session, rule_id, result=result, status_code=200
            )
    errors.setdefault("form", "The rule was not changed: fix the fields marked below.")
    return await _rule_page(
        request, principal, session, rule_id, values=values, errors=errors, status_code=422
    )


# -- exchange rates --------------------------------------------------------------------------


async def _fx_page(
    request: Request,
    principal: Principal | None,
    session: DbSession,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    notice: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    base = request.query_params.get("base", "").strip().upper()[:3] or None
    quote = request.query_params.get("quote", "").strip().upper()[:3] or None
    rates = await fx.list_rates(session, base, quote)
    return _page(
        request,
        "admin/fx.html",
        principal,
        "fx",
        status_code=status_code,
        rates=rates,
        filters={"base": base or "", "quote": quote or ""},
        values=values or {"rate_date": utcnow().date().isoformat(), "source": ""},
        errors=errors or {},
        notice=notice,
    )


@router.get("/admin/fx", response_class=HTMLResponse)
async def fx_page(request: Request, principal: Public, session: DbSession) -> Response:
    if refused := _refused(request, principal):
        return refused
    notice = (
        "Rate recorded; earlier rates stay on record." if request.query_params.get("added") else ""
    )
    return await _fx_page(request, principal, session, notice=notice)


@router.post("/admin/fx", response_class=HTMLResponse)
async def add_rate(request: Request, principal: Public, session: DbSession) -> Response:
    if refused := _refused(request, principal):
        return refused
    assert principal is not None
    form = await request.form()
    values = {
        k: str(form.get(k, "")).strip() for k in ("base", "quote", "rate", "rate_date", "source")
    }
    try:
        data = FxRateIn.model_validate({k: v for k, v in values.items() if v})
        await fx.add_rate(
            session,
            base=data.base,
            quote=data.quote,
            rate=data.rate,
            rate_date=data.rate_date,
            source=data.source,
            actor=catalog_service.actor_of(principal),
        )
    except ValidationError as exc:
        errors = validation_errors(exc)
    except LiveloopError as exc:
        errors = problem_errors(exc)
    else:
        return RedirectResponse("/admin/fx?added=1", status_code=303)
    errors.setdefault("form", "The rate was not recorded: fix the fields marked below.")
    return await _fx_page(
        request, principal, session, values=values, errors=errors, status_code=422
    )


# -- link-ban tester -------------------------------------------------------------------------


@router.get("/admin/link-ban", response_class=HTMLResponse)
async def link_ban_page(request: Request, principal: Public) -> Response:
    if refused := _refused(request, principal):
        return refused
    ban = default_link_ban()
    return _page(
        request,
        "admin/link_ban.html",
        principal,
        "link-ban",
        ban=ban,
        entries=sorted(ban.entries, key=lambda e: (e.rule, e.domain)),
    )
