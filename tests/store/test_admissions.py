"""Absolute audience caps: first come first served, sticky, never exceeded under concurrency."""

from __future__ import annotations

import threading

import pytest

from trustramp.store import SqlStore, open_store


def test_first_come_first_served_and_sticky(store: SqlStore) -> None:
    results = [store.admit("advice", "beta", f"u{i}", cap=3) for i in range(5)]
    assert results == [True, True, True, False, False]
    assert store.admitted_units("advice", "beta") == frozenset({"u0", "u1", "u2"})
    # Sticky: an admitted unit stays in, even once the cap is lowered below the count.
    assert store.admit("advice", "beta", "u1", cap=3)
    assert store.admit("advice", "beta", "u2", cap=1)
    assert not store.admit("advice", "beta", "u4", cap=3)
    # Caps are per feature and phase.
    assert store.admit("advice", "early", "u4", cap=1)
    assert store.admit("other", "beta", "u4", cap=1)
    assert store.admitted_units("advice", "early") == frozenset({"u4"})
    assert not store.admit("advice", "ga", "u9", cap=0)


def test_concurrent_admissions_never_exceed_the_cap(store_url: str) -> None:
    # Each thread has its own store (own connections), like separate processes would.
    stores = [open_store(store_url) for _ in range(4)]
    admitted: list[str] = []
    errors: list[BaseException] = []
    start = threading.Barrier(len(stores))
    lock = threading.Lock()

    def admit_many(store: object, offset: int) -> None:
        assert isinstance(store, SqlStore)
        start.wait()
        try:
            for i in range(15):
                unit = f"u{offset}-{i}"
                if store.admit("advice", "beta", unit, cap=10):
                    with lock:
                        admitted.append(unit)
        except BaseException as exc:  # collected: the assertion below reports it
            errors.append(exc)

    threads = [threading.Thread(target=admit_many, args=(s, n)) for n, s in enumerate(stores)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for store in stores:
        store.close()
    # A thread's exception is only a warning to pytest: an unserialized admission on
    # SQLite fails with "database is locked" while the others still fill the cap.
    assert errors == []
    assert len(admitted) == 10
    check = open_store(store_url)
    assert check.admitted_units("advice", "beta") == frozenset(admitted)
    check.close()


@pytest.mark.parametrize("cap", [-1, 2.5, True, "10"])
def test_bad_cap_is_refused(store: SqlStore, cap: object) -> None:
    with pytest.raises(
        ValueError, match=r"admit\(feature='advice', phase='beta'\): cap=.* integer >= 0"
    ):
        store.admit("advice", "beta", "u1", cap=cap)  # type: ignore[arg-type]
