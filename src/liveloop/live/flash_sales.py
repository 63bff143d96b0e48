"""Flash sales: a deal price for a limited quantity under a countdown, never oversold.

Winning is one atomic step. With Redis, a Lua script checks what is left and the buyer's cap
and takes both at once; without it, one conditional UPDATE takes from the sale and another
from the buyer's allowance, in the same transaction. Either way the units are then held with
the catalog's reservation (which can never make stock negative), for a few minutes to pay; an
unpaid claim goes back to the sale.
"""

from __future__ import annotations

import contextlib
import logging
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from redis.asyncio import Redis
from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from liveloop.catalog import inventory
from liveloop.catalog import service as catalog_service
from liveloop.catalog.errors import InsufficientStock, ReservationNotActive
from liveloop.catalog.models import ReservationStatus
from liveloop.kit.db import after_commit, on_rollback, utcnow
from liveloop.kit.errors import LiveloopError, field_error
from liveloop.kit.money import Money
from liveloop.live.errors import (
    BuyerCapReached,
    ClaimNotFound,
    FlashSaleConflict,
    FlashSaleEnded,
    FlashSaleNotFound,
    FlashSaleNotStarted,
    InvalidFlashSale,
    SoldOut,
)
from liveloop.live.models import (
    ClaimStatus,
    FlashSale,
    FlashSaleBuyer,
    FlashSaleClaim,
    FlashSaleState,
    LiveSession,
)

log = logging.getLogger("liveloop.live.flash_sales")

COUNTDOWN_SECONDS = (10, 300)
DURATION_MINUTES = (1, 20)
PAY_WITHIN = timedelta(minutes=5)
SOLD_OUT_MEMORY_SECONDS = 1.0

# KEYS: remaining, buyer's units. ARGV: quantity, per-buyer cap.
# Returns units left after the claim, or -1 sold out, -2 cap reached, -3 not initialised.
_CLAIM_SCRIPT = """
local remaining = redis.call('GET', KEYS[1])
if not remaining then return -3 end
remaining = tonumber(remaining)
local q = tonumber(ARGV[1])
local held = tonumber(redis.call('GET', KEYS[2]) or '0')
if held + q > tonumber(ARGV[2]) then return -2 end
if remaining < q then return -1 end
redis.call('DECRBY', KEYS[1], q)
redis.call('INCRBY', KEYS[2], q)
return remaining - q
"""

# Give units back (an unpaid claim, or a claim whose database step failed).
_RETURN_SCRIPT = """
if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('INCRBY', KEYS[1], ARGV[1]) end
local held = tonumber(redis.call('GET', KEYS[2]) or '0')
if held > 0 then redis.call('DECRBY', KEYS[2], math.min(held, tonumber(ARGV[1]))) end
return 1
"""


def state_of(sale: FlashSale, now: datetime) -> FlashSaleState:
    if sale.cancelled_at is not None:
        return FlashSaleState.cancelled
    if now < sale.starts_at:
        return FlashSaleState.scheduled
    if now >= sale.ends_at:
        return FlashSaleState.ended
    if sale.claimed >= sale.quantity:
        return FlashSaleState.sold_out
    return FlashSaleState.running


def describe(sale: FlashSale, now: datetime) -> dict[str, Any]:
    """The sale as rooms and pages show it (also the snapshot's `flash_sale`)."""
    return {
        "id": str(sale.id),
        "product_id": str(sale.product_id),
        "variant_id": str(sale.variant_id),
        "deal_prices": sale.deal_prices,
        "quantity": sale.quantity,
        "left": max(0, sale.quantity - sale.claimed),
        "per_buyer_cap": sale.per_buyer_cap,
        "starts_at": sale.starts_at.isoformat(),
        "ends_at": sale.ends_at.isoformat(),
        "state": state_of(sale, now).value,
    }


@dataclass(frozen=True)
class HeldClaim:
    reservation_id: uuid.UUID
    unit_price: Money
    expires_at: datetime


@dataclass(frozen=True)
class Claimed:
    claim: FlashSaleClaim
    left: int
    unit_price: Money


class FlashSaleDesk:
    """Runs flash sales; `redis` makes the winning step a Lua script shared by every process."""

    def __init__(self, redis: Redis | None, announce: Any) -> None:
        self._redis = redis
        self._announce = announce
        self._claim = redis.register_script(_CLAIM_SCRIPT) if redis is not None else None
        # Sales this process saw sell out, and until when to answer "sold out" without asking
        # the database: in a rush most buyers arrive after the last unit is gone.
        self._sold_out_until: dict[uuid.UUID, float] = {}
        self._return = redis.register_script(_RETURN_SCRIPT) if redis is not None else None

    @staticmethod
    def _keys(sale_id: uuid.UUID, buyer_id: uuid.UUID) -> list[str]:
        return [f"liveloop:flash:{sale_id}:left", f"liveloop:flash:{sale_id}:buyer:{buyer_id}"]

    async def _prime(self, sale: FlashSale) -> None:
        """Put the sale's remaining units in Redis (only if not there yet)."""
        if self._redis is None:
            return
        ttl = max(60, int((sale.ends_at - utcnow()).total_seconds()) + 3600)
        await self._redis.set(
            f"liveloop:flash:{sale.id}:left", sale.quantity - sale.claimed, nx=True, ex=ttl
        )

    async def create(
        self,
        session: AsyncSession,
        live: LiveSession,
        *,
        product_id: uuid.UUID,
        variant_id: uuid.UUID,
        deal_prices: dict[str, int],
        quantity: int,
        per_buyer_cap: int,
        countdown_seconds: int,
        duration_minutes: int,
        actor_id: uuid.UUID | None,
    ) -> FlashSale:
        problems = []
        if not COUNTDOWN_SECONDS[0] <= countdown_seconds <= COUNTDOWN_SECONDS[1]:
            problems.append(field_error("countdown_seconds", "must be 10 to 300", code="range"))
        if not DURATION_MINUTES[0] <= duration_minutes <= DURATION_MINUTES[1]:
            problems.append(field_error("duration_minutes", "must be 1 to 20", code="range"))
        if quantity < 1:
            problems.append(field_error("quantity", "must be at least 1", code="range"))
        if not 1 <= per_buyer_cap <= max(quantity, 1):
            problems.append(field_error("per_buyer_cap", "must be 1 to the quantity", code="range"))
        if problems:
            raise InvalidFlashSale("The flash sale's settings are out of range.", errors=problems)
        variant = await catalog_service.get_variant(session, variant_id)
        if variant.product_id != product_id:
            raise InvalidFlashSale(
                "This variant is not of that product.",
                errors=[field_error("variant_id", "belongs to another product", code="mismatch")],
            )
        available = await inventory.available(session, variant_id)
        if quantity > available:
            raise InvalidFlashSale(
                f"Only {available} in stock.",
                errors=[
                    field_error(
                        "quantity", f"more than the {available} in stock", code="over_stock"
                    )
                ],
            )
        now = utcnow()
        running = await session.scalars(
            select(FlashSale).where(
                FlashSale.session_id == live.id,
                FlashSale.product_id == product_id,
                FlashSale.cancelled_at.is_(None),
                FlashSale.ends_at > now,
            )
        )
        if any(
            state_of(s, now) in (FlashSaleState.scheduled, FlashSaleState.running) for s in running
        ):
            raise FlashSaleConflict(
                "This product already has a flash sale running or counting down."
            )
        prices: dict[str, int] = {}
        for market in live.markets:
            try:
                listed = await catalog_service.price_of(session, variant_id, market)
            except LiveloopError:
                continue  # not on sale in that market: no deal there either
            deal = deal_prices.get(listed.currency)
            if deal is None:
                raise InvalidFlashSale(
                    f"Give a deal price in {listed.currency} for {market}.",
                    errors=[
                        field_error(f"deal_prices.{listed.currency}", "missing", code="required")
                    ],
                )
            if not 0 < deal < listed.amount:
                raise InvalidFlashSale(
                    f"The deal price in {listed.currency} must be below {listed.as_str()}.",
                    errors=[
                        field_error(
                            f"deal_prices.{listed.currency}", "not a discount", code="range"
                        )
                    ],
                )
            prices[listed.currency] = deal
        if not prices:
            raise InvalidFlashSale(
                "The product is not on sale in any of the session's markets.",
                errors=[
                    field_error(
                        "variant_id", "not listed in the session's markets", code="unlisted"
                    )
                ],
            )
        starts = now + timedelta(seconds=countdown_seconds)
        sale = FlashSale(
            session_id=live.id,
            product_id=product_id,
            variant_id=variant_id,
            deal_prices=prices,
            quantity=quantity,
            per_buyer_cap=per_buyer_cap,
            starts_at=starts,
            ends_at=starts + timedelta(minutes=duration_minutes),
            created_by=actor_id,
        )
        session.add(sale)
        await session.flush()

        async def prime() -> None:
            await self._prime(sale)

        after_commit(session, prime)
        self._announce(session, live.id, "flash_sale_scheduled", describe(sale, now))
        return sale

    async def get(self, session: AsyncSession, sale_id: uuid.UUID) -> FlashSale:
        sale = await session.get(FlashSale, sale_id, populate_existing=True)
        if sale is None:
            raise FlashSaleNotFound("No such flash sale.")
        return sale

    async def current(self, session: AsyncSession, session_id: uuid.UUID) -> FlashSale | None:
        """The sale counting down or running in a room (the latest one), if any."""
        now = utcnow()
        sales = await session.scalars(
            select(FlashSale)
            .where(FlashSale.session_id == session_id, FlashSale.cancelled_at.is_(None))
            .order_by(FlashSale.starts_at.desc())
            .limit(5)
        )
        for sale in sales:
            if state_of(sale, now) is not FlashSaleState.ended:
                return sale
        return None

    async def claim(
        self,
        session: AsyncSession,
        sale_id: uuid.UUID,
        *,
        buyer_id: uuid.UUID,
        quantity: int,
        market: str,
    ) -> Claimed:
        if self._sold_out_until.get(sale_id, 0.0) > time.monotonic():
            raise SoldOut("Sold out.")
        try:
            return await self._claim_now(
                session, sale_id, buyer_id=buyer_id, quantity=quantity, market=market
            )
        except SoldOut:
            # Unpaid claims may return units later, so the shortcut only lasts a moment.
            self._sold_out_until[sale_id] = time.monotonic() + SOLD_OUT_MEMORY_SECONDS
            raise

    async def _claim_now(
        self,
        session: AsyncSession,
        sale_id: uuid.UUID,
        *,
        buyer_id: uuid.UUID,
        quantity: int,
        market: str,
    ) -> Claimed:
        sale = await self.get(session, sale_id)
        now = utcnow()
        state = state_of(sale, now)
        if state is FlashSaleState.scheduled:
            raise FlashSaleNotStarted(
                "The flash sale has not started yet.", starts_at=sale.starts_at.isoformat()
            )
        if state in (FlashSaleState.ended, FlashSaleState.cancelled):
            raise FlashSaleEnded("The flash sale is over.")
        if state is FlashSaleState.sold_out:
            raise SoldOut("Sold out.")
        if not 1 <= quantity <= sale.per_buyer_cap:
            raise BuyerCapReached(
                f"Take 1 to {sale.per_buyer_cap}.",
                errors=[field_error("quantity", f"1 to {sale.per_buyer_cap}", code="range")],
            )
        listed = await catalog_service.price_of(session, sale.variant_id, market)
        deal = sale.deal_prices.get(listed.currency)
        if deal is None:
            raise InvalidFlashSale(
                "The flash sale does not run in your market.",
                errors=[field_error("market", "no deal price here", code="not_in_sale")],
            )
        left = await self._take(session, sale, buyer_id, quantity)
        try:
            reservation = await inventory.reserve(
                session,
                sale.variant_id,
                None,
                quantity,
                holder=f"flash_sale:{sale.id}:{buyer_id}",
                expires_at=now + PAY_WITHIN,
                actor=f"user:{buyer_id}",
                prefer_country=market,
            )
        except InsufficientStock:
            raise SoldOut("Sold out: the stock ran out.") from None
        claim = FlashSaleClaim(
            sale_id=sale.id,
            buyer_id=buyer_id,
            quantity=quantity,
            market=market,
            reservation_id=reservation.id,
            expires_at=now + PAY_WITHIN,
        )
        session.add(claim)
        await session.flush()
        self._announce(
            session, sale.session_id, "flash_sale_stock", {"id": str(sale.id), "left": left}
        )
        if left == 0:
            self._announce(session, sale.session_id, "flash_sale_sold_out", {"id": str(sale.id)})
        return Claimed(claim=claim, left=left, unit_price=Money(deal, listed.currency))

    async def _take(
        self, session: AsyncSession, sale: FlashSale, buyer_id: uuid.UUID, quantity: int
    ) -> int:
        """Take units from the sale and the buyer's allowance, or raise; returns units left."""
        left: int | None = None
        if self._claim is not None:
            keys = self._keys(sale.id, buyer_id)
            result = int(await self._claim(keys=keys, args=[quantity, sale.per_buyer_cap]))
            if result == -3:
                await self._prime(sale)
                result = int(await self._claim(keys=keys, args=[quantity, sale.per_buyer_cap]))
            if result == -1:
                raise SoldOut("Sold out.")
            if result == -2:
                raise BuyerCapReached(
                    f"You can take at most {sale.per_buyer_cap} in this sale.",
                    errors=[field_error("quantity", "over your allowance", code="per_buyer_cap")],
                )
            left = result

            async def give_back() -> None:
                await self._give_back(sale.id, buyer_id, quantity)

            # Whatever fails after this point (stock, the database, the commit) returns the units.
            on_rollback(session, give_back)
        taken = await session.execute(
            update(FlashSale)
            .where(FlashSale.id == sale.id, FlashSale.claimed + quantity <= FlashSale.quantity)
            .values(claimed=FlashSale.claimed + quantity)
            .returning(FlashSale.quantity - FlashSale.claimed)
            .execution_options(synchronize_session=False)
        )
        remaining = taken.scalar_one_or_none()
        if remaining is None:
            raise SoldOut("Sold out.")
        await self._take_allowance(session, sale, buyer_id, quantity)
        return left if left is not None else int(remaining)

    async def _take_allowance(
        self, session: AsyncSession, sale: FlashSale, buyer_id: uuid.UUID, quantity: int
    ) -> None:
        dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        await session.execute(
            insert(FlashSaleBuyer)
            .values(sale_id=sale.id, buyer_id=buyer_id, quantity=0)
            .on_conflict_do_nothing()
        )
        took = await session.execute(
            update(FlashSaleBuyer)
            .where(
                FlashSaleBuyer.sale_id == sale.id,
                FlashSaleBuyer.buyer_id == buyer_id,
                FlashSaleBuyer.quantity + quantity <= sale.per_buyer_cap,
            )
            .values(quantity=FlashSaleBuyer.quantity + quantity)
            .returning(FlashSaleBuyer.quantity)
            .execution_options(synchronize_session=False)
        )
        if took.scalar_one_or_none() is None:
            raise BuyerCapReached(
                f"You can take at most {sale.per_buyer_cap} in this sale.",
                errors=[field_error("quantity", "over your allowance", code="per_buyer_cap")],
            )

    async def _give_back(self, sale_id: uuid.UUID, buyer_id: uuid.UUID, quantity: int) -> None:
        if self._return is not None:
            await self._return(keys=self._keys(sale_id, buyer_id), args=[quantity])

    async def get_claim(
        self, session: AsyncSession, claim_id: uuid.UUID, buyer_id: uuid.UUID
    ) -> FlashSaleClaim:
        claim = await session.get(FlashSaleClaim, claim_id, populate_existing=True)
        if claim is None or claim.buyer_id != buyer_id:
            raise ClaimNotFound("No such claim.")
        return claim

    async def claim_for_checkout(
        self,
        session: AsyncSession,
        claim_id: uuid.UUID,
        *,
        buyer_id: uuid.UUID,
        variant_id: uuid.UUID,
        quantity: int,
        market: str,
    ) -> HeldClaim:
        """What a checkout takes over from a won claim: its reservation, deal price, deadline."""
        claim = await self.get_claim(session, claim_id, buyer_id)
        sale = await self.get(session, claim.sale_id)
        if claim.status is not ClaimStatus.held or claim.expires_at <= utcnow():
            raise ClaimNotFound("This flash-sale win has lapsed.", code="flash_sale_claim_lapsed")
        if sale.variant_id != variant_id or claim.quantity != quantity or claim.market != market:
            raise InvalidFlashSale(
                "The checkout does not match the flash-sale win.",
                errors=[field_error("flash_claim_id", "another item or quantity", code="mismatch")],
            )
        listed = await catalog_service.price_of(session, variant_id, market)
        return HeldClaim(
            reservation_id=claim.reservation_id,
            unit_price=Money(int(sale.deal_prices[listed.currency]), listed.currency),
            expires_at=claim.expires_at,
        )

    async def mark_paid(self, session: AsyncSession, claim_id: uuid.UUID) -> None:
        """The buyer paid for the claim (checkout converts its reservation itself)."""
        await session.execute(
            update(FlashSaleClaim)
            .where(FlashSaleClaim.id == claim_id, FlashSaleClaim.status == ClaimStatus.held)
            .values(status=ClaimStatus.paid, settled_at=utcnow())
            .execution_options(synchronize_session=False)
        )

    async def expire_claims(self, session: AsyncSession, now: datetime | None = None) -> int:
        """Unpaid claims past their deadline go back to their sale, their stock to the shelf."""
        now = now or utcnow()
        due = list(
            (
                await session.scalars(
                    select(FlashSaleClaim)
                    .where(
                        FlashSaleClaim.status == ClaimStatus.held, FlashSaleClaim.expires_at <= now
                    )
                    .limit(500)
                    .with_for_update(skip_locked=True)
                )
            ).all()
        )
        returned: list[tuple[uuid.UUID, uuid.UUID, int]] = []
        for claim in due:
            reservation = await inventory.get_reservation(session, claim.reservation_id)
            if reservation.status in (ReservationStatus.converted, ReservationStatus.shipped):
                await self.mark_paid(session, claim.id)  # bought through a checkout in time
                continue
            won = await session.execute(
                update(FlashSaleClaim)
                .where(FlashSaleClaim.id == claim.id, FlashSaleClaim.status == ClaimStatus.held)
                .values(status=ClaimStatus.expired, settled_at=now)
                .execution_options(synchronize_session=False)
            )
            if not getattr(won, "rowcount", 0):
                continue
            await session.execute(
                update(FlashSale)
                .where(FlashSale.id == claim.sale_id)
                .values(claimed=FlashSale.claimed - claim.quantity)
                .execution_options(synchronize_session=False)
            )
            await session.execute(
                update(FlashSaleBuyer)
                .where(
                    FlashSaleBuyer.sale_id == claim.sale_id,
                    FlashSaleBuyer.buyer_id == claim.buyer_id,
                )
                .values(quantity=FlashSaleBuyer.quantity - claim.quantity)
                .execution_options(synchronize_session=False)
            )
            with contextlib.suppress(ReservationNotActive):  # the catalog's sweeper was first
                await inventory.release(
                    session,
                    claim.reservation_id,
                    reason="flash sale claim not paid in time",
                    actor="system",
                )
            returned.append((claim.sale_id, claim.buyer_id, claim.quantity))
        await session.flush()
        if returned:
            for sale_id, _, _ in returned:
                self._sold_out_until.pop(sale_id, None)

            async def give_back() -> None:
                for sale_id, buyer_id, quantity in returned:
                    await self._give_back(sale_id, buyer_id, quantity)

            after_commit(session, give_back)
            for sale_id in {s for s, _, _ in returned}:
                sale = await self.get(session, sale_id)
                self._announce(
                    session,
                    sale.session_id,
                    "flash_sale_stock",
                    {"id": str(sale.id), "left": sale.quantity - sale.claimed},
                )
        return len(returned)

    async def announce_due(self, session: AsyncSession, now: datetime | None = None) -> int:
        """Tell rooms that a countdown reached zero or a sale ended (once, across processes)."""
        now = now or utcnow()
        sent = 0
        for before, after, moment in (
            ("scheduled", "started", FlashSale.starts_at),
            ("started", "ended", FlashSale.ends_at),
        ):
            sales = list(
                (
                    await session.scalars(
                        select(FlashSale)
                        .where(FlashSale.announced == before, moment <= now)
                        .limit(100)
                    )
                ).all()
            )
            for sale in sales:
                won = await session.execute(
                    update(FlashSale)
                    .where(FlashSale.id == sale.id, FlashSale.announced == before)
                    .values(announced=after)
                    .execution_options(synchronize_session=False)
                )
                if getattr(won, "rowcount", 0):
                    event = "flash_sale_started" if after == "started" else "flash_sale_ended"
                    self._announce(session, sale.session_id, event, describe(sale, now))
                    sent += 1
        return sent

    async def cancel(self, session: AsyncSession, sale: FlashSale) -> None:
        sale.cancelled_at = utcnow()
        await session.flush()
        self._announce(session, sale.session_id, "flash_sale_ended", describe(sale, utcnow()))
