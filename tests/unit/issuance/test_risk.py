"""Risk limits: rolling notional windows per investor, symbol and desk, with exact boundary instants."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from equitoken.domain.errors import DomainError
from equitoken.domain.ids import InvestorId, OrderId, Symbol
from equitoken.domain.reasons import Reason
from equitoken.domain.trading import Side
from equitoken.domain.values import Bps, Money, Price
from equitoken.issuance.orders import Exposure, RiskBook, RiskLimits, band_refusal
from tests.unit.issuance.builders import AAPL, ALICE, BOB, MSFT, T0

US = timedelta(microseconds=1)


def exposure(
    key: str, notional: str, investor: InvestorId = ALICE, symbol: Symbol = AAPL, at: datetime = T0
) -> Exposure:
    return Exposure(OrderId.for_request("c", key), investor, symbol, Money(notional), at)


def test_the_window_is_rolling_and_half_open() -> None:
    book = RiskBook(RiskLimits(window=timedelta(hours=1), per_investor=Money(1000)))
    book.record(exposure("a", "600"))
    assert book.refusal(ALICE, AAPL, Money(400), T0) is None  # exactly the limit is allowed
    refusal = book.refusal(ALICE, AAPL, Money("400.000001"), T0)
    assert refusal is not None and refusal.code == Reason.NOTIONAL_LIMIT_EXCEEDED.name
    assert book.refusal(ALICE, AAPL, Money(500), T0 + timedelta(hours=1) - US) is not None
    assert book.refusal(ALICE, AAPL, Money(500), T0 + timedelta(hours=1)) is None  # aged out
    assert book.used(T0 - US) == Money(0)  # not yet booked


def test_limits_are_per_investor_per_symbol_and_global() -> None:
    limits = RiskLimits(per_investor=Money(1000), per_symbol=Money(1500), global_notional=Money(2000))
    book = RiskBook(limits)
    book.record(exposure("a", "900"))
    assert book.refusal(BOB, MSFT, Money(900), T0) is None
    assert book.refusal(ALICE, MSFT, Money(200), T0) is not None  # alice's own limit
    refusal = book.refusal(BOB, AAPL, Money(700), T0)
    assert refusal is not None and "symbol AAPL" in refusal.message
    book.record(exposure("b", "900", investor=BOB, symbol=MSFT))
    carol = InvestorId("carol")
    refusal = book.refusal(carol, MSFT, Money(300), T0)
    assert refusal is not None and "whole desk" in refusal.message
    assert book.used(T0, investor=carol) == Money(0)


def test_recording_the_same_order_twice_counts_once_and_old_exposure_can_be_forgotten() -> None:
    book = RiskBook(RiskLimits(window=timedelta(minutes=5)))
    book.record(exposure("a", "100"))
    book.record(exposure("a", "100"))
    book.record(exposure("b", "50", at=T0 + timedelta(minutes=3)))
    assert book.used(T0 + timedelta(minutes=3)) == Money(150)
    book.forget_before(T0 + timedelta(minutes=5))
    assert book.used(T0 + timedelta(minutes=3)) == Money(50)


def test_no_limit_means_no_refusal() -> None:
    book = RiskBook(RiskLimits())
    book.record(exposure("a", "1000000000"))
    assert book.refusal(ALICE, AAPL, Money("1000000000"), T0) is None


@pytest.mark.parametrize(
    ("side", "limit", "band", "refused"),
    [
        (Side.BUY, "101", Bps(100), False),
        (Side.BUY, "101.00000001", Bps(100), True),
        (Side.BUY, "50", Bps(100), False),  # a low buy limit is merely unlikely to fill
        (Side.SELL, "99", Bps(100), False),
        (Side.SELL, "98.99999999", Bps(100), True),
        (Side.SELL, "500", Bps(100), False),
        (Side.BUY, "1000", None, False),
    ],
)
def test_price_bands(side: Side, limit: str, band: Bps | None, refused: bool) -> None:
    refusal = band_refusal(side, Price(limit), Price(100), band)
    assert (refusal is not None) == refused
    if refusal is not None:
        assert refusal.code == "PRICE_OUTSIDE_BAND"


@pytest.mark.parametrize("kwargs", [{"window": timedelta(0)}, {"price_band": Bps(-1)}])
def test_bad_limits_are_refused(kwargs: dict[str, object]) -> None:
    with pytest.raises(DomainError):
        RiskLimits(**kwargs)  # type: ignore[arg-type]
