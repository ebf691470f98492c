"""The mint outbox's events (stream ``outbox``): a mint recorded as intended, and what became of it.

``MintIntended`` is journaled with the holding it mints, before the mint is sent; ``MintConfirmed``
after it was sent or found on the chain. ``MintOutboxState`` folds them, per chain, into the intents
in order and the confirmed ones. Encoded by the one event codec (``domain.codec``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from equitoken.domain.ids import Symbol, WalletAddress
from equitoken.domain.values import Shares


@dataclass(frozen=True, slots=True)
class MintIntended:
    """``shares`` of ``symbol`` are to be minted to ``wallet`` on chain ``chain_id`` under ``key``.

    ``after_block`` is the latest block when the intent was recorded: the mint is looked for after it.
    """

    key: str
    chain_id: int
    symbol: Symbol
    wallet: WalletAddress
    shares: Shares
    after_block: int


@dataclass(frozen=True, slots=True)
class MintConfirmed:
    """The intent ``key`` on ``chain_id`` was minted in ``tx_hash`` (``found`` on chain after a crash)."""

    key: str
    chain_id: int
    tx_hash: str
    block: int
    found: bool


MINT_EVENTS: tuple[type, ...] = (MintIntended, MintConfirmed)


@dataclass
class MintOutboxState:
    """The fold of stream ``outbox`` for one chain: its intents in order and its confirmed mints."""

    chain_id: int
    intents: list[MintIntended] = field(default_factory=list)
    confirmed: dict[str, str] = field(default_factory=dict)
    """Intent key → transaction hash."""

    def apply(self, event: object) -> None:
        """Evolve the state by one event (another chain's events leave it as it is)."""
        match event:
            case MintIntended() if event.chain_id == self.chain_id:
                self.intents.append(event)
            case MintConfirmed() if event.chain_id == self.chain_id:
                self.confirmed[event.key] = event.tx_hash
