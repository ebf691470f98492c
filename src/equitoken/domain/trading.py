"""Order vocabulary shared by the broker port and the trading core, and the settlement-cycle rule."""

from __future__ import annotations

from datetime import date
from enum import StrEnum


class Side(StrEnum):
    """Which way an order trades."""

    BUY = "buy"
    SELL = "sell"


class OrderType(StrEnum):
    """How an order is priced."""

    MARKET = "market"
    LIMIT = "limit"


# US equities settle T+3 before 2017-09-05, T+2 until 2024-05-27, T+1 since 2024-05-28 (SEC rule 15c6-1).
_CYCLES: tuple[tuple[date, int], ...] = ((date(2024, 5, 28), 1), (date(2017, 9, 5), 2), (date.min, 3))


def settlement_cycle(trade_date: date) -> int:
    """Return the number of trading days from ``trade_date`` to settlement under the US rules then."""
    return next(days for since, days in _CYCLES if trade_date >= since)
