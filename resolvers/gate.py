"""Lets every list on a screen share one round of enrichment statements.

The hero, continueWatching and the category rows each run their own base query, and those finish
at different moments. If each list then asked the dataloaders for its reactions and viewer state
straight away, every list would cost its own statements. Instead each list waits until no base
query of the request is in flight; then all of them ask in the same tick, and each dataloader
batches the whole screen into one statement.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager


class QuietGate:
    def __init__(self) -> None:
        self._in_flight = 0
        self._quiet = asyncio.Event()
        self._quiet.set()

    @contextmanager
    def loading(self) -> Iterator[None]:
        """Hold the gate shut while a base query runs. Enter it before the first await."""
        self._in_flight += 1
        self._quiet.clear()
        try:
            yield
        finally:
            self._in_flight -= 1
            if self._in_flight == 0:
                self._quiet.set()

    async def quiet(self) -> None:
        """Return once no base query is in flight."""
        await self._quiet.wait()
