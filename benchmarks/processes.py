"""The servers under test, each a uvicorn subprocess on a free loopback port.

The load generator is this (other) process, so client and server never share an event loop or a
GIL. Server output goes to a log file: the real server's access log has one JSON line per request
with its SQL statement count, which is how the table reads statements per request (by the request
ids the benchmark sends), whatever worker answered.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx2
import orjson

ROOT = Path(__file__).resolve().parent.parent
STARTUP_SECONDS = 60.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    name: str
    base_url: str
    log_path: Path
    process: subprocess.Popen[bytes]

    def log_offset(self) -> int:
        return self.log_path.stat().st_size

    def statements(self, since: int, request_id_prefix: str) -> list[int]:
        """sql_statements of the access-log lines written since `since` for requests whose id
        starts with the prefix."""
        with self.log_path.open("rb") as fh:
            fh.seek(since)
            text = fh.read()
        needle = f'"request_id":"{request_id_prefix}'.encode()
        counts = []
        for line in text.splitlines():
            if needle in line and b"videolib.access" in line:
                counts.append(int(orjson.loads(line[line.index(b"{") :])["sql_statements"]))
        return counts

    def tail(self, lines: int = 20) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


def _wait_healthy(server: Server) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"{server.name} exited at start-up:\n{server.tail()}")
        try:
            if httpx2.get(server.base_url + "/healthz", timeout=2).status_code == 200:
                return
        except httpx2.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{server.name} did not answer /healthz within {STARTUP_SECONDS:g}s:\n{server.tail()}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    # uvicorn's supervisor stops its workers on SIGTERM (or SIGINT) and waits for them.
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        # Only our own session: start_new_session put the supervisor and its workers in it.
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)


@contextmanager
def running(
    name: str, argv: Sequence[str], env: dict[str, str], log_dir: Path, port: int
) -> Iterator[Server]:
    log_path = log_dir / f"{name}.log"
    with log_path.open("ab") as log:  # append: each line is one write, so workers never interleave
        process = subprocess.Popen(
            list(argv),
            cwd=ROOT,
            env={**os.environ, **env},
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
    server = Server(name, f"http://127.0.0.1:{port}", log_path, process)
    try:
        _wait_healthy(server)
        yield server
    finally:
        _stop(process)


def server_argv(port: int, workers: int) -> list[str]:
    """The real thing: `python server.py serve`, as in production."""
    return [sys.executable, "server.py", "serve", "--port", str(port), "--workers", str(workers)]


def floor_argv(port: int, workers: int) -> list[str]:
    return [sys.executable, "-m", "benchmarks.floor", "--port", str(port), "--workers", str(workers)]
