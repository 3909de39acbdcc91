"""The served schema keeps every promise of ../shared/contract/schema.graphql, and schema.graphql
in the repository is exactly what the server prints."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from graphql import build_schema
from graphql.utilities import find_breaking_changes

from schema.api import print_schema

ROOT = Path(__file__).resolve().parent.parent
# A copy travels with the repository, so the suite runs wherever it is cloned; where the shared
# folder sits beside it (as on every developer machine and in CI), the copy must match it.
CONTRACT = ROOT / "tests" / "contract" / "schema.graphql"
SHARED = ROOT.parent / "shared"
SHARED_CONTRACT = SHARED / "contract" / "schema.graphql"
CHECK_TOOL = SHARED / "tools" / "contract_check.py"
needs_shared = pytest.mark.skipif(not SHARED.is_dir(), reason="../shared is not beside this checkout")


def test_committed_schema_is_the_printed_schema() -> None:
    committed = (ROOT / "schema.graphql").read_text()
    assert committed == print_schema(), "schema.graphql is stale: run `make schema` and commit it"


def test_no_breaking_change_against_the_contract() -> None:
    changes = find_breaking_changes(build_schema(CONTRACT.read_text()), build_schema(print_schema()))
    assert [f"{c.type.name}: {c.description}" for c in changes] == []


@needs_shared
def test_the_copy_of_the_contract_is_the_shared_one() -> None:
    assert CONTRACT.read_text() == SHARED_CONTRACT.read_text(), "copy ../shared/contract/schema.graphql"


@needs_shared
def test_the_shared_contract_check_passes_on_the_committed_schema() -> None:
    result = subprocess.run(
        [sys.executable, str(CHECK_TOOL), str(ROOT / "schema.graphql")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().endswith("0 breaking changes against the contract")
