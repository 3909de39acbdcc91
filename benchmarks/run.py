"""One benchmark run: load the catalogue, start both servers, measure every row, print the table."""

from __future__ import annotations

import asyncio
import os
import platform
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2
import orjson

from benchmarks import screens
from benchmarks.catalogue import VIEWER_ID, Catalogue, load, scratch_database
from benchmarks.load import Load, RequestFactory, Result
from benchmarks.processes import Server, floor_argv, free_port, running, server_argv
from benchmarks.report import Measured, Target, table

REACTIONS = ("LIKE", "LOVE", "HAHA", "WOW", "SAD", "ANGRY")
CONCURRENCY = (1, 8)
# The video the player screen shows: the viewer reacted to it (id % 5 == 0) and played it
# (id % 7 == 3), so every part of the screen has rows behind it.
PLAYER_VIDEO = 10
CATEGORY_SLUG = "category-03"
CATALOGUE_PAGE = 100
# Enough to open the pool's connections and fill the parser caches; never measured.
WARMUP_REQUESTS = 16
WARMUP_SECONDS = 1.5


@dataclass(frozen=True)
class Options:
    database_url: str
    requests: int
    seconds: float
    workers: int
    keep_db: bool


def gid(type_name: str, pk: int) -> str:
    from schema.ids import global_id

    return global_id(type_name, pk)


def graphql_body(query: str, variables: dict[str, Any] | None = None) -> bytes:
    return orjson.dumps({"query": query, "variables": variables or {}})


def first_difference(a: Any, b: Any, path: str = "data") -> str | None:
    """Where two answers first differ (key order aside), or None when they are equal."""
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b)):
            if key not in a or key not in b:
                return f"{path}.{key}: only in {'GraphQL' if key in a else 'floor'}"
            found = first_difference(a[key], b[key], f"{path}.{key}")
            if found:
                return found
        return None
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return f"{path}: {len(a)} items vs {len(b)}"
        for n, (x, y) in enumerate(zip(a, b, strict=True)):
            found = first_difference(x, y, f"{path}[{n}]")
            if found:
                return found
        return None
    return None if a == b else f"{path}: {a!r} (GraphQL) vs {b!r} (floor)"


class Bench:
    def __init__(self, options: Options, catalogue: Catalogue, server: Server, floor: Server) -> None:
        self.options = options
        self.catalogue = catalogue
        self.server = server
        self.floor = floor
        auth = {"Authorization": f"Bearer {catalogue.viewer_token}"}
        self.load = Load(auth)
        # Set-up requests (paging to a cursor, comparing answers): convenience over speed.
        self.http = httpx2.AsyncClient(headers={"Content-Type": "application/json", **auth}, timeout=60)
        self.notes: list[str] = []
        self.home_fields = 0
        self.floor_matches = True

    async def post(self, target: Server, path: str, body: bytes) -> tuple[dict[str, Any], dict[str, str]]:
        response = await self.http.post(target.base_url + path, content=body)
        answer = orjson.loads(response.content)
        if response.status_code != 200 or answer.get("errors"):
            raise RuntimeError(f"{target.name} {path}: {response.status_code} {str(answer)[:500]}")
        return answer, dict(response.headers)

    async def gql(self, query: str, variables: dict[str, Any] | None = None, request_id: str = "") -> Any:
        headers = {"X-Request-ID": request_id} if request_id else {}
        response = await self.http.post(
            self.server.base_url + "/graphql", content=graphql_body(query, variables), headers=headers
        )
        answer = orjson.loads(response.content)
        if response.status_code != 200 or answer.get("errors"):
            raise RuntimeError(f"GraphQL: {response.status_code} {str(answer)[:500]}")
        return answer["data"]

    async def statements(self, since: int, tag: str, expected: int) -> list[int]:
        # The access-log line is written once the response has gone out: give the last ones a moment.
        deadline = time.monotonic() + 3
        while True:
            found = self.server.statements(since, tag + "-")
            if len(found) >= expected or time.monotonic() > deadline:
                return found
            await asyncio.sleep(0.05)

    # --- preparation ---------------------------------------------------------------------

    async def compare_with_floor(self, label: str, query: str, variables: dict[str, Any], path: str) -> int:
        """Checks that the floor answers what GraphQL answers; returns the floor's statement count."""
        data = await self.gql(query, variables)
        answer, headers = await self.post(self.floor, path, orjson.dumps(variables))
        difference = first_difference(data, answer["data"])
        verdict = "matches" if difference is None else f"DIFFERS at {difference}"
        self.notes.append(f"floor {label} answer {verdict} the GraphQL answer's data")
        if label == "home":
            self.home_fields = screens.count_fields(data)
        self.floor_matches = self.floor_matches and difference is None
        return int(headers.get("x-statements", 0))

    async def deepest_full_category_page(self) -> tuple[int, str]:
        """(page number, its `after`) of the category's last page that is a full page."""
        after: str | None = None
        best = (1, "")
        for page in range(1, 1000):
            data = await self.gql(screens.CATEGORY, {"slug": CATEGORY_SLUG, "after": after})
            videos = data["category"]["videos"]
            if len(videos["edges"]) == screens.CATEGORY_PAGE_SIZE and after is not None:
                best = (page, after)
            if not videos["pageInfo"]["hasNextPage"]:
                return best
            after = videos["pageInfo"]["endCursor"]
        raise RuntimeError("the category never ends")

    async def catalogue_cursor(self, page: int) -> str:
        after: str | None = None
        for _ in range(page - 1):
            data = await self.gql(screens.CATALOGUE, {"after": after})
            after = data["videos"]["pageInfo"]["endCursor"]
        assert after is not None
        return after

    async def pinned_statements(self) -> list[tuple[str, int, int]]:
        """The queries tests/test_statement_counts.py pins, run once each on this catalogue."""
        from tests import test_statement_counts as pins

        checks = [
            ("home", pins.HOME, {}, pins.HOME_STATEMENTS),
            ("category", pins.CATEGORY, {"slug": CATEGORY_SLUG}, pins.CATEGORY_STATEMENTS),
            ("player", pins.PLAYER, {"id": gid("Video", PLAYER_VIDEO)}, pins.PLAYER_STATEMENTS),
        ]
        out = []
        for name, query, variables, pinned in checks:
            since = self.server.log_offset()
            await self.gql(query, variables, request_id=f"pin{name}-0")
            found = await self.statements(since, f"pin{name}", 1)
            out.append((name, found[0] if found else -1, pinned))
        return out

    # --- measuring -----------------------------------------------------------------------

    async def measure(self, m: Measured, target: Server, make: RequestFactory, concurrency: int) -> None:
        tag = f"{m.key}{concurrency}"
        since = self.server.log_offset()
        result: Result = await self.load.run(
            target.base_url,
            make,
            concurrency=concurrency,
            max_requests=self.options.requests,
            max_seconds=self.options.seconds,
            warmup_requests=WARMUP_REQUESTS,
            warmup_seconds=WARMUP_SECONDS,
            tag=tag,
        )
        m.results[concurrency] = result
        if target is self.server:
            m.statements += await self.statements(since, tag, result.count + result.failures)
        status = f"{result.count} requests, p50 {result.p50:.2f} ms, {result.throughput:,.1f}/s"
        if result.failures:
            status += f", {result.failures} FAILED: {result.first_failure}"
        print(f"  {m.label} @ {concurrency}: {status}", flush=True)

    async def run(self) -> tuple[list[Measured], list[Target]]:
        cat = self.catalogue
        floor_counts = {
            "home": await self.compare_with_floor("home", screens.HOME, {}, "/home"),
            "category": await self.compare_with_floor(
                "category", screens.CATEGORY, {"slug": CATEGORY_SLUG}, "/category"
            ),
            "player": await self.compare_with_floor(
                "player", screens.PLAYER, {"id": gid("Video", PLAYER_VIDEO)}, "/player"
            ),
        }
        deep_page, deep_after = await self.deepest_full_category_page()
        catalogue_after = await self.catalogue_cursor(CATALOGUE_PAGE)
        pins = await self.pinned_statements()

        def constant(path: str, body: bytes) -> RequestFactory:
            return lambda n: (path, body)

        # Writes spread over every published video: inserts for most, updates where the viewer
        # already had a row, never two concurrent writes to one row.
        videos = [vid for ids in cat.published.values() for vid in ids]

        def save(n: int) -> tuple[str, bytes]:
            variables = {
                "input": {"videoId": gid("Video", videos[n % len(videos)]), "positionSeconds": 30 + n % 90}
            }
            return "/graphql", graphql_body(screens.SAVE_PROGRESS, variables)

        def react(n: int) -> tuple[str, bytes]:
            variables = {"videoId": gid("Video", videos[n % len(videos)]), "type": REACTIONS[n % 6]}
            return "/graphql", graphql_body(screens.REACT, variables)

        player = {"id": gid("Video", PLAYER_VIDEO)}
        category = {"slug": CATEGORY_SLUG}
        s, f = self.server, self.floor
        Group = list[tuple[Measured, Server, RequestFactory]]

        def pair(key: str, label: str, query: str, variables: dict[str, Any], path: str) -> Group:
            floor = Measured(f"f{key}", "  floor: same SQL, hand-built JSON")
            floor.statements = [floor_counts[key]]
            row = Measured(key, label, floor=floor)
            return [
                (row, s, constant("/graphql", graphql_body(query, variables))),
                (floor, f, constant(path, orjson.dumps(variables))),
            ]

        def single(key: str, label: str, target: Server, make: RequestFactory) -> Group:
            return [(Measured(key, label), target, make)]

        fields = f"{self.home_fields:,} fields"
        groups: list[Group] = [
            pair("home", f"home: 20 categories x 25 ({fields})", screens.HOME, {}, "/home"),
            pair("category", "category page 1 (first 50)", screens.CATEGORY, category, "/category"),
            single(
                "deep",
                f"same category, page {deep_page} (deepest full)",
                s,
                constant("/graphql", graphql_body(screens.CATEGORY, {**category, "after": deep_after})),
            ),
            single(
                "cat1",
                "catalogue page 1 (videos first 50)",
                s,
                constant("/graphql", graphql_body(screens.CATALOGUE)),
            ),
            single(
                "cat100",
                f"catalogue page {CATALOGUE_PAGE}",
                s,
                constant("/graphql", graphql_body(screens.CATALOGUE, {"after": catalogue_after})),
            ),
            pair("player", "player: video + 10 of its category", screens.PLAYER, player, "/player"),
            single("save", "saveProgress (mutation)", s, save),
            single("react", "react (mutation)", s, react),
            single("ping", "load generator ceiling (floor /ping)", f, constant("/ping", b"{}")),
        ]
        print("measuring (warm-up excluded):", flush=True)
        rows: list[Measured] = []
        for group in groups:
            # Server and floor alternate at each concurrency, so drift on a noisy machine hits both.
            for concurrency in CONCURRENCY:
                for m, target, make in group:
                    await self.measure(m, target, make, concurrency)
            rows += [m for m, _, _ in group]
        return rows, self.targets({m.key: m for m in rows}, pins)

    def targets(self, by_key: dict[str, Measured], pins: list[tuple[str, int, int]]) -> list[Target]:
        home, deep, cat1, cat100 = by_key["home"], by_key["deep"], by_key["cat1"], by_key["cat100"]
        assert home.floor is not None
        ratio = home.p50(1) / home.floor.p50(1)
        out = [Target("home p50 <= 2x the floor's, concurrency 1", f"{ratio:.2f}x", ratio <= 2)]
        depth = deep.p50(1) / by_key["category"].p50(1)
        out.append(Target(f"{deep.label.strip()} p50 <= 1.2x page 1's", f"{depth:.2f}x", depth <= 1.2))
        depth = cat100.p50(1) / cat1.p50(1)
        out.append(Target(f"{cat100.label} p50 <= 1.2x page 1's", f"{depth:.2f}x", depth <= 1.2))
        rate = max(by_key["save"].throughput(c) for c in CONCURRENCY)
        applies = self.options.workers == 2 and not self.catalogue.config.is_sqlite
        figure = f"{rate:,.0f}/s" + ("" if applies else " (the target is for --workers 2 on MariaDB)")
        out.append(
            Target("saveProgress >= 1,000/s, 2 workers, MariaDB", figure, rate >= 1000 if applies else None)
        )
        for name, found, pinned in pins:
            out.append(
                Target(
                    f"{name}: pinned query's statements = the pin", f"{found} (pin {pinned})", found == pinned
                )
            )
        return out


def _database_version(cat: Catalogue) -> str:
    if cat.config.is_sqlite:
        import sqlite3

        return f"SQLite {sqlite3.sqlite_version}"
    from models.database import make_sync_database

    db = make_sync_database(cat.config)
    try:
        return str(db.execute_sql("SELECT VERSION()").fetchone()[0])
    finally:
        db.close()


def _header(options: Options, cat: Catalogue) -> list[str]:
    import uvicorn

    lines = [
        f"machine: {os.cpu_count()} CPUs, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}, uvicorn {uvicorn.__version__}; "
        f"database {_database_version(cat)}",
        f"servers: {options.workers} uvicorn worker(s) each, on loopback; load: one keep-alive connection "
        f"per concurrent client, at most {options.requests:,} requests or {options.seconds:g} s per cell, "
        "after a warm-up",
    ]
    return lines


async def _measure(
    options: Options, cat: Catalogue, log_dir: Path
) -> tuple[list[Measured], list[Target], list[str], bool]:
    env = {"DATABASE_URL": cat.url, "VIDEOLIB_SECRET_KEY": cat.secret_key}
    server_port, floor_port = free_port(), free_port()
    mode = (options.workers,)
    print(f"starting the server and the floor ({options.workers} worker(s) each)...", flush=True)
    with (
        running("server", server_argv(server_port, *mode), env, log_dir, server_port) as server,
        running("floor", floor_argv(floor_port, *mode), env, log_dir, floor_port) as floor,
    ):
        bench = Bench(options, cat, server, floor)
        try:
            rows, targets = await bench.run()
        finally:
            await bench.load.close()
            await bench.http.aclose()
        valid = bench.floor_matches and not any(r.failures for m in rows for r in m.results.values())
        return rows, targets, bench.notes, valid


def main(options: Options) -> int:
    started = time.perf_counter()
    with scratch_database(options.database_url, options.keep_db) as config:
        print(f"loading the catalogue into {config.describe()}:", flush=True)
        cat = load(config)
        header = _header(options, cat)
        print("\n".join(header))
        with tempfile.TemporaryDirectory(prefix="videolib_bench_logs_") as log_dir:
            try:
                rows, targets, notes, valid = asyncio.run(_measure(options, cat, Path(log_dir)))
            except Exception:
                for name in ("server", "floor"):
                    path = Path(log_dir) / f"{name}.log"
                    if path.exists():
                        print(f"--- last lines of the {name}'s log ---")
                        print("\n".join(path.read_text(errors="replace").splitlines()[-15:]))
                raise
    print()
    print("\n".join(header))
    print(table(rows))
    print()
    for note in notes:
        print(note)
    print("targets (issue 6):")
    for target in targets:
        print(target.line())
    print(f"\nviewer: user {VIEWER_ID}; total time {time.perf_counter() - started:.0f} s")
    # A missed target is a finding, not a failure of the benchmark; failed requests or a floor
    # that answers differently make the figures meaningless.
    if not valid:
        print("INVALID RUN: some requests failed or the floor's answer differs from GraphQL's")
    return 0 if valid else 1
