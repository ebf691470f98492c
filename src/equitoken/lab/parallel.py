"""Run independent tasks in series, on local processes or on a Dask cluster, with the same results.

A lab sweep is a grid of runs that share nothing, so they may run anywhere: here one after the other,
on a pool of local worker processes, or on the workers of a Dask cluster given by its scheduler's
address. Whichever way, ``run_all`` answers the results in task order, and a failing task fails the
call the same way: the lowest-numbered task that fails is the one reported, as in series.

Local workers are *spawned*, never forked: the engine holds native state (the EVM, open stores) that a
forked child would share with its parent. So ``fn`` must be a module-level function, and each task
and result picklable; a worker imports ``fn``'s module afresh.
"""

from __future__ import annotations

import multiprocessing
import os
import socket
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any, Protocol, TypeVar
from urllib.parse import urlsplit

from equitoken.domain.errors import DomainError

__all__ = ["CONNECT_TIMEOUT_SECONDS", "run_all"]

T = TypeVar("T")
R = TypeVar("R")
R_co = TypeVar("R_co", covariant=True)

CONNECT_TIMEOUT_SECONDS = 10
"""How long to wait for a scheduler to answer before refusing its address."""

UNREACHABLE = "LAB_SCHEDULER_UNREACHABLE"
SCHEMES = ("tcp", "tls")


class _Future(Protocol[R_co]):  # what both concurrent.futures and distributed futures offer
    def result(self) -> R_co: ...

    def exception(self) -> BaseException | None: ...


def run_all(
    fn: Callable[[T], R],
    tasks: Sequence[T],
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[R]:
    """Apply ``fn`` to every task and return the results in task order, however they were run.

    ``scheduler`` (``tcp://host:port``) runs the tasks on that Dask cluster's workers (``workers`` is
    then only checked); otherwise ``workers=1`` runs them here in series, and any other number on that
    many spawned local processes (default: one per CPU). Fewer than two tasks always run here.
    ``progress(done, total)`` is called after each task finishes.

    A task that raises ``DomainError`` fails the call with a ``DomainError`` of the same code whose
    message starts ``task <index>: ``; any other exception propagates as it was raised. Refuse
    ``workers < 1`` and a malformed scheduler address (``INVALID_SETTING``), and a scheduler that does
    not answer within ``CONNECT_TIMEOUT_SECONDS`` (``LAB_SCHEDULER_UNREACHABLE``).
    """
    check_where(workers, scheduler)
    tasks = list(tasks)
    if scheduler is not None:
        return _on_cluster(fn, tasks, scheduler, progress)
    if workers == 1 or len(tasks) < 2:
        return _in_series(fn, tasks, progress)
    # More processes than tasks would only be spawned to sit idle.
    size = min(workers or os.cpu_count() or 1, len(tasks))
    return _on_processes(fn, tasks, size, progress)


def _in_series(fn: Callable[[T], R], tasks: list[T], progress: Callable[[int, int], None] | None) -> list[R]:
    results: list[R] = []
    for index, task in enumerate(tasks):
        try:
            results.append(fn(task))
        except DomainError as error:
            raise _numbered(index, error) from error
        if progress is not None:
            progress(index + 1, len(tasks))
    return results


def _on_processes(
    fn: Callable[[T], R], tasks: list[T], size: int, progress: Callable[[int, int], None] | None
) -> list[R]:
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=size, mp_context=context) as pool:
        futures = [pool.submit(fn, task) for task in tasks]

        def cancel(start: int) -> None:
            for future in futures[start:]:
                future.cancel()

        try:
            return _collect(futures, as_completed(futures), cancel, progress)
        except BaseException:
            # Do not leave queued tasks to run after the caller has its answer (or its interrupt).
            pool.shutdown(wait=True, cancel_futures=True)
            raise


def _on_cluster(
    fn: Callable[[T], R], tasks: list[T], scheduler: str, progress: Callable[[int, int], None] | None
) -> list[R]:
    _check_reachable(scheduler)
    import distributed  # here only: importing it costs the CLI a second it need not spend otherwise

    try:
        client = distributed.Client(scheduler, timeout=CONNECT_TIMEOUT_SECONDS)  # type: ignore[no-untyped-call]
    except (OSError, TimeoutError) as error:
        message = f"the Dask scheduler at {scheduler} does not answer: {error}"
        raise DomainError(UNREACHABLE, message) from error
    with client:
        # Closing the client releases its futures, so nothing of this call outlives it on the cluster.
        futures: list[Any] = client.map(fn, tasks, pure=False)

        def cancel(start: int) -> None:
            client.cancel(futures[start:])  # type: ignore[no-untyped-call]

        completed = distributed.as_completed(futures)  # type: ignore[no-untyped-call]
        return _collect(futures, completed, cancel, progress)


def check_where(workers: int | None, scheduler: str | None) -> None:
    """Refuse a bad worker count or scheduler before any work (what ``run_all`` checks first)."""
    if workers is not None and workers < 1:
        raise DomainError("INVALID_SETTING", f"workers must be at least 1, not {workers}")
    if scheduler is not None:
        _check_reachable(scheduler)


def _check_reachable(scheduler: str, timeout: float | None = None) -> None:
    """Refuse a malformed address, one where nothing listens, and one that is not a Dask scheduler.

    Dask's client retries a refused connection until its timeout runs out, and waits without end on
    a port that accepts but never answers; a plain connect answers a closed port at once, and a Dask
    scheduler greets a new connection with its handshake at once, so anything else is refused after
    the timeout instead of hanging the run.
    """
    wait = CONNECT_TIMEOUT_SECONDS if timeout is None else timeout
    try:
        parts = urlsplit(scheduler)
        port = parts.port
    except ValueError:  # an address that does not parse (an unclosed IPv6 bracket, say)
        parts, port = None, None
    if (
        parts is None
        or parts.scheme not in SCHEMES
        or not parts.hostname
        or port is None
        or parts.path not in ("", "/")
    ):
        raise DomainError(
            "INVALID_SETTING", f"the scheduler address must read tcp://host:port, not {scheduler!r}"
        )
    try:
        with socket.create_connection((parts.hostname, port), timeout=wait) as probe:
            try:
                greeting = probe.recv(1)
            except TimeoutError:
                greeting = b""
    except OSError as error:
        raise DomainError(UNREACHABLE, f"nothing answers at {scheduler}: {error}") from error
    if not greeting:
        raise DomainError(
            UNREACHABLE,
            f"{scheduler} accepts connections but sent no Dask handshake within {wait:g} s:"
            " it is not a Dask scheduler",
        )


def _collect(
    futures: Sequence[_Future[R]],
    completed: Iterable[_Future[R]],
    cancel: Callable[[int], object],
    progress: Callable[[int, int], None] | None,
) -> list[R]:
    """Gather the results as they finish; on a failure, report the lowest-numbered failing task.

    A later task's failure may arrive first. The tasks after it are cancelled (``cancel(start)``
    cancels those numbered ``start`` on) and the ones before it are waited for, so the error raised
    is the one running them in series would raise.
    """
    index = {future: number for number, future in enumerate(futures)}
    results: dict[int, R] = {}
    for done, future in enumerate(completed, start=1):
        number = index[future]
        error = future.exception()
        if error is not None:
            cancel(number + 1)
            for earlier, before in enumerate(futures[:number]):
                if (first := before.exception()) is not None:
                    number, error = earlier, first
                    break
            if isinstance(error, DomainError):
                raise _numbered(number, error) from error
            raise error
        results[number] = future.result()
        if progress is not None:
            progress(done, len(futures))
    return [results[number] for number in range(len(futures))]


def _numbered(index: int, error: DomainError) -> DomainError:
    # DomainError picks InfrastructureError itself for an infrastructure code, so the kind survives.
    return DomainError(error.code, f"task {index}: {error.message}", error.details)
