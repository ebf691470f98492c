"""The crash harness's parts around the engine: kill points and a broker that outlives the process.

Nothing here touches production code: each fault is a wrapper or an event listener the harness
installs in its own child process.

- ``KillingDurableChain`` / ``KillingRpcChain``: the durable embedded chain or a node backend that kills
  the process (SIGKILL) right after its Nth ``send`` has returned — the receipts are durable, the engine
  never got to record what they did (the window between a chain send and the store commit).
- ``kill_in_commit``: a SQLAlchemy listener that kills the process at the Nth write commit, either
  inside it (before the database made it durable) or just after it (at the next statement).
- ``JournaledBroker``: the simulated broker keeps its book in memory; a real broker is another system
  that survives the engine's crash. This wrapper logs every call with the clock's instant (fsync'd
  before the answer is returned) and, on open, replays the log into a fresh ``SimulatedBroker`` on a
  clock that reads the recorded instants — the simulator is deterministic, so its orders, fills and
  positions come back as they were.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import zlib
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from equitoken.adapters.broker.simulated import SimulatedBroker
from equitoken.adapters.chain.backend import RawCall, RawReceipt
from equitoken.adapters.chain.durable import DurableEmbeddedBackend
from equitoken.adapters.chain.rpc import RpcBackend
from equitoken.app.brokerage import order_from_payload, order_payload
from equitoken.domain.errors import DomainError
from equitoken.domain.ids import Symbol
from equitoken.domain.instants import utc
from equitoken.domain.values import Bps
from equitoken.ports.broker import (
    BrokerCapabilities,
    BrokerFill,
    BrokerOrder,
    BrokerOrderState,
    CustodyPosition,
)
from equitoken.ports.clock import Clock
from equitoken.ports.market import MarketCalendar, PriceSource


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


# -- the broker as a system of its own ----------------------------------------------------------


class _ReplayClock:
    """The clock a replayed broker reads: the recorded instant while replaying, else the real clock."""

    def __init__(self, real: Clock) -> None:
        self.real = real
        self.fixed: datetime | None = None

    def now(self) -> datetime:
        """Return the recorded instant during a replay, the real clock's now otherwise."""
        return self.fixed if self.fixed is not None else self.real.now()


class JournaledBroker:
    """A ``SimulatedBroker`` whose every call is in an fsync'd log, replayed on open (module doc).

    The log is one line per call: its CRC-32 in hex, a space, the call as JSON. A last line cut short
    or failing its checksum is a call the process died inside, whose caller never got an answer: it
    is dropped. A bad line with whole lines after it is refused (``STORE_CORRUPT``).
    """

    def __init__(
        self, path: Path, clock: Clock, calendar: MarketCalendar, prices: PriceSource, slippage: Bps
    ) -> None:
        self._path = path
        self._clock = _ReplayClock(clock)
        records = self._read()
        opened = records[0]["at"] if records else utc(clock.now()).isoformat()
        self._clock.fixed = datetime.fromisoformat(opened)
        self._inner = SimulatedBroker(self._clock, calendar, prices, slippage)
        for record in records[1:]:
            self._clock.fixed = datetime.fromisoformat(record["at"])
            # A call refused when it was logged is refused again: the log records calls, not answers.
            with contextlib.suppress(DomainError):
                self._call(record)
        self._clock.fixed = None
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        if not records:
            self._log({"op": "open", "at": opened})

    def _read(self) -> list[dict[str, Any]]:
        if not self._path.exists():
            return []
        data = self._path.read_bytes()
        records: list[dict[str, Any]] = []
        pieces = data.split(b"\n")
        tail = pieces.pop()  # b"" when the file ends with a newline, else a line cut short
        offset = 0
        for number, line in enumerate(pieces):
            checksum, _, body = line.partition(b" ")
            try:
                whole = int(checksum, 16) == zlib.crc32(body)
            except ValueError:
                whole = False
            if not whole:
                if number == len(pieces) - 1 and not tail:
                    break  # the last line is torn: the call never happened
                raise DomainError("STORE_CORRUPT", f"line {number} of the broker log {self._path} is damaged")
            records.append(json.loads(body))
            offset += len(line) + 1
        if offset < len(data):
            os.truncate(self._path, offset)
        return records

    def _log(self, record: dict[str, Any]) -> None:
        body = json.dumps(record, separators=(",", ":")).encode()
        os.write(self._fd, f"{zlib.crc32(body):08x} ".encode() + body + b"\n")
        os.fsync(self._fd)

    def _call(self, record: Mapping[str, Any]) -> Any:
        inner, op = self._inner, record["op"]
        if op == "place":
            return inner.place(order_from_payload(record["order"]))
        if op == "cancel":
            return inner.cancel(record["id"])
        if op == "order":
            return inner.order(record["id"])
        if op == "poll":
            return inner.poll()
        if op == "positions":
            return inner.positions()
        if op == "split":
            return inner.apply_split(
                Symbol(record["symbol"]),
                Decimal(record["ratio"]),
                datetime.fromisoformat(record["effective_at"]),
            )
        raise DomainError("STORE_CORRUPT", f"unknown broker call {op!r} in {self._path}")

    def _journaled(self, record: dict[str, Any]) -> Any:
        """Make the call now, log it (answered or refused), then answer."""
        record["at"] = utc(self._clock.now()).isoformat()
        try:
            answer = self._call(record)
        except DomainError:
            self._log(record)
            raise
        self._log(record)
        return answer

    @property
    def capabilities(self) -> BrokerCapabilities:
        """Return the simulated broker's capabilities."""
        return self._inner.capabilities

    def place(self, order: BrokerOrder) -> BrokerOrderState:
        """Place ``order`` (logged)."""
        answer: BrokerOrderState = self._journaled({"op": "place", "order": order_payload(order)})
        return answer

    def cancel(self, client_order_id: str) -> BrokerOrderState:
        """Cancel an order (logged)."""
        answer: BrokerOrderState = self._journaled({"op": "cancel", "id": client_order_id})
        return answer

    def order(self, client_order_id: str) -> BrokerOrderState | None:
        """Return an order's state (logged: asking brings the simulator up to now)."""
        answer: BrokerOrderState | None = self._journaled({"op": "order", "id": client_order_id})
        return answer

    def poll(self) -> list[BrokerFill]:
        """Return the fills since the last poll (logged)."""
        answer: list[BrokerFill] = self._journaled({"op": "poll"})
        return answer

    def positions(self) -> Mapping[Symbol, CustodyPosition]:
        """Return the custodian's positions now (logged)."""
        answer: Mapping[Symbol, CustodyPosition] = self._journaled({"op": "positions"})
        return answer

    def apply_split(self, symbol: Symbol, ratio: Decimal, effective_at: datetime) -> CustodyPosition:
        """Record a split at the custodian (logged)."""
        record = {
            "op": "split",
            "symbol": str(symbol),
            "ratio": str(ratio),
            "effective_at": effective_at.isoformat(),
        }
        answer: CustodyPosition = self._journaled(record)
        return answer

    def close(self) -> None:
        """Close the log."""
        os.close(self._fd)


BrokerFactory = Callable[[], JournaledBroker]
