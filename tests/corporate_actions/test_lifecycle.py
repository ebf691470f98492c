"""The instrument lifecycle: an action moves the version once; a repeat is a no-op; stale is refused."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from equitoken.adapters.market.calendar import ExchangeCalendar
from equitoken.corporate_actions.actions import CashDividend, Split, from_bar
from equitoken.corporate_actions.effects import (
    AdjustCustody,
    CancelOpenOrders,
    Distribute,
    ScheduleMultiplier,
    SnapshotHolders,
    Treatment,
)
from equitoken.corporate_actions.lifecycle import (
    INEXACT_MULTIPLIER,
    WRONG_INSTRUMENT,
    WRONG_VERSION,
    InstrumentVersion,
    apply,
    reinvested,
)
from equitoken.domain.errors import DomainError
from equitoken.domain.ids import Symbol
from equitoken.domain.market import DailyBar
from equitoken.domain.values import Bps, Price

AAPL = Symbol("AAPL")
SPLIT = Split("AAPL:split:2014-06-09", AAPL, Decimal(7), date(2014, 6, 9))
DIVIDEND = CashDividend(
    "AAPL:dividend:2014-08-07", AAPL, Decimal("0.47"), date(2014, 8, 7), date(2014, 8, 11), date(2014, 8, 25)
)


def test_a_split_moves_to_the_next_version_with_the_multiplied_multiplier_and_its_effects() -> None:
    start = InstrumentVersion(AAPL)
    outcome = apply(start, SPLIT, expected_version=1)
    assert outcome.version == InstrumentVersion(AAPL, 2, Decimal(7), frozenset({SPLIT.action_id}))
    cancel, custody, schedule = outcome.effects
    assert isinstance(cancel, CancelOpenOrders) and "7:1 split" in cancel.reason
    assert SPLIT.action_id in cancel.reason
    assert custody == AdjustCustody(AAPL, Decimal(7))
    assert schedule == ScheduleMultiplier(AAPL, Decimal(7), date(2014, 6, 9), 2)
    assert not outcome.repeated


def test_an_action_applied_twice_changes_nothing_the_second_time() -> None:
    once = apply(InstrumentVersion(AAPL), SPLIT, expected_version=1).version
    twice = apply(once, SPLIT, expected_version=1)  # a retry written against the old version
    assert twice.repeated and twice.effects == () and twice.version == once
    again = apply(once, SPLIT, expected_version=2)
    assert again.repeated and again.version == once


def test_an_action_written_against_another_version_is_refused() -> None:
    once = apply(InstrumentVersion(AAPL), SPLIT, expected_version=1).version
    with pytest.raises(DomainError) as refused:
        apply(once, DIVIDEND, expected_version=1)
    assert refused.value.code == WRONG_VERSION


def test_an_action_for_another_symbol_is_refused() -> None:
    with pytest.raises(DomainError) as refused:
        apply(InstrumentVersion(Symbol("KO")), SPLIT, expected_version=1)
    assert refused.value.code == WRONG_INSTRUMENT


@pytest.mark.parametrize(
    ("ratios", "expected"),
    [((7,), "7"), ((2,), "2"), (("0.25",), "0.25"), ((2, 7), "14"), ((7, "0.25"), "1.75")],
)
def test_splits_and_reverse_splits_compose_exactly(ratios: tuple[object, ...], expected: str) -> None:
    version = InstrumentVersion(AAPL)
    for n, ratio in enumerate(ratios):
        split = Split(f"s{n}", AAPL, Decimal(str(ratio)), date(2014, 6, 9 + n))
        version = apply(version, split, expected_version=version.version).version
    assert version.multiplier == Decimal(expected)
    assert version.version == 1 + len(ratios)


def test_a_multiplier_beyond_18_decimals_is_refused() -> None:
    version = InstrumentVersion(AAPL, 1, Decimal("0.000000000000000001"))
    with pytest.raises(DomainError) as refused:
        apply(version, Split("r", AAPL, Decimal("0.25"), date(2014, 1, 2)), expected_version=1)
    assert refused.value.code == INEXACT_MULTIPLIER


def test_a_dividend_keeps_the_multiplier_and_snapshots_then_distributes() -> None:
    outcome = apply(InstrumentVersion(AAPL), DIVIDEND, 1, treatment=Treatment.REINVEST, withholding=Bps(3000))
    assert outcome.version.multiplier == 1 and outcome.version.version == 2
    snapshot, distribute = outcome.effects
    assert snapshot == SnapshotHolders(AAPL, DIVIDEND.action_id, date(2014, 8, 11))
    assert distribute == Distribute(
        AAPL, DIVIDEND.action_id, Decimal("0.47"), Bps(3000), Treatment.REINVEST, date(2014, 8, 25)
    )
    raised = reinvested(outcome.version, Decimal("1.0035"))
    assert raised.version == 3 and raised.multiplier == Decimal("1.0035")
    with pytest.raises(DomainError):
        reinvested(raised, Decimal("1.001"))


@pytest.mark.parametrize("ratio", ["0", "-2", "1"])
def test_a_split_ratio_must_be_positive_and_not_one(ratio: str) -> None:
    with pytest.raises(DomainError) as refused:
        Split("x", AAPL, Decimal(ratio), date(2014, 6, 9))
    assert refused.value.code == "INVALID_SPLIT"


def test_split_labels() -> None:
    assert SPLIT.label == "7:1"
    assert Split("x", AAPL, Decimal("0.25"), date(2014, 6, 9)).label == "1:4"


def test_dividend_dates_and_precision_are_checked() -> None:
    with pytest.raises(DomainError):
        CashDividend("d", AAPL, Decimal("0.12345"), date(2014, 1, 2), date(2014, 1, 3), date(2014, 1, 4))
    with pytest.raises(DomainError):
        CashDividend("d", AAPL, Decimal("0.1"), date(2014, 1, 5), date(2014, 1, 3), date(2014, 1, 9))


def test_bars_announce_their_split_and_dividend_with_regular_way_record_dates() -> None:
    calendar = ExchangeCalendar()
    price = Price("90")
    bar = DailyBar(AAPL, date(2014, 6, 9), price, price, price, price, 1, Decimal("0.47"), Decimal(7))
    split, dividend = from_bar(bar, calendar)
    assert isinstance(split, Split) and split.ratio == 7 and split.ex_date == date(2014, 6, 9)
    assert isinstance(dividend, CashDividend)
    # 2014: T+3, so the record date is two trading days after the ex-date
    assert dividend.record_date == date(2014, 6, 11)
    assert dividend.pay_date == calendar.add_trading_days(date(2014, 6, 11), 10)
