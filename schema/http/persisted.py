"""Automatic persisted queries, as Apollo's persisted-queries link speaks them.

A client first sends only `extensions.persistedQuery {version: 1, sha256Hash}`. An unknown hash is
answered with the error PersistedQueryNotFound (code PERSISTED_QUERY_NOT_FOUND); the client then
sends the query with its hash, which is checked and stored. From then on the hash alone will do,
over POST or GET, so a mobile screen's request is a few dozen bytes and a GET can be cached.

The store is an in-memory LRU, or Redis when REDIS_URL is set, so every worker and every restart
shares what was registered. Either is bounded (resolvers/config.py PersistedLimits): a document
over max_document_bytes is refused, not stored; the LRU holds at most memory_bytes and
max_entries; Redis holds at most max_entries, each for ttl_seconds after its last use. Only
documents that parse and validate are stored (the view stores after execution), so the store
cannot be filled with junk cheaper than a real request, nor with what would only be refused again.
"""

from __future__ import annotations

import hashlib
import logging
import sys
import time
from collections import OrderedDict
from typing import Any, Protocol

from resolvers.config import PersistedLimits, Settings
from schema.http.params import GraphQLParams, HttpError

log = logging.getLogger("videolib")

NOT_FOUND_MESSAGE = "PersistedQueryNotFound"
NOT_FOUND_CODE = "PERSISTED_QUERY_NOT_FOUND"
DEFAULT_LIMITS = PersistedLimits()


class PersistedQueryNotFound(Exception):
    """The client must send the query with its hash: answered as a GraphQL error, not a refusal."""


class Store(Protocol):
    async def get(self, digest: str) -> str | None: ...

    async def put(self, digest: str, query: str) -> None: ...

    async def close(self) -> None: ...


class MemoryStore:
    """An LRU bounded in entries and in bytes: the least recently used go first until both hold."""

    # The OrderedDict's own share of an entry (hash slot, entry, list links): measured with
    # tracemalloc at 106 to 122 bytes once entries come and go (its tables grow by doubling and
    # keep deleted slots until they do), rounded up.
    ENTRY_OVERHEAD = 160

    def __init__(
        self, max_entries: int = DEFAULT_LIMITS.max_entries, max_bytes: int = DEFAULT_LIMITS.memory_bytes
    ) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.queries: OrderedDict[str, str] = OrderedDict()
        self.bytes = 0

    @classmethod
    def cost(cls, digest: str, query: str) -> int:
        """What an entry holds in memory: both strings as Python keeps them (header included,
        and 2 or 4 bytes a character once the text holds one beyond Latin-1), plus the LRU's share."""
        return sys.getsizeof(digest) + sys.getsizeof(query) + cls.ENTRY_OVERHEAD

    async def get(self, digest: str) -> str | None:
        query = self.queries.get(digest)
        if query is not None:
            self.queries.move_to_end(digest)
        return query

    async def put(self, digest: str, query: str) -> None:
        cost = self.cost(digest, query)
        if cost > self.max_bytes:
            return  # it could only be stored by emptying the store, and would not fit even then
        old = self.queries.pop(digest, None)
        if old is not None:
            self.bytes -= self.cost(digest, old)
        self.queries[digest] = query
        self.bytes += cost
        while len(self.queries) > self.max_entries or self.bytes > self.max_bytes:
            evicted, text = self.queries.popitem(last=False)
            self.bytes -= self.cost(evicted, text)

    async def close(self) -> None:
        pass


# Redis keeps each document under <prefix><hash> with a TTL, and an index, <prefix>index, a sorted
# set of the hashes by last use (microseconds, from the server's clock). Both scripts run
# atomically, so concurrent workers never leave the index over max_entries or out of step with
# the documents, and the bound does not rely on the server's maxmemory-policy. (The evicted keys
# are named inside the script: fine for one Redis server, which is what REDIS_URL names.)
_NOW = "local t = redis.call('TIME') local now = t[1] .. string.format('%06d', t[2])"

# KEYS: document, index. ARGV: ttl seconds, hash. A hit refreshes the TTL and the last use.
GET_SCRIPT = f"""
local query = redis.call('GET', KEYS[1])
if query then
  {_NOW}
  redis.call('EXPIRE', KEYS[1], ARGV[1])
  redis.call('ZADD', KEYS[2], now, ARGV[2])
  redis.call('EXPIRE', KEYS[2], ARGV[1])
end
return query
"""

# KEYS: document, index. ARGV: query, ttl seconds, max entries, hash, prefix.
PUT_SCRIPT = f"""
{_NOW}
local ttl = tonumber(ARGV[2])
redis.call('SET', KEYS[1], ARGV[1], 'EX', ttl)
redis.call('ZADD', KEYS[2], now, ARGV[4])
-- Hashes unused for longer than the TTL: their documents have expired (or are deleted here).
local cutoff = '(' .. (tonumber(t[1]) - ttl) .. string.format('%06d', t[2])
local stale = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', cutoff)
for _, digest in ipairs(stale) do redis.call('DEL', ARGV[5] .. digest) end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', cutoff)
-- Then the least recently used, until max_entries are left.
local over = redis.call('ZCARD', KEYS[2]) - tonumber(ARGV[3])
if over > 0 then
  local oldest = redis.call('ZRANGE', KEYS[2], 0, over - 1)
  for _, digest in ipairs(oldest) do redis.call('DEL', ARGV[5] .. digest) end
  redis.call('ZREMRANGEBYRANK', KEYS[2], 0, over - 1)
end
redis.call('EXPIRE', KEYS[2], ttl)
return over
"""


class RedisStore:
    def __init__(self, url: str, limits: PersistedLimits = DEFAULT_LIMITS) -> None:
        import redis.asyncio as redis

        self.redis: Any = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self.limits = limits
        self.prefix = limits.redis_prefix
        self.index = self.prefix + "index"
        self._get = self.redis.register_script(GET_SCRIPT)
        self._put = self.redis.register_script(PUT_SCRIPT)

    async def get(self, digest: str) -> str | None:
        args: list[bytes | str | int] = [self.limits.ttl_seconds, digest]
        value = await self._get(keys=[self.prefix + digest, self.index], args=args)
        return value.decode() if value is not None else None

    async def put(self, digest: str, query: str) -> None:
        bounds = [self.limits.ttl_seconds, self.limits.max_entries]
        args: list[bytes | str | int] = [query.encode(), *bounds, digest, self.prefix]
        await self._put(keys=[self.prefix + digest, self.index], args=args)

    async def close(self) -> None:
        await self.redis.aclose()


def make_store(settings: Settings) -> Store:
    limits = settings.persisted
    if settings.redis_url:
        return RedisStore(settings.redis_url, limits)
    return MemoryStore(limits.max_entries, limits.memory_bytes)


class PersistedQueries:
    # After the store fails, it is left alone this long: a Redis that hangs would otherwise add
    # its timeout to every request (the clients just send their queries in full meanwhile).
    BACK_OFF_SECONDS = 5.0

    def __init__(self, store: Store, max_document_bytes: int = DEFAULT_LIMITS.max_document_bytes) -> None:
        self.store = store
        self.max_document_bytes = max_document_bytes
        self.down_until = 0.0

    @classmethod
    def for_settings(cls, settings: Settings) -> PersistedQueries:
        return cls(make_store(settings), settings.persisted.max_document_bytes)

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
        text = params.query.encode()
        if len(text) > self.max_document_bytes:
            # Refused rather than run unstored: a client that is told nothing would send it in
            # full forever. Comments are free of VIDEOLIB_MAX_TOKENS, so without this one request
            # could store a document as big as the body limit.
            raise HttpError(
                400,
                f"This persisted query is {len(text)} bytes, more than the {self.max_document_bytes} "
                "the server stores (VIDEOLIB_PERSISTED_MAX_DOCUMENT_BYTES): "
                "send it without extensions.persistedQuery",
            )
        if hashlib.sha256(text).hexdigest() != digest:
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
