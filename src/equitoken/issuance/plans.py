"""What a model decides, as data: the chain legs to send, then the books and events that record them.

A model never sends a transaction itself. It returns a ``Plan``: the legs that must happen on chain
(settle this quote, move these tokens, mint or burn in a wallet) and what records them once they have
— the ledger entries, the model's own events, the fills for the order desk. The executor
(``app.executor``) makes the plan durable before the first leg is sent, sends the legs, and records
the plan's completion in one unit of work; after a crash it matches the legs to the chain instead of
sending them again. So a plan is encoded whole (``plan_to_dict``/``plan_from_dict``): the record of a
leg that happened must not depend on code that ran after the send.
"""

from __future__ import annotations

from collections.abc import Generator, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from equitoken.domain.codec import MALFORMED, from_dict, to_dict
from equitoken.domain.errors import DomainError
from equitoken.domain.ids import Symbol, WalletAddress
from equitoken.domain.instants import utc
from equitoken.domain.values import TokenAmount
from equitoken.issuance.models.base import ModelFill
from equitoken.ledger.accounts import Account, Asset
from equitoken.ledger.entries import EntryDraft, Posting
from equitoken.ports.chain import ChainQuote


@dataclass(frozen=True, slots=True)
class Transfer:
    """Move ``amount`` of ``token`` from ``sender`` (a wallet the platform signs for) to ``receiver``."""

    token: WalletAddress
    sender: WalletAddress
    receiver: WalletAddress
    amount: TokenAmount

    def back(self) -> Transfer:
        """Return the transfer that undoes this one."""
        return Transfer(self.token, self.receiver, self.sender, self.amount)


@dataclass(frozen=True, slots=True)
class SettleQuote:
    """Sign ``quote`` as the platform and settle it as its investor (one atomic delivery versus payment)."""

    quote: ChainQuote


@dataclass(frozen=True, slots=True)
class Mint:
    """Mint ``amount`` of the plan's listing token to ``wallet``."""

    wallet: WalletAddress
    amount: TokenAmount


@dataclass(frozen=True, slots=True)
class Burn:
    """Burn ``amount`` of the plan's listing token from ``wallet``."""

    wallet: WalletAddress
    amount: TokenAmount


@dataclass(frozen=True, slots=True)
class MintStablecoin:
    """Mint ``amount`` of the settlement stablecoin to ``wallet`` (a deposit arriving on chain)."""

    stablecoin: WalletAddress
    wallet: WalletAddress
    amount: TokenAmount


@dataclass(frozen=True, slots=True)
class BurnStablecoin:
    """Burn ``amount`` of the settlement stablecoin held by ``wallet`` (a redemption leaving for the bank).

    The wallet burns its own coins (the stablecoin lets any holder burn, never anyone else's), so
    ``wallet`` is one the platform signs for.
    """

    stablecoin: WalletAddress
    wallet: WalletAddress
    amount: TokenAmount


Leg = Transfer | SettleQuote | Mint | Burn | MintStablecoin | BurnStablecoin
LEGS: tuple[type, ...] = (Transfer, SettleQuote, Mint, Burn, MintStablecoin, BurnStablecoin)


@dataclass(frozen=True, slots=True)
class Plan:
    """One decision of a model: legs to send in order, then the records of their having happened.

    ``undo``: when a later leg is refused, send the earlier transfers back (a delivery versus payment
    made of separate transfers); without it, a refused later leg is a settlement that cannot complete.
    ``note`` is what the plan is, for people (logs, failures).
    """

    key: str
    symbol: Symbol | None
    """The listing whose model decided it (``None``: the engine's own, e.g. a deposit)."""
    legs: tuple[Leg, ...]
    entries: tuple[EntryDraft, ...] = ()
    events: tuple[Any, ...] = ()
    fills: tuple[ModelFill, ...] = ()
    undo: bool = False
    note: str = ""

    def __post_init__(self) -> None:
        if not self.key.strip():
            raise DomainError("INVALID_PLAN", "a plan needs a key")
        if self.undo and not all(isinstance(leg, Transfer) for leg in self.legs):
            raise DomainError("INVALID_PLAN", f"plan {self.key}: only transfers can be sent back")


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of a plan: done (every leg happened), refused (nothing moved), or broken."""

    plan: Plan
    done: bool
    failure: DomainError | None = None
    """Why the plan did not complete: a refusal (nothing moved) or ``SETTLEMENT_INCOMPLETE``."""
    found: bool = False
    """Some leg was found on chain after a crash rather than sent now."""
    waiting: bool = False
    """The plan's leg is its investor's to send (a firm quote to a self-custody wallet) and has not been
    seen on chain yet, nor can it be ruled out: the plan stays pending, neither done nor refused."""


Plans = Generator[Plan, Outcome, None]
"""A model's decisions, one at a time: it yields a plan, and is sent back what became of it."""


def no_plans() -> Plans:
    """Return a decision of nothing (no plan)."""
    yield from ()


def entry_to_dict(draft: EntryDraft) -> dict[str, Any]:
    """Return a ledger entry draft as plain JSON values."""
    return {
        "key": draft.key,
        "effective_at": draft.effective_at.isoformat(),
        "postings": [list(p.as_row()) for p in draft.postings],
        "memo": draft.memo,
        "metadata": dict(draft.metadata),
    }


def entry_from_dict(payload: Mapping[str, Any]) -> EntryDraft:
    """Return the draft ``entry_to_dict`` wrote (a malformed one is refused, never defaulted)."""
    try:
        return EntryDraft(
            str(payload["key"]),
            utc(datetime.fromisoformat(payload["effective_at"])),
            (Posting(Account(a), Asset(s), n) for a, s, n in payload["postings"]),
            str(payload["memo"]),
            {str(k): str(v) for k, v in payload["metadata"].items()},
        )
    except (KeyError, TypeError, ValueError, AttributeError) as bad:
        raise DomainError(MALFORMED, f"a planned ledger entry is malformed: {bad}") from None


def _tagged(item: Any) -> dict[str, Any]:
    return {"type": type(item).__name__, "body": to_dict(item)}


def _untagged(raw: Any, kinds: Iterable[type], where: str) -> Any:
    by_name = {k.__name__: k for k in kinds}
    if not isinstance(raw, Mapping) or raw.get("type") not in by_name or "body" not in raw:
        raise DomainError(MALFORMED, f"{where} is not a known record")
    return from_dict(by_name[raw["type"]], raw["body"])


def plan_to_dict(plan: Plan) -> dict[str, Any]:
    """Return ``plan`` as plain JSON values (legs and events tagged with their type)."""
    return {
        "key": plan.key,
        "symbol": None if plan.symbol is None else plan.symbol.value,
        "legs": [_tagged(leg) for leg in plan.legs],
        "entries": [entry_to_dict(e) for e in plan.entries],
        "events": [_tagged(e) for e in plan.events],
        "fills": [to_dict(f) for f in plan.fills],
        "undo": plan.undo,
        "note": plan.note,
    }


def plan_from_dict(payload: Mapping[str, Any], events: Iterable[type]) -> Plan:
    """Return the plan ``plan_to_dict`` wrote; ``events`` are the event types its model journals."""
    kinds = tuple(events)
    try:
        texts = (payload["key"], payload["note"])
        symbol = payload["symbol"]
        if not all(isinstance(t, str) for t in texts) or not isinstance(payload["undo"], bool):
            raise TypeError("key and note are text, undo is true or false")
        if symbol is not None and not isinstance(symbol, str):
            raise TypeError("the symbol is text or null")
        return Plan(
            str(payload["key"]),
            None if payload["symbol"] is None else Symbol(payload["symbol"]),
            tuple(_untagged(raw, LEGS, "a planned leg") for raw in payload["legs"]),
            tuple(entry_from_dict(raw) for raw in payload["entries"]),
            tuple(_untagged(raw, kinds, "a planned event") for raw in payload["events"]),
            tuple(from_dict(ModelFill, raw) for raw in payload["fills"]),
            bool(payload["undo"]),
            str(payload["note"]),
        )
    except (KeyError, TypeError) as bad:
        raise DomainError(MALFORMED, f"a recorded plan is malformed: {bad!r}") from None
