"""Stock: warehouses, levels per variant per warehouse, reservations, and the movement ledger.

Every change is one conditional statement on the level row plus a movement row recording the
deltas, who and why, in the caller's transaction; the levels always equal the sum of the
movements. Reservation is `UPDATE ... SET reserved = reserved + q WHERE on_hand - reserved -
allocated >= q`: the check and the hold are the same statement, so concurrent buyers can never
take more than there is (PostgreSQL re-checks the condition on the row it waited for; SQLite
serialises writers). A CHECK constraint on the table is the last line of defence.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import case, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from liveloop.catalog.errors import (
    InsufficientStock,
    ReservationNotActive,
    ReservationNotFound,
    VariantNotFound,
    WarehouseCodeTaken,
    WarehouseNotFound,
)
from liveloop.catalog.models import (
    MovementKind,
    Reservation,
    ReservationStatus,
    StockLevel,
    StockMovement,
    Variant,
    Warehouse,
    WarehouseKind,
)
from liveloop.kit.db import new_id, utcnow
from liveloop.kit.errors import Unprocessable, field_error

SWEEPER = "system:reservation-sweeper"

_available_units = StockLevel.on_hand - StockLevel.reserved - StockLevel.allocated


def _positive(quantity: int, name: str = "quantity") -> None:
    if quantity <= 0:
        raise Unprocessable(
            f"The {name} must be at least 1.", errors=[field_error(name, "must be >= 1")]
        )


def _movement(
    session: AsyncSession,
    *,
    kind: MovementKind,
    variant_id: uuid.UUID,
    warehouse_id: uuid.UUID,
    shop_id: uuid.UUID,
    actor: str,
    reason: str = "",
    on_hand: int = 0,
    reserved: int = 0,
    allocated: int = 0,
    reservation_id: uuid.UUID | None = None,
    reference: str | None = None,
) -> StockMovement:
    row = StockMovement(
        variant_id=variant_id,
        warehouse_id=warehouse_id,
        shop_id=shop_id,
        kind=kind,
        on_hand_delta=on_hand,
        reserved_delta=reserved,
        allocated_delta=allocated,
        reservation_id=reservation_id,
        reference=reference,
        actor=actor,
        reason=reason[:300],
        occurred_at=utcnow(),
    )
    session.add(row)
    return row


# -- warehouses ------------------------------------------------------------------------------


async def create_warehouse(
    session: AsyncSession,
    *,
    code: str,
    name: str,
    country: str,
    kind: WarehouseKind,
    owner_shop_id: uuid.UUID | None,
    operator: str | None = None,
    address: dict[str, Any] | None = None,
) -> Warehouse:
    if await session.scalar(select(Warehouse.id).where(Warehouse.code == code)) is not None:
        raise WarehouseCodeTaken(
            f"A warehouse with code {code!r} exists.",
            errors=[field_error("code", "already used", code="taken")],
        )
    warehouse = Warehouse(
        code=code,
        name=name,
        country=country,
        kind=kind,
        owner_shop_id=owner_shop_id,
        operator=operator,
        address=address or {},
    )
    session.add(warehouse)
    await session.flush()
    return warehouse


async def get_warehouse(session: AsyncSession, warehouse_id: uuid.UUID) -> Warehouse:
    warehouse = await session.get(Warehouse, warehouse_id)
    if warehouse is None:
        raise WarehouseNotFound("No such warehouse.")
    return warehouse


async def warehouse_for_shop(
    session: AsyncSession, shop_id: uuid.UUID, warehouse_id: uuid.UUID
) -> Warehouse:
    """A warehouse the shop may keep stock in: its own or a fulfilment partner's."""
    warehouse = await session.get(Warehouse, warehouse_id)
    if warehouse is None or warehouse.owner_shop_id not in (None, shop_id):
        raise WarehouseNotFound(
            "No such warehouse.", errors=[field_error("warehouse_id", "unknown", code="unknown")]
        )
    return warehouse


async def list_warehouses(session: AsyncSession, shop_id: uuid.UUID) -> list[Warehouse]:
    return list(
        (
            await session.scalars(
                select(Warehouse)
                .where((Warehouse.owner_shop_id == shop_id) | Warehouse.owner_shop_id.is_(None))
                .order_by(Warehouse.code)
            )
        ).all()
    )


# -- levels ----------------------------------------------------------------------------------


async def _shop_of_variant(session: AsyncSession, variant_id: uuid.UUID) -> uuid.UUID:
    shop_id = await session.scalar(select(Variant.shop_id).where(Variant.id == variant_id))
    if shop_id is None:
        raise VariantNotFound("No such variant.")
    return shop_id


async def available(session: AsyncSession, variant_id: uuid.UUID) -> int:
    """Units that can still be reserved, over every warehouse."""
    total = await session.scalar(
        select(func.coalesce(func.sum(_available_units), 0)).where(
            StockLevel.variant_id == variant_id
        )
    )
    return int(total or 0)


async def available_by_variant(
    session: AsyncSession, variant_ids: list[uuid.UUID]
) -> dict[uuid.UUID, int]:
    if not variant_ids:
        return {}
    rows = await session.execute(
        select(StockLevel.variant_id, func.sum(_available_units))
        .where(StockLevel.variant_id.in_(variant_ids))
        .group_by(StockLevel.variant_id)
    )
    found = {vid: int(total or 0) for vid, total in rows}
    return {vid: found.get(vid, 0) for vid in variant_ids}


@dataclass(frozen=True, slots=True)
class WarehouseStock:
    warehouse: Warehouse
    available: int


async def warehouses_with_stock(
    session: AsyncSession, variant_id: uuid.UUID
) -> list[WarehouseStock]:
    """Warehouses holding available units of the variant, most available first."""
    rows = await session.execute(
        select(Warehouse, _available_units)
        .join(StockLevel, StockLevel.warehouse_id == Warehouse.id)
        .where(StockLevel.variant_id == variant_id, _available_units > 0)
        .order_by(_available_units.desc(), Warehouse.code)
    )
    return [WarehouseStock(w, int(n)) for w, n in rows]


async def get_level(
    session: AsyncSession, variant_id: uuid.UUID, warehouse_id: uuid.UUID
) -> StockLevel | None:
    level = await session.get(StockLevel, (variant_id, warehouse_id), populate_existing=True)
    return level


async def list_levels(
    session: AsyncSession, shop_id: uuid.UUID, variant_id: uuid.UUID | None = None
) -> list[StockLevel]:
    stmt = select(StockLevel).where(StockLevel.shop_id == shop_id)
    if variant_id is not None:
        stmt = stmt.where(StockLevel.variant_id == variant_id)
    stmt = stmt.order_by(StockLevel.variant_id, StockLevel.warehouse_id)
    return list((await session.scalars(stmt.execution_options(populate_existing=True))).all())


# -- changes ---------------------------------------------------------------------------------


async def receive(
    session: AsyncSession,
    *,
    variant_id: uuid.UUID,
    warehouse_id: uuid.UUID,
    quantity: int,
    actor: str,
    reason: str = "",
    reference: str | None = None,
    kind: MovementKind = MovementKind.receipt,
) -> None:
    """Goods arrived (a receipt, or a return put back on the shelf): on hand goes up."""
    _positive(quantity)
    shop_id = await _shop_of_variant(session, variant_id)
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = insert(StockLevel).values(
        variant_id=variant_id,
        warehouse_id=warehouse_id,
        shop_id=shop_id,
        on_hand=quantity,
        reserved=0,
        allocated=0,
        updated_at=utcnow(),
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=[StockLevel.variant_id, StockLevel.warehouse_id],
        set_={"on_hand": StockLevel.on_hand + quantity, "updated_at": utcnow()},
    )
    await session.execute(stmt)
    _movement(
        session,
        kind=kind,
        variant_id=variant_id,
        warehouse_id=warehouse_id,
        shop_id=shop_id,
        actor=actor,
        reason=reason,
        on_hand=quantity,
        reference=reference,
    )
    await session.flush()


async def record_return(
    session: AsyncSession,
    *,
    variant_id: uuid.UUID,
    warehouse_id: uuid.UUID,
    quantity: int,
    actor: str,
    reason: str,
    reference: str | None = None,
) -> None:
    """A returned parcel's goods are back in stock and sellable."""
    await receive(
        session,
        variant_id=variant_id,
        warehouse_id=warehouse_id,
        quantity=quantity,
        actor=actor,
        reason=reason,
        reference=reference,
        kind=MovementKind.return_,
    )


async def adjust(
    session: AsyncSession,
    *,
    variant_id: uuid.UUID,
    warehouse_id: uuid.UUID,
    delta: int,
    actor: str,
    reason: str,
) -> None:
    """A count correction (damaged, lost, found). Never below what is reserved or allocated."""
    if delta == 0:
        raise Unprocessable("An adjustment changes stock.", errors=[field_error("delta", "is 0")])
    result = await session.execute(
        update(StockLevel)
        .where(
            StockLevel.variant_id == variant_id,
            StockLevel.warehouse_id == warehouse_id,
            _available_units + delta >= 0,
        )
        .values(on_hand=StockLevel.on_hand + delta, updated_at=utcnow())
        .returning(StockLevel.shop_id)
        .execution_options(synchronize_session=False)
    )
    shop_id = result.scalar_one_or_none()
    if shop_id is None:
        raise InsufficientStock(
            "That would take stock below what is reserved and allocated.",
            errors=[field_error("delta", "more than available", code="insufficient_stock")],
        )
    _movement(
        session,
        kind=MovementKind.adjustment,
        variant_id=variant_id,
        warehouse_id=warehouse_id,
        shop_id=shop_id,
        actor=actor,
        reason=reason,
        on_hand=delta,
    )
    await session.flush()


async def _hold(
    session: AsyncSession, variant_id: uuid.UUID, warehouse_id: uuid.UUID, quantity: int
) -> uuid.UUID | None:
    """The one conditional statement: holds `quantity` if that many are available."""
    result = await session.execute(
        update(StockLevel)
        .where(
            StockLevel.variant_id == variant_id,
            StockLevel.warehouse_id == warehouse_id,
            _available_units >= quantity,
        )
        .values(reserved=StockLevel.reserved + quantity, updated_at=utcnow())
        .returning(StockLevel.shop_id)
        .execution_options(synchronize_session=False)
    )
    return result.scalar_one_or_none()


async def reserve(
    session: AsyncSession,
    variant_id: uuid.UUID,
    warehouse_id: uuid.UUID | None,
    quantity: int,
    *,
    holder: str,
    expires_at: datetime,
    actor: str,
    prefer_country: str | None = None,
) -> Reservation:
    """Hold stock for `holder` until `expires_at`, or raise InsufficientStock.

    With no warehouse, the best one is tried first: one in `prefer_country` (the buyer's
    market, for fast local delivery), then the one with most available.
    """
    _positive(quantity)
    if warehouse_id is not None:
        candidates = [warehouse_id]
    else:
        preferred = case((Warehouse.country == prefer_country, 0), else_=1)
        candidates = list(
            (
                await session.scalars(
                    select(StockLevel.warehouse_id)
                    .join(Warehouse, Warehouse.id == StockLevel.warehouse_id)
                    .where(StockLevel.variant_id == variant_id, _available_units >= quantity)
                    .order_by(preferred, _available_units.desc(), Warehouse.code)
                )
            ).all()
        )
    for candidate in candidates:
        shop_id = await _hold(session, variant_id, candidate, quantity)
        if shop_id is None:
            continue  # taken by someone else since we looked; try the next one
        reservation = Reservation(
            id=new_id(),
            variant_id=variant_id,
            warehouse_id=candidate,
            shop_id=shop_id,
            holder=holder,
            quantity=quantity,
            status=ReservationStatus.active,
            expires_at=expires_at,
            created_at=utcnow(),
        )
        session.add(reservation)
        _movement(
            session,
            kind=MovementKind.reservation,
            variant_id=variant_id,
            warehouse_id=candidate,
            shop_id=shop_id,
            actor=actor,
            reason=f"held for {holder}",
            reserved=quantity,
            reservation_id=reservation.id,
            reference=holder,
        )
        await session.flush()
        return reservation
    raise InsufficientStock(
        f"Fewer than {quantity} available.",
        errors=[field_error("quantity", "more than available", code="insufficient_stock")],
    )


async def get_reservation(session: AsyncSession, reservation_id: uuid.UUID) -> Reservation:
    reservation = await session.get(Reservation, reservation_id, populate_existing=True)
    if reservation is None:
        raise ReservationNotFound("No such reservation.")
    return reservation


async def _end(
    session: AsyncSession,
    reservation_id: uuid.UUID,
    *,
    from_status: ReservationStatus,
    to_status: ReservationStatus,
    order_ref: str | None = None,
) -> Any:
    """Move a reservation between statuses in one guarded statement; at most one caller wins."""
    values: dict[str, Any] = {"status": to_status}
    if to_status is not ReservationStatus.converted:
        values["ended_at"] = utcnow()
    if order_ref is not None:
        values["order_ref"] = order_ref
    result = await session.execute(
        update(Reservation)
        .where(Reservation.id == reservation_id, Reservation.status == from_status)
        .values(**values)
        .returning(
            Reservation.variant_id,
            Reservation.warehouse_id,
            Reservation.shop_id,
            Reservation.quantity,
            Reservation.holder,
            Reservation.order_ref,
        )
        .execution_options(synchronize_session=False)
    )
    row = result.one_or_none()
    if row is None:
        current = await session.scalar(
            select(Reservation.status).where(Reservation.id == reservation_id)
        )
        if current is None:
            raise ReservationNotFound("No such reservation.")
        raise ReservationNotActive(f"The reservation is {current.value}, not {from_status.value}.")
    return row


async def _apply(
    session: AsyncSession,
    variant_id: uuid.UUID,
    warehouse_id: uuid.UUID,
    *,
    on_hand: int = 0,
    reserved: int = 0,
    allocated: int = 0,
) -> None:
    await session.execute(
        update(StockLevel)
        .where(StockLevel.variant_id == variant_id, StockLevel.warehouse_id == warehouse_id)
        .values(
            on_hand=StockLevel.on_hand + on_hand,
            reserved=StockLevel.reserved + reserved,
            allocated=StockLevel.allocated + allocated,
            updated_at=utcnow(),
        )
        .execution_options(synchronize_session=False)
    )


async def release(
    session: AsyncSession, reservation_id: uuid.UUID, *, reason: str, actor: str
) -> None:
    """Give held stock back (checkout abandoned, payment failed)."""
    row = await _end(
        session,
        reservation_id,
        from_status=ReservationStatus.active,
        to_status=ReservationStatus.released,
    )
    await _apply(session, row.variant_id, row.warehouse_id, reserved=-row.quantity)
    _movement(
        session,
        kind=MovementKind.release,
        variant_id=row.variant_id,
        warehouse_id=row.warehouse_id,
        shop_id=row.shop_id,
        actor=actor,
        reason=reason,
        reserved=-row.quantity,
        reservation_id=reservation_id,
        reference=row.holder,
    )
    await session.flush()


async def convert_to_allocation(
    session: AsyncSession, reservation_id: uuid.UUID, *, order_ref: str, actor: str
) -> None:
    """The order is paid: the held units are promised to it (reserved → allocated)."""
    row = await _end(
        session,
        reservation_id,
        from_status=ReservationStatus.active,
        to_status=ReservationStatus.converted,
        order_ref=order_ref,
    )
    await _apply(
        session, row.variant_id, row.warehouse_id, reserved=-row.quantity, allocated=row.quantity
    )
    _movement(
        session,
        kind=MovementKind.allocation,
        variant_id=row.variant_id,
        warehouse_id=row.warehouse_id,
        shop_id=row.shop_id,
        actor=actor,
        reason=f"paid order {order_ref}",
        reserved=-row.quantity,
        allocated=row.quantity,
        reservation_id=reservation_id,
        reference=order_ref,
    )
    await session.flush()


async def ship(
    session: AsyncSession, reservation_id: uuid.UUID, *, actor: str, reference: str | None = None
) -> None:
    """The allocated units left the warehouse: allocated and on hand go down together."""
    row = await _end(
        session,
        reservation_id,
        from_status=ReservationStatus.converted,
        to_status=ReservationStatus.shipped,
    )
    await _apply(
        session, row.variant_id, row.warehouse_id, on_hand=-row.quantity, allocated=-row.quantity
    )
    _movement(
        session,
        kind=MovementKind.shipment,
        variant_id=row.variant_id,
        warehouse_id=row.warehouse_id,
        shop_id=row.shop_id,
        actor=actor,
        reason=f"shipped order {row.order_ref}",
        on_hand=-row.quantity,
        allocated=-row.quantity,
        reservation_id=reservation_id,
        reference=reference or row.order_ref,
    )
    await session.flush()


async def release_expired(
    session: AsyncSession, now: datetime | None = None, *, batch_size: int = 500
) -> int:
    """The sweeper: release every active reservation past its deadline; returns how many.

    Each batch is claimed with one guarded UPDATE (so a reservation converted or released
    meanwhile is left alone), then the levels are given back per variant and warehouse, in a
    fixed order so concurrent sweepers and buyers never deadlock.
    """
    now = now or utcnow()
    postgres = session.get_bind().dialect.name == "postgresql"
    total = 0
    while True:
        due = (
            select(Reservation.id)
            .where(Reservation.status == ReservationStatus.active, Reservation.expires_at <= now)
            .order_by(Reservation.expires_at)
            .limit(batch_size)
        )
        if postgres:
            due = due.with_for_update(skip_locked=True)
        ids = list((await session.scalars(due)).all())
        if not ids:
            return total
        claimed = (
            await session.execute(
                update(Reservation)
                .where(Reservation.id.in_(ids), Reservation.status == ReservationStatus.active)
                .values(status=ReservationStatus.expired, ended_at=now)
                .returning(
                    Reservation.id,
                    Reservation.variant_id,
                    Reservation.warehouse_id,
                    Reservation.shop_id,
                    Reservation.quantity,
                    Reservation.holder,
                )
                .execution_options(synchronize_session=False)
            )
        ).all()
        per_level: dict[tuple[uuid.UUID, uuid.UUID], int] = defaultdict(int)
        for row in claimed:
            per_level[(row.variant_id, row.warehouse_id)] += row.quantity
        for (variant_id, warehouse_id), quantity in sorted(per_level.items()):
            await _apply(session, variant_id, warehouse_id, reserved=-quantity)
        for row in claimed:
            _movement(
                session,
                kind=MovementKind.release,
                variant_id=row.variant_id,
                warehouse_id=row.warehouse_id,
                shop_id=row.shop_id,
                actor=SWEEPER,
                reason="reservation expired",
                reserved=-row.quantity,
                reservation_id=row.id,
                reference=row.holder,
            )
        await session.flush()
        total += len(claimed)
        if len(ids) < batch_size:
            return total


async def list_movements(
    session: AsyncSession,
    shop_id: uuid.UUID,
    *,
    variant_id: uuid.UUID | None = None,
    after_id: int | None = None,
    limit: int = 50,
) -> list[StockMovement]:
    stmt = select(StockMovement).where(StockMovement.shop_id == shop_id)
    if variant_id is not None:
        stmt = stmt.where(StockMovement.variant_id == variant_id)
    if after_id is not None:
        stmt = stmt.where(StockMovement.id > after_id)
    return list((await session.scalars(stmt.order_by(StockMovement.id).limit(limit))).all())
