"""Corporate actions as values: a split (or reverse split) and a cash dividend, as announced.

An action names the symbol it applies to and carries a stable ``action_id`` (the key it is applied
once under). Dates are exchange trading days; the instants they stand for (the ex-date's regular
open, say) are the calendar's business, not the action's.

- ``Split(ratio)``: new shares per old share from the ex-date on — 7 for a 7:1 split, 2 for 2:1,
  ``0.25`` for a 1:4 reverse split. Positive, at most 9 decimals.
- ``CashDividend(per_share)``: USD per share, at most ``DIVIDEND_DECIMALS`` (4) places as declared
  (KO's 0.255); ``ex_date <= record_date <= pay_date``. Daily bars carry only the ex-date and the
  amount; ``from_bar`` derives the record date from the regular-way settlement rule of the day
  (ex-date = record date − (settlement cycle − 1) trading days) and puts the pay date ``pay_lag``
  trading days after it: real pay dates vary by issuer, and nothing here depends on the lag except
  the price a reinvestment buys at.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from equitoken.domain.errors import DomainError
from equitoken.domain.ids import Symbol
from equitoken.domain.market import DIVIDEND_DECIMALS, DailyBar
from equitoken.domain.trading import settlement_cycle
from equitoken.domain.values import SHARE_DECIMALS, canonical_decimal, decimals_of
from equitoken.ports.market import MarketCalendar

PAY_LAG_DAYS = 10
"""Trading days from the record date to the pay date when the data does not say (an assumption)."""


@dataclass(frozen=True, slots=True)
class Split:
    """``ratio`` new shares for each old share, from the ex-date's regular open."""

    action_id: str
    symbol: Symbol
    ratio: Decimal
    ex_date: date

    def __post_init__(self) -> None:
        _check_id(self.action_id)
        if not isinstance(self.ratio, Decimal) or not self.ratio.is_finite() or self.ratio <= 0:
            raise DomainError("INVALID_SPLIT", f"a split ratio is a positive Decimal, got {self.ratio!r}")
        if self.ratio == 1:
            raise DomainError("INVALID_SPLIT", "a split of ratio 1 changes nothing")
        if decimals_of(self.ratio) > SHARE_DECIMALS:
            raise DomainError("INVALID_SPLIT", f"split ratio {self.ratio} has more than 9 decimals")

    @property
    def label(self) -> str:
        """Return the split as people write it: ``7:1``, ``1:4``."""
        if self.ratio >= 1:
            return f"{canonical_decimal(self.ratio)}:1"
        inverse = Decimal(1) / self.ratio
        return f"1:{canonical_decimal(inverse.normalize())}"


@dataclass(frozen=True, slots=True)
class CashDividend:
    """``per_share`` USD on each share held at the record instant, paid on ``pay_date``."""

    action_id: str
    symbol: Symbol
    per_share: Decimal
    ex_date: date
    record_date: date
    pay_date: date

    def __post_init__(self) -> None:
        _check_id(self.action_id)
        amount = self.per_share
        if not isinstance(amount, Decimal) or not amount.is_finite() or amount <= 0:
            raise DomainError("INVALID_DIVIDEND", f"a dividend is a positive Decimal, got {amount!r}")
        if decimals_of(amount) > DIVIDEND_DECIMALS:
            raise DomainError(
                "INVALID_DIVIDEND", f"dividend {amount} has more than {DIVIDEND_DECIMALS} decimals"
            )
        if not self.ex_date <= self.record_date <= self.pay_date:
            raise DomainError(
                "INVALID_DIVIDEND",
                f"dates must run ex {self.ex_date} ≤ record {self.record_date} ≤ pay {self.pay_date}",
            )


CorporateAction = Split | CashDividend


def _check_id(action_id: str) -> None:
    if not isinstance(action_id, str) or not action_id.strip() or len(action_id) > 96:
        raise DomainError("INVALID_ACTION_ID", f"an action id is 1–96 characters, got {action_id!r}")


def split_id(symbol: Symbol, ex_date: date) -> str:
    """Return the stable id of ``symbol``'s split going ex on ``ex_date``."""
    return f"{symbol}:split:{ex_date.isoformat()}"


def dividend_id(symbol: Symbol, ex_date: date) -> str:
    """Return the stable id of ``symbol``'s cash dividend going ex on ``ex_date``."""
    return f"{symbol}:dividend:{ex_date.isoformat()}"


def from_bar(bar: DailyBar, calendar: MarketCalendar, pay_lag: int = PAY_LAG_DAYS) -> list[CorporateAction]:
    """Return the actions a daily bar announces (a split first: it applies at the open, before trading)."""
    found: list[CorporateAction] = []
    if bar.split_ratio != 1:
        found.append(Split(split_id(bar.symbol, bar.day), bar.symbol, bar.split_ratio, bar.day))
    if bar.dividend > 0:
        record = calendar.add_trading_days(bar.day, settlement_cycle(bar.day) - 1)
        pay = calendar.add_trading_days(record, pay_lag)
        found.append(
            CashDividend(dividend_id(bar.symbol, bar.day), bar.symbol, bar.dividend, bar.day, record, pay)
        )
    return found
