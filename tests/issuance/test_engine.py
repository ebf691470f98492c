"""The engine's own duties, shown with a small fake model (the real models have their own tests).

``MintOnFill`` fills every accepted order at the reference price by minting to the buyer (burning
from a seller) and booking the matching shares in custody, so it keeps the invariant; its switches
make it refuse, fail mid-order, fill only part, or break the backing on purpose.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

import pytest

from equitoken.compliance.investors import InvestorCategory
from equitoken.domain.errors import DomainError
from equitoken.domain.ids import Symbol
from equitoken.domain.market import MarketStatus, ReferencePrice
from equitoken.domain.trading import Side
from equitoken.domain.values import Money, Shares
from equitoken.issuance.models import Listing, ModelContext, ModelFill, ModelName
from equitoken.issuance.models.books import MARKET, burn, custody, investor_tokens, mint
from equitoken.issuance.orders import Fill, Order, OrderRequest, OrderState, TimeInForce
from equitoken.issuance.plans import Burn as PlannedBurn
from equitoken.issuance.plans import Leg, Plan, Plans
from equitoken.issuance.plans import Mint as PlannedMint
from equitoken.issuance.reasons import Refusal
from equitoken.ledger.entries import EntryDraft, move
from tests.issuance.world import World, ny

START = ny(2012, 11, 19, 10, 0)  # Monday, regular session


@dataclass
class MintOnFill:
    listing: Listing
    context: ModelContext
    refuse: Refusal | None = None
    fail: bool = False
    infrastructure: bool = False
    fraction: Decimal = Decimal(1)
    unbacked: bool = False
    withdrawn: list[Order] = field(default_factory=list)
    completed: list[Plan] = field(default_factory=list)

    @property
    def name(self) -> ModelName:
        return self.listing.model

    def open(self) -> None:
        return None

    def refusal(
        self, request: OrderRequest, reference: ReferencePrice, status: MarketStatus
    ) -> Refusal | None:
        return self.refuse

    @property
    def plan_events(self) -> tuple[type, ...]:
        return ()

    def execute(self, order: Order, reference: ReferencePrice, status: MarketStatus) -> Plans:
        if self.fail:
            raise DomainError("CHAIN_REVERT", "the fake chain said no")
        if self.infrastructure:  # as if the quote settled on chain, then the store went away
            raise DomainError("STORE_UNAVAILABLE", "the fake store is gone")
        remaining = order.remaining_shares()
        assert remaining is not None
        shares = Shares(remaining.value * self.fraction)
        instrument = self.listing.instrument
        holder = investor_tokens(order.request.investor, self.listing.symbol)
        register, share = custody(self.listing.symbol), self.listing.share
        amount = instrument.amount(shares.value)
        fill_id = f"{order.order_id}:{len(order.fills) + 1}"
        leg: Leg
        if order.request.side is Side.BUY:
            leg = PlannedMint(order.request.wallet, amount)
            tokens = mint(self.listing, holder, shares.value)
            registered = move(share, shares.value, debit=register, credit=MARKET)
        else:
            leg = PlannedBurn(order.request.wallet, amount)
            tokens = burn(self.listing, holder, shares.value)
            registered = move(share, shares.value, debit=MARKET, credit=register)
        postings = tokens if self.unbacked else (*tokens, *registered)
        at = self.context.clock.now()
        entry = EntryDraft(f"fill:{fill_id}", at, postings, "fake fill")
        fill = Fill(fill_id, shares, reference.price, at)
        made = ModelFill(order.order_id, fill, reference.price, Money(0), not status.open)
        outcome = yield Plan(fill_id, self.listing.symbol, (leg,), (entry,), fills=(made,))
        if outcome.failure is not None:
            raise outcome.failure

    def on_time(self, working: Sequence[Order]) -> Plans:
        yield from ()

    def complete(self, plan: Plan) -> None:
        self.completed.append(plan)

    def withdraw(self, order: Order) -> None:
        self.withdrawn.append(order)

    def capital_locked(self) -> Money:
        return Money(0)

    def pnl(self) -> Money:
        return Money(0)


def world_with_fake(policy: str = "tracker-certificate") -> tuple[World, MintOnFill]:
    world = World.start(START)
    made: list[MintOnFill] = []

    def build(listing: Listing, context: ModelContext) -> MintOnFill:
        made.append(MintOnFill(listing, context))
        return made[0]

    world.list("AAPL", ModelName.INVENTORY, policy, build)
    return world, made[0]


def test_an_accepted_order_is_executed_filled_settled_and_backed() -> None:
    world, _ = world_with_fake()
    alice = world.investor("alice")
    submission = world.engine.submit(world.buy(alice, "AAPL", "5"))
    assert submission.order.state is OrderState.SETTLED
    assert world.tokens("AAPL", alice) == Decimal(5)
    assert world.backed()
    assert [r.fill.fill.shares for r in world.engine.log.fills] == [Shares(5)]


def test_the_same_request_twice_fills_once() -> None:
    world, _ = world_with_fake()
    alice = world.investor("alice")
    request = world.buy(alice, "AAPL", "5", key="once")
    world.engine.submit(request)
    again = world.engine.submit(request)
    assert again.replayed and again.events == ()
    assert world.tokens("AAPL", alice) == Decimal(5)


def test_a_venue_refusal_is_journaled_as_the_rejection_and_nothing_moves() -> None:
    world, model = world_with_fake()
    alice = world.investor("alice")
    model.refuse = Refusal("INSUFFICIENT_FUNDS", "the fake says the cash is short")
    order = world.engine.submit(world.buy(alice, "AAPL", "5")).order
    assert order.state is OrderState.REJECTED
    assert order.rejection is not None and order.rejection.code == "INSUFFICIENT_FUNDS"
    received = next(e for e in world.store.events("orders") if e.type == "OrderReceived")
    assert received.payload["venue"]["code"] == "INSUFFICIENT_FUNDS"
    assert world.tokens("AAPL", alice) == 0


def test_a_model_that_fails_mid_order_leaves_it_cancelled_with_the_reason() -> None:
    world, model = world_with_fake()
    alice = world.investor("alice")
    model.fail = True
    order = world.engine.submit(world.buy(alice, "AAPL", "5")).order
    assert order.state is OrderState.CANCELLED
    assert model.withdrawn and model.withdrawn[0].order_id == order.order_id
    assert "CHAIN_REVERT" in world.engine.log.failures[0]
    assert world.backed()


def test_an_infrastructure_failure_mid_order_halts_the_listing_and_is_raised() -> None:
    # Regression (issue 10): a store failure after a chain leg was handled as a refusal, as if nothing
    # had moved. It is an InfrastructureError: the order closes, minting halts, the caller learns of it.
    from equitoken.domain.errors import InfrastructureError

    world, model = world_with_fake()
    alice = world.investor("alice")
    model.infrastructure = True
    with pytest.raises(InfrastructureError) as raised:
        world.engine.submit(world.buy(alice, "AAPL", "5"))
    assert raised.value.code == "STORE_UNAVAILABLE"
    assert Symbol("AAPL") in world.engine.halted()
    order = world.engine.orders.working()
    assert not [o for o in order if o.request.investor == alice]
    model.infrastructure = False
    refused = world.engine.submit(world.buy(alice, "AAPL", "1")).order
    assert refused.state is OrderState.REJECTED and refused.rejection is not None
    assert refused.rejection.code == "MINTING_HALTED"


def test_a_refusal_mid_order_does_not_halt() -> None:
    world, model = world_with_fake()
    model.fail = True
    world.engine.submit(world.buy(world.investor("alice"), "AAPL", "5"))
    assert Symbol("AAPL") not in world.engine.halted()


def test_an_ioc_remainder_expires_after_its_one_attempt() -> None:
    world, model = world_with_fake()
    alice = world.investor("alice")
    model.fraction = Decimal("0.4")
    order = world.engine.submit(world.buy(alice, "AAPL", "5", tif=TimeInForce.IOC)).order
    assert order.state is OrderState.EXPIRED
    assert order.filled_shares == Shares(2)
    assert model.withdrawn[-1].order_id == order.order_id


def test_a_day_order_expires_at_the_close_on_the_next_tick() -> None:
    world, model = world_with_fake()
    alice = world.investor("alice")
    model.fraction = Decimal("0.4")
    order = world.engine.submit(world.buy(alice, "AAPL", "5")).order
    assert order.state is OrderState.PARTIALLY_FILLED
    world.at(ny(2012, 11, 19, 16, 1))
    assert world.engine.orders.order(order.order_id).state is OrderState.EXPIRED
    assert model.withdrawn[-1].order_id == order.order_id


def test_a_break_in_the_backing_is_caught_after_the_command() -> None:
    world, model = world_with_fake()
    alice = world.investor("alice")
    model.unbacked = True
    world.engine.submit(world.buy(alice, "AAPL", "5"))
    assert not world.engine.invariants_ok
    assert any("AAPL" in sentence and "custody" in sentence for sentence in world.engine.log.breaks)


def test_an_unlisted_symbol_is_refused_before_anything_is_journaled() -> None:
    world, _ = world_with_fake()
    alice = world.investor("alice")
    with pytest.raises(DomainError) as refused:
        world.engine.submit(world.buy(alice, "MSFT", "5"))
    assert refused.value.code == "NOT_LISTED"
    assert list(world.store.events("orders")) == []


def test_listing_a_symbol_twice_is_refused() -> None:
    world, _ = world_with_fake()
    with pytest.raises(DomainError) as refused:
        world.list("AAPL", ModelName.INSTANT, "instant-execution", MintOnFill)
    assert refused.value.code == "ALREADY_LISTED"


def test_compliance_rejects_a_us_person_under_the_instant_policy_before_the_model_is_asked() -> None:
    world = World.start(START)
    world.list("MSFT", ModelName.INSTANT, "instant-execution", MintOnFill)
    us = world.investor("bob", residence="US", us_person=True, category=InvestorCategory.ACCREDITED)
    order = world.engine.submit(world.buy(us, "MSFT", "1")).order
    assert order.state is OrderState.REJECTED
    assert order.rejection is not None and order.rejection.code == "COUNTRY_NOT_ALLOWED"
    assert world.tokens("MSFT", us) == 0
