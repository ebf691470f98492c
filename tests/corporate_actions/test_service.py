"""Splits and cash dividends on the whole engine, per model: applied once, books exact the moment after.

Real parts: the embedded EVM (multiplier schedule, balances at a block, stablecoin), the simulated
broker (custody), the ledger, the order service. MSFT trades at about 26.7 in the week of
2012-11-19; the actions are written for the next week (nothing is in flight by then).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from equitoken.app.corporate_actions import STREAM, CorporateActionService
from equitoken.corporate_actions.actions import CashDividend, Split
from equitoken.corporate_actions.postings import WITHHOLDING, unclaimed
from equitoken.domain.errors import DomainError
from equitoken.domain.values import Money, exact
from equitoken.issuance.models import ModelName
from equitoken.issuance.models.books import USD, custody, in_flight, investor_cash, issuer_cash
from equitoken.issuance.orders import OrderState, TimeInForce
from tests.corporate_actions.support import EX, EX_OPEN, MSFT, PAY, PAY_OPEN, setup
from tests.issuance.world import ny

MODELS = tuple(ModelName)


def split(ratio: str) -> Split:
    return Split(f"MSFT:split:test:{ratio}", MSFT, Decimal(ratio), EX)


def dividend(per_share: str = "0.23") -> CashDividend:
    return CashDividend("MSFT:dividend:test", MSFT, Decimal(per_share), EX, date(2012, 11, 29), PAY)


def cancel_reasons(world_store, order_id: str) -> list[str]:  # type: ignore[no-untyped-def]
    return [
        str(e.payload.get("reason"))
        for e in world_store.events()
        if e.type == "OrderCancelled" and e.payload.get("order_id") == order_id
    ]


# -- splits -------------------------------------------------------------------------------------


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("ratio", ["7", "2", "0.25"])
def test_a_split_takes_effect_at_the_ex_open_with_the_books_exact_and_open_orders_cancelled(
    model: ModelName, ratio: str
) -> None:
    made = setup(model)
    world, engine, alice = made.world, made.world.engine, made.alice
    # A resting order in old shares: a low limit buy (a sell at a high limit for the ATS).
    bob = made.holder("bob")
    if model is ModelName.DIRECT:
        resting = engine.submit(world.sell(made.alice, "MSFT", "10", limit="40", tif=TimeInForce.GTC))
    else:
        resting = engine.submit(world.buy(bob, "MSFT", "10", limit="5", tif=TimeInForce.GTC))
    assert resting.order.state is OrderState.ACCEPTED
    share = made.model.listing.share
    raw_before = world.tokens("MSFT", alice)
    world.at(ny(2012, 11, 26, 16, 30))
    custody_before = world.balance(custody(MSFT), share)
    assert world.balance(in_flight(MSFT), share) == 0

    made.service.announce([split(ratio)])
    outcomes = made.due_at(EX_OPEN)

    assert [o.step for o in outcomes] == ["split"]
    assert engine.chain.multiplier(made.model.listing.instrument) == Decimal(ratio)
    with exact():
        assert world.balance(custody(MSFT), share) == custody_before * Decimal(ratio)
    assert world.tokens("MSFT", alice) == raw_before  # raw balances never change
    with exact():
        assert engine.chain.ui_balance_of(
            made.model.listing.instrument, alice.wallet
        ) == raw_before * Decimal(ratio)
    order = engine.orders.order(resting.order.order_id)
    assert order.state is OrderState.CANCELLED
    (reason,) = cancel_reasons(world.store, str(order.order_id))
    assert split(ratio).action_id in reason and "split" in reason
    books = engine.broker_books(MSFT)
    if books is not None:  # the broker's record changed with the ledger's
        assert books.positions()[MSFT].settled.value == world.balance(custody(MSFT), share)
    assert world.backed()
    world.at(ny(2012, 11, 27, 12, 0))  # and it stays backed as time goes on
    assert world.backed()


def test_a_split_applied_twice_or_after_a_restart_changes_nothing() -> None:
    made = setup(ModelName.INSTANT)
    world = made.world
    made.service.announce([split("7")])
    made.due_at(EX_OPEN)
    share = made.model.listing.share
    custody_after = world.balance(custody(MSFT), share)
    history = world.engine.chain.multiplier_history(made.model.listing.instrument)

    again = made.service.apply(split("7"))
    restarted = CorporateActionService(world.engine)  # a new service reads the journal
    after_restart = restarted.apply(split("7"))
    assert again.step == after_restart.step == "repeat"
    assert world.balance(custody(MSFT), share) == custody_after
    assert world.engine.chain.multiplier_history(made.model.listing.instrument) == history
    assert restarted.version(MSFT).version == 2 and restarted.version(MSFT).multiplier == 7
    assert [e.key for e in world.store.events(STREAM)] == [f"ca:{split('7').action_id}"]
    assert world.backed()


@pytest.mark.parametrize("model", [ModelName.INVENTORY, ModelName.DIRECT])
def test_a_crash_before_the_journal_entry_is_finished_by_the_retry_without_applying_twice(
    model: ModelName,
) -> None:
    made = setup(model)
    world = made.world
    store = world.store
    real = store.append_event
    crashed: list[str] = []

    def crash_once(stream, kind, key, at, payload):  # type: ignore[no-untyped-def]
        if stream == STREAM and not crashed:
            crashed.append(key)
            raise RuntimeError("the process died before the journal heard of the action")
        return real(stream, kind, key, at, payload)

    store.append_event = crash_once  # type: ignore[method-assign]
    made.service.announce([split("7")])
    with pytest.raises(RuntimeError):
        made.due_at(EX_OPEN)
    share = made.model.listing.share
    custody_once = world.balance(custody(MSFT), share)
    restarted = CorporateActionService(world.engine)
    outcome = restarted.apply(split("7"))
    assert outcome.step == "split"  # finished, not repeated: the journal had not recorded it
    assert world.balance(custody(MSFT), share) == custody_once  # the custody entry was not posted twice
    assert world.engine.chain.multiplier(made.model.listing.instrument) == 7
    assert [u.nonce for u in world.engine.chain.multiplier_history(made.model.listing.instrument)] == [2]
    books = world.engine.broker_books(MSFT)
    if books is not None:
        assert books.positions()[MSFT].settled.value == custody_once
    assert restarted.apply(split("7")).step == "repeat"
    assert world.backed()


def test_an_action_against_the_wrong_version_is_refused_and_nothing_moves() -> None:
    made = setup(ModelName.INVENTORY)
    made.due_at(EX_OPEN)
    with pytest.raises(DomainError) as refused:
        made.service.apply(split("2"), expected_version=3)
    assert refused.value.code == "WRONG_VERSION"
    assert made.world.engine.chain.multiplier(made.model.listing.instrument) == 1
    assert made.world.store.events(STREAM) == []


def test_a_split_while_shares_are_in_flight_is_refused_before_anything_moves() -> None:
    made = setup(ModelName.INSTANT)  # alice's buy was hedged on Monday: in flight until Friday
    world = made.world
    bob = made.holder("bob")
    resting = world.engine.submit(world.buy(bob, "MSFT", "10", limit="5", tif=TimeInForce.GTC))
    early = Split("MSFT:split:early", MSFT, Decimal(2), date(2012, 11, 20))
    world.at(ny(2012, 11, 20, 9, 30))
    with pytest.raises(DomainError) as refused:
        made.service.apply(early)
    assert refused.value.code == "SPLIT_IN_FLIGHT"
    assert world.engine.orders.order(resting.order.order_id).state is OrderState.ACCEPTED
    assert world.engine.chain.multiplier(made.model.listing.instrument) == 1
    assert not made.service.applied(early.action_id)
    assert world.backed()


def test_an_action_before_its_ex_open_is_not_due() -> None:
    made = setup(ModelName.DIRECT)
    with pytest.raises(DomainError) as refused:
        made.service.apply(split("2"))
    assert refused.value.code == "NOT_DUE"


# -- dividends ------------------------------------------------------------------------------------


def test_direct_pays_holders_of_record_even_after_they_sell_holds_unclaimed_and_posts_dust() -> None:
    made = setup(ModelName.DIRECT, shares="100")
    world, engine, alice = made.world, made.world.engine, made.alice
    bob = made.holder("bob", "50")
    dave = made.holder("dave", "0.333333333")
    carol = made.holder("carol")
    action = dividend("0.23")
    made.service.announce([action])
    (record,) = made.due_at(EX_OPEN)
    assert record.step == "record"
    # After the record instant alice sells 40 to carol on the ATS: alice is still paid on 100.
    engine.submit(world.sell(alice, "MSFT", "40", limit="27", tif=TimeInForce.GTC))
    bought = engine.submit(world.buy(carol, "MSFT", "40", limit="27", tif=TimeInForce.IOC))
    assert bought.order.state in (OrderState.FILLED, OrderState.SETTLED)
    # Bob's wallet is frozen before the pay date: his dividend is held, not lost.
    engine.chain.set_address_frozen(made.model.listing.instrument, bob.wallet, True)
    cash_before = {h.investor: world.cash(h) for h in (alice, bob, carol, dave)}

    (paid,) = made.due_at(PAY_OPEN)

    assert paid.step == "pay"
    figures = paid.figures
    # alice: 100 × 0.23 = 23.00, 30 % withheld = 6.90, net 16.10
    assert world.cash(alice) - cash_before[alice.investor] == Money("16.1")
    assert world.cash(carol) == cash_before[carol.investor]  # bought after the record instant
    assert world.cash(bob) == cash_before[bob.investor]  # frozen: held as unclaimed
    # dave: 0.333333333 × 0.23 = 0.07666666659 → net 0.053666 (down), withheld 0.022999 (down)
    assert world.cash(dave) - cash_before[dave.investor] == Money("0.053666")
    assert Money(figures["unclaimed"]) == Money("8.05")  # bob: 50 × 0.23 × 0.7
    assert world.balance(unclaimed("direct"), USD) == Decimal("8.05")
    gross = Money(figures["gross"])
    assert gross == Money("34.576666")  # 150.333333333 × 0.23 = 34.57666665659, rounded down
    withheld = Money(figures["withheld"])
    assert withheld == Money("6.9") + Money("3.45") + Money("0.022999")
    assert world.balance(WITHHOLDING, USD) == withheld.amount
    dust = Money(figures["dust"])
    assert gross == Money(figures["paid"]) + Money(figures["unclaimed"]) + withheld + dust
    assert dust == Money("0.000001")
    # The ledger mirrors the wallets; the dust stayed in the issuer's cash.
    assert world.balance(investor_cash(alice.investor), USD) == world.cash(alice).amount
    # paying twice pays nothing more
    assert made.service.pay(action).step == "repeat"
    assert world.cash(alice) - cash_before[alice.investor] == Money("16.1")
    # bob's held dividend waits while his wallet is frozen, and is paid once it is not
    assert made.service.release_unclaimed(action.action_id) == {}
    engine.chain.set_address_frozen(made.model.listing.instrument, bob.wallet, False)
    assert made.service.release_unclaimed(action.action_id) == {bob.wallet: Money("8.05")}
    assert made.service.release_unclaimed(action.action_id) == {}  # once
    assert world.cash(bob) - cash_before[bob.investor] == Money("8.05")
    assert world.balance(unclaimed("direct"), USD) == 0
    assert world.balance(investor_cash(bob.investor), USD) == world.cash(bob).amount
    assert world.backed()


@pytest.mark.parametrize("model", MODELS)
def test_a_dividend_too_small_to_pay_a_cent_of_is_done_with_nothing_moved(model: ModelName) -> None:
    # A thousandth of a share at $0.0001 is a gross below a micro-dollar: the funding entry had no
    # postings, was refused (UNBALANCED_ENTRY) and retried at every tick, never marked paid (found by
    # the crash harness, where an instant listing's holders had all sold before the record instant).
    made = setup(model, shares="0.001")
    world, alice = made.world, made.alice
    action = dividend("0.0001")
    made.service.announce([action])
    cash_before = world.cash(alice)

    made.due_at(EX_OPEN)
    made.due_at(PAY_OPEN)

    assert made.service.failures == []
    assert made.service.paid(action.action_id)
    assert world.cash(alice) == cash_before
    assert world.backed()
    assert made.due_at(ny(2012, 12, 5, 10, 0)) == [] and made.service.failures == []


def test_a_dividend_with_no_token_outstanding_is_done_with_nothing_bought() -> None:
    # Every holder sold back before the ex-date (instant execution burns what it buys back): no share
    # is of record and no token is out, so there is nothing to reinvest and no one to pass it on to
    # (it was refused NO_TOKENS at every tick; found by the crash harness, seed slice-3).
    made = setup(ModelName.INSTANT, shares="100")
    world, engine, alice = made.world, made.world.engine, made.alice
    sold = engine.submit(world.sell(alice, "MSFT", "100"))
    assert sold.order.state in (OrderState.FILLED, OrderState.SETTLED)
    world.at(ny(2012, 11, 23, 12, 0))  # the sale settles before the ex-date
    assert engine.backing(MSFT).tokens == 0
    action = dividend("0.23")
    made.service.announce([action])
    multiplier = engine.chain.multiplier(made.model.listing.instrument)

    made.due_at(EX_OPEN)
    made.due_at(PAY_OPEN)

    assert made.service.failures == []
    assert made.service.paid(action.action_id)
    assert engine.chain.multiplier(made.model.listing.instrument) == multiplier
    assert world.backed()


@pytest.mark.parametrize("model", [ModelName.INVENTORY, ModelName.INSTANT])
def test_a_reinvested_dividend_raises_the_multiplier_exactly_to_the_shares_bought(model: ModelName) -> None:
    made = setup(model, shares="100")
    world, engine, alice = made.world, made.world.engine, made.alice
    action = dividend("0.23")
    made.service.announce([action])
    backing_before = engine.backing(MSFT)
    funding = issuer_cash(model) if model is ModelName.INVENTORY else None

    # Reinvested at the record instant itself (the ex-date open): only the holders of record share.
    record, reinvested = made.due_at(EX_OPEN)
    assert record.step == "record"
    assert made.due_at(PAY_OPEN) == []  # nothing left for the pay date

    figures = reinvested.figures
    assert reinvested.step == "reinvest"
    after = engine.backing(MSFT)
    assert after.holds  # tokens × multiplier = custody + in flight, to the last unit
    assert after.tokens == backing_before.tokens  # no token minted
    bought = Decimal(figures["bought"])
    assert bought > 0
    with exact():
        assert after.held == backing_before.held + bought
        assert after.tokens * after.multiplier == after.held
    assert after.multiplier == Decimal(figures["multiplier"]) > 1
    # gross on the issuer's shares, 30 % withheld to the tax account
    gross = Money(figures["gross"])
    with exact():
        assert gross == Money.rounded(backing_before.held * Decimal("0.23"))
    assert world.balance(WITHHOLDING, USD) == Money(figures["withheld"]).amount
    assert Money(figures["withheld"]) == Money.rounded(gross.amount * Decimal("0.3"))
    assert Money(figures["carry"]) >= Money(0)
    # alice's UI balance grew by the reinvested share of her holding
    ui = engine.chain.ui_balance_of(made.model.listing.instrument, alice.wallet)
    assert ui > 100
    if funding is not None:
        assert world.balance(funding, USD) > 0
    assert made.service.pay(action).step == "repeat"
    assert engine.backing(MSFT) == after or engine.backing(MSFT).held == after.held
    world.at(ny(2012, 12, 6, 10, 0))  # the purchase settles; still backed
    assert world.backed()
    assert world.balance(in_flight(MSFT), made.model.listing.share) == 0


def test_a_crash_after_the_purchase_is_finished_by_the_same_plan_bought_once() -> None:
    made = setup(ModelName.INSTANT)
    world, engine = made.world, made.world.engine
    made.service.announce([dividend("0.23")])
    store = world.store
    real = store.append_event
    crashed: list[str] = []

    def crash_on_paid(stream, kind, key, at, payload):  # type: ignore[no-untyped-def]
        if kind == "DividendPaid" and not crashed:
            crashed.append(key)
            raise RuntimeError("the process died after buying, before the journal heard of it")
        return real(stream, kind, key, at, payload)

    store.append_event = crash_on_paid  # type: ignore[method-assign]
    with pytest.raises(RuntimeError):
        made.due_at(EX_OPEN)  # recorded, bought, multiplier raised — and the journal never heard
    after_crash = engine.backing(MSFT)
    assert after_crash.holds and after_crash.multiplier > 1  # bought and raised together
    world.clock.set(ny(2012, 11, 30, 10, 0))
    finished = CorporateActionService(engine).pay(dividend("0.23"))
    assert finished.step == "reinvest"
    assert finished.multiplier == after_crash.multiplier
    assert Decimal(finished.figures["bought"]) > 0
    assert engine.backing(MSFT).held == after_crash.held  # not bought twice
    assert world.balance(WITHHOLDING, USD) == Money(finished.figures["withheld"]).amount  # once
    assert CorporateActionService(engine).pay(dividend("0.23")).step == "repeat"
    assert world.backed()


def test_the_same_split_under_another_id_is_refused_not_applied_twice() -> None:
    made = setup(ModelName.DIRECT)
    made.world.at(ny(2012, 11, 26, 16, 30))
    made.service.announce(
        [
            Split("MSFT:split:2012-11-27", MSFT, Decimal(2), EX),
            Split("manual-entry-MSFT-2for1", MSFT, Decimal(2), EX),
        ]
    )
    outcomes = made.due_at(EX_OPEN)
    assert [o.action_id for o in outcomes] == ["MSFT:split:2012-11-27"]
    assert made.world.engine.chain.multiplier(made.model.listing.instrument) == 2
    assert any("DUPLICATE_ACTION" in failure for failure in made.service.failures)


def test_a_restarted_inventory_model_mints_nothing_against_a_reinvestment_still_settling() -> None:
    # Found by the crash harness: the reinvestment's fill, booked and unsettled in the listing's
    # broker account, was queued for a mint by the model's resume — 15.775 tokens no order stood for.
    from equitoken.app.brokerage import Brokerage
    from equitoken.issuance.models.base import ModelContext
    from equitoken.issuance.models.inventory import InventoryModel

    made = setup(ModelName.INVENTORY, shares="100")
    world, engine = made.world, made.world.engine
    made.service.announce([dividend("0.23")])
    _, reinvested = made.due_at(EX_OPEN)
    assert reinvested.step == "reinvest"
    books = engine.broker_books(MSFT)
    assert isinstance(books, Brokerage)
    assert any(f.client_order_id.startswith("reinvest:") for f in books.unsettled_fills())
    model = made.model
    assert isinstance(model, InventoryModel)
    platform_calendar, prices = engine.calendar, engine.prices
    context = ModelContext(
        engine.chain, world.store, books, world.clock, platform_calendar, prices, engine.fees, engine.gate
    )
    again = InventoryModel(model.listing, context, model.settings)
    again.resume()
    supply = engine.chain.total_supply(model.listing.instrument.token)
    assert [f.client_order_id for f in again.queued] == []  # the reinvestment is not the model's to mint
    plans = list(again.on_time([]))
    assert all(not p.key.startswith("inventory-mint:") for p in plans)
    assert engine.chain.total_supply(model.listing.instrument.token) == supply
