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

Cost: the table keeps each wallet's lots in FIFO order, each wallet's balance, each investor's
holding and the total as it changes, so an operation, a balance and a check of a few wallets cost the
same on a table with ten lots or a million; only ``diff`` of every wallet and ``holders`` walk the
whole register (a reconciliation's full comparison). The mappings are copied per operation (the
table is a value): that copy is of the wallet index, not of the lots.
"""

from __future__ import annotations

from bisect import insort
from collections.abc import Iterable, Mapping
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
    """An investor on the register: its wallets and its lots (wallet by wallet, each FIFO)."""

    investor: InvestorId
    wallets: tuple[WalletAddress, ...]
    lots: tuple[Lot, ...]
    shares: Shares = Shares(0)
    """Everything the holder holds, all wallets together."""


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


def _fifo(lot: Lot) -> tuple[datetime, int]:
    return lot.acquired_at, lot.seq


_NONE = Shares(0)


@dataclass(frozen=True, slots=True)
class CapTable:
    """The register of one symbol (immutable: each operation returns the next table)."""

    symbol: Symbol
    wallets_by_investor: Mapping[InvestorId, tuple[WalletAddress, ...]] = field(default_factory=dict)
    """Each investor's wallets in the order they were registered; investors in the order they came."""
    owners: Mapping[WalletAddress, InvestorId] = field(default_factory=dict)
    lots_by_wallet: Mapping[WalletAddress, tuple[Lot, ...]] = field(default_factory=dict)
    """Each holding wallet's lots in FIFO order (the order they would leave in)."""
    balances: Mapping[WalletAddress, Shares] = field(default_factory=dict)
    """Each holding wallet's shares: the sum of its lots, kept as they change."""
    holdings: Mapping[InvestorId, Shares] = field(default_factory=dict)
    """Each investor's shares over all its wallets."""
    total_shares: Shares = _NONE
    next_seq: int = 0

    # -- reads ---------------------------------------------------------------------------------

    def holders(self) -> list[HolderOfRecord]:
        """Return the holders of record with a position, in the order they first appeared."""
        found = (self.holder(investor) for investor, held in self.holdings.items() if not held.is_zero())
        return [h for h in found if h is not None]

    def holder(self, investor: InvestorId) -> HolderOfRecord | None:
        """Return ``investor``'s record, or ``None`` if it never held."""
        wallets = self.wallets_by_investor.get(investor)
        if wallets is None:
            return None
        lots = tuple(lot for wallet in wallets for lot in self.lots_by_wallet.get(wallet, ()))
        return HolderOfRecord(investor, wallets, lots, self.holdings.get(investor, _NONE))

    def owner_of(self, wallet: WalletAddress) -> InvestorId | None:
        """Return the investor a wallet is registered to, or ``None``."""
        return self.owners.get(wallet)

    def lots_of(self, wallet: WalletAddress) -> list[Lot]:
        """Return a wallet's lots, FIFO order (the order they would leave in)."""
        return list(self.lots_by_wallet.get(wallet, ()))

    def balance_of(self, wallet: WalletAddress) -> Shares:
        """Return the shares registered to ``wallet`` (zero for a wallet the table does not know)."""
        return self.balances.get(wallet, _NONE)

    def total(self) -> Shares:
        """Return every share on the register."""
        return self.total_shares

    def diff(
        self, chain_balances: Mapping[WalletAddress, Decimal], only: Iterable[WalletAddress] | None = None
    ) -> list[Mismatch]:
        """Return every wallet whose register balance differs from ``chain_balances`` (absent: zero).

        With ``only``, just those wallets are compared (the ones a trade touched): the check after a
        match costs the same however large the register has grown.
        """
        wallets = sorted(set(self.owners) | set(chain_balances)) if only is None else sorted(set(only))
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
        table = self._registered(investor, wallet)
        return replace(
            table._with_lots(wallet, (lot,), shares, investor),
            total_shares=self.total_shares + shares,
            next_seq=self.next_seq + 1,
        )

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
        table = self._with_lots(sender_wallet, staying, held - shares, sender, replace_lots=True)
        table = table._registered(receiver, receiver_wallet)
        table = table._with_lots(receiver_wallet, arriving, shares, receiver)
        holdings = dict(table.holdings)
        holdings[sender] = holdings[sender] - shares  # the receiver's part was added above
        return replace(table, holdings=holdings, next_seq=self.next_seq + len(arriving))

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
        """Return the lots (or parts) that leave ``wallet`` FIFO for ``shares``, and what stays.

        Only the lots that leave are visited: the rest of the FIFO is kept as one slice.
        """
        lots = self.lots_by_wallet.get(wallet, ())
        leaving: list[Lot] = []
        due = shares
        for index, lot in enumerate(lots):
            if due.is_zero():
                return tuple(leaving), lots[index:]
            if lot.shares <= due:
                leaving.append(lot)
                due = due - lot.shares
            else:
                leaving.append(replace(lot, shares=due))
                return tuple(leaving), (replace(lot, shares=lot.shares - due), *lots[index + 1 :])
        return tuple(leaving), ()

    def _registered(self, investor: InvestorId, wallet: WalletAddress) -> CapTable:
        """Return the table with ``wallet`` registered to ``investor`` (refused for another's wallet)."""
        registered = self.owners.get(wallet)
        if registered is not None and registered != investor:
            raise DomainError(
                "WALLET_OF_ANOTHER_HOLDER", f"{wallet} is registered to {registered}, not to {investor}"
            )
        if registered is not None:
            return self
        wallets = self.wallets_by_investor.get(investor, ())
        return replace(
            self,
            wallets_by_investor={**self.wallets_by_investor, investor: (*wallets, wallet)},
            owners={**self.owners, wallet: investor},
        )

    def _with_lots(
        self,
        wallet: WalletAddress,
        lots: tuple[Lot, ...],
        shares: Shares,
        investor: InvestorId,
        *,
        replace_lots: bool = False,
    ) -> CapTable:
        """Return the table with ``lots`` put in ``wallet``'s FIFO (or, ``replace_lots``, as its FIFO).

        ``shares`` is the wallet's new balance when replacing, else what the lots add to the wallet
        and to ``investor``'s holding.
        """
        lots_by_wallet = dict(self.lots_by_wallet)
        balances = dict(self.balances)
        holdings = self.holdings
        if replace_lots:
            fifo, balance = lots, shares
        else:
            merged = list(lots_by_wallet.get(wallet, ()))
            for lot in lots:  # arriving lots carry their own dates: each goes to its FIFO place
                insort(merged, lot, key=_fifo)
            fifo, balance = tuple(merged), balances.get(wallet, _NONE) + shares
            holdings = {**holdings, investor: holdings.get(investor, _NONE) + shares}
        if fifo:
            lots_by_wallet[wallet], balances[wallet] = fifo, balance
        else:  # an emptied wallet keeps its owner, not an empty entry
            lots_by_wallet.pop(wallet, None)
            balances.pop(wallet, None)
        return replace(self, lots_by_wallet=lots_by_wallet, balances=balances, holdings=holdings)
