"""The ``TokenChain`` conformance suite: one set of behaviours, run through the facade on every engine.

ERC-20 behaviour, every compliance rule's allow and deny path with its reason code (the transaction and
``can_transfer`` agree), the enforcement tools, the multiplier, EIP-712 quote settlement and AMM
composability — on the embedded EVM and on an anvil node (skipped without anvil, failed under CI=true).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from equitoken.adapters.chain.facade import unlimited
from equitoken.app.corporate_actions import schedule_multiplier
from equitoken.domain.errors import DomainError
from equitoken.domain.ids import InvestorId, Symbol, WalletAddress
from equitoken.domain.reasons import Reason
from equitoken.domain.values import Money, TokenAmount
from equitoken.ports.chain import (
    ChainQuote,
    ChainRefusal,
    ChainTx,
    ComplianceConfig,
    MultiplierUpdate,
    OnChainInvestor,
    QuoteSide,
    TransferMode,
)
from equitoken.reserves.merkle import HolderTree
from tests.chain.token_world import (
    ENGINES,
    INVESTOR_A,
    INVESTOR_B,
    INVESTOR_C,
    KYC_VALID_UNTIL,
    NORTH_KOREA,
    SWITZERLAND,
    UNITED_STATES,
    World,
    _close_worlds,  # noqa: F401 - session fixture: closes the worlds' backends
    world_fixture,
)

ZERO = WalletAddress("0x" + "0" * 40)


@pytest.fixture(params=sorted(ENGINES))
def w(request: pytest.FixtureRequest) -> Iterator[World]:
    """Yield the engine's world at a fresh snapshot."""
    yield from world_fixture(request.param)


def refused(reason: Reason) -> AbstractContextManager[pytest.ExceptionInfo[ChainRefusal]]:
    """Expect a ``ChainRefusal`` carrying ``reason``."""
    return pytest.raises(ChainRefusal, match=f"^{reason.name}:")


def assert_denied(
    w: World, sender: WalletAddress, to: WalletAddress, amount: TokenAmount, reason: Reason
) -> None:
    """Check that the view and the transaction both refuse with ``reason``, and nothing moved."""
    assert w.chain.can_transfer(w.instrument, sender, to, amount).reason is reason
    before = (w.balance(sender), w.balance(to))
    with refused(reason):
        w.chain.transfer(w.token, sender, to, amount)
    assert (w.balance(sender), w.balance(to)) == before


def assert_allowed(w: World, sender: WalletAddress, to: WalletAddress, amount: TokenAmount) -> ChainTx:
    """Check that the view allows and the transaction moves ``amount``."""
    decision = w.chain.can_transfer(w.instrument, sender, to, amount)
    assert decision.allowed and decision.reason is Reason.OK
    before = w.balance(to)
    tx = w.chain.transfer(w.token, sender, to, amount)
    assert w.balance(to) == before + amount
    return tx


def configure(w: World, **changes: object) -> None:
    """Apply a compliance configuration and check it reads back equal."""
    config = ComplianceConfig(**changes)  # type: ignore[arg-type]
    w.chain.configure(w.instrument, config)
    assert w.chain.read_config(w.instrument) == config


# ------------------------------------------------------------------ ERC-20


def test_mint_sets_balance_supply_and_emits_transfer_from_zero(w: World) -> None:
    tx = w.chain.mint(w.instrument, w.alice, w.amount("100.5"))
    assert w.balance(w.alice) == w.amount("100.5")
    assert w.chain.total_supply(w.token) == w.amount("100.5")
    (event,) = tx.events
    assert event.name == "Transfer" and event.contract == w.token
    assert event.args == {"sender": ZERO, "receiver": w.alice, "value": w.amount("100.5")}
    assert tx.block == w.chain.block_number() and tx.gas_used > 21_000 and tx.tx_hash.startswith("0x")


def test_transfer_moves_tokens_and_emits_an_event(w: World) -> None:
    w.chain.mint(w.instrument, w.alice, w.amount(10))
    tx = assert_allowed(w, w.alice, w.dave, w.amount(3))
    assert w.balance(w.alice) == w.amount(7)
    assert [e.name for e in tx.events] == ["Transfer"]
    assert tx.events[0].args == {"sender": w.alice, "receiver": w.dave, "value": w.amount(3)}


def test_insufficient_balance_is_refused(w: World) -> None:
    w.chain.mint(w.instrument, w.alice, w.amount(1))
    assert_denied(w, w.alice, w.bob, w.amount(2), Reason.INSUFFICIENT_BALANCE)


def test_zero_address_is_refused(w: World) -> None:
    w.chain.mint(w.instrument, w.alice, w.amount(1))
    assert_denied(w, w.alice, ZERO, w.amount(1), Reason.ZERO_ADDRESS)
    with refused(Reason.ZERO_ADDRESS):
        w.chain.mint(w.instrument, ZERO, w.amount(1))
    with refused(Reason.ZERO_ADDRESS):
        w.chain.approve(w.token, w.alice, ZERO, w.amount(1))


def test_allowance_is_spent_by_transfer_from(w: World) -> None:
    w.chain.mint(w.instrument, w.alice, w.amount(10))
    tx = w.chain.approve(w.token, w.alice, w.bob, w.amount(4))
    assert tx.events[0].name == "Approval" and tx.events[0].args["value"] == w.amount(4)
    w.chain.transfer_from(w.token, w.bob, w.alice, w.carol, w.amount(3))
    assert w.chain.allowance(w.token, w.alice, w.bob) == w.amount(1)
    assert w.balance(w.carol) == w.amount(3)
    with refused(Reason.INSUFFICIENT_ALLOWANCE):
        w.chain.transfer_from(w.token, w.bob, w.alice, w.carol, w.amount(2))


def test_unlimited_allowance_never_decreases(w: World) -> None:
    w.chain.mint(w.instrument, w.alice, w.amount(10))
    w.chain.approve(w.token, w.alice, w.bob, unlimited())
    w.chain.transfer_from(w.token, w.bob, w.alice, w.carol, w.amount(4))
    assert w.chain.allowance(w.token, w.alice, w.bob) == unlimited()


def test_events_and_balances_at_a_past_block(w: World) -> None:
    start = w.chain.block_number() + 1
    first = w.chain.mint(w.instrument, w.alice, w.amount(10))
    w.chain.transfer(w.token, w.alice, w.bob, w.amount(4))
    w.chain.transfer(w.token, w.bob, w.carol, w.amount(1))
    assert w.chain.balances_at(w.token, first.block) == {w.alice: w.amount(10)}
    assert w.chain.balances_at(w.token, w.chain.block_number()) == {
        w.alice: w.amount(6),
        w.bob: w.amount(3),
        w.carol: w.amount(1),
    }
    names = [e.name for e in w.chain.events(w.token, start)]
    assert names == ["Transfer", "Transfer", "Transfer"]
    assert w.chain.events(w.token, start, first.block)[0].args["value"] == w.amount(10)


def test_batch_mint_and_burn_are_all_or_nothing(w: World) -> None:
    configure(w, transfer_mode=TransferMode.ELIGIBLE)
    tx = w.chain.batch_mint(w.instrument, [(w.alice, w.amount(1)), (w.bob, w.amount(2))])
    assert len(tx.events) == 2 and w.chain.total_supply(w.token) == w.amount(3)
    with refused(Reason.RECIPIENT_NOT_VERIFIED):
        w.chain.batch_mint(w.instrument, [(w.carol, w.amount(1)), (w.dave, w.amount(1))])
    assert w.balance(w.carol) == w.amount(0)
    w.chain.batch_burn(w.instrument, [(w.alice, w.amount(1)), (w.bob, w.amount(1))])
    assert w.chain.total_supply(w.token) == w.amount(1)
    w.chain.burn(w.instrument, w.bob, w.amount(1))
    assert w.chain.total_supply(w.token) == w.amount(0)


def test_transfer_many_returns_each_outcome_in_one_block(w: World) -> None:
    w.chain.mint(w.instrument, w.alice, w.amount(5))
    outcomes = w.chain.transfer_many(
        w.token,
        [(w.alice, w.bob, w.amount(2)), (w.alice, w.bob, w.amount(9)), (w.alice, w.carol, w.amount(3))],
    )
    assert isinstance(outcomes[0], ChainTx) and isinstance(outcomes[2], ChainTx)
    assert isinstance(outcomes[1], ChainRefusal) and outcomes[1].reason is Reason.INSUFFICIENT_BALANCE
    assert outcomes[0].block == outcomes[2].block
    assert (w.balance(w.bob), w.balance(w.carol)) == (w.amount(2), w.amount(3))


def test_a_missing_role_is_a_chain_revert_not_a_refusal(w: World) -> None:
    impostor = dataclasses.replace(
        w.instrument, roles=dataclasses.replace(w.instrument.roles, issuer=w.alice)
    )
    with pytest.raises(DomainError) as error:
        w.chain.mint(impostor, w.alice, w.amount(1))
    assert error.value.code == "ACCESS_MISSING_ROLE" and "missing role" in error.value.message
    assert not isinstance(error.value, ChainRefusal)


def test_amounts_with_other_decimals_are_refused_before_the_chain(w: World) -> None:
    with pytest.raises(DomainError, match="DECIMALS_MISMATCH"):
        w.chain.mint(w.instrument, w.alice, TokenAmount(1, 6))


# ------------------------------------------------------------------ compliance rules


def test_open_mode_lets_unverified_wallets_hold(w: World) -> None:
    w.chain.mint(w.instrument, w.dave, w.amount(5))
    assert_allowed(w, w.dave, w.alice, w.amount(1))


def test_sanctioned_wallets_are_refused_in_open_mode(w: World) -> None:
    w.chain.mint(w.instrument, w.dave, w.amount(5))
    w.chain.mint(w.instrument, w.alice, w.amount(5))
    w.chain.set_wallet_sanctioned(w.instrument, w.dave, True)
    assert_denied(w, w.dave, w.alice, w.amount(1), Reason.SENDER_SANCTIONED)
    assert_denied(w, w.alice, w.dave, w.amount(1), Reason.RECIPIENT_SANCTIONED)
    w.chain.set_wallet_sanctioned(w.instrument, w.dave, False)
    assert_allowed(w, w.dave, w.alice, w.amount(1))


def test_sanctioned_investors_are_refused_on_every_wallet(w: World) -> None:
    w.chain.mint(w.instrument, w.bob, w.amount(5))
    record = OnChainInvestor(INVESTOR_A, 276, 0, KYC_VALID_UNTIL, sanctioned=True)
    w.chain.set_investor(w.instrument, record)
    assert w.chain.read_investor(w.instrument, INVESTOR_A) == record
    assert_denied(w, w.bob, w.alice2, w.amount(1), Reason.RECIPIENT_SANCTIONED)
    w.chain.set_investor(w.instrument, dataclasses.replace(record, sanctioned=False))
    assert_allowed(w, w.bob, w.alice2, w.amount(1))


def test_eligible_mode_needs_verified_parties(w: World) -> None:
    w.chain.mint(w.instrument, w.dave, w.amount(5))
    w.chain.mint(w.instrument, w.alice, w.amount(5))
    configure(w, transfer_mode=TransferMode.ELIGIBLE)
    assert_denied(w, w.alice, w.dave, w.amount(1), Reason.RECIPIENT_NOT_VERIFIED)
    assert_denied(w, w.dave, w.alice, w.amount(1), Reason.SENDER_NOT_VERIFIED)
    assert_allowed(w, w.alice, w.bob, w.amount(1))
    assert w.chain.is_verified(w.instrument, w.alice) and not w.chain.is_verified(w.instrument, w.dave)


def test_whitelisted_mode_needs_a_whitelisted_recipient(w: World) -> None:
    w.chain.mint(w.instrument, w.alice, w.amount(5))
    configure(w, transfer_mode=TransferMode.WHITELISTED)
    assert_denied(w, w.alice, w.bob, w.amount(1), Reason.RECIPIENT_NOT_WHITELISTED)
    w.chain.set_whitelisted(w.instrument, [INVESTOR_B], True)
    assert_allowed(w, w.alice, w.bob, w.amount(1))


def test_country_deny_and_allow_lists(w: World) -> None:
    w.chain.mint(w.instrument, w.alice, w.amount(5))
    configure(w, transfer_mode=TransferMode.ELIGIBLE, countries_denied=frozenset({SWITZERLAND, NORTH_KOREA}))
    assert_denied(w, w.alice, w.carol, w.amount(1), Reason.COUNTRY_NOT_ALLOWED)
    assert_allowed(w, w.alice, w.bob, w.amount(1))
    configure(w, transfer_mode=TransferMode.ELIGIBLE, countries_allowed=frozenset({SWITZERLAND}))
    assert_denied(w, w.alice, w.bob, w.amount(1), Reason.COUNTRY_NOT_ALLOWED)
    assert_allowed(w, w.alice, w.carol, w.amount(1))


def test_flowback_blocks_the_restricted_country_until_its_end(w: World) -> None:
    w.chain.mint(w.instrument, w.alice, w.amount(5))
    until = w.now() + timedelta(days=40)
    configure(w, transfer_mode=TransferMode.ELIGIBLE, flowback={UNITED_STATES: until})
    assert_denied(w, w.alice, w.uma, w.amount(1), Reason.FLOWBACK_RESTRICTED)
    w.travel(timedelta(days=41))
    assert_allowed(w, w.alice, w.uma, w.amount(1))


def test_category_requirement(w: World) -> None:
    w.chain.mint(w.instrument, w.alice, w.amount(5))
    configure(w, transfer_mode=TransferMode.ELIGIBLE, allowed_categories=frozenset({1, 2}))
    assert_denied(w, w.alice, w.carol, w.amount(1), Reason.CATEGORY_NOT_ALLOWED)
    assert_allowed(w, w.alice, w.bob, w.amount(1))


def test_holder_cap_counts_investors_not_wallets(w: World) -> None:
    configure(w, transfer_mode=TransferMode.ELIGIBLE, max_holders=2)
    w.chain.mint(w.instrument, w.alice, w.amount(5))
    w.chain.mint(w.instrument, w.bob, w.amount(5))
    assert_denied(w, w.alice, w.carol, w.amount(1), Reason.HOLDER_LIMIT_REACHED)
    with refused(Reason.HOLDER_LIMIT_REACHED):
        w.chain.mint(w.instrument, w.carol, w.amount(1))
    assert_allowed(w, w.alice, w.alice2, w.amount(1))  # a second wallet of a holder is no new holder
    assert_allowed(w, w.bob, w.carol, w.amount(5))  # bob's investor leaves as carol's arrives


def test_lockup_blocks_sending_to_others_until_it_ends(w: World) -> None:
    w.chain.mint(w.instrument, w.alice, w.amount(5))
    configure(w, transfer_mode=TransferMode.ELIGIBLE)
    w.chain.set_lockup(w.instrument, INVESTOR_A, w.now() + timedelta(days=1))
    assert_denied(w, w.alice, w.bob, w.amount(1), Reason.LOCKUP_ACTIVE)
    assert_allowed(w, w.alice, w.alice2, w.amount(1))  # between one investor's wallets
    w.travel(timedelta(days=1, seconds=1))
    assert_allowed(w, w.alice, w.bob, w.amount(1))


def test_max_balance_per_investor(w: World) -> None:
    configure(w, transfer_mode=TransferMode.ELIGIBLE, max_balance=w.amount(100))
    w.chain.mint(w.instrument, w.alice, w.amount(100))
    w.chain.mint(w.instrument, w.bob, w.amount(60))
    assert_denied(w, w.alice, w.bob, w.amount(41), Reason.MAX_BALANCE_EXCEEDED)
    assert_allowed(w, w.alice, w.bob, w.amount(40))
    with refused(Reason.MAX_BALANCE_EXCEEDED):
        w.chain.mint(w.instrument, w.alice2, w.amount(41))  # alice2 is investor A: 60 + 41 > 100


def test_expired_kyc_is_refused(w: World) -> None:
    w.chain.mint(w.instrument, w.alice, w.amount(5))
    configure(w, transfer_mode=TransferMode.ELIGIBLE)
    w.chain.set_investor(w.instrument, OnChainInvestor(INVESTOR_B, 276, 1, w.now() + timedelta(hours=1)))
    assert_allowed(w, w.alice, w.bob, w.amount(1))
    w.travel(timedelta(hours=2))
    assert_denied(w, w.alice, w.bob, w.amount(1), Reason.KYC_EXPIRED)
    assert_denied(w, w.bob, w.alice, w.amount(1), Reason.KYC_EXPIRED)


def test_unbinding_a_wallet_makes_it_unverified(w: World) -> None:
    w.chain.mint(w.instrument, w.alice, w.amount(5))
    configure(w, transfer_mode=TransferMode.ELIGIBLE)
    w.chain.unbind_wallet(w.instrument, w.carol)
    assert_denied(w, w.alice, w.carol, w.amount(1), Reason.RECIPIENT_NOT_VERIFIED)
    w.chain.bind_wallet(w.instrument, w.carol, INVESTOR_C)
    assert_allowed(w, w.alice, w.carol, w.amount(1))


def test_configure_sends_only_differences_and_reads_back(w: World) -> None:
    config = ComplianceConfig(
        transfer_mode=TransferMode.WHITELISTED,
        countries_allowed=frozenset({276, 756}),
        countries_denied=frozenset({408}),
        allowed_categories=frozenset({0, 1}),
        max_holders=10,
        max_balance=w.amount(1000),
    )
    assert w.chain.configure(w.instrument, config)
    assert w.chain.read_config(w.instrument) == config
    assert w.chain.configure(w.instrument, config) == []
    configure(w)  # back to the defaults: every list emptied


# ------------------------------------------------------------------ enforcement


def test_pause_stops_transfers_and_mints(w: World) -> None:
    w.chain.mint(w.instrument, w.alice, w.amount(5))
    w.chain.pause(w.instrument)
    assert w.chain.is_paused(w.instrument)
    assert_denied(w, w.alice, w.bob, w.amount(1), Reason.PAUSED)
    with refused(Reason.PAUSED):
        w.chain.mint(w.instrument, w.alice, w.amount(1))
    w.chain.unpause(w.instrument)
    assert_allowed(w, w.alice, w.bob, w.amount(1))


def test_frozen_wallets_can_neither_send_nor_receive(w: World) -> None:
    w.chain.mint(w.instrument, w.alice, w.amount(5))
    w.chain.mint(w.instrument, w.bob, w.amount(5))
    tx = w.chain.set_address_frozen(w.instrument, w.alice, True)
    assert tx.events[0].name == "AddressFrozen" and tx.events[0].args["isFrozen"] is True
    assert_denied(w, w.alice, w.bob, w.amount(1), Reason.SENDER_FROZEN)
    assert_denied(w, w.bob, w.alice, w.amount(1), Reason.RECIPIENT_FROZEN)
    w.chain.set_address_frozen(w.instrument, w.alice, False)
    assert_allowed(w, w.alice, w.bob, w.amount(1))


def test_partial_freeze_locks_part_of_a_balance(w: World) -> None:
    w.chain.mint(w.instrument, w.alice, w.amount(100))
    w.chain.freeze_partial_tokens(w.instrument, w.alice, w.amount(60))
    assert w.chain.frozen_tokens(w.instrument, w.alice) == w.amount(60)
    assert_denied(w, w.alice, w.bob, w.amount(41), Reason.INSUFFICIENT_UNFROZEN_BALANCE)
    assert_allowed(w, w.alice, w.bob, w.amount(40))
    w.chain.unfreeze_partial_tokens(w.instrument, w.alice, w.amount(60))
    assert_allowed(w, w.alice, w.bob, w.amount(60))


def test_forced_transfer_ignores_freezes_but_checks_the_receiver(w: World) -> None:
    configure(w, transfer_mode=TransferMode.ELIGIBLE)
    w.chain.mint(w.instrument, w.alice, w.amount(10))
    w.chain.set_address_frozen(w.instrument, w.alice, True)
    w.chain.freeze_partial_tokens(w.instrument, w.alice, w.amount(8))
    tx = w.chain.forced_transfer(w.instrument, w.alice, w.bob, w.amount(5))
    assert "ForcedTransfer" in [e.name for e in tx.events]
    assert w.balance(w.bob) == w.amount(5)
    assert w.chain.frozen_tokens(w.instrument, w.alice) == w.amount(5)  # frozen tokens consumed
    with refused(Reason.RECIPIENT_NOT_VERIFIED):
        w.chain.forced_transfer(w.instrument, w.alice, w.dave, w.amount(1))
    w.chain.set_address_frozen(w.instrument, w.carol, True)
    with refused(Reason.RECIPIENT_FROZEN):
        w.chain.forced_transfer(w.instrument, w.alice, w.carol, w.amount(1))


def test_recovery_moves_the_position_and_its_frozen_state(w: World) -> None:
    w.chain.mint(w.instrument, w.alice, w.amount(10))
    w.chain.freeze_partial_tokens(w.instrument, w.alice, w.amount(4))
    w.chain.set_address_frozen(w.instrument, w.alice, True)
    with refused(Reason.NOT_SAME_INVESTOR):
        w.chain.recovery_address(w.instrument, w.alice, w.bob, INVESTOR_A)
    tx = w.chain.recovery_address(w.instrument, w.alice, w.alice2, INVESTOR_A)
    recovery = [e for e in tx.events if e.name == "RecoverySuccess"]
    assert recovery and recovery[0].args["investorId"] == INVESTOR_A
    assert (w.balance(w.alice), w.balance(w.alice2)) == (w.amount(0), w.amount(10))
    assert w.chain.is_frozen(w.instrument, w.alice2)
    assert w.chain.frozen_tokens(w.instrument, w.alice2) == w.amount(4)


# ------------------------------------------------------------------ multiplier


def test_multiplier_takes_effect_at_its_time_and_refuses_a_used_nonce(w: World) -> None:
    w.chain.mint(w.instrument, w.alice, w.amount(3))
    effective = w.now().replace(microsecond=0) + timedelta(days=1)
    update = MultiplierUpdate(Decimal(2), effective, 1)
    tx = w.chain.schedule_multiplier(w.instrument, update)
    assert tx.events[0].name == "MultiplierScheduled" and tx.events[0].args["multiplier"] == Decimal(2)
    assert w.chain.multiplier(w.instrument) == Decimal(1)
    assert w.chain.ui_balance_of(w.instrument, w.alice) == Decimal(3)
    assert w.chain.multiplier_history(w.instrument) == [update]
    w.dev.set_next_block_time(effective)
    w.dev.mine()
    assert w.chain.multiplier(w.instrument) == Decimal(2)
    assert w.chain.ui_balance_of(w.instrument, w.alice) == Decimal(6)
    assert w.balance(w.alice) == w.amount(3)  # raw balances never change
    with pytest.raises(DomainError, match="nonce already used"):
        w.chain.schedule_multiplier(
            w.instrument, MultiplierUpdate(Decimal("2.5"), effective + timedelta(days=1), 1)
        )
    later = MultiplierUpdate(Decimal("2.04"), effective + timedelta(days=2), 2)
    w.chain.schedule_multiplier(w.instrument, later)
    assert w.chain.multiplier_history(w.instrument) == [update, later]


def test_a_multiplier_read_again_after_a_new_block_or_a_revert_is_the_one_in_force(w: World) -> None:
    # The in-process chain keeps the multiplier per revision (an order reads it several times): a
    # block that brings a split into force, and a revert that takes it back, must both show at once.
    effective = w.now().replace(microsecond=0) + timedelta(days=1)
    assert w.chain.multiplier(w.instrument) == Decimal(1)
    before = w.dev.snapshot()
    w.chain.schedule_multiplier(w.instrument, MultiplierUpdate(Decimal(3), effective, 1))
    assert w.chain.multiplier(w.instrument) == Decimal(1)
    w.dev.set_next_block_time(effective)
    w.dev.mine()
    assert w.chain.multiplier(w.instrument) == Decimal(3)
    w.dev.revert(before)
    assert w.chain.multiplier(w.instrument) == Decimal(1)


def test_a_multiplier_scheduled_at_the_latest_block_time_is_taken_however_long_ago_it_was_read(
    w: World,
) -> None:
    # anvil's clock runs on with the wall clock: the block that mined the schedule used to be a second
    # or more later than the block time read before it, and the chain refused the update as in the
    # past (a split or a reinvestment then failed at random in the crash slice on PostgreSQL + anvil).
    w.travel(timedelta(hours=1))
    read = w.now()
    time.sleep(1.2)  # long enough for anvil's next block to be a second later; nothing on the others
    update = schedule_multiplier(w.chain, w.dev, w.instrument, Decimal(2), read, 1)
    assert update.effective_at == read
    assert w.chain.multiplier_history(w.instrument) == [update]
    assert w.chain.multiplier(w.instrument) == Decimal(2)  # in force from the block that carried it


# ------------------------------------------------------------------ quotes (EIP-712 DvP)


@pytest.fixture
def desk(w: World) -> tuple[WalletAddress, WalletAddress]:
    """Deploy a stablecoin and a settlement contract, fund alice and the treasury; return both."""
    coin = w.chain.deploy_stablecoin()
    signer = w.chain.wallet("platform:signer")
    treasury = w.chain.wallet("platform:treasury")
    settlement = w.chain.deploy_quote_settlement(
        w.instrument, coin, signer, treasury, notional_cap=Money("50000")
    )
    w.chain.mint_stablecoin(coin, w.alice, Money("10000"))
    w.chain.mint_stablecoin(coin, treasury, Money("10000"))
    return coin, settlement


def _quote(w: World, settlement: WalletAddress, quote_id: str, **changes: object) -> ChainQuote:
    base = ChainQuote(
        settlement=settlement,
        investor=w.alice,
        side=QuoteSide.BUY,
        quantity=w.amount(10),
        price=Money("150.25"),
        expiry=w.now().replace(microsecond=0) + timedelta(minutes=5),
        quote_id=quote_id,
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def test_a_signed_buy_quote_settles_once(w: World, desk: tuple[WalletAddress, WalletAddress]) -> None:
    coin, settlement = desk
    quote = _quote(w, settlement, "q-1")
    signed = w.chain.sign_quote(quote)
    tx = w.chain.settle_quote(signed)
    settled = [e for e in tx.events if e.name == "QuoteSettled"]
    assert settled and settled[0].args["notional"] == Money("1502.5")
    assert w.balance(w.alice) == w.amount(10)
    assert w.chain.stablecoin_balance(coin, w.alice) == Money("8497.5")
    with pytest.raises(DomainError, match="already used"):
        w.chain.settle_quote(signed)


def test_a_signed_sell_quote_burns_and_pays(w: World, desk: tuple[WalletAddress, WalletAddress]) -> None:
    coin, settlement = desk
    w.chain.settle_quote(w.chain.sign_quote(_quote(w, settlement, "q-buy")))
    sell = _quote(w, settlement, "q-sell", side=QuoteSide.SELL, quantity=w.amount(4), price=Money("151"))
    w.chain.settle_quote(w.chain.sign_quote(sell))
    assert w.balance(w.alice) == w.amount(6)
    assert w.chain.stablecoin_balance(coin, w.alice) == Money("8497.5") + Money("604")


def test_expired_and_wrong_chain_quotes_are_refused(
    w: World, desk: tuple[WalletAddress, WalletAddress]
) -> None:
    _, settlement = desk
    expired = _quote(w, settlement, "q-old", expiry=w.now().replace(microsecond=0) - timedelta(seconds=1))
    with pytest.raises(DomainError, match="expired"):
        w.chain.settle_quote(w.chain.sign_quote(expired))
    wrong_chain = w.chain.sign_quote(_quote(w, settlement, "q-chain"), chain_id=w.chain.chain_id + 1)
    with pytest.raises(DomainError, match="bad signature"):
        w.chain.settle_quote(wrong_chain)
    assert w.balance(w.alice) == w.amount(0)


def test_quotes_pass_compliance_and_the_notional_limit(
    w: World, desk: tuple[WalletAddress, WalletAddress]
) -> None:
    coin, settlement = desk
    configure(w, transfer_mode=TransferMode.ELIGIBLE)
    w.chain.mint_stablecoin(coin, w.dave, Money("1000"))
    with refused(Reason.RECIPIENT_NOT_VERIFIED):
        w.chain.settle_quote(
            w.chain.sign_quote(_quote(w, settlement, "q-dave", investor=w.dave, quantity=w.amount(1)))
        )
    with refused(Reason.NOTIONAL_LIMIT_EXCEEDED):
        w.chain.settle_quote(w.chain.sign_quote(_quote(w, settlement, "q-big", price=Money("5000.01"))))


# ------------------------------------------------------------------ AMM composability


def _pool_with_liquidity(w: World) -> tuple[WalletAddress, WalletAddress]:
    coin = w.chain.deploy_stablecoin()
    pool = w.chain.deploy_pool(w.instrument, coin)
    w.chain.mint(w.instrument, w.alice, w.amount(1000))
    w.chain.mint_stablecoin(coin, w.alice, Money("100000"))
    return coin, pool


def test_an_open_token_trades_through_the_pool_from_any_wallet(w: World) -> None:
    coin, pool = _pool_with_liquidity(w)
    w.chain.add_liquidity(pool, w.alice, w.amount(1000), Money("100000"))
    assert w.chain.pool_reserves(pool) == (w.amount(1000), Money("100000"))
    w.chain.mint_stablecoin(coin, w.dave, Money("1000"))
    tx = w.chain.swap(pool, w.dave, Money("1000"), deadline=soon(w))
    swap = next(e for e in tx.events if e.name == "Swap")
    bought = swap.args["amountOut"]
    assert isinstance(bought, TokenAmount) and bought > w.amount(9)
    assert w.balance(w.dave) == bought
    w.chain.swap(pool, w.dave, bought, deadline=soon(w))
    assert w.balance(w.dave) == w.amount(0)
    assert w.chain.stablecoin_balance(coin, w.dave) < Money("1000")  # two fees paid


def soon(w: World) -> datetime:
    """Return a swap deadline five minutes past the chain's latest block."""
    return w.now() + timedelta(minutes=5)


def test_a_swap_mined_after_its_deadline_reverts_and_moves_nothing(w: World) -> None:
    coin, pool = _pool_with_liquidity(w)
    w.chain.add_liquidity(pool, w.alice, w.amount(1000), Money("100000"))
    w.chain.mint_stablecoin(coin, w.dave, Money("1000"))
    reserves = w.chain.pool_reserves(pool)
    with pytest.raises(DomainError) as late:
        w.chain.swap(pool, w.dave, Money("1000"), deadline=w.now() - timedelta(seconds=1))
    assert late.value.code == "POOL_DEADLINE_PASSED"
    assert w.chain.pool_reserves(pool) == reserves and w.balance(w.dave) == w.amount(0)


def test_a_restricted_token_is_refused_unless_the_pool_is_eligible(w: World) -> None:
    coin, pool = _pool_with_liquidity(w)
    configure(w, transfer_mode=TransferMode.ELIGIBLE)
    with refused(Reason.RECIPIENT_NOT_VERIFIED):
        w.chain.add_liquidity(pool, w.alice, w.amount(1000), Money("100000"))
    pool_investor = OnChainInvestor(InvestorId("pool-acme"), 276, 0, KYC_VALID_UNTIL)
    w.chain.set_investor(w.instrument, pool_investor)
    w.chain.bind_wallet(w.instrument, pool, pool_investor.investor_id)
    w.chain.add_liquidity(pool, w.alice, w.amount(1000), Money("100000"))
    w.chain.mint_stablecoin(coin, w.dave, Money("1000"))
    with refused(Reason.RECIPIENT_NOT_VERIFIED):
        w.chain.swap(pool, w.dave, Money("1000"), deadline=soon(w))
    w.chain.mint_stablecoin(coin, w.bob, Money("1000"))
    w.chain.swap(pool, w.bob, Money("1000"), deadline=soon(w))
    assert w.balance(w.bob) > w.amount(9)


# ------------------------------------------------------------------ reserve attestations


def test_attested_holder_roots_are_checked_on_chain(w: World) -> None:
    w.chain.mint(w.instrument, w.alice, w.amount(70))
    w.chain.mint(w.instrument, w.bob, w.amount(30))
    block = w.chain.block_number()
    balances = w.chain.balances_at(w.token, block)
    entries = [(wallet.to_bytes(), amount.to_units()) for wallet, amount in sorted(balances.items())]
    tree = HolderTree(entries)
    registry = w.chain.deploy_reserve_registry(w.chain.wallet("trustee"))
    symbol = Symbol(w.instrument.symbol.value)
    assert w.chain.latest_attestation(registry, symbol) is None
    root = "0x" + tree.root.hex()
    w.chain.post_attestation(registry, symbol, block, root, "0x" + "ab" * 32)
    posted = w.chain.latest_attestation(registry, symbol)
    assert posted is not None and posted.holders_root == root and posted.as_of_block == block
    for index, (holder, units) in enumerate(entries):
        proof = ["0x" + node.hex() for node in tree.proof(index)]
        wallet = WalletAddress.from_bytes(holder)
        assert w.chain.verify_holder_on_chain(registry, symbol, wallet, units, proof)
        assert not w.chain.verify_holder_on_chain(registry, symbol, wallet, units - 1, proof)
