"""The floor: the screens without GraphQL, ORM or dataloaders, to compare the real server with.

A minimal Starlette app that answers the home, category and player screens by issuing the same
batched statements the server issues (the same joins, the same ROW_NUMBER() window for first pages,
the same GROUP BY for reaction counts, the same viewer look-ups, one after another on one
connection), building the answer's `data` by hand and encoding it with orjson. What the real
server takes beyond this is what the framework costs: parsing and validating the document,
resolving some 13,000 fields one by one, the ORM's row objects, the access log.

It serves the benchmark's viewer (a member) only: admins see drafts, which it does not handle.

    DATABASE_URL=... VIDEOLIB_SECRET_KEY=... python -m benchmarks.floor --port 8001 --workers 2
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import datetime as dt
import hashlib
import hmac
import os
import sys
from collections.abc import AsyncIterator, Sequence
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from models.database import MYSQL_CONVERTERS, DatabaseConfig, parse_url

REACTION_TYPES = ("like", "love", "haha", "wow", "sad", "angry")
MAX_INT = 2**31 - 1
HOME_PAGE = 25
CATEGORY_PAGE = 50
PLAYER_MORE = 10
CONTINUE_WATCHING = 10
POOL_SIZE = 10  # the server's pool size per process (models.database.make_async_database)

Row = tuple[Any, ...]

# --- the database: one connection per request, plain SQL -----------------------------------


class Session:
    """The statements of one request, on one connection."""

    def __init__(self, conn: Any, sqlite: bool) -> None:
        self.conn = conn
        self.sqlite = sqlite
        self.statements = 0  # sent back in X-Statements, for the benchmark's table

    async def rows(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        self.statements += 1
        if self.sqlite:
            async with self.conn.execute(sql.replace("%s", "?"), tuple(params)) as cur:
                return list(await cur.fetchall())
        async with self.conn.cursor() as cur:
            await cur.execute(sql, tuple(params))
            return list(await cur.fetchall())


class Database:
    def __init__(self, config: DatabaseConfig) -> None:
        self.config = config
        self.pool: Any = None
        self.idle: asyncio.Queue[Any] = asyncio.Queue()

    async def open(self) -> None:
        if self.config.is_sqlite:
            import aiosqlite

            for _ in range(POOL_SIZE):
                conn = await aiosqlite.connect(self.config.name)
                await conn.execute("PRAGMA busy_timeout = 5000")
                self.idle.put_nowait(conn)
        else:
            import aiomysql

            c = self.config
            self.pool = await aiomysql.create_pool(
                host=c.host,
                port=c.port,
                user=c.user,
                password=c.password,
                db=c.name,
                charset="utf8mb4",
                # The server's driver set-up (its faster DATETIME parsing), so the floor is not
                # slower than the server for a reason that has nothing to do with GraphQL.
                conv=MYSQL_CONVERTERS,
                autocommit=True,
                minsize=1,
                maxsize=POOL_SIZE,
            )

    async def close(self) -> None:
        if self.pool is not None:
            self.pool.close()
            await self.pool.wait_closed()
        while not self.idle.empty():
            await self.idle.get_nowait().close()

    @contextlib.asynccontextmanager
    async def session(self) -> AsyncIterator[Session]:
        if self.config.is_sqlite:
            conn = await self.idle.get()
            try:
                yield Session(conn, sqlite=True)
            finally:
                self.idle.put_nowait(conn)
        else:
            async with self.pool.acquire() as conn:
                yield Session(conn, sqlite=False)


# --- what the answers are made of ----------------------------------------------------------


def _marks(values: Sequence[Any]) -> str:
    return ", ".join(["%s"] * len(values))


def _datetime(value: Any) -> dt.datetime:
    return value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(value)


def global_id(type_name: str, pk: int) -> str:
    return base64.b64encode(f"{type_name}:{pk}".encode()).decode()


def category_cursor(secret: bytes, view_count: int, created_at: Any, video_id: int, category_id: int) -> str:
    """resolvers.pagination.encode_cursor for a POPULAR page of one category, written out."""
    payload = orjson.dumps(
        ["POPULAR", [view_count, _datetime(created_at).isoformat()], video_id, f"category:{category_id}"]
    )
    sig = hmac.new(secret, b"cursor:" + payload, hashlib.sha256).digest()[:12]
    return base64.urlsafe_b64encode(sig + payload).decode().rstrip("=")


# Card columns: id, title, thumbnail_url, duration_seconds, view_count, created_at, category_id,
# uploader's display_name.
CARD_COLUMNS = (
    "v.id, v.title, v.thumbnail_url, v.duration_seconds, v.view_count, v.created_at, v.category_id, "
    "u.display_name"
)
VISIBLE = "v.published = 1 AND c.is_active = 1"


class Enrichment:
    """Reaction counts, the viewer's reactions and progress of a set of videos: three statements."""

    def __init__(self) -> None:
        self.counts: dict[int, dict[str, int]] = {}
        self.mine: dict[int, str] = {}
        self.progress: dict[int, Row] = {}

    @classmethod
    async def load(cls, s: Session, viewer_id: int, ids: list[int], progress: bool = True) -> Enrichment:
        e = cls()
        if not ids:
            return e
        marks = _marks(ids)
        for vid, kind, n in await s.rows(
            f"SELECT video_id, reaction_type, COUNT(id) FROM video_reactions WHERE video_id IN ({marks}) "
            "GROUP BY video_id, reaction_type",
            ids,
        ):
            e.counts.setdefault(vid, {})[kind] = n
        rows = await s.rows(
            "SELECT video_id, reaction_type FROM video_reactions "
            f"WHERE user_id = %s AND video_id IN ({marks})",
            [viewer_id, *ids],
        )
        e.mine = dict(rows)
        if progress:
            for row in await s.rows(
                "SELECT video_id, last_position, completed FROM video_progress "
                f"WHERE user_id = %s AND video_id IN ({marks})",
                [viewer_id, *ids],
            ):
                e.progress[row[0]] = row
        return e

    def card(self, row: Row, own_progress: Row | None = None) -> dict[str, Any]:
        vid = row[0]
        counts = self.counts.get(vid, {})
        mine = self.mine.get(vid)
        progress = own_progress or self.progress.get(vid)
        return {
            "id": global_id("Video", vid),
            "title": row[1],
            "thumbnailUrl": row[2],
            "durationSeconds": row[3],
            "viewCount": min(row[4], MAX_INT),
            "uploadedBy": {"displayName": row[7]},
            "reactions": {
                "total": sum(counts.values()),
                "viewerReaction": mine.upper() if mine else None,
                "counts": [{"type": k.upper(), "count": counts.get(k, 0)} for k in REACTION_TYPES],
            },
            "viewerProgress": (
                {"lastPosition": progress[1], "completed": bool(progress[2])} if progress else None
            ),
        }


async def first_pages(s: Session, category_ids: list[int], first: int) -> dict[int, list[Row]]:
    """The first `first` + 1 (look-ahead) POPULAR videos of each category, in one statement."""
    rows = await s.rows(
        f"SELECT {CARD_COLUMNS} FROM videos v JOIN users u ON u.id = v.uploaded_by JOIN ("
        "SELECT v.id AS vid, ROW_NUMBER() OVER (PARTITION BY v.category_id "
        "ORDER BY v.view_count DESC, v.created_at DESC, v.id DESC) AS position "
        f"FROM videos v JOIN video_categories c ON c.id = v.category_id "
        f"WHERE v.category_id IN ({_marks(category_ids)}) AND {VISIBLE}"
        ") ranked ON ranked.vid = v.id WHERE ranked.position <= %s ORDER BY v.category_id, ranked.position",
        [*category_ids, first + 1],
    )
    pages: dict[int, list[Row]] = {cid: [] for cid in category_ids}
    for row in rows:
        pages[row[6]].append(row)
    return pages


async def video_counts(s: Session, category_ids: list[int]) -> dict[int, int]:
    rows = await s.rows(
        "SELECT v.category_id, COUNT(v.id) FROM videos v JOIN video_categories c ON c.id = v.category_id "
        f"WHERE v.category_id IN ({_marks(category_ids)}) AND {VISIBLE} GROUP BY v.category_id",
        category_ids,
    )
    return dict(rows)


def connection(
    secret: bytes, e: Enrichment, category_id: int, rows: list[Row], first: int, total: int | None
) -> dict[str, Any]:
    shown = rows[:first]
    out: dict[str, Any] = {}
    if total is not None:
        out["totalCount"] = total
    last = shown[-1] if shown else None
    out["pageInfo"] = {
        "hasNextPage": len(rows) > first,
        "endCursor": category_cursor(secret, last[4], last[5], last[0], category_id) if last else None,
    }
    out["edges"] = [{"node": e.card(row)} for row in shown]
    return out


# --- the screens ---------------------------------------------------------------------------


class Unauthenticated(Exception):
    pass


async def viewer(s: Session, secret: bytes, request: Request) -> Row:
    """(id, display_name) of the token's user: the token and its user in one statement."""
    token = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
    digest = hmac.new(secret, token.encode(), hashlib.sha256).hexdigest()
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")
    rows = await s.rows(
        "SELECT u.id, u.display_name, u.role FROM users u JOIN access_tokens t ON t.user_id = u.id "
        "WHERE t.token_hash = %s AND t.expires_at > %s",
        [digest, now],
    )
    if not rows or rows[0][2] != "member":
        raise Unauthenticated
    return rows[0]


async def home(s: Session, secret: bytes, request: Request) -> dict[str, Any]:
    me = await viewer(s, secret, request)
    uid = me[0]
    hero = await s.rows(
        f"SELECT {CARD_COLUMNS} FROM videos v JOIN video_categories c ON c.id = v.category_id "
        f"JOIN users u ON u.id = v.uploaded_by WHERE v.is_hero = 1 AND {VISIBLE} "
        "ORDER BY v.updated_at DESC LIMIT 1"
    )
    # Progress columns first (video_id, last_position, completed, watched, duration), then the card.
    watching = await s.rows(
        "SELECT p.video_id, p.last_position, p.completed, p.watched_seconds, p.duration_seconds, "
        f"{CARD_COLUMNS} "
        "FROM video_progress p JOIN videos v ON v.id = p.video_id "
        "JOIN video_categories c ON c.id = v.category_id JOIN users u ON u.id = v.uploaded_by "
        f"WHERE p.user_id = %s AND p.completed = 0 AND p.last_position > 0 AND {VISIBLE} "
        "ORDER BY p.updated_at DESC, p.id DESC LIMIT %s",
        [uid, CONTINUE_WATCHING],
    )
    categories = await s.rows(
        "SELECT id, name, slug FROM video_categories WHERE is_active = 1 ORDER BY sort_order, name, id"
    )
    ids = [c[0] for c in categories]
    counts = await video_counts(s, ids) if ids else {}
    pages = await first_pages(s, ids, HOME_PAGE) if ids else {}
    shown = [row for rows in pages.values() for row in rows[:HOME_PAGE]]
    video_ids = list(dict.fromkeys([r[0] for r in hero] + [w[0] for w in watching] + [r[0] for r in shown]))
    e = await Enrichment.load(s, uid, video_ids)

    def percent(w: Row) -> float:
        if w[4] > 0:
            return min(1.0, max(0.0, w[3] / w[4]))
        return 1.0 if w[2] else 0.0

    return {
        "me": {"displayName": me[1]},
        "heroVideo": e.card(hero[0]) if hero else None,
        "continueWatching": [
            {"percentComplete": percent(w), "lastPosition": w[1], "video": e.card(w[5:], own_progress=w)}
            for w in watching
        ],
        "categories": [
            {
                "name": name,
                "slug": slug,
                "videoCount": counts.get(cid, 0),
                "videos": connection(secret, e, cid, pages[cid], HOME_PAGE, counts.get(cid, 0)),
            }
            for cid, name, slug in categories
        ],
    }


async def category(s: Session, secret: bytes, request: Request) -> dict[str, Any]:
    variables = orjson.loads(await request.body())
    me = await viewer(s, secret, request)
    found = await s.rows(
        "SELECT id, name, slug FROM video_categories WHERE slug = %s AND is_active = 1", [variables["slug"]]
    )
    if not found:
        return {"category": None}
    cid, name, slug = found[0]
    counts = await video_counts(s, [cid])
    rows = (await first_pages(s, [cid], CATEGORY_PAGE))[cid]
    e = await Enrichment.load(s, me[0], [r[0] for r in rows[:CATEGORY_PAGE]])
    total = counts.get(cid, 0)
    return {
        "category": {
            "name": name,
            "slug": slug,
            "videoCount": total,
            "videos": connection(secret, e, cid, rows, CATEGORY_PAGE, total),
        }
    }


async def player(s: Session, secret: bytes, request: Request) -> dict[str, Any]:
    variables = orjson.loads(await request.body())
    me = await viewer(s, secret, request)
    kind, _, pk = base64.b64decode(variables["id"]).decode().partition(":")
    found = await s.rows(
        f"SELECT {CARD_COLUMNS}, v.description, v.video_url, v.caption_url, c.name, c.slug "
        "FROM videos v JOIN video_categories c ON c.id = v.category_id JOIN users u ON u.id = v.uploaded_by "
        f"WHERE v.id = %s AND {VISIBLE}",
        [int(pk)],
    )
    if kind != "Video" or not found:
        return {"video": None}
    row = found[0]
    own = await Enrichment.load(s, me[0], [row[0]])
    cid = row[6]
    more = (await first_pages(s, [cid], PLAYER_MORE))[cid][:PLAYER_MORE]
    e = await Enrichment.load(s, me[0], [r[0] for r in more])
    return {
        "video": {
            **own.card(row),
            "description": row[8],
            "videoUrl": row[9],
            "captionUrl": row[10],
            "category": {
                "name": row[11],
                "slug": row[12],
                "videos": {"edges": [{"node": e.card(r)} for r in more]},
            },
        }
    }


# --- the app -------------------------------------------------------------------------------


def create_app() -> Starlette:
    config = parse_url(os.environ["DATABASE_URL"])
    secret = os.environ["VIDEOLIB_SECRET_KEY"].encode()
    db = Database(config)

    def endpoint(screen: Any) -> Any:
        async def serve(request: Request) -> Response:
            async with db.session() as s:
                try:
                    data = await screen(s, secret, request)
                except Unauthenticated:
                    return Response(
                        b'{"errors":[{"message":"bad token"}]}', 401, media_type="application/json"
                    )
            headers = {"X-Statements": str(s.statements)}
            return Response(orjson.dumps({"data": data}), headers=headers, media_type="application/json")

        return serve

    async def ping(request: Request) -> Response:
        # No database, no work: what the load generator and uvicorn alone can do.
        await request.body()
        return Response(b'{"data":{}}', media_type="application/json")

    async def healthz(request: Request) -> Response:
        async with db.session() as s:
            await s.rows("SELECT 1")
        return Response(b'{"status":"ok"}', media_type="application/json")

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await db.open()
        try:
            yield
        finally:
            await db.close()

    routes = [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/ping", ping, methods=["POST"]),
        Route("/home", endpoint(home), methods=["POST"]),
        Route("/category", endpoint(category), methods=["POST"]),
        Route("/player", endpoint(player), methods=["POST"]),
    ]
    return Starlette(routes=routes, lifespan=lifespan)


def main(argv: list[str] | None = None) -> int:
    """Serves the floor under uvicorn, as `server.py serve` serves the real thing (no access log)."""
    import uvicorn

    from schema.http.transport import NO_DELAY_HTTP

    parser = argparse.ArgumentParser(prog="python -m benchmarks.floor")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args(argv)
    uvicorn.run(
        "benchmarks.floor:create_app",
        factory=True,
        host="127.0.0.1",
        port=args.port,
        workers=args.workers,
        log_level="warning",
        access_log=False,
        # As `server.py serve` does: Nagle off, or --workers N waits ~40 ms per keep-alive request.
        http=NO_DELAY_HTTP,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
