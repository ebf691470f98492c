"""Read daily bars from CSV files, and the catalogue of real history bundled with the package.

Every bar leaves here on the **as-traded** basis (see ``domain.market``):

* ``*_daily_div_split.csv`` (zipline ``csvdir`` layout: ``date,open,high,low,close,volume,dividend,split``)
  are split-adjusted — prices and dividends divided, volume multiplied by every later split. They
  are converted back by ``undo_split_adjustment``: prices rounded to the cent, dividends to 4 places.
* ``gme_2021q1_daily.csv`` (``Date,Open,Close,Volume``) is already as traded in 2021 (before GME's
  2022 4:1 split). It has no high or low, so each bar's high and low are the larger and smaller of
  its open and close — the bounds of the candle body, the least the data proves.

Any malformed row is refused with ``INVALID_MARKET_DATA`` naming the file and line: prices are never
guessed or repaired.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from equitoken.domain.errors import DomainError
from equitoken.domain.ids import Symbol
from equitoken.domain.market import CENT, DailyBar, undo_split_adjustment
from equitoken.domain.values import Price, to_decimal

SPLIT_ADJUSTED_COLUMNS = ("date", "open", "high", "low", "close", "volume", "dividend", "split")
OPEN_CLOSE_COLUMNS = ("Date", "Open", "Close", "Volume")

Source = Path | Traversable


class _Row:
    """One CSV row with its file and line, so every complaint can say where it comes from."""

    def __init__(self, where: str, values: Mapping[str, str]) -> None:
        self.where = where
        self.values = values

    def error(self, problem: str) -> DomainError:
        return DomainError("INVALID_MARKET_DATA", f"{self.where}: {problem}")

    def text(self, column: str) -> str:
        value = self.values.get(column)
        if value is None or not value.strip():
            raise self.error(f"{column} is empty")
        return value.strip()

    def day(self, column: str) -> date:
        text = self.text(column)
        try:
            return date.fromisoformat(text)
        except ValueError:
            raise self.error(f"{column} {text!r} is not a YYYY-MM-DD date") from None

    def number(self, column: str) -> Decimal:
        try:
            return to_decimal(self.text(column), column)
        except DomainError as error:
            raise self.error(error.message) from None

    def price(self, column: str, tick: Decimal | None = None) -> Price:
        number = self.number(column)
        if tick is not None:
            number = number.quantize(tick)
        try:
            return Price(number)
        except DomainError as error:
            raise self.error(f"{column}: {error.message}") from None

    def volume(self, column: str) -> int:
        number = self.number(column)
        if number < 0 or number != number.to_integral_value():
            raise self.error(f"{column} {number} is not a whole, non-negative number of shares")
        return int(number)


def _rows(source: Source, columns: Sequence[str]) -> Iterator[_Row]:
    name = source.name
    try:
        text = source.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise DomainError("INVALID_MARKET_DATA", f"{name}: cannot be read ({error})") from None
    reader = csv.DictReader(text.splitlines())
    missing = [c for c in columns if c not in (reader.fieldnames or ())]
    if missing:
        raise DomainError("INVALID_MARKET_DATA", f"{name} line 1: missing column(s) {', '.join(missing)}")
    for values in reader:
        where = f"{name} line {reader.line_num}"
        if None in values or any(v is None for v in values.values()):
            expected = len(reader.fieldnames or ())
            raise DomainError("INVALID_MARKET_DATA", f"{where}: expected {expected} fields")
        yield _Row(where, values)


def _bar(row: _Row, build: Callable[[], DailyBar]) -> DailyBar:
    try:
        return build()
    except DomainError as error:
        if error.code == "INVALID_MARKET_DATA":
            raise
        raise row.error(error.message) from None


def _ascending(bars: list[DailyBar], rows: list[_Row], source: Source) -> list[DailyBar]:
    if not bars:
        raise DomainError("INVALID_MARKET_DATA", f"{source.name} holds no rows")
    for i in range(1, len(bars)):
        if bars[i].day <= bars[i - 1].day:
            raise rows[i].error(f"{bars[i].day} does not follow {bars[i - 1].day}: rows must ascend by date")
    return bars


def read_split_adjusted(source: Source, symbol: Symbol) -> list[DailyBar]:
    """Read a zipline ``csvdir`` file (split-adjusted) and return its bars on the as-traded basis."""
    bars: list[DailyBar] = []
    rows = list(_rows(source, SPLIT_ADJUSTED_COLUMNS))
    for row in rows:

        def build(row: _Row = row) -> DailyBar:
            dividend = row.number("dividend")
            split = row.number("split")
            if dividend < 0:
                raise row.error(f"dividend {dividend} is negative")
            if split <= 0:
                raise row.error(f"split {split} must be a positive ratio (1 when there is none)")
            return DailyBar(
                symbol=symbol,
                day=row.day("date"),
                open=row.price("open"),
                high=row.price("high"),
                low=row.price("low"),
                close=row.price("close"),
                volume=row.volume("volume"),
                dividend=dividend,
                split_ratio=split,
            )

        bars.append(_bar(row, build))
    return undo_split_adjustment(_ascending(bars, rows, source), tick=CENT)


def read_open_close(source: Source, symbol: Symbol, tick: Decimal = CENT) -> list[DailyBar]:
    """Read an as-traded ``Date,Open,Close,Volume`` file; high and low become the body's bounds."""
    bars: list[DailyBar] = []
    rows = list(_rows(source, OPEN_CLOSE_COLUMNS))
    for row in rows:

        def build(row: _Row = row) -> DailyBar:
            # Rounded to the tick: the vendor stored cents as binary floats (17.350000381469727).
            first, last = row.price("Open", tick), row.price("Close", tick)
            return DailyBar(
                symbol=symbol,
                day=row.day("Date"),
                open=first,
                high=max(first, last),
                low=min(first, last),
                close=last,
                volume=row.volume("Volume"),
            )

        bars.append(_bar(row, build))
    return _ascending(bars, rows, source)


@dataclass(frozen=True, slots=True)
class BundledFile:
    """One history file shipped in ``adapters/market/data`` and how to read it."""

    symbol: str
    filename: str
    reader: Callable[[Source, Symbol], list[DailyBar]]


BUNDLED: tuple[BundledFile, ...] = (
    BundledFile("AAPL", "AAPL_2012_2014_daily_div_split.csv", read_split_adjusted),
    BundledFile("IBM", "IBM_2012_2014_daily_div_split.csv", read_split_adjusted),
    BundledFile("KO", "KO_2012_2014_daily_div_split.csv", read_split_adjusted),
    BundledFile("MSFT", "MSFT_2012_2014_daily_div_split.csv", read_split_adjusted),
    BundledFile("GME", "gme_2021q1_daily.csv", read_open_close),
)
"""The real history the package ships (origins and licences: ``data/ORIGIN.md``)."""


def data_file(filename: str) -> Traversable:
    """Return a bundled data file (works from a wheel as well as from a source checkout)."""
    return resources.files("equitoken.adapters.market").joinpath("data", filename)


@lru_cache(maxsize=1)
def bundled_bars() -> dict[Symbol, tuple[DailyBar, ...]]:
    """Return the bundled history, as-traded, by symbol (read once per process; bars are immutable)."""
    return {
        Symbol(entry.symbol): tuple(entry.reader(data_file(entry.filename), Symbol(entry.symbol)))
        for entry in BUNDLED
    }
