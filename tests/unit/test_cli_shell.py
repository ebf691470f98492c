"""The CLI shell: one-line errors with a reason code and exit 2; JSON where asked."""

from __future__ import annotations

import json

import pytest

from equitoken.cli.main import run


def test_unknown_command_is_one_line_with_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["no-such-command"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("equitoken: error USAGE:") and "\n" not in err


def test_bad_setting_is_one_line_with_its_code(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EQUITOKEN_BROKER_SLIPPAGE_BPS", "abc")
    assert run(["config", "show"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("equitoken: error INVALID_SETTING:") and "\n" not in err


def test_config_show_json(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EQUITOKEN_CALENDAR", "XNYS")
    assert run(["config", "show", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["calendar"] == "XNYS" and shown["effective_database_url"].startswith("sqlite:///")


def test_an_unwritable_data_dir_is_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EQUITOKEN_DATA_DIR", "/proc/equitoken-cannot-live-here")
    assert run(["demo"]) == 2
    err = capsys.readouterr().err.strip()
    # The demo checks where it will write the attestation package before anything else (issue 11).
    assert err.startswith(("equitoken: error STORE_UNAVAILABLE:", "equitoken: error FILE_UNWRITABLE:"))
    assert "/proc/equitoken-cannot-live-here" in err and "\n" not in err
