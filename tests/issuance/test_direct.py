"""Direct ownership end to end: primary issuance, the ATS book, T+0 settlement, the register, refusals.

Everything real: the engine, the compliance desk under the shipped ``direct-ownership`` policy, the
embedded chain (whose contracts enforce the whitelist and lockups), the ledger. Holdings that a test
trades are issued two years back, so their lockups have run out; the lockup test issues recently.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from functools import partial

import pytest

from equitoken.compliance.actions import Regulation
from equitoken.compliance.investors import InvestorCategory
from equitoken.domain.errors import DomainError
from equitoken.domain.ids import Symbol
from equitoken.domain.reasons import Reason
from equitoken.domain.values import Bps, Money, Price, Shares
from equitoken.issuance.models import ModelName, ModelReason
from equitoken.issuance.models.base import Holder
from equitoken.issuance.models.books import custody, fees, investor_cash, investor_tokens, issuer_cash
from equitoken.issuance.models.direct import (
    NOTIONAL_NOT_SUPPORTED,
    DirectModel,
    DirectSettings,
    build_direct_model,
)
from equitoken.issuance.orders import OrderState, TimeInForce
from equitoken.ledger.accounts import Asset
from equitoken.ports.chain import ChainRefusal
from tests.issuance.world import World, ny

START = ny(2012, 11, 19, 10, 0)  # Monday, regular session; KO's reference is about 36.88
KO = Symbol("KO")
LONG_AGO = START - timedelta(days=730)
USD = Asset.cash("USD")


def listed(world: World) -> DirectModel:
    model = world.list("KO", ModelName.DIRECT, "direct-ownership", build_direct_model)
    assert isinstance(model, DirectModel)
    return model


def holder(
    world: World, name: str, *, us: bool = False, whitelisted: bool = True, cash: str = "100000"
) -> Holder:
    """Onboard a non-US professional (Reg S) or a US accredited investor (Reg D) and whitelist it."""
    made = world.investor(
        name,
        residence="US" if us else "CH",
        us_person=us,
        category=InvestorCategory.ACCREDITED if us else InvestorCategory.PROFESSIONAL,
        cash=cash,
    )
    if whitelisted:
        world.engine.desk.whitelist(KO, [made.investor])
    return made


def issue(
    world: World,
    to: Holder,
    shares: str,
    *,
    at: datetime = LONG_AGO,
    regulation: Regulation = Regulation.REG_S,
) -> None:
    world.engine.issue_primary(KO, to, Shares(shares), Price("30"), acquired_at=at, regulation=regulation)


def treasury(world: World) -> Money:
    return world.engine.chain.stablecoin_balance(
        world.engine.stablecoin, world.engine.chain.wallet("direct:treasury")
    )


def token_account(world: World, who: Holder, model: DirectModel) -> Decimal:
    return world.balance(investor_tokens(who.investor, KO), model.listing.token)


# -- primary issuance ----------------------------------------------------------------------------


def test_primary_issuance_registers_legended_lots_mirrored_by_the_chain_and_paid_to_the_issuer() -> None:
    world = World.start(START)
    model = listed(world)
    alice, carol = holder(world, "alice"), holder(world, "carol", us=True)
    issue(world, alice, "100")
    issue(world, carol, "50", regulation=Regulation.REG_D)

    assert model.reconcile() == []
    assert model.cap_table.total() == Shares(150)
    (alice_lot,) = model.cap_table.lots_of(alice.wallet)
    (carol_lot,) = model.cap_table.lots_of(carol.wallet)
    assert (alice_lot.regulation, alice_lot.acquired_at) == (Regulation.REG_S, LONG_AGO)
    assert "Regulation S" in alice_lot.legend and "Rule 144" in carol_lot.legend
    assert world.tokens("KO", alice) == 100 and world.tokens("KO", carol) == 50
    # Paid at 30 a share into the issuer's treasury, on chain and in the books.
    assert world.cash(alice) == Money("97000") and world.cash(carol) == Money("98500")
    assert treasury(world) == Money("4500")
    assert world.balance(issuer_cash(ModelName.DIRECT), USD) == Decimal(4500)
    assert world.balance(investor_cash(alice.investor), USD) == Decimal(97000)
    assert token_account(world, alice, model) == 100
    assert world.balance(custody(KO), model.listing.share) == 150
    assert world.backed()


def test_two_equal_issues_are_two_entries_and_an_issue_without_its_mint_is_refused() -> None:
    world = World.start(START)
    model = listed(world)
    alice = holder(world, "alice")
    issue(world, alice, "100")
    issue(world, alice, "100")  # same terms, same instant: still a second issue, minted twice
    assert model.cap_table.total() == Shares(200) and world.cash(alice) == Money("94000")
    assert world.backed()
    with pytest.raises(DomainError) as refused:
        model.primary_plan(
            alice.investor, alice.wallet, Shares(100), Price("30"), LONG_AGO, Regulation.REG_S, START
        )
    assert refused.value.code == "MINT_NOT_FOUND"
    assert model.cap_table.total() == Shares(200) and world.cash(alice) == Money("94000")
    assert world.backed()


def test_an_issue_the_investor_cannot_pay_for_is_refused_before_the_mint() -> None:
    world = World.start(START)
    model = listed(world)
    poor = holder(world, "poor", cash="100")
    refusal = model.primary_refusal(poor.wallet, Shares(10), Price("30"))
    assert refusal is not None and refusal.code == ModelReason.INSUFFICIENT_FUNDS
    assert model.primary_refusal(poor.wallet, Shares(3), Price("30")) is None


def test_an_investor_off_the_whitelist_cannot_be_issued_to() -> None:
    world = World.start(START)
    model = listed(world)
    bob = holder(world, "bob", whitelisted=False)
    with pytest.raises(ChainRefusal) as refused:
        issue(world, bob, "10")
    assert refused.value.code == "RECIPIENT_NOT_WHITELISTED"
    assert model.cap_table.total() == Shares(0) and world.tokens("KO", bob) == 0
    assert world.backed()


# -- matching and settlement ---------------------------------------------------------------------


def test_a_resting_sell_meets_an_incoming_buy_at_the_makers_price_settled_on_chain_at_once() -> None:
    world = World.start(START)
    model = listed(world)
    alice, bob = holder(world, "alice"), holder(world, "bob")
    issue(world, alice, "100")

    sell = world.engine.submit(world.sell(alice, "KO", "10", limit="37")).order
    assert sell.state is OrderState.ACCEPTED and [o.order_id for o in model.book] == [sell.order_id]
    world.at(START + timedelta(minutes=5))
    buy = world.engine.submit(world.buy(bob, "KO", "4", limit="37.50")).order

    assert buy.state is OrderState.SETTLED
    (taker_fill,) = buy.fills
    maker = world.engine.orders.order(sell.order_id)
    (maker_fill,) = maker.fills
    assert maker.state is OrderState.PARTIALLY_FILLED
    assert taker_fill.price == maker_fill.price == Price("37")  # the maker's price, not the taker's limit
    assert taker_fill.fill_id != maker_fill.fill_id
    # T+0 on chain: tokens to the buyer, cash to the seller, the taker's 10 bps to the treasury.
    assert world.tokens("KO", bob) == 4 and world.tokens("KO", alice) == 96
    assert world.cash(alice) == Money("97148")
    assert world.cash(bob) == Money("99851.852")
    assert treasury(world) == Money("3000.148")
    # The register followed the Transfer event: the buyer's lot keeps the legend and the tacked
    # holding period, and is registered to the buyer at the purchase.
    assert model.reconcile() == []
    (lot,) = model.cap_table.lots_of(bob.wallet)
    assert lot.regulation is Regulation.REG_S and "Regulation S" in lot.legend
    assert lot.registered_at == START + timedelta(minutes=5)
    assert lot.acquired_at == lot.issued_at == LONG_AGO
    # And the books: tokens between the investors, cash, the commission as the ATS's revenue.
    assert token_account(world, bob, model) == 4 and token_account(world, alice, model) == 96
    assert world.balance(investor_cash(bob.investor), USD) == Decimal("99851.852")
    assert world.balance(fees(ModelName.DIRECT), USD) == Decimal("0.148")
    fills = [record.fill for record in world.engine.log.fills]
    assert [f.fee for f in fills] == [Money("0.148"), Money(0)]
    assert not any(f.off_hours for f in fills)
    assert world.backed()
    assert model.capital_locked() == Money(0) and model.pnl() == Money(0)


def test_price_then_time_priority_across_resting_sells() -> None:
    world = World.start(START)
    model = listed(world)
    alice, dave, erin, bob = (holder(world, n) for n in ("alice", "dave", "erin", "bob"))
    for seller in (alice, dave, erin):
        issue(world, seller, "100")
    first = world.engine.submit(world.sell(alice, "KO", "10", limit="37")).order
    world.engine.submit(world.sell(dave, "KO", "10", limit="37"))
    better = world.engine.submit(world.sell(erin, "KO", "10", limit="36.95")).order

    buy = world.engine.submit(world.buy(bob, "KO", "15", limit="37.10")).order

    assert [(f.shares, f.price) for f in buy.fills] == [
        (Shares(10), Price("36.95")),
        (Shares(5), Price("37")),
    ]
    assert world.engine.orders.order(better.order_id).filled_shares == Shares(10)
    assert world.engine.orders.order(first.order_id).filled_shares == Shares(5)
    assert world.tokens("KO", dave) == 100  # behind alice at the same price
    assert world.tokens("KO", bob) == 15
    assert model.reconcile() == []
    assert world.backed()


def test_an_incoming_sell_takes_the_best_bid_and_a_limit_remainder_rests() -> None:
    world = World.start(START)
    model = listed(world)
    alice, bob = holder(world, "alice"), holder(world, "bob")
    issue(world, alice, "100")
    bid = world.engine.submit(world.buy(bob, "KO", "5", limit="36.80")).order
    sell = world.engine.submit(world.sell(alice, "KO", "8", limit="36.70")).order
    assert [(f.shares, f.price) for f in sell.fills] == [(Shares(5), Price("36.80"))]
    assert sell.state is OrderState.PARTIALLY_FILLED
    assert world.engine.orders.order(bid.order_id).filled_shares == Shares(5)
    assert [(o.order_id, o.remaining) for o in model.book] == [(sell.order_id, Shares(3))]
    assert world.cash(alice) == Money("97000") + Money("184") - Money("0.184")  # the taker pays commission
    assert world.backed()


def test_a_buyer_off_the_whitelist_never_matches() -> None:
    world = World.start(START)
    model = listed(world)
    alice, bob = holder(world, "alice"), holder(world, "bob")
    issue(world, alice, "100")
    outsider = holder(world, "oscar", whitelisted=False)
    refused = world.engine.submit(world.buy(outsider, "KO", "5", limit="37")).order
    assert refused.rejection is not None  # the order desk's own compliance check
    assert refused.rejection.code == Reason.RECIPIENT_NOT_WHITELISTED.name

    # Whitelisted when the bid went in, struck off before the seller came: the ATS must not match.
    bid = world.engine.submit(world.buy(bob, "KO", "5", limit="37")).order
    world.engine.desk.whitelist(KO, [bob.investor], whitelisted=False)
    struck = world.engine.gate.transfer(KO, alice.wallet, bob.wallet, Shares(5), START)
    assert struck.reason is Reason.RECIPIENT_NOT_WHITELISTED
    ask = world.engine.submit(world.sell(alice, "KO", "5", limit="37")).order
    assert ask.fills == () and ask.state is OrderState.ACCEPTED
    assert world.tokens("KO", bob) == 0 and world.cash(alice) == Money("97000")
    assert {o.order_id for o in model.book} == {bid.order_id, ask.order_id}
    assert world.backed()

    world.at(ny(2012, 11, 19, 16, 5))  # both DAY orders expire at the close and leave the book
    assert world.engine.orders.order(bid.order_id).state is OrderState.EXPIRED
    assert model.book == []
    assert world.backed()


def test_a_reg_d_seller_inside_its_lockup_never_matches_until_it_ends() -> None:
    world = World.start(START)
    model = listed(world)
    carol, bob = holder(world, "carol", us=True), holder(world, "bob")
    acquired = START - timedelta(days=90)
    issue(world, carol, "20", at=acquired, regulation=Regulation.REG_D)
    ask = world.engine.submit(world.sell(carol, "KO", "20", limit="37", tif=TimeInForce.GTC)).order
    assert ask.state is OrderState.ACCEPTED  # selling is not transferring: the lockup bites at the match
    locked = world.engine.gate.transfer(KO, carol.wallet, bob.wallet, Shares(20), START)
    assert locked.reason is Reason.LOCKUP_ACTIVE  # why the match below must not happen
    early = world.engine.submit(world.buy(bob, "KO", "20", limit="37", tif=TimeInForce.IOC)).order
    assert early.fills == () and early.state is OrderState.EXPIRED
    assert world.tokens("KO", carol) == 20 and world.tokens("KO", bob) == 0

    world.at(ny(2013, 9, 3, 10, 0))  # past the 12-month Reg D holding period
    later = world.engine.submit(world.buy(bob, "KO", "20", limit="40", tif=TimeInForce.IOC)).order
    assert [(f.shares, f.price) for f in later.fills] == [(Shares(20), Price("37"))]
    assert world.tokens("KO", bob) == 20
    (lot,) = model.cap_table.lots_of(bob.wallet)
    assert lot.regulation is Regulation.REG_D and "Rule 144" in lot.legend  # still restricted for the buyer
    assert model.reconcile() == []
    assert world.backed()


def test_an_investor_never_trades_with_itself() -> None:
    world = World.start(START)
    model = listed(world)
    alice = holder(world, "alice")
    issue(world, alice, "100")
    world.engine.submit(world.sell(alice, "KO", "5", limit="37"))
    own = world.engine.submit(world.buy(alice, "KO", "5", limit="37")).order
    assert own.fills == () and len(model.book) == 2
    assert world.tokens("KO", alice) == 100


# -- venue refusals ------------------------------------------------------------------------------


def test_a_market_order_on_an_empty_side_is_refused_for_liquidity() -> None:
    world = World.start(START)
    listed(world)
    bob = holder(world, "bob")
    order = world.engine.submit(world.buy(bob, "KO", "5", tif=TimeInForce.IOC)).order
    assert order.state is OrderState.REJECTED
    assert order.rejection is not None and order.rejection.code == ModelReason.NO_LIQUIDITY


def test_a_market_order_that_would_rest_is_refused() -> None:
    world = World.start(START)
    listed(world)
    alice, bob = holder(world, "alice"), holder(world, "bob")
    issue(world, alice, "100")
    world.engine.submit(world.sell(alice, "KO", "3", limit="37"))
    for tif in (TimeInForce.DAY, TimeInForce.GTC):
        order = world.engine.submit(world.buy(bob, "KO", "5", tif=tif)).order
        assert order.rejection is not None and order.rejection.code == "MARKET_ORDER_NEEDS_IOC"
    assert world.tokens("KO", bob) == 0


def test_a_market_buy_takes_what_rests_and_the_remainder_is_left_to_expire() -> None:
    world = World.start(START)
    listed(world)
    alice, bob = holder(world, "alice"), holder(world, "bob")
    issue(world, alice, "100")
    world.engine.submit(world.sell(alice, "KO", "3", limit="37"))
    order = world.engine.submit(world.buy(bob, "KO", "5", tif=TimeInForce.IOC)).order
    assert order.filled_shares == Shares(3) and order.state is OrderState.EXPIRED
    assert world.backed()


def test_notional_orders_short_tokens_and_short_cash_are_refused() -> None:
    world = World.start(START)
    listed(world)
    alice, bob = holder(world, "alice"), holder(world, "bob", cash="100")
    issue(world, alice, "10")
    notional = world.engine.submit(world.buy(bob, "KO", notional="50", limit="37")).order
    assert notional.rejection is not None and notional.rejection.code == NOTIONAL_NOT_SUPPORTED
    world.engine.submit(world.sell(alice, "KO", "8", limit="37"))
    oversold = world.engine.submit(world.sell(alice, "KO", "3", limit="37")).order  # only 2 are free
    assert oversold.rejection is not None and oversold.rejection.code == ModelReason.INSUFFICIENT_TOKENS
    short = world.engine.submit(world.buy(bob, "KO", "3", limit="36")).order  # 108 + commission > 100
    assert short.rejection is not None and short.rejection.code == ModelReason.INSUFFICIENT_FUNDS
    assert world.backed()


# -- the register against the chain ------------------------------------------------------------


def test_a_transfer_made_on_chain_outside_the_ats_is_reflected_in_the_register() -> None:
    world = World.start(START)
    model = listed(world)
    alice, bob = holder(world, "alice"), holder(world, "bob")
    issue(world, alice, "100")
    issue(world, bob, "1")
    chain = world.engine.chain
    chain.transfer(
        model.listing.instrument.token, alice.wallet, bob.wallet, model.listing.instrument.amount(7)
    )
    assert model.reconcile() == []
    assert model.cap_table.balance_of(bob.wallet) == Shares(8)


def test_tokens_minted_behind_the_registers_back_fail_closed() -> None:
    world = World.start(START)
    model = listed(world)
    alice, bob = holder(world, "alice"), holder(world, "bob")
    issue(world, alice, "100")
    world.engine.desk.issue(KO, alice.wallet, Shares(5), acquired_at=LONG_AGO)  # no primary_plan
    (mismatch,) = model.reconcile()
    assert (mismatch.wallet, mismatch.register, mismatch.chain) == (alice.wallet, Decimal(100), Decimal(105))
    world.engine.submit(world.sell(alice, "KO", "5", limit="37"))
    buy = world.engine.submit(world.buy(bob, "KO", "5", limit="37")).order
    assert buy.state is OrderState.CANCELLED
    assert any("CAP_TABLE_DIVERGED" in failure for failure in world.engine.log.failures)
    assert world.tokens("KO", bob) == 0 and world.cash(bob) == Money("100000")


def test_build_direct_model_takes_settings() -> None:
    world = World.start(START)
    model = world.list(
        "KO",
        ModelName.DIRECT,
        "direct-ownership",
        partial(build_direct_model, settings=DirectSettings(Bps(0))),
    )
    alice, bob = holder(world, "alice"), holder(world, "bob")
    issue(world, alice, "10")
    world.engine.submit(world.sell(alice, "KO", "2", limit="37"))
    world.engine.submit(world.buy(bob, "KO", "2", limit="37"))
    assert world.cash(bob) == Money("99926")  # no commission
    assert isinstance(model, DirectModel)
    with pytest.raises(DomainError):
        DirectSettings(Bps(-1))


def test_the_ats_matches_off_hours_and_says_so() -> None:
    world = World.start(START)
    model = listed(world)
    alice, bob = holder(world, "alice"), holder(world, "bob")
    issue(world, alice, "100")
    world.at(ny(2012, 11, 19, 20, 0))  # the exchange is closed; the ATS is not
    world.engine.submit(world.sell(alice, "KO", "2", limit="37", tif=TimeInForce.GTC))
    buy = world.engine.submit(world.buy(bob, "KO", "2", limit="37")).order
    assert buy.filled_shares == Shares(2)
    assert [record.fill.off_hours for record in world.engine.log.fills] == [True, True]
    assert model.reconcile() == [] and world.backed()
