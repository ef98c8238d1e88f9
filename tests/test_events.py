"""Event ids: unique, and in creation order within a process (the store's tie-break)."""

from __future__ import annotations

from trustramp.events import new_event_id


def test_ids_of_one_process_sort_in_the_order_they_were_drawn() -> None:
    ids = [new_event_id() for _ in range(5000)]  # crosses every change of digit count
    assert len(set(ids)) == len(ids)
    assert sorted(ids) == ids
