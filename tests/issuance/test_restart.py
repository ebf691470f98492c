"""A restarted engine resumes: a NEW engine, built through the composition root, over the SAME store,
the SAME chain (kept, as a node keeps it) and the SAME broker accounts.

Each test is a regression of issue 10: before, a restarted engine had no models, a new stablecoin,
working orders nobody filled or expired, an open buffer commitment never hedged, a deposit refused
``IDEMPOTENCY_CONFLICT`` after minting, and split blackouts forgotten.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta
from functools import partial

import pytest

from equitoken.app.bootstrap import bootstrap
from equitoken.app.issuance import IssuanceEngine, ModelBuilder, open_engine
from equitoken.app.settings import Settings
from equitoken.compliance.actions import Regulation
from equitoken.compliance.investors import InvestorCategory
from equitoken.domain.errors import DomainError
from equitoken.domain.ids import Symbol
from equitoken.domain.values import Money, Price, Shares
from equitoken.issuance.models import ModelName
from equitoken.issuance.models.base import Holder
from equitoken.issuance.models.books import USD, hedge_pending, investor_cash
from equitoken.issuance.models.direct import DirectModel, build_direct_model
from equitoken.issuance.models.instant import InstantModel, InstantSettings, build_instant_model
from equitoken.issuance.models.inventory import InventoryModel, InventorySettings, build_inventory_model
from equitoken.issuance.orders import OrderState, TimeInForce
from equitoken.ledger.accounts import Asset
from equitoken.ports.broker import Broker
from tests.issuance.test_engine import MintOnFill
from tests.issuance.world import World, ny

MSFT = Symbol("MSFT")
MONDAY = ny(2012, 11, 19, 10, 0)
FRIDAY_AFTER_CLOSE = ny(2012, 11, 23, 14, 0)  # the early close was 13:00
SATURDAY = ny(2012, 11, 24, 12, 0)
NEXT_OPEN = ny(2012, 11, 26, 9, 31)

BUILDERS: Mapping[ModelName, ModelBuilder] = {
    ModelName.DIRECT: build_direct_model,
    ModelName.INVENTORY: partial(
        build_inventory_model,
        settings=InventorySettings(
            capital=Money(250_000),
            initial_shares=Shares(150),
            low_watermark=Shares(60),
            target=Shares(150),
            high_watermark=Shares(260),
            stablecoin_float=Money(100_000),
        ),
    ),
    ModelName.INSTANT: partial(
        build_instant_model,
        settings=InstantSettings(buffer=Money(100_000), exposure_cap=Money(40_000)),
    ),
}


def start(at: datetime = MONDAY) -> tuple[World, Holder]:
    world = World.start(at, seed="restart", chain_kept=True)
    world.list("MSFT", ModelName.INSTANT, "instant-execution", BUILDERS[ModelName.INSTANT])
    return world, world.investor("anna", residence="DE")


def restart(world: World, builders: Mapping[ModelName, ModelBuilder] = BUILDERS) -> IssuanceEngine:
    """Build a new engine as the app does, over what survives: store, chain, clock, broker accounts."""
    old = world.engine
    kept = [b for b in (old.broker(s) for s in old.models()) if b is not None]
    accounts: Iterator[Broker] = iter(kept)
    platform = bootstrap(  # the same in-process EVM: its contracts are still there
        Settings(chain_seed="restart"), world.clock, store=world.store, chain=old.chain, chain_kept=True
    )
    engine = open_engine(platform, brokers=lambda _symbol: next(accounts), builders=builders)
    world.engine = engine
    return engine


def test_the_listings_come_back_with_the_same_contracts_and_stablecoin() -> None:
    world, _ = start()
    before = world.engine
    listing = before.model(MSFT).listing
    settlement = before.model(MSFT).settlement  # type: ignore[attr-defined]
    block = before.chain.block_number()
    engine = restart(world)
    assert list(engine.models()) == [MSFT]
    assert engine.stablecoin == before.stablecoin  # no second stablecoin
    assert engine.model(MSFT).listing == listing  # the same token, registry and compliance
    model = engine.model(MSFT)
    assert isinstance(model, InstantModel) and model.settlement == settlement
    assert engine.chain.block_number() == block  # nothing deployed, minted or mined on reopening
    assert engine.check()[0].holds and engine.invariants_ok


def test_listing_again_after_a_restart_is_already_listed_not_a_redeploy() -> None:
    world, _ = start()
    engine = restart(world)
    with pytest.raises(DomainError) as again:
        engine.list_stock(MSFT, ModelName.INSTANT, "instant-execution", BUILDERS[ModelName.INSTANT])
    assert again.value.code == "ALREADY_LISTED"


def test_a_deposit_after_a_restart_is_booked_once() -> None:
    world, anna = start()
    engine = restart(world)
    cash_before = world.cash(anna)
    engine.deposit(anna, Money("500"))  # IDEMPOTENCY_CONFLICT after minting, before the fix
    assert world.cash(anna) == cash_before + Money("500")
    assert world.balance(investor_cash(anna.investor), USD) == cash_before.amount + 500
    assert engine.check()[0].holds


def test_a_commitment_fronted_before_the_restart_is_hedged_at_the_next_open() -> None:
    world, anna = start(FRIDAY_AFTER_CLOSE)
    done = world.engine.submit(world.buy(anna, "MSFT", "100")).order
    assert done.state is OrderState.SETTLED
    pending = hedge_pending(MSFT)
    assert world.balance(pending, Asset.share(MSFT)) == 100
    engine = restart(world)
    model = engine.model(MSFT)
    assert isinstance(model, InstantModel)
    assert [c.shares for c in model.exposure.unhedged] == [Shares(100)]
    world.at(NEXT_OPEN)
    assert model.exposure.unhedged == () and model.exposure.hedges == ()
    assert world.balance(pending, Asset.share(MSFT)) == 0  # the hedge's fill reversed the commitment
    assert engine.check()[0].holds and engine.invariants_ok


def test_a_hedge_open_at_the_broker_across_the_restart_is_not_placed_twice() -> None:
    world, anna = start(FRIDAY_AFTER_CLOSE)
    world.engine.submit(world.buy(anna, "MSFT", "40"))
    world.at(NEXT_OPEN)  # the net hedge goes out at the open
    placed = [e for e in world.store.events("broker-instant-MSFT") if e.type == "BrokerOrderPlaced"]
    engine = restart(world)
    world.at(ny(2012, 11, 26, 12, 0))
    again = [e for e in world.store.events("broker-instant-MSFT") if e.type == "BrokerOrderPlaced"]
    assert again == placed
    model = engine.model(MSFT)
    assert isinstance(model, InstantModel) and model.exposure.unhedged == ()
    assert engine.check()[0].holds


def test_a_resting_gtc_order_is_filled_after_the_restart() -> None:
    world, anna = start()  # MSFT at 26.80 + the spread: a buy limit of 26.75 rests
    request = world.buy(anna, "MSFT", "10", tif=TimeInForce.GTC, limit="26.75")
    resting = world.engine.submit(request).order
    assert resting.state is OrderState.ACCEPTED
    engine = restart(world)
    assert [o.order_id for o in engine.orders.working()] == [resting.order_id]
    world.at(ny(2012, 11, 20, 15, 55))  # Tuesday closes at 26.71: the limit is met
    assert engine.orders.order(resting.order_id).state is OrderState.SETTLED
    assert world.tokens("MSFT", anna) == 10


def test_a_day_order_whose_close_passed_while_down_expires_on_the_first_tick() -> None:
    world, anna = start()
    reference = world.engine.prices.reference_price(MSFT, world.clock.now()).price.amount
    request = world.buy(anna, "MSFT", "10", tif=TimeInForce.DAY, limit=f"{reference * 90 / 100:.2f}")
    resting = world.engine.submit(request).order
    world.clock.set(ny(2012, 11, 20, 10, 0))  # down over Monday's close
    engine = restart(world)
    engine.tick()
    assert engine.orders.order(resting.order_id).state is OrderState.EXPIRED
    assert engine.orders.working() == []


def test_a_blackout_survives_the_restart_and_its_lifting_too() -> None:
    world, _ = start()
    world.engine.black_out(MSFT, MONDAY, "split 2:1 ex 2012-11-21")
    engine = restart(world)
    assert engine.blacked_out(MSFT) == "split 2:1 ex 2012-11-21"
    engine.lift_blackout(MSFT)
    assert restart(world).blacked_out(MSFT) is None


def inventory_world(at: datetime) -> tuple[World, Holder]:
    world = World.start(at, seed="restart", chain_kept=True)
    world.list("AAPL", ModelName.INVENTORY, "tracker-certificate", BUILDERS[ModelName.INVENTORY])
    return world, world.investor("anna", residence="DE", cash="200000")


def placed(world: World) -> list[str]:
    stream = "broker-inventory-AAPL"
    return [e.payload["client_order_id"] for e in world.store.events(stream) if e.type == "BrokerOrderPlaced"]


def test_an_inventory_listing_resumes_without_buying_its_opening_inventory_again() -> None:
    world, anna = inventory_world(MONDAY)
    world.engine.submit(world.buy(anna, "AAPL", "100"))  # below the low watermark: a refill is due
    orders = placed(world)
    engine = restart(world)
    model = engine.model(Symbol("AAPL"))
    assert isinstance(model, InventoryModel)
    assert placed(world) == orders  # nothing bought again on reopening
    world.at(ny(2012, 11, 19, 11, 0))
    after = placed(world)
    assert after[: len(orders)] == orders and len(after) == len(orders) + 1  # one refill, once
    assert all(b.holds for b in engine.check()) and engine.invariants_ok


def test_an_opening_buy_queued_while_closed_is_minted_after_the_restart() -> None:
    world, _ = inventory_world(SATURDAY)  # the opening buy waits at the broker for Monday's open
    supply = world.engine.chain.total_supply(world.engine.model(Symbol("AAPL")).listing.instrument.token)
    assert supply.value == 0
    engine = restart(world)
    world.at(NEXT_OPEN)
    token = engine.model(Symbol("AAPL")).listing.instrument.token
    assert engine.chain.total_supply(token).value == 150  # filled at the open, minted once
    assert placed(world) == ["inventory:AAPL:open"]
    assert all(b.holds for b in engine.check()) and engine.invariants_ok


KO = Symbol("KO")


def direct_world() -> tuple[World, Holder, Holder]:
    world = World.start(MONDAY, seed="restart", chain_kept=True)
    world.list("KO", ModelName.DIRECT, "direct-ownership", BUILDERS[ModelName.DIRECT])
    alice, bob = (
        world.investor(name, residence="CH", category=InvestorCategory.PROFESSIONAL)
        for name in ("alice", "bob")
    )
    world.engine.desk.whitelist(KO, [alice.investor, bob.investor])
    world.engine.issue_primary(
        KO, alice, Shares(100), Price("30"), acquired_at=ny(2010, 11, 1, 10, 0), regulation=Regulation.REG_S
    )
    return world, alice, bob


def test_a_direct_listing_resumes_its_register_and_its_resting_orders() -> None:
    world, alice, bob = direct_world()
    ask = world.engine.submit(world.sell(alice, "KO", "10", limit="37", tif=TimeInForce.GTC)).order
    world.at(MONDAY + timedelta(minutes=5))
    world.engine.submit(world.buy(bob, "KO", "4", limit="37.50"))  # part of the ask fills
    before = world.engine.model(KO)
    assert isinstance(before, DirectModel)
    table, book = before.cap_table, before.book
    engine = restart(world)
    model = engine.model(KO)
    assert isinstance(model, DirectModel)
    assert model.cap_table == table  # lot for lot, legends and holding periods included
    assert model.book == book and model.reconcile() == []
    world.at(MONDAY + timedelta(minutes=10))
    taken = engine.submit(world.buy(bob, "KO", "6", limit="37")).order  # meets the rest of the ask
    assert taken.state is OrderState.SETTLED
    assert engine.orders.order(ask.order_id).state is OrderState.SETTLED
    assert world.tokens("KO", bob) == 10 and model.reconcile() == []
    assert model.cap_table.balance_of(bob.wallet) == Shares(10)
    assert all(b.holds for b in engine.check()) and engine.invariants_ok


def test_a_primary_issue_after_a_restart_claims_its_own_mint() -> None:
    world, _, bob = direct_world()
    engine = restart(world)
    engine.issue_primary(KO, bob, Shares(50), Price("36"), regulation=Regulation.REG_S)
    model = engine.model(KO)
    assert isinstance(model, DirectModel)
    assert model.cap_table.balance_of(bob.wallet) == Shares(50) and model.reconcile() == []
    assert all(b.holds for b in engine.check())


def test_a_fresh_chain_cannot_resume_journaled_listings() -> None:
    world, _ = start()
    # the journal lists MSFT; the chain is a new in-process EVM
    platform = bootstrap(Settings(chain_seed="restart"), world.clock, store=world.store)
    with pytest.raises(DomainError) as lost:
        open_engine(platform, builders=BUILDERS)
    assert lost.value.code == "CHAIN_NOT_KEPT"


def test_a_model_that_cannot_resume_is_refused_not_reopened_half_way() -> None:
    world = World.start(MONDAY, seed="restart", chain_kept=True)
    world.list("KO", ModelName.DIRECT, "direct-ownership", MintOnFill)
    with pytest.raises(DomainError) as refused:
        restart(world, {ModelName.DIRECT: MintOnFill})
    assert refused.value.code == "RESTART_UNSUPPORTED"
