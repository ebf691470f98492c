"""Attest the reserves: read every listing at one block, build the holder trees, sign, publish, prove.

``attest`` is what a trustee runs (daily, or on demand): for each listing it reads, at the latest
block, the raw supply, the multiplier and every holder's raw balance from the chain (``Transfer``-log
replay), and the custody and in-flight shares from the ledger — in flight including the instant
buffer's commitments for the next open, which back tokens as much as a traded share does. The holder
balances become an OpenZeppelin ``StandardMerkleTree`` (``reserves.merkle``); the lines, the block and
the instant become an ``Attestation`` signed by the trustee key (EIP-191 ``personal_sign`` over its
canonical JSON). When a registry contract is given, each symbol's root and the document's hash are
posted on chain, where anyone can check a holder's proof (``ReserveRegistry.verifyHolder``).

What an attestation publishes is a **package**: the signed document, and per symbol the holder list
the tree was built from (CSV ``holder,balance`` in base units), so a proof can be produced for any
holder later and checked by anyone against the signed root, off chain or on chain.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from equitoken.app.issuance import IssuanceEngine
from equitoken.app.reserves import ReservesService
from equitoken.domain.errors import DomainError
from equitoken.domain.ids import Symbol, WalletAddress
from equitoken.domain.instants import utc
from equitoken.domain.keccak import keccak256
from equitoken.domain.values import Shares
from equitoken.ports.signing import Signer
from equitoken.reserves.attestation import Attestation, ReserveLine, SignedAttestation, sign
from equitoken.reserves.holders import parse_holders
from equitoken.reserves.merkle import HolderTree

EMPTY_ROOT = bytes(32)
"""The root stated for a symbol with no holder (a tree needs at least one leaf)."""


@dataclass(frozen=True, slots=True)
class Holders:
    """One symbol's holders as the tree was built: wallets and raw balances, in tree-entry order."""

    symbol: Symbol
    entries: tuple[tuple[WalletAddress, int], ...]

    def tree(self) -> HolderTree | None:
        """Return the holder tree (``None`` when there is no holder)."""
        if not self.entries:
            return None
        return HolderTree([(wallet.to_bytes(), units) for wallet, units in self.entries])

    def to_csv(self) -> str:
        """Return the list as the CSV ``reserves merkle`` reads (header ``holder,balance``)."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["holder", "balance"])
        for wallet, units in self.entries:
            writer.writerow([wallet.value, units])
        return out.getvalue()


@dataclass(frozen=True, slots=True)
class Package:
    """A published attestation: the signed document, the holder lists, and where it was posted."""

    signed: SignedAttestation
    holders: Mapping[Symbol, Holders]
    registry: WalletAddress | None = None

    @property
    def document_hash(self) -> str:
        """Return keccak-256 of the document as published (what the registry stores)."""
        return "0x" + keccak256(self.signed.to_json()).hex()

    def write(self, directory: Path) -> list[Path]:
        """Write ``attestation.json`` and ``holders-SYMBOL.csv`` files into ``directory``."""
        try:
            directory.mkdir(parents=True, exist_ok=True)
            written = [directory / "attestation.json"]
            written[0].write_bytes(self.signed.to_json() + b"\n")
            for symbol, holders in sorted(self.holders.items()):
                path = directory / f"holders-{symbol.value}.csv"
                path.write_text(holders.to_csv(), encoding="utf-8")
                written.append(path)
        except OSError as error:
            raise DomainError(
                "FILE_UNWRITABLE", f"cannot write to {directory}: {error.strerror or error}"
            ) from None
        return written


def holders_at(engine: IssuanceEngine, symbol: Symbol, block: int) -> Holders:
    """Return every holder of ``symbol`` with a non-zero raw balance at ``block``, by address."""
    listing = engine.model(symbol).listing
    balances = engine.chain.balances_at(listing.instrument.token, block)
    entries = tuple(
        sorted(
            ((wallet, amount.to_units()) for wallet, amount in balances.items() if amount.to_units() > 0),
            key=lambda item: item[0].value.lower(),
        )
    )
    return Holders(symbol, entries)


def attest(
    engine: IssuanceEngine,
    reserves: ReservesService,
    trustee: Signer,
    *,
    registry: WalletAddress | None = None,
) -> Package:
    """Attest every listing at the latest block, signed by ``trustee``; post the roots to ``registry``."""
    chain = engine.chain
    block = chain.block_number()
    lines: list[ReserveLine] = []
    holders: dict[Symbol, Holders] = {}
    for symbol in sorted(engine.models(), key=lambda s: s.value):
        sources = reserves.sources(symbol)
        if sources.block != block:
            raise DomainError(
                "CHAIN_MOVED", f"the chain moved from block {block} to {sources.block} during the attestation"
            )
        listed = holders_at(engine, symbol, block)
        tree = listed.tree()
        instrument = engine.model(symbol).listing.instrument
        lines.append(
            ReserveLine(
                symbol=symbol,
                model=sources.model,
                supply=instrument.amount(sources.chain_supply),
                multiplier=sources.multiplier,
                custody=Shares(sources.ledger_custody),
                in_flight=Shares(sources.ledger_in_flight + sources.ledger_commitments),
                holders_root=EMPTY_ROOT if tree is None else tree.root,
                holder_count=len(listed.entries),
            )
        )
        holders[symbol] = listed
    signed = sign(Attestation(block, utc(engine.clock.now()), lines), trustee)
    package = Package(signed, holders, registry)
    if registry is not None:
        for line in signed.attestation.lines:
            chain.post_attestation(
                registry, line.symbol, block, "0x" + line.holders_root.hex(), package.document_hash
            )
    return package


@dataclass(frozen=True, slots=True)
class Proof:
    """A holder's inclusion proof against an attested root."""

    symbol: Symbol
    holder: WalletAddress
    balance: int
    """Raw balance in base units, as in the tree."""
    root: str
    proof: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        """Return the proof as JSON-ready data (balance as a string: JSON readers round large numbers)."""
        return {
            "symbol": self.symbol.value,
            "holder": self.holder.value,
            "balance": str(self.balance),
            "root": self.root,
            "proof": list(self.proof),
        }

    @classmethod
    def from_json(cls, text: str) -> Proof:
        """Read a proof back (``INVALID_PROOF`` if malformed)."""
        try:
            data = json.loads(text)
            return cls(
                Symbol(data["symbol"]),
                WalletAddress(data["holder"]),
                int(str(data["balance"])),
                str(data["root"]),
                tuple(str(node) for node in data["proof"]),
            )
        except (ValueError, KeyError, TypeError) as error:
            raise DomainError("INVALID_PROOF", f"the proof file is not a proof ({error})") from None


def prove(holders: Holders, holder: WalletAddress) -> Proof:
    """Return ``holder``'s proof in the tree of ``holders`` (``NOT_A_HOLDER`` if it is not in it)."""
    tree = holders.tree()
    index = next((i for i, (wallet, _) in enumerate(holders.entries) if wallet == holder), None)
    if tree is None or index is None:
        raise DomainError("NOT_A_HOLDER", f"{holder} holds no {holders.symbol} in this attestation")
    balance = holders.entries[index][1]
    nodes = tuple("0x" + node.hex() for node in tree.proof(index))
    return Proof(holders.symbol, holder, balance, "0x" + tree.root.hex(), nodes)


def read_holders(symbol: Symbol, text: str, where: str) -> Holders:
    """Read a ``holder,balance`` CSV as ``Package.write`` wrote it (refusals name the file and line)."""
    lines = text.splitlines()
    if len([line for line in lines if line.strip()]) == 1 and lines[0].strip() == "holder,balance":
        return Holders(symbol, ())  # a symbol with no holder publishes the header alone
    try:
        entries = parse_holders(lines)
    except DomainError as refused:
        raise DomainError(refused.code, f"{where}, {refused.message}") from None
    return Holders(symbol, tuple((WalletAddress.from_bytes(holder), units) for holder, units in entries))


def total_units(holders: Sequence[tuple[WalletAddress, int]]) -> Decimal:
    """Return the sum of raw balances (for the check that holders add up to the supply)."""
    return Decimal(sum(units for _, units in holders))
