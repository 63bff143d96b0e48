"""Orders as people see them: a buyer's orders with each order's history, and the orders a
shop has to fulfil in the seller centre."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from liveloop.accounts.auth import Public
from liveloop.catalog import service as catalog_service
from liveloop.kit.deps import AppContainer, DbSession
from liveloop.kit.errors import NotFound
from liveloop.kit.money import Money
from liveloop.live.schedule import in_zone
from liveloop.orders import service as orders_service
from liveloop.orders.models import Order
from liveloop.web.pages import render

router = APIRouter(include_in_schema=False)


def _row(order: Order, zone: str, locale: str) -> dict[str, object]:
    return {
        "id": order.id,
        "number": order.number,
        "status": order.status.value.replace("_", " "),
        "payment": order.payment_status.value.replace("_", " "),
        "fulfilment": order.fulfilment_status.value.replace("_", " "),
        "total": Money(order.total, order.currency).format(locale),
        "placed": in_zone(order.created_at, zone, locale),
    }


@router.get("/orders", response_model=None)
async def my_orders(request: Request, principal: Public, session: DbSession) -> Response:
    if principal is None or principal.user_id is None:
        return RedirectResponse("/login?next=/orders", status_code=303)
    orders = await orders_service.recent_orders_of_buyer(session, principal.user_id)
    rows = [_row(o, principal.time_zone, principal.locale) for o in orders]
    return render(request, "orders/list.html", principal, orders=rows, title="Your orders")


@router.get("/orders/{order_id}", response_model=None)
async def order_page(
    order_id: uuid.UUID, request: Request, principal: Public, session: DbSession
) -> Response:
    if principal is None:
        return RedirectResponse(f"/login?next=/orders/{order_id}", status_code=303)
    order = await orders_service.order_for(session, order_id, principal)  # 404 for others
    shop = await catalog_service.get_shop(session, order.shop_id)
    lines = await orders_service.lines_of(session, order.id)
    history = [
        {
            "what": f"{e.field.replace('_', ' ')}: {e.to_value.replace('_', ' ')}",
            "why": e.reason,
            "when": in_zone(e.occurred_at, principal.time_zone, principal.locale),
        }
        for e in await orders_service.events_of(session, order.id)
    ]
    locale = principal.locale

    def money(amount: int) -> str:
        return Money(amount, order.currency).format(locale)

    return render(
        request,
        "orders/detail.html",
        principal,
        order=_row(order, principal.time_zone, principal.locale),
        shop=shop.display_name,
        lines=[
            {"title": line.title, "quantity": line.quantity, "price": money(line.unit_price)}
            for line in lines
        ],
        totals=[
            ("Items", money(order.subtotal)),
            ("Delivery", money(order.shipping + order.shipping_tax)),
            ("Duties & taxes", money(order.duties_and_taxes)),
            ("Total", money(order.total)),
        ],
        history=history,
    )


@router.get("/seller/shops/{shop_id}/orders", response_model=None)
async def shop_orders(
    shop_id: uuid.UUID,
    request: Request,
    principal: Public,
    session: DbSession,
    container: AppContainer,
) -> Response:
    if principal is None:
        return RedirectResponse(f"/login?next=/seller/shops/{shop_id}/orders", status_code=303)
    if not principal.may_act_for_shop(shop_id) and not principal.is_platform_admin:
        raise NotFound("No such shop.", code="shop_not_found")
    shop = await catalog_service.get_shop(session, shop_id)
    orders = await orders_service.recent_orders_of_shop(session, shop_id)
    rows = [_row(o, principal.time_zone, principal.locale) for o in orders]
    return render(
        request, "orders/shop.html", principal, orders=rows, shop=shop, title="Orders to fulfil"
    )
