"""Moderation: the one check every context runs on text users write (the external-link ban).

Other contexts call `moderation_service.ensure_allowed(field, text)` before storing a bio, a
caption, a comment, a chat message or an order message."""

from __future__ import annotations

from liveloop.moderation.errors import ContentBlocked
from liveloop.moderation.linkban import Decision, default_link_ban


def check(text: str) -> Decision:
    """Allowed or blocked, with what was found (matched text, normalised domain, rule)."""
    return default_link_ban().check(text)


def ensure_allowed(field: str, text: str | None) -> None:
    """Refuse the write (422 `external_link_blocked`, naming `field`) when `text` links out."""
    if not text:
        return
    decision = check(text)
    if not decision.allowed:
        raise ContentBlocked(field, decision)
