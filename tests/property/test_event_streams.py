"""Reading one stream gives exactly the whole log filtered to it, after any appends and rollbacks.

The in-memory store indexes events by stream (so the engine's frequent reads of small streams do
not walk the whole log); the index must never disagree with the log, whatever order appends,
repeats, failed units of work and ``after_seq`` cursors come in. The SQL store answers the same
reads from its own index and is held to the same rule.
"""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from equitoken.adapters.store.memory import MemoryStore
from equitoken.adapters.store.sql import SqlStore
from equitoken.ports.store import Store

T0 = datetime(2013, 1, 2, 15, tzinfo=UTC)
STREAMS = ("orders", "investors", "actions")


class _Abort(Exception):
    """Raised inside a unit of work to make the store roll it back."""


steps = st.lists(
    st.tuples(
        st.sampled_from(STREAMS),
        st.integers(0, 12),  # the event's key number: repeats hit an existing event
        st.booleans(),  # True: this append's unit of work fails and rolls back
    ),
    max_size=30,
)


def _check(store: Store, cursors: list[int]) -> None:
    log = list(store.events())
    for stream in (*STREAMS, "never-written"):
        for after in (0, *cursors):
            expected = [e for e in log if e.stream == stream and e.seq > after]
            assert list(store.events(stream, after_seq=after)) == expected
    for after in cursors:
        assert list(store.events(after_seq=after)) == [e for e in log if e.seq > after]


def _play(store: Store, plan: list[tuple[str, int, bool]], cursors: list[int]) -> None:
    for stream, number, fails in plan:
        # The key fixes the stream, so a repeat is the same body (an idempotent no-op).
        key, payload = f"{stream}-{number}", {"n": number}
        if fails:
            with pytest.raises(_Abort), store.transaction():
                store.append_event(stream, "happened", key, T0, payload)
                raise _Abort
        else:
            store.append_event(stream, "happened", key, T0, payload)
        _check(store, cursors)


@settings(max_examples=80, deadline=None)
@given(plan=steps, cursors=st.lists(st.integers(0, 35), max_size=4))
def test_memory_stream_reads_match_the_log(plan: list[tuple[str, int, bool]], cursors: list[int]) -> None:
    _play(MemoryStore(), plan, cursors)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plan=steps, cursors=st.lists(st.integers(0, 35), max_size=3))
def test_sql_stream_reads_match_the_log(plan: list[tuple[str, int, bool]], cursors: list[int]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        store = SqlStore.open(f"sqlite:///{Path(folder) / 'events.db'}")
        try:
            _play(store, plan, cursors)
        finally:
            store.close()
