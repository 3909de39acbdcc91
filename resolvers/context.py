"""The per-request context: who is asking, and fresh dataloaders for them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request

from resolvers.accounts.throttle import LoginThrottle
from resolvers.accounts.viewer import Viewer, authenticate
from resolvers.config import Settings
from resolvers.gate import QuietGate
from resolvers.loaders import Loaders


@dataclass
class Context:
    request: Request | None
    settings: Settings
    db: Any
    viewer: Viewer | None = None
    loaders: Loaders = field(init=False)
    gate: QuietGate = field(default_factory=QuietGate)
    # The app's one throttle, shared by all its requests; None: login is not throttled.
    throttle: LoginThrottle | None = None

    def __post_init__(self) -> None:
        self.loaders = Loaders.build(self.db, None, self.settings.secret_key)

    async def authenticate(self) -> None:
        """Load the viewer from the Authorization header (one statement when there is a token)."""
        header = self.request.headers.get("authorization") if self.request is not None else None
        self.viewer = await authenticate(self.db, self.settings.secret_key, header)
        self.loaders = Loaders.build(self.db, self.viewer, self.settings.secret_key)

    def sign_in(self, viewer: Viewer | None) -> None:
        """After register/login (or logout): the rest of this request sees the new viewer."""
        self.viewer = viewer
        self.loaders = Loaders.build(self.db, viewer, self.settings.secret_key)

    def forget_loaded(self) -> None:
        """After a write: later reads in this request must not see rows cached before it."""
        self.loaders = Loaders.build(self.db, self.viewer, self.settings.secret_key)
