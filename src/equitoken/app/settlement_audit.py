"""The settlement audit: every ``QuoteSettled`` on a listing's contract is one the platform issued.

The contract settles only quotes the platform signer signed, so a settlement the platform has no
record of means its records or its signing key are not what they should be. Fail closed: such a log
halts the listing's minting with the quote id and transaction, for reconciliation — never booked,
never skipped silently.

Known quote ids are those of the fills booked in the ledger (entries ``fill:{fill_id}``, the quote id
being the fill id) and of the plans still pending in the outbox (a firm quote settled on chain but not
booked yet is the outbox's to book, not a stranger). The cursor — the last block audited per listing —
is journaled (stream ``settlement-audit``) whenever a scan met settlements, so a restart audits from
where it stopped; between settlements it only moves in memory (re-reading empty blocks is harmless).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from equitoken.domain.errors import DomainError
from equitoken.domain.ids import Symbol, WalletAddress
from equitoken.domain.keccak import keccak256
from equitoken.issuance import journal
from equitoken.issuance.plans import Plan, SettleQuote
from equitoken.ports.chain import ChainEvent
from equitoken.ports.store import Store

STREAM = "settlement-audit"
FILL_PREFIX = "fill:"


@dataclass(frozen=True, slots=True)
class SettlementsAudited:
    """Every ``QuoteSettled`` of ``symbol``'s settlement contract through ``block`` was checked."""

    at: datetime
    symbol: Symbol
    block: int
    settlements: int
    """How many the scan that moved the cursor here met."""


AUDIT_EVENTS: tuple[type, ...] = (SettlementsAudited,)


def quote_key(quote_id: str) -> bytes:
    """Return the on-chain ``bytes32`` id of a platform quote id (as the chain facade derives it)."""
    return keccak256(b"quote:" + quote_id.encode())


def unknown_settlements(events: Iterable[ChainEvent], known: Callable[[bytes], bool]) -> list[ChainEvent]:
    """Return the ``QuoteSettled`` logs among ``events`` whose quote id ``known`` does not know."""
    found: list[ChainEvent] = []
    for event in events:
        if event.name != "QuoteSettled":
            continue
        raw = event.args.get("quoteId")
        key = _bytes(raw)
        if key is None or not known(key):
            found.append(event)
    return found


class SettlementAudit:
    """Scan each instant listing's settlement contract for settlements the platform never issued."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._cursor: dict[Symbol, int] = {}
        self._recorded = 0
        for event in journal.read(store, STREAM, AUDIT_EVENTS):
            self._cursor[event.symbol] = max(self._cursor.get(event.symbol, 0), event.block)
            self._recorded += 1
        self._known: set[bytes] = set()
        self._seen_seq = 0

    def cursor(self, symbol: Symbol) -> int | None:
        """Return the last block audited for ``symbol`` (``None`` before the first audit)."""
        return self._cursor.get(symbol)

    def _learn(self) -> None:
        """Add the quote ids of the fills booked since the last look."""
        for entry in self._store.entries(after_seq=self._seen_seq):
            self._seen_seq = entry.seq
            if entry.key.startswith(FILL_PREFIX):
                self._known.add(quote_key(entry.key.removeprefix(FILL_PREFIX)))

    def audit(
        self,
        settlements: Mapping[Symbol, tuple[WalletAddress, int]],
        events: Callable[[WalletAddress, int, int], list[ChainEvent]],
        latest: int,
        pending: Iterable[Plan],
        at: datetime,
    ) -> list[tuple[Symbol, ChainEvent]]:
        """Audit each listing's ``(settlement, listed block)`` up to ``latest``; return the strangers."""
        self._learn()
        waiting = {
            quote_key(leg.quote.quote_id)
            for plan in pending
            for leg in plan.legs
            if isinstance(leg, SettleQuote)
        }
        strangers: list[tuple[Symbol, ChainEvent]] = []
        for symbol, (contract, listed) in settlements.items():
            since = self._cursor.get(symbol, listed)
            if since >= latest:
                continue
            seen = events(contract, since + 1, latest)
            settled = [e for e in seen if e.name == "QuoteSettled"]
            for event in unknown_settlements(settled, lambda key: key in self._known or key in waiting):
                strangers.append((symbol, event))
            self._cursor[symbol] = latest
            if settled:
                self._recorded += 1
                journal.append(
                    self._store,
                    STREAM,
                    f"audit:{symbol}:{self._recorded}",
                    at,
                    SettlementsAudited(at, symbol, latest, len(settled)),
                )
        return strangers


def _bytes(value: Any) -> bytes | None:
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    if isinstance(value, str):
        try:
            return bytes.fromhex(value.removeprefix("0x"))
        except ValueError:
            return None
    return None


def unknown_quote(symbol: Symbol, event: ChainEvent) -> DomainError:
    """Return the failure a settlement the platform never issued is recorded (and halts minting) with."""
    return DomainError(
        "SETTLEMENT_UNKNOWN_QUOTE",
        f"{symbol}: QuoteSettled of quote {event.args.get('quoteId')} in {event.tx_hash} (block "
        f"{event.block}) matches no quote the platform issued",
    )
