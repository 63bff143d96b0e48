"""FastAPI dependencies for plumbing every route uses: the request's session and the container."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

if TYPE_CHECKING:
    from liveloop.bootstrap import Container


def get_session(request: Request) -> AsyncSession:
    """The request's session; the unit-of-work middleware commits or rolls it back."""
    db: Any = request.state.db
    session: AsyncSession = db.get()
    return session


def get_container(request: Request) -> Container:
    container: Container = request.app.state.container
    return container


DbSession = Annotated[AsyncSession, Depends(get_session)]
AppContainer = Annotated["Container", Depends(get_container)]
