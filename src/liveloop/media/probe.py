"""What an uploaded file really is: its container by magic bytes, then ffprobe's reading of it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from liveloop.media.tools import parse_json, run_tool

_SNIFF_BYTES = 1024
# Errors that mean the file is damaged; others (a decoder's complaint about one frame, which
# phones' files often cause) do not stop a video from being transcoded.
_DAMAGE = re.compile(
    r"partial file|Invalid data found|moov atom not found|truncat|EBML header parsing failed|"
    r"End of file|corrupt",
    re.IGNORECASE,
)


def sniff_container(head: bytes) -> str | None:
    """The video container these first bytes start, or None (the name of the file is ignored)."""
    if len(head) >= 12 and head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand == b"qt  ":
            return "mov"
        if brand.startswith(b"3g"):
            return "3gp"
        return "mp4"
    if len(head) >= 8 and head[4:8] in (b"moov", b"mdat", b"wide", b"free", b"skip"):
        return "mov"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "webm" if b"webm" in head[:64] else "mkv"
    if head.startswith(b"RIFF") and head[8:12] == b"AVI ":
        return "avi"
    if head.startswith(b"FLV\x01"):
        return "flv"
    if head.startswith(b"\x00\x00\x01\xba"):
        return "mpeg"
    if len(head) > 376 and head[0] == head[188] == head[376] == 0x47:
        return "mpegts"
    if head.startswith(b"OggS"):
        return "ogg"
    return None


def read_head(path: Path) -> bytes:
    with path.open("rb") as f:
        return f.read(_SNIFF_BYTES)


@dataclass(frozen=True, slots=True)
class Probe:
    format_name: str
    duration_s: float
    width: int
    height: int
    video_codec: str
    audio_codec: str | None
    video_packets: int


class ProbeFailed(ValueError):
    """ffprobe could not read the file through (damaged, truncated, or not media at all)."""


class NoVideoStream(ValueError):
    pass


async def probe(ffprobe: str, path: Path, *, time_limit: float = 120.0) -> Probe:
    """Read the whole file's packets (demuxing only, no decoding): a truncated or damaged file
    shows up as an error here, not halfway through the transcode."""
    result = await run_tool(
        [
            ffprobe,
            "-v",
            "error",
            "-count_packets",
            "-show_entries",
            "format=format_name,duration:stream=codec_type,codec_name,width,height,duration,"
            "nb_read_packets",
            "-of",
            "json",
            str(path),
        ],
        time_limit=time_limit,
    )
    # ffprobe names the (temporary) file in its messages; callers see "the file" instead
    text = result.error_text.replace(str(path), "the file")
    damaged = [line for line in text.splitlines() if _DAMAGE.search(line)]
    if result.returncode != 0 or damaged:
        raise ProbeFailed(
            _first_line(damaged[0] if damaged else text) or "ffprobe could not read the file"
        )
    data = parse_json(result)
    streams = data.get("streams") or []
    video = next((s for s in streams if s.get("codec_type") == "video"), None)
    audio = next((s for s in streams if s.get("codec_type") == "audio"), None)
    if video is None:
        raise NoVideoStream("the file has no video stream")
    fmt = data.get("format") or {}
    durations = [_float(fmt.get("duration"))] + [_float(s.get("duration")) for s in streams]
    duration = max(durations)
    packets = int(video.get("nb_read_packets") or 0)
    if duration <= 0 or packets == 0 or not video.get("width") or not video.get("height"):
        raise ProbeFailed("the video has no readable frames")
    return Probe(
        format_name=str(fmt.get("format_name", "")),
        duration_s=duration,
        width=int(video["width"]),
        height=int(video["height"]),
        video_codec=str(video.get("codec_name", "")),
        audio_codec=str(audio["codec_name"]) if audio and audio.get("codec_name") else None,
        video_packets=packets,
    )


def _float(value: object) -> float:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 0.0


def _first_line(text: str) -> str:
    return text.splitlines()[0][:300] if text else ""
