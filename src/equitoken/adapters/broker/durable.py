"""A simulated broker that outlives the process: every call in an fsync'd log, replayed on open.

The simulated broker keeps its book in memory; a real broker is another system that survives the
engine's crash or restart. ``DurableSimulatedBroker`` logs every call with the clock's instant (fsync'd
before the answer is returned) and, on open, replays the log into a fresh ``SimulatedBroker`` on a
clock that reads the recorded instants — the simulator is deterministic, so its orders, fills and
positions come back as they were. ``equitoken serve`` trades through one per listing; the crash
harness kills processes around it.
"""

from __future__ import annotations

import contextlib
import json
import os
import zlib
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from equitoken.adapters.broker.simulated import SimulatedBroker
from equitoken.domain.codec import from_dict, to_dict
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


class _ReplayClock:
    """The clock a replayed broker reads: the recorded instant while replaying, else the real clock."""

    def __init__(self, real: Clock) -> None:
        self.real = real
        self.fixed: datetime | None = None

    def now(self) -> datetime:
        """Return the recorded instant during a replay, the real clock's now otherwise."""
        return self.fixed if self.fixed is not None else self.real.now()


class DurableSimulatedBroker:
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
            return inner.place(from_dict(BrokerOrder, record["order"]))
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
        answer: BrokerOrderState = self._journaled({"op": "place", "order": to_dict(order)})
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
