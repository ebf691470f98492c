"""An enforcement action retried under its idempotency key after a crash is carried out once.

A kill can land between journaling the intent and sending the transaction, or between the chain taking
it and the journal recording it. Each test builds exactly the state such a kill leaves — the intent on
the journal, the transaction on the chain or not — on the real engine (embedded EVM, ledger, store),
then retries under the same key and checks the chain moved once and the record says so.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from equitoken.app.enforcement import STREAM, Enforced, EnforcementIntended, EnforcementService
from equitoken.domain.errors import DomainError
from equitoken.domain.ids import content_hash
from equitoken.domain.instants import utc
from equitoken.issuance import journal
from equitoken.issuance.custody_events import CUSTODY_EVENTS, CustodyState
from equitoken.issuance.custody_events import STREAM as CUSTODY_STREAM
from equitoken.issuance.models import ModelName
from equitoken.issuance.models.base import Holder
from equitoken.issuance.orders import OrderState
from tests.corporate_actions.support import MSFT, Setup, setup

KEY = "officer:transfer-1"


def _request(key: str) -> str:
    return content_hash(f"enforcement:{key}")[:32]


def _intend(made: Setup, key: str) -> tuple[EnforcementIntended, Holder]:
    """Journal the intent of a forced transfer of 10 MSFT from alice to bob, as the first try did."""
    bob = made.holder("bob")
    engine = made.world.engine
    at = utc(engine.clock.now())
    intended = EnforcementIntended(
        at,
        _request(key),
        "forced-transfer",
        MSFT,
        "officer",
        "court order 12",
        made.alice.wallet,
        made.alice.investor,
        bob.wallet,
        bob.investor,
        Decimal("10"),
    )
    journal.append(engine.store, STREAM, f"intended:{intended.request}", at, intended)
    return intended, bob


def _transfer(made: Setup, bob: Holder, tokens: str = "10") -> Enforced:
    """Force ``tokens`` MSFT from alice to bob under ``KEY`` (a retry of the journaled intent)."""
    service = EnforcementService(made.world.engine, idempotency=KEY)
    return service.forced_transfer(
        MSFT, made.alice.investor, bob.investor, Decimal(tokens), "officer", "court order 12"
    )


@pytest.fixture
def made() -> Setup:
    return setup(ModelName.INSTANT, shares="100")


def test_a_kill_after_the_chain_took_it_is_matched_on_the_chain_not_sent_again(made: Setup) -> None:
    engine, world = made.world.engine, made.world
    _, bob = _intend(made, KEY)
    instrument = made.model.listing.instrument
    sent = engine.chain.forced_transfer(
        instrument, made.alice.wallet, bob.wallet, instrument.amount(Decimal("10"))
    )
    # ... and the kill: the journal never heard of the transaction.

    retried = _transfer(made, bob)

    assert retried.taken is not None and retried.taken.tx_hash == sent.tx_hash
    assert world.tokens("MSFT", made.alice) == Decimal("90")
    assert world.tokens("MSFT", bob) == Decimal("10")
    assert EnforcementService(engine).unfinished() == []
    assert world.backed()


def test_a_kill_before_the_send_sends_it_once_on_the_retry_and_a_third_try_replays(made: Setup) -> None:
    engine, world = made.world.engine, made.world
    intended, bob = _intend(made, KEY)
    # The kill came before the transaction left: the chain has nothing.

    first = _transfer(made, bob)
    again = _transfer(made, bob)

    assert first.taken is not None and again == first
    assert world.tokens("MSFT", made.alice) == Decimal("90")
    assert [a.intended.request for a in EnforcementService(engine).actions()] == [intended.request]
    assert world.backed()


def test_the_same_key_for_another_action_is_refused_and_nothing_moves(made: Setup) -> None:
    engine, world = made.world.engine, made.world
    _, bob = _intend(made, KEY)
    with pytest.raises(DomainError, match="IDEMPOTENCY_CONFLICT"):
        _transfer(made, bob, tokens="11")
    with pytest.raises(DomainError, match="IDEMPOTENCY_CONFLICT"):
        EnforcementService(engine, idempotency=KEY).pause(MSFT, "officer", "incident")
    assert world.tokens("MSFT", made.alice) == Decimal("100")


def test_without_a_key_two_calls_are_two_actions(made: Setup) -> None:
    world = made.world
    bob = made.holder("bob")
    tools = EnforcementService(world.engine)
    for _ in range(2):
        tools.forced_transfer(MSFT, made.alice.investor, bob.investor, Decimal("10"), "officer", "order")
    assert world.tokens("MSFT", made.alice) == Decimal("80")
    assert len(tools.actions(MSFT)) == 2


def test_a_recovered_investor_trades_from_its_new_wallet_after_a_restart(made: Setup) -> None:
    world, engine = made.world, made.world.engine
    new = engine.chain.wallet("alice-new")  # a wallet the platform keeps: not self-custody
    EnforcementService(engine, idempotency=KEY).recover(
        MSFT, made.alice.investor, made.alice.wallet, new, "officer", "lost device"
    )
    assert engine.custody_wallet(made.alice.investor) == new
    assert not engine.custody.settles_itself(new)
    restarted = CustodyState()  # the fold of the journal, as a restarted engine reads it
    for event in journal.read(engine.store, CUSTODY_STREAM, CUSTODY_EVENTS):
        restarted.apply(event)
    assert restarted.wallet_of(made.alice.investor) == new
    moved = Holder(made.alice.investor, new)
    assert world.tokens("MSFT", moved) == Decimal("100")
    sold = engine.submit(world.sell(moved, "MSFT", "10"))
    assert sold.order.state in (OrderState.FILLED, OrderState.SETTLED)
    assert world.tokens("MSFT", moved) == Decimal("90")
    assert world.backed()
