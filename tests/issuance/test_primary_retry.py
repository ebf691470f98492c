"""A keyed primary issue retried after a crash is minted and booked once (``app.primary``).

Each test builds the state a kill leaves at one point of the first try — its terms journaled; its
holding recorded and minted; its mint booked but not marked — on the real engine (embedded EVM,
ledger, store), retries under the same key, and checks one holding, one mint, one payment.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from equitoken.app import primary
from equitoken.compliance.actions import Regulation
from equitoken.domain.errors import DomainError
from equitoken.domain.values import Price, Shares
from equitoken.issuance.models import ModelName
from equitoken.issuance.models.base import Holder
from tests.corporate_actions.support import MSFT, Setup, setup

KEY = "operator:issue-bob-1"
SHARES, PRICE = Shares("40"), Price("27")


@pytest.fixture
def made() -> Setup:
    return setup(ModelName.DIRECT, shares="100")


def _asked(made: Setup, bob: Holder, position: int | None = None) -> primary.PrimaryIssueAsked:
    """Journal the first try's terms, as it did before minting."""
    engine = made.world.engine
    at = engine.clock.now().replace(microsecond=0)
    holdings = len(engine.desk.instruments.book.get(MSFT).holdings)
    asked = primary.PrimaryIssueAsked(
        KEY,
        MSFT,
        bob.investor,
        bob.wallet,
        SHARES,
        PRICE,
        at,
        Regulation.REG_S,
        holdings if position is None else position,
    )
    primary.ask(engine.store, asked)
    return asked


def _issue(made: Setup, bob: Holder, shares: Shares = SHARES) -> object:
    return made.world.engine.issue_primary(MSFT, bob, shares, PRICE, regulation=Regulation.REG_S, key=KEY)


def _one_issue(made: Setup, bob: Holder, cash_before: Decimal) -> None:
    world, engine = made.world, made.world.engine
    assert world.tokens("MSFT", bob) == Decimal("40")
    assert world.cash(bob).amount == cash_before - Decimal("1080")  # 40 × 27, paid once
    held = [h for h in engine.desk.instruments.book.get(MSFT).holdings if h.wallet == bob.wallet]
    assert len(held) == 1
    assert primary.find(engine.store, KEY) is not None and primary.find(engine.store, KEY).booked  # type: ignore[union-attr]
    assert world.backed() and engine.halted() == {}


def test_a_kill_before_the_mint_mints_once_on_the_retry(made: Setup) -> None:
    bob = made.holder("bob")
    cash = made.world.cash(bob).amount
    _asked(made, bob)
    _issue(made, bob)
    _issue(made, bob)  # and a third try answers from the record
    _one_issue(made, bob, cash)


def test_a_kill_after_the_mint_books_the_mint_on_chain_and_mints_no_more(made: Setup) -> None:
    bob = made.holder("bob")
    cash = made.world.cash(bob).amount
    asked = _asked(made, bob)
    made.world.engine.desk.issue(
        MSFT, bob.wallet, SHARES, acquired_at=asked.acquired_at, regulation=Regulation.REG_S
    )
    # ... the kill: the mint is on chain and the holding on record; nothing is booked.
    _issue(made, bob)
    _one_issue(made, bob, cash)


def test_a_kill_after_the_booking_answers_the_retry_without_a_second_issue(made: Setup) -> None:
    bob = made.holder("bob")
    cash = made.world.cash(bob).amount
    engine = made.world.engine
    position = len(engine.desk.instruments.book.get(MSFT).holdings)
    at = engine.issue_primary(MSFT, bob, SHARES, PRICE, regulation=Regulation.REG_S)
    primary.ask(
        engine.store,
        primary.PrimaryIssueAsked(
            KEY, MSFT, bob.investor, bob.wallet, SHARES, PRICE, at, Regulation.REG_S, position
        ),
    )
    # ... the kill came after the booking, before it was marked booked.
    _issue(made, bob)
    _one_issue(made, bob, cash)


def test_the_same_key_with_other_terms_is_refused_and_nothing_is_issued(made: Setup) -> None:
    bob = made.holder("bob")
    _asked(made, bob)
    with pytest.raises(DomainError, match="IDEMPOTENCY_CONFLICT"):
        _issue(made, bob, shares=Shares("41"))
    assert made.world.tokens("MSFT", bob) == 0
