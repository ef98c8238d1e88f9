"""A slow database for writer tests: a real store, not a mock."""

from __future__ import annotations

import threading
from collections.abc import Sequence

from trustramp.events import Event
from trustramp.store import SqlStore


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
