"""The crash harness's parts around the engine: kill points and a broker that outlives the process.

Nothing here touches production code: each fault is a wrapper or an event listener the harness
installs in its own child process.

- ``KillingDurableChain`` / ``KillingRpcChain``: the durable embedded chain or a node backend that kills
  the process (SIGKILL) right after its Nth ``send`` has returned — the receipts are durable, the engine
  never got to record what they did (the window between a chain send and the store commit).
- ``kill_in_commit``: a SQLAlchemy listener that kills the process at the Nth write commit, either
  inside it (before the database made it durable) or just after it (at the next statement).

The broker accounts the children trade through outlive them as a real broker would:
``adapters.broker.durable.DurableSimulatedBroker``.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Sequence
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from equitoken.adapters.chain.backend import RawCall, RawReceipt
from equitoken.adapters.chain.durable import DurableEmbeddedBackend
from equitoken.adapters.chain.rpc import RpcBackend


def die() -> None:
    """Kill this process now, as ``kill -9`` would: no cleanup, no flush, no exit handler."""
    os.kill(os.getpid(), signal.SIGKILL)


class SendCounter:
    """Count chain sends that returned; kill the process after the ``kill_after``-th (0: never)."""

    def __init__(self, kill_after: int = 0) -> None:
        self.kill_after = kill_after
        self.sends = 0
        self.armed = False
        """Sends count only once the harness arms the kill (after the setup)."""

    def returned(self) -> None:
        """Note one send that returned its receipts; die if it is the chosen one."""
        if not self.armed:
            return
        self.sends += 1
        if self.kill_after and self.sends >= self.kill_after:
            die()


class KillingDurableChain(DurableEmbeddedBackend):
    """The durable embedded chain, dying right after the Nth ``send`` returned (``SendCounter``)."""

    counter: SendCounter = SendCounter()

    def send(self, calls: Sequence[RawCall]) -> list[RawReceipt]:
        """Send (the block is in the log before this returns), then maybe die."""
        receipts = super().send(calls)
        if calls:
            self.counter.returned()
        return receipts


class KillingRpcChain(RpcBackend):
    """A node backend, dying right after the Nth ``send`` returned (``SendCounter``)."""

    counter: SendCounter = SendCounter()

    def send(self, calls: Sequence[RawCall]) -> list[RawReceipt]:
        """Send (the node has mined the calls when this returns), then maybe die."""
        receipts = super().send(calls)
        if calls:
            self.counter.returned()
        return receipts


class CommitKiller:
    """Kill the process at the Nth write commit of any SQLAlchemy engine in this process (0: count only).

    ``inside``: in the commit event itself, before the database commits (the unit of work is lost);
    otherwise after it, at the next statement or transaction (the unit is durable, the caller never
    heard so). Only write transactions count (the store begins them with its write option).
    """

    def __init__(self, nth: int, *, inside: bool) -> None:
        self.nth = nth
        self.inside = inside
        self.commits = 0
        self.armed = False
        self._due = False

    def install(self) -> None:
        """Listen on every engine (the store's included) for commits and statements."""
        event.listen(Engine, "commit", self._on_commit)
        event.listen(Engine, "begin", self._on_next)
        event.listen(Engine, "before_execute", self._on_next_execute)

    def _on_commit(self, conn: Connection) -> None:
        if not self.armed or not conn.get_execution_options().get("equitoken_write"):
            return
        self.commits += 1
        if self.nth and self.commits >= self.nth:
            if self.inside:
                die()
            self._due = True

    def _on_next(self, conn: Connection) -> None:
        if self._due:
            die()

    def _on_next_execute(self, conn: Connection, *args: Any) -> None:
        if self._due:
            die()

