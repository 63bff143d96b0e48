"""HLS playlists: nginx's live playlists re-served with `#EXT-X-PROGRAM-DATE-TIME` on every
segment, and the master playlist of the renditions.

nginx-rtmp writes no program date-time, but with `hls_fragment_naming system` it names each
segment by the wall-clock millisecond at which the segment's first frame arrived. That name is
the segment's program date-time, on the same clock as everything else liveloop stamps."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

_MS_NAME = re.compile(r"^(\d{12,14})\.ts$")
CONTENT_TYPE = "application/vnd.apple.mpegurl"


@dataclass(frozen=True, slots=True)
class Segment:
    uri: str
    duration_s: float
    discontinuity: bool = False

    @property
    def start_ms(self) -> int | None:
        """The wall-clock millisecond of the segment's first frame, from nginx's name for it."""
        match = _MS_NAME.match(self.uri.rsplit("/", 1)[-1])
        return int(match.group(1)) if match else None

    @property
    def end_ms(self) -> int | None:
        start = self.start_ms
        return None if start is None else start + round(self.duration_s * 1000)


@dataclass(slots=True)
class MediaPlaylist:
    target_duration: int = 1
    media_sequence: int = 0
    segments: list[Segment] = field(default_factory=list)
    ended: bool = False

    @property
    def newest(self) -> Segment | None:
        return self.segments[-1] if self.segments else None


def parse(text: str) -> MediaPlaylist:
    playlist = MediaPlaylist()
    duration: float | None = None
    discontinuity = False
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#EXT-X-TARGETDURATION:"):
            playlist.target_duration = int(float(line.split(":", 1)[1]))
        elif line.startswith("#EXT-X-MEDIA-SEQUENCE:"):
            playlist.media_sequence = int(line.split(":", 1)[1])
        elif line.startswith("#EXTINF:"):
            duration = float(line.split(":", 1)[1].split(",", 1)[0])
        elif line == "#EXT-X-DISCONTINUITY":
            discontinuity = True
        elif line == "#EXT-X-ENDLIST":
            playlist.ended = True
        elif not line.startswith("#") and duration is not None:
            playlist.segments.append(Segment(line, duration, discontinuity))
            duration, discontinuity = None, False
    return playlist


def format_pdt(ms: int) -> str:
    moment = datetime.fromtimestamp(ms / 1000, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


_MATCH_WITHIN_MS = 500


def aligned_starts(playlist: MediaPlaylist, reference: MediaPlaylist) -> list[int | None]:
    """Each segment's start on the reference rendition's clock.

    A transcoded rendition reaches nginx a little after the source (by ffmpeg's delay), so its
    arrival-time names run late; its segments start at the source's keyframes, so each one
    takes the date of the source segment that began just before it. Segments older than the
    source playlist's window keep their name shifted by the typical delay seen."""
    references = sorted(s.start_ms for s in reference.segments if s.start_ms is not None)
    starts: list[int | None] = []
    delays: list[int] = []
    for segment in playlist.segments:
        start = segment.start_ms
        match = None
        if start is not None:
            earlier = [r for r in references if 0 <= start - r < _MATCH_WITHIN_MS]
            match = earlier[-1] if earlier else None
        if match is not None and start is not None:
            delays.append(start - match)
        starts.append(match)
    delay = sorted(delays)[len(delays) // 2] if delays else 0
    return [
        found if found is not None else (None if seg.start_ms is None else seg.start_ms - delay)
        for found, seg in zip(starts, playlist.segments, strict=True)
    ]


def with_program_date_time(
    text: str, *, segment_base_url: str, reference: MediaPlaylist | None = None
) -> str:
    """nginx's playlist with a program date-time before each segment and absolute segment URLs
    (segments stay on nginx; only the small playlist passes through liveloop)."""
    playlist = parse(text)
    starts = (
        aligned_starts(playlist, reference)
        if reference is not None
        else [s.start_ms for s in playlist.segments]
    )
    lines = [
        "#EXTM3U",
        "#EXT-X-VERSION:3",
        f"#EXT-X-TARGETDURATION:{playlist.target_duration}",
        f"#EXT-X-MEDIA-SEQUENCE:{playlist.media_sequence}",
    ]
    base = segment_base_url.rstrip("/")
    for segment, start in zip(playlist.segments, starts, strict=True):
        if segment.discontinuity:
            lines.append("#EXT-X-DISCONTINUITY")
        if start is not None:
            lines.append(f"#EXT-X-PROGRAM-DATE-TIME:{format_pdt(start)}")
        lines.append(f"#EXTINF:{segment.duration_s:.3f},")
        uri = segment.uri if "://" in segment.uri else f"{base}/{segment.uri}"
        lines.append(uri)
    if playlist.ended:
        lines.append("#EXT-X-ENDLIST")
    return "\n".join(lines) + "\n"


@dataclass(frozen=True, slots=True)
class Variant:
    name: str
    uri: str
    bandwidth: int
    height: int | None = None


def master(variants: list[Variant]) -> str:
    lines = ["#EXTM3U", "#EXT-X-VERSION:3"]
    for variant in variants:
        attributes = [f"BANDWIDTH={variant.bandwidth}"]
        if variant.height:
            width = (variant.height * 16 // 9 + 1) // 2 * 2
            attributes.append(f"RESOLUTION={width}x{variant.height}")
        attributes.append(f'NAME="{variant.name}"')
        lines.append("#EXT-X-STREAM-INF:" + ",".join(attributes))
        lines.append(variant.uri)
    return "\n".join(lines) + "\n"


def measured_bandwidth(directory: Path, playlist: MediaPlaylist, default: int) -> int:
    """Bits per second of the newest segments on disk (their sizes over their durations)."""
    size = 0
    seconds = 0.0
    for segment in playlist.segments[-4:]:
        try:
            size += (directory / segment.uri).stat().st_size
        except OSError:
            continue
        seconds += segment.duration_s
    if size == 0 or seconds <= 0:
        return default
    return int(size * 8 / seconds * 1.1)
