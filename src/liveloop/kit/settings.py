"""Process-wide configuration, read from `LIVELOOP_*` environment variables and `.env`."""

from __future__ import annotations

import secrets
from enum import StrEnum
from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Environment(StrEnum):
    development = "development"
    test = "test"
    production = "production"


class Settings(BaseSettings):
    """Every setting liveloop reads; see the configuration table in README.md."""

    model_config = SettingsConfigDict(env_prefix="LIVELOOP_", env_file=".env", extra="ignore")

    env: Environment = Environment.development
    var_dir: Path = Path("var")
    database_url: str = ""
    redis_url: str | None = None
    secret_key: SecretStr | None = None
    public_base_url: str = "http://127.0.0.1:8000"
    media_dir: Path = Path("var/media")
    log_level: str = "INFO"
    log_json: bool = True
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    session_ttl_hours: int = Field(default=24 * 30, ge=1)
    login_attempts_per_account: str = "5/minute"
    login_attempts_per_address: str = "30/minute"
    realtime_max_connections: int = Field(default=20_000, ge=1)
    realtime_max_room_connections: int = Field(default=20_000, ge=1)
    realtime_replay_size: int = Field(default=512, ge=16)
    realtime_send_queue: int = Field(default=256, ge=8)
    realtime_viewers_interval: float = Field(default=5.0, gt=0)
    demo_host: bool = False
    """Run the demo host who pins products and starts flash sales in the demo room (`make run`)."""
    outbox_in_process: bool | None = None
    """Deliver domain events inside the API process. Defaults to on without Redis, off with it
    (then `liveloop worker` delivers them)."""

    @model_validator(mode="after")
    def _defaults(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite+aiosqlite:///{(self.var_dir / 'liveloop.db').as_posix()}"
        if self.env is Environment.production and self.secret_key is None:
            raise ValueError("LIVELOOP_SECRET_KEY is required when LIVELOOP_ENV=production")
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def deliver_events_in_process(self) -> bool:
        if self.outbox_in_process is not None:
            return self.outbox_in_process
        return self.redis_url is None

    def resolved_secret_key(self) -> str:
        """The signing secret; in development it is generated once into `var/secret_key`."""
        if self.secret_key is not None:
            return self.secret_key.get_secret_value()
        path = self.var_dir / "secret_key"
        if path.exists():
            return path.read_text().strip()
        self.var_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        path.write_text(key)
        path.chmod(0o600)
        return key


@lru_cache
def get_settings() -> Settings:
    return Settings()
