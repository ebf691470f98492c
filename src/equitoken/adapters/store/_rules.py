"""What every store adapter enforces on top of the ledger's rules, so the fake and the SQL store agree.

- **Exact arithmetic.** Python's default decimal context keeps 28 significant digits, and a token amount
  of ``10**30`` plus one base unit (``1e-18``) needs 49: summed in the default context it is silently
  rounded. Every sum a store makes runs in the core's ``EXACT`` context, which traps ``Inexact``.
- **Places, range and balance** are the ledger's own rules (``Posting``, ``EntryDraft``: at most 18
  decimals and 60 integer digits, which fits ``NUMERIC(78, 18)``), checked exactly before a draft exists.
- **Event bodies** are canonical JSON: decimals become their canonical text, aware datetimes ISO 8601
  in UTC; floats are refused (money is never a float) and so is anything JSON cannot spell exactly.
- **Event rows are chained**: each stored row carries ``row_digest`` over its position (``seq``), stream,
  type, key, instant, payload text and body hash, and the digest of the previous row of the same stream
  (``GENESIS`` for a stream's first row). Reading recomputes it (one hash per row): an edited row, or a
  row taken out of the middle or the start of a stream, is refused with ``STORE_CORRUPT``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from equitoken.domain.errors import DomainError
from equitoken.domain.ids import content_hash
from equitoken.domain.instants import utc
from equitoken.domain.values import EXACT as EXACT_CONTEXT
from equitoken.domain.values import canonical_decimal

EXACT = EXACT_CONTEXT
"""Decimal context for sums: the core's own, exact or raising (re-exported for the adapters)."""

MAX_KEY_LENGTH = 200


def canonical(amount: Decimal) -> str:
    """Return the amount's one spelling (the core's ``canonical_decimal``, exact in any context)."""
    return canonical_decimal(amount)


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


_SCALARS: frozenset[type] = frozenset({str, int, bool, type(None)})


class _NotPlain(Exception):
    """A payload value the fast walk will not take: ``_plain`` walks again to say where and why."""


def _plain_fast(value: Any) -> Any:
    """Return what ``_plain`` returns for an ordinary payload, without naming each value's place.

    Every event of every order goes through here (about a dozen per order), and building the path
    text of each value cost more than the walk itself; the path is only needed in an error, so on
    anything unusual this raises ``_NotPlain`` and the caller walks again with ``_plain``.
    """
    kind = type(value)
    if kind in _SCALARS:
        return value
    if kind is dict:
        out: dict[str, Any] = {}
        for key, item in value.items():
            if type(key) is not str:
                raise _NotPlain
            out[key] = _plain_fast(item)
        return out
    if kind is list or kind is tuple:
        return [_plain_fast(item) for item in value]
    if kind is Decimal and value.is_finite():
        return canonical(value)
    if kind is datetime:
        return utc(value).isoformat()  # utc() refuses a naive one, as _plain does
    if kind is date:
        return value.isoformat()
    raise _NotPlain  # subclasses, datetimes, floats, other mappings: the named walk decides


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
    try:
        plain = _plain_fast(payload)
    except _NotPlain:
        plain = _plain(payload, "payload")
    payload_json = _dumps(plain)
    digest = content_hash(
        _dumps({"stream": stream, "type": type, "occurred_at": moment.isoformat(), "payload": payload_json})
    )
    return EventBody(stream, type, key, moment, payload_json, digest)


GENESIS = "0" * 64
"""What a stream's first row is chained to."""


def row_digest(
    previous: str,
    seq: int,
    stream: str,
    type: str,
    key: str,
    occurred_at: datetime,
    payload_json: str,
    body_hash: str,
) -> str:
    """Return the digest that binds a stored event row to its position and to the row before it."""
    fields = (previous, str(seq), stream, type, key, utc(occurred_at).isoformat(), payload_json, body_hash)
    return content_hash("\x1f".join(fields))


def corrupt_event(stream: str, seq: int, why: str) -> DomainError:
    """Return the refusal for a stored event that cannot be trusted."""
    return DomainError(
        "STORE_CORRUPT", f"the journal's event at stream {stream!r} position {seq} {why}; refusing to use it"
    )


def decode_payload(text: str, stream: str = "?", seq: int = 0) -> dict[str, Any]:
    """Return the payload stored as ``text``, or refuse one that is not a JSON object (``STORE_CORRUPT``)."""
    try:
        value = json.loads(text)
    except (ValueError, TypeError):
        raise corrupt_event(stream, seq, "has a payload that is not valid JSON") from None
    if not isinstance(value, dict):
        raise corrupt_event(stream, seq, "has a payload that is not a JSON object")
    return value


def event_conflict(key: str) -> DomainError:
    """Return the error for an event key reused with a different body."""
    return DomainError(
        "IDEMPOTENCY_CONFLICT", f"event key {key!r} was already used for a different event; use a new key"
    )


def metadata_json(metadata: Mapping[str, str]) -> str:
    """Return entry metadata as canonical JSON text."""
    return _dumps(dict(metadata))
