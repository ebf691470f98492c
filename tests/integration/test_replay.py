"""The replay of 2012–2014's real splits and dividends through the three models, on real components.

One replay (about half a minute) is shared by the tests below: every listing backed at every check,
every symbol under every model within the stated tolerance of the directly held share, the splits
neutral to the last digit, direct ownership exact, and the figures the CLI prints.
"""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from equitoken.cli.corporate_actions import replay_json
from equitoken.cli.main import run
from equitoken.simulation.replay import TOLERANCE, ReplayReport, run_replay


@pytest.fixture(scope="module")
def report() -> ReplayReport:
    return run_replay()


def test_every_listing_stayed_backed_and_no_model_failed(report: ReplayReport) -> None:
    assert report.invariants_ok, report.invariant_breaks[:3]
    assert report.invariant_checks > 100
    assert report.failures == []


def test_every_symbol_under_every_model_tracks_the_direct_holding_within_the_tolerance(
    report: ReplayReport,
) -> None:
    assert {(t.symbol, t.model) for t in report.tracking} == {
        (s, m) for s in ("AAPL", "IBM", "KO", "MSFT") for m in ("direct", "inventory", "instant")
    }
    for tracking in report.tracking:
        assert tracking.within_tolerance, tracking
        assert Decimal(tracking.max_deviation_bps) <= TOLERANCE.value
    assert report.within_tolerance


def test_every_real_action_was_applied_under_every_model(report: ReplayReport) -> None:
    for model in ("direct", "inventory", "instant"):
        ids = {m.action_id for m in report.marks if m.model == model}
        assert "KO:split:2012-08-13" in ids and "AAPL:split:2014-06-09" in ids
        # quarterly dividends: AAPL from August 2012 (9), IBM, KO, MSFT every quarter (12 each)
        dividends = {i for i in ids if ":dividend:" in i}
        assert sum(i.startswith("AAPL") for i in dividends) == 10
        assert all(sum(i.startswith(s) for i in dividends) == 12 for s in ("IBM", "KO", "MSFT"))


def test_a_split_leaves_the_holders_value_unchanged_and_direct_ownership_is_exact(
    report: ReplayReport,
) -> None:
    for model in ("direct", "inventory", "instant"):
        marks = [m for m in report.marks if m.model == model]
        for n, mark in enumerate(marks):
            if mark.step != "split":
                continue
            before = next(m for m in reversed(marks[:n]) if m.symbol == mark.symbol)
            assert mark.deviation_bps == before.deviation_bps  # the multiplier neutralised the jump
    direct = [t for t in report.tracking if t.model == "direct"]
    assert all(Decimal(t.max_deviation_bps) == 0 for t in direct)
    assert {t.symbol: t.final_multiplier for t in direct} == {"AAPL": "7", "IBM": "1", "KO": "2", "MSFT": "1"}
    for tracking in report.tracking:
        if tracking.model != "direct":
            assert Decimal(tracking.final_multiplier) > {"AAPL": 7, "KO": 2}.get(tracking.symbol, 1)


def test_the_replay_runs_well_under_a_minute(report: ReplayReport) -> None:
    assert report.seconds < 60


def test_the_cli_prints_the_figures(report: ReplayReport, capsys: pytest.CaptureFixture[str]) -> None:
    data = json.loads(json.dumps(replay_json(report), default=str))
    assert data["invariants_ok"] is True and data["within_tolerance"] is True
    assert len(data["tracking"]) == 12 and data["marks"]
    assert run(["corporate-actions", "--help"]) == 0
    assert "replay" in capsys.readouterr().out
