"""Who holds an investor's key: the self-custody wallets, as typed events (stream ``custody``).

An investor onboarded with its own wallet holds its own key: the platform records only the address
(``SelfCustodyRegistered``), never a key, and never derives one for it. The fold (``CustodyState``)
answers "whose wallet is this, and does its owner sign for itself?" — the executor leaves such a
wallet's quote for the investor to settle, and ``Service.holder`` returns that wallet.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from equitoken.domain.errors import DomainError
from equitoken.domain.ids import InvestorId, WalletAddress

STREAM = "custody"


@dataclass(frozen=True, slots=True)
class SelfCustodyRegistered:
    """An investor was onboarded with a wallet whose key it holds itself (the platform has the address)."""

    at: datetime
    investor: InvestorId
    wallet: WalletAddress


CUSTODY_EVENTS: tuple[type, ...] = (SelfCustodyRegistered,)


@dataclass
class CustodyState:
    """The fold of the custody stream: each self-custody investor's wallet, and each wallet's investor."""

    wallets: dict[InvestorId, WalletAddress] = field(default_factory=dict)
    owners: dict[WalletAddress, InvestorId] = field(default_factory=dict)

    def apply(self, event: object) -> None:
        """Fold one event; a wallet registered to two investors, or two wallets to one, is refused."""
        match event:
            case SelfCustodyRegistered(investor=investor, wallet=wallet):
                known = self.wallets.get(investor)
                owner = self.owners.get(wallet)
                if (known is not None and known != wallet) or (owner is not None and owner != investor):
                    raise DomainError(
                        "WALLET_BOUND_ELSEWHERE",
                        f"wallet {wallet} and investor {investor} are each registered to another",
                    )
                self.wallets[investor] = wallet
                self.owners[wallet] = investor
            case _:
                raise DomainError("EVENT_MALFORMED", f"the custody stream holds {type(event).__name__}")

    def settles_itself(self, wallet: WalletAddress) -> bool:
        """Tell whether ``wallet``'s owner signs for it (the platform holds no key for it)."""
        return wallet in self.owners
