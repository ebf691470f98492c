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
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from equitoken.app.issuance import IssuanceEngine
from equitoken.app.package_dir import FileWriter, publish
from equitoken.app.reserves import ReservesService
from equitoken.app.trustee import refuse_public_key
from equitoken.domain.errors import DomainError
from equitoken.domain.ids import Symbol, WalletAddress
from equitoken.domain.instants import utc
from equitoken.domain.keccak import keccak256
from equitoken.domain.values import Shares
from equitoken.ports.signing import Signer
from equitoken.reserves.attestation import Attestation, ReserveLine, SignedAttestation, check_nesting, sign
from equitoken.reserves.downloads import package_files, tree_dump, zip_files
from equitoken.reserves.feed_gate import backing_ratio
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

    def dump(self) -> dict[str, Any]:
        """Return the tree in OpenZeppelin's ``StandardMerkleTree.dump()`` format (``EMPTY_TREE``: none)."""
        return tree_dump(self.entries)

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

    def files(self) -> dict[str, bytes]:
        """Return the files by name: ``attestation.json`` (the signed bytes) and ``holders-SYMBOL.csv``."""
        files = {"attestation.json": self.signed.to_json()}
        for symbol, holders in sorted(self.holders.items()):
            files[f"holders-{symbol.value}.csv"] = holders.to_csv().encode("utf-8")
        return files

    def write(self, directory: Path, *, write: FileWriter | None = None) -> list[Path]:
        """Write the package as the directory ``directory``, replacing a previous package as one unit.

        The files are built in a new sibling directory and moved into place by one rename
        (``app.package_dir``): a reader, or a kill at any instant, sees the whole old package or the
        whole new one, never a new document beside old holder lists. ``write`` writes one file (a test
        passes one that fails midway). Return the paths written, the document first.
        """
        return publish(self.files(), directory, write=write)


def download(document: bytes, holders: Mapping[Symbol, Holders]) -> bytes:
    """Return the downloadable package of one attestation as a zip (``reserves.downloads``).

    The signed document, and per symbol the holder list, the OpenZeppelin tree dump and every
    holder's proof: all a verifier needs, in one file whose bytes depend on the attestation alone.
    """
    files = package_files(
        document,
        {symbol: h.entries for symbol, h in holders.items()},
        {symbol: h.to_csv() for symbol, h in holders.items()},
    )
    return zip_files(files)


def read_package(directory: Path) -> tuple[bytes, dict[Symbol, Holders]]:
    """Read a package directory as ``Package.write`` left it: the document's bytes and the holder lists.

    ``FILE_UNREADABLE`` without ``attestation.json``; each list is read as ``read_holders`` reads it.
    """
    document_path = directory / "attestation.json"
    try:
        document = document_path.read_bytes()
        lists = sorted(directory.glob("holders-*.csv"))
        holders = {}
        for path in lists:
            symbol = Symbol(path.stem.removeprefix("holders-"))
            holders[symbol] = read_holders(symbol, path.read_text(encoding="utf-8"), str(path))
    except (OSError, UnicodeDecodeError) as error:
        raise DomainError("FILE_UNREADABLE", f"cannot read the package in {directory}: {error}") from None
    return document, holders


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
    feeds: Mapping[Symbol, WalletAddress] | None = None,
) -> Package:
    """Attest every listing at the latest block, signed by ``trustee``; post the roots to ``registry``.

    Each listing whose token gates its mints on a ``ReserveFeed`` (read from the token, so nothing
    else has to remember it) gets its backing ratio posted as the next round of that feed, in the
    same pass as its root (``feed_ratio``: counting the instant buffer's commitments for the next
    open as the ledger does — ``reserves.feed_gate``), by the same trustee: the token's next mints
    are decided on this attestation. ``feeds`` (symbol -> feed) names the feeds instead of reading
    them (the service's journaled feeds, gated or not: ``app.reserve_feeds``). A crash
    between the postings and the journal leaves rounds and roots the log does not know of; the next
    attestation is as of a later block and posts newer ones of both (the registry and the feed each
    refuse the same block twice).

    Refused (``RESERVES_BROKEN``) while any listing is halted or does not reconcile: a trustee signs
    only reserves that the chain, the ledger and the custodian agree on. Refused too if the holders
    read from the chain do not add up to the supply. Custody and in flight are the custodian's figures
    (equal to the ledger's once reconciled); the document does *not* count the instant buffer's
    commitments as shares — a token fronted off-hours shows as collateral below 1 there until its
    hedge has traded — while its feed round does (so the gate does not stop an instant listing every
    evening; ``reserves.feed_gate``).
    The public development trustee key is refused on any chain but the embedded one
    (``DEV_KEY_ON_REAL_CHAIN``).
    """
    chain = engine.chain
    refuse_public_key(trustee.address, chain.chain_id)  # before anything is read, signed or posted
    block = chain.block_number()
    checked = reserves.reconcile_all()
    broken = [f"{r.sources.symbol}: {b}" for r in checked for b in r.breaks]
    halted = [f"{s}: {why}" for s, why in engine.halted().items()]
    if broken or halted:
        raise DomainError(
            "RESERVES_BROKEN",
            "nothing is attested while reserves do not reconcile: " + "; ".join(broken + halted),
        )
    lines: list[ReserveLine] = []
    holders: dict[Symbol, Holders] = {}
    committed: dict[Symbol, Decimal] = {}
    for result in sorted(checked, key=lambda r: r.sources.symbol):
        sources = result.sources
        if sources.block != block:
            raise DomainError(
                "CHAIN_MOVED", f"the chain moved from block {block} to {sources.block} during the attestation"
            )
        symbol = Symbol(sources.symbol)
        instrument = engine.model(symbol).listing.instrument
        listed = holders_at(engine, symbol, block)
        supply = instrument.amount(sources.chain_supply)
        if sum(units for _, units in listed.entries) != supply.to_units():
            raise DomainError(
                "HOLDERS_VS_SUPPLY", f"the {symbol} holders read at block {block} do not add up to its supply"
            )
        tree = listed.tree()
        custodian = sources.custodian
        lines.append(
            ReserveLine(
                symbol=symbol,
                model=sources.model,
                supply=supply,
                multiplier=sources.multiplier,
                custody=Shares(custodian.settled),
                in_flight=Shares(custodian.pending_in - custodian.pending_out),
                holders_root=EMPTY_ROOT if tree is None else tree.root,
                holder_count=len(listed.entries),
                token=instrument.token,
            )
        )
        holders[symbol] = listed
        committed[symbol] = sources.ledger_commitments  # reconciled: the custodian's pending side agrees
    attestation = Attestation(
        block, utc(engine.clock.now()), lines, chain_id=chain.chain_id, registry=registry
    )
    package = Package(sign(attestation, trustee), holders, registry)
    if registry is not None:
        for line in package.signed.attestation.lines:
            root = "0x" + line.holders_root.hex()
            chain.post_attestation(registry, line.symbol, block, root, package.document_hash)
    if feeds is None:
        feeds = {}
        for line in package.signed.attestation.lines:
            gate = chain.mint_gate(engine.model(line.symbol).listing.instrument)
            if gate is not None:
                feeds[line.symbol] = gate.feed
    for line in package.signed.attestation.lines:
        feed = feeds.get(line.symbol)
        if feed is not None:
            chain.post_reserve_round(feed, feed_ratio(line, committed[line.symbol]), block)
    return package


def feed_ratio(line: ReserveLine, committed: Decimal = Decimal(0)) -> Decimal:
    """Return the ratio a listing's feed reports for ``line``: its backing ratio, 1 with no supply.

    ``committed`` is the instant buffer's commitments for the next open (``reserves.feed_gate``). An
    empty supply owes no share, so it is fully backed: the round a listing's feed starts with.
    """
    return backing_ratio(line, committed)


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
            check_nesting(text)
            data = json.loads(text)
            return cls(
                Symbol(data["symbol"]),
                WalletAddress(data["holder"]),
                int(str(data["balance"])),
                str(data["root"]),
                tuple(str(node) for node in data["proof"]),
            )
        except (ValueError, KeyError, TypeError, RecursionError, DomainError) as error:
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
