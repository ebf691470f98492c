"""The inventory model on the whole engine: real AAPL prices, the real XNYS calendar, the embedded EVM.

Week of 2012-11-19: Monday to Wednesday are full sessions, Thursday 11-22 is Thanksgiving (closed),
Friday 11-23 closes early at 13:00 ET. Broker fills settle T+3, so Monday's fills settle at Friday's
open. AAPL traded at about 541 → 566 on Monday (as-traded, before the 2014 7:1 split).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from functools import partial

import pytest

from equitoken.adapters.broker.simulated import SimulatedBroker
from equitoken.app.brokerage import Brokerage
from equitoken.domain.errors import DomainError
from equitoken.domain.ids import Symbol
from equitoken.domain.trading import Side
from equitoken.domain.values import Money, Price, Shares
from equitoken.issuance.models import Listing, ModelContext, ModelName, ModelReason, books
from equitoken.issuance.models.base import Holder
from equitoken.issuance.models.inventory import (
    InventoryModel,
    InventorySettings,
    build_inventory_model,
    mint_key,
)
from equitoken.issuance.models.inventory_plan import Rebalance, rebalance, value_of
from equitoken.issuance.orders import OrderState, TimeInForce
from equitoken.ledger.accounts import Account, Asset
from equitoken.ledger.entries import EntryDraft
from equitoken.ports.broker import (
    BrokerBooks,
    BrokerOrder,
    BrokerOrderState,
    BrokerOrderStatus,
    BrokerSync,
    CustodyPosition,
)
from equitoken.ports.clock import Clock
from tests.issuance.world import World, ny

AAPL = Symbol("AAPL")
MONDAY = ny(2012, 11, 19, 10, 0)
POLICY = "tracker-certificate"


def settings(**changes: str) -> InventorySettings:
    values = {
        "capital": "500000",
        "initial_shares": "500",
        "low": "200",
        "high": "800",
        "target": "500",
        "float": "100000",
    } | changes
    return InventorySettings(
        capital=Money(values["capital"]),
        initial_shares=Shares(values["initial_shares"]),
        low_watermark=Shares(values["low"]),
        high_watermark=Shares(values["high"]),
        target=Shares(values["target"]),
        stablecoin_float=Money(values["float"]),
    )


def listed(at: datetime = MONDAY, **changes: str) -> tuple[World, InventoryModel]:
    world = World.start(at=at)
    build = partial(build_inventory_model, settings=settings(**changes))
    model = world.list("AAPL", ModelName.INVENTORY, POLICY, build)
    assert isinstance(model, InventoryModel)
    assert_backed(world)
    return world, model


def assert_backed(world: World) -> None:
    found = world.engine.check()
    assert found and all(b.holds for b in found), [b.breaks for b in found]
    assert world.engine.invariants_ok, world.engine.log.breaks


def step(world: World, moment: datetime) -> None:
    world.at(moment)
    assert_backed(world)


def inventory_tokens(world: World, model: InventoryModel) -> Decimal:
    return world.engine.chain.balance_of(model.listing.instrument.token, model.inventory_wallet).value


def supply(world: World, model: InventoryModel) -> Decimal:
    return world.engine.chain.total_supply(model.listing.instrument.token).value


def treasury(world: World, model: InventoryModel) -> Money:
    return world.engine.chain.stablecoin_balance(world.engine.stablecoin, model.treasury_wallet)


def ledger(world: World, account: Account, asset: Asset) -> Decimal:
    return world.balance(account, asset)


def broker_fills(world: World) -> list[EntryDraft]:
    return [e.draft for e in world.store.entries() if e.key.startswith("broker-fill:")]


def reference(world: World) -> Price:
    return world.platform.prices.reference_price(AAPL, world.clock.now()).price


def ceil8(value: Decimal) -> Decimal:
    return value.quantize(Decimal("1e-8"), rounding=ROUND_CEILING)


def floor8(value: Decimal) -> Decimal:
    return value.quantize(Decimal("1e-8"), rounding=ROUND_FLOOR)


def snapshot(world: World, model: InventoryModel, *holders: Holder) -> tuple[object, ...]:
    chain = world.engine.chain
    token = model.listing.instrument.token
    return (
        dict(world.store.balances()),
        chain.total_supply(token),
        inventory_tokens(world, model),
        treasury(world, model),
        tuple((world.cash(h), world.tokens("AAPL", h)) for h in holders),
    )


# -- settings and the watermark rule (pure) -------------------------------------------------------


@pytest.mark.parametrize(
    "changes",
    [{"low": "500"}, {"target": "800"}, {"low": "900"}, {"float": "500001"}, {"capital": "0"}],
)
def test_settings_refuse_watermarks_out_of_order_and_a_float_beyond_the_capital(
    changes: dict[str, str],
) -> None:
    with pytest.raises(DomainError) as refused:
        settings(**changes)
    assert refused.value.code == "INVALID_SETTING"


def test_rebalance_refills_below_low_trims_above_high_within_what_custody_can_deliver() -> None:
    rule = settings()
    assert rebalance(Shares("150"), rule, Shares(0)) == Rebalance(Side.BUY, Shares("350"))
    assert rebalance(Shares("200"), rule, Shares(0)) is None  # at the watermark: not below it
    assert rebalance(Shares("800"), rule, Shares("900")) is None
    assert rebalance(Shares("900"), rule, Shares("1000")) == Rebalance(Side.SELL, Shares("400"))
    assert rebalance(Shares("900"), rule, Shares("250")) == Rebalance(Side.SELL, Shares("250"))
    assert rebalance(Shares("900"), rule, Shares(0)) is None


def test_value_of_marks_tokens_to_the_micro_dollar() -> None:
    assert value_of(Decimal("3"), Price("10.12345678")) == Money("30.370370")


# -- open ---------------------------------------------------------------------------------------------


def test_open_in_session_mints_exactly_the_broker_fill() -> None:
    world, model = listed()
    (fill,) = broker_fills(world)
    fill_id = fill.metadata["fill_id"]
    assert fill.metadata["client_order_id"] == "inventory:AAPL:open"
    assert Decimal(fill.metadata["quantity"]) == 500
    assert inventory_tokens(world, model) == supply(world, model) == 500
    assert ledger(world, books.inventory(AAPL), model.listing.token) == 500
    assert ledger(world, books.in_flight(AAPL), model.listing.share) == 500
    assert world.store.entry(mint_key(fill_id)) is not None
    notional = Price(fill.metadata["price"]).notional(Shares(500))
    assert ledger(world, books.issuer_cash(ModelName.INVENTORY), books.USD) == 500000 - notional.amount
    assert treasury(world, model) == Money("100000")
    # Opening again, or syncing again, mints nothing more.
    model.open()
    assert list(model.on_time([])) == []  # decides nothing: no plan
    assert supply(world, model) == 500
    assert_backed(world)


def test_open_while_closed_mints_nothing_until_the_next_open() -> None:
    world, model = listed(at=ny(2012, 11, 21, 18, 0))  # Wednesday after the close
    assert supply(world, model) == 0 and broker_fills(world) == []
    step(world, ny(2012, 11, 22, 12, 0))  # Thanksgiving: closed all day
    assert supply(world, model) == 0 and broker_fills(world) == []
    step(world, ny(2012, 11, 23, 9, 0))  # Friday before the open
    assert supply(world, model) == 0
    step(world, ny(2012, 11, 23, 9, 45))
    (fill,) = broker_fills(world)
    assert fill.effective_at == ny(2012, 11, 23, 9, 30)  # filled at the open's price
    assert inventory_tokens(world, model) == supply(world, model) == 500
    step(world, ny(2012, 11, 23, 10, 0))
    assert supply(world, model) == 500 and len(broker_fills(world)) == 1


# -- investor trades -----------------------------------------------------------------------------------


def test_in_session_buy_is_delivered_from_inventory_at_reference_plus_10_bps() -> None:
    world, model = listed()
    alice = world.investor("alice", cash="100000")
    step(world, ny(2012, 11, 19, 11, 0))
    ref = reference(world)
    sub = world.engine.submit(world.buy(alice, "AAPL", "10"))
    assert sub.order.state is OrderState.SETTLED
    (fill,) = sub.order.fills
    assert fill.price.amount == ceil8(ref.amount * Decimal("1.001"))
    paid = (fill.price.amount * 10).quantize(Decimal("1e-6"), rounding=ROUND_CEILING)
    fee = paid - (ref.amount * 10).quantize(Decimal("1e-6"))
    assert world.cash(alice) == Money(100000 - paid)
    assert ledger(world, books.investor_cash(alice.investor), books.USD) == 100000 - paid
    assert world.tokens("AAPL", alice) == 10
    assert ledger(world, books.investor_tokens(alice.investor, AAPL), model.listing.token) == 10
    assert ledger(world, books.fees(ModelName.INVENTORY), books.USD) == fee > 0
    assert inventory_tokens(world, model) == 490 == ledger(world, books.inventory(AAPL), model.listing.token)
    assert treasury(world, model) == Money(100000 + paid)
    assert supply(world, model) == 500  # delivered, not minted
    (record,) = world.engine.log.fills
    assert record.fill.off_hours is False and record.fill.reference == ref
    assert_backed(world)


def test_off_hours_buy_pays_reference_plus_30_bps() -> None:
    world, model = listed()
    alice = world.investor("alice", cash="100000")
    step(world, ny(2012, 11, 19, 20, 0))
    ref = reference(world)
    assert ref == Price("565.73")  # Monday's close (as traded)
    sub = world.engine.submit(world.buy(alice, "AAPL", "10"))
    (fill,) = sub.order.fills
    assert fill.price.amount == ceil8(ref.amount * Decimal("1.003"))
    fee = (fill.price.amount - ref.amount) * 10
    assert ledger(world, books.fees(ModelName.INVENTORY), books.USD) == fee
    (record,) = world.engine.log.fills
    assert record.fill.off_hours is True and record.fill.fee == Money(fee)
    assert world.tokens("AAPL", alice) == 10 and inventory_tokens(world, model) == 490
    assert_backed(world)


def test_a_sell_returns_tokens_to_inventory_and_pays_the_investor() -> None:
    world, model = listed()
    alice = world.investor("alice", cash="100000")
    world.engine.submit(world.buy(alice, "AAPL", "10"))
    step(world, ny(2012, 11, 19, 14, 0))
    cash_before, treasury_before = world.cash(alice), treasury(world, model)
    ref = reference(world)
    sub = world.engine.submit(world.sell(alice, "AAPL", "4"))
    assert sub.order.state is OrderState.SETTLED
    (fill,) = sub.order.fills
    assert fill.price.amount == floor8(ref.amount * Decimal("0.999"))
    received = (fill.price.amount * 4).quantize(Decimal("1e-6"), rounding=ROUND_FLOOR)
    assert world.cash(alice) == cash_before + Money(received)
    assert treasury(world, model) == treasury_before - Money(received)
    assert world.tokens("AAPL", alice) == 6
    assert ledger(world, books.investor_tokens(alice.investor, AAPL), model.listing.token) == 6
    assert inventory_tokens(world, model) == 494 == ledger(world, books.inventory(AAPL), model.listing.token)
    assert ledger(world, books.investor_cash(alice.investor), books.USD) == world.cash(alice).amount
    assert supply(world, model) == 500
    assert_backed(world)


def test_a_notional_buy_gets_the_shares_the_notional_pays_for() -> None:
    world, _ = listed()
    alice = world.investor("alice", cash="100000")
    sub = world.engine.submit(world.buy(alice, "AAPL", notional="1000"))
    assert sub.order.state is OrderState.SETTLED
    (fill,) = sub.order.fills
    assert fill.price.notional(fill.shares) <= Money("1000")
    assert world.cash(alice) >= Money("99000")
    assert world.tokens("AAPL", alice) == fill.shares.value > Decimal("1.7")
    assert_backed(world)


def test_a_limit_buy_below_the_quoted_price_does_not_fill() -> None:
    world, model = listed()
    alice = world.investor("alice", cash="100000")
    before = snapshot(world, model, alice)
    ref = reference(world)
    limit = str(ref.amount.quantize(Decimal("0.01"), rounding=ROUND_FLOOR))  # below ref + 10 bps
    sub = world.engine.submit(world.buy(alice, "AAPL", "10", limit=limit))
    assert sub.order.state is OrderState.ACCEPTED and sub.order.fills == ()
    step(world, ny(2012, 11, 19, 12, 0))  # AAPL rose through the day: still above the limit
    assert world.engine.orders.order(sub.order.order_id).fills == ()
    assert snapshot(world, model, alice) == before
    step(world, ny(2012, 11, 19, 16, 30))  # the DAY order expired unfilled
    assert world.engine.orders.order(sub.order.order_id).state is OrderState.EXPIRED
    assert snapshot(world, model, alice) == before


# -- refusals ------------------------------------------------------------------------------------------


def test_insufficient_funds_and_tokens_are_refused_and_change_nothing() -> None:
    world, model = listed()
    bob = world.investor("bob", cash="1000")
    before = snapshot(world, model, bob)
    buy = world.engine.submit(world.buy(bob, "AAPL", "10"))
    assert buy.order.state is OrderState.REJECTED
    assert buy.order.rejection is not None and buy.order.rejection.code == ModelReason.INSUFFICIENT_FUNDS
    sell = world.engine.submit(world.sell(bob, "AAPL", "1"))
    assert sell.order.state is OrderState.REJECTED
    assert sell.order.rejection is not None and sell.order.rejection.code == ModelReason.INSUFFICIENT_TOKENS
    notional_sell = world.engine.submit(world.sell(bob, "AAPL", notional="100"))
    assert notional_sell.order.rejection is not None
    assert notional_sell.order.rejection.code == ModelReason.INSUFFICIENT_TOKENS
    assert snapshot(world, model, bob) == before
    assert_backed(world)


def test_an_ioc_buy_larger_than_the_inventory_is_refused() -> None:
    world, model = listed()
    alice = world.investor("alice", cash="400000")
    before = snapshot(world, model, alice)
    sub = world.engine.submit(world.buy(alice, "AAPL", "600", tif=TimeInForce.IOC))
    assert sub.order.state is OrderState.REJECTED
    assert sub.order.rejection is not None
    assert sub.order.rejection.code == ModelReason.INSUFFICIENT_INVENTORY
    assert snapshot(world, model, alice) == before
    assert_backed(world)


def test_a_day_buy_larger_than_the_inventory_fills_in_part_then_completes_after_replenishment() -> None:
    world, model = listed()
    alice = world.investor("alice", cash="400000")
    step(world, ny(2012, 11, 19, 20, 0))  # after the close: the order's day is Tuesday
    sub = world.engine.submit(world.buy(alice, "AAPL", "600"))
    assert sub.order.state is OrderState.PARTIALLY_FILLED
    assert sub.order.filled_shares == Shares(500)
    assert inventory_tokens(world, model) == 0 and world.tokens("AAPL", alice) == 500
    step(world, ny(2012, 11, 20, 8, 0))  # pre-market: no broker trade, nothing to deliver
    assert world.engine.orders.order(sub.order.order_id).filled_shares == Shares(500)
    assert len(broker_fills(world)) == 1
    step(world, ny(2012, 11, 20, 9, 45))  # open: refill to the target, mint, deliver the rest
    order = world.engine.orders.order(sub.order.order_id)
    assert order.state is OrderState.SETTLED and order.filled_shares == Shares(600)
    refill = broker_fills(world)[-1]
    assert refill.metadata["client_order_id"] == "inventory:AAPL:rebalance:1:refill"
    assert Decimal(refill.metadata["quantity"]) == 500
    assert supply(world, model) == 1000 and inventory_tokens(world, model) == 400
    assert world.tokens("AAPL", alice) == 600
    first, second = (r.fill for r in world.engine.log.fills)
    assert first.off_hours and not second.off_hours
    assert_backed(world)


# -- watermarks ------------------------------------------------------------------------------------


def test_low_watermark_triggers_a_broker_buy_and_a_mint() -> None:
    world, model = listed()
    alice = world.investor("alice", cash="300000")
    world.engine.submit(world.buy(alice, "AAPL", "350"))
    assert inventory_tokens(world, model) == 150
    step(world, ny(2012, 11, 19, 10, 5))
    refill = broker_fills(world)[-1]
    assert Decimal(refill.metadata["quantity"]) == 350  # back to the target of 500
    assert world.store.entry(mint_key(refill.metadata["fill_id"])) is not None
    assert inventory_tokens(world, model) == 500 and supply(world, model) == 850
    assert ledger(world, books.in_flight(AAPL), model.listing.share) == 850
    step(world, ny(2012, 11, 19, 10, 10))  # within the band: no more trades
    assert len(broker_fills(world)) == 2


def test_high_watermark_triggers_a_broker_sell_and_a_burn_once_shares_have_settled() -> None:
    world, model = listed()
    alice = world.investor("alice", cash="300000")
    world.engine.submit(world.buy(alice, "AAPL", "400"))
    step(world, ny(2012, 11, 19, 10, 5))  # refill 400
    assert supply(world, model) == 900
    world.engine.submit(world.sell(alice, "AAPL", "400"))
    assert inventory_tokens(world, model) == 900
    step(world, ny(2012, 11, 20, 10, 0))  # above high, but nothing settled yet (T+3): no trim
    assert supply(world, model) == 900 and len(broker_fills(world)) == 2
    step(world, ny(2012, 11, 23, 10, 0))  # Monday's buys settled at Friday's open
    trim = broker_fills(world)[-1]
    assert trim.metadata["side"] == "sell" and Decimal(trim.metadata["quantity"]) == 400
    assert world.store.entry(f"inventory-burn:{trim.metadata['fill_id']}") is not None
    assert inventory_tokens(world, model) == 500 and supply(world, model) == 500
    assert ledger(world, books.inventory(AAPL), model.listing.token) == 500
    held = ledger(world, books.custody(AAPL), model.listing.share) + ledger(
        world, books.in_flight(AAPL), model.listing.share
    )
    assert held == 500
    # The trim's proceeds reach issuer cash only at settlement (T+3); until then pnl counts them owed.
    proceeds = Price(trim.metadata["price"]).notional(Shares(400))
    cash = Money(ledger(world, books.issuer_cash(ModelName.INVENTORY), books.USD))
    capital = Money("500000")
    assert model.pnl() == cash + proceeds + reference(world).notional(Shares(500)) - capital
    step(world, ny(2012, 11, 26, 10, 0))
    assert len(broker_fills(world)) == 3
    step(world, ny(2012, 11, 28, 10, 0))  # the trim settled at Wednesday's open
    settled = Money(ledger(world, books.issuer_cash(ModelName.INVENTORY), books.USD))
    assert settled == cash + proceeds
    assert model.pnl() == settled + reference(world).notional(Shares(500)) - capital


# -- economics -----------------------------------------------------------------------------------


def test_capital_locked_is_the_inventory_value_and_pnl_marks_it_to_market() -> None:
    world, model = listed()
    (fill,) = broker_fills(world)
    paid = Price(fill.metadata["price"]).notional(Shares(500))
    ref = reference(world)
    assert model.capital_locked() == ref.notional(Shares(500))
    assert model.pnl() == ref.notional(Shares(500)) - paid  # the broker's slippage, nothing else
    alice = world.investor("alice", cash="100000")
    world.engine.submit(world.buy(alice, "AAPL", "10"))
    assert model.capital_locked() == ref.notional(Shares(490))
    step(world, ny(2012, 11, 19, 20, 0))  # closes at 565.73: the inventory gained, fees stay out
    close = Price("565.73")
    cash = ledger(world, books.issuer_cash(ModelName.INVENTORY), books.USD)
    assert model.pnl() == Money(cash) + close.notional(Shares(490)) - Money("500000")
    assert model.pnl() > Money(0)


def test_a_limit_buy_off_hours_waits_for_the_wider_off_hours_quote() -> None:
    world, model = listed()
    alice = world.investor("alice", cash="100000")
    step(world, ny(2012, 11, 19, 20, 0))  # close 565.73: +10 bps 566.30, +30 bps 567.43
    before = snapshot(world, model, alice)
    sub = world.engine.submit(world.buy(alice, "AAPL", "10", limit="567.00"))
    assert sub.order.state is OrderState.ACCEPTED and sub.order.fills == ()
    assert world.engine.log.failures == []
    assert snapshot(world, model, alice) == before


def test_a_limit_buy_above_the_quote_fills_at_the_quote_not_the_limit() -> None:
    world, _ = listed()
    alice = world.investor("alice", cash="100000")
    ref = reference(world)
    limit = (ref.amount * Decimal("1.002")).quantize(Decimal("0.01"))  # inside the price band
    sub = world.engine.submit(world.buy(alice, "AAPL", "10", limit=str(limit)))
    (fill,) = sub.order.fills
    assert fill.price.amount == ceil8(ref.amount * Decimal("1.001")) < limit


def test_a_token_transfer_the_contracts_refuse_moves_nothing_else() -> None:
    world, model = listed()
    alice = world.investor("alice", cash="100000")
    world.engine.chain.set_address_frozen(model.listing.instrument, alice.wallet, True)
    before = snapshot(world, model, alice)
    sub = world.engine.submit(world.buy(alice, "AAPL", "10"))
    assert sub.order.state is OrderState.CANCELLED
    assert any("RECIPIENT_FROZEN" in failure for failure in world.engine.log.failures)
    assert snapshot(world, model, alice) == before
    assert_backed(world)


def test_a_restarted_model_over_the_same_books_mints_nothing_twice() -> None:
    world, model = listed()
    step(world, ny(2012, 11, 19, 11, 0))
    platform, engine = world.platform, world.engine
    broker = SimulatedBroker(
        world.clock, platform.calendar, platform.prices, platform.settings.broker_slippage_bps
    )
    books_again = Brokerage(
        broker,
        world.store,
        platform.calendar,
        world.clock,
        books.issuer_cash(ModelName.INVENTORY),
        stream="broker-inventory-AAPL",
    )
    context = ModelContext(
        engine.chain,
        world.store,
        books_again,
        world.clock,
        platform.calendar,
        platform.prices,
        engine.fees,
        engine.gate,
    )
    again = InventoryModel(model.listing, context, settings())
    again.open()  # the broker answers the opening order with the same fill id
    assert list(again.on_time([])) == []
    assert supply(world, model) == 500 and inventory_tokens(world, model) == 500
    assert treasury(world, model) == Money("100000")  # the float was not minted again
    assert ledger(world, books.issuer_cash(ModelName.INVENTORY), books.USD) < 500000
    assert len(broker_fills(world)) == 1
    assert_backed(world)


def test_no_broker_order_is_placed_while_the_market_is_closed() -> None:
    world, _ = listed()
    alice = world.investor("alice", cash="300000")
    step(world, ny(2012, 11, 19, 20, 0))
    world.engine.submit(world.buy(alice, "AAPL", "400"))  # inventory 100: below the low watermark
    for moment in (ny(2012, 11, 19, 21, 0), ny(2012, 11, 20, 4, 0), ny(2012, 11, 20, 9, 29)):
        step(world, moment)
    placed = [e for e in world.store.events("broker-inventory-AAPL") if e.type == "BrokerOrderPlaced"]
    assert len(placed) == 1  # the opening order only
    step(world, ny(2012, 11, 20, 9, 31))
    placed = [e for e in world.store.events("broker-inventory-AAPL") if e.type == "BrokerOrderPlaced"]
    assert len(placed) == 2


def test_a_refused_mint_is_retried_and_pnl_counts_the_shares_meanwhile() -> None:
    world, model = listed()
    alice = world.investor("alice", cash="300000")
    world.engine.submit(world.buy(alice, "AAPL", "350"))  # inventory 150: below the low watermark
    chain, instrument = world.engine.chain, model.listing.instrument
    chain.pause(instrument)
    world.at(ny(2012, 11, 19, 10, 5))  # the refill fills at the broker; the paused token refuses the mint
    assert len(broker_fills(world)) == 2 and supply(world, model) == 850 - 350
    (found,) = world.engine.check()
    assert not found.holds  # 500 tokens, 850 shares: the check sees the gap
    cash = Money(ledger(world, books.issuer_cash(ModelName.INVENTORY), books.USD))
    ref = reference(world)
    expected = cash + ref.notional(Shares(150)) + ref.notional(Shares(350)) - Money("500000")
    assert model.pnl() == expected  # bought shares count though not yet minted
    world.at(ny(2012, 11, 19, 10, 7))  # still paused: the mint waits, and no second refill is bought
    assert len(broker_fills(world)) == 2 and supply(world, model) == 500
    chain.unpause(instrument)
    world.at(ny(2012, 11, 19, 10, 10))
    assert supply(world, model) == 850 and inventory_tokens(world, model) == 500
    assert len(broker_fills(world)) == 2  # no second refill while the first was unminted
    (found,) = world.engine.check()
    assert found.holds


@dataclass
class RefusingBooks:
    """The real broker books behind a gate that refuses the first orders: by raising, then by rejecting."""

    books: BrokerBooks
    clock: Clock
    raises: int = 1
    rejects: int = 1
    refused: list[str] = field(default_factory=list)

    def place(self, order: BrokerOrder) -> BrokerOrderState:
        if self.raises > 0:
            self.raises -= 1
            self.refused.append(order.client_order_id)
            raise DomainError("BROKER_UNAVAILABLE", "the broker's gateway is down")
        if self.rejects > 0:
            self.rejects -= 1
            self.refused.append(order.client_order_id)
            return BrokerOrderState(
                order, BrokerOrderStatus.REJECTED, self.clock.now(), (), "STALE_PRICE", "no fresh price"
            )
        return self.books.place(order)

    def cancel(self, client_order_id: str) -> BrokerOrderState:
        return self.books.cancel(client_order_id)

    def sync(self) -> BrokerSync:
        return self.books.sync()

    def positions(self) -> Mapping[Symbol, CustodyPosition]:
        return self.books.positions()


def test_broker_refusals_are_logged_and_retried_at_a_later_tick() -> None:
    world = World.start(at=MONDAY)
    gates: list[RefusingBooks] = []

    def build(listing: Listing, context: ModelContext) -> InventoryModel:
        assert context.broker is not None
        gates.append(RefusingBooks(context.broker, context.clock))
        return InventoryModel(listing, replace(context, broker=gates[0]), settings())

    model = world.list("AAPL", ModelName.INVENTORY, POLICY, build)
    assert isinstance(model, InventoryModel)
    assert supply(world, model) == 0  # the opening buy was refused: nothing bought, nothing minted
    step(world, ny(2012, 11, 19, 10, 5))  # empty inventory, below the low watermark: the refill is rejected
    assert supply(world, model) == 0 and broker_fills(world) == []
    step(world, ny(2012, 11, 19, 10, 10))  # tried again with a new order id, and it fills
    assert supply(world, model) == inventory_tokens(world, model) == 500
    (fill,) = broker_fills(world)
    assert fill.metadata["client_order_id"] not in gates[0].refused
    assert gates[0].refused[0] == "inventory:AAPL:open" and len(set(gates[0].refused)) == 2
    assert world.engine.log.failures == []
