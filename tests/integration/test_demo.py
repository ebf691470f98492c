"""The foundation demo runs the real parts: its figures come from the calendar, prices, broker and books."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from equitoken.app.settings import Settings
from equitoken.cli.main import run
from equitoken.domain import Bps, DomainError, Price, Shares
from equitoken.simulation.trading_day import run_trading_day


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "state")


def test_black_friday_2012(settings: Settings) -> None:
    report = run_trading_day(settings, date(2012, 11, 23))
    assert report.early_close  # the day after Thanksgiving closes at 13:00 ET
    assert (report.session_close - report.session_open).total_seconds() == 3.5 * 3600
    fills = {r.order_id: r for r in report.rows if r.event == "filled at the broker"}
    assert set(fills) == {"d1-aapl-pre", "d1-ko-frac", "d1-aapl-sell", "d1-msft-lim", "d1-msft-ah"}
    # The pre-market order fills at the open, at the open's price plus the configured slippage.
    pre = fills["d1-aapl-pre"]
    assert pre.at == report.session_open and pre.reference is not None and pre.price is not None
    assert Price(pre.price) == Price(pre.reference).adjusted(settings.broker_slippage_bps)
    # The after-hours order waits for Monday's open: a different price, the weekend gap.
    after = fills["d1-msft-ah"]
    assert after.at.date() == date(2012, 11, 26) and after.reference != fills["d1-msft-lim"].reference
    # The resting limit order expired at the close, unfilled.
    assert any(r.order_id == "d1-ibm-lim" and r.status.startswith("cancelled") for r in report.rows)
    # T+3 in 2012; the books agree with the broker's custody, and every asset balances.
    assert all(p.custody_settled == p.broker_settled and p.in_flight_settled == 0 for p in report.positions)
    held = {p.symbol: p.custody_settled for p in report.positions}
    assert held == {"AAPL": Decimal(7), "IBM": Decimal(0), "KO": Decimal("2.5"), "MSFT": Decimal(24)}
    assert report.books_balance
    # Cash spent is what the fills cost, buys minus sells, each notional rounded as the broker does.
    signed = [
        (Price(r.price).notional(Shares(r.quantity)).amount, r.side)
        for r in report.rows
        if r.event == "filled at the broker" and r.price is not None and r.quantity is not None
    ]
    assert report.cash_spent == sum(n if side == "buy" else -n for n, side in signed)
    # At the closing bell the after-hours MSFT order has not filled: 20 in flight, not 24.
    msft = next(p for p in report.positions if p.symbol == "MSFT")
    assert msft.in_flight_end_of_day == 20 and msft.custody_settled == 24


def test_another_day_changes_the_numbers_not_the_rules(settings: Settings) -> None:
    friday = run_trading_day(settings, date(2012, 11, 23))
    split_day = run_trading_day(replace(settings, broker_slippage_bps=Bps(0)), date(2014, 6, 9))
    assert not split_day.early_close
    assert friday.cash_spent != split_day.cash_spent
    # With zero slippage every fill is at the reference price.
    assert all(r.price == r.reference for r in split_day.rows if r.event == "filled at the broker")
    assert [p.symbol for p in friday.positions] == [p.symbol for p in split_day.positions]


@pytest.mark.parametrize(
    ("day", "code"), [(date(2012, 11, 22), "NOT_A_TRADING_DAY"), (date(2011, 6, 1), "NO_PRICE_HISTORY")]
)
def test_a_bad_day_is_refused_and_changes_nothing(settings: Settings, day: date, code: str) -> None:
    run_trading_day(settings, date(2012, 11, 23))
    database = settings.data_dir / "demo.db"
    before = database.read_bytes()
    with pytest.raises(DomainError) as caught:
        run_trading_day(settings, day)
    assert caught.value.code == code
    assert database.read_bytes() == before


def test_the_demo_never_touches_the_configured_database(settings: Settings, tmp_path: Path) -> None:
    configured = tmp_path / "production.db"
    report = run_trading_day(replace(settings, database_url=f"sqlite:///{configured}"), date(2012, 11, 23))
    assert report.entries == 10 and not configured.exists()


def test_cli_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("EQUITOKEN_DATA_DIR", str(tmp_path))
    assert run(["replay-day", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["day"] == "2012-11-23" and shown["books_balance"] is True
    assert run(["replay-day", "--day", "23/11/2012"]) == 2
    assert "INVALID_DATE" in capsys.readouterr().err
