"""Receiving a video upload: the multipart body is parsed as it streams in and the file part is
written to a temporary file, so the size limit stops an oversized upload at the limit (not after
it has been received), and nothing reaches storage until the file is known to be a good video."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from python_multipart import MultipartParser
from python_multipart.multipart import parse_options_header
from starlette.requests import ClientDisconnect, Request

from liveloop.media.config import MediaConfig
from liveloop.media.errors import BadUpload, CorruptVideo, NotAVideo, VideoTooLarge, VideoTooLong
from liveloop.media.probe import (
    NoVideoStream,
    Probe,
    ProbeFailed,
    probe,
    read_head,
    sniff_container,
)

FILE_FIELD = "file"
_MAX_FIELD_BYTES = 4096


@dataclass(frozen=True, slots=True)
class ReceivedUpload:
    path: Path
    filename: str
    size: int


class _Parts:
    """Collects python-multipart's callbacks; the file part goes straight to disk."""

    def __init__(self, target: Path, limit: int) -> None:
        self.target = target
        self.limit = limit
        self.file: BinaryIO | None = None
        self.size = 0
        self.filename: str | None = None
        self.found = False
        self._header_field = b""
        self._header_value = b""
        self._headers: dict[bytes, bytes] = {}
        self._in_file = False
        self.too_large = False

    def on_part_begin(self) -> None:
        self._headers = {}
        self._in_file = False

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_field += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def on_header_end(self) -> None:
        self._headers[self._header_field.lower()] = self._header_value
        self._header_field = b""
        self._header_value = b""

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self._headers.get(b"content-disposition", b""))
        if options.get(b"name") == FILE_FIELD.encode() and b"filename" in options:
            if self.found:
                raise BadUpload("Send one file per upload.")
            self.found = True
            self._in_file = True
            self.filename = options[b"filename"].decode(errors="replace")
            self.file = self.target.open("wb")

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if not self._in_file or self.file is None:
            return
        self.size += end - start
        if self.size > self.limit:
            self.too_large = True
            return
        self.file.write(data[start:end])

    def on_part_end(self) -> None:
        self._in_file = False

    def close(self) -> None:
        if self.file is not None:
            self.file.close()


def _parse_chunk(parser: MultipartParser, parts: _Parts, chunk: bytes) -> None:
    parser.write(chunk)


async def receive(request: Request, config: MediaConfig) -> ReceivedUpload:
    """Stream the request's `file` part to a temporary file under the work directory."""
    content_type, options = parse_options_header(request.headers.get("content-type", ""))
    boundary = options.get(b"boundary")
    if content_type != b"multipart/form-data" or not boundary:
        raise BadUpload(
            "Send the video as multipart/form-data with the file in the `file` field.",
            code="multipart_required",
        )
    temp_dir = config.work_dir / "uploads"
    temp_dir.mkdir(parents=True, exist_ok=True)
    target = temp_dir / f"{uuid.uuid4().hex}.part"
    parts = _Parts(target, config.max_upload_bytes)
    parser = MultipartParser(
        boundary,
        {
            "on_part_begin": parts.on_part_begin,
            "on_header_field": parts.on_header_field,
            "on_header_value": parts.on_header_value,
            "on_header_end": parts.on_header_end,
            "on_headers_finished": parts.on_headers_finished,
            "on_part_data": parts.on_part_data,
            "on_part_end": parts.on_part_end,
        },
    )
    try:
        async for chunk in request.stream():
            # the parser writes file data to disk: off the event loop
            await asyncio.to_thread(_parse_chunk, parser, parts, chunk)
            if parts.too_large:
                raise VideoTooLarge(
                    f"The video is larger than {config.max_upload_bytes} bytes.",
                    limit_bytes=config.max_upload_bytes,
                )
        parser.finalize()
    except ClientDisconnect as exc:
        target.unlink(missing_ok=True)
        raise BadUpload("The upload was interrupted.", code="upload_interrupted") from exc
    except RuntimeError as exc:  # the body was already read (a form-field CSRF check)
        target.unlink(missing_ok=True)
        raise BadUpload(
            "Send the CSRF token in the X-CSRF-Token header when uploading a video.",
            code="csrf_header_required",
        ) from exc
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    finally:
        parts.close()
    if not parts.found or parts.size == 0:
        target.unlink(missing_ok=True)
        raise BadUpload("No file in the `file` field.", code="file_missing")
    return ReceivedUpload(target, _clean_name(parts.filename or "video"), parts.size)


def _clean_name(name: str) -> str:
    return name.replace("\\", "/").rsplit("/", 1)[-1].strip()[:255] or "video"


async def check(upload: ReceivedUpload, config: MediaConfig) -> tuple[str, Probe]:
    """What the file is, by its content: its container and ffprobe's reading; raises the
    reason it is refused. The temporary file is the caller's to delete either way."""
    container = await asyncio.to_thread(lambda: sniff_container(read_head(upload.path)))
    if container is None:
        raise NotAVideo("The file is not a video (its content is not a known video format).")
    try:
        result = await probe(config.ffprobe, upload.path)
    except NoVideoStream as exc:
        raise NotAVideo("The file has no video in it.") from exc
    except ProbeFailed as exc:
        raise CorruptVideo(f"The video file is damaged or incomplete: {exc}") from exc
    if result.duration_s > config.max_upload_seconds:
        raise VideoTooLong(
            f"The video lasts {result.duration_s:.1f} s; the limit is "
            f"{config.max_upload_seconds:g} s.",
            limit_seconds=config.max_upload_seconds,
        )
    return container, result
