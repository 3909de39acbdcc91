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
        # Written aside and linked into place: a process starting at the same moment sees either
        # no file or the whole key, and exactly one key wins (link fails when the file exists).
        draft = path.with_name(f"{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(48))
        try:
            os.link(draft, path)
            log.warning(
                "%s is not set: generated a secret key in %s (mode 0600). Set %s in production.",
                SECRET_ENV,
                path,
                SECRET_ENV,
            )
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    key = path.read_text().strip()
    if len(key) < MIN_SECRET_LENGTH:
        raise ConfigError(f"{path} holds no usable secret key: delete it to have a new one generated")
    return key.encode()


def load_settings(url: str | None = None) -> Settings:
    config = parse_url(url or database_url())
    return Settings(database=config, secret_key=load_secret(config))
