"""``equitoken market status|price``: output for people and machines, one-line refusals with exit 2."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from equitoken.adapters.clock import ManualClock
from equitoken.app import bootstrap as bootstrap_module
from equitoken.app.settings import load_settings
from equitoken.cli import market as market_cli
from equitoken.cli.main import run


@pytest.fixture(autouse=True)
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Read no operator configuration: no EQUITOKEN_* variables, no ./equitoken.toml."""
    for name in list(os.environ):
        if name.startswith("EQUITOKEN_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, Any]:
    assert run([*argv, "--json"]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    data: dict[str, Any] = json.loads(captured.out)
    return data


def refusal(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    assert run(list(argv)) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1
    return lines[0]


def test_status_of_the_day_after_thanksgiving(capsys: pytest.CaptureFixture[str]) -> None:
    data = run_json(capsys, "market", "status", "--at", "2026-11-27T18:30:00Z")
    assert data == {
        "at": "2026-11-27T18:30:00Z",
        "open": False,
        "session": "after_hours",
        "early_close": True,
        "trading_day": "2026-11-27",
        "holiday": None,
        "next_open": "2026-11-30T14:30:00Z",
        "next_close": "2026-11-30T21:00:00Z",
        "calendar": "XNYS",
    }


def test_status_takes_any_offset_and_answers_in_utc(capsys: pytest.CaptureFixture[str]) -> None:
    data = run_json(capsys, "market", "status", "--at", "2012-10-29T11:00:00-04:00")
    assert (data["at"], data["open"], data["holiday"], data["trading_day"]) == (
        "2012-10-29T15:00:00Z",
        False,
        "Hurricane Sandy",
        None,
    )
    assert data["next_open"] == "2012-10-31T13:30:00Z"


def test_status_as_a_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["market", "status", "--at", "2026-11-30T15:00:00Z"]) == 0
    lines = capsys.readouterr().out.splitlines()
    table = dict(line.split(None, 1) for line in lines)
    assert table["open"] == "yes"
    assert table["session"] == "regular"
    assert table["holiday"] == "-"
    assert table["next_close"] == "2026-11-30T21:00:00Z"


def test_status_follows_the_extended_hours_settings(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    at = "2026-11-30T10:00:00Z"  # 05:00 in New York
    assert run_json(capsys, "market", "status", "--at", at)["session"] == "pre_market"
    monkeypatch.setenv("EQUITOKEN_PRE_MARKET_OPEN", "07:00")
    assert run_json(capsys, "market", "status", "--at", at)["session"] == "closed"


def test_without_at_the_platform_clock_gives_now(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = ManualClock(datetime.fromisoformat("2014-06-09T16:45:00Z"))

    def wired() -> bootstrap_module.Platform:
        return bootstrap_module.bootstrap(settings=load_settings({}), clock=clock)

    monkeypatch.setattr(market_cli, "bootstrap", wired)
    status = run_json(capsys, "market", "status")
    assert (status["at"], status["session"]) == ("2014-06-09T16:45:00Z", "regular")
    price = run_json(capsys, "market", "price", "AAPL")
    assert (price["at"], price["price"], price["basis"]) == ("2014-06-09T16:45:00Z", "93.20", "interpolated")


def test_price_at_the_close_before_the_aapl_split(capsys: pytest.CaptureFixture[str]) -> None:
    data = run_json(capsys, "market", "price", "aapl", "--at", "2014-06-07T12:00:00Z")
    assert data == {
        "symbol": "AAPL",
        "at": "2014-06-07T12:00:00Z",
        "price": "645.57",
        "currency": "USD",
        "basis": "last_close",
        "adjustment": "as_traded",
        "bar_day": "2014-06-06",
        "stale": False,
        "stale_reason": None,
    }


def test_an_interpolated_price_keeps_its_digits(capsys: pytest.CaptureFixture[str]) -> None:
    data = run_json(capsys, "market", "price", "AAPL", "--at", "2012-01-03T14:31:00Z")
    assert data["price"] == "409.40469231"


def test_a_stale_price_says_why(capsys: pytest.CaptureFixture[str]) -> None:
    data = run_json(capsys, "market", "price", "GME", "--at", "2021-04-06T15:00:00Z")
    assert (data["price"], data["bar_day"], data["stale"]) == ("189.82", "2021-03-31", True)
    assert "2021-04-01 session" in data["stale_reason"]


def test_price_as_a_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["market", "price", "KO", "--at", "2012-08-13T21:00:00Z"]) == 0
    table = dict(line.split(None, 1) for line in capsys.readouterr().out.splitlines())
    assert (table["price"], table["stale"], table["stale_reason"]) == ("39.30", "no", "-")


@pytest.mark.parametrize(
    ("argv", "line"),
    [
        (
            ["market", "status", "--at", "yesterday"],
            "equitoken: error INVALID_TIMESTAMP: 'yesterday' is not an ISO-8601 instant "
            "(e.g. 2026-11-27T18:30:00Z)",
        ),
        (
            ["market", "status", "--at", "2026-11-27T18:30:00"],
            "equitoken: error NAIVE_DATETIME: '2026-11-27T18:30:00' has no time zone; "
            "add Z or an offset like +00:00",
        ),
        (
            ["market", "price", "TSLA", "--at", "2014-06-09T15:00:00Z"],
            "equitoken: error UNKNOWN_SYMBOL: no price history for TSLA; "
            "known symbols: AAPL, GME, IBM, KO, MSFT",
        ),
        (
            ["market", "price", "A$B"],
            "equitoken: error INVALID_SYMBOL: 'A$B' is not a ticker symbol (e.g. AAPL, BRK.A)",
        ),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], argv: list[str], line: str
) -> None:
    assert refusal(capsys, *argv) == line


@pytest.mark.parametrize(
    ("argv", "code"),
    [
        (["market", "status", "--at", "1999-06-01T15:00:00Z"], "OUT_OF_CALENDAR_RANGE"),
        (["market", "price", "AAPL", "--at", "2011-12-30T15:00:00Z"], "NO_PRICE"),
        (["market", "price", "AAPL", "--at", "nonsense"], "INVALID_TIMESTAMP"),
    ],
)
def test_refusals_carry_their_reason_code(
    capsys: pytest.CaptureFixture[str], argv: list[str], code: str
) -> None:
    assert refusal(capsys, *argv).startswith(f"equitoken: error {code}: ")


def test_the_installed_command_runs_end_to_end(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EQUITOKEN_")}
    command = [sys.executable, "-m", "equitoken.cli.main", "market", "status", "--at", "2026-11-27T18:30:00Z"]
    done = subprocess.run(
        [*command, "--json"], capture_output=True, text=True, env=env, cwd=tmp_path, check=False, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["session"] == "after_hours"
    bad = subprocess.run(
        [*command[:-1], "not-a-time"], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120
    )
    assert bad.returncode == 2
    assert bad.stderr.startswith("equitoken: error INVALID_TIMESTAMP:")
