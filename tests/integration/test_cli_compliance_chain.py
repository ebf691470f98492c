"""``equitoken compliance onboard|check|diff|sync`` and ``chain instrument add|list``, end to end.

Each command is a fresh process's worth of state: the embedded chain is rebuilt from the journal
(SQLite under a temporary data dir) every time, so these tests exercise the replay too.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from equitoken.cli.main import run

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "compliance-onboard.json"
ANNA, BEN, CHLOE = (f"0x00000000000000000000000000000000000{x}0001" for x in ("a", "b", "c"))
BEN2 = "0x00000000000000000000000000000000000b0002"


@pytest.fixture(autouse=True)
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith("EQUITOKEN_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("EQUITOKEN_DATA_DIR", str(tmp_path / "data"))


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> Any:
    assert run([*argv, "--json"]) == 0, capsys.readouterr().err
    return json.loads(capsys.readouterr().out)


def test_onboard_then_check_both_ways_and_no_drift(capsys: pytest.CaptureFixture[str]) -> None:
    loaded = run_json(capsys, "compliance", "onboard", str(EXAMPLE))
    assert loaded["instruments"] == ["ACME", "XACME"] and loaded["holdings_issued"] == 4
    locked = run_json(
        capsys, "compliance", "check", "--instrument", "ACME", "--from", BEN, "--to", ANNA, "--amount", "10"
    )
    assert locked["off_chain"]["violations"][0]["code"] == "LOCKUP_ACTIVE"
    assert locked["on_chain"]["reason"] == "LOCKUP_ACTIVE" and locked["agree"]
    own = run_json(
        capsys, "compliance", "check", "--instrument", "ACME", "--from", BEN, "--to", BEN2, "--amount", "10"
    )
    assert own["off_chain"]["allowed"] and own["on_chain"]["allowed"]
    pending = run_json(
        capsys, "compliance", "check", "--instrument", "ACME", "--from", ANNA, "--to", CHLOE, "--amount", "1"
    )
    codes = [v["code"] for v in pending["off_chain"]["violations"]]
    assert codes == ["RECIPIENT_NOT_VERIFIED", "RECIPIENT_NOT_WHITELISTED"]
    assert pending["on_chain"]["reason"] == "RECIPIENT_NOT_VERIFIED"
    assert run_json(capsys, "compliance", "diff") == {"drift": []}
    listed = run_json(capsys, "chain", "list")
    assert [i["symbol"] for i in listed["instruments"]] == ["ACME", "XACME"]


def test_the_embedded_chain_is_rebuilt_at_the_same_addresses(capsys: pytest.CaptureFixture[str]) -> None:
    added = run_json(capsys, "chain", "instrument", "add", "--symbol", "ZED", "--policy", "instant-execution")
    again = run_json(capsys, "chain", "list")
    assert again["instruments"][0]["token"] == added["token"]
    assert run_json(capsys, "compliance", "sync") == {
        "synced": [{"instrument": "ZED", "steps": 0, "transactions": 0}]
    }


def test_check_prints_every_violated_rule_for_people(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["compliance", "onboard", str(EXAMPLE)]) == 0
    capsys.readouterr()
    argv = ["compliance", "check", "--instrument", "ACME", "--from", ANNA, "--to", CHLOE, "--amount", "1"]
    assert run(argv) == 0
    out = capsys.readouterr().out
    assert "verified-holders" in out and "whitelisted-holders-only" in out and "on-chain" in out


@pytest.mark.parametrize(
    ("argv", "code"),
    [
        (
            ["compliance", "check", "--instrument", "NOPE", "--from", ANNA, "--to", BEN, "--amount", "1"],
            "UNKNOWN_INSTRUMENT",
        ),
        (["chain", "instrument", "add", "--symbol", "ZED", "--policy", "nope"], "UNKNOWN_POLICY"),
    ],
)
def test_bad_input_is_one_line_and_status_2(
    capsys: pytest.CaptureFixture[str], argv: list[str], code: str
) -> None:
    assert run(argv) == 2
    assert f"error {code}" in capsys.readouterr().err


def test_a_malformed_onboarding_file_names_the_entry_and_field(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(
        json.dumps({"investors": [{"id": "inv-x", "name": "X", "residence": "ZZ", "category": "retail"}]})
    )
    assert run(["compliance", "onboard", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "INVALID_ONBOARDING" in err and "investors[0].residence" in err
