"""Moderation's request and response bodies."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

MAX_TEXT = 20_000


class ModerationCheckIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(max_length=MAX_TEXT)


class FindingOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    match: str
    domain: str
    rule: str


class ModerationCheckOut(BaseModel):
    """Build with `ModerationCheckOut.model_validate(decision)` from a `linkban.Decision`."""

    model_config = ConfigDict(from_attributes=True)

    allowed: bool
    findings: list[FindingOut]
