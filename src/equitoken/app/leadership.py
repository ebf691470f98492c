"""Which of several ``serve`` processes runs the engine: the one that holds the lease, the others follow.

The engine is one single writer over every listing — the desk, the investors' cash, the key book
and the audit trail are shared by all of them — so one lease covers the whole engine rather than one
per listing: partitioning it would split units of work that today commit together.

A process campaigns every ``retry`` seconds. The one that takes the lease (``ports.lease``) opens the
service — the engine reopens from the journal as after any restart: listings, working orders, the
outbox matched to the chain — starts its ticker, and only then journals ``LeaderElected`` (stream
``leadership``: who, the URL it is reached at, since when), so a follower never sends a request to a
process still opening. The others read the latest ``LeaderElected`` to know where to send requests.
When the leader dies its lease is freed by the database or the operating system (no clocks, no
votes), and the next try of a follower takes it. A leader that finds its lease lost while it lives
stops at once (``on_fatal``): another may already run the engine, and a restart is the recovery.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Generic, Protocol, TypeVar

from equitoken.domain.errors import DomainError
from equitoken.domain.instants import utc
from equitoken.issuance import journal
from equitoken.ports import Clock, Store
from equitoken.ports.lease import Lease

log = logging.getLogger(__name__)

STREAM = "leadership"


@dataclass(frozen=True, slots=True)
class LeaderElected:
    """A process took the engine's lease and serves it at ``url`` (journaled once it is open)."""

    at: datetime
    process: str
    url: str


LEADERSHIP_EVENTS = (LeaderElected,)


class Role(StrEnum):
    """What this process does with the engine."""

    FOLLOWER = "follower"
    OPENING = "opening"
    """The lease is held and the engine is being reopened from the journal."""
    LEADER = "leader"


class Closable(Protocol):
    """What a leader runs: something to close when it steps down (the service)."""

    def close(self) -> None:
        """Stop and release it."""
        ...


S = TypeVar("S", bound=Closable)
Fatal = Callable[[DomainError], None]


def process_name() -> str:
    """Return a name for this process unique across machines and restarts: host, pid, a random tag."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Leadership(Generic[S]):
    """Campaign for the engine's lease; open and run the service ``open_service`` builds while it is held."""

    def __init__(
        self,
        lease: Lease,
        open_store: Callable[[], Store],
        clock: Clock,
        url: str,
        open_service: Callable[[], S],
        *,
        retry: float,
        on_fatal: Fatal,
    ) -> None:
        self.lease = lease
        self._open_store = open_store
        self._store: Store | None = None
        self.clock = clock
        self.url = url
        self.process = process_name()
        self.retry = retry
        self._open_service = open_service
        self._on_fatal = on_fatal
        self.role = Role.FOLLOWER
        self.service: S | None = None
        self.leader: LeaderElected | None = None
        """The latest leader on the journal (this process once it leads); ``None`` before any."""
        self._seen = 0
        self._reading = threading.Lock()  # refresh runs on the campaign thread and the API's
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def store(self) -> Store:
        """Return the store who leads is journaled in (opened on first use, so a refusal opens nothing)."""
        if self._store is None:
            self._store = self._open_store()
        return self._store

    def campaign(self) -> bool:
        """Try once to take the lease and open the service; return whether this process now leads.

        A failure to open the service gives the lease back and raises: nothing is half-open.
        """
        if self.role is Role.LEADER:
            return True
        if not self.lease.try_acquire():
            self.refresh()
            return False
        self.role = Role.OPENING
        service: S | None = None
        try:
            service = self._open_service()
            at = utc(self.clock.now())
            elected = LeaderElected(at, self.process, self.url)
            journal.append(self.store, STREAM, f"elected:{self.process}", at, elected)
        except BaseException:
            if service is not None:
                service.close()
            self.role = Role.FOLLOWER
            self.lease.release()
            raise
        self.service = service
        self.leader = elected
        self.role = Role.LEADER
        log.warning("leading the engine", extra={"url": self.url, "lease": self.lease.name})
        return True

    def refresh(self) -> LeaderElected | None:
        """Read the latest ``LeaderElected`` from the journal (what came since the last read)."""
        with self._reading:
            for stored in self.store.events(STREAM, after_seq=self._seen):
                self._seen = stored.seq
                event = journal.decode(stored, LEADERSHIP_EVENTS)
                if isinstance(event, LeaderElected):
                    self.leader = event
            return self.leader

    def start(self) -> None:
        """Campaign (a follower) or watch the lease (the leader) every ``retry`` seconds, on a thread."""
        if self._thread is not None:
            return

        def run() -> None:
            while not self._stopping.wait(self.retry):
                self.step()

        self._thread = threading.Thread(target=run, name="equitoken-leadership", daemon=True)
        self._thread.start()

    def step(self) -> None:
        """Do one round: a follower tries the lease, a leader checks it still holds it."""
        if self.role is Role.LEADER:
            if not self.lease.held():
                self._on_fatal(
                    DomainError("LEASE_LOST", f"this process lost the engine's lease ({self.lease.name})")
                )
            return
        try:
            self.campaign()
        except DomainError as failed:
            if self.role is Role.FOLLOWER and failed.code == "STORE_UNAVAILABLE":
                log.error("campaign failed", extra={"code": failed.code, "reason": failed.message})
                return  # the database is away: the next round tries again
            self._on_fatal(failed)
        except Exception as bug:  # a thread that dies silently would leave a follower that never leads
            log.exception("campaign failed")
            self._on_fatal(
                DomainError("INTERNAL_ERROR", f"the campaign for the lease failed ({type(bug).__name__})")
            )

    def stop(self) -> None:
        """Stop campaigning, close the service if this process leads, and give the lease back."""
        self._stopping.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join()
        self._thread = None
        if self.service is not None:
            self.service.close()
            self.service = None
        self.role = Role.FOLLOWER
        self.lease.release()
        if self._store is not None:
            self._store.close()
            self._store = None
