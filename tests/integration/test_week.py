"""The scripted week (``make demo``) over the real parts: its figures come from the engine, not constants."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from equitoken.app.settings import Settings
from equitoken.cli.main import run
from equitoken.domain.errors import DomainError
from equitoken.simulation.week import WeekReport, run_week

KEYS = {
    "orders_filled",
    "orders_rejected",
    "fills_off_hours",
    "median_fill_seconds",
    "tracking_error_bps",
    "capital_locked_usd",
    "pnl_usd",
    "fees_usd",
    "amm_swap_ok",
    "invariants_ok",
}


@pytest.fixture(scope="module")
def week(tmp_path_factory: pytest.TempPathFactory) -> WeekReport:
    return run_week(Settings(data_dir=tmp_path_factory.mktemp("week")), "equitoken")


def test_every_model_traded_and_stayed_backed(week: WeekReport) -> None:
    assert set(week.models) == {"inventory", "instant", "direct"}
    for score in week.models.values():
        assert score.orders_filled > 0 and score.invariants_ok
    assert week.invariant_breaks == [] and week.failures == []
    assert week.invariant_checks > week.orders  # one check after every command, ticks included
    assert week.reconciliations >= 3 * 6 and week.reconciliation_breaks == []  # each close and the end
    assert set(week.collateral.values()) == {"1"} or all(
        v in ("1", "1.000000") for v in week.collateral.values()
    )


def test_the_models_differ_where_the_architectures_do(week: WeekReport) -> None:
    inventory, instant, direct = (week.models[m] for m in ("inventory", "instant", "direct"))
    # Only the freely transferable tracker token works in an AMM pool with a non-KYC wallet.
    assert inventory.amm_swap_ok and not instant.amm_swap_ok and not direct.amm_swap_ok
    assert "RECIPIENT_NOT_VERIFIED" in instant.amm_detail
    # The ATS locks no capital; the inventory and the buffer do.
    assert direct.capital_locked_usd.is_zero()
    assert inventory.capital_locked_usd.amount > 0 and instant.capital_locked_usd.amount > 0
    # The platform trades 24/7: off-hours fills happen under the models that fill off-hours.
    assert inventory.fills_off_hours > 0 and instant.fills_off_hours > 0
    # Fees come from the ledger and are positive where a spread or commission was charged.
    assert all(m.fees_usd.amount > 0 for m in (inventory, instant, direct))


def test_onboarding_refusals_carry_their_reasons(week: WeekReport) -> None:
    refused = {row.investor: row.detail for row in week.investors if not row.onboarded}
    assert refused["sam"].startswith("US_PERSON_MISMATCH")
    rejected_codes = set(week.rejections)
    assert {"RECIPIENT_SANCTIONED", "RECIPIENT_NOT_VERIFIED", "RECIPIENT_NOT_WHITELISTED"} <= rejected_codes


def test_another_seed_changes_the_flow_not_the_invariants(tmp_path: Path, week: WeekReport) -> None:
    other = run_week(Settings(data_dir=tmp_path), "another seed")
    assert all(m.invariants_ok for m in other.models.values()) and other.invariant_breaks == []
    figures = lambda r: [(m.orders_filled, m.fees_usd, m.pnl_usd) for m in r.models.values()]  # noqa: E731
    assert figures(other) != figures(week)


def test_the_cli_prints_the_models_object(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("EQUITOKEN_DATA_DIR", str(tmp_path))
    assert run(["demo", "--json", "--seed", "cli", "--no-comparison"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert set(shown["models"]) == {"inventory", "instant", "direct"}
    for figures in shown["models"].values():
        assert set(figures) >= KEYS
        assert isinstance(figures["amm_swap_ok"], bool) and figures["invariants_ok"] is True


def test_an_empty_seed_is_refused() -> None:
    with pytest.raises(DomainError) as refused:
        run_week(Settings(), " ")
    assert refused.value.code == "INVALID_SEED"


def test_the_demo_compares_the_three_models_on_one_flow_instead_of_the_week_s_scorecard(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("EQUITOKEN_DATA_DIR", str(tmp_path))
    scenario = tmp_path / "demo-tiny.toml"
    scenario.write_text(
        'name = "demo-tiny"\nsymbol = "AAPL"\nstart = 2012-11-21\nend = 2012-11-23\n'
        "[flow]\ninvestors = 10\nsize_median = 1500\nsize_max = 10000\n"
        "[flow.rates]\nsession = 1\nevening = 0.3\nholiday = 0.3\n",
        encoding="utf-8",
    )
    assert run(["demo", "--seed", "cmp", "--scenario", str(scenario)]) == 0
    out = capsys.readouterr().out
    assert "Scorecard" not in out  # three stocks on three slices of a flow: not a comparison
    assert "The three models on the same stock, the same orders and the same real prices" in out
    assert "capital per $ traded" in out and "Instant execution leads in capital efficiency." in out
    assert "Proof of reserves" in out  # the platform's week still runs in full
    assert run(["demo", "--seed", "cmp", "--scenario", "no-such"]) == 2
    assert "UNKNOWN_SCENARIO" in capsys.readouterr().err
