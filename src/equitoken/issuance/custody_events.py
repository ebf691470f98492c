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


@dataclass(frozen=True, slots=True)
class WalletRecovered:
    """An investor's position was recovered from ``lost`` to ``new`` (ERC-3643 recovery): its wallet now.

    ``own_key`` says whether the investor holds ``new``'s key itself (the platform does not).
    """

    at: datetime
    investor: InvestorId
    lost: WalletAddress
    new: WalletAddress
    own_key: bool


CUSTODY_EVENTS: tuple[type, ...] = (SelfCustodyRegistered, WalletRecovered)


@dataclass
class CustodyState:
    """The fold of the custody stream: each self-custody investor's wallet, and each wallet's investor."""

    wallets: dict[InvestorId, WalletAddress] = field(default_factory=dict)
    owners: dict[WalletAddress, InvestorId] = field(default_factory=dict)
    moved: dict[InvestorId, WalletAddress] = field(default_factory=dict)
    """The wallet an investor's position was last recovered to, whoever holds its key."""
    onboarded: set[InvestorId] = field(default_factory=set)
    """The investors onboarded with their own wallet: the platform never derived one for them."""

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
                self.onboarded.add(investor)
            case WalletRecovered(investor=investor, lost=lost, new=new, own_key=own_key):
                owner = self.owners.get(new)
                if owner is not None and owner != investor:
                    raise DomainError("WALLET_BOUND_ELSEWHERE", f"wallet {new} is registered to {owner}")
                self.moved[investor] = new
                if self.owners.get(lost) == investor:
                    del self.owners[lost]
                self.wallets.pop(investor, None)
                if own_key:  # the new wallet signs for itself, as an onboarded self-custody one does
                    self.wallets[investor] = new
                    self.owners[new] = investor
            case _:
                raise DomainError("EVENT_MALFORMED", f"the custody stream holds {type(event).__name__}")

    def wallet_of(self, investor: InvestorId) -> WalletAddress | None:
        """Return the wallet ``investor`` trades from when it is not the one the platform derived for it."""
        return self.moved.get(investor) or self.wallets.get(investor)

    def settles_itself(self, wallet: WalletAddress) -> bool:
        """Tell whether ``wallet``'s owner signs for it (the platform holds no key for it)."""
        return wallet in self.owners
