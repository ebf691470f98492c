"""The lab's charts and report: valid PNGs, a self-contained page, escaped text, n/a for missing data."""

from __future__ import annotations

import copy
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from equitoken.domain.errors import DomainError
from equitoken.lab.report import (
    MODELS,
    SPREAD_FOR_LOG,
    capital_chart,
    capital_figure,
    frontier_chart,
    gap_chart,
    write_report,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def model(name: str, scale: Decimal) -> dict[str, Any]:
    """Return one model's measures, as a lab run reports them (every figure the text of a Decimal)."""
    capital = [
        ["2012-11-19T14:30:00+00:00", str(scale * 1000)],
        ["2012-11-20T21:00:00+00:00", str(scale * 1400)],
        ["2012-11-22T05:00:00+00:00", str(scale * 900)],
        ["2012-11-24T12:00:00+00:00", str(scale * 1600)],
    ]
    gaps = [
        {
            "closed": "2012-11-21T21:00:00+00:00",
            "opened": "2012-11-23T14:30:00+00:00",
            "kind": "holiday",
            "platform": str(-scale * 120),
            "investors": str(scale * 40),
            "bearer": "platform",
        },
        {
            "closed": "2012-11-23T18:00:00+00:00",
            "opened": "2012-11-26T14:30:00+00:00",
            "kind": "weekend",
            "platform": str(scale * 35),
            "investors": "-12.50",
            "bearer": "platform",
        },
        {
            "closed": "2012-11-26T21:00:00+00:00",
            "opened": "2012-11-27T14:30:00+00:00",
            "kind": "weekend",
            "platform": str(-scale * 60),
            "investors": "3.10",
            "bearer": "investors",
        },
    ]
    return {
        "symbol": "AAPL" if name != "direct" else "AAPL.d",
        "orders_submitted": 412,
        "fills": 398 - int(scale),
        "traded_notional": "1034567.89",
        "capital": {
            "sized": str(scale * 1600),
            "time_weighted": str(scale * 1210),
            "peak": str(scale * 1600),
            "per_dollar_traded": "0.0015",
            "search": [
                {"capital": "1000", "unserved_rate": "0.12"},
                {"capital": "1600", "unserved_rate": "0"},
            ],
        },
        "refusals": {"rate": "0.034", "by_reason": {"OFF_HOURS_CAP": 9, "INSUFFICIENT_INVENTORY": 5}},
        "eligibility": {"refused": 3, "by_reason": {"US_PERSON": 3}},
        "unserved_rate": "0.0",
        "off_hours_fill_share": "0.41",
        "time_to_fill": {"median_seconds": "1.2", "p95_seconds": "58000"},
        "time_to_custody": {"median_seconds": "86400", "p95_seconds": "259200"},
        "tracking_error_bps": "12.5",
        "gap_pnl": {"gaps": gaps, "worst": str(-scale * 120), "total": str(-scale * 145)},
        "fees_bps": "25",
        "settlement_collateral": {
            cycle: {"peak": "5000", "time_weighted": "2100"} for cycle in ("T+0", "T+1", "T+2")
        },
        "rights": {"voting": "pass-through", "cash_dividends": "yes", "legal_claim": "on the issuer"},
        "composability": {"attempts": 20, "succeeded": 17, "success_rate": "0.85", "price_impact_bps": "4.2"},
        "invariants": {"checks": 1200, "breaks": []},
        "series": {"capital": capital},
    }


def make_run() -> dict[str, Any]:
    """Return a realistic run: the three models on Thanksgiving week 2012, with claims and a flow."""
    return {
        "scenario": {
            "name": "thanksgiving-2012",
            "title": "Thanksgiving week 2012",
            "symbol": "AAPL",
            "start": "2012-11-19",
            "end": "2012-11-27",
            "seed": "7",
            "between_prices": "hold",
            "source": "lab/scenarios/thanksgiving-2012.toml",
        },
        "flow": {
            "orders": 412,
            "investors": 200,
            "by_period": {"session": 180, "evening": 90, "night": 70, "weekend": 50, "holiday": 22},
            "off_hours_share": "0.563",
            "synthetic_prices": 0,
        },
        "models": {name: model(name, Decimal(index + 1)) for index, name in enumerate(MODELS)},
        "claims": [
            {
                "id": "C1",
                "claim": "Instant tokens need less capital",
                "verdict": "refuted",
                "because": "the buffer must cover the off-hours cap",
                "figures": {"instant capital": "3200"},
            },
            {
                "id": "C2",
                "claim": "Direct issuance tracks the stock best",
                "verdict": "supported",
                "because": "no gap exposure",
                "figures": {"tracking error (bps)": "0.0"},
            },
            {
                "id": "C3",
                "claim": "<script>alert('x')</script> & more",
                "verdict": "depends",
                "because": "a < b",
                "figures": {},
            },
        ],
        "elapsed_seconds": "12.3",
    }


def make_sweeps() -> list[dict[str, Any]]:
    """Return one sweep of each kind, on a 3×2 grid."""
    spread = {
        "kind": "buffer-spread",
        "scenario": "thanksgiving-2012",
        "x": {"name": "buffer (USD)", "values": ["1000", "2000", "4000"]},
        "y": {"name": "spread (bps)", "values": ["10", "50"]},
        "points": [
            {
                "x": x,
                "y": y,
                "refusal_rate": str(Decimal("0.2") / Decimal(x) * 1000 / Decimal(y) * 10),
                "gap_loss": str(Decimal(x) / 10 - Decimal(y)),
                "capital": x,
            }
            for x in ("4000", "1000", "2000")
            for y in ("10", "50")
        ],
    }
    watermarks = {
        "kind": "inventory-watermarks",
        "scenario": "thanksgiving-2012",
        "x": {"name": "low watermark", "values": ["100", "200"]},
        "y": {"name": "high watermark", "values": ["400", "800"]},
        "points": [
            {"x": x, "y": y, "refusal_rate": "0.05", "gap_loss": "0", "capital": str(Decimal(x) + Decimal(y))}
            for x in ("100", "200")
            for y in ("400", "800")
        ],
    }
    return [spread, watermarks]


def is_png(path: Path) -> bool:
    data = path.read_bytes()
    return data.startswith(PNG_SIGNATURE) and len(data) > 5_000


def test_each_chart_is_a_png_of_some_size(tmp_path: Path) -> None:
    run, (spread, watermarks) = make_run(), make_sweeps()
    assert is_png(capital_chart(run, tmp_path / "capital.png"))
    assert is_png(gap_chart(run, tmp_path / "gaps.png"))
    assert is_png(frontier_chart(spread, tmp_path / "spread.png"))
    assert is_png(frontier_chart(watermarks, tmp_path / "watermarks.png"))


def test_the_capital_chart_follows_the_series_and_is_stable(tmp_path: Path) -> None:
    run = make_run()
    first = capital_chart(run, tmp_path / "a.png").read_bytes()
    assert capital_chart(run, tmp_path / "b.png").read_bytes() == first  # same run, same bytes
    changed = copy.deepcopy(run)
    changed["models"]["instant"]["series"]["capital"][2][1] = "99999"
    assert capital_chart(changed, tmp_path / "c.png").read_bytes() != first


def test_models_far_apart_are_drawn_on_a_log_scale_and_the_title_names_the_stock() -> None:
    run = make_run()
    near = capital_figure(run)
    assert near.axes[0].get_yscale() == "linear"
    assert "AAPL, 2012-11-19 to 2012-11-27" in near.texts[0].get_text()  # the suptitle
    far = copy.deepcopy(run)
    for point in far["models"]["direct"]["series"]["capital"]:  # a year's market maker beside a buffer
        point[1] = str(Decimal(point[1]) * (SPREAD_FOR_LOG * 10))
    assert capital_figure(far).axes[0].get_yscale() == "symlog"


def test_an_unknown_sweep_kind_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DomainError) as raised:
        frontier_chart({"kind": "spread-buffer", "points": []}, tmp_path / "x.png")
    assert raised.value.code == "INVALID_SETTING"


def test_the_report_is_one_self_contained_page(tmp_path: Path) -> None:
    page = write_report(make_run(), tmp_path / "out", make_sweeps())
    assert page == tmp_path / "out" / "report.html"
    text = page.read_text(encoding="utf-8")
    for name in MODELS:
        assert f"<th>{name}</th>" in text
    for verdict in ("supported", "refuted", "depends"):
        assert f">{verdict}</td>" in text
    # No external style, script, font or image: nothing is fetched from anywhere.
    assert "http://" not in text and "https://" not in text
    assert not re.search(r"""(src|href)\s*=\s*["'](?!data:)""", text)
    assert "<script" not in text and "<link" not in text
    images = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', text)
    assert len(images) == 4  # capital, gaps and one frontier per sweep
    assert sorted(p.name for p in (tmp_path / "out").glob("*.png")) == [
        "capital.png",
        "frontier-1-buffer-spread.png",
        "frontier-2-inventory-watermarks.png",
        "gaps.png",
    ]
    # Figures are shown exactly as the run gives them (text of Decimals, never re-rendered floats).
    assert "1034567.89" in text and "Thanksgiving week 2012" in text
    assert "OFF_HOURS_CAP 9" in text and "US_PERSON 3" in text


def test_text_is_escaped(tmp_path: Path) -> None:
    text = write_report(make_run(), tmp_path).read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; more" in text
    assert "a &lt; b" in text
    assert "<script>" not in text


def test_missing_optional_keys_render_as_na(tmp_path: Path) -> None:
    run = make_run()
    del run["models"]["direct"]["time_to_custody"]
    del run["models"]["instant"]["composability"]
    del run["models"]["inventory"]["series"]
    del run["models"]["inventory"]["gap_pnl"]
    del run["scenario"]["seed"]
    del run["flow"]
    del run["elapsed_seconds"]
    text = write_report(run, tmp_path).read_text(encoding="utf-8")
    row = re.search(r"<th>time to custody, median \(s\)</th>(.*?)</tr>", text)
    assert row is not None
    assert row.group(1).count(">n/a<") == 1
    assert "seed n/a" in text and "Run took n/a s." in text


def test_a_nearly_empty_run_still_gives_a_page(tmp_path: Path) -> None:
    text = write_report({"models": {"instant": {}}}, tmp_path).read_text(encoding="utf-8")
    assert "<th>instant</th>" in text and "n/a" in text
    assert is_png(tmp_path / "capital.png") and (tmp_path / "gaps.png").read_bytes().startswith(PNG_SIGNATURE)
    assert write_report({}, tmp_path / "empty").exists()


def test_the_page_is_deterministic(tmp_path: Path) -> None:
    first = write_report(make_run(), tmp_path / "one", make_sweeps()).read_text(encoding="utf-8")
    second = write_report(make_run(), tmp_path / "two", make_sweeps()).read_text(encoding="utf-8")
    assert first == second
