"""What the engine does when things go wrong part-way: the review's scenarios, kept as regressions.

Each test is a failure a real platform meets — a crash mid-order, an order that expires before the
next tick, a refused leg of an ATS trade, a partial hedge, an investor who loses eligibility while an
order rests — and checks that the order record, the chain and the books still tell one story.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import pytest

from equitoken.compliance.book import ChangeKyc
from equitoken.compliance.kyc import KycState
from equitoken.domain.errors import DomainError
from equitoken.domain.ids import Symbol
from equitoken.domain.trading import Side
from equitoken.domain.values import Money, Shares
from equitoken.issuance.models import ModelName
from equitoken.issuance.models.books import investor_tokens
from equitoken.issuance.models.instant import InstantSettings, build_instant_model
from equitoken.issuance.models.instant_book import Commitment, ExposureBook, hedge_for
from equitoken.issuance.orders import OrderState, TimeInForce
from tests.issuance.test_direct import START as DIRECT_START
from tests.issuance.test_direct import holder, issue, listed
from tests.issuance.world import World, ny

MSFT = Symbol("MSFT")


def instant_world(at: Any) -> tuple[World, Any]:
    world = World.start(at)
    model = world.list(
        "MSFT",
        ModelName.INSTANT,
        "instant-execution",
        partial(build_instant_model, settings=InstantSettings()),
    )
    return world, model


def test_an_ioc_whose_attempt_crashed_is_closed_and_never_filled_later() -> None:
    world, model = instant_world(ny(2012, 11, 19, 10, 0))
    alice = world.investor("alice")
    request = world.buy(alice, "MSFT", "10", tif=TimeInForce.IOC, key="ioc-1")
    real = model.execute

    def crash(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("the process died before the quote was sent")

    model.execute = crash
    with pytest.raises(RuntimeError):
        world.engine.submit(request)
    model.execute = real
    retry = world.engine.submit(request)
    assert retry.replayed and retry.order.state is OrderState.CANCELLED
    assert MSFT in world.engine.halted()  # what moved is unknown: no new tokens until reconciled
    world.at(ny(2012, 11, 21, 15, 0))
    assert world.engine.orders.order(retry.order.order_id).fills == ()
    assert world.tokens("MSFT", alice) == 0


def test_a_day_order_that_expired_at_an_early_close_is_not_filled_by_the_next_tick() -> None:
    world, _ = instant_world(ny(2012, 11, 23, 10, 0))  # Friday after Thanksgiving: close at 13:00
    alice = world.investor("alice")
    world.engine.submit(world.buy(alice, "MSFT", "10", tif=TimeInForce.IOC))
    resting = world.engine.submit(world.sell(alice, "MSFT", "10", limit="27.60")).order
    assert resting.state is OrderState.ACCEPTED  # the limit is above the price in session
    world.at(ny(2012, 11, 23, 14, 0))  # after the close the last close makes the limit marketable
    order = world.engine.orders.order(resting.order_id)
    assert order.state is OrderState.EXPIRED and order.fills == ()
    assert world.tokens("MSFT", alice) == 10 and world.engine.log.failures == []
    assert world.backed()


def test_an_ats_trade_whose_cash_leg_fails_moves_nothing_and_the_maker_still_rests() -> None:
    world = World.start(DIRECT_START)
    model = listed(world)
    sam, bea, cyd = holder(world, "sam"), holder(world, "bea"), holder(world, "cyd")
    issue(world, sam, "100")
    ask = world.engine.submit(world.sell(sam, "KO", "5", limit="37", tif=TimeInForce.GTC)).order
    chain = world.engine.chain
    real = chain.transfer

    def refuse_bea(token: Any, sender: Any, receiver: Any, amount: Any) -> Any:
        if token == world.engine.stablecoin and sender == bea.wallet:
            raise DomainError("CHAIN_ERROR", "the stablecoin refused the transfer")
        return real(token, sender, receiver, amount)

    chain.transfer = refuse_bea  # type: ignore[method-assign,assignment]
    taken = world.engine.submit(world.buy(bea, "KO", "5", tif=TimeInForce.IOC)).order
    chain.transfer = real  # type: ignore[method-assign]
    assert taken.fills == () and world.tokens("KO", bea) == 0 and world.tokens("KO", sam) == 100
    assert [o.order_id for o in model.book] == [ask.order_id]  # still resting, whole
    later = world.engine.submit(world.buy(cyd, "KO", "5", tif=TimeInForce.IOC)).order
    assert later.state is OrderState.SETTLED
    assert world.tokens("KO", sam) == 95 and world.tokens("KO", cyd) == 5
    ledger = world.balance(investor_tokens(sam.investor, model.listing.symbol), model.listing.token)
    assert ledger == 95 and world.backed()


def test_a_partial_hedge_gives_back_the_unfilled_part_with_its_share_of_the_value() -> None:
    book = ExposureBook()
    commitment = Commitment("f1", Side.BUY, Shares(3), Money("100"))
    book.commit(commitment)
    hedge = hedge_for("hedge-1", book.take([commitment]))
    assert hedge is not None
    book.open(hedge)
    book.fill("hedge-1", "F1", Shares(1), Money("33"))
    filled = book.release("hedge-1")
    assert filled is not None and filled.shares == Shares(1)
    (rest,) = book.unhedged
    assert rest.shares == Shares(2)
    # 2/3 of 100 is not exact: the rest is rounded half-even, the filled part takes what is left.
    assert rest.reference_value == Money("66.666667")
    assert filled.commitments[0].reference_value + rest.reference_value == Money("100")


def test_a_resting_order_of_an_investor_who_lost_eligibility_is_cancelled_with_the_reason() -> None:
    world, _ = instant_world(ny(2012, 11, 19, 10, 0))
    alice = world.investor("alice")
    resting = world.engine.submit(world.buy(alice, "MSFT", "5", limit="26.00", tif=TimeInForce.GTC)).order
    assert resting.state is OrderState.ACCEPTED
    world.engine.desk.investors.execute(
        ChangeKyc(alice.investor, world.clock.now(), KycState.SUSPENDED, reason="adverse media review")
    )
    world.at(ny(2012, 11, 19, 11, 0))
    order = world.engine.orders.order(resting.order_id)
    assert order.state is OrderState.CANCELLED and world.tokens("MSFT", alice) == 0
    ended = next(e for e in world.store.events("orders") if e.type == "OrderCancelled")
    assert ended.payload["reason"].startswith("RECIPIENT_NOT_VERIFIED")
