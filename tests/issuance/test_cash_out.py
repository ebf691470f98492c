"""Cash leaving the platform: redemptions burn, withdrawals transfer, both once, both through the outbox.

The production engine over the embedded chain (``tests.issuance.world``): the ledger's investor cash and
the wallet's stablecoin move together, a refusal records nothing, a kill between the chain send and the
commit is finished by the next engine — booked once, never burned or sent twice.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from equitoken.app.cash_out import OUTSIDE_WALLETS
from equitoken.domain.errors import DomainError
from equitoken.domain.ids import WalletAddress
from equitoken.domain.values import Money
from equitoken.issuance.models import ModelName
from equitoken.issuance.models.base import Holder
from equitoken.issuance.models.books import BANK, USD, investor_cash
from tests.issuance.test_kill_between_send_and_commit import Killed, armed, reopen
from tests.issuance.test_restart import BUILDERS, MONDAY
from tests.issuance.world import World

OUTSIDE = WalletAddress("0x" + "e1" * 20)
LISTED = WalletAddress("0x5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a")  # on the sample sanctions list


def funded(cash: str = "1000", *, kept: bool | None = None) -> tuple[World, Holder]:
    world = World.start(MONDAY, seed="cash-out", chain_kept=kept)
    return world, world.investor("anna", residence="DE", cash=cash)


def ledger(world: World, holder: Holder) -> Decimal:
    return world.store.balance(investor_cash(holder.investor), USD)


def coins(world: World, wallet: WalletAddress) -> Decimal:
    return world.engine.chain.stablecoin_balance(world.engine.stablecoin, wallet).amount


def supply(world: World) -> Decimal:
    return world.engine.chain.total_supply(world.engine.stablecoin).value


def test_a_redemption_burns_the_coins_and_books_the_cash_to_the_bank() -> None:
    world, anna = funded()
    before = supply(world)
    assert world.engine.redeem(anna, Money("250.50"), key="r1") is True
    assert ledger(world, anna) == coins(world, anna.wallet) == Decimal("749.50")
    assert supply(world) == before - Decimal("250.50")  # burned, not parked anywhere
    assert world.store.balance(BANK, USD) == -Decimal("749.50")  # 1000 in, 250.50 back out


def test_a_withdrawal_moves_the_coins_to_the_named_address_and_books_them_outside() -> None:
    world, anna = funded()
    assert world.engine.withdraw(anna, OUTSIDE, Money("300"), key="w1") is True
    assert ledger(world, anna) == coins(world, anna.wallet) == Decimal("700")
    assert coins(world, OUTSIDE) == Decimal("300")
    assert world.store.balance(OUTSIDE_WALLETS, USD) == Decimal("300")


def test_the_same_key_moves_money_once_and_another_amount_under_it_is_a_conflict() -> None:
    world, anna = funded()
    assert world.engine.redeem(anna, Money("100"), key="r1") is True
    assert world.engine.redeem(anna, Money("100"), key="r1") is False
    assert ledger(world, anna) == coins(world, anna.wallet) == Decimal("900")
    with pytest.raises(DomainError) as conflict:
        world.engine.redeem(anna, Money("200"), key="r1")
    assert conflict.value.code == "IDEMPOTENCY_CONFLICT"
    assert world.engine.withdraw(anna, OUTSIDE, Money("50"), key="w1") is True
    with pytest.raises(DomainError) as elsewhere:
        world.engine.withdraw(anna, WalletAddress("0x" + "e2" * 20), Money("50"), key="w1")
    assert elsewhere.value.code == "IDEMPOTENCY_CONFLICT" and coins(world, OUTSIDE) == 50


@pytest.mark.parametrize(
    ("to", "amount", "code"),
    [
        (None, "1000.01", "INSUFFICIENT_CASH"),
        (OUTSIDE, "1000.01", "INSUFFICIENT_CASH"),
        (None, "0", "INVALID_AMOUNT"),
        (LISTED, "10", "RECIPIENT_SANCTIONED"),
        (WalletAddress("0x" + "0" * 40), "10", "ZERO_ADDRESS"),
    ],
)
def test_a_refused_cash_out_records_nothing(to: WalletAddress | None, amount: str, code: str) -> None:
    world, anna = funded()
    entries, effects = len(world.store.entries()), len(world.store.events("effects"))
    with pytest.raises(DomainError) as refused:
        if to is None:
            world.engine.redeem(anna, Money(amount), key="k")
        else:
            world.engine.withdraw(anna, to, Money(amount), key="k")
    assert refused.value.code == code
    assert len(world.store.entries()) == entries and len(world.store.events("effects")) == effects
    assert ledger(world, anna) == coins(world, anna.wallet) == 1000


def test_a_withdrawal_to_a_wallet_the_platform_keeps_is_refused() -> None:
    world, anna = funded()
    bob = world.investor("bob", residence="DE", cash=None)
    for to in (bob.wallet, anna.wallet):
        with pytest.raises(DomainError) as refused:
            world.engine.withdraw(anna, to, Money("10"))
        assert refused.value.code == "WITHDRAWAL_TO_PLATFORM_WALLET"
    assert coins(world, bob.wallet) == 0 and ledger(world, anna) == 1000


@pytest.mark.parametrize("method", ["burn_stablecoin", "transfer"])
def test_a_cash_out_killed_after_its_send_is_booked_once_by_the_next_engine(method: str) -> None:
    world, anna = funded(kept=True)
    world.list("MSFT", ModelName.INSTANT, "instant-execution", BUILDERS[ModelName.INSTANT])
    real = armed(world, method)

    def cash_out() -> bool:
        if method == "transfer":
            return world.engine.withdraw(anna, OUTSIDE, Money("400"), key="out-1")
        return world.engine.redeem(anna, Money("400"), key="out-1")

    try:
        cash_out()
        raise AssertionError("the kill did not happen")
    except Killed:
        pass
    assert ledger(world, anna) == 1000 and coins(world, anna.wallet) == 600  # sent, not yet booked
    engine = reopen(world, real)
    assert ledger(world, anna) == coins(world, anna.wallet) == 600  # the new engine booked it, once
    assert cash_out() is False  # the client's retry moves nothing
    assert ledger(world, anna) == coins(world, anna.wallet) == 600
    assert engine.executor.pending() == []


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    moves=st.lists(
        st.tuples(
            st.sampled_from(["deposit", "redeem", "withdraw"]),
            st.decimals(min_value=Decimal("0.01"), max_value=Decimal(800), places=2),
        ),
        min_size=1,
        max_size=6,
    )
)
def test_ledger_cash_equals_the_wallets_coins_whatever_moves(moves: list[tuple[str, Decimal]]) -> None:
    world, anna = funded()
    expected = Decimal(1000)
    for number, (what, amount) in enumerate(moves):
        try:
            if what == "deposit":
                world.engine.deposit(anna, Money(amount), key=f"m{number}")
            elif what == "redeem":
                world.engine.redeem(anna, Money(amount), key=f"m{number}")
            else:
                world.engine.withdraw(anna, OUTSIDE, Money(amount), key=f"m{number}")
        except DomainError as refused:
            assert refused.code == "INSUFFICIENT_CASH" and amount > expected
            continue
        expected += amount if what == "deposit" else -amount
        assert ledger(world, anna) == coins(world, anna.wallet) == expected >= 0
