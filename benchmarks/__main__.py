"""`make bench`, or `python -m benchmarks [--database-url URL] [--requests N] [--seconds T] [--workers N]`."""

from __future__ import annotations

import argparse
import os
import sys

from benchmarks.run import Options, main

DEFAULT_URL = "mysql://root@127.0.0.1:3306/videolib_bench"


def parse(argv: list[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Loads a large catalogue into a throwaway database, serves it with the real server "
        "and with a hand-written floor (uvicorn subprocesses), drives both over loopback and prints "
        "statements per request, latency and throughput per screen, against the issue's targets.",
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL),
        help="where to create the scratch database: mysql://user:password@host:port/PREFIX creates and "
        "drops PREFIX_<random>; sqlite:///dir/name.db a fresh dir/name_<random>.db; `sqlite` a temporary "
        f"file (default: $BENCH_DATABASE_URL or {DEFAULT_URL})",
    )
    parser.add_argument(
        "--requests", type=int, default=2000, help="at most this many measured requests per cell (2000)"
    )
    parser.add_argument("--seconds", type=float, default=4.0, help="at most this long per cell (4)")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn workers of each server (2)")
    parser.add_argument("--keep-db", action="store_true", help="keep the scratch database afterwards")
    args = parser.parse_args(argv)
    if args.requests < 1 or args.seconds <= 0 or args.workers < 1:
        parser.error("--requests, --seconds and --workers must be positive")
    return Options(args.database_url, args.requests, args.seconds, args.workers, args.keep_db)


if __name__ == "__main__":
    sys.exit(main(parse()))
