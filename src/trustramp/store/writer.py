"""EventWriter: record events from the request path without ever blocking it.

``submit`` is one size check and one put on a C-implemented queue; a daemon
thread takes events off in batches and writes them to the store. The queue is
bounded: when the store cannot keep up, new events are dropped and counted
(a warning is logged once) rather than slowing the app or growing memory.
Failed writes are retried a bounded number of times; the store's writes are
idempotent, so a retry after a partial failure duplicates nothing. A batch the
database refuses for its data is bisected instead, so a bad event fails alone.
Events still queued are written when the interpreter exits (``atexit``).
"""

from __future__ import annotations

import atexit
import logging
import queue
import threading
import time
from collections.abc import Sequence

from trustramp.events import Event
from trustramp.store.database import on_fork_in_child
from trustramp.store.protocol import EventSink
from trustramp.store.records import StoreError

logger = logging.getLogger(__name__)


class _Marker:
    """Put in the queue behind the events a flush or close waits for."""

    def __init__(self, stop: bool = False) -> None:
        self.reached = threading.Event()
        self.stop = stop


class EventWriter:
    """A background writer of events into an :class:`EventSink` (a store).

    Guarantees: ``submit`` never blocks and never raises, however slow the
    store; ``flush``/``close`` return once every event submitted before them is
    counted in ``written`` or ``failed``; every submitted event ends up in exactly
    one of ``written``, ``dropped`` and ``failed``. An invalid event (naive
    timestamp, attributes that are not JSON, a NUL character) or one the database
    refuses (a constraint, a value it cannot store) fails alone, not with its
    batch: a refused batch is split in halves until the refused events are found.
    Only a failure of the database itself (an outage) fails a whole batch, after
    ``max_retries`` retries. No call blocks forever with a timeout given, even
    after a ``close`` that timed out. Events submitted from another thread while
    ``close`` runs may be lost.

    Example:
        >>> from trustramp.events import ExposureEvent
        >>> from trustramp.store import open_store
        >>> writer = EventWriter(open_store("sqlite://"), flush_interval=0.05)
        >>> writer.submit(ExposureEvent("summarize", "1", "u1", True, "beta", "in"))
        True
        >>> writer.flush(timeout=5.0), writer.written
        (True, 1)
    """

    def __init__(
        self,
        store: EventSink,
        max_queue: int = 10_000,
        batch_size: int = 500,
        flush_interval: float = 0.2,
        max_retries: int = 3,
        retry_delay: float = 0.1,
    ) -> None:
        for name, value in (("max_queue", max_queue), ("batch_size", batch_size)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"EventWriter {name}={value!r} must be an integer >= 1")
        if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
            raise ValueError(f"EventWriter max_retries={max_retries!r} must be an integer >= 0")
        for name, delay in (("flush_interval", flush_interval), ("retry_delay", retry_delay)):
            if not delay >= 0:
                raise ValueError(f"EventWriter {name}={delay!r} must be a number of seconds >= 0")
        self._store = store
        self._max_queue = max_queue
        self._batch_size = batch_size
        self._flush_interval = flush_interval
        self._max_retries = max_retries
        self._retry_delay = retry_delay
        self._queue: queue.SimpleQueue[Event | _Marker] = queue.SimpleQueue()
        self._counts_lock = threading.Lock()
        self._closing = threading.Lock()  # orders flush markers against the stop marker
        self._dropped = self._written = self._failed = 0
        self._warned_full = False
        self._closed = False
        self._thread = self._start_thread()
        atexit.register(self.close)
        # A forked child (gunicorn --preload, multiprocessing) inherits no threads:
        # give it its own queue and writer thread, or its events would never leave.
        on_fork_in_child(self._restart_in_child)

    def _start_thread(self) -> threading.Thread:
        thread = threading.Thread(target=self._run, name="trustramp-writer", daemon=True)
        thread.start()
        return thread

    def _restart_in_child(self) -> None:
        # Events queued in the parent stay the parent's to write.
        self._queue = queue.SimpleQueue()
        self._counts_lock = threading.Lock()
        self._closing = threading.Lock()
        self._dropped = self._written = self._failed = 0
        self._warned_full = False
        if not self._closed:
            self._thread = self._start_thread()

    @property
    def dropped(self) -> int:
        """Events refused because the queue was full or the writer closed."""
        return self._dropped

    @property
    def written(self) -> int:
        """Events handed to the store successfully."""
        return self._written

    @property
    def failed(self) -> int:
        """Events given up after the store kept failing (or rejected them as invalid)."""
        return self._failed

    def submit(self, event: Event) -> bool:
        """Queue one event; False (and counted in ``dropped``) when full or closed."""
        # qsize and put are not one atomic step: with N producer threads the queue
        # may hold up to max_queue + N - 1 events, a bound that keeps submit lock-free.
        if self._closed or self._queue.qsize() >= self._max_queue:
            self._drop()
            return False
        self._queue.put(event)
        return True

    def _drop(self) -> None:
        with self._counts_lock:
            self._dropped += 1
            warn = not self._warned_full and not self._closed
            self._warned_full = self._warned_full or warn
        if warn:
            logger.warning(
                "trustramp event queue is full (max_queue=%d): dropping events until the "
                "store catches up; EventWriter.dropped counts them",
                self._max_queue,
            )

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every event submitted before this call is written or given up.

        Returns False when ``timeout`` seconds passed first (the events stay queued).
        After :meth:`close` it waits, at most ``timeout`` seconds, for the writer
        thread to finish what ``close`` left it.
        """
        marker = _Marker()
        # Under the lock close takes, our marker is either queued ahead of the stop
        # marker (so the thread reaches it) or not queued at all.
        with self._closing:
            running = not self._closed and self._thread.is_alive()
            if running:
                self._queue.put(marker)
        if running:
            return marker.reached.wait(timeout)
        return self._join(timeout)

    def close(self, timeout: float | None = 10.0) -> bool:
        """Stop accepting events, write the queued ones, and stop the thread.

        Returns True when everything was drained within ``timeout`` seconds.
        Idempotent; also runs at interpreter exit.
        """
        atexit.unregister(self.close)
        marker = _Marker(stop=True)
        with self._closing:  # one stop marker, even when two threads close at once
            already_closed, self._closed = self._closed, True
            if not already_closed:
                self._queue.put(marker)
        if already_closed:
            return self._join(timeout)
        drained = marker.reached.wait(timeout)
        self._thread.join(timeout=0 if not drained else timeout)
        return drained

    def _join(self, timeout: float | None) -> bool:
        # After close: wait for the thread to finish what close left it.
        self._thread.join(timeout)
        return not self._thread.is_alive() and self._queue.empty()

    def _run(self) -> None:
        while True:
            batch: list[Event] = []
            markers: list[_Marker] = []
            item = self._queue.get()
            deadline = time.monotonic() + self._flush_interval
            while True:
                if isinstance(item, _Marker):
                    markers.append(item)
                    break  # a flush or close waits: write what we have now
                batch.append(item)
                if len(batch) >= self._batch_size:
                    break
                try:
                    item = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
                except queue.Empty:
                    break
            if batch:
                self._write(batch)
            for marker in markers:
                marker.reached.set()
                if marker.stop:
                    return

    def _write(self, batch: Sequence[Event]) -> None:
        for attempt in range(self._max_retries + 1):
            try:
                self._store.write(batch)
            except Exception as exc:
                if isinstance(exc, ValueError) or (isinstance(exc, StoreError) and exc.rejected):
                    self._isolate(batch, exc)
                    return
                if attempt < self._max_retries:
                    time.sleep(self._retry_delay * 2**attempt)
                    continue
                logger.exception(
                    "trustramp could not write %d events after %d attempts; giving up on them",
                    len(batch),
                    attempt + 1,
                )
                self._count(failed=len(batch))
                return
            self._count(written=len(batch))
            return

    def _isolate(self, batch: Sequence[Event], exc: Exception) -> None:
        # The data itself was refused, and would be on every retry: bisect so only
        # the offending events fail, in about 2 * bad * log2(len(batch)) writes.
        if len(batch) == 1:
            event = batch[0]
            logger.error(
                "trustramp dropped %s %r, which the store rejected: %s",
                type(event).__name__,
                event.event_id,
                exc,
            )
            self._count(failed=1)
            return
        middle = len(batch) // 2
        self._write(batch[:middle])
        self._write(batch[middle:])

    def _count(self, written: int = 0, failed: int = 0) -> None:
        with self._counts_lock:
            self._written += written
            self._failed += failed
