"""Moderation's HTTP routes."""

from __future__ import annotations

from fastapi import APIRouter

from liveloop.accounts.auth import Anyone
from liveloop.moderation import service as moderation_service
from liveloop.moderation.schemas import ModerationCheckIn, ModerationCheckOut

router = APIRouter(prefix="/api/v1/moderation", tags=["moderation"])


@router.post("/check", response_model=ModerationCheckOut)
async def check_text(body: ModerationCheckIn, _: Anyone) -> ModerationCheckOut:
    """Whether a text may be published: links to outside marketplaces, their short links, link
    shorteners and link-in-bio hubs are not allowed, however they are disguised."""
    return ModerationCheckOut.model_validate(moderation_service.check(body.text))
