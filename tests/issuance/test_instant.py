"""The instant-execution model on the real engine: quotes settled on the embedded EVM, hedges at the
simulated broker, the buffer's commitments and gap P&L in the ledger, the backing checked throughout.

Prices are the bundled real MSFT bars: Friday 2012-11-23 closed early (13:00 ET) at 27.70; Monday
2012-11-26 opened at 27.54. The broker fills at the reference moved 5 bps against the order.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from functools import partial

import pytest

from equitoken.adapters.chain import eip712
from equitoken.domain.errors import DomainError
from equitoken.domain.ids import Symbol
from equitoken.domain.trading import Side, settlement_cycle
from equitoken.domain.values import Money, Price, Shares, quantize
from equitoken.issuance.models import Listing, ModelContext, ModelFill, ModelName
from equitoken.issuance.models.books import (
    USD,
    buffer_pool,
    custody,
    fees,
    hedge_pending,
    in_flight,
    investor_cash,
    investor_tokens,
    issuer_cash,
)
from equitoken.issuance.models.instant import InstantModel, InstantSettings, build_instant_model
from equitoken.issuance.models.instant_book import Commitment, ExposureBook, hedge_for
from equitoken.issuance.models.instant_pricing import chain_notional, chain_price, shares_for_budget
from equitoken.issuance.orders import FeeSchedule, OrderState, TimeInForce
from equitoken.ledger.accounts import Account, Asset
from equitoken.ports.broker import (
    BrokerBooks,
    BrokerOrder,
    BrokerOrderState,
    BrokerOrderStatus,
    BrokerSync,
    CustodyPosition,
)
from equitoken.ports.chain import ChainQuote, QuoteSide
from equitoken.ports.clock import Clock
from tests.issuance.world import World, ny

MSFT = Symbol("MSFT")
MONDAY = ny(2012, 11, 19, 10, 0)
FRIDAY_MORNING = ny(2012, 11, 23, 10, 0)
FRIDAY_AFTER_CLOSE = ny(2012, 11, 23, 14, 0)  # the early close was 13:00
NEXT_OPEN = ny(2012, 11, 26, 9, 30)
BUFFER = Money(250_000)


def listed(at: datetime, **settings: Money) -> tuple[World, InstantModel]:
    world = World.start(at)
    build = partial(build_instant_model, settings=InstantSettings(**settings))
    model = world.list("MSFT", ModelName.INSTANT, "instant-execution", build)
    assert isinstance(model, InstantModel)
    return world, model


def shares(world: World, account: Account) -> Decimal:
    return world.balance(account, Asset.share(MSFT))


def usd(world: World, account: Account) -> Money:
    return Money(world.balance(account, USD))


def last_fill(world: World) -> ModelFill:
    return world.engine.log.fills[-1].fill


def reference(world: World) -> Price:
    return world.engine.prices.reference_price(MSFT, world.clock.now()).price


def quoted(side: Side, ref: Price, bps: int) -> Money:
    """Return the reference moved by ``bps`` against the investor, to the micro-dollar (as on chain)."""
    factor = Decimal(1) + Decimal(bps).scaleb(-4) * (1 if side is Side.BUY else -1)
    rounding = ROUND_CEILING if side is Side.BUY else ROUND_FLOOR
    return Money(quantize(quantize(ref.amount * factor, 8, rounding), 6, rounding))


def broker_orders(world: World) -> list[str]:
    return [
        e.payload["client_order_id"]
        for e in world.store.events("broker-instant-MSFT")
        if e.type == "BrokerOrderPlaced"
    ]


def broker_fills(world: World) -> list[dict[str, str]]:
    return [
        dict(e.payload) for e in world.store.events("broker-instant-MSFT") if e.type == "BrokerFillBooked"
    ]


def backed(world: World) -> None:
    assert all(b.holds for b in world.engine.check()), world.engine.log.breaks
    assert world.engine.invariants_ok, world.engine.log.breaks


def entry_amount(world: World, key: str, account: Account) -> Decimal:
    entry = world.store.entry(key)
    assert entry is not None, key
    return sum((p.amount for p in entry.postings if p.account == account), Decimal(0))


# -- in session --------------------------------------------------------------------------------


def test_open_books_the_buffer_deploys_settlement_and_funds_the_float() -> None:
    world, model = listed(MONDAY, buffer=BUFFER, stablecoin_float=Money(80_000))
    assert usd(world, buffer_pool(ModelName.INSTANT)) == BUFFER
    assert world.store.entry("capital:instant:MSFT") is not None
    assert world.engine.chain.stablecoin_balance(world.engine.stablecoin, model.treasury) == Money(80_000)
    assert model.capital_locked() == BUFFER and model.pnl() == Money(0)
    model.open()  # a second open changes nothing
    assert world.engine.chain.stablecoin_balance(world.engine.stablecoin, model.treasury) == Money(80_000)
    backed(world)


def test_an_in_session_buy_mints_against_an_immediate_hedge_and_custody_follows_at_t_plus_3() -> None:
    world, model = listed(MONDAY)
    alice = world.investor("alice")
    before = world.cash(alice)
    order = world.engine.submit(world.buy(alice, "MSFT", "10")).order
    backed(world)
    ref = reference(world)
    fill = last_fill(world)
    price = quoted(Side.BUY, ref, 10)

    assert order.state is OrderState.SETTLED and not fill.off_hours
    assert fill.fill.price == Price(price.amount) and fill.reference == ref
    paid = chain_notional(Side.BUY, Decimal(10), price)
    assert before - world.cash(alice) == paid  # what moved on chain
    assert paid == world.engine.chain.quote_notional(  # the facade's rule agrees with the pure mirror
        ChainQuote(
            model.settlement,
            alice.wallet,
            QuoteSide.BUY,
            model.listing.instrument.amount(10),
            price,
            world.clock.now() + timedelta(seconds=30),
            "probe",
        )
    )
    assert fill.fee == paid - ref.notional(Shares(10))
    assert usd(world, fees(ModelName.INSTANT)) == fill.fee
    assert usd(world, investor_cash(alice.investor)) == Money(100_000) - paid
    assert world.tokens("MSFT", alice) == Decimal(10)
    assert world.balance(investor_tokens(alice.investor, MSFT), model.listing.token) == Decimal(10)

    # the hedge filled at once: shares in flight right away, the buffer's commitment already covered
    assert broker_orders(world) == [f"hedge-{fill.fill.fill_id}"]
    assert shares(world, in_flight(MSFT)) == 10 and shares(world, hedge_pending(MSFT)) == 0
    assert shares(world, custody(MSFT)) == 0
    hedge = broker_fills(world)[0]
    hedge_cost = Price(hedge["price"]).notional(Shares(10))
    assert model.pnl() == ref.notional(Shares(10)) - hedge_cost  # slippage is the buffer's P&L too
    assert usd(world, buffer_pool(ModelName.INSTANT)) == BUFFER  # paid the hedge, got the reference value

    # 2012 settles T+3: Monday 19th → Friday 23rd (Thanksgiving on the 22nd is skipped), at the open
    assert settlement_cycle(date(2012, 11, 19)) == 3
    assert world.engine.calendar.add_trading_days(date(2012, 11, 19), 3) == date(2012, 11, 23)
    world.at(ny(2012, 11, 23, 9, 29))
    assert shares(world, custody(MSFT)) == 0 and shares(world, in_flight(MSFT)) == 10
    world.at(ny(2012, 11, 23, 9, 31))
    assert shares(world, custody(MSFT)) == 10 and shares(world, in_flight(MSFT)) == 0
    backed(world)


def test_an_in_session_sell_burns_pays_from_the_treasury_and_sells_the_hedge() -> None:
    world, model = listed(MONDAY)
    alice = world.investor("alice")
    world.engine.submit(world.buy(alice, "MSFT", "10"))
    cash_before = world.cash(alice)
    treasury_before = world.engine.chain.stablecoin_balance(world.engine.stablecoin, model.treasury)
    order = world.engine.submit(world.sell(alice, "MSFT", "4")).order
    backed(world)
    price = quoted(Side.SELL, reference(world), 10)
    proceeds = chain_notional(Side.SELL, Decimal(4), price)
    assert order.state is OrderState.SETTLED
    assert world.cash(alice) - cash_before == proceeds
    assert (
        treasury_before - world.engine.chain.stablecoin_balance(world.engine.stablecoin, model.treasury)
        == proceeds
    )
    assert world.tokens("MSFT", alice) == Decimal(6)
    assert shares(world, in_flight(MSFT)) == 6 and shares(world, hedge_pending(MSFT)) == 0
    assert len(broker_orders(world)) == 2


def test_a_notional_buy_spends_at_most_the_notional() -> None:
    world, _model = listed(MONDAY)
    alice = world.investor("alice")
    before = world.cash(alice)
    order = world.engine.submit(world.buy(alice, "MSFT", notional="1000")).order
    price = quoted(Side.BUY, reference(world), 10)
    expected = shares_for_budget(Money(1000), price)
    assert order.state is OrderState.SETTLED and order.filled_shares == expected
    spent = before - world.cash(alice)
    assert spent == chain_notional(Side.BUY, expected.value, price) and spent <= Money(1000)
    backed(world)


# -- off-hours ---------------------------------------------------------------------------------


def test_an_off_hours_buy_fills_from_the_buffer_and_the_open_hedges_it_once_with_the_gap_as_pnl() -> None:
    world, model = listed(FRIDAY_AFTER_CLOSE)
    alice = world.investor("alice")
    last = reference(world)
    assert last == Price("27.70")  # Friday's close: the early close already happened
    order = world.engine.submit(world.buy(alice, "MSFT", "100")).order
    backed(world)
    fill = last_fill(world)
    assert order.state is OrderState.SETTLED and fill.off_hours
    assert fill.fill.price == Price(quoted(Side.BUY, last, 30).amount)
    assert world.tokens("MSFT", alice) == Decimal(100)
    # the buffer's commitment is booked with the fill; nothing at the broker yet
    assert shares(world, hedge_pending(MSFT)) == 100 and shares(world, in_flight(MSFT)) == 0
    assert broker_orders(world) == []

    world.at(ny(2012, 11, 24, 12, 0))  # Saturday: still nothing to hedge
    assert broker_orders(world) == []
    world.at(NEXT_OPEN)
    backed(world)
    assert len(broker_orders(world)) == 1  # ONE hedge at the open
    hedge = broker_fills(world)[0]
    assert Price(hedge["reference_price"]) == Price("27.54")  # Monday's open
    assert Decimal(hedge["quantity"]) == 100 and hedge["side"] == "buy"
    assert shares(world, hedge_pending(MSFT)) == 0 and shares(world, in_flight(MSFT)) == 100
    gap = last.notional(Shares(100)) - Price(hedge["price"]).notional(Shares(100))
    assert gap == Money((Decimal("27.70") - Decimal(hedge["price"])) * 100)  # to the micro-dollar
    coid = broker_orders(world)[0]
    assert Money(entry_amount(world, f"hedge-pnl:{coid}", issuer_cash(ModelName.INSTANT))) == gap
    assert model.pnl() == gap and gap > Money(0)  # the price gapped down: the buffer bought cheaper
    assert (
        usd(world, buffer_pool(ModelName.INSTANT)) == BUFFER
    )  # took in 2,770, paid the hedge, gave up the gap
    world.at(ny(2012, 11, 26, 10, 0))  # a later tick places nothing more
    assert len(broker_orders(world)) == 1
    backed(world)


def test_off_hours_buys_and_sells_net_into_one_hedge() -> None:
    world, _model = listed(FRIDAY_MORNING)
    alice, bob = world.investor("alice"), world.investor("bob")
    world.engine.submit(world.buy(bob, "MSFT", "4"))  # in session: hedged at once
    world.at(FRIDAY_AFTER_CLOSE)
    world.engine.submit(world.buy(alice, "MSFT", "10"))
    backed(world)
    world.engine.submit(world.sell(bob, "MSFT", "4"))
    backed(world)
    assert shares(world, hedge_pending(MSFT)) == 6
    assert world.tokens("MSFT", bob) == 0
    assert len(broker_orders(world)) == 1

    world.at(NEXT_OPEN)
    backed(world)
    orders = broker_orders(world)
    assert len(orders) == 2
    net = broker_fills(world)[-1]
    assert net["side"] == "buy" and Decimal(net["quantity"]) == 6
    assert shares(world, hedge_pending(MSFT)) == 0 and shares(world, in_flight(MSFT)) == 10
    last = Price("27.70")
    expected = last.notional(Shares(10)) - last.notional(Shares(4)) - Price(net["price"]).notional(Shares(6))
    assert Money(entry_amount(world, f"hedge-pnl:{orders[-1]}", issuer_cash(ModelName.INSTANT))) == expected


def test_off_hours_fills_that_net_to_zero_place_no_hedge() -> None:
    world, model = listed(FRIDAY_MORNING)
    alice, bob = world.investor("alice"), world.investor("bob")
    world.engine.submit(world.buy(bob, "MSFT", "5"))
    world.at(FRIDAY_AFTER_CLOSE)
    world.engine.submit(world.buy(alice, "MSFT", "5"))
    world.engine.submit(world.sell(bob, "MSFT", "5"))
    assert shares(world, hedge_pending(MSFT)) == 0
    world.at(NEXT_OPEN)
    assert len(broker_orders(world)) == 1  # bob's in-session hedge only
    assert model.exposure.unhedged == () and model.exposure.hedges == ()
    backed(world)


def test_an_off_hours_order_past_the_exposure_cap_is_refused_and_changes_nothing() -> None:
    world, model = listed(FRIDAY_AFTER_CLOSE)
    alice = world.investor("alice")
    world.engine.submit(world.buy(alice, "MSFT", "1000"))  # 27,700 of the 50,000 cap
    entries, supply = (
        len(world.store.entries()),
        world.engine.chain.total_supply(model.listing.instrument.token),
    )
    cash = world.cash(alice)
    order = world.engine.submit(world.buy(alice, "MSFT", "1000")).order  # would be 55,400
    assert order.state is OrderState.REJECTED
    assert order.rejection is not None and order.rejection.code == "BUFFER_LIMIT"
    assert len(world.store.entries()) == entries and world.cash(alice) == cash
    assert world.engine.chain.total_supply(model.listing.instrument.token) == supply
    assert shares(world, hedge_pending(MSFT)) == 1000
    # a sell shrinks the exposure: always taken
    assert world.engine.submit(world.sell(alice, "MSFT", "300")).order.state is OrderState.SETTLED
    assert shares(world, hedge_pending(MSFT)) == 700
    backed(world)


def test_a_sell_the_treasury_cannot_pay_is_refused() -> None:
    world, model = listed(MONDAY, stablecoin_float=Money(0))
    alice = world.investor("alice")
    world.engine.submit(world.buy(alice, "MSFT", "10"))  # the treasury holds only what alice paid
    world.at(FRIDAY_AFTER_CLOSE)  # MSFT rose to 27.70: the proceeds exceed it
    supply = world.engine.chain.total_supply(model.listing.instrument.token)
    order = world.engine.submit(world.sell(alice, "MSFT", "10")).order
    assert order.rejection is not None and order.rejection.code == "BUFFER_LIMIT"
    assert "treasury" in order.rejection.message
    assert world.engine.chain.total_supply(model.listing.instrument.token) == supply
    backed(world)


def test_a_resting_limit_buy_fills_when_the_quote_comes_within_the_limit() -> None:
    world, _model = listed(ny(2012, 11, 26, 10, 0))  # MSFT drifts from 27.54 down to 27.39 today
    alice = world.investor("alice")
    order = world.engine.submit(world.buy(alice, "MSFT", "10", limit="27.47", tif=TimeInForce.DAY)).order
    assert order.state is OrderState.ACCEPTED and world.tokens("MSFT", alice) == 0
    world.at(ny(2012, 11, 26, 12, 0))
    assert world.engine.orders.order(order.order_id).state is OrderState.ACCEPTED
    world.at(ny(2012, 11, 26, 15, 30))
    done = world.engine.orders.order(order.order_id)
    assert done.state is OrderState.SETTLED
    assert done.fills[0].price <= Price("27.47")
    assert world.tokens("MSFT", alice) == Decimal(10)
    backed(world)


@dataclass
class RefusingBooks:
    """The real brokerage, except that the first ``refusals`` orders are refused (rejected or raised)."""

    inner: BrokerBooks
    clock: Clock
    refusals: int
    raises: bool
    refused: list[str] = field(default_factory=list)

    def place(self, order: BrokerOrder) -> BrokerOrderState:
        if self.refusals == 0:
            return self.inner.place(order)
        self.refusals -= 1
        self.refused.append(order.client_order_id)
        if self.raises:
            raise DomainError("BROKER_UNAVAILABLE", "the broker's gateway did not answer")
        return BrokerOrderState(
            order, BrokerOrderStatus.REJECTED, self.clock.now(), reason_code="STALE_PRICE", reason="no quote"
        )

    def cancel(self, client_order_id: str) -> BrokerOrderState:
        return self.inner.cancel(client_order_id)

    def sync(self) -> BrokerSync:
        return self.inner.sync()

    def positions(self) -> Mapping[Symbol, CustodyPosition]:
        return self.inner.positions()


@pytest.mark.parametrize("raises", [False, True], ids=["rejected", "raised"])
def test_an_in_session_hedge_the_broker_refuses_stays_committed_and_is_placed_again(raises: bool) -> None:
    world = World.start(MONDAY)
    made: list[RefusingBooks] = []

    def build(listing: Listing, context: ModelContext) -> InstantModel:
        assert context.broker is not None
        made.append(RefusingBooks(context.broker, context.clock, 1, raises))
        return InstantModel(listing, replace(context, broker=made[0]), InstantSettings())

    world.list("MSFT", ModelName.INSTANT, "instant-execution", build)
    alice = world.investor("alice")
    order = world.engine.submit(world.buy(alice, "MSFT", "10")).order
    fill_id = order.fills[0].fill_id
    assert order.state is OrderState.SETTLED and made[0].refused == [f"hedge-{fill_id}"]
    assert shares(world, hedge_pending(MSFT)) == 10 and shares(world, in_flight(MSFT)) == 0
    backed(world)  # the commitment backs the minted tokens until a hedge fills

    world.at(ny(2012, 11, 19, 10, 1))
    # A rejection is an answer: a fresh id for the second attempt. No answer (raised) is not: the broker
    # may hold the order, so the same id is placed again and nothing can be bought twice.
    again = f"hedge-{fill_id}" if raises else f"hedge-{fill_id}-r1"
    assert broker_orders(world)[-1] == again
    assert shares(world, hedge_pending(MSFT)) == 0 and shares(world, in_flight(MSFT)) == 10
    assert world.store.entry(f"hedge-pnl:{again}") is not None
    backed(world)


def test_above_the_cap_a_shrinking_order_is_taken_and_a_growing_one_refused() -> None:
    world = World.start(FRIDAY_MORNING)

    def build(listing: Listing, context: ModelContext) -> InstantModel:
        assert context.broker is not None  # no hedge fills today: the exposure stays
        books = RefusingBooks(context.broker, context.clock, 1_000, raises=False)
        return InstantModel(listing, replace(context, broker=books), InstantSettings())

    world.list("MSFT", ModelName.INSTANT, "instant-execution", build)
    alice = world.investor("alice")
    world.engine.submit(world.buy(alice, "MSFT", "2000"))  # in session: no cap, but the hedge fails
    world.at(FRIDAY_AFTER_CLOSE)
    assert shares(world, hedge_pending(MSFT)) == 2000  # 55,400 at 27.70: above the 50,000 cap
    grow = world.engine.submit(world.buy(alice, "MSFT", "1")).order
    assert grow.rejection is not None and grow.rejection.code == "BUFFER_LIMIT"
    shrink = world.engine.submit(world.sell(alice, "MSFT", "100")).order
    assert shrink.state is OrderState.SETTLED  # 1,900 still above the cap, but less exposed
    assert shares(world, hedge_pending(MSFT)) == 1900
    backed(world)


def test_fills_that_net_to_zero_at_different_references_realise_the_gap_without_a_hedge() -> None:
    world = World.start(FRIDAY_MORNING)
    made: list[RefusingBooks] = []

    def build(listing: Listing, context: ModelContext) -> InstantModel:
        assert context.broker is not None
        made.append(RefusingBooks(context.broker, context.clock, 1, raises=False))
        return InstantModel(listing, replace(context, broker=made[0]), InstantSettings())

    model = world.list("MSFT", ModelName.INSTANT, "instant-execution", build)
    alice = world.investor("alice")
    world.engine.submit(world.buy(alice, "MSFT", "5"))  # its hedge is refused: committed, unhedged
    bought = reference(world)
    world.at(FRIDAY_AFTER_CLOSE)
    world.engine.submit(world.sell(alice, "MSFT", "5"))  # at the close, 27.70
    assert shares(world, hedge_pending(MSFT)) == 0
    world.at(NEXT_OPEN)
    assert broker_orders(world) == []  # nothing to trade
    expected = bought.notional(Shares(5)) - Price("27.70").notional(Shares(5))
    assert model.pnl() == expected and not expected.is_zero()
    assert usd(world, buffer_pool(ModelName.INSTANT)) == BUFFER
    backed(world)


def test_a_fixed_fee_is_collected_beside_the_quote_and_the_ledger_mirrors_the_wallet() -> None:
    world = World.start(MONDAY, fees=FeeSchedule(fixed=Money("1.5")))
    model = world.list("MSFT", ModelName.INSTANT, "instant-execution", build_instant_model)
    assert isinstance(model, InstantModel)
    alice = world.investor("alice")
    coin, chain = world.engine.stablecoin, world.engine.chain
    treasury = chain.stablecoin_balance(coin, model.treasury)
    before = world.cash(alice)
    world.engine.submit(world.buy(alice, "MSFT", "10"))
    ref, fill = reference(world), last_fill(world)
    due = chain_notional(Side.BUY, Decimal(10), quoted(Side.BUY, ref, 10))
    assert before - world.cash(alice) == due + Money("1.5")
    assert fill.fee == due - ref.notional(Shares(10)) + Money("1.5")
    assert usd(world, investor_cash(alice.investor)) == world.cash(alice)
    assert chain.stablecoin_balance(coin, model.treasury) - treasury == due + Money("1.5")

    middle = world.cash(alice)
    world.engine.submit(world.sell(alice, "MSFT", "4"))
    gross = chain_notional(Side.SELL, Decimal(4), quoted(Side.SELL, reference(world), 10))
    assert world.cash(alice) - middle == gross - Money("1.5")
    assert usd(world, investor_cash(alice.investor)) == world.cash(alice)
    assert usd(world, fees(ModelName.INSTANT)) == fill.fee + last_fill(world).fee
    backed(world)


# -- refusals ----------------------------------------------------------------------------------


def test_a_buy_beyond_the_wallet_and_a_sell_beyond_the_tokens_are_refused() -> None:
    world, model = listed(MONDAY)
    poor = world.investor("poor", cash="100")
    buy = world.engine.submit(world.buy(poor, "MSFT", "10")).order
    assert buy.rejection is not None and buy.rejection.code == "INSUFFICIENT_FUNDS"
    sell = world.engine.submit(world.sell(poor, "MSFT", "1")).order
    assert sell.rejection is not None and sell.rejection.code == "INSUFFICIENT_TOKENS"
    assert (
        world.cash(poor) == Money(100)
        and world.engine.chain.total_supply(model.listing.instrument.token).value == 0
    )
    backed(world)


def test_a_us_person_is_refused_by_compliance_and_never_minted() -> None:
    world, model = listed(MONDAY)
    us = world.investor("ursula", residence="US", us_person=True)
    order = world.engine.submit(world.buy(us, "MSFT", "1")).order
    assert order.state is OrderState.REJECTED
    assert order.rejection is not None and order.rejection.code == "COUNTRY_NOT_ALLOWED"
    assert world.tokens("MSFT", us) == 0
    assert world.engine.chain.total_supply(model.listing.instrument.token).value == 0
    assert broker_orders(world) == []
    backed(world)


def test_a_settled_quote_cannot_be_settled_again() -> None:
    world, model = listed(MONDAY)
    alice = world.investor("alice")
    world.engine.submit(world.buy(alice, "MSFT", "10"))
    fill = last_fill(world).fill
    chain = world.engine.chain
    replay = ChainQuote(  # the very quote the model settled: its id is the fill id
        model.settlement,
        alice.wallet,
        QuoteSide.BUY,
        model.listing.instrument.amount(10),
        Money(fill.price.amount),
        fill.at + timedelta(seconds=30),
        fill.fill_id,
    )
    signed = chain.sign_quote(replay)
    supply, cash = chain.total_supply(model.listing.instrument.token), world.cash(alice)
    with pytest.raises(DomainError) as refused:
        chain.settle_quote(signed)
    assert refused.value.code == "QUOTE_ALREADY_USED" and "already used" in str(refused.value)
    assert chain.total_supply(model.listing.instrument.token) == supply and world.cash(alice) == cash
    backed(world)


# -- the pure parts ----------------------------------------------------------------------------


@pytest.mark.parametrize("side", [Side.BUY, Side.SELL])
@pytest.mark.parametrize(
    ("tokens", "price"),
    [("10", "26.821410"), ("0.000000001", "27.7"), ("3.333333333", "193.490001"), ("123456.789", "0.000001")],
)
def test_the_pure_notional_mirrors_the_contract_rule(side: Side, tokens: str, price: str) -> None:
    raw = eip712.quote_notional(
        0 if side is Side.BUY else 1, int(Decimal(tokens).scaleb(18)), int(Decimal(price).scaleb(6)), 18
    )
    assert chain_notional(side, Decimal(tokens), Money(price)) == Money(Decimal(raw).scaleb(-6))


def test_chain_price_rounds_against_the_investor() -> None:
    assert chain_price(Side.BUY, Price("26.82141001")) == Money("26.821411")
    assert chain_price(Side.SELL, Price("26.82141099")) == Money("26.82141")


def test_a_hedge_that_ends_unfilled_gives_its_commitments_back() -> None:
    book = ExposureBook()
    buy = Commitment("a:1", Side.BUY, Shares(10), Money(277))
    sell = Commitment("b:1", Side.SELL, Shares(4), Money("110.8"))
    book.commit(buy)
    book.commit(sell)
    coid = book.next_hedge_id(book.unhedged)
    hedge = hedge_for(coid, book.take(book.unhedged))
    assert hedge is not None and hedge.side is Side.BUY and hedge.shares == Shares(6)
    book.open(hedge)
    assert book.release(coid) is None
    assert book.unhedged == (buy, sell)
    assert book.next_hedge_id(book.unhedged) == "hedge-a:1-r1"  # a new id: the broker remembers the old one


def test_a_part_filled_hedge_keeps_the_rest_as_one_residual_commitment() -> None:
    book = ExposureBook()
    book.commit(Commitment("a:1", Side.BUY, Shares(10), Money(277)))
    coid = book.next_hedge_id(book.unhedged)
    hedge = hedge_for(coid, book.take(book.unhedged))
    assert hedge is not None
    book.open(hedge)
    book.fill(coid, "f1", Shares(4), Money(110))
    part = book.release(coid)
    assert part is not None and part.filled == Shares(4)
    assert part.pnl() == Money("0.8")  # 4/10 of 277 taken in, 110 paid
    (rest,) = book.unhedged
    assert rest.shares == Shares(6) and rest.reference_value == Money("166.2")


def test_settings_refuse_a_float_larger_than_the_buffer() -> None:
    with pytest.raises(DomainError) as refused:
        InstantSettings(buffer=Money(100), stablecoin_float=Money(200))
    assert refused.value.code == "INVALID_SETTING"
