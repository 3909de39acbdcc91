"""GraphiQL in a real browser, offline: tests/browser/graphiql_offline.mjs drives Debian's chromium
against a live server over the demo catalogue, with every request to another host refused.

Needs chromium, node and `npm ci` in tests/browser; `make test-browser` sets all of that up and
runs this with VIDEOLIB_BROWSER_TESTS=1. Without that variable it is skipped.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from models import ALL_MODELS
from models import migrate as migrations
from models.database import DatabaseConfig, make_sync_database
from models.demo import seed
from resolvers.config import Settings
from tests.live_server import live_server

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        os.environ.get("VIDEOLIB_BROWSER_TESTS") != "1",
        reason="browser test: run `make test-browser` (or set VIDEOLIB_BROWSER_TESTS=1)",
    ),
]

BROWSER_DIR = Path(__file__).resolve().parent / "browser"
SCRIPT = BROWSER_DIR / "graphiql_offline.mjs"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
# Chromium's start, page load (3.5 MB of GraphiQL) and four queries take seconds; this is the ceiling.
TIMEOUT_SECONDS = 180
SECRET_KEY = b"browser-test-secret-key-0123456789abcdef"


@pytest.fixture
def demo_server(tmp_path: Path) -> Iterator[str]:
    """A live server over a migrated SQLite file holding the demo catalogue."""
    config = DatabaseConfig("sqlite", str(tmp_path / "demo.db"))
    db = make_sync_database(config)
    migrations.apply(db)
    with db.bind_ctx(ALL_MODELS):
        seed(db)
    db.close()
    with live_server(Settings(database=config, secret_key=SECRET_KEY)) as base_url:
        yield base_url


def test_graphiql_opens_and_runs_the_examples_with_no_other_host(demo_server: str, tmp_path: Path) -> None:
    # Asked for explicitly, so a missing tool is a failure to fix, not a skip.
    node = shutil.which("node")
    assert node, "node is not installed"
    assert Path(CHROMIUM).exists(), f"{CHROMIUM} is missing: apt-get install -y chromium"
    assert (BROWSER_DIR / "node_modules" / "playwright-core").is_dir(), "run `npm ci` in tests/browser"

    screenshot = tmp_path / "graphiql.png"
    started = time.monotonic()
    result = subprocess.run(
        [node, str(SCRIPT), demo_server, str(screenshot)],
        cwd=BROWSER_DIR,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_SECONDS,
        env={**os.environ, "CHROMIUM": CHROMIUM},
    )
    output = f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    assert result.returncode == 0, output
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["blocked"] == [] and summary["cspViolations"] == [], output
    assert [step["tab"] for step in summary["steps"]] == ["Home", "Player", "Register", "SaveProgress"]
    assert screenshot.stat().st_size > 10_000  # a rendered page, not a blank one
    print(f"graphiql_offline.mjs: {time.monotonic() - started:.1f}s, screenshot {screenshot}")
