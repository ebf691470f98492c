"""Many writers at once, threads and processes together, on one SQLite file (WAL) or PostgreSQL schema.

Every writer posts its own entries, and all of them race on a set of shared keys (same body: exactly
one must create it, the others get it back) and on conflict keys (each writer a different body:
exactly one wins, every other writer is refused). Afterwards the book must hold exactly the expected
keys, once each, under contiguous seq numbers, with balances equal to the sum of what was posted.
"""

from __future__ import annotations

import multiprocessing
import threading
import traceback
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal, localcontext
from multiprocessing.synchronize import Barrier
from pathlib import Path
from typing import Any

import pytest

from equitoken.adapters.store._rules import EXACT
from equitoken.adapters.store.sql import SqlStore
from equitoken.domain import DomainError, InvestorId, Symbol
from equitoken.ledger import Account, AccountKind, Asset, EntryDraft, derive_balances, move
from tests.store_backends import postgres_schema

THREADS = 4
PROCESSES = 3
WORKERS = THREADS + PROCESSES
OWN = 30  # entries only this writer posts (a third of them in batches)
SHARED = 12  # keys every writer posts with the same body
CONFLICTS = 4  # keys every writer posts with its own body
EVENTS = 10  # own events per writer, plus SHARED shared event keys

T0 = datetime(2024, 5, 28, 13, 30, tzinfo=UTC)
USD = Asset.cash()
TOKEN = Asset.token(Symbol("AAPL"), "evm-31337")
BANK = Account.of(AccountKind.EXTERNAL_BANK)
CHAIN = Account.of(AccountKind.EXTERNAL_CHAIN)
POOL = Account.of(AccountKind.BUFFER_POOL)


def investor(worker: int) -> Account:
    return Account.of(AccountKind.INVESTOR_CASH, InvestorId(f"inv-{worker}"))


def holder(worker: int) -> Account:
    return Account.of(AccountKind.INVESTOR_TOKENS, Symbol("AAPL"), InvestorId(f"inv-{worker}"))


def own_draft(worker: int, n: int) -> EntryDraft:
    amount = f"{n + 1}.{worker:02d}0000000000000001"  # every digit counts: a float would lose them
    return EntryDraft(
        f"w{worker}-{n}",
        T0 + timedelta(seconds=n),
        [
            *move(USD, amount, debit=investor(worker), credit=BANK),
            *move(TOKEN, "0.000000000000000001", debit=holder(worker), credit=CHAIN),
        ],
    )


def shared_draft(n: int) -> EntryDraft:
    postings = move(USD, 10**20 + n, debit=POOL, credit=BANK)
    return EntryDraft(f"shared-{n}", T0 + timedelta(minutes=n), postings)


def conflict_draft(n: int, worker: int) -> EntryDraft:
    return EntryDraft(f"conflict-{n}", T0, move(USD, worker + 1, debit=investor(worker), credit=BANK))


def work(store: SqlStore, worker: int, barrier: Barrier | threading.Barrier) -> dict[str, Any]:
    """Post this writer's share of the load; report which keys it created and which it was refused."""
    created: list[str] = []
    refused: list[str] = []
    barrier.wait(timeout=120)
    batch: list[EntryDraft] = []
    for n in range(OWN):
        # Interleave so that every writer hits the shared and conflict keys at about the same time.
        if n % 3 == 0:
            batch.append(own_draft(worker, n))
            if len(batch) == 2:
                created += [r.entry.key for r in store.post_many(batch) if r.created]
                batch = []
        elif store.post(own_draft(worker, n)).created:
            created.append(f"w{worker}-{n}")
        if n < SHARED and store.post(shared_draft(n)).created:
            created.append(f"shared-{n}")
        if n < CONFLICTS:
            try:
                if store.post(conflict_draft(n, worker)).created:
                    created.append(f"conflict-{n}")
            except DomainError as error:
                assert error.code == "IDEMPOTENCY_CONFLICT", error
                refused.append(f"conflict-{n}")
        if n < EVENTS:
            store.append_event(f"s{worker}", "Happened", f"ev-w{worker}-{n}", T0, {"n": n})
            shared_event = store.append_event("shared", "Happened", f"ev-shared-{n}", T0, {"n": n})
            assert shared_event.payload == {"n": n}
    if batch:
        created += [r.entry.key for r in store.post_many(batch) if r.created]
    return {"worker": worker, "created": created, "refused": refused}


def process_main(url: str, worker: int, barrier: Barrier, results: Any) -> None:
    """Run one writer in a child process and send its report back."""
    try:
        store = SqlStore.open(url)
        try:
            results.put(work(store, worker, barrier))
        finally:
            store.close()
    except BaseException:
        results.put({"worker": worker, "error": traceback.format_exc()})
        barrier.abort()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'equitoken.db'}"
    else:
        with postgres_schema() as schema_url:
            yield schema_url


def test_concurrent_threads_and_processes_lose_and_duplicate_nothing(url: str) -> None:
    store = SqlStore.open(url)  # the parent migrates first; children open (and re-check) it too
    try:
        reports = _race(store, url)
        _check_book(store, reports)
    finally:
        store.close()


def _race(store: SqlStore, url: str) -> list[dict[str, Any]]:
    spawn = multiprocessing.get_context("spawn")
    barrier = spawn.Barrier(WORKERS)
    results = spawn.Queue()
    processes = [
        spawn.Process(target=process_main, args=(url, THREADS + p, barrier, results))
        for p in range(PROCESSES)
    ]
    for process in processes:
        process.start()
    reports: list[dict[str, Any]] = []
    failures: list[str] = []

    def thread_main(worker: int) -> None:
        try:
            reports.append(work(store, worker, barrier))
        except BaseException:
            failures.append(traceback.format_exc())
            barrier.abort()

    threads = [threading.Thread(target=thread_main, args=(t,)) for t in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)
    for _ in processes:
        report = results.get(timeout=180)
        if "error" in report:
            failures.append(report["error"])
        else:
            reports.append(report)
    for process in processes:
        process.join(timeout=30)
        assert process.exitcode == 0
    assert not failures, "\n".join(failures)
    assert sorted(r["worker"] for r in reports) == list(range(WORKERS))
    return reports


def _check_book(store: SqlStore, reports: list[dict[str, Any]]) -> None:
    entries = list(store.entries())
    keys = [entry.key for entry in entries]
    own = {f"w{w}-{n}" for w in range(WORKERS) for n in range(OWN)}
    shared = {f"shared-{n}" for n in range(SHARED)}
    conflicts = {f"conflict-{n}" for n in range(CONFLICTS)}
    assert len(keys) == len(set(keys)), "an entry was written twice"
    assert set(keys) == own | shared | conflicts, "an entry was lost or invented"
    assert [entry.seq for entry in entries] == list(range(1, len(entries) + 1))

    # Each key was created by exactly one writer; every other writer got it back or was refused.
    creators = Counter(key for report in reports for key in report["created"])
    assert creators == Counter(set(keys))
    refusals = Counter(key for report in reports for key in report["refused"])
    assert refusals == Counter({key: WORKERS - 1 for key in conflicts})

    # The conflict keys hold the winner's body, and balances are the sum of everything posted.
    winners = {key: report["worker"] for report in reports for key in report["created"] if key in conflicts}
    drafts = [own_draft(w, n) for w in range(WORKERS) for n in range(OWN)]
    drafts += [shared_draft(n) for n in range(SHARED)]
    drafts += [conflict_draft(int(key.split("-")[1]), worker) for key, worker in winners.items()]
    by_key = {draft.key: draft for draft in drafts}
    assert all(entry.draft == by_key[entry.key] for entry in entries)
    expected: dict[tuple[Account, Asset], Decimal] = defaultdict(Decimal)
    with localcontext(EXACT):
        for draft in drafts:
            for posting in draft.postings:
                expected[(posting.account, posting.asset)] += posting.amount
        assert store.balances() == {k: v for k, v in expected.items() if v != 0}
        assert store.balances() == derive_balances(entries)
    assert store.balance(holder(0), TOKEN) == Decimal("0.000000000000000001") * OWN

    events = list(store.events())
    event_keys = [event.key for event in events]
    assert len(event_keys) == len(set(event_keys))
    expected_events = {f"ev-w{w}-{n}" for w in range(WORKERS) for n in range(EVENTS)}
    expected_events |= {f"ev-shared-{n}" for n in range(EVENTS)}
    assert set(event_keys) == expected_events
    assert [event.seq for event in events] == list(range(1, len(events) + 1))
