"""The HTTP bench row runs end to end on a tiny flow (its figures are measured in make bench, never here)."""

from __future__ import annotations

from pathlib import Path

from equitoken.bench import http, parts


def test_the_http_part_is_registered() -> None:
    assert parts()["http"] is http.run


def test_a_tiny_flow_runs_through_the_api_and_in_process(tmp_path: Path) -> None:
    rate, latencies = http.over_http(tmp_path / "http", 3)
    assert rate > 0 and len(latencies) == 3 and all(seconds > 0 for seconds in latencies)
    assert http.in_process(tmp_path / "process", 3) > 0
