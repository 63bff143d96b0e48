"""What creators needs from outside the process or from contexts still being wired: sending
email, looking up uploaded video assets, and posting commissions to the ledger."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from liveloop.kit.db import utcnow

# -- email ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Email:
    to: str
    subject: str
    text: str
    key: str
    """Stable for one message: sending the same key again replaces, never duplicates."""


class EmailSender(Protocol):
    async def send(self, email: Email) -> None: ...


class LocalOutboxSender:
    """Development and test email: each message is an `.eml` file under `directory`."""

    def __init__(self, directory: Path, sender: str = "liveloop <no-reply@liveloop.dev>") -> None:
        self.directory = directory
        self.sender = sender

    def path_for(self, key: str) -> Path:
        return self.directory / f"{hashlib.sha256(key.encode()).hexdigest()[:32]}.eml"

    async def send(self, email: Email) -> None:
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = email.to
        message["Subject"] = email.subject
        message["Date"] = format_datetime(utcnow())
        message["Message-ID"] = make_msgid(domain="liveloop.dev")
        message.set_content(email.text)
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.path_for(email.key)
        partial = path.with_name(path.name + ".partial")
        partial.write_bytes(bytes(message))
        partial.replace(path)  # a reader never sees half a message


@dataclass
class MemorySender:
    """Keeps messages in a list (for tests and embedded use)."""

    sent: dict[str, Email] = field(default_factory=dict)

    async def send(self, email: Email) -> None:
        self.sent[email.key] = email


# -- uploaded videos -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VideoAssetInfo:
    id: uuid.UUID
    owner_id: uuid.UUID
    status: str
    """`uploaded`, `transcoding`, `ready` or `failed`, as the media context reports it."""
    poster_url: str | None = None
    renditions: list[dict[str, Any]] = field(default_factory=list)
    duration_ms: int | None = None

    @property
    def ready(self) -> bool:
        return self.status == "ready"


class VideoAssets(Protocol):
    async def get(self, session: AsyncSession, asset_id: uuid.UUID) -> VideoAssetInfo | None: ...


class MediaLike(Protocol):
    """The part of the media context's service (`liveloop.media.service.Media`) used here."""

    async def video(
        self, session: AsyncSession, video_id: uuid.UUID, *, owner_id: uuid.UUID | None
    ) -> Any: ...

    def video_out(self, video: Any) -> Any: ...


class MediaVideoAssets:
    """Video assets through the media context's service."""

    def __init__(self, media: MediaLike) -> None:
        self.media = media

    async def get(self, session: AsyncSession, asset_id: uuid.UUID) -> VideoAssetInfo | None:
        from liveloop.kit.errors import NotFound

        try:
            video = await self.media.video(session, asset_id, owner_id=None)
        except NotFound:
            return None
        out = self.media.video_out(video)
        return VideoAssetInfo(
            id=out.id,
            owner_id=out.owner_id,
            status=out.status,
            poster_url=out.poster_url,
            renditions=[r.model_dump() for r in out.renditions],
            duration_ms=out.duration_ms,
        )


@dataclass
class FakeVideoAssets:
    """Assets kept in a dict, for tests and for processes without the media context."""

    assets: dict[uuid.UUID, VideoAssetInfo] = field(default_factory=dict)

    async def get(self, session: AsyncSession, asset_id: uuid.UUID) -> VideoAssetInfo | None:
        return self.assets.get(asset_id)


# -- the ledger ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CommissionPosting:
    """One movement of a creator's commission: earned (positive) or reversed (negative)."""

    commission_id: uuid.UUID
    creator_id: uuid.UUID
    shop_id: uuid.UUID
    order_id: uuid.UUID
    order_line_id: uuid.UUID
    amount: int
    currency: str
    at: datetime
    reference: str
    """Unique per movement: `commission:<id>` or `commission:<id>:refund:<refund id>`."""
    hold_until: datetime


class CommissionLedger(Protocol):
    async def post(self, session: AsyncSession, posting: CommissionPosting) -> None: ...


@dataclass
class RecordingLedger:
    """Keeps postings in a list (for tests); `flows.LedgerCommissions` is the real one."""

    postings: list[CommissionPosting] = field(default_factory=list)

    async def post(self, session: AsyncSession, posting: CommissionPosting) -> None:
        self.postings.append(posting)


@dataclass
class CreatorsPorts:
    """The adapters creators' service uses; `bootstrap` builds the real ones, tests fakes."""

    email: EmailSender
    video_assets: VideoAssets | None
    ledger: CommissionLedger
