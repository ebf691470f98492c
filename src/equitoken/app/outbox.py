"""The mint outbox: a mint on a node is recorded as intended before it is sent, and matched after a crash.

A mint is two worlds changing: the chain (tokens exist) and the journal (a holding is recorded). No
transaction spans both, so the journal records the *intent* first, in the same unit of work as the
holding (stream ``outbox``, ``MintIntended``, keyed by chain id and holding), then the mint is sent,
then its outcome is recorded (``MintConfirmed`` with the transaction hash). After a kill anywhere:

- before the unit of work commits: nothing was recorded and nothing sent; a re-run starts over;
- after the commit, before the send: the intent is pending, no ``Transfer`` matches it, it is sent;
- after the send, before the outcome is recorded: the intent is pending, and ``drain`` finds the mint's
  ``Transfer`` log (from the zero address to the wallet, of exactly that amount, in a block after the
  one the intent was recorded at, in a transaction no other confirmed intent claimed) and records it
  as the outcome instead of minting again.

So every intent is minted once, never twice, never lost. The limit, said plainly: a mint of exactly the
same amount to the same wallet by something other than this outbox, after the intent was recorded,
would be taken for the intent's own. Only the outbox mints on the compliance desk's instruments.
On the embedded chain, which forgets everything each run and is replayed from the journal, nothing
goes through the outbox.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from equitoken.domain.errors import DomainError
from equitoken.domain.ids import ZERO_ADDRESS_TEXT, Symbol, WalletAddress
from equitoken.domain.values import Shares, TokenAmount
from equitoken.issuance import journal
from equitoken.issuance.mint_events import MINT_EVENTS, MintConfirmed, MintIntended, MintOutboxState
from equitoken.ports.chain import ChainEvent, ChainTx, Instrument
from equitoken.ports.store import Store

STREAM = "outbox"
INTENDED = MintIntended.__name__
CONFIRMED = MintConfirmed.__name__
ZERO = WalletAddress(ZERO_ADDRESS_TEXT)


class MintChain(Protocol):
    """What the outbox needs of a chain: mint, and read back what was minted."""

    @property
    def chain_id(self) -> int:
        """Return the chain's id."""
        ...

    def block_number(self) -> int:
        """Return the latest block number."""
        ...

    def mint(self, instrument: Instrument, to: WalletAddress, amount: TokenAmount) -> ChainTx:
        """Mint ``amount`` to ``to``."""
        ...

    def events(
        self, contract: WalletAddress, from_block: int, to_block: int | None = None
    ) -> list[ChainEvent]:
        """Return the decoded events of ``contract`` in a block range."""
        ...


MintIntent = MintIntended
"""A mint recorded as intended: which holding, on which chain, to whom, how much, from when on."""


@dataclass(frozen=True, slots=True)
class MintOutcome:
    """What became of an intent: the transaction, and whether it was sent now or found on the chain."""

    intent: MintIntent
    tx_hash: str
    block: int
    found: bool


class MintOutbox:
    """Record mints before sending them, send each once, and match the unsent-looking ones to the chain."""

    def __init__(self, store: Store, chain: MintChain) -> None:
        self._store = store
        self._chain = chain

    def _event_key(self, kind: str, key: str) -> str:
        return f"{kind}:{self._chain.chain_id}:{key}"

    def intend(self, key: str, symbol: Symbol, wallet: WalletAddress, shares: Shares, at: datetime) -> bool:
        """Record that ``shares`` are to be minted to ``wallet`` under ``key`` (once; False if recorded).

        Call it inside the unit of work that records the holding, so both or neither exist.
        """
        if key in {i.key for i in self.intents()}:
            return False
        intent = MintIntended(key, self._chain.chain_id, symbol, wallet, shares, self._chain.block_number())
        journal.append(self._store, STREAM, self._event_key("mint", key), at, intent)
        return True

    def _state(self) -> MintOutboxState:
        """Fold the stream for this chain; an unreadable event is refused, never skipped."""
        state = MintOutboxState(self._chain.chain_id)
        try:
            for event in journal.read(self._store, STREAM, MINT_EVENTS):
                state.apply(event)
        except DomainError as bad:
            raise DomainError("STORE_CORRUPT", f"{bad.message}; the mint outbox refuses to use it") from None
        return state

    def intents(self) -> list[MintIntent]:
        """Return every intent recorded for this chain, in order."""
        return self._state().intents

    def _confirmed(self) -> dict[str, str]:
        """Return intent key -> transaction hash, for this chain's confirmed intents."""
        return self._state().confirmed

    def pending(self) -> list[MintIntent]:
        """Return the intents with no recorded outcome, in order."""
        done = self._confirmed()
        return [i for i in self.intents() if i.key not in done]

    def drain(self, live: Mapping[Symbol, Instrument], at: datetime) -> list[MintOutcome]:
        """Carry out every pending intent of a live instrument: find its mint on the chain, or send it."""
        claimed = set(self._confirmed().values())
        outcomes: list[MintOutcome] = []
        for intent in self.pending():
            instrument = live.get(intent.symbol)
            if instrument is None:
                continue  # not on this chain yet: deploying it drains again
            amount = instrument.amount(intent.shares.value)
            seen = self._already_minted(instrument, intent, amount, claimed)
            if seen is not None:
                outcome = MintOutcome(intent, seen.tx_hash, seen.block, found=True)
            else:
                tx = self._chain.mint(instrument, intent.wallet, amount)
                outcome = MintOutcome(intent, tx.tx_hash, tx.block, found=False)
            claimed.add(outcome.tx_hash)
            confirmed = MintConfirmed(
                intent.key, intent.chain_id, outcome.tx_hash, outcome.block, outcome.found
            )
            journal.append(self._store, STREAM, self._event_key("minted", intent.key), at, confirmed)
            outcomes.append(outcome)
        return outcomes

    def _already_minted(
        self, instrument: Instrument, intent: MintIntent, amount: TokenAmount, claimed: set[str]
    ) -> ChainEvent | None:
        for event in self._chain.events(instrument.token, intent.after_block + 1):
            args = event.args
            if (
                event.name == "Transfer"
                and args.get("sender") == ZERO
                and args.get("receiver") == intent.wallet
                and args.get("value") == amount
                and event.tx_hash not in claimed
            ):
                return event
        return None


def holding_key(symbol: Symbol, position: int) -> str:
    """Return the outbox key of the ``position``-th holding issued in ``symbol`` (0-based)."""
    return f"{symbol.value}:{position}"
