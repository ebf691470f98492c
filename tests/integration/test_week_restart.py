"""Restart resumes (issue 10): the scripted week, its engine stopped and started again at the end of
every period over the same database file, chain and broker accounts, reports the same as one
uninterrupted run — every figure, to the last digit."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from equitoken.app.settings import Settings
from equitoken.cli.week import week_json
from equitoken.simulation.week import PERIODS, Week


def figures(data_dir: Path, *, restart: bool) -> tuple[dict[str, Any], int]:
    week = Week(Settings(data_dir=data_dir), "equitoken", restart_at_periods=restart)
    report = week_json(week.run())
    report.pop("elapsed_seconds")  # wall-clock time, not a figure of the week
    return report, week.restarts


def test_the_week_restarted_at_every_period_boundary_reports_the_same(tmp_path: Path) -> None:
    once, none = figures(tmp_path / "once", restart=False)
    restarted, restarts = figures(tmp_path / "restarted", restart=True)
    assert none == 0 and restarts == len(PERIODS)
    assert restarted["models"] == once["models"]  # the scorecard
    assert restarted == once  # and everything else the report prints
