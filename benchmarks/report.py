"""The table and the issue's targets, printed from the measurements."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from benchmarks.load import Result


@dataclass
class Measured:
    """One row of the table: a screen (or write) on one server, at each concurrency."""

    key: str
    label: str
    results: dict[int, Result] = field(default_factory=dict)
    statements: list[int] = field(default_factory=list)  # per measured request
    floor: Measured | None = None  # the same screen on the floor, for the ratio columns

    def p50(self, concurrency: int) -> float:
        r = self.results.get(concurrency)
        return r.p50 if r else math.nan

    def throughput(self, concurrency: int) -> float:
        r = self.results.get(concurrency)
        return r.throughput if r else math.nan


def _statements(values: list[int]) -> str:
    if not values:
        return "-"
    low, high = min(values), max(values)
    return str(low) if low == high else f"{low}-{high}"


def _num(value: float, digits: int = 1) -> str:
    return "-" if math.isnan(value) else f"{value:,.{digits}f}"


def _ratio(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:.2f}x"


LABEL_WIDTH = 44


def table(rows: list[Measured]) -> str:
    head = (
        f"{'':<{LABEL_WIDTH}} {'stmts':>5} | {'concurrency 1':^25} | {'concurrency 8':^25} | "
        f"{'vs floor':^15} | requests"
    )
    sub = (
        f"{'':<{LABEL_WIDTH}} {'/req':>5} | {'p50 ms':>7} {'p99 ms':>7} {'req/s':>9} | "
        f"{'p50 ms':>7} {'p99 ms':>7} {'req/s':>9} | {'p50@1':>6} {'req/s@8':>8} | c1/c8"
    )
    lines = [head, sub, "-" * len(sub)]
    for m in rows:
        cells = [f"{m.label:<{LABEL_WIDTH}} {_statements(m.statements):>5}"]
        for c in (1, 8):
            r = m.results.get(c)
            if r is None:
                cells.append(f"{'':>7} {'':>7} {'':>9}")
            else:
                cells.append(f"{_num(r.p50, 2):>7} {_num(r.p99, 2):>7} {_num(r.throughput):>9}")
        if m.floor is not None:
            p50 = m.p50(1) / m.floor.p50(1)
            rps = m.throughput(8) / m.floor.throughput(8)
            cells.append(f"{_ratio(p50):>6} {_ratio(rps):>8}")
        else:
            cells.append(f"{'':>6} {'':>8}")
        counts = "/".join(str(m.results[c].count) if c in m.results else "-" for c in (1, 8))
        failures = sum(r.failures for r in m.results.values())
        cells.append(counts + (f"  ({failures} FAILED)" if failures else ""))
        lines.append(" | ".join(cells))
    return "\n".join(lines)


@dataclass
class Target:
    text: str
    figure: str
    passed: bool | None  # None: not applicable to this run (said why in `figure`)

    def line(self) -> str:
        verdict = {True: "PASS", False: "FAIL", None: "n/a "}[self.passed]
        return f"  {verdict}  {self.text:<58} {self.figure}"
