"""Turning a session's recording (nginx writes one FLV part per connection) into one replay MP4,
and finding where a wall-clock moment of the stream falls in it."""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from liveloop.media.config import MediaConfig
from liveloop.media.tools import parse_json, run_tool

log = logging.getLogger("liveloop.media.replay")

RECORD_DONE_WAIT = timedelta(seconds=60)
"""How long a build waits for nginx's `on_record_done` of a part after its publisher stopped."""


@dataclass(frozen=True, slots=True)
class Part:
    """One connection's stretch of the replay."""

    started_ms: int
    """Wall-clock epoch ms of the part's first frame (program date-time clock)."""
    offset_ms: int
    duration_ms: int

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Part:
        return cls(int(data["started_ms"]), int(data["offset_ms"]), int(data["duration_ms"]))

    def to_json(self) -> dict[str, Any]:
        return {
            "started_ms": self.started_ms,
            "started_at": datetime.fromtimestamp(self.started_ms / 1000, UTC).isoformat(),
            "offset_ms": self.offset_ms,
            "duration_ms": self.duration_ms,
        }


def offset_in_replay(parts: list[Part], at_ms: int) -> int:
    """Where the wall-clock moment `at_ms` is in the replay: inside a part, its place there;
    in a gap between parts (the host was reconnecting), the start of the next part; before the
    first or after the last, the replay's start or end."""
    if not parts:
        return 0
    for part in parts:
        if at_ms < part.started_ms:
            return part.offset_ms
        if at_ms < part.started_ms + part.duration_ms:
            return part.offset_ms + (at_ms - part.started_ms)
    last = parts[-1]
    return last.offset_ms + last.duration_ms


@dataclass(frozen=True, slots=True)
class RecordedPart:
    path: Path
    started_ms: int


class ReplayBuildFailed(RuntimeError):
    pass


async def duration_ms(config: MediaConfig, path: Path) -> int:
    result = await run_tool(
        [
            config.ffprobe,
            "-v",
            "error",
            "-show_entries",
            "format=duration",
            "-of",
            "json",
            str(path),
        ],
        time_limit=120,
    )
    value = (parse_json(result).get("format") or {}).get("duration")
    try:
        return round(float(str(value)) * 1000)
    except (TypeError, ValueError):
        return 0


async def build(
    config: MediaConfig, recorded: list[RecordedPart], work: Path
) -> tuple[Path, list[Part], int] | None:
    """Join the parts (stream copy, no re-encoding) into `work/replay.mp4` with its index at the
    front, so browsers start playing and seeking at once. None when nothing was recorded."""
    usable: list[tuple[RecordedPart, int]] = []
    for part in recorded:
        length = await duration_ms(config, part.path) if part.path.exists() else 0
        if length > 0:
            usable.append((part, length))
    if not usable:
        return None
    listing = work / "parts.txt"
    await asyncio.to_thread(_write_listing, listing, [p.path for p, _ in usable])
    output = work / "replay.mp4"
    result = await run_tool(
        [
            config.ffmpeg,
            "-hide_banner",
            "-nostdin",
            "-v",
            "error",
            "-y",
            "-f",
            "concat",
            "-safe",
            "0",
            "-i",
            str(listing),
            "-map",
            "0:v:0",
            "-map",
            "0:a:0?",
            "-c",
            "copy",
            "-movflags",
            "+faststart",
            str(output),
        ],
        time_limit=3600,
    )
    if result.returncode != 0 or not output.exists():
        raise ReplayBuildFailed(result.error_text or "ffmpeg could not join the recording")
    parts: list[Part] = []
    offset = 0
    for part, length in usable:
        parts.append(Part(started_ms=part.started_ms, offset_ms=offset, duration_ms=length))
        offset += length
    total = await duration_ms(config, output)
    return output, parts, total or offset


def _write_listing(listing: Path, paths: list[Path]) -> None:
    listing.parent.mkdir(parents=True, exist_ok=True)
    listing.write_text("".join(f"file '{_quote(path)}'\n" for path in paths))


def _quote(path: Path) -> str:
    return str(path).replace("'", "'\\''")


def replay_key(live_session_id: uuid.UUID, recording_id: uuid.UUID) -> str:
    return f"recordings/{live_session_id}/{recording_id}.mp4"
