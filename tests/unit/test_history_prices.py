"""Bundled history on the as-traded basis, and the reference-price and staleness rule over it."""

from __future__ import annotations

import csv
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from equitoken.adapters.market.bar_files import (
    BUNDLED,
    BundledFile,
    bundled_bars,
    data_file,
    read_open_close,
    read_split_adjusted,
)
from equitoken.adapters.market.calendar import ExchangeCalendar
from equitoken.adapters.market.history import HistoryPriceSource
from equitoken.domain.errors import DomainError
from equitoken.domain.ids import Symbol
from equitoken.domain.market import (
    DailyBar,
    PriceBasis,
    interpolate,
    price_from_bar,
    staleness,
    undo_split_adjustment,
)
from equitoken.domain.values import Price

QUANDL = Path(__file__).resolve().parents[1] / "data" / "quandl_wiki_2014_AAPL_MSFT_raw.csv"
AAPL, KO, GME = Symbol("AAPL"), Symbol("KO"), Symbol("GME")


def z(text: str) -> datetime:
    return datetime.fromisoformat(text)


@pytest.fixture(scope="module")
def nyse() -> ExchangeCalendar:
    return ExchangeCalendar("XNYS", end=date(2029, 12, 31))


@pytest.fixture(scope="module")
def prices(nyse: ExchangeCalendar) -> HistoryPriceSource:
    return HistoryPriceSource(nyse, max_age_days=5)


def bar_of(symbol: Symbol, day: date) -> DailyBar:
    (found,) = [bar for bar in bundled_bars()[symbol] if bar.day == day]
    return found


def make_bar(day: date, open_: str, close: str, symbol: str = "TEST", **extra: Decimal) -> DailyBar:
    low, high = sorted((Decimal(open_), Decimal(close)))
    return DailyBar(Symbol(symbol), day, Price(open_), Price(high), Price(low), Price(close), 1000, **extra)


# -- the bundled data and its basis -----------------------------------------------------------------


def test_every_bundled_file_loads_with_its_symbol_and_range() -> None:
    history = bundled_bars()
    assert sorted(str(s) for s in history) == ["AAPL", "GME", "IBM", "KO", "MSFT"]
    for symbol in ("AAPL", "IBM", "KO", "MSFT"):
        bars = history[Symbol(symbol)]
        assert (len(bars), bars[0].day, bars[-1].day) == (754, date(2012, 1, 3), date(2014, 12, 31))
    assert (len(history[GME]), history[GME][-1].day) == (61, date(2021, 3, 31))


def test_aapl_is_as_traded_across_its_7_for_1_split() -> None:
    before, split_day = bar_of(AAPL, date(2014, 6, 6)), bar_of(AAPL, date(2014, 6, 9))
    assert before.close.amount == Decimal("645.57")
    assert split_day.close.amount == Decimal("93.70")
    assert (before.split_ratio, split_day.split_ratio) == (Decimal(1), Decimal(7))
    # Volume is back in as-traded shares too (the file multiplied it by 7).
    assert before.volume == 12_497_800
    assert bar_of(AAPL, date(2012, 8, 9)).dividend == Decimal("2.65")


def test_ko_is_as_traded_across_its_2_for_1_split_and_keeps_sub_cent_dividends() -> None:
    assert bar_of(KO, date(2012, 8, 10)).close.amount == Decimal("78.79")
    split_day = bar_of(KO, date(2012, 8, 13))
    assert (split_day.close.amount, split_day.split_ratio) == (Decimal("39.30"), Decimal(2))
    assert bar_of(KO, date(2012, 6, 13)).dividend == Decimal("0.51")
    assert bar_of(KO, date(2012, 9, 12)).dividend == Decimal("0.255")


def test_gme_keeps_its_2021_prices_and_body_bounds() -> None:
    squeeze = bar_of(GME, date(2021, 1, 27))
    assert squeeze.close.amount == Decimal("347.51")
    assert bar_of(GME, date(2021, 1, 5)).open.amount == Decimal("17.35")  # was 17.350000381469727
    for bar in bundled_bars()[GME]:
        assert bar.high == max(bar.open, bar.close) and bar.low == min(bar.open, bar.close)


def _quandl_rows() -> dict[tuple[str, date], dict[str, str]]:
    with QUANDL.open(newline="") as handle:
        return {(row["ticker"], date.fromisoformat(row["date"])): row for row in csv.DictReader(handle)}


def test_as_traded_bars_match_a_second_vendor_raw_prices() -> None:
    """Quandl WIKI keeps sub-penny prints (540.0375); every price agrees to within half a cent."""
    quandl = _quandl_rows()
    half_cent = Decimal("0.005")
    extremes_that_differ = []
    compared = 0
    for symbol in ("AAPL", "MSFT"):
        for bar in bundled_bars()[Symbol(symbol)]:
            row = quandl.get((symbol, bar.day))
            if row is None:
                continue
            compared += 1
            assert abs(bar.open.amount - Decimal(row["open"])) <= half_cent, (symbol, bar.day)
            assert abs(bar.close.amount - Decimal(row["close"])) <= half_cent, (symbol, bar.day)
            if symbol == "AAPL" and bar.day < date(2014, 6, 9):  # volume divided back by 7
                assert bar.volume == int(Decimal(row["volume"])), (symbol, bar.day)
            assert bar.dividend == Decimal(row["ex-dividend"]), (symbol, bar.day)
            assert bar.split_ratio == Decimal(row["split_ratio"]), (symbol, bar.day)
            for column in ("high", "low"):
                if abs(getattr(bar, column).amount - Decimal(row[column])) > half_cent:
                    extremes_that_differ.append((symbol, bar.day.isoformat(), column))
    assert compared == 2 * 252
    # The two vendors disagree on three intraday extremes (documented in data/ORIGIN.md).
    assert extremes_that_differ == [
        ("AAPL", "2014-09-19", "low"),
        ("AAPL", "2014-11-14", "low"),
        ("MSFT", "2014-11-11", "high"),
    ]


@pytest.mark.parametrize(
    "entry", [e for e in BUNDLED if e.reader is read_split_adjusted], ids=lambda e: e.symbol
)
def test_undoing_the_adjustment_lands_on_whole_cents(entry: BundledFile) -> None:
    """The cent rounding only removes the vendor's float noise: no row is more than 0.0001 off a cent."""
    rows = list(csv.DictReader(data_file(entry.filename).read_text().splitlines()))
    factor, worst = Decimal(1), Decimal(0)
    for row in reversed(rows):
        for column in ("open", "high", "low", "close"):
            raw = Decimal(row[column]) * factor
            worst = max(worst, abs(raw - raw.quantize(Decimal("0.01"))))
        factor *= Decimal(row["split"])
    assert worst < Decimal("0.0001")


def test_the_origin_table_ships_with_the_data() -> None:
    origin = data_file("ORIGIN.md").read_text(encoding="utf-8")
    for entry in BUNDLED:
        assert data_file(entry.filename).is_file()
        assert entry.filename.split("_")[0] in origin
    assert "Apache-2.0" in origin and "MIT" in origin and "as traded" in origin


# -- undoing split adjustment (pure) -----------------------------------------------------------------


def test_undo_split_adjustment_multiplies_by_every_later_split() -> None:
    days = [date(2020, 1, d) for d in (2, 3, 6, 7)]
    bars = [
        make_bar(days[0], "10.00", "10.00", dividend=Decimal("0.05")),
        make_bar(days[1], "10.00", "10.00", split_ratio=Decimal(2)),
        make_bar(days[2], "10.00", "10.00"),
        make_bar(days[3], "10.00", "10.00", split_ratio=Decimal(3)),
    ]
    raw = undo_split_adjustment(bars)
    assert [bar.close.amount for bar in raw] == [Decimal(60), Decimal(30), Decimal(30), Decimal(10)]
    assert [bar.volume for bar in raw] == [167, 333, 333, 1000]  # 1000/6 and 1000/3, rounded half-even
    assert raw[0].dividend == Decimal("0.30")
    assert [bar.split_ratio for bar in raw] == [1, 2, 1, 3]


def test_undo_split_adjustment_refuses_unordered_series() -> None:
    bars = [make_bar(date(2020, 1, 3), "1", "1"), make_bar(date(2020, 1, 2), "1", "1")]
    with pytest.raises(DomainError) as caught:
        undo_split_adjustment(bars)
    assert caught.value.code == "UNORDERED_BARS"


@given(
    closes=st.lists(st.decimals("1.00", "999.99", places=2), min_size=1, max_size=8),
    ratios=st.lists(st.sampled_from([Decimal(n) for n in ("1", "2", "3", "1.5", "7")]), min_size=8),
)
def test_readjusting_as_traded_bars_gives_back_the_adjusted_prices(
    closes: list[Decimal], ratios: list[Decimal]
) -> None:
    bars = [
        make_bar(date(2020, 1, 1) + timedelta(days=i), str(c), str(c), split_ratio=ratios[i])
        for i, c in enumerate(closes)
    ]
    raw = undo_split_adjustment(bars)
    factor = Decimal(1)
    for adjusted, traded in zip(reversed(bars), reversed(raw), strict=True):
        # Re-adjusting is exact up to the half-cent rounding of the as-traded price.
        assert abs(traded.close.amount - adjusted.close.amount * factor) <= Decimal("0.005")
        factor *= adjusted.split_ratio


# -- malformed data is refused with file and line ----------------------------------------------------

HEADER = "date,open,high,low,close,volume,dividend,split\n"
GOOD = "2012-01-03,10.0,11.0,9.5,10.5,100,0.0,1.0\n"


@pytest.mark.parametrize(
    ("body", "where", "words"),
    [
        (GOOD + "2012-01-04,abc,11.0,9.5,10.5,100,0.0,1.0\n", "line 3", "not a number"),
        (GOOD + "2012-13-04,10.0,11.0,9.5,10.5,100,0.0,1.0\n", "line 3", "not a YYYY-MM-DD"),
        (GOOD + "2012-01-04,10.0,11.0,9.5,10.5,-5,0.0,1.0\n", "line 3", "non-negative"),
        (GOOD + "2012-01-04,10.0,10.2,9.5,10.5,100,0.0,1.0\n", "line 3", "high"),
        (GOOD + "2012-01-04,10.0,11.0,9.5,10.5,100,0.0,0\n", "line 3", "positive ratio"),
        (GOOD + "2012-01-04,10.0,11.0,9.5,10.5,100,-1,1.0\n", "line 3", "negative"),
        (GOOD + "2012-01-04,10.0,11.0,9.5,0,100,0.0,1.0\n", "line 3", "greater than zero"),
        (GOOD + "2012-01-04,10.0,11.0,9.5,10.5,100\n", "line 3", "fields"),
        (GOOD + "2012-01-04,10.0,11.0,9.5,10.5,100,0.0,1.0,9\n", "line 3", "fields"),
        (GOOD + GOOD, "line 3", "does not follow"),
        (GOOD + "2012-01-04,10.0,,9.5,10.5,100,0.0,1.0\n", "line 3", "high is empty"),
    ],
)
def test_a_malformed_row_is_refused_naming_file_and_line(
    tmp_path: Path, body: str, where: str, words: str
) -> None:
    path = tmp_path / "XYZ_daily.csv"
    path.write_text(HEADER + body)
    with pytest.raises(DomainError) as caught:
        read_split_adjusted(path, Symbol("XYZ"))
    assert caught.value.code == "INVALID_MARKET_DATA"
    assert f"XYZ_daily.csv {where}" in caught.value.message
    assert words in caught.value.message


def test_a_missing_column_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "gme.csv"
    path.write_text("Date,Open,Volume\n2021-01-04,19.0,100\n")
    with pytest.raises(DomainError) as caught:
        read_open_close(path, GME)
    assert caught.value.message == "gme.csv line 1: missing column(s) Close"


def test_an_empty_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_text(HEADER)
    with pytest.raises(DomainError) as caught:
        read_split_adjusted(path, Symbol("XYZ"))
    assert "empty.csv holds no rows" in caught.value.message


def test_an_inconsistent_bar_is_refused_at_construction() -> None:
    with pytest.raises(DomainError) as caught:
        DailyBar(AAPL, date(2014, 1, 2), Price(10), Price(9), Price(8), Price(10), 5)
    assert caught.value.code == "INVALID_BAR"


def test_a_bar_on_a_non_trading_day_is_refused(nyse: ExchangeCalendar) -> None:
    sandy = make_bar(date(2012, 10, 29), "10", "10")
    with pytest.raises(DomainError) as caught:
        HistoryPriceSource(nyse, bars={sandy.symbol: [sandy]})
    assert caught.value.code == "INVALID_MARKET_DATA"
    assert "2012-10-29" in caught.value.message


# -- the reference-price rule -----------------------------------------------------------------------


def test_inside_a_session_the_price_moves_linearly_from_open_to_close(
    prices: HistoryPriceSource, nyse: ExchangeCalendar
) -> None:
    bar = bar_of(AAPL, date(2014, 6, 9))  # open 92.70, close 93.70, 13:30Z–20:00Z
    opening, closing = nyse.session_bounds(bar.day)
    at_open = prices.reference_price(AAPL, opening)
    assert (at_open.price, at_open.basis, at_open.stale) == (bar.open, PriceBasis.INTERPOLATED, False)
    midway = prices.reference_price(AAPL, opening + (closing - opening) / 2)
    assert midway.price.amount == Decimal("93.2")
    quarter = prices.reference_price(AAPL, opening + (closing - opening) / 4)
    assert quarter.price.amount == Decimal("92.95")
    at_close = prices.reference_price(AAPL, closing)
    assert (at_close.price, at_close.basis) == (bar.close, PriceBasis.LAST_CLOSE)


def test_outside_a_session_the_price_is_the_last_close(prices: HistoryPriceSource) -> None:
    friday_close = Decimal("645.57")
    for when in ("2014-06-06T23:00:00Z", "2014-06-07T12:00:00Z", "2014-06-09T12:00:00Z"):
        quote = prices.reference_price(AAPL, z(when))  # after hours, Saturday, Monday pre-market
        assert (quote.price.amount, quote.bar_day, quote.basis) == (
            friday_close,
            date(2014, 6, 6),
            PriceBasis.LAST_CLOSE,
        )
        assert quote.stale is False and quote.stale_reason is None


def test_a_closure_is_not_staleness(prices: HistoryPriceSource) -> None:
    quote = prices.reference_price(AAPL, z("2012-10-30T15:00:00Z"))  # Hurricane Sandy, day two
    assert (quote.bar_day, quote.stale) == (date(2012, 10, 26), False)


def test_after_the_history_ends_the_price_is_stale_and_says_why(prices: HistoryPriceSource) -> None:
    quote = prices.reference_price(AAPL, z("2015-01-02T15:00:00Z"))
    assert (quote.price.amount, quote.bar_day, quote.stale) == (Decimal("110.38"), date(2014, 12, 31), True)
    assert quote.stale_reason == (
        "no AAPL bar for the 2015-01-02 session, which opened at 2015-01-02T14:30:00Z; "
        "the latest bar is 2014-12-31"
    )
    # Before that session opened nothing was missing yet.
    assert prices.reference_price(AAPL, z("2015-01-02T14:29:59Z")).stale is False


def test_a_missing_bar_in_the_middle_makes_the_price_stale(nyse: ExchangeCalendar) -> None:
    monday, wednesday = make_bar(date(2014, 6, 9), "10", "11"), make_bar(date(2014, 6, 11), "12", "13")
    source = HistoryPriceSource(nyse, bars={monday.symbol: [monday, wednesday]})
    during_tuesday = source.reference_price(monday.symbol, z("2014-06-10T15:00:00Z"))
    assert (during_tuesday.price.amount, during_tuesday.basis) == (Decimal(11), PriceBasis.LAST_CLOSE)
    assert during_tuesday.stale is True
    assert "2014-06-10 session" in (during_tuesday.stale_reason or "")
    during_wednesday = source.reference_price(monday.symbol, z("2014-06-11T13:30:00Z"))
    assert (during_wednesday.price.amount, during_wednesday.stale) == (Decimal(12), False)


def test_a_long_closure_makes_the_price_stale_by_age(nyse: ExchangeCalendar) -> None:
    # After 2001-09-10 the NYSE stayed shut until 09-17: no session was missed, but the price aged.
    bar = make_bar(date(2001, 9, 10), "20", "21")
    strict = HistoryPriceSource(nyse, max_age_days=5, bars={bar.symbol: [bar]})
    lenient = HistoryPriceSource(nyse, max_age_days=7, bars={bar.symbol: [bar]})
    at = z("2001-09-16T12:00:00Z")  # 5 days 16 hours after the 09-10 close
    aged = strict.reference_price(bar.symbol, at)
    assert aged.stale is True
    assert aged.stale_reason == (
        "the TEST bar of 2001-09-10 closed more than 5 days before 2001-09-16T12:00:00Z"
    )
    assert lenient.reference_price(bar.symbol, at).stale is False
    assert strict.reference_price(bar.symbol, z("2001-09-15T12:00:00Z")).stale is False


def test_an_unknown_symbol_is_refused_listing_the_known_ones(prices: HistoryPriceSource) -> None:
    with pytest.raises(DomainError) as caught:
        prices.reference_price(Symbol("TSLA"), z("2014-06-09T15:00:00Z"))
    assert caught.value.code == "UNKNOWN_SYMBOL"
    assert caught.value.message.endswith("known symbols: AAPL, GME, IBM, KO, MSFT")
    with pytest.raises(DomainError):
        prices.bars(Symbol("TSLA"), date(2014, 1, 1), date(2014, 2, 1))


def test_before_the_first_bar_there_is_no_price(prices: HistoryPriceSource) -> None:
    with pytest.raises(DomainError) as caught:
        prices.reference_price(AAPL, z("2012-01-03T14:29:59Z"))
    assert caught.value.code == "NO_PRICE"
    assert "2012-01-03" in caught.value.message
    assert prices.reference_price(AAPL, z("2012-01-03T14:30:00Z")).price.amount == Decimal("409.40")


def test_a_naive_instant_is_refused(prices: HistoryPriceSource) -> None:
    with pytest.raises(DomainError) as caught:
        prices.reference_price(AAPL, datetime(2014, 6, 9, 15))
    assert caught.value.code == "NAIVE_DATETIME"


def test_a_negative_max_age_is_refused(nyse: ExchangeCalendar) -> None:
    with pytest.raises(DomainError) as caught:
        HistoryPriceSource(nyse, max_age_days=-1)
    assert caught.value.code == "INVALID_SETTING"


def test_bars_are_sliced_inclusively(prices: HistoryPriceSource) -> None:
    week = prices.bars(KO, date(2012, 8, 10), date(2012, 8, 14))
    assert [bar.day for bar in week] == [date(2012, 8, 10), date(2012, 8, 13), date(2012, 8, 14)]
    assert list(prices.bars(KO, date(2012, 8, 14), date(2012, 8, 10))) == []
    assert [str(s) for s in prices.symbols()] == ["AAPL", "GME", "IBM", "KO", "MSFT"]


# -- pure pieces of the rule -------------------------------------------------------------------------


def test_price_from_bar_refuses_an_instant_before_the_session() -> None:
    bar = make_bar(date(2014, 6, 9), "10", "11")
    session = (z("2014-06-09T13:30:00Z"), z("2014-06-09T20:00:00Z"))
    with pytest.raises(DomainError) as caught:
        price_from_bar(bar, session, None, z("2014-06-09T13:00:00Z"), 5)
    assert caught.value.code == "NO_PRICE"


def test_staleness_names_the_missed_session_first() -> None:
    bar = make_bar(date(2014, 6, 9), "10", "11")
    close = z("2014-06-09T20:00:00Z")
    following = (date(2014, 6, 10), z("2014-06-10T13:30:00Z"))
    assert staleness(bar, close, following, z("2014-06-10T13:29:59Z"), 5) is None
    assert "2014-06-10 session" in (staleness(bar, close, following, z("2014-06-10T13:30:00Z"), 5) or "")
    assert "more than 0 days" in (staleness(bar, close, None, z("2014-06-10T00:00:00Z"), 0) or "")


# -- properties over the real history -----------------------------------------------------------------

SYMBOLS = [Symbol(s) for s in ("AAPL", "IBM", "KO", "MSFT", "GME")]


def _bar_and_session(
    nyse: ExchangeCalendar, data: st.DataObject
) -> tuple[DailyBar, tuple[datetime, datetime]]:
    symbol = data.draw(st.sampled_from(SYMBOLS))
    bars = bundled_bars()[symbol]
    bar = bars[data.draw(st.integers(0, len(bars) - 1))]
    return bar, nyse.session_bounds(bar.day)


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_an_interpolated_price_lies_between_open_and_close(
    prices: HistoryPriceSource, nyse: ExchangeCalendar, data: st.DataObject
) -> None:
    bar, (opening, closing) = _bar_and_session(nyse, data)
    seconds = data.draw(st.integers(0, int((closing - opening).total_seconds()) - 1))
    quote = prices.reference_price(bar.symbol, opening + timedelta(seconds=seconds))
    low, high = sorted((bar.open, bar.close))
    assert (quote.basis, quote.bar_day, quote.stale) == (PriceBasis.INTERPOLATED, bar.day, False)
    assert low <= quote.price <= high


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_from_the_close_until_the_next_open_the_price_is_that_close(
    prices: HistoryPriceSource, nyse: ExchangeCalendar, data: st.DataObject
) -> None:
    bar, (_, closing) = _bar_and_session(nyse, data)
    next_open = nyse.next_open(closing)
    gap = int((next_open - closing).total_seconds())
    at = closing + timedelta(seconds=data.draw(st.integers(0, gap - 1)))
    quote = prices.reference_price(bar.symbol, at)
    assert (quote.price, quote.basis, quote.bar_day) == (bar.close, PriceBasis.LAST_CLOSE, bar.day)
    # Every gap between sessions is far shorter than five days, except after the last bar.
    last = bundled_bars()[bar.symbol][-1]
    assert quote.stale is False or bar is last


@given(
    open_=st.decimals("0.01", "5000", places=2),
    close=st.decimals("0.01", "5000", places=2),
    fraction=st.fractions(0, 1),
)
def test_interpolate_hits_both_ends_and_stays_between(
    open_: Decimal, close: Decimal, fraction: Fraction
) -> None:
    bar = make_bar(date(2014, 6, 9), str(open_), str(close))
    opening, closing = z("2014-06-09T13:30:00Z"), z("2014-06-09T20:00:00Z")
    span = int((closing - opening).total_seconds())
    at = opening + timedelta(seconds=round(span * fraction))
    price = interpolate(bar, opening, closing, at)
    assert min(open_, close) <= price.amount <= max(open_, close)
    assert interpolate(bar, opening, closing, opening).amount == open_
    assert interpolate(bar, opening, closing, closing).amount == close


def test_instants_are_normalised_to_utc(prices: HistoryPriceSource) -> None:
    quote = prices.reference_price(AAPL, z("2014-06-09T12:45:00-04:00"))
    assert quote.at == z("2014-06-09T16:45:00Z") and quote.at.tzinfo is UTC
    assert quote.price.amount == Decimal("93.2")
