"""Reserve attestations: what backs each token at one block, as canonical JSON signed by a trustee key.

The signed bytes are the attestation's canonical JSON (keys sorted, no spaces, ASCII, decimals as their
canonical strings), under EIP-191 ``personal_sign``: any wallet or ``ecrecover`` can check it, and the
published document carries those same fields, so a reader re-derives the bytes rather than trusting them.
The collateral ratio is derived, never taken on trust: a document whose stated ratio disagrees with its
own figures is refused even before its signature is checked.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_DOWN, Decimal
from typing import Any, TypeVar

from equitoken.domain.errors import DomainError
from equitoken.domain.ids import Symbol, WalletAddress
from equitoken.domain.instants import utc
from equitoken.domain.jsontext import nests_deeper_than
from equitoken.domain.keccak import keccak256
from equitoken.domain.values import (
    ROUNDING,
    Shares,
    TokenAmount,
    canonical_decimal,
    exact,
    quantize,
    to_decimal,
)
from equitoken.ports.signing import Recover, Signer

FORMAT = "equitoken-attestation-v2"
"""v2 binds the document to its chain, each token contract and the registry it is posted to."""
SCHEME = "eip191-personal-sign"
RATIO_DECIMALS = 9
"""Collateral ratios are cut (never rounded up) to this many places: a report must not overstate backing."""
_MODEL = re.compile(r"^[a-z][a-z0-9_\-]{0,31}$")
_HEX32 = re.compile(r"^0x[0-9a-f]{64}$")
_HEX65 = re.compile(r"^0x[0-9a-fA-F]{130}$")
_T = TypeVar("_T")
ORDER = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
"""The secp256k1 group order."""
HALF_ORDER = ORDER // 2


def _invalid(message: str) -> DomainError:
    return DomainError("INVALID_ATTESTATION", message)


def collateral_ratio(
    supply: Decimal, multiplier: Decimal, custody: Decimal, in_flight: Decimal
) -> Decimal | None:
    """Return (custody + in flight) / (supply × multiplier), cut to 9 places; ``None`` with no supply.

    The one rule for the ratio an attestation states and the transparency page shows for now.
    """
    with exact():  # the default 28-digit context would round an 18-decimal supply silently
        owed = supply * multiplier
        backing = custody + in_flight
    if owed == 0:
        return None
    return quantize(ROUNDING.divide(backing, owed), RATIO_DECIMALS, ROUND_DOWN)


@dataclass(frozen=True, slots=True)
class ReserveLine:
    """One symbol's figures: tokens out, shares per token, shares held and on their way, holder tree."""

    symbol: Symbol
    model: str
    supply: TokenAmount
    multiplier: Decimal
    custody: Shares
    in_flight: Shares
    holders_root: bytes
    holder_count: int
    token: WalletAddress
    """The token contract the supply and holders were read from."""

    def __post_init__(self) -> None:
        """Refuse figures no attestation could honestly state."""
        if not isinstance(self.model, str) or not _MODEL.match(self.model):
            raise _invalid(f"model {self.model!r} is not a lower-case issuance model name")
        if (
            not isinstance(self.multiplier, Decimal)
            or not self.multiplier.is_finite()
            or self.multiplier <= 0
        ):
            raise _invalid(f"the multiplier of {self.symbol} must be a positive Decimal")
        if not isinstance(self.holders_root, bytes) or len(self.holders_root) != 32:
            raise _invalid(f"the holders root of {self.symbol} must be 32 bytes")
        if (
            isinstance(self.holder_count, bool)
            or not isinstance(self.holder_count, int)
            or self.holder_count < 0
        ):
            raise _invalid(f"the holder count of {self.symbol} must be a non-negative integer")

    @property
    def collateral_ratio(self) -> Decimal | None:
        """Return (custody + in flight) / (supply × multiplier), cut to 9 places; ``None`` with no supply."""
        return collateral_ratio(self.supply.value, self.multiplier, self.custody.value, self.in_flight.value)

    def as_dict(self) -> dict[str, Any]:
        """Return the line as JSON-ready data (decimals as canonical strings)."""
        ratio = self.collateral_ratio
        return {
            "symbol": self.symbol.value,
            "model": self.model,
            "supply_tokens": canonical_decimal(self.supply.value),
            "token_decimals": self.supply.decimals,
            "multiplier": canonical_decimal(self.multiplier),
            "custody_shares": canonical_decimal(self.custody.value),
            "in_flight_shares": canonical_decimal(self.in_flight.value),
            "collateral_ratio": None if ratio is None else canonical_decimal(ratio),
            "holders_root": "0x" + self.holders_root.hex(),
            "holder_count": self.holder_count,
            "token": self.token.value,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ReserveLine:
        """Read a line back, refusing one whose stated collateral ratio is not what its figures give."""
        root = _field(data, "holders_root", str)
        if not _HEX32.match(root):
            raise _invalid("holders_root must be 0x and 64 lower-case hex digits")
        line = cls(
            symbol=Symbol(_field(data, "symbol", str)),
            model=_field(data, "model", str),
            supply=TokenAmount(_field(data, "supply_tokens", str), _field(data, "token_decimals", int)),
            multiplier=to_decimal(_field(data, "multiplier", str), "multiplier"),
            custody=Shares(_field(data, "custody_shares", str)),
            in_flight=Shares(_field(data, "in_flight_shares", str)),
            holders_root=bytes.fromhex(root[2:]),
            holder_count=_field(data, "holder_count", int),
            token=WalletAddress(_field(data, "token", str)),
        )
        if line.as_dict() != dict(data):
            raise _invalid(f"the line of {line.symbol} does not match its own figures (ratio or spelling)")
        return line


@dataclass(frozen=True, slots=True)
class Attestation:
    """The reserves at one block: one line per symbol, in symbol order."""

    as_of_block: int
    as_of: datetime
    lines: tuple[ReserveLine, ...]
    chain_id: int
    registry: WalletAddress | None

    def __init__(
        self,
        as_of_block: int,
        as_of: datetime,
        lines: Sequence[ReserveLine],
        *,
        chain_id: int,
        registry: WalletAddress | None = None,
    ) -> None:
        """Validate and order the lines (one per symbol); ``as_of`` must carry a zone.

        ``chain_id`` and ``registry`` bind the document to one chain and one registry contract, and
        each line names its token contract, so a document cannot be replayed for another deployment.
        """
        if isinstance(as_of_block, bool) or not isinstance(as_of_block, int) or as_of_block < 0:
            raise _invalid(f"as_of_block must be a non-negative integer, got {as_of_block!r}")
        if isinstance(chain_id, bool) or not isinstance(chain_id, int) or chain_id <= 0:
            raise _invalid(f"chain_id must be a positive integer, got {chain_id!r}")
        ordered = tuple(sorted(lines, key=lambda line: line.symbol))
        symbols = [line.symbol for line in ordered]
        if len(set(symbols)) != len(symbols):
            raise _invalid("an attestation has one line per symbol")
        object.__setattr__(self, "as_of_block", as_of_block)
        object.__setattr__(self, "as_of", utc(as_of))
        object.__setattr__(self, "lines", ordered)
        object.__setattr__(self, "chain_id", chain_id)
        object.__setattr__(self, "registry", registry)

    def as_dict(self) -> dict[str, Any]:
        """Return the attestation as JSON-ready data."""
        return {
            "format": FORMAT,
            "chain_id": self.chain_id,
            "registry": None if self.registry is None else self.registry.value,
            "as_of_block": self.as_of_block,
            "as_of": self.as_of.isoformat().replace("+00:00", "Z"),
            "lines": [line.as_dict() for line in self.lines],
        }

    def canonical_json(self) -> bytes:
        """Return the bytes that are signed: sorted keys, no whitespace, ASCII only."""
        return _canonical(self.as_dict())

    def digest(self) -> bytes:
        """Return the EIP-191 ``personal_sign`` digest of the canonical JSON."""
        return personal_sign_digest(self.canonical_json())

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Attestation:
        """Read an attestation back from its JSON data (``DomainError`` INVALID_ATTESTATION if malformed)."""
        if data.get("format") != FORMAT:
            raise _invalid(f"format must be {FORMAT!r}")
        text = _field(data, "as_of", str)
        try:
            as_of = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise _invalid(f"as_of {text!r} is not an ISO-8601 instant") from None
        lines = _field(data, "lines", list)
        registry = data.get("registry")
        if registry is not None and not isinstance(registry, str):
            raise _invalid("registry must be an address or null")
        attestation = cls(
            _field(data, "as_of_block", int),
            as_of,
            [ReserveLine.from_dict(_mapping(line)) for line in lines],
            chain_id=_field(data, "chain_id", int),
            registry=None if registry is None else WalletAddress(registry),
        )
        if attestation.as_dict() != dict(data):
            raise _invalid("the attestation is not in canonical form (order, spelling or extra fields)")
        return attestation


def personal_sign_digest(message: bytes) -> bytes:
    """Return ``keccak256("\\x19Ethereum Signed Message:\\n" + len(message) + message)`` (EIP-191 v0x45)."""
    return keccak256(b"\x19Ethereum Signed Message:\n" + str(len(message)).encode("ascii") + message)


@dataclass(frozen=True, slots=True)
class SignedAttestation:
    """An attestation with the trustee's signature over its canonical JSON."""

    attestation: Attestation
    signer: WalletAddress
    v: int
    r: int
    s: int

    def document(self) -> dict[str, Any]:
        """Return the JSON document to publish."""
        signature = self.r.to_bytes(32, "big") + self.s.to_bytes(32, "big") + bytes([self.v])
        return {
            "scheme": SCHEME,
            "attestation": self.attestation.as_dict(),
            "signer": self.signer.value,
            "signature": "0x" + signature.hex(),
        }

    def to_json(self) -> bytes:
        """Return the published document as canonical JSON bytes."""
        return _canonical(self.document())


def sign(attestation: Attestation, signer: Signer) -> SignedAttestation:
    """Sign ``attestation`` with the trustee's key."""
    v, r, s = signer.sign_digest(attestation.digest())
    return SignedAttestation(attestation, signer.address, v, r, s)


def verify_document(document: bytes | str, recover: Recover) -> SignedAttestation:
    """Check a published document and return it (``DomainError`` BAD_SIGNATURE or INVALID_ATTESTATION).

    ``recover`` is ``ecrecover``: the core knows no curve, an adapter supplies it.
    """
    check_nesting(document)
    try:
        data = json.loads(document, parse_float=_refuse_float, parse_constant=_refuse_float)
    except (ValueError, UnicodeDecodeError, RecursionError) as error:
        raise _invalid(f"the document is not JSON ({error})") from None
    data = _mapping(data)
    if data.get("scheme") != SCHEME:
        raise _invalid(f"scheme must be {SCHEME!r}")
    if set(data) != {"scheme", "attestation", "signer", "signature"}:
        raise _invalid("a document has exactly scheme, attestation, signer and signature")
    attestation = Attestation.from_dict(_mapping(data["attestation"]))
    signer = WalletAddress(_field(data, "signer", str))
    signature = _field(data, "signature", str)
    if not _HEX65.match(signature):
        raise _invalid("signature must be 0x and 130 hex digits (r, s, v)")
    raw = bytes.fromhex(signature[2:])
    v, r, s = raw[64], int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:64], "big")
    if v not in (27, 28):
        raise DomainError("INVALID_SIGNATURE", f"v must be 27 or 28, got {v}")
    if not 0 < s <= HALF_ORDER or not 0 < r < ORDER:
        # The high-s twin of a valid signature recovers the same signer: refuse it, one document, one
        # signature (EIP-2).
        raise DomainError("INVALID_SIGNATURE", "the signature is not in low-s form (EIP-2)")
    recovered = WalletAddress.from_bytes(recover(attestation.digest(), v, r, s))
    if recovered != signer:
        raise DomainError("BAD_SIGNATURE", f"the document was signed by {recovered}, not by {signer}")
    signed = SignedAttestation(attestation, signer, v, r, s)
    published = document.encode("utf-8") if isinstance(document, str) else document
    if published.rstrip(b"\n") != signed.to_json():
        # Only the canonical bytes are the document: a re-spelled copy (duplicate keys, escapes,
        # whitespace) would hash differently from what the registry holds.
        raise _invalid("the document is not in canonical form (sorted keys, no spaces, ASCII, no duplicates)")
    return signed


MAX_NESTING = 16
"""An attestation nests four levels deep; anything far deeper is refused before it is parsed (a parser
fed thousands of brackets can exhaust the stack)."""


def check_nesting(document: bytes | str) -> None:
    """Refuse a JSON text nested deeper than ``MAX_NESTING`` (before any parser recurses into it)."""
    text = document.decode("utf-8", "replace") if isinstance(document, bytes) else document
    if nests_deeper_than(text, MAX_NESTING):
        raise _invalid(f"the document nests deeper than {MAX_NESTING} levels")


def _canonical(data: Mapping[str, Any]) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode("ascii")


def _refuse_float(text: str) -> Decimal:
    raise _invalid(f"{text} is a float; amounts are decimal strings")


def _mapping(value: object) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise _invalid(f"expected a JSON object, got {type(value).__name__}")
    return value


def _field(data: Mapping[str, Any], name: str, kind: type[_T]) -> _T:
    value = data.get(name)
    if isinstance(value, bool) or not isinstance(value, kind):
        raise _invalid(f"{name} must be a {kind.__name__}")
    return value
