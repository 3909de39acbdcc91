"""A deterministic large catalogue in a throwaway database, loaded in bulk.

20 categories x 500 videos, 5,000 users (20 of them uploaders), 200,000 reactions and 50,000
progress rows. The same seed gives the same rows on every machine, so two runs measure the same
screens. Rows go in with executemany (PyMySQL turns it into multi-row INSERTs) inside one
transaction: row-by-row inserts through the ORM would take longer than the benchmark itself.
"""

from __future__ import annotations

import datetime as dt
import random
import secrets
import shutil
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import peewee
import pymysql

from models import migrate
from models.database import DatabaseConfig, make_sync_database, parse_url
from resolvers.accounts.tokens import new_token, token_hash

SEED = 6  # the number: any fixed value gives the same catalogue everywhere
CATEGORIES = 20
VIDEOS_PER_CATEGORY = 500
USERS = 5_000
UPLOADERS = 20  # users 1..20 are the admins who uploaded the videos
VIEWER_ID = UPLOADERS + 1
REACTIONS = 200_000
PROGRESS = 50_000
# The viewer reacted to every 5th video and played every 7th: about a fifth of every screen
# carries their reaction, a seventh their progress, so those joins return real rows.
VIEWER_REACTS_EVERY = 5
VIEWER_PLAYED_EVERY = 7
DRAFT_EVERY = 50  # every 50th video is a draft: the visibility filter has rows to drop
T0 = dt.datetime(2024, 1, 1)
REACTION_TYPES = ("like", "love", "haha", "wow", "sad", "angry")
BATCH = 5_000


@dataclass
class Catalogue:
    """What the benchmark needs to know about the loaded rows."""

    config: DatabaseConfig
    secret_key: str
    viewer_token: str
    # Published video ids by category id: what the writes may touch.
    published: dict[int, list[int]] = field(default_factory=dict)

    @property
    def url(self) -> str:
        """DATABASE_URL for the server processes (with the password, unlike describe())."""
        c = self.config
        if c.is_sqlite:
            return f"sqlite:///{c.name}"  # an absolute path: sqlite:////tmp/...
        auth = quote(c.user, safe="") + (f":{quote(c.password, safe='')}" if c.password else "")
        return f"mysql://{auth}@{c.host}:{c.port}/{quote(c.name, safe='')}"


# --- the throwaway database ----------------------------------------------------------------


def _mysql_admin(config: DatabaseConfig) -> Any:
    return pymysql.connect(
        host=config.host, port=config.port, user=config.user, password=config.password, autocommit=True
    )


@contextmanager
def scratch_database(url: str, keep: bool) -> Iterator[DatabaseConfig]:
    """A new, empty database named `<given name>_<random>` (MySQL) or a fresh SQLite file, dropped
    afterwards unless `keep`. The URL only says where: an existing database is never touched."""
    suffix = uuid.uuid4().hex[:10]
    if url == "sqlite":
        directory = Path(tempfile.mkdtemp(prefix="videolib_bench_"))
        config = DatabaseConfig("sqlite", str(directory / f"videolib_bench_{suffix}.db"))
    else:
        given = parse_url(url)
        if given.is_sqlite:
            path = Path(given.name).expanduser().resolve()
            directory = path.parent
            directory.mkdir(parents=True, exist_ok=True)
            config = given.with_name(str(directory / f"{path.stem}_{suffix}.db"))
        else:
            directory = None
            config = given.with_name(f"{given.name}_{suffix}")
            with _mysql_admin(config) as conn, conn.cursor() as cur:
                cur.execute(f"CREATE DATABASE `{config.name}` CHARACTER SET utf8mb4")
    try:
        yield config
    finally:
        if keep:
            print(f"kept the database: {config.describe()}")
        elif config.is_sqlite:
            for extra in ("", "-wal", "-shm"):
                Path(config.name + extra).unlink(missing_ok=True)
            if url == "sqlite" and directory is not None:
                shutil.rmtree(directory, ignore_errors=True)
        else:
            with _mysql_admin(config) as conn, conn.cursor() as cur:
                cur.execute(f"DROP DATABASE IF EXISTS `{config.name}`")


# --- the rows ------------------------------------------------------------------------------


def _ts(value: dt.datetime) -> str:
    # What DateTimeMicroField writes: always the microseconds, so SQLite's text order is right.
    return value.strftime("%Y-%m-%d %H:%M:%S.%f")


def _users() -> list[tuple[Any, ...]]:
    rows = []
    for uid in range(1, USERS + 1):
        if uid <= UPLOADERS:
            name, role = f"Studio {uid:02d}", "admin"
        elif uid == VIEWER_ID:
            name, role = "Bench Viewer", "member"
        else:
            name, role = f"Member {uid:04d}", "member"
        created = _ts(T0 + dt.timedelta(minutes=uid))
        # "!" is no argon2 hash: nobody can log in, the viewer gets a token directly.
        rows.append((uid, f"user{uid:04d}@bench.example", "!", name, role, created, created))
    return rows


def _categories() -> list[tuple[Any, ...]]:
    created = _ts(T0)
    return [
        (cid, f"Category {cid:02d}", f"category-{cid:02d}", cid * 10, True, created, created)
        for cid in range(1, CATEGORIES + 1)
    ]


def _videos(rng: random.Random) -> list[tuple[Any, ...]]:
    rows = []
    for c in range(CATEGORIES):
        for v in range(VIDEOS_PER_CATEGORY):
            vid = c * VIDEOS_PER_CATEGORY + v + 1
            # Long-tailed popularity with ties, as real view counts have.
            views = min(int(rng.paretovariate(1.2) * 100), 50_000_000)
            created = _ts(T0 + dt.timedelta(minutes=vid * 53, microseconds=rng.randrange(1_000_000)))
            rows.append(
                (
                    vid,
                    f"Bench video {c + 1:02d}-{v:03d}",
                    f"Description of video {vid}, long enough to look like one." if v % 4 else None,
                    c + 1,
                    f"https://media.bench.example/v/{vid}.mp4",
                    f"https://media.bench.example/t/{vid}.jpg",
                    f"https://media.bench.example/c/{vid}.vtt" if v % 3 == 0 else None,
                    rng.randrange(120, 3_600),
                    views,
                    vid == 1,  # the hero
                    v % DRAFT_EVERY != DRAFT_EVERY - 1,
                    rng.randrange(1, UPLOADERS + 1),
                    created,
                    created,
                )
            )
    return rows


def _unique_pairs(
    rng: random.Random, count: int, fixed: Sequence[tuple[int, int]], video_weights: Sequence[float]
) -> list[tuple[int, int]]:
    """`count` distinct (user, video) pairs: `fixed` first, then others drawn with popular videos
    more likely, from every user but the viewer (whose rows are all in `fixed`)."""
    seen = set(fixed)
    pairs = list(fixed)
    video_ids = range(1, len(video_weights) + 1)
    while len(pairs) < count:
        users = [rng.randrange(1, USERS + 1) for _ in range(count)]
        videos = rng.choices(video_ids, weights=video_weights, k=count)
        for pair in zip(users, videos, strict=True):
            if pair[0] != VIEWER_ID and pair not in seen:
                seen.add(pair)
                pairs.append(pair)
                if len(pairs) == count:
                    break
    return pairs


def _reactions(rng: random.Random, weights: Sequence[float]) -> list[tuple[Any, ...]]:
    n_videos = len(weights)
    mine = [(VIEWER_ID, vid) for vid in range(1, n_videos + 1) if vid % VIEWER_REACTS_EVERY == 0]
    rows = []
    for n, (uid, vid) in enumerate(_unique_pairs(rng, REACTIONS, mine, weights)):
        at = _ts(T0 + dt.timedelta(seconds=n * 7))
        rows.append((uid, vid, REACTION_TYPES[rng.randrange(6)], at, at))
    return rows


def _progress(
    rng: random.Random, weights: Sequence[float], durations: dict[int, int]
) -> list[tuple[Any, ...]]:
    n_videos = len(weights)
    mine = [(VIEWER_ID, vid) for vid in range(1, n_videos + 1) if vid % VIEWER_PLAYED_EVERY == 3]
    rows = []
    for n, (uid, vid) in enumerate(_unique_pairs(rng, PROGRESS, mine, weights)):
        duration = durations[vid]
        completed = n % 5 == 0
        watched = duration if completed else rng.randrange(1, duration)
        position = watched if completed else rng.randrange(1, watched + 1)
        # Distinct update times: continueWatching's order is then the same on every run.
        at = _ts(T0 + dt.timedelta(days=30, seconds=n * 11))
        rows.append((uid, vid, watched, duration, position, completed, at, at))
    return rows


# --- loading -------------------------------------------------------------------------------


_COLUMNS = {
    "users": "id, email, password_hash, display_name, role, created_at, updated_at",
    "video_categories": "id, name, slug, sort_order, is_active, created_at, updated_at",
    "videos": "id, title, description, category_id, video_url, thumbnail_url, caption_url, "
    "duration_seconds, view_count, is_hero, published, uploaded_by, created_at, updated_at",
    "video_reactions": "user_id, video_id, reaction_type, created_at, updated_at",
    "video_progress": "user_id, video_id, watched_seconds, duration_seconds, last_position, completed, "
    "created_at, updated_at",
    "access_tokens": "user_id, token_hash, created_at, expires_at",
}


def _insert(db: peewee.Database, table: str, rows: list[tuple[Any, ...]], started: float) -> None:
    began = time.perf_counter()
    columns = _COLUMNS[table]
    marks = ", ".join([db.param] * len(columns.split(",")))
    sql = f"INSERT INTO {table} ({columns}) VALUES ({marks})"
    cursor = db.cursor()
    for start in range(0, len(rows), BATCH):
        cursor.executemany(sql, rows[start : start + BATCH])
    now = time.perf_counter()
    print(
        f"  {table:<17} {len(rows):>9,} rows {now - began:6.1f} s  (total {now - started:5.1f} s)", flush=True
    )


def load(config: DatabaseConfig) -> Catalogue:
    """Migrate the empty database with the real migrations, then fill it."""
    started = time.perf_counter()
    db = make_sync_database(config)
    db.connect()
    try:
        applied = migrate.apply(db)
        print(f"  migrations        {len(applied):>9} applied (total {time.perf_counter() - started:5.1f} s)")
        rng = random.Random(SEED)
        videos = _videos(rng)
        # Reactions and plays follow popularity (view_count is column 8), gently: sqrt keeps the tail alive.
        weights = [(row[8] + 1) ** 0.5 for row in videos]
        durations = {row[0]: row[7] for row in videos}
        secret_key = secrets.token_urlsafe(48)
        token = new_token()
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        with db.atomic():
            _insert(db, "users", _users(), started)
            _insert(db, "video_categories", _categories(), started)
            _insert(db, "videos", videos, started)
            _insert(db, "video_reactions", _reactions(rng, weights), started)
            _insert(db, "video_progress", _progress(rng, weights, durations), started)
            token_row = (
                VIEWER_ID,
                token_hash(secret_key.encode(), token),
                _ts(now),
                _ts(now + dt.timedelta(days=1)),
            )
            _insert(db, "access_tokens", [token_row], started)
        # Fresh statistics, as a database that grew to this size would have: the plans measured
        # are the ones production gets, not the ones an empty table's statistics suggest.
        if config.is_sqlite:
            db.execute_sql("ANALYZE")
        else:
            db.execute_sql(f"ANALYZE TABLE {', '.join(_COLUMNS)}")
        print(f"  analyze tables                         (total {time.perf_counter() - started:5.1f} s)")
    finally:
        db.close()
    published: dict[int, list[int]] = {}
    for row in videos:
        if row[10]:
            published.setdefault(row[3], []).append(row[0])
    return Catalogue(
        config=config,
        secret_key=secret_key,
        viewer_token=token,
        published=published,
    )
