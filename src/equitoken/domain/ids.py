"""Typed identifiers, validated at construction.

Ids that must survive a restart (orders, ledger entries) are *derived* from what the client sent —
never random — so replaying a request after a crash finds the same id instead of creating a twin.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass
from functools import lru_cache

from equitoken.domain.errors import DomainError
from equitoken.domain.keccak import keccak256

_SYMBOL = re.compile(r"^[A-Z][A-Z0-9]{0,9}([.\-_][A-Z0-9]{1,4})?$")
_ISIN = re.compile(r"^[A-Z]{2}[A-Z0-9]{9}[0-9]$")
_INVESTOR = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:\-]{0,63}$")
_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
_NAMESPACE = uuid.UUID("6f1c1c2e-6b7a-5a55-9d0e-65717569746f")  # fixed: ids must not change across releases


@lru_cache(maxsize=4096)  # pure, and asked again for the same order many times per command
def deterministic_id(kind: str, *parts: str) -> str:
    """Return a UUID (RFC 4122 v5 style) that depends only on ``kind`` and ``parts``.

    The same inputs give the same id on every machine and after every restart.
    """
    return str(uuid.uuid5(_NAMESPACE, "\x1f".join((kind, *parts))))


def _text(value: object, what: str) -> str:
    if not isinstance(value, str):
        raise DomainError("INVALID_IDENTIFIER", f"{what} must be text, got {type(value).__name__}")
    return value.strip()


@dataclass(frozen=True, slots=True, order=True)
class Symbol:
    """A ticker such as ``AAPL`` or ``BRK.A`` (upper case; lower case input is normalised)."""

    value: str

    def __init__(self, value: str) -> None:
        text = _text(value, "symbol").upper()
        if not _SYMBOL.match(text):
            raise DomainError("INVALID_SYMBOL", f"{value!r} is not a ticker symbol (e.g. AAPL, BRK.A)")
        object.__setattr__(self, "value", text)

    def __str__(self) -> str:
        return self.value


def _isin_check_digit(body: str) -> int:
    """Return the ISIN check digit for the first 11 characters (Luhn over letter-expanded digits)."""
    digits = "".join(str(int(ch, 36)) for ch in body)
    total = 0
    for position, char in enumerate(reversed(digits)):
        number = int(char)
        if position % 2 == 0:  # doubled from the rightmost digit, as the check digit will follow
            number *= 2
        total += number // 10 + number % 10
    return (10 - total % 10) % 10


@dataclass(frozen=True, slots=True, order=True)
class Isin:
    """An ISO 6166 International Securities Identification Number, check digit verified."""

    value: str

    def __init__(self, value: str) -> None:
        text = _text(value, "ISIN").upper()
        if not _ISIN.match(text):
            raise DomainError(
                "INVALID_ISIN", f"{value!r} is not an ISIN (2 letters, 9 alphanumerics, 1 digit)"
            )
        if _isin_check_digit(text[:11]) != int(text[11]):
            raise DomainError("BAD_CHECKSUM", f"ISIN {text} has a wrong check digit")
        object.__setattr__(self, "value", text)

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True, slots=True, order=True)
class InvestorId:
    """An investor's identifier in the platform (letters, digits and ``_ . : -``, up to 64)."""

    value: str

    def __init__(self, value: str) -> None:
        text = _text(value, "investor id")
        if not _INVESTOR.match(text):
            raise DomainError("INVALID_INVESTOR_ID", f"{value!r} is not a valid investor id")
        object.__setattr__(self, "value", text)

    def __str__(self) -> str:
        return self.value


def to_checksum_address(hex40: str) -> str:
    """Return the EIP-55 mixed-case form of a 40-hex-digit address (with or without ``0x``)."""
    lower = hex40.lower().removeprefix("0x")
    digest = keccak256(lower.encode("ascii")).hex()
    return "0x" + "".join(
        ch.upper() if ch.isalpha() and int(digest[i], 16) >= 8 else ch for i, ch in enumerate(lower)
    )


@dataclass(frozen=True, slots=True, order=True)
class WalletAddress:
    """An EVM address, kept in its EIP-55 checksum form.

    All-lower or all-upper input carries no checksum and is accepted; mixed case must match EIP-55,
    because a mistyped character in a checksummed address is exactly what the checksum catches.
    """

    value: str

    def __init__(self, value: str) -> None:
        text = _text(value, "wallet address")
        if not _ADDRESS.match(text):
            raise DomainError("INVALID_ADDRESS", f"{value!r} is not a 0x-prefixed 40-hex-digit address")
        checksummed = to_checksum_address(text)
        body = text[2:]
        if body != body.lower() and body != body.upper() and text != checksummed:
            raise DomainError("BAD_CHECKSUM", f"{text} fails its EIP-55 checksum (expected {checksummed})")
        object.__setattr__(self, "value", checksummed)

    @classmethod
    def from_bytes(cls, raw: bytes) -> WalletAddress:
        """Build an address from its 20 raw bytes."""
        if len(raw) != 20:
            raise DomainError("INVALID_ADDRESS", f"an address has 20 bytes, got {len(raw)}")
        return cls("0x" + raw.hex())

    def to_bytes(self) -> bytes:
        """Return the 20 raw bytes of the address."""
        return bytes.fromhex(self.value[2:])

    @property
    def is_zero(self) -> bool:
        """Tell whether this is the zero address (mint source, burn sink)."""
        return self.value == ZERO_ADDRESS_TEXT

    def __str__(self) -> str:
        return self.value


ZERO_ADDRESS_TEXT = "0x" + "0" * 40


@dataclass(frozen=True, slots=True, order=True)
class OrderId:
    """An order's identifier, derived from the client and its idempotency key so retries find it."""

    value: str

    def __init__(self, value: str) -> None:
        text = _text(value, "order id")
        try:
            canonical = str(uuid.UUID(text))
        except ValueError:
            raise DomainError("INVALID_ORDER_ID", f"{value!r} is not an order id (a UUID)") from None
        object.__setattr__(self, "value", canonical)

    @classmethod
    def for_request(cls, client: str, idempotency_key: str) -> OrderId:
        """Return the id of the order a client asked for under ``idempotency_key``."""
        if not idempotency_key.strip():
            raise DomainError("MISSING_IDEMPOTENCY_KEY", "an order needs a non-empty idempotency key")
        if cls is not OrderId:
            return cls(deterministic_id("order", client, idempotency_key))
        return _order_id(client, idempotency_key)

    def __str__(self) -> str:
        return self.value


def content_hash(text: str) -> str:
    """Return a SHA-256 hex digest of ``text``: how bodies are compared for idempotency."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@lru_cache(maxsize=4096)
def _order_id(client: str, idempotency_key: str) -> OrderId:
    """Return the order id of a request (immutable, so one instance serves every caller that asks)."""
    return OrderId(deterministic_id("order", client, idempotency_key))
