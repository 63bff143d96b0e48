"""Running ffmpeg and ffprobe as child processes, never through a shell."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from liveloop.media.errors import MediaToolMissing


@dataclass(frozen=True, slots=True)
class ToolResult:
    returncode: int
    stdout: bytes
    stderr: bytes

    @property
    def error_text(self) -> str:
        return self.stderr.decode(errors="replace").strip()[-2000:]


async def run_tool(args: Sequence[str], *, time_limit: float) -> ToolResult:
    """Run a tool to completion; a timeout or a cancelled caller kills it."""
    try:
        process = await asyncio.create_subprocess_exec(
            *args,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
    except FileNotFoundError as exc:
        raise MediaToolMissing(f"{args[0]} is not installed on this server.") from exc
    try:
        stdout, stderr = await asyncio.wait_for(process.communicate(), time_limit)
    except BaseException:
        await stop_process(process)
        raise
    return ToolResult(process.returncode or 0, stdout, stderr)


async def stop_process(process: asyncio.subprocess.Process, grace: float = 5.0) -> None:
    if process.returncode is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        process.terminate()
    try:
        await asyncio.wait_for(process.wait(), grace)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        await process.wait()


async def progress_lines(
    args: Sequence[str], *, stderr_path: Path | None = None
) -> AsyncIterator[dict[str, str]]:
    """Run ffmpeg with `-progress pipe:1` and yield each progress block as a dict.

    Raises `ToolFailed` with ffmpeg's last error lines when it exits non-zero."""
    try:
        process = await asyncio.create_subprocess_exec(
            *args,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
    except FileNotFoundError as exc:
        raise MediaToolMissing(f"{args[0]} is not installed on this server.") from exc
    assert process.stdout is not None and process.stderr is not None
    errors = asyncio.ensure_future(process.stderr.read())
    try:
        block: dict[str, str] = {}
        async for raw in process.stdout:
            key, _, value = raw.decode(errors="replace").strip().partition("=")
            if not key:
                continue
            block[key] = value
            if key == "progress":
                yield block
                block = {}
        await process.wait()
        stderr = await errors
        if process.returncode != 0:
            raise ToolFailed(stderr.decode(errors="replace").strip()[-2000:] or "ffmpeg failed")
    finally:
        errors.cancel()
        await stop_process(process)


class ToolFailed(RuntimeError):
    pass


def parse_json(result: ToolResult) -> dict[str, Any]:
    try:
        data = json.loads(result.stdout or b"{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}
