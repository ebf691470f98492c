"""The direct model's register as a fold of typed events (stream ``register-direct-SYM``).

The register (``CapTable``) changes in two ways: the issuer issues (``SharesIssued``, claiming the
mint the compliance desk made) and holders' transfers are read from the chain
(``TransfersAbsorbed``: every transfer of a block range with the owner it was registered to, and
the mints seen, waiting for their issue). ``RegisterOpened`` says where reading started. Folding
the events in order gives back the same table, lot for lot, the same unclaimed mints and the same
read cursor: what a restarted model resumes from.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from equitoken.compliance.actions import Regulation
from equitoken.domain.errors import DomainError
from equitoken.domain.ids import InvestorId, Symbol, WalletAddress
from equitoken.domain.values import Shares
from equitoken.issuance.models.cap_table import CapTable

CAP_TABLE_DIVERGED = "CAP_TABLE_DIVERGED"


@dataclass(frozen=True, slots=True)
class MintSeen:
    """A mint seen on chain, waiting for the primary issue it belongs to."""

    tx_hash: str
    log_index: int
    wallet: WalletAddress
    tokens: Decimal


@dataclass(frozen=True, slots=True)
class RegisterTransfer:
    """One token transfer between holders, as the register took it."""

    tx_hash: str
    sender: WalletAddress
    receiver: WalletAddress
    shares: Shares
    receiver_investor: InvestorId | None


@dataclass(frozen=True, slots=True)
class RegisterOpened:
    """The register reads token events from block ``cursor`` on."""

    cursor: int


@dataclass(frozen=True, slots=True)
class TransfersAbsorbed:
    """The chain's token events up to ``through_block`` were applied to the register at ``at``."""

    at: datetime
    through_block: int
    transfers: tuple[RegisterTransfer, ...]
    mints: tuple[MintSeen, ...]


@dataclass(frozen=True, slots=True)
class SharesIssued:
    """The issuer issued ``shares`` to ``investor``'s ``wallet``, claiming the mint ``tx_hash:log_index``."""

    investor: InvestorId
    wallet: WalletAddress
    shares: Shares
    acquired_at: datetime
    regulation: Regulation
    tx_hash: str
    log_index: int


RegisterEvent = RegisterOpened | TransfersAbsorbed | SharesIssued
REGISTER_EVENTS: tuple[type, ...] = (RegisterOpened, TransfersAbsorbed, SharesIssued)


@dataclass
class Register:
    """The fold: the table, the mints no issue has claimed, the next block to read, the wallets known."""

    table: CapTable
    mints: list[MintSeen] = field(default_factory=list)
    cursor: int = 0
    opened: bool = False
    owners: dict[WalletAddress, InvestorId] = field(default_factory=dict)

    @classmethod
    def empty(cls, symbol: Symbol) -> Register:
        """Return the register of a listing before it opened."""
        return cls(CapTable(symbol))

    def apply(self, event: RegisterEvent) -> None:
        """Evolve the register by one event (refusing, unchanged, one the table cannot take)."""
        match event:
            case RegisterOpened():
                self.cursor, self.opened = event.cursor, True
            case TransfersAbsorbed():
                self.table = absorbed(self.table, event.transfers, event.at)
                self.mints = [*self.mints, *event.mints]
                self.cursor = event.through_block + 1
                for transfer in event.transfers:
                    if transfer.receiver_investor is not None:
                        self.owners[transfer.receiver] = transfer.receiver_investor
            case SharesIssued():
                self.table = self.table.issue(
                    event.investor, event.wallet, event.shares, event.acquired_at, event.regulation
                )
                claimed = (event.tx_hash, event.log_index)
                self.mints = [m for m in self.mints if (m.tx_hash, m.log_index) != claimed]
                self.owners[event.wallet] = event.investor


def absorbed(table: CapTable, transfers: tuple[RegisterTransfer, ...], at: datetime) -> CapTable:
    """Return ``table`` after ``transfers`` (``CAP_TABLE_DIVERGED`` naming the first it cannot take)."""
    for transfer in transfers:
        try:
            table = table.transfer(
                transfer.sender, transfer.receiver, transfer.shares, at, transfer.receiver_investor
            )
        except DomainError as refused:
            raise DomainError(
                CAP_TABLE_DIVERGED,
                f"the register cannot take the transfer in {transfer.tx_hash}: {refused.message}",
            ) from None
    return table
