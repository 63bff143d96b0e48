"""Stock: every change is a movement, the levels are the sum of the movements, reservations
hold and release atomically, expired ones return to stock, and the table refuses negatives."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from liveloop.catalog import inventory
from liveloop.catalog.errors import InsufficientStock, ReservationNotActive
from liveloop.catalog.models import MovementKind, ReservationStatus, StockLevel, StockMovement
from liveloop.kit.clock import clock
from liveloop.kit.db import utcnow
from tests.conftest import MakeUser, assert_problem
from tests.integration.catalog.conftest import make_stocked, product_body, shop_body


async def _levels(
    session: AsyncSession, variant_id: object, warehouse_id: object
) -> tuple[int, int, int]:
    level = await inventory.get_level(session, variant_id, warehouse_id)  # type: ignore[arg-type]
    assert level is not None
    return level.on_hand, level.reserved, level.allocated


async def _ledger(
    session: AsyncSession, variant_id: object, warehouse_id: object
) -> tuple[int, int, int]:
    row = (
        await session.execute(
            select(
                func.sum(StockMovement.on_hand_delta),
                func.sum(StockMovement.reserved_delta),
                func.sum(StockMovement.allocated_delta),
            ).where(
                StockMovement.variant_id == variant_id, StockMovement.warehouse_id == warehouse_id
            )
        )
    ).one()
    return int(row[0]), int(row[1]), int(row[2])


async def test_the_life_of_stock_and_levels_equal_the_movements(session: AsyncSession) -> None:
    s = await make_stocked(session, on_hand=20)
    v, w = s.variant.id, s.origin.id
    later = utcnow() + timedelta(minutes=15)
    a = await inventory.reserve(
        session, v, w, 3, holder="checkout-a", expires_at=later, actor="user:a"
    )
    b = await inventory.reserve(
        session, v, w, 2, holder="checkout-b", expires_at=later, actor="user:b"
    )
    assert await _levels(session, v, w) == (20, 5, 0)
    await inventory.release(session, b.id, reason="payment failed", actor="system:payments")
    await inventory.convert_to_allocation(session, a.id, order_ref="ORD-1", actor="system:orders")
    assert await _levels(session, v, w) == (20, 0, 3)
    await inventory.ship(session, a.id, actor="user:warehouse")
    assert await _levels(session, v, w) == (17, 0, 0)
    await inventory.adjust(
        session, variant_id=v, warehouse_id=w, delta=-2, actor="user:lin", reason="2 damaged"
    )
    await inventory.record_return(
        session,
        variant_id=v,
        warehouse_id=w,
        quantity=1,
        actor="user:lin",
        reason="unopened",
        reference="ORD-1",
    )
    assert await _levels(session, v, w) == (16, 0, 0)
    assert await inventory.available(session, v) == 16
    assert await _ledger(session, v, w) == await _levels(session, v, w)
    kinds = list(
        (
            await session.scalars(
                select(StockMovement.kind)
                .where(StockMovement.variant_id == v)
                .order_by(StockMovement.id)
            )
        ).all()
    )
    assert kinds == [
        MovementKind.receipt,
        MovementKind.reservation,
        MovementKind.reservation,
        MovementKind.release,
        MovementKind.allocation,
        MovementKind.shipment,
        MovementKind.adjustment,
        MovementKind.return_,
    ]
    release_row = await session.scalar(
        select(StockMovement).where(
            StockMovement.kind == MovementKind.release, StockMovement.variant_id == v
        )
    )
    assert release_row is not None
    assert (release_row.actor, release_row.reason, release_row.reference) == (
        "system:payments",
        "payment failed",
        "checkout-b",
    )
    with pytest.raises(ReservationNotActive):
        await inventory.release(session, b.id, reason="twice", actor="user:b")


async def test_reserving_more_than_available_changes_nothing(session: AsyncSession) -> None:
    s = await make_stocked(session, on_hand=4)
    v, w = s.variant.id, s.origin.id
    await inventory.reserve(
        session, v, w, 3, holder="c1", expires_at=utcnow() + timedelta(minutes=5), actor="u"
    )
    with pytest.raises(InsufficientStock):
        await inventory.reserve(
            session, v, w, 2, holder="c2", expires_at=utcnow() + timedelta(minutes=5), actor="u"
        )
    with pytest.raises(InsufficientStock):
        await inventory.adjust(
            session, variant_id=v, warehouse_id=w, delta=-2, actor="u", reason="lost"
        )
    assert await _levels(session, v, w) == (4, 3, 0)
    assert await _ledger(session, v, w) == (4, 3, 0)


async def test_check_constraint_is_the_last_line_of_defence(session: AsyncSession) -> None:
    s = await make_stocked(session, on_hand=2)
    with pytest.raises(IntegrityError):
        async with session.begin_nested():
            await session.execute(
                update(StockLevel)
                .where(StockLevel.variant_id == s.variant.id)
                .values(reserved=StockLevel.reserved + 3)
            )


async def test_without_a_warehouse_the_buyers_market_is_preferred(session: AsyncSession) -> None:
    s = await make_stocked(session, on_hand=10)
    v = s.variant.id
    await inventory.receive(
        session,
        variant_id=v,
        warehouse_id=s.overseas.id,
        quantity=2,
        actor="u",
        reason="sea freight",
    )
    later = utcnow() + timedelta(minutes=5)
    local = await inventory.reserve(
        session, v, None, 2, holder="gb-1", expires_at=later, actor="u", prefer_country="GB"
    )
    assert local.warehouse_id == s.overseas.id
    fallback = await inventory.reserve(
        session, v, None, 1, holder="gb-2", expires_at=later, actor="u", prefer_country="GB"
    )
    assert fallback.warehouse_id == s.origin.id
    stock = await inventory.warehouses_with_stock(session, v)
    assert [(x.warehouse.code, x.available) for x in stock] == [(s.origin.code, 9)]


async def test_expired_reservations_return_to_stock(session: AsyncSession) -> None:
    s = await make_stocked(session, on_hand=10)
    v, w = s.variant.id, s.origin.id
    soon = utcnow() + timedelta(minutes=10)
    expiring = [
        await inventory.reserve(session, v, w, 2, holder=f"c{i}", expires_at=soon, actor="u")
        for i in range(3)
    ]
    paid = await inventory.reserve(session, v, w, 1, holder="paid", expires_at=soon, actor="u")
    await inventory.convert_to_allocation(session, paid.id, order_ref="ORD-9", actor="u")
    keeps = await inventory.reserve(
        session, v, w, 1, holder="late", expires_at=soon + timedelta(hours=1), actor="u"
    )
    assert await inventory.release_expired(session) == 0
    with clock.travel(timedelta(minutes=11)):
        assert await inventory.release_expired(session, batch_size=2) == 3
    assert await _levels(session, v, w) == (10, 1, 1)
    assert await inventory.available(session, v) == 8
    for reservation in expiring:
        assert (
            await inventory.get_reservation(session, reservation.id)
        ).status is ReservationStatus.expired
    assert (await inventory.get_reservation(session, keeps.id)).status is ReservationStatus.active
    assert await _ledger(session, v, w) == (10, 1, 1)
    sweeps = await session.scalar(
        select(func.count())
        .select_from(StockMovement)
        .where(StockMovement.actor == inventory.SWEEPER)
    )
    assert sweeps == 3
    with pytest.raises(ReservationNotActive):
        await inventory.convert_to_allocation(
            session, expiring[0].id, order_ref="too-late", actor="u"
        )


async def test_stock_over_http(client: httpx.AsyncClient, make_user: MakeUser) -> None:
    lin = await make_user(country="CN")
    shop = (
        await client.post("/api/v1/shops", json=shop_body("stock-shop"), headers=lin.headers)
    ).json()
    base = f"/api/v1/shops/{shop['id']}"
    product = (
        await client.post(f"{base}/products", json=product_body("box"), headers=lin.headers)
    ).json()
    variant_id = product["variants"][0]["id"]
    warehouse = await client.post(
        f"{base}/warehouses",
        json={"code": "GZ-STOCK", "name": "Guangzhou Baiyun", "country": "CN", "kind": "origin"},
        headers=lin.headers,
    )
    assert warehouse.status_code == 201
    wid = warehouse.json()["id"]
    received = await client.post(
        f"{base}/stock/receipts",
        json={
            "variant_id": variant_id,
            "warehouse_id": wid,
            "quantity": 30,
            "reason": "production run",
        },
        headers=lin.headers,
    )
    assert received.status_code == 201
    assert (received.json()["on_hand"], received.json()["available"]) == (30, 30)
    adjusted = await client.post(
        f"{base}/stock/adjustments",
        json={"variant_id": variant_id, "warehouse_id": wid, "delta": -31, "reason": "miscount"},
        headers=lin.headers,
    )
    assert assert_problem(adjusted, 409, "insufficient_stock")["errors"][0]["field"] == "delta"
    zero = await client.post(
        f"{base}/stock/receipts",
        json={"variant_id": variant_id, "warehouse_id": wid, "quantity": 0},
        headers=lin.headers,
    )
    assert assert_problem(zero, 422, "invalid")["errors"][0]["field"] == "quantity"
    movements = await client.get(f"{base}/stock/movements", headers=lin.headers)
    assert [(m["kind"], m["on_hand_delta"], m["actor"], m["reason"]) for m in movements.json()] == [
        ("receipt", 30, f"user:{lin.id}", "production run")
    ]
