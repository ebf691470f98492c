"""Structured logs: one JSON object per line, context fields kept as fields."""

from __future__ import annotations

import json
import logging

import pytest

from equitoken.app.logging import configure_logging


def test_json_lines_keep_context_fields(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO", "json")
    logging.getLogger("equitoken.test").info("fill booked", extra={"fill_id": "f-1", "symbol": "AAPL"})
    logging.getLogger("equitoken.test").debug("below the level: dropped")
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1
    record = json.loads(lines[0])
    assert record["msg"] == "fill booked" and record["level"] == "info"
    assert record["fill_id"] == "f-1" and record["symbol"] == "AAPL" and record["ts"].endswith("+00:00")


def test_text_format(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("WARNING", "text")
    logging.getLogger("equitoken.test").warning("stale price refused")
    assert capsys.readouterr().err.strip() == "WARNING equitoken.test: stale price refused"
