"""Automatic persisted queries, as Apollo's persisted-queries link speaks them.

A client first sends only `extensions.persistedQuery {version: 1, sha256Hash}`. An unknown hash is
answered with the error PersistedQueryNotFound (code PERSISTED_QUERY_NOT_FOUND); the client then
sends the query with its hash, which is checked and stored. From then on the hash alone will do,
over POST or GET, so a mobile screen's request is a few dozen bytes and a GET can be cached.

The store is an in-memory LRU, or Redis when REDIS_URL is set, so every worker and every restart
shares what was registered. Only documents that parse are stored (the view stores after
execution), so the store cannot be filled with junk cheaper than a real request.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections import OrderedDict
from typing import Any, Protocol

from schema.http.params import GraphQLParams, HttpError

log = logging.getLogger("videolib")

NOT_FOUND_MESSAGE = "PersistedQueryNotFound"
NOT_FOUND_CODE = "PERSISTED_QUERY_NOT_FOUND"
REDIS_PREFIX = "videolib:apq:"
REDIS_TTL_SECONDS = 7 * 24 * 3600


class PersistedQueryNotFound(Exception):
    """The client must send the query with its hash: answered as a GraphQL error, not a refusal."""


class Store(Protocol):
    async def get(self, digest: str) -> str | None: ...

    async def put(self, digest: str, query: str) -> None: ...

    async def close(self) -> None: ...


class MemoryStore:
    def __init__(self, max_entries: int = 2_000) -> None:
        self.max_entries = max_entries
        self.queries: OrderedDict[str, str] = OrderedDict()

    async def get(self, digest: str) -> str | None:
        query = self.queries.get(digest)
        if query is not None:
            self.queries.move_to_end(digest)
        return query

    async def put(self, digest: str, query: str) -> None:
        self.queries[digest] = query
        self.queries.move_to_end(digest)
        while len(self.queries) > self.max_entries:
            self.queries.popitem(last=False)

    async def close(self) -> None:
        pass


class RedisStore:
    def __init__(self, url: str) -> None:
        import redis.asyncio as redis

        self.redis: Any = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)

    async def get(self, digest: str) -> str | None:
        value = await self.redis.get(REDIS_PREFIX + digest)
        return value.decode() if value is not None else None

    async def put(self, digest: str, query: str) -> None:
        # Refreshed on every registration, so the queries clients still send stay.
        await self.redis.set(REDIS_PREFIX + digest, query.encode(), ex=REDIS_TTL_SECONDS)

    async def close(self) -> None:
        await self.redis.aclose()


def make_store(redis_url: str | None) -> Store:
    return RedisStore(redis_url) if redis_url else MemoryStore()


def sha256(query: str) -> str:
    return hashlib.sha256(query.encode()).hexdigest()


class PersistedQueries:
    # After the store fails, it is left alone this long: a Redis that hangs would otherwise add
    # its timeout to every request (the clients just send their queries in full meanwhile).
    BACK_OFF_SECONDS = 5.0

    def __init__(self, store: Store) -> None:
        self.store = store
        self.down_until = 0.0

    def _available(self) -> bool:
        return time.monotonic() >= self.down_until

    def _failed(self) -> None:
        log.warning("persisted query store unavailable", exc_info=True)
        self.down_until = time.monotonic() + self.BACK_OFF_SECONDS

    @staticmethod
    def requested_hash(params: GraphQLParams) -> str | None:
        extension = (params.extensions or {}).get("persistedQuery")
        if extension is None:
            return None
        if not isinstance(extension, dict):
            raise HttpError(400, "extensions.persistedQuery must be an object")
        if extension.get("version") != 1:
            raise HttpError(400, "Unsupported persisted query version: only version 1 is supported")
        digest = extension.get("sha256Hash")
        if not isinstance(digest, str) or len(digest) != 64:
            raise HttpError(400, "extensions.persistedQuery.sha256Hash must be a SHA-256 hex digest")
        return digest.lower()

    async def resolve(self, params: GraphQLParams) -> tuple[GraphQLParams, str | None]:
        """The params with their query filled in from the store, and the hash to store the query
        under once it has run (None when there is nothing to store)."""
        digest = self.requested_hash(params)
        if digest is None:
            return params, None
        if params.query is None:
            query = None
            if self._available():
                try:
                    query = await self.store.get(digest)
                except Exception:  # a store that is down means "send the query", never a failure
                    self._failed()
            if query is None:
                raise PersistedQueryNotFound
            return GraphQLParams(query, params.variables, params.operation_name, params.extensions), None
        if sha256(params.query) != digest:
            raise HttpError(400, "provided sha256Hash does not match the query")
        return params, digest

    async def close(self) -> None:
        await self.store.close()

    async def remember(self, digest: str, query: str) -> None:
        if not self._available():
            return
        try:
            await self.store.put(digest, query)
        except Exception:
            self._failed()
