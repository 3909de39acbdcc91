"""What is known about the request being served, for logs, errors and metrics.

Held in a context variable: every task a request spawns (resolvers, dataloader batches, the
greenlets peewee's async API runs statements in) copies the context, so they all see the same
object and its statement counter.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from contextvars import ContextVar
from dataclasses import dataclass, field

from models.database import StatementBudget

_CLIENT_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


@dataclass
class RequestInfo:
    request_id: str
    method: str
    path: str
    started: float = field(default_factory=time.perf_counter)
    operation_name: str | None = None
    operation_type: str | None = None
    # Shared, not copied, by the tasks of the request: counts, times and bounds its statements.
    statements: StatementBudget = field(default_factory=StatementBudget)
    error_codes: list[str] = field(default_factory=list)

    @property
    def statement_count(self) -> int:
        return self.statements.count


current_request: ContextVar[RequestInfo | None] = ContextVar("current_request", default=None)


def request_id_from(header: str | None) -> str:
    """A caller's (or proxy's) X-Request-ID is kept when it is a plain token, so one id follows a
    request across services; anything else is replaced, so logs never carry what a client typed."""
    if header and _CLIENT_ID.fullmatch(header):
        return header
    return uuid.uuid4().hex


def current_request_id() -> str | None:
    info = current_request.get()
    return info.request_id if info is not None else None


def install_log_request_ids() -> None:
    """Every log record gets `request_id` ("-" outside a request), for formats that show it."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, "adds_request_id", False):
        return

    def factory(*args: object, **kwargs: object) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        record.request_id = current_request_id() or "-"
        return record

    factory.adds_request_id = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)
