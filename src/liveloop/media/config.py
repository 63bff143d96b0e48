"""The media context's settings (`LIVELOOP_MEDIA_*`), resolved against the process settings."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import os
import shutil
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from liveloop.kit.settings import Settings

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

RTMP_APP = "live"
"""The RTMP application publishers connect to: `rtmp://HOST:PORT/live`."""

LADDER_APP = "abr"
"""The internal RTMP application that receives the lower renditions transcoded by ffmpeg."""


@dataclass(frozen=True, slots=True)
class Rendition:
    """A lower rendition of a live stream, transcoded in real time by ffmpeg."""

    name: str
    height: int
    video_kbps: int
    audio_kbps: int = 96


RENDITIONS = {"360p": Rendition("360p", 360, 700), "540p": Rendition("540p", 540, 1400)}


class MediaSettings(BaseSettings):
    """Every media setting; see docs/MEDIA.md for what each one changes."""

    model_config = SettingsConfigDict(env_prefix="LIVELOOP_MEDIA_", env_file=".env", extra="ignore")

    nginx_binary: str = "nginx"
    rtmp_module: Path = Path("/usr/lib/nginx/modules/ngx_rtmp_module.so")
    ffmpeg_binary: str = "ffmpeg"
    ffprobe_binary: str = "ffprobe"
    nginx_prefix: Path | None = None
    """nginx's prefix (config, logs, HLS, raw recordings). Default: `var/nginx`."""
    rtmp_bind: str = "127.0.0.1"
    rtmp_port: int = Field(default=1935, ge=1, le=65535)
    http_bind: str = "127.0.0.1"
    http_port: int = Field(default=8088, ge=1, le=65535)
    public_rtmp_url: str | None = None
    """What hosts put in OBS, e.g. `rtmp://live.example.com:1935/live`."""
    public_hls_url: str | None = None
    """Where viewers fetch segments, e.g. `https://hls.example.com/hls`."""
    callback_url: str | None = None
    """How nginx reaches liveloop (default: `LIVELOOP_PUBLIC_BASE_URL`)."""
    callback_secret: SecretStr | None = None
    callback_addresses: str = "127.0.0.1/32,::1/128"
    grace_seconds: float = Field(default=30.0, ge=0)
    update_seconds: int = Field(default=5, ge=1, le=3600)
    ladder: str = "auto"
    """Extra live renditions: `auto` (360p when ffmpeg keeps up), `none`, or e.g. `360p`."""
    max_upload_bytes: int = Field(default=200 * 1024 * 1024, ge=1024)
    max_upload_seconds: float = Field(default=180.0, gt=0)
    video_heights: str = "720,360"
    transcode_concurrency: int = Field(default=1, ge=1, le=16)

    def resolve(self, settings: Settings, **overrides: Any) -> MediaConfig:
        prefix = (self.nginx_prefix or settings.var_dir / "nginx").absolute()
        secret = (
            self.callback_secret.get_secret_value()
            if self.callback_secret
            else derive_callback_secret(settings.resolved_secret_key())
        )
        rtmp_host = "127.0.0.1" if self.rtmp_bind in ("0.0.0.0", "::") else self.rtmp_bind
        http_host = "127.0.0.1" if self.http_bind in ("0.0.0.0", "::") else self.http_bind
        config = MediaConfig(
            prefix=prefix,
            media_dir=settings.media_dir.absolute(),
            work_dir=(settings.var_dir / "media-work").absolute(),
            nginx_binary=self.nginx_binary,
            rtmp_module=self.rtmp_module,
            ffmpeg=self.ffmpeg_binary,
            ffprobe=self.ffprobe_binary,
            rtmp_bind=self.rtmp_bind,
            rtmp_port=self.rtmp_port,
            http_bind=self.http_bind,
            http_port=self.http_port,
            public_rtmp_url=(
                self.public_rtmp_url or f"rtmp://{rtmp_host}:{self.rtmp_port}/{RTMP_APP}"
            ).rstrip("/"),
            public_hls_url=(
                self.public_hls_url or f"http://{http_host}:{self.http_port}/hls"
            ).rstrip("/"),
            public_base_url=settings.public_base_url.rstrip("/"),
            callback_url=(self.callback_url or settings.public_base_url).rstrip("/"),
            callback_secret=secret,
            callback_networks=parse_networks(self.callback_addresses),
            grace=timedelta(seconds=self.grace_seconds),
            update_seconds=self.update_seconds,
            ladder=parse_ladder(self.ladder),
            max_upload_bytes=self.max_upload_bytes,
            max_upload_seconds=self.max_upload_seconds,
            video_heights=tuple(int(h) for h in self.video_heights.split(",") if h.strip()),
            transcode_concurrency=self.transcode_concurrency,
        )
        return replace(config, **overrides) if overrides else config


@dataclass(frozen=True, slots=True)
class MediaConfig:
    """Concrete media settings for one process (paths absolute, defaults filled in)."""

    prefix: Path
    media_dir: Path
    work_dir: Path
    callback_secret: str
    nginx_binary: str = "nginx"
    rtmp_module: Path = Path("/usr/lib/nginx/modules/ngx_rtmp_module.so")
    ffmpeg: str = "ffmpeg"
    ffprobe: str = "ffprobe"
    rtmp_bind: str = "127.0.0.1"
    rtmp_port: int = 1935
    http_bind: str = "127.0.0.1"
    http_port: int = 8088
    public_rtmp_url: str = "rtmp://127.0.0.1:1935/live"
    public_hls_url: str = "http://127.0.0.1:8088/hls"
    public_base_url: str = "http://127.0.0.1:8000"
    callback_url: str = "http://127.0.0.1:8000"
    callback_networks: tuple[IpNetwork, ...] = field(
        default_factory=lambda: parse_networks("127.0.0.1/32,::1/128")
    )
    grace: timedelta = timedelta(seconds=30)
    update_seconds: int = 5
    ladder: tuple[Rendition, ...] | None = None
    """None means "decide by measuring ffmpeg" (see `nginx.measure_ladder`)."""
    max_upload_bytes: int = 200 * 1024 * 1024
    max_upload_seconds: float = 180.0
    video_heights: tuple[int, ...] = (720, 360)
    transcode_concurrency: int = 1
    hls_fragment_seconds: int = 1
    hls_playlist_seconds: int = 6

    @property
    def hls_dir(self) -> Path:
        return self.prefix / "hls"

    @property
    def source_hls_dir(self) -> Path:
        return self.hls_dir / "src"

    @property
    def ladder_hls_dir(self) -> Path:
        return self.hls_dir / LADDER_APP

    @property
    def recordings_dir(self) -> Path:
        return self.prefix / "recordings"

    @property
    def conf_path(self) -> Path:
        return self.prefix / "conf" / "nginx.conf"

    @property
    def rtmp_local_url(self) -> str:
        """How processes on this machine reach nginx's RTMP server."""
        host = "127.0.0.1" if self.rtmp_bind in ("0.0.0.0", "::") else self.rtmp_bind
        return f"rtmp://{host}:{self.rtmp_port}"

    @property
    def stale_after(self) -> timedelta:
        """A publisher not heard of for this long is gone (nginx reports every update_seconds)."""
        return timedelta(seconds=self.update_seconds * 3 + 2)

    def ffmpeg_path(self) -> str | None:
        return shutil.which(self.ffmpeg)

    def nginx_path(self) -> str | None:
        return shutil.which(self.nginx_binary) or (
            self.nginx_binary if os.access(self.nginx_binary, os.X_OK) else None
        )


def derive_callback_secret(secret_key: str) -> str:
    """The nginx callback secret, derived from the app's secret key so it needs no setting."""
    return hmac.new(secret_key.encode(), b"liveloop-media-callback", hashlib.sha256).hexdigest()[
        :32
    ]


def parse_networks(value: str) -> tuple[IpNetwork, ...]:
    return tuple(ipaddress.ip_network(part.strip()) for part in value.split(",") if part.strip())


def parse_ladder(value: str) -> tuple[Rendition, ...] | None:
    value = value.strip().lower()
    if value == "auto":
        return None
    if value in ("", "none", "source"):
        return ()
    names = [part.strip() for part in value.split(",") if part.strip()]
    unknown = [n for n in names if n not in RENDITIONS]
    if unknown:
        raise ValueError(f"unknown renditions {unknown}; known: {sorted(RENDITIONS)}")
    return tuple(RENDITIONS[n] for n in names)
