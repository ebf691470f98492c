"""The record of keyed primary issues: asked before the mint, booked after, so a retry issues once.

A primary issue mints on chain (the compliance desk) and then books the register, the tokens and the
payment (the direct model's plan). Given a key (the API's ``Idempotency-Key``), the engine journals
``PrimaryIssueAsked`` — the terms and the position the holding will take — before anything is minted,
and ``PrimaryIssueBooked`` once the plan is closed (stream ``primary``). A retry under the key after
a crash then finds where the first try stopped: before the mint (issue it), after the mint (book the
mint already on chain, never mint again), after the booking (answer from the record).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from equitoken.compliance.actions import Regulation
from equitoken.domain.errors import DomainError
from equitoken.domain.ids import InvestorId, Symbol, WalletAddress
from equitoken.domain.values import Price, Shares
from equitoken.issuance import journal
from equitoken.ports.store import Store

STREAM = "primary"


@dataclass(frozen=True, slots=True)
class PrimaryIssueAsked:
    """A keyed primary issue is about to be minted: its terms and the holding's position."""

    key: str
    symbol: Symbol
    investor: InvestorId
    wallet: WalletAddress
    shares: Shares
    price: Price
    acquired_at: datetime
    regulation: Regulation
    position: int
    """How many holdings the instrument had before this one: the new holding is at this index."""


@dataclass(frozen=True, slots=True)
class PrimaryIssueBooked:
    """The keyed primary issue ``key`` is minted and booked."""

    key: str
    at: datetime


EVENTS = (PrimaryIssueAsked, PrimaryIssueBooked)


@dataclass(frozen=True, slots=True)
class KeyedIssue:
    """What the record holds for one key: its terms, and whether it was booked."""

    asked: PrimaryIssueAsked
    booked: bool


def find(store: Store, key: str) -> KeyedIssue | None:
    """Return what the record holds for ``key`` (``None`` if it was never asked)."""
    asked: PrimaryIssueAsked | None = None
    booked = False
    for event in journal.read(store, STREAM, EVENTS):
        if event.key != key:
            continue
        if isinstance(event, PrimaryIssueAsked):
            asked = event
        else:
            booked = True
    return None if asked is None else KeyedIssue(asked, booked)


def same_terms(
    asked: PrimaryIssueAsked,
    symbol: Symbol,
    investor: InvestorId,
    shares: Shares,
    price: Price,
    regulation: Regulation,
) -> None:
    """Refuse a retry under ``asked``'s key with other terms (``IDEMPOTENCY_CONFLICT``)."""
    if (asked.symbol, asked.investor, asked.shares, asked.price, asked.regulation) != (
        symbol,
        investor,
        shares,
        price,
        regulation,
    ):
        raise DomainError(
            "IDEMPOTENCY_CONFLICT",
            f"key {asked.key!r} was used for an issue of {asked.shares.value} {asked.symbol} to"
            f" {asked.investor} at {asked.price}",
        )


def ask(store: Store, asked: PrimaryIssueAsked) -> None:
    """Journal ``asked`` (before its mint)."""
    journal.append(store, STREAM, f"asked:{asked.key}", asked.acquired_at, asked)


def book(store: Store, key: str, at: datetime) -> None:
    """Journal that the issue under ``key`` is booked."""
    journal.append(store, STREAM, f"booked:{key}", at, PrimaryIssueBooked(key, at))
