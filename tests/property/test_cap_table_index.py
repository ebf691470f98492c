"""The cap table's per-wallet indexes answer as a walk over every lot would, and checks stay local.

``CapTable`` keeps each wallet's FIFO lots, balances, holdings and the total as they change. The
reference here is the plain definition — one flat list of lots, a balance is the sum of a wallet's
lots, a transfer takes the wallet's lots sorted FIFO — and, for any sequence of issues and transfers
(between investors, between two wallets of one investor, refused ones), the table agrees with it
on every read, and the check of the wallets a trade touched (``diff(..., only=...)``) equals the full
comparison restricted to them. A counting regression pins that such a check visits no lot at all,
however many the register holds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from equitoken.compliance.actions import Regulation
from equitoken.domain.errors import DomainError
from equitoken.domain.ids import InvestorId, Symbol, WalletAddress
from equitoken.domain.values import Shares
from equitoken.issuance.models.cap_table import CapTable, Lot

T0 = datetime(2011, 1, 3, 15, 0, tzinfo=UTC)
KO = Symbol("KO")
INVESTORS = [InvestorId(f"inv-{i}") for i in range(3)]
W = [WalletAddress("0x" + f"{i:040x}") for i in range(1, 6)]
OWNER = {W[0]: INVESTORS[0], W[1]: INVESTORS[1], W[2]: INVESTORS[2], W[3]: INVESTORS[0], W[4]: INVESTORS[1]}
AMOUNTS = st.sampled_from(["0.5", "1", "3", "10", "25.000000001"]).map(Shares)


@dataclass
class Reference:
    """The register by its definition: one flat list of lots, everything derived by walking it."""

    lots: list[Lot] = field(default_factory=list)
    seq: int = 0

    def wallet_lots(self, wallet: WalletAddress) -> list[Lot]:
        return sorted(
            (lot for lot in self.lots if lot.wallet == wallet), key=lambda x: (x.acquired_at, x.seq)
        )

    def balance(self, wallet: WalletAddress) -> Decimal:
        return sum((lot.shares.value for lot in self.lots if lot.wallet == wallet), Decimal(0))

    def issue(self, wallet: WalletAddress, shares: Shares, at: datetime, regulation: Regulation) -> None:
        self.lots.append(Lot(wallet, shares, at, regulation, at, self.seq))
        self.seq += 1

    def transfer(self, sender: WalletAddress, receiver: WalletAddress, shares: Shares, at: datetime) -> None:
        if sender == receiver:
            return
        due = shares.value
        moved: list[Lot] = []
        for lot in self.wallet_lots(sender):
            if due == 0:
                break
            self.lots.remove(lot)
            take = min(due, lot.shares.value)
            if take < lot.shares.value:
                self.lots.append(replace(lot, shares=Shares(lot.shares.value - take)))
            moved.append(replace(lot, shares=Shares(take)))
            due -= take
        registered = None if OWNER[sender] == OWNER[receiver] else at
        for i, lot in enumerate(moved):
            self.lots.append(
                replace(
                    lot,
                    wallet=receiver,
                    seq=self.seq + i,
                    registered_at=lot.registered_at if registered is None else registered,
                )
            )
        self.seq += len(moved)


STEPS = st.lists(
    st.tuples(
        st.booleans(),
        st.sampled_from(W),
        st.sampled_from(W),
        AMOUNTS,
        st.sampled_from(list(Regulation)),
        st.integers(min_value=0, max_value=50),
    ),
    max_size=40,
)


@settings(max_examples=250, deadline=None)
@given(steps=STEPS, chain_noise=st.dictionaries(st.sampled_from(W), st.sampled_from([0, 1, 3]), max_size=3))
def test_the_indexed_table_equals_the_walk_over_every_lot(
    steps: list[tuple[bool, WalletAddress, WalletAddress, Shares, Regulation, int]],
    chain_noise: dict[WalletAddress, int],
) -> None:
    table, reference = CapTable(KO), Reference()
    for is_issue, a, b, shares, regulation, days in steps:
        at = T0 + timedelta(days=days)
        if is_issue:
            table = table.issue(OWNER[a], a, shares, at, regulation)
            reference.issue(a, shares, at, regulation)
        else:
            enough = reference.balance(a) >= shares.value
            try:
                table = table.transfer(a, b, shares, at, OWNER[b])
            except DomainError as refused:
                assert refused.code == "INSUFFICIENT_SHARES" and not enough
                continue
            assert enough
            reference.transfer(a, b, shares, at)
        assert table.total().value == sum((lot.shares.value for lot in reference.lots), Decimal(0))
        for wallet in W:
            assert table.lots_of(wallet) == reference.wallet_lots(wallet)
            assert table.balance_of(wallet).value == reference.balance(wallet)
        for investor in INVESTORS:
            holder = table.holder(investor)
            held = sum((reference.balance(w) for w, o in OWNER.items() if o == investor), Decimal(0))
            assert (Decimal(0) if holder is None else holder.shares.value) == held
            if holder is not None:
                assert holder.shares == sum((lot.shares for lot in holder.lots), Shares(0))
        # The chain as the register says, off by ``chain_noise`` on some wallets.
        chain = {w: reference.balance(w) + chain_noise.get(w, 0) for w in W}
        for touched in ((W[0], W[1]), (W[2],), (W[3], W[4], W[0])):
            full = [m for m in table.diff(chain) if m.wallet in touched]
            assert table.diff({w: chain[w] for w in touched}, only=touched) == full


def test_checking_two_wallets_visits_no_lot_however_large_the_register(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    table = CapTable(KO).issue(INVESTORS[0], W[0], Shares(100_000), T0, Regulation.NONE)
    for i in range(2000):  # two thousand purchases: two thousand lots in W[1] and W[2]
        table = table.transfer(W[0], W[1 + i % 2], Shares(1), T0 + timedelta(seconds=i), OWNER[W[1 + i % 2]])
    visited = 0
    real_add, real_sub = Shares.__add__, Shares.__sub__

    def counted(real: Callable[[Shares, Shares], Shares]) -> Callable[[Shares, Shares], Shares]:
        def arithmetic(self: Shares, other: Shares) -> Shares:
            nonlocal visited
            visited += 1
            return real(self, other)

        return arithmetic

    monkeypatch.setattr(Shares, "__add__", counted(real_add))
    monkeypatch.setattr(Shares, "__sub__", counted(real_sub))
    chain = {W[1]: Decimal(1000), W[2]: Decimal(1000)}
    assert table.diff(chain, only=(W[1], W[2])) == []
    assert table.balance_of(W[1]) == Shares(1000) and table.total() == Shares(100_000)
    assert visited == 0  # reads and the check of two wallets add up nothing
    moved = table.transfer(W[1], W[2], Shares(3), T0 + timedelta(days=1))  # three lots leave, FIFO
    assert moved.balance_of(W[2]) == Shares(1003)
    assert visited < 20  # the lots that left and the running sums, not the 2,000 lots in each wallet
