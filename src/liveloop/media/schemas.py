"""Media's request and response bodies."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class StreamKeyOut(BaseModel):
    live_session_id: uuid.UUID
    server_url: str = Field(description="OBS's *Server*: `rtmp://HOST:PORT/live`.")
    key_hint: str = Field(description="The key's last characters, to tell keys apart.")
    created_at: datetime


class StreamKeyCreated(StreamKeyOut):
    stream_key: str = Field(description="OBS's *Stream Key*. Shown once; rotating replaces it.")
    publish_url: str = Field(description="Server and key in one URL, for ffmpeg or phone apps.")
    replaced_previous: bool = Field(description="An earlier key existed and no longer works.")


class RenditionOut(BaseModel):
    name: str
    url: str
    bandwidth: int
    height: int | None = None


class LatencyOut(BaseModel):
    newest_segment_at: datetime = Field(description="Program date-time of the newest segment.")
    segment_seconds: float
    ingest_lag_ms: int = Field(
        description="How long ago the newest published segment ended (now minus its end)."
    )
    expected_viewer_delay_ms: int = Field(
        description="What a viewer at the live edge (hls.js, 3 segments back) sees behind the "
        "moment the frames reached the server; the encoder and network before it add to it."
    )


class PlaybackOut(BaseModel):
    live_session_id: uuid.UUID
    state: str
    live: bool = Field(description="A publisher is sending video now.")
    hls_url: str | None = Field(description="Master playlist (every rendition), when live.")
    renditions: list[RenditionOut]
    program_date_time: bool = Field(
        description="Each segment carries `#EXT-X-PROGRAM-DATE-TIME` (wall clock of its first "
        "frame): pins are revealed when playback reaches their moment."
    )
    reconnecting: bool = Field(description="The publisher dropped; the grace period runs.")
    latency: LatencyOut | None


class ReplayPinOut(BaseModel):
    pin_id: uuid.UUID
    product_id: uuid.UUID
    offset_ms: int = Field(description="Where the pin appears in the replay video.")
    until_offset_ms: int | None
    media_time_ms: int | None
    pinned_at: datetime
    unpinned_at: datetime | None
    details: dict[str, Any]


class ReplayOut(BaseModel):
    live_session_id: uuid.UUID
    status: Literal["recording", "processing", "ready", "empty", "failed"]
    url: str | None = Field(description="An MP4 (H.264/AAC, fast start) browsers play directly.")
    content_type: str | None
    started_at: datetime | None
    duration_ms: int | None
    pins: list[ReplayPinOut]


class VideoRenditionOut(BaseModel):
    name: str
    width: int
    height: int
    url: str
    size_bytes: int
    content_type: str = "video/mp4"


class VideoOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    owner_id: uuid.UUID
    original_filename: str
    container: str
    size_bytes: int
    duration_ms: int
    width: int
    height: int
    status: Literal["uploaded", "transcoding", "ready", "failed"]
    progress: int = Field(description="Percent of the transcode done.")
    renditions: list[VideoRenditionOut]
    poster_url: str | None
    error: str | None
    created_at: datetime
    ready_at: datetime | None


class CallbackAccepted(BaseModel):
    ok: bool = True
    connection_id: uuid.UUID | None = None
