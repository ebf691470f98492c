"""The attestations a running platform has published: attest on demand, list them, prove a holder.

``AttestationLog.publish`` is what the operator's "attest now" does on the service: the trustee key
(``app.trustee``) signs the reserves of every listing at the latest block (``app.attestation.attest``)
and the roots are posted to the platform's ``ReserveRegistry`` — deployed by the first attestation,
reused by every later one, so a reader checks every root against one contract.

The whole package is journaled (stream ``attestations``, one ``AttestationPublished`` per attestation,
numbered from 1): the signed document exactly as published and each symbol's holder list. So a
restarted server lists the history and serves a proof for any holder of any attestation from the
store alone, and the document's bytes — whose keccak-256 the registry holds — never change.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from equitoken.app.attestation import Holders, Package, Proof, attest, download, prove, read_holders
from equitoken.app.issuance import IssuanceEngine
from equitoken.app.reserve_feeds import ReserveFeeds
from equitoken.app.reserves import ReservesService
from equitoken.app.trustee import Trustee
from equitoken.domain.chains import TRUSTEE_LABEL
from equitoken.domain.errors import DomainError
from equitoken.domain.ids import Symbol, WalletAddress
from equitoken.domain.instants import utc
from equitoken.issuance import journal
from equitoken.reserves.attestation import Attestation

STREAM = "attestations"


@dataclass(frozen=True, slots=True)
class HolderList:
    """One symbol's holders as its tree was built (the CSV ``holder,balance`` of the package)."""

    symbol: Symbol
    csv: str


@dataclass(frozen=True, slots=True)
class AttestationPublished:
    """Attestation ``number`` was signed and its roots posted: the package, byte for byte."""

    at: datetime
    number: int
    document: str
    """The signed document as published (canonical JSON): what the registry's document hash is of."""
    document_hash: str
    registry: WalletAddress | None
    holders: tuple[HolderList, ...]


EVENTS = (AttestationPublished,)


@dataclass(frozen=True, slots=True)
class Published:
    """A published attestation as the log keeps it: its number, when, the document and the holders."""

    number: int
    at: datetime
    attestation: Attestation
    signer: WalletAddress
    document: str
    document_hash: str
    registry: WalletAddress | None
    holders: Mapping[Symbol, Holders]

    def tree(self, symbol: Symbol) -> dict[str, Any]:
        """Return ``symbol``'s holder tree as OpenZeppelin's ``StandardMerkleTree.dump()`` gives it.

        ``NOT_ATTESTED`` for a symbol the attestation has no line for; ``EMPTY_TREE`` for one with none.
        """
        if symbol not in self.holders:
            raise DomainError("NOT_ATTESTED", f"attestation {self.number} has no line for {symbol}")
        return self.holders[symbol].dump()

    def package(self) -> bytes:
        """Return the attestation's package (document, holder lists, trees, proofs) as one zip."""
        return download(self.document.encode("utf-8"), self.holders)

    def proofs(self, holder: WalletAddress, symbol: Symbol | None = None) -> list[Proof]:
        """Return ``holder``'s proofs (of ``symbol`` only, if given) (``NOT_A_HOLDER`` if it holds none)."""
        if symbol is not None and symbol not in self.holders:
            raise DomainError("NOT_ATTESTED", f"attestation {self.number} has no line for {symbol}")
        wanted = [symbol] if symbol is not None else sorted(self.holders)
        held = [s for s in wanted if any(wallet == holder for wallet, _ in self.holders[s].entries)]
        if not held:
            what = "anything" if symbol is None else str(symbol)
            raise DomainError("NOT_A_HOLDER", f"{holder} holds no {what} in attestation {self.number}")
        return [prove(self.holders[s], holder) for s in held]


class HolderLists(Mapping[Symbol, Holders]):
    """One attestation's holder lists, each read from its CSV when first asked for.

    A history of a hundred attestations with a thousand holders per listing is hundreds of thousands of
    checksummed addresses: read at once, the first reader after a restart waited seconds for lists that
    only a proof needs. A list that does not read is refused when it is asked for, as before.
    """

    def __init__(self, number: int, lists: tuple[HolderList, ...]) -> None:
        self._number = number
        self._csv = {h.symbol: h.csv for h in lists}
        self._read: dict[Symbol, Holders] = {}

    def __getitem__(self, symbol: Symbol) -> Holders:
        """Return the holders of ``symbol`` (``KeyError`` when the attestation has no list of it)."""
        found = self._read.get(symbol)
        if found is None:
            where = f"attestation {self._number}, holders of {symbol}"
            found = self._read[symbol] = read_holders(symbol, self._csv[symbol], where)
        return found

    def __iter__(self) -> Iterator[Symbol]:
        """Iterate over the symbols with a holder list."""
        return iter(self._csv)

    def __len__(self) -> int:
        """Return how many symbols have a holder list."""
        return len(self._csv)


def published(event: AttestationPublished) -> Published:
    """Return the attestation a journaled package holds (the document read back, not re-signed)."""
    data = json.loads(event.document)
    return Published(
        number=event.number,
        at=event.at,
        attestation=Attestation.from_dict(data["attestation"]),
        signer=WalletAddress(data["signer"]),
        document=event.document,
        document_hash=event.document_hash,
        registry=event.registry,
        holders=HolderLists(event.number, event.holders),
    )


class AttestationLog:
    """The published attestations, folded from stream ``attestations``; publish a new one."""

    def __init__(
        self,
        engine: IssuanceEngine,
        reserves: ReservesService,
        trustee: Callable[[], Trustee],
        feeds: ReserveFeeds | None = None,
    ) -> None:
        """Keep the log over ``engine``; ``trustee`` loads the key when an attestation is published.

        The key is loaded then, not now, so a key file that cannot be read refuses only an attempt to
        attest, never a reader of the history. With ``feeds``, each attestation deploys a reserve feed
        for every listing without one and posts every listing's round to its feed.
        """
        self._feeds = feeds
        self._engine = engine
        self._reserves = reserves
        self._load_trustee = trustee
        self._published: list[Published] = []
        self._seen = 0

    def refresh(self) -> None:
        """Fold what the journal gained since the last read (another process may have attested)."""
        for stored in self._engine.store.events(STREAM, after_seq=self._seen):
            self._published.append(published(journal.decode(stored, EVENTS)))
            self._seen = stored.seq

    def history(self) -> list[Published]:
        """Return every published attestation, oldest first."""
        self.refresh()
        return list(self._published)

    def get(self, number: int) -> Published:
        """Return attestation ``number`` (``UNKNOWN_ATTESTATION`` if there is none)."""
        self.refresh()
        if not 1 <= number <= len(self._published):
            raise DomainError("UNKNOWN_ATTESTATION", f"there is no attestation {number}")
        return self._published[number - 1]

    def latest(self) -> Published:
        """Return the latest attestation (``UNKNOWN_ATTESTATION`` before the first)."""
        self.refresh()
        if not self._published:
            raise DomainError("UNKNOWN_ATTESTATION", "nothing has been attested yet")
        return self._published[-1]

    def publish(self) -> Published:
        """Attest every listing now, post the roots to the platform's registry, and journal the package.

        Refused like ``attest`` (``RESERVES_BROKEN`` while a listing is halted or does not reconcile,
        ``DEV_KEY_ON_REAL_CHAIN``), and ``UNSUPPORTED`` when the trustee key is not one the chain can
        send the postings with (an operator's own trustee key needs a key ring that holds it).
        """
        self.refresh()
        chain = self._engine.chain
        trustee = self._load_trustee()
        signer = trustee.for_chain(chain.chain_id)
        if signer.address != chain.wallet(TRUSTEE_LABEL):
            raise DomainError(
                "UNSUPPORTED",
                f"the trustee key ({trustee.origin}) is not the chain's trustee wallet, so the "
                "service cannot post its roots; attest with `equitoken reserves attest` instead",
            )
        registry = self._registry(signer.address)
        feeds = None if self._feeds is None else self._feeds.deploy_missing(signer.address)
        package = attest(self._engine, self._reserves, signer, registry=registry, feeds=feeds)
        return self._journal(package)

    def _registry(self, trustee: WalletAddress) -> WalletAddress:
        """Return the registry of the last attestation if it still names ``trustee``, else a new one."""
        last = self._published[-1].registry if self._published else None
        if last is not None:
            try:
                if self._engine.chain.registry_trustee(last) == trustee:
                    return last
            except DomainError:
                pass  # the registry is gone (a chain started afresh): deploy another
        return self._engine.chain.deploy_reserve_registry(trustee)

    def _journal(self, package: Package) -> Published:
        number = len(self._published) + 1
        at = utc(self._engine.clock.now())
        event = AttestationPublished(
            at=at,
            number=number,
            document=package.signed.to_json().decode("ascii"),
            document_hash=package.document_hash,
            registry=package.registry,
            holders=tuple(HolderList(s, h.to_csv()) for s, h in sorted(package.holders.items())),
        )
        journal.append(self._engine.store, STREAM, f"attestation:{number}", at, event)
        self.refresh()
        return self._published[-1]
