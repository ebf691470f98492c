"""The transfer agent's cap table of one direct-ownership share: the legal record the token mirrors.

Each holder of record is an investor with one or more wallets; what it holds is a list of lots, each
with its shares, acquisition date, the exemption it was issued under and the restriction legend that
follows from it. The token on chain must equal the table wallet by wallet (``diff`` says where not).

Rules:

- a transfer takes lots from the sender FIFO (earliest acquisition first, then issue order), so the
  oldest — least restricted — shares leave first;
- the buyer's lot keeps the exemption, the legend (restricted securities stay restricted in the
  buyer's hands) and the holding period: ``acquired_at`` stays the date the shares left the issuer,
  because a non-affiliate buying from a non-affiliate tacks the prior holders' period (Rule 144(d)(1)
  runs from the sale by the issuer or an affiliate). This is also what the compliance engine and the
  contracts judge lockups by — the issue date of the holding — so the register and the rules agree:
  a lot only moves once its lockup is over, and it never becomes locked again in the buyer's hands.
  ``registered_at`` records when the lot entered its current holder's name;
- between two wallets of one investor nothing is acquired, and a transfer from a wallet to itself
  changes nothing;
- a refused operation (unknown receiver, too few shares, a wallet of another investor) raises
  ``DomainError`` and the table is unchanged: the table is an immutable value and every operation
  returns a new one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal

from equitoken.compliance.actions import Regulation
from equitoken.domain.errors import DomainError
from equitoken.domain.ids import InvestorId, Symbol, WalletAddress
from equitoken.domain.instants import utc
from equitoken.domain.values import Shares, canonical_decimal

LEGENDS: Mapping[Regulation, str] = {
    Regulation.REG_D: (
        "Restricted security (Regulation D Rule 506(c)): not registered under the Securities Act; "
        "may not be resold except under Rule 144 or another exemption."
    ),
    Regulation.REG_S: (
        "Regulation S Category 3: no offers or sales in the United States or to US persons "
        "for one year after the distribution."
    ),
    Regulation.NONE: "",
}
"""The restriction legend printed on a lot, by the exemption it was issued under."""


@dataclass(frozen=True, slots=True)
class Lot:
    """Shares a wallet acquired together: when, under which exemption, and the legend they carry."""

    wallet: WalletAddress
    shares: Shares
    acquired_at: datetime
    """When the holding period started: the issue date, tacked across non-affiliate resales."""
    regulation: Regulation
    issued_at: datetime
    """When the issuer first issued them (kept across transfers, for the audit trail)."""
    seq: int
    """Issue order within the table: the FIFO tie-break between lots acquired at the same instant."""
    registered_at: datetime | None = None
    """When the lot entered its current holder's name (``None``: at issue, ``issued_at``)."""

    @property
    def legend(self) -> str:
        """Return the restriction legend these shares carry (empty for unrestricted shares)."""
        return LEGENDS[self.regulation]


@dataclass(frozen=True, slots=True)
class HolderOfRecord:
    """An investor on the register: its wallets and its lots."""

    investor: InvestorId
    wallets: tuple[WalletAddress, ...]
    lots: tuple[Lot, ...]

    @property
    def shares(self) -> Shares:
        """Return everything the holder holds, all wallets together."""
        return _sum(self.lots)


@dataclass(frozen=True, slots=True)
class Mismatch:
    """One wallet where the register and the chain disagree."""

    wallet: WalletAddress
    register: Decimal
    chain: Decimal

    def __str__(self) -> str:
        return (
            f"{self.wallet}: register {canonical_decimal(self.register)}, "
            f"chain {canonical_decimal(self.chain)}"
        )


def _sum(lots: tuple[Lot, ...]) -> Shares:
    total = Shares(0)
    for lot in lots:
        total = total + lot.shares
    return total


def _fifo(lot: Lot) -> tuple[datetime, int]:
    return lot.acquired_at, lot.seq


@dataclass(frozen=True, slots=True)
class CapTable:
    """The register of one symbol (immutable: each operation returns the next table)."""

    symbol: Symbol
    holders_by_id: Mapping[InvestorId, HolderOfRecord] = field(default_factory=dict)
    owners: Mapping[WalletAddress, InvestorId] = field(default_factory=dict)
    next_seq: int = 0

    # -- reads ---------------------------------------------------------------------------------

    def holders(self) -> list[HolderOfRecord]:
        """Return the holders of record with a position, in the order they first appeared."""
        return [h for h in self.holders_by_id.values() if not h.shares.is_zero()]

    def holder(self, investor: InvestorId) -> HolderOfRecord | None:
        """Return ``investor``'s record, or ``None`` if it never held."""
        return self.holders_by_id.get(investor)

    def owner_of(self, wallet: WalletAddress) -> InvestorId | None:
        """Return the investor a wallet is registered to, or ``None``."""
        return self.owners.get(wallet)

    def lots_of(self, wallet: WalletAddress) -> list[Lot]:
        """Return a wallet's lots, FIFO order (the order they would leave in)."""
        owner = self.owners.get(wallet)
        if owner is None:
            return []
        return sorted((lot for lot in self.holders_by_id[owner].lots if lot.wallet == wallet), key=_fifo)

    def balance_of(self, wallet: WalletAddress) -> Shares:
        """Return the shares registered to ``wallet`` (zero for a wallet the table does not know)."""
        return _sum(tuple(self.lots_of(wallet)))

    def total(self) -> Shares:
        """Return every share on the register."""
        total = Shares(0)
        for holder in self.holders_by_id.values():
            total = total + holder.shares
        return total

    def diff(self, chain_balances: Mapping[WalletAddress, Decimal]) -> list[Mismatch]:
        """Return every wallet whose register balance differs from ``chain_balances`` (absent: zero)."""
        wallets = sorted(set(self.owners) | set(chain_balances))
        found: list[Mismatch] = []
        for wallet in wallets:
            register = self.balance_of(wallet).value
            chain = chain_balances.get(wallet, Decimal(0))
            if register != chain:
                found.append(Mismatch(wallet, register, chain))
        return found

    # -- changes -------------------------------------------------------------------------------

    def issue(
        self,
        investor: InvestorId,
        wallet: WalletAddress,
        shares: Shares,
        acquired_at: datetime,
        regulation: Regulation,
    ) -> CapTable:
        """Return the table with ``shares`` newly issued to ``investor``'s ``wallet``."""
        if shares.is_zero():
            raise DomainError("ZERO_AMOUNT", "an issue must be of a positive number of shares")
        at = utc(acquired_at)
        lot = Lot(wallet, shares, at, regulation, at, self.next_seq)
        return self._with_lots(investor, wallet, (lot,))._bumped(1)

    def transfer(
        self,
        sender_wallet: WalletAddress,
        receiver_wallet: WalletAddress,
        shares: Shares,
        at: datetime,
        receiver_investor: InvestorId | None = None,
    ) -> CapTable:
        """Return the table after ``shares`` moved from ``sender_wallet`` to ``receiver_wallet`` at ``at``.

        Lots leave the sender FIFO; the receiver's new lots keep their exemption, legend and holding
        period, and are registered to the receiver at ``at``. ``receiver_investor`` registers a new
        wallet to its investor; without it the receiving wallet must already be on the register.
        """
        if shares.is_zero():
            raise DomainError("ZERO_AMOUNT", "a transfer must move a positive number of shares")
        sender = self.owners.get(sender_wallet)
        held = self.balance_of(sender_wallet)
        if sender is None or held < shares:
            raise DomainError(
                "INSUFFICIENT_SHARES",
                f"{sender_wallet} holds {held.value} {self.symbol} shares on the register, "
                f"fewer than the {shares.value} to transfer",
            )
        receiver = self._receiver(receiver_wallet, receiver_investor)
        if receiver_wallet == sender_wallet:
            return self
        leaving, staying = self._split(sender_wallet, shares)
        # The holding period is tacked (see the module doc); only a new owner is registered anew.
        registered = None if receiver == sender else utc(at)
        arriving = tuple(
            Lot(
                receiver_wallet,
                lot.shares,
                lot.acquired_at,
                lot.regulation,
                lot.issued_at,
                self.next_seq + i,
                lot.registered_at if registered is None else registered,
            )
            for i, lot in enumerate(leaving)
        )
        kept = tuple(lot for lot in self.holders_by_id[sender].lots if lot.wallet != sender_wallet)
        table = replace(
            self,
            holders_by_id={
                **self.holders_by_id,
                sender: replace(self.holders_by_id[sender], lots=(*kept, *staying)),
            },
        )
        return table._with_lots(receiver, receiver_wallet, arriving)._bumped(len(arriving))

    # -- internals -----------------------------------------------------------------------------

    def _receiver(self, wallet: WalletAddress, investor: InvestorId | None) -> InvestorId:
        registered = self.owners.get(wallet)
        if investor is None:
            if registered is None:
                raise DomainError(
                    "UNKNOWN_HOLDER",
                    f"{wallet} is on no {self.symbol} register entry and no investor was named",
                )
            return registered
        if registered is not None and registered != investor:
            raise DomainError(
                "WALLET_OF_ANOTHER_HOLDER", f"{wallet} is registered to {registered}, not to {investor}"
            )
        return investor

    def _split(self, wallet: WalletAddress, shares: Shares) -> tuple[tuple[Lot, ...], tuple[Lot, ...]]:
        """Return the lots (or parts) that leave ``wallet`` FIFO for ``shares``, and what stays."""
        leaving: list[Lot] = []
        staying: list[Lot] = []
        due = shares
        for lot in self.lots_of(wallet):
            if due.is_zero():
                staying.append(lot)
            elif lot.shares <= due:
                leaving.append(lot)
                due = due - lot.shares
            else:
                leaving.append(replace(lot, shares=due))
                staying.append(replace(lot, shares=lot.shares - due))
                due = Shares(0)
        return tuple(leaving), tuple(staying)

    def _with_lots(self, investor: InvestorId, wallet: WalletAddress, lots: tuple[Lot, ...]) -> CapTable:
        registered = self.owners.get(wallet)
        if registered is not None and registered != investor:
            raise DomainError(
                "WALLET_OF_ANOTHER_HOLDER", f"{wallet} is registered to {registered}, not to {investor}"
            )
        current = self.holders_by_id.get(investor) or HolderOfRecord(investor, (), ())
        wallets = current.wallets if wallet in current.wallets else (*current.wallets, wallet)
        holder = replace(current, wallets=wallets, lots=(*current.lots, *lots))
        return replace(
            self,
            holders_by_id={**self.holders_by_id, investor: holder},
            owners={**self.owners, wallet: investor},
        )

    def _bumped(self, count: int) -> CapTable:
        return replace(self, next_seq=self.next_seq + count)
