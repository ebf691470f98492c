"""The history bench: it grows an engine and reports largest-over-smallest figures (no timing asserted)."""

from __future__ import annotations

import pytest

from equitoken.bench import history, parts
from equitoken.issuance.models import ModelName


def test_the_history_part_is_registered() -> None:
    assert parts()["history"] is history.run


def test_the_figures_are_the_largest_size_over_the_smallest() -> None:
    points = [
        history.Point(1000, 10.0, 1.0, 2.0, 100_000.0),
        history.Point(5000, 11.0, 1.2, 2.2, 110_000.0),
        history.Point(20000, 12.0, 1.5, 3.0, 125_000.0),
    ]
    order, tick, reconcile, memory = history.measurements(ModelName.DIRECT, points)
    assert (order.value, order.baseline_value, order.ratio) == (12.0, 10.0, 1.2)
    assert tick.ratio == 1.5 and reconcile.ratio == 1.5
    assert "1000/5000/20000" in order.note
    assert memory.value == pytest.approx(1.0)  # 15,000 KB over 15,000 orders
    assert memory.unit == "KB/order"


def test_a_tiny_growth_runs_end_to_end(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(history, "WINDOW", 2)
    monkeypatch.setattr(history, "REPEATS", 1)
    monkeypatch.setattr(history, "TICK_EVERY", 3)
    monkeypatch.setattr(history, "RECONCILE_EVERY", 4)
    points = history.grow(ModelName.DIRECT, (3, 6))
    assert [p.orders for p in points] == [3, 6]
    assert all(p.order_ms > 0 and p.tick_ms > 0 and p.reconcile_ms > 0 and p.rss_kb > 0 for p in points)
