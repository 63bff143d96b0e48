"""Cursor pagination: signed keyset cursors, so a page never repeats or skips rows."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel
from sqlalchemy import Select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from liveloop.kit.errors import LiveloopError
from liveloop.kit.signing import BadSignature, Signer

T = TypeVar("T")
Row = TypeVar("Row")

MAX_LIMIT = 100


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


class PageParams(BaseModel):
    cursor: str | None = None
    limit: int = 20


def page_params(
    cursor: str | None = Query(default=None, max_length=500, description="From `next_cursor`."),
    limit: int = Query(default=20, ge=1, le=MAX_LIMIT),
) -> PageParams:
    return PageParams(cursor=cursor, limit=limit)


class InvalidCursor(LiveloopError):
    status = 400
    code = "invalid_cursor"


_signer: Signer | None = None


def configure(secret: str) -> None:
    global _signer
    _signer = Signer(secret, salt="cursor")


def _get_signer() -> Signer:
    if _signer is None:
        raise RuntimeError("pagination.configure() was not called")
    return _signer


def _encode(value: Any) -> Any:
    if isinstance(value, uuid.UUID | datetime):
        return str(value) if isinstance(value, uuid.UUID) else value.isoformat()
    return value


def _decode(value: Any, python_type: type) -> Any:
    if python_type is uuid.UUID:
        return uuid.UUID(value)
    if python_type is datetime:
        return datetime.fromisoformat(value)
    return python_type(value)


def encode_cursor(scope: str, values: Sequence[Any]) -> str:
    return _get_signer().dumps({"s": scope, "v": [_encode(v) for v in values]})


def decode_cursor(scope: str, cursor: str, types: Sequence[type]) -> list[Any]:
    try:
        data = _get_signer().loads(cursor)
        if not isinstance(data, dict) or data.get("s") != scope or len(data["v"]) != len(types):
            raise BadSignature("cursor is for another listing")
        return [_decode(v, t) for v, t in zip(data["v"], types, strict=True)]
    except (BadSignature, KeyError, TypeError, ValueError) as exc:
        raise InvalidCursor("The page cursor is invalid or was altered; start again.") from exc


async def paginate(
    session: AsyncSession,
    stmt: Select[tuple[Row]],
    *,
    keys: Sequence[InstrumentedAttribute[Any]],
    params: PageParams,
    scope: str,
    descending: bool = False,
) -> tuple[list[Row], str | None]:
    """Run `stmt` one page at a time, ordered by `keys` (which must be unique together)."""
    types = [k.type.python_type for k in keys]
    if params.cursor:
        after = decode_cursor(scope, params.cursor, types)
        cond = tuple_(*keys) < tuple_(*after) if descending else tuple_(*keys) > tuple_(*after)
        stmt = stmt.where(cond)
    order = [k.desc() if descending else k.asc() for k in keys]
    rows: list[Row] = list(
        (await session.scalars(stmt.order_by(*order).limit(params.limit + 1))).all()  # type: ignore[arg-type]
    )
    next_cursor = None
    if len(rows) > params.limit:
        rows = rows[: params.limit]
        last = rows[-1]
        next_cursor = encode_cursor(scope, [getattr(last, k.key) for k in keys])
    return rows, next_cursor
