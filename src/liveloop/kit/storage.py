"""Where uploaded media (product images, shop logos, video files) are kept: a small interface and
its local-directory implementation, so a shared volume or an object store can replace it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import BinaryIO, Protocol

_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)*$")


class InvalidMediaKey(ValueError):
    pass


def check_key(key: str) -> str:
    """A key is a relative path of safe segments: never absolute, never `..`."""
    if len(key) > 300 or not _KEY.match(key) or ".." in key.split("/"):
        raise InvalidMediaKey(f"{key!r} is not a valid media key")
    return key


class MediaStorage(Protocol):
    async def save(self, key: str, data: bytes, content_type: str) -> None: ...

    def url(self, key: str) -> str: ...

    def open(self, key: str) -> BinaryIO: ...


class LocalMediaStorage:
    """Files under one directory (`settings.media_dir`), served under `base_url`."""

    def __init__(self, root: Path, base_url: str = "/media") -> None:
        self.root = root
        self.base_url = base_url.rstrip("/")

    def path(self, key: str) -> Path:
        return self.root / check_key(key)

    async def save(self, key: str, data: bytes, content_type: str) -> None:
        del content_type  # the file name's extension carries it for a static file server
        path = self.path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".partial")
        partial.write_bytes(data)
        partial.replace(path)  # readers never see a half-written file

    def url(self, key: str) -> str:
        return f"{self.base_url}/{check_key(key)}"

    def open(self, key: str) -> BinaryIO:
        return self.path(key).open("rb")
