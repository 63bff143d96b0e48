"""liveloop's own nginx: its configuration (RTMP ingest, HLS, recording, callbacks to liveloop)
and `MediaServer`, which runs it as a child process."""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType

from liveloop.media.config import LADDER_APP, RENDITIONS, RTMP_APP, MediaConfig, Rendition

CALLBACK_PATH = "/api/v1/media/rtmp"
CALLBACKS = {
    "on_publish": "on-publish",
    "on_publish_done": "on-publish-done",
    "on_update": "on-update",
    "on_record_done": "on-record-done",
}


class MediaServerError(RuntimeError):
    pass


def missing_tools(config: MediaConfig) -> list[str]:
    """What this machine lacks to run the media server (empty when it can)."""
    missing = []
    if config.nginx_path() is None:
        missing.append(f"nginx ({config.nginx_binary})")
    if not config.rtmp_module.exists():
        missing.append(f"the nginx RTMP module ({config.rtmp_module})")
    if config.ffmpeg_path() is None:
        missing.append(f"ffmpeg ({config.ffmpeg})")
    return missing


def callback_url(config: MediaConfig, name: str) -> str:
    return f"{config.callback_url}{CALLBACK_PATH}/{CALLBACKS[name]}?secret={config.callback_secret}"


@functools.cache
def _measured_ladder(ffmpeg: str) -> tuple[Rendition, ...]:
    """Transcode 4 s of 720p to 360p as the live ladder would; keep the 360p rendition only when
    ffmpeg runs at least 4x faster than real time, leaving room for the source and the rest."""
    seconds = 4
    args = [
        ffmpeg, "-hide_banner", "-loglevel", "error", "-f", "lavfi",
        "-i", f"testsrc2=size=1280x720:rate=30:duration={seconds}",
        "-vf", "scale=-2:360", "-c:v", "libx264", "-preset", "veryfast", "-tune", "zerolatency",
        "-threads", "1", "-f", "null", "-",
    ]  # fmt: skip
    started = time.perf_counter()
    try:
        subprocess.run(args, check=True, capture_output=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return ()
    speed = seconds / (time.perf_counter() - started)
    return (RENDITIONS["360p"],) if speed >= 4 else ()


def ladder_for(config: MediaConfig) -> tuple[Rendition, ...]:
    if config.ladder is not None:
        return config.ladder
    ffmpeg = config.ffmpeg_path()
    return _measured_ladder(ffmpeg) if ffmpeg else ()


def _transcoder(config: MediaConfig, rendition: Rendition, ffmpeg: str) -> str:
    # Keeps the source's timestamps and keyframes, so segments of every rendition start at the
    # same moments and carry the same program date-times (within the ~50 ms ffmpeg adds).
    source = f"{config.rtmp_local_url}/{RTMP_APP}/$name"
    target = f"{config.rtmp_local_url}/{LADDER_APP}/$name_{rendition.name}"
    return " ".join(
        [
            ffmpeg, "-hide_banner", "-loglevel", "error", "-fflags", "nobuffer",
            "-i", source,
            "-copyts", "-map", "0:v:0", "-map", "0:a:0?",
            "-vf", f"scale=-2:{rendition.height}", "-c:v", "libx264", "-preset", "veryfast",
            "-tune", "zerolatency", "-pix_fmt", "yuv420p", "-threads", "1",
            "-force_key_frames", "source",
            "-sc_threshold", "0", "-b:v", f"{rendition.video_kbps}k",
            "-maxrate", f"{rendition.video_kbps * 12 // 10}k",
            "-bufsize", f"{rendition.video_kbps * 2}k",
            "-c:a", "aac", "-b:a", f"{rendition.audio_kbps}k", "-f", "flv", target,
        ]
    )  # fmt: skip


def render(config: MediaConfig, ladder: tuple[Rendition, ...] | None = None) -> str:
    """nginx.conf for liveloop's media server; every path is under `config.prefix`."""
    ladder = ladder_for(config) if ladder is None else ladder
    p = config.prefix
    ffmpeg = config.ffmpeg_path() or config.ffmpeg
    hls = [
        "            hls on;",
        "            hls_nested on;",
        f"            hls_fragment {config.hls_fragment_seconds}s;",
        f"            hls_playlist_length {config.hls_playlist_seconds}s;",
        "            # segment names are the wall-clock ms of their first frame: the program",
        "            # date-time liveloop adds to the playlists it serves",
        "            hls_fragment_naming system;",
        "            # a reconnect in the grace period continues the same playlist",
        "            hls_continuous on;",
    ]
    lines = [
        "# nginx for liveloop's live video, written by `liveloop media serve`",
        "# (print it with `liveloop media nginx-config`); edits here are overwritten.",
        f"load_module {config.rtmp_module};",
        "daemon off;",
        "# one worker: nginx-rtmp keeps each live stream inside the worker that received it",
        "worker_processes 1;",
    ]
    if os.geteuid() == 0:
        lines += [
            "# started as root: workers keep root's rights to write under liveloop's var dir",
            "# (run liveloop as an unprivileged user in production)",
            "user root;",
        ]
    lines += [
        f"pid {p}/logs/nginx.pid;",
        f"error_log {p}/logs/error.log notice;",
        "",
        "events {",
        "    worker_connections 1024;",
        "}",
        "",
        "rtmp {",
        "    server {",
        f"        listen {config.rtmp_bind}:{config.rtmp_port};",
        "        chunk_size 4096;",
        "",
        "        # hosts publish rtmp://HOST:PORT/live/<session id>?key=<secret>; liveloop checks",
        "        # the key in on_publish and nginx drops the publisher on any non-2xx answer",
        f"        application {RTMP_APP} {{",
        "            live on;",
        "            drop_idle_publisher 10s;",
        "            allow play 127.0.0.1;",
        "            deny play all;",
        f"            on_publish {callback_url(config, 'on_publish')};",
        f"            on_update {callback_url(config, 'on_update')};",
        f"            on_publish_done {callback_url(config, 'on_publish_done')};",
        f"            on_record_done {callback_url(config, 'on_record_done')};",
        f"            notify_update_timeout {config.update_seconds}s;",
        f"            hls_path {config.source_hls_dir};",
        *hls,
        "            record all;",
        f"            record_path {config.recordings_dir};",
        "            record_unique on;",
    ]
    for rendition in ladder:
        lines.append(f"            exec_push {_transcoder(config, rendition, ffmpeg)};")
    lines += ["        }"]
    if ladder:
        lines += [
            "",
            "        # lower renditions, published by the ffmpeg above and nobody else",
            f"        application {LADDER_APP} {{",
            "            live on;",
            "            allow publish 127.0.0.1;",
            "            deny publish all;",
            "            deny play all;",
            f"            hls_path {config.ladder_hls_dir};",
            *hls,
            "        }",
        ]
    lines += [
        "    }",
        "}",
        "",
        "http {",
        "    access_log off;",
        f"    client_body_temp_path {p}/temp/client_body;",
        f"    proxy_temp_path {p}/temp/proxy;",
        f"    fastcgi_temp_path {p}/temp/fastcgi;",
        f"    uwsgi_temp_path {p}/temp/uwsgi;",
        f"    scgi_temp_path {p}/temp/scgi;",
        "    sendfile on;",
        "    types {",
        "        application/vnd.apple.mpegurl m3u8;",
        "        video/mp2t ts;",
        "    }",
        "    server {",
        f"        listen {config.http_bind}:{config.http_port};",
        "        location /hls/ {",
        f"            alias {config.hls_dir}/;",
        "            # players on liveloop's pages fetch segments from this other origin",
        "            add_header Access-Control-Allow-Origin * always;",
        "            add_header Cache-Control no-cache always;",
        "        }",
        "        location = /healthz {",
        "            return 200 'ok';",
        "        }",
        "    }",
        "}",
    ]
    return "\n".join(lines) + "\n"


class MediaServer:
    """nginx with the RTMP module, as a child process of liveloop (or of a test)."""

    def __init__(self, config: MediaConfig, *, ladder: tuple[Rendition, ...] | None = None):
        self.config = config
        self.ladder = ladder_for(config) if ladder is None else ladder
        self.process: subprocess.Popen[bytes] | None = None

    @staticmethod
    def is_available(config: MediaConfig) -> bool:
        return not missing_tools(config)

    def _nginx_args(self, *extra: str) -> list[str]:
        nginx = self.config.nginx_path()
        if nginx is None:
            raise MediaServerError(f"nginx is not installed ({self.config.nginx_binary})")
        p = str(self.config.prefix)
        conf = str(self.config.conf_path)
        return [nginx, "-p", p + "/", "-e", f"{p}/logs/error.log", "-c", conf, *extra]

    def prepare(self) -> Path:
        """Create nginx's directories and write its configuration."""
        c = self.config
        for directory in (
            c.conf_path.parent,
            c.prefix / "logs",
            c.prefix / "temp",
            c.source_hls_dir,
            c.ladder_hls_dir,
            c.recordings_dir,
        ):
            directory.mkdir(parents=True, exist_ok=True)
        c.conf_path.write_text(render(c, self.ladder))
        c.conf_path.chmod(0o600)  # it holds the callback secret
        return c.conf_path

    def check(self) -> None:
        self.prepare()
        result = subprocess.run(self._nginx_args("-t"), capture_output=True, timeout=30)
        if result.returncode != 0:
            raise MediaServerError(result.stderr.decode(errors="replace").strip())

    def start(self, timeout: float = 15.0) -> None:
        if self.process is not None and self.process.poll() is None:
            return
        busy = [
            port
            for host, port in (
                (self.config.rtmp_bind, self.config.rtmp_port),
                (self.config.http_bind, self.config.http_port),
            )
            if _accepts(host, port)
        ]
        if busy:
            raise MediaServerError(f"another process listens on port(s) {busy}")
        self.check()
        self.process = subprocess.Popen(
            self._nginx_args(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,  # Ctrl-C in a terminal reaches liveloop, which stops nginx
            preexec_fn=_die_with_parent,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise MediaServerError(f"nginx exited at start: {self.error_log_tail()}")
            if _accepts(self.config.rtmp_bind, self.config.rtmp_port) and _accepts(
                self.config.http_bind, self.config.http_port
            ):
                return
            time.sleep(0.05)
        self.stop()
        raise MediaServerError(f"nginx did not open its ports in {timeout}s")

    def stop(self, timeout: float = 10.0) -> None:
        """Graceful stop (QUIT), then TERM, then KILL if nginx lingers."""
        process, self.process = self.process, None
        if process is None:
            self.stop_leftover()
            return
        if process.poll() is not None:
            return
        for sig, wait in ((signal.SIGQUIT, timeout / 2), (signal.SIGTERM, timeout / 2)):
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(sig)
            try:
                process.wait(wait)
                break
            except subprocess.TimeoutExpired:
                continue
        else:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        if process.stderr is not None:
            process.stderr.close()

    def stop_leftover(self) -> None:
        """Stop an nginx of this prefix that we hold no handle to (an interrupt came between its
        start and our keeping the handle): found by its pid file, stopped only if that process
        is really this prefix's nginx."""
        pid_file = self.config.prefix / "logs" / "nginx.pid"
        try:
            pid = int(pid_file.read_text().strip())
            command = Path(f"/proc/{pid}/cmdline").read_bytes()
        except (OSError, ValueError):
            return
        if str(self.config.prefix).encode() in command:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGQUIT)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def wait(self) -> int:
        assert self.process is not None
        return self.process.wait()

    def error_log_tail(self, lines: int = 20) -> str:
        path = self.config.prefix / "logs" / "error.log"
        try:
            return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def __enter__(self) -> MediaServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def _accepts(host: str, port: int) -> bool:
    target = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.2)
        return sock.connect_ex((target, port)) == 0


def free_port() -> int:
    """A TCP port nobody listens on right now (for tests and benchmarks)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def remove_stream_files(config: MediaConfig, stream_name: str) -> None:
    """Delete a finished stream's HLS directories (every rendition)."""
    shutil.rmtree(config.source_hls_dir / stream_name, ignore_errors=True)
    for rendition in RENDITIONS:
        shutil.rmtree(config.ladder_hls_dir / f"{stream_name}_{rendition}", ignore_errors=True)


def _die_with_parent() -> None:
    """On Linux, nginx gets SIGTERM when liveloop ends without stopping it (killed, crashed),
    so no orphaned nginx keeps the ports."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
