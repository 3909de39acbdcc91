"""The served schema keeps every promise of ../shared/contract/schema.graphql, and schema.graphql
in the repository is exactly what the server prints."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from graphql import build_schema
from graphql.utilities import find_breaking_changes

from schema.api import print_schema

ROOT = Path(__file__).resolve().parent.parent
CONTRACT = ROOT.parent / "shared" / "contract" / "schema.graphql"
CHECK_TOOL = ROOT.parent / "shared" / "tools" / "contract_check.py"


def test_committed_schema_is_the_printed_schema() -> None:
    committed = (ROOT / "schema.graphql").read_text()
    assert committed == print_schema(), "schema.graphql is stale: run `make schema` and commit it"


def test_no_breaking_change_against_the_contract() -> None:
    changes = find_breaking_changes(build_schema(CONTRACT.read_text()), build_schema(print_schema()))
    assert [f"{c.type.name}: {c.description}" for c in changes] == []


def test_the_shared_contract_check_passes_on_the_committed_schema() -> None:
    result = subprocess.run(
        [sys.executable, str(CHECK_TOOL), str(ROOT / "schema.graphql")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().endswith("0 breaking changes against the contract")
