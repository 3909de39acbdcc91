"""Process settings read from the environment once, at start-up."""

from __future__ import annotations

import logging
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from models.database import ConfigError, DatabaseConfig, database_url, parse_url

log = logging.getLogger("videolib")

SECRET_ENV = "VIDEOLIB_SECRET_KEY"
MIN_SECRET_LENGTH = 32


@dataclass(frozen=True)
class Settings:
    database: DatabaseConfig
    secret_key: bytes
    token_ttl_seconds: int = 30 * 24 * 3600
    # What one request may send; what it may ask for is capped in schema/api.py and schema/limits.py.
    max_body_bytes: int = 256 * 1024


def _secret_file(config: DatabaseConfig) -> Path:
    path = Path(config.name).expanduser().resolve()
    return path.with_name(path.name + ".secret")


def load_secret(config: DatabaseConfig) -> bytes:
    value = os.environ.get(SECRET_ENV, "")
    if value:
        if len(value) < MIN_SECRET_LENGTH:
            raise ConfigError(f"{SECRET_ENV} must be at least {MIN_SECRET_LENGTH} characters long")
        return value.encode()
    if not config.is_sqlite or config.name == ":memory:":
        if config.is_sqlite:
            # A throwaway in-memory database gets a throwaway key.
            return secrets.token_urlsafe(48).encode()
        raise ConfigError(f"{SECRET_ENV} is required when DATABASE_URL is not SQLite")
    path = _secret_file(config)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        # O_EXCL: two processes starting at once must not write two different keys.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_urlsafe(48))
            log.warning(
                "%s is not set: generated a secret key in %s (mode 0600). Set %s in production.",
                SECRET_ENV,
                path,
                SECRET_ENV,
            )
    return path.read_text().strip().encode()


def load_settings(url: str | None = None) -> Settings:
    config = parse_url(url or database_url())
    return Settings(database=config, secret_key=load_secret(config))
