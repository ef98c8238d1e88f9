"""Real stores for the writer tests, slowed or failing on purpose: not mocks."""

from __future__ import annotations

import threading
from collections.abc import Sequence

from trustramp.events import Event, ExposureEvent
from trustramp.store import SqlStore


def exposure(i: int) -> ExposureEvent:
    return ExposureEvent("advice", "1", f"u{i}", True, "beta", "in segment")


class GatedStore(SqlStore):
    """A real store whose writes wait until the test opens the gate."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.entered = threading.Event()
        self.gate = threading.Event()

    def write(self, events: Sequence[Event]) -> None:
        self.entered.set()
        self.gate.wait()
        super().write(events)


class CountingStore(SqlStore):
    """A real store that counts its writes and fails the first ``failures`` of them,
    like a dropped connection."""

    def __init__(self, url: str, failures: int = 0) -> None:
        super().__init__(url)
        self.failures = failures
        self.calls = 0

    def write(self, events: Sequence[Event]) -> None:
        self.calls += 1
        if self.calls <= self.failures:
            raise ConnectionError(f"simulated outage {self.calls}")
        super().write(events)
