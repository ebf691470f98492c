"""The verdicts: each claim of the market report decided from the figures it names."""

from __future__ import annotations

from typing import Any

from equitoken.lab.claims import verdicts


def figures(**overrides: Any) -> dict[str, Any]:
    """Return three models' figures shaped like a lab run's, with some changed."""
    base: dict[str, Any] = {
        "inventory": {
            "capital": {"per_dollar_traded": "0.80"},
            "composability": {"success_rate": "1.0000"},
            "rights": {"points": 0},
            "gap_pnl": {"worst": "-120.00", "investors_total": "30.00", "gaps": [{}]},
            "settlement_collateral": {"T+0": {"peak": "0"}, "T+1": {"peak": "900"}, "T+2": {"peak": "1300"}},
        },
        "instant": {
            "capital": {"per_dollar_traded": "0.30"},
            "composability": {"success_rate": "0.0000"},
            "rights": {"points": 0},
            "gap_pnl": {"worst": "-400.00", "investors_total": "-10.00", "gaps": [{}]},
            "settlement_collateral": {"T+0": {"peak": "0"}, "T+1": {"peak": "2000"}, "T+2": {"peak": "2900"}},
        },
        "direct": {
            "capital": {"per_dollar_traded": "1.50"},
            "composability": {"success_rate": "0.0000"},
            "rights": {"points": 3},
            "gap_pnl": {"worst": "-50.00", "gaps": [{}]},
            "settlement_collateral": {"T+0": {"peak": "0"}, "T+1": {"peak": "0"}, "T+2": {"peak": "0"}},
        },
    }
    for path, value in overrides.items():
        model, *keys = path.split("__")
        node = base[model]
        for key in keys[:-1]:
            node = node[key]
        node[keys[-1]] = value
    return base


def by_id(models: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["id"]: c for c in verdicts(models)}


def test_the_report_s_picture_is_supported_by_figures_that_show_it() -> None:
    found = by_id(figures())
    assert {k: v["verdict"] for k, v in found.items()} == {
        "capital-efficiency": "supported",
        "defi-composability": "supported",
        "direct-rights": "supported",
        "trilemma": "supported",
        "gap-risk": "refuted",
        "t0-settlement": "supported",
    }
    assert "0.30" in found["capital-efficiency"]["because"]
    assert found["capital-efficiency"]["figures"]["instant_capital_per_dollar"] == "0.30"
    assert "instant side -400.00" in found["gap-risk"]["because"]
    assert "2900" in found["t0-settlement"]["because"]


def test_figures_that_contradict_a_claim_refute_it() -> None:
    found = by_id(
        figures(
            instant__capital__per_dollar_traded="0.95",
            instant__composability__success_rate="1.0000",
        )
    )
    assert found["capital-efficiency"]["verdict"] == "refuted"  # inventory's 0.80 beats 0.95
    assert found["defi-composability"]["verdict"] == "refuted"  # instant swaps as well


def test_close_figures_or_missing_ones_make_a_claim_depend() -> None:
    close = by_id(figures(instant__capital__per_dollar_traded="0.78"))
    assert close["capital-efficiency"]["verdict"] == "depends"
    assert "within 10%" in close["capital-efficiency"]["because"]
    no_gaps = figures()
    for model in no_gaps.values():
        model["gap_pnl"] = {"worst": "0", "gaps": []}
    assert by_id(no_gaps)["gap-risk"]["verdict"] == "depends"
    flat = figures()
    for model in flat.values():
        model["settlement_collateral"] = {c: {"peak": "0"} for c in ("T+0", "T+1", "T+2")}
    assert by_id(flat)["t0-settlement"]["verdict"] == "depends"


def test_a_model_best_on_all_three_refutes_the_trilemma() -> None:
    found = by_id(
        figures(
            direct__capital__per_dollar_traded="0.10",
            direct__composability__success_rate="1.0000",
        )
    )
    assert found["trilemma"]["verdict"] == "refuted" and "direct" in found["trilemma"]["because"]
    assert found["direct-rights"]["verdict"] == "refuted"  # its composability is not limited then
