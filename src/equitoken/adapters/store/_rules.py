"""What every store adapter enforces on top of the ledger's rules, so the fake and the SQL store agree.

- **Exact arithmetic.** Python's default decimal context keeps 28 significant digits, and a token amount
  of ``10**30`` plus one base unit (``1e-18``) needs 49: summed in the default context it is silently
  rounded. Every sum a store makes runs in ``EXACT``, which has room for any amount the book accepts and
  traps ``Inexact`` so a rounding can never pass unnoticed.
- **Places and range.** Decimal places are re-counted exactly (the ledger counts them after a
  28-digit normalisation, which can hide a 19th decimal in a long amount). An amount must fit
  ``NUMERIC(78, 18)``: 60 integer digits and 18 decimals, which covers every uint256 token balance
  expressed in 18-decimal units. Larger amounts are refused, on every backend alike.
- **Balance, again.** A draft is re-checked for balance in ``EXACT`` before it is written, because a
  check in the default context can miss a residue of ``1e-18`` next to ``10**30``.
- **Event bodies** are canonical JSON: decimals become their canonical text, aware datetimes ISO 8601
  in UTC; floats are refused (money is never a float) and so is anything JSON cannot spell exactly.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Context, Decimal, DivisionByZero, Inexact, InvalidOperation, Overflow, localcontext
from typing import Any

from equitoken.domain.errors import DomainError
from equitoken.domain.ids import content_hash
from equitoken.ledger.accounts import Asset
from equitoken.ledger.entries import AMOUNT_DECIMALS, EntryDraft, canonical_decimal, utc

EXACT = Context(prec=400, traps=[InvalidOperation, Inexact, Overflow, DivisionByZero])
"""Decimal context for sums: wide enough for any accepted amount, and loud instead of rounding."""

AMOUNT_INTEGER_DIGITS = 60
AMOUNT_LIMIT = Decimal(10) ** AMOUNT_INTEGER_DIGITS
"""Amounts must be strictly smaller than this in magnitude (``NUMERIC(78, 18)`` on PostgreSQL)."""

MAX_KEY_LENGTH = 200


def canonical(amount: Decimal) -> str:
    """Return ``canonical_decimal(amount)`` computed exactly, whatever the caller's decimal context.

    ``Decimal.normalize`` rounds to the current context's precision (28 digits by default), so the
    ledger's own helper would shorten ``1e30 + 1e-18``; here it runs in ``EXACT``.
    """
    with localcontext(EXACT):
        return canonical_decimal(amount)


def check_draft(draft: EntryDraft) -> None:
    """Refuse a draft the store cannot hold exactly, or one that does not balance in exact arithmetic."""
    totals: dict[Asset, Decimal] = defaultdict(Decimal)
    for posting in draft.postings:
        exponent = EXACT.normalize(posting.amount).as_tuple().exponent
        if isinstance(exponent, int) and exponent < -AMOUNT_DECIMALS:
            raise DomainError(
                "TOO_MANY_DECIMALS",
                f"posting amount {canonical(posting.amount)} to {posting.account} has more than "
                f"{AMOUNT_DECIMALS} decimal places",
            )
        if posting.amount.copy_abs() >= AMOUNT_LIMIT:
            raise DomainError(
                "AMOUNT_OUT_OF_RANGE",
                f"posting amount {canonical(posting.amount)} to {posting.account} has more than "
                f"{AMOUNT_INTEGER_DIGITS} integer digits; the book stores at most that",
            )
        totals[posting.asset] = EXACT.add(totals[posting.asset], posting.amount)
    unbalanced = sorted(asset.code for asset, total in totals.items() if total != 0)
    if unbalanced:
        raise DomainError(
            "UNBALANCED_ENTRY", f"entry {draft.key!r} does not balance exactly in {', '.join(unbalanced)}"
        )


def check_text(value: str, what: str) -> str:
    """Return ``value`` if it is 1–200 characters of text, else refuse it naming ``what``."""
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_KEY_LENGTH:
        raise DomainError("INVALID_EVENT", f"an event needs a {what} of 1–{MAX_KEY_LENGTH} characters")
    return value


def _plain(value: Any, where: str) -> Any:
    if value is None or isinstance(value, bool | str | int):
        return value
    if isinstance(value, float):
        raise DomainError(
            "INVALID_EVENT_PAYLOAD", f"{where} is a float; give a Decimal or a string (floats are inexact)"
        )
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise DomainError("INVALID_EVENT_PAYLOAD", f"{where} must be a finite number")
        return canonical(value)
    if isinstance(value, datetime):
        return utc(value).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise DomainError("INVALID_EVENT_PAYLOAD", f"{where} has a non-text key {key!r}")
            out[key] = _plain(item, f"{where}.{key}")
        return out
    if isinstance(value, list | tuple):
        return [_plain(item, f"{where}[{index}]") for index, item in enumerate(value)]
    raise DomainError(
        "INVALID_EVENT_PAYLOAD", f"{where} is a {type(value).__name__}, which an event payload cannot hold"
    )


def _dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True, slots=True)
class EventBody:
    """An event ready to store: validated fields, canonical payload text and the digest of the body."""

    stream: str
    type: str
    key: str
    occurred_at: datetime
    payload_json: str
    body_hash: str

    def payload(self) -> dict[str, Any]:
        """Return a fresh copy of the payload (callers may mutate it without touching the store)."""
        return decode_payload(self.payload_json)


def event_body(
    stream: str, type: str, key: str, occurred_at: datetime, payload: Mapping[str, Any]
) -> EventBody:
    """Validate an event and return its canonical form; the digest covers everything but the key."""
    check_text(stream, "stream")
    check_text(type, "type")
    check_text(key, "key")
    moment = utc(occurred_at)
    if not isinstance(payload, Mapping):
        raise DomainError("INVALID_EVENT_PAYLOAD", "an event payload is a mapping of text to values")
    payload_json = _dumps(_plain(payload, "payload"))
    digest = content_hash(
        _dumps({"stream": stream, "type": type, "occurred_at": moment.isoformat(), "payload": payload_json})
    )
    return EventBody(stream, type, key, moment, payload_json, digest)


def decode_payload(text: str) -> dict[str, Any]:
    """Return the payload stored as ``text``."""
    value = json.loads(text)
    if not isinstance(value, dict):
        raise DomainError("STORE_CORRUPT", "a stored event payload is not a JSON object")
    return value


def event_conflict(key: str) -> DomainError:
    """Return the error for an event key reused with a different body."""
    return DomainError(
        "IDEMPOTENCY_CONFLICT", f"event key {key!r} was already used for a different event; use a new key"
    )


def metadata_json(metadata: Mapping[str, str]) -> str:
    """Return entry metadata as canonical JSON text."""
    return _dumps(dict(metadata))
