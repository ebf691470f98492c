"""One codec for every journaled event: a frozen dataclass to a plain-JSON dict and back, by its fields.

``to_dict(event)`` writes each field by its declared type; ``from_dict(cls, payload)`` reads it back
and refuses (``EVENT_MALFORMED``) a missing field, an unknown field or a value of the wrong shape —
never a default decoded from a missing answer. Amounts are written exactly as held (``"38.50"``
stays ``"38.50"``), so ``from_dict(cls, to_dict(e)) == e`` and ``to_dict`` of the result is the same
payload, digit for digit.

Types it knows: ``str``, ``int``, ``bool``, ``Decimal``, ``datetime`` (aware, written in UTC),
``date``, any ``Enum``, ``Money``/``Price`` (``"<amount> <currency>"``), ``Shares``, the id types that
wrap one ``value`` string (``Symbol``, ``WalletAddress``…), nested dataclasses, ``X | None`` and
``tuple[X, ...]``, and ``Mapping[str, Any]``: a JSON object kept as written, for a record that has
its own codec and can only be decoded later (a plan, whose events are typed by a model not open
yet) — its values must be plain JSON (text, integers, booleans, null, lists, objects). Anything else
is a programming error, refused when the event is first encoded.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from enum import Enum
from functools import cache
from typing import Any, TypeVar

from equitoken.domain.errors import DomainError
from equitoken.domain.instants import utc
from equitoken.domain.values import Money, Price, Shares

MALFORMED = "EVENT_MALFORMED"

E = TypeVar("E")


def to_dict(event: Any) -> dict[str, Any]:
    """Return ``event`` (a dataclass instance) as a dict of plain JSON values, field by field."""
    if not dataclasses.is_dataclass(event) or isinstance(event, type):
        raise DomainError(MALFORMED, f"only dataclass events are encoded, not {type(event).__name__}")
    return {name: _encode(getattr(event, name), kind) for name, kind in _kinds(type(event))}


def from_dict(cls: type[E], payload: Mapping[str, Any]) -> E:
    """Return the ``cls`` event ``to_dict`` wrote; refuse a missing, unknown or malformed field."""
    if not dataclasses.is_dataclass(cls):
        raise DomainError(MALFORMED, f"{cls.__name__} is not a dataclass event")
    if not isinstance(payload, Mapping):
        raise DomainError(MALFORMED, f"a {cls.__name__} payload must be an object")
    hints = _hints(cls)
    names = [f.name for f in dataclasses.fields(cls) if f.init]
    unknown = set(payload) - set(names)
    if unknown:
        raise DomainError(MALFORMED, f"{cls.__name__} has no field {sorted(unknown)[0]!r}")
    values: dict[str, Any] = {}
    for name in names:
        if name not in payload:
            raise DomainError(MALFORMED, f"{cls.__name__} is missing {name!r}")
        values[name] = _decode(payload[name], hints[name], f"{cls.__name__}.{name}")
    try:
        return cls(**values)
    except DomainError as invalid:
        raise DomainError(MALFORMED, f"{cls.__name__} does not validate: {invalid}") from None


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


@cache
def _kinds(cls: type) -> tuple[tuple[str, Any], ...]:
    """Return each field of ``cls`` with its declared type (looked up once per class: every event
    of a class has the same)."""
    hints = _hints(cls)
    return tuple((f.name, hints[f.name]) for f in dataclasses.fields(cls))


# Each question below asks of a declared type only, so its answer is kept per type (``cache``): the
# codec runs for every journaled event, and asking ``typing`` again each time was most of its cost.


@cache
def _optional(kind: Any) -> Any | None:
    """Return ``X`` when ``kind`` is ``X | None``, else ``None``."""
    if typing.get_origin(kind) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(kind) if a is not type(None)]
        if len(args) == 1 and len(typing.get_args(kind)) == 2:
            return args[0]
        raise DomainError(MALFORMED, f"unions other than X | None are not encoded: {kind}")
    return None


@cache
def _id_type(kind: Any) -> bool:
    """Tell whether ``kind`` is an id type: a dataclass wrapping one ``value`` string."""
    if not (isinstance(kind, type) and dataclasses.is_dataclass(kind)):
        return False
    names = [f.name for f in dataclasses.fields(kind)]
    return names == ["value"] and _hints(kind).get("value") is str


def _nested(kind: Any) -> bool:
    """Tell whether ``kind`` is a nested event dataclass (not a value type, not an id)."""
    return (
        isinstance(kind, type)
        and kind not in (Money, Price, Shares)
        and dataclasses.is_dataclass(kind)
        and not _id_type(kind)
    )


@cache
def _json_object(kind: Any) -> bool:
    """Tell whether ``kind`` is ``Mapping[str, Any]`` (a JSON object kept as written)."""
    return typing.get_origin(kind) is Mapping and typing.get_args(kind) == (str, Any)


def _plain(value: Any, where: str) -> Any:
    """Return a copy of ``value`` if it is plain JSON (no floats: amounts are text), else refuse it."""
    if value is None or type(value) in (str, int, bool):
        return value
    if isinstance(value, list | tuple):
        return [_plain(v, f"{where}[]") for v in value]
    if isinstance(value, Mapping) and all(type(k) is str for k in value):
        return {k: _plain(v, f"{where}.{k}") for k, v in value.items()}
    raise DomainError(MALFORMED, f"{where} is not plain JSON: {type(value).__name__}")


@cache
def _tuple_of(kind: Any) -> Any | None:
    """Return ``X`` when ``kind`` is ``tuple[X, ...]``, else ``None``."""
    return typing.get_args(kind)[0] if typing.get_origin(kind) is tuple else None


def _encode(value: Any, kind: Any) -> Any:
    if _json_object(kind):
        if not isinstance(value, Mapping):
            raise DomainError(MALFORMED, f"expected an object, got {type(value).__name__}")
        return _plain(value, "an object field")
    inner = _optional(kind)
    if inner is not None:
        return None if value is None else _encode(value, inner)
    item = _tuple_of(kind)
    if item is not None:
        return [_encode(v, item) for v in value]
    if kind in (str, int, bool):
        if type(value) is not kind:
            raise DomainError(MALFORMED, f"expected {kind.__name__}, got {type(value).__name__}")
        return value
    if kind is Decimal:
        return str(value)
    if kind is datetime:
        return utc(value).isoformat()
    if kind is date:
        return value.isoformat()
    if isinstance(kind, type) and issubclass(kind, Enum):
        return value.value
    if kind in (Money, Price):
        return f"{value.amount} {value.currency}"
    if kind is Shares:
        return str(value.value)
    if _id_type(kind):
        return value.value
    if isinstance(kind, type) and dataclasses.is_dataclass(kind):
        return to_dict(value)
    raise DomainError(MALFORMED, f"no encoding for a field of type {kind}")


def _decode(raw: Any, kind: Any, where: str) -> Any:
    if _json_object(kind):
        if not isinstance(raw, Mapping):
            raise DomainError(MALFORMED, f"{where} is not an object: {raw!r}")
        return _plain(raw, where)
    inner = _optional(kind)
    if inner is not None:
        return None if raw is None else _decode(raw, inner, where)
    if raw is None:
        raise DomainError(MALFORMED, f"{where} is missing a value")
    try:
        if typing.get_origin(kind) is tuple:
            item = typing.get_args(kind)[0]
            if not isinstance(raw, list):
                raise TypeError("a list")
            return tuple(_decode(v, item, f"{where}[]") for v in raw)
        if kind in (str, int, bool):
            if type(raw) is not kind:
                raise TypeError(kind.__name__)
            return raw
        if _nested(kind):
            return from_dict(kind, raw)
        if isinstance(kind, type) and issubclass(kind, Enum) and type(raw) is int:
            return kind(raw)  # an integer enum (a chain-side code) is written as its number
        if not isinstance(raw, str):
            raise TypeError("text")
        if kind is Decimal:
            return Decimal(raw)
        if kind is datetime:
            moment = datetime.fromisoformat(raw)
            if moment.tzinfo is None:
                raise ValueError("an aware instant")
            return moment
        if kind is date:
            return date.fromisoformat(raw)
        if isinstance(kind, type) and issubclass(kind, Enum):
            return kind(raw)
        if kind in (Money, Price):
            amount, currency = raw.split(" ")
            return kind(amount, currency)
        if kind is Shares:
            return Shares(raw)
        if _id_type(kind):
            return kind(raw)
    except (TypeError, ValueError, InvalidOperation, DomainError) as bad:
        raise DomainError(MALFORMED, f"{where} is not valid: {raw!r} ({bad})") from None
    raise DomainError(MALFORMED, f"no decoding for {where} of type {kind}")
