"""Transcoding an uploaded video to web-playable MP4 renditions (H.264/AAC, index at the front)
and a poster frame, with ffmpeg, reporting progress as it goes."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from liveloop.kit.storage import LocalMediaStorage
from liveloop.media.config import MediaConfig
from liveloop.media.tools import ToolFailed, progress_lines, run_tool

Progress = Callable[[int], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Target:
    name: str
    width: int
    height: int


def targets(width: int, height: int, heights: tuple[int, ...]) -> list[Target]:
    """Renditions no larger than the source, named by their shorter side (portrait videos
    too); a source smaller than every size gets one rendition at its own size."""
    short = min(width, height)
    chosen = sorted({h for h in heights if h <= short}, reverse=True) or [short - short % 2]
    result = []
    for size in chosen:
        scale = size / short
        w, h = _even(width * scale), _even(height * scale)
        result.append(Target(f"{size}p", w, h))
    return result


def _even(value: float) -> int:
    return max(2, round(value / 2) * 2)


def video_key(video_id: object, name: str) -> str:
    return f"videos/{video_id}/{name}"


async def transcode(
    config: MediaConfig,
    source: Path,
    work: Path,
    *,
    width: int,
    height: int,
    duration_s: float,
    has_audio: bool,
    on_progress: Progress,
) -> tuple[list[tuple[Target, Path]], Path]:
    """Every rendition in one ffmpeg run (the source is decoded once), then the poster."""
    await asyncio.to_thread(work.mkdir, parents=True, exist_ok=True)
    chosen = targets(width, height, config.video_heights)
    args = [
        config.ffmpeg, "-hide_banner", "-nostdin", "-v", "error", "-y",
        "-i", str(source), "-progress", "pipe:1", "-nostats",
    ]  # fmt: skip
    outputs = []
    for target in chosen:
        path = work / f"{target.name}.mp4"
        outputs.append((target, path))
        args += ["-map", "0:v:0"] + (["-map", "0:a:0"] if has_audio else [])
        args += [
            "-vf", f"scale={target.width}:{target.height}",
            "-c:v", "libx264", "-preset", "veryfast", "-profile:v", "high",
            "-pix_fmt", "yuv420p", "-crf", "23",
            "-maxrate", f"{_max_kbps(target)}k", "-bufsize", f"{_max_kbps(target) * 2}k",
        ]  # fmt: skip
        if has_audio:
            args += ["-c:a", "aac", "-b:a", "128k", "-ac", "2"]
        args += ["-movflags", "+faststart", "-f", "mp4", str(path)]
    last = -1
    async for block in progress_lines(args):
        percent = _percent(block, duration_s)
        if percent is not None and percent != last:
            last = percent
            await on_progress(percent)
    poster = work / "poster.jpg"
    at = min(1.0, duration_s / 2)
    result = await run_tool(
        [
            config.ffmpeg, "-hide_banner", "-nostdin", "-v", "error", "-y",
            "-ss", f"{at:.3f}", "-i", str(outputs[0][1]),
            "-frames:v", "1", "-q:v", "3", str(poster),
        ],
        time_limit=120,
    )  # fmt: skip
    if result.returncode != 0 or not poster.exists():
        raise ToolFailed(result.error_text or "ffmpeg could not take the poster frame")
    return outputs, poster


def _max_kbps(target: Target) -> int:
    pixels = target.width * target.height
    return max(400, min(6000, pixels * 3 // 1000))


def _percent(block: dict[str, str], duration_s: float) -> int | None:
    if block.get("progress") == "end":
        return 99  # 100 once the files are stored
    # ffmpeg's `out_time_ms` is in microseconds too (a long-standing misnomer).
    raw = block.get("out_time_us") or block.get("out_time_ms") or ""
    if not raw.lstrip("-").isdigit() or duration_s <= 0:
        return None
    done = int(raw) / 1_000_000 / duration_s
    return max(0, min(99, int(done * 100)))


def store_file(storage: LocalMediaStorage, key: str, source: Path) -> int:
    """Move a finished file into storage (readers never see a half-written file); its size."""
    target = storage.path(key)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    shutil.move(source, partial)
    partial.replace(target)
    return target.stat().st_size


def remove_prefix(storage: LocalMediaStorage, prefix: str) -> None:
    """Delete everything stored under `prefix` (a video's or a replay's directory)."""
    shutil.rmtree(storage.path(prefix), ignore_errors=True)


def rendition_json(target: Target, key: str, size: int) -> dict[str, Any]:
    return {
        "name": target.name,
        "width": target.width,
        "height": target.height,
        "key": key,
        "size_bytes": size,
    }
