"""The parallel runner: the same results in series, on spawned processes and on a Dask cluster."""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterator
from decimal import Decimal

import pytest

from equitoken.domain.errors import DomainError, InfrastructureError
from equitoken.lab.parallel import _check_reachable, run_all
from tests.lab import tasks

SQUARES = [(number, f"{number}.{number}5") for number in range(12)]
EXPECTED = [(number, str(Decimal(text) * Decimal(text))) for number, text in SQUARES]


@pytest.fixture(scope="module")
def scheduler() -> Iterator[str]:
    """Start one local Dask cluster (two worker processes) for the module, and close it after."""
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
    ) as cluster:
        yield cluster.scheduler_address


def test_series_processes_and_cluster_give_the_same_results(scheduler: str) -> None:
    in_series = run_all(tasks.square, SQUARES, workers=1)
    on_processes = run_all(tasks.square, SQUARES, workers=2)
    by_default = run_all(tasks.square, SQUARES)
    on_cluster = run_all(tasks.square, SQUARES, scheduler=scheduler)
    assert in_series == EXPECTED
    assert on_processes == in_series
    assert by_default == in_series
    assert on_cluster == in_series


def test_results_keep_task_order_when_tasks_finish_out_of_order(scheduler: str) -> None:
    # The first tasks sleep longest, so they finish last.
    sleeps = [(number, 0.4 - 0.1 * number) for number in range(4)]
    assert run_all(tasks.sleepy, sleeps, workers=2) == [0, 1, 2, 3]
    assert run_all(tasks.sleepy, sleeps, scheduler=scheduler) == [0, 1, 2, 3]


def test_processes_are_spawned_and_one_worker_runs_here() -> None:
    assert set(run_all(tasks.pid, range(4), workers=1)) == {os.getpid()}
    assert os.getpid() not in run_all(tasks.pid, range(4), workers=2)
    # A single task is not worth a pool: it runs here whatever the number of workers.
    assert run_all(tasks.pid, [0], workers=4) == [os.getpid()]
    assert run_all(tasks.pid, []) == []


@pytest.mark.parametrize("how", ["series", "processes", "cluster"])
def test_a_refusal_names_the_lowest_failing_task(how: str, request: pytest.FixtureRequest) -> None:
    where: dict[str, object] = {"series": {"workers": 1}, "processes": {"workers": 3}}.get(how, {})
    if how == "cluster":
        where = {"scheduler": request.getfixturevalue("scheduler")}
    # Task 1 fails after a pause, task 3 at once: series would report task 1, and so must the others.
    with pytest.raises(DomainError) as raised:
        run_all(tasks.refuse_odd, range(6), **where)  # type: ignore[arg-type]
    assert raised.value.code == "INVALID_SETTING"
    assert raised.value.message == "task 1: 1 is odd"


@pytest.mark.parametrize("workers", [1, 2])
def test_any_other_exception_propagates_unchanged(workers: int) -> None:
    with pytest.raises(KeyError, match="no 2"):
        run_all(tasks.crash, range(4), workers=workers)


def test_another_exception_propagates_from_the_cluster(scheduler: str) -> None:
    with pytest.raises(KeyError, match="no 2"):
        run_all(tasks.crash, range(4), scheduler=scheduler)


@pytest.mark.parametrize("how", [{"workers": 1}, {"workers": 2}, "cluster"])
def test_progress_is_called_once_per_task(how: object, request: pytest.FixtureRequest) -> None:
    where = {"scheduler": request.getfixturevalue("scheduler")} if how == "cluster" else how
    calls: list[tuple[int, int]] = []
    run_all(tasks.square, SQUARES[:5], progress=lambda done, total: calls.append((done, total)), **where)  # type: ignore[arg-type]
    assert calls == [(done, 5) for done in range(1, 6)]


def test_an_unreachable_scheduler_is_refused_fast() -> None:
    started = time.monotonic()
    with pytest.raises(InfrastructureError) as raised:
        run_all(tasks.square, SQUARES, scheduler="tcp://127.0.0.1:1")
    assert raised.value.code == "LAB_SCHEDULER_UNREACHABLE"
    assert time.monotonic() - started < 5


@pytest.mark.parametrize(
    "address",
    ["127.0.0.1:8786", "tcp://127.0.0.1", "http://127.0.0.1:8786", "tcp://:8786", "tcp://[::1:1"],
)
def test_a_malformed_scheduler_address_is_refused(address: str) -> None:
    with pytest.raises(DomainError) as raised:
        run_all(tasks.square, SQUARES, scheduler=address)
    assert raised.value.code == "INVALID_SETTING"


def test_a_port_that_accepts_but_is_not_a_dask_scheduler_is_refused() -> None:
    # A listener that accepts and never says a word: Dask's client would wait on it without end.
    with socket.create_server(("127.0.0.1", 0)) as silent:
        port = silent.getsockname()[1]
        with pytest.raises(InfrastructureError) as raised:
            _check_reachable(f"tcp://127.0.0.1:{port}", timeout=0.5)
    assert raised.value.code == "LAB_SCHEDULER_UNREACHABLE"
    assert "no Dask handshake" in raised.value.message


@pytest.mark.parametrize("workers", [0, -1])
def test_fewer_than_one_worker_is_refused(workers: int) -> None:
    with pytest.raises(DomainError) as raised:
        run_all(tasks.square, SQUARES, workers=workers)
    assert raised.value.code == "INVALID_SETTING"
