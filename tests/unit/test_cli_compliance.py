"""``equitoken compliance evaluate|policies|sanctions``: JSON and tables, one-line refusals with exit 2."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from equitoken.cli.main import run

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "compliance-cases.json"
ISSUE_CASE: dict[str, Any] = {
    "id": "c1",
    "policy": "direct-ownership",
    "action": "transfer",
    "at": "2026-12-01T15:00:00Z",
    "shares": "10",
    "from": {
        "country": "US",
        "us_person": True,
        "category": "accredited",
        "kyc": {"state": "verified", "expires": "2027-12-31"},
        "sanctioned": False,
        "holding": {"acquired_at": "2026-06-01", "regulation": "reg_d"},
    },
    "to": {
        "country": "US",
        "us_person": True,
        "category": "accredited",
        "kyc": {"state": "verified", "expires": "2027-12-31"},
        "sanctioned": False,
    },
}


@pytest.fixture(autouse=True)
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith("EQUITOKEN_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> Any:
    assert run([*argv, "--json"]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    return json.loads(captured.out)


def refusal(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    assert run(list(argv)) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1
    return lines[0]


def write(tmp_path: Path, data: Any) -> str:
    path = tmp_path / "cases.json"
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return str(path)


def test_the_issue_example_is_answered_in_the_issue_format(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    data = run_json(capsys, "compliance", "evaluate", write(tmp_path, {"cases": [ISSUE_CASE]}))
    assert data == {
        "results": [
            {
                "id": "c1",
                "allowed": False,
                "violations": [
                    {
                        "code": "LOCKUP_ACTIVE",
                        "rule": "reg-d-lockup",
                        "message": (
                            "the sender's reg_d holding acquired 2026-06-01 is locked up until 2027-06-01"
                        ),
                    },
                    {
                        "code": "RECIPIENT_NOT_WHITELISTED",
                        "rule": "whitelisted-holders-only",
                        "message": "the receiver is not on the holder whitelist",
                    },
                ],
                "overrides": [],
            }
        ]
    }


def test_the_shipped_example_covers_every_policy(capsys: pytest.CaptureFixture[str]) -> None:
    results = {r["id"]: r for r in run_json(capsys, "compliance", "evaluate", str(EXAMPLE))["results"]}
    cases = json.loads(EXAMPLE.read_text())["cases"]
    assert len(results) == len(cases)
    assert {c["policy"] for c in cases} == {"tracker-certificate", "instant-execution", "direct-ownership"}
    assert results["do-forced-transfer-court-order"]["allowed"]
    assert results["do-forced-transfer-court-order"]["overrides"][0]["code"] == "LOCKUP_ACTIVE"
    assert [v["code"] for v in results["do-forced-transfer-to-sanctioned"]["violations"]] == [
        "RECIPIENT_SANCTIONED"
    ]
    assert results["tc-open-transfer-to-any-wallet"]["allowed"]
    assert [v["code"] for v in results["ie-window-limit"]["violations"]] == ["NOTIONAL_LIMIT_EXCEEDED"] * 2


def test_the_table_lists_one_row_per_violation(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["compliance", "evaluate", str(EXAMPLE)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split()[:5] == ["id", "policy", "action", "allowed", "code"]
    assert sum(line.startswith("c1 ") for line in out) == 2


def change(**fields: Any) -> dict[str, Any]:
    case = json.loads(json.dumps(ISSUE_CASE))
    for path, value in fields.items():
        target = case
        *parents, last = path.split("__")
        for key in parents:
            target = target[key]
        if value is None:
            del target[last]
        else:
            target[last] = value
    return {"cases": [case]}


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"cases": [{"policy": "direct-ownership"}]}, "case #1, field id: missing"),
        ({"case": []}, "field cases: expected"),
        (change(policy="reg-d"), "case c1, field policy: 'reg-d' is not a shipped policy"),
        (change(action="swap"), "case c1, field action:"),
        (change(at="2026-12-01T15:00:00"), "case c1, field at: '2026-12-01T15:00:00' has no time zone"),
        (change(shares="0"), "case c1, field shares: must be positive"),
        (change(shares=10), "case c1, field shares: expected a string"),
        (change(to=None), "case c1, field to: missing"),
        (change(investor={}), "case c1, field investor: not part of a transfer"),
        (change(to__country="ZZ"), "case c1, field to.country: 'ZZ' is not an ISO 3166-1 alpha-2"),
        (change(to__category="rich"), "case c1, field to.category: 'rich' is not an investor category"),
        (change(to__us_person="yes"), "case c1, field to.us_person: expected true or false"),
        (change(to__kyc__state="approved"), "case c1, field to.kyc.state:"),
        (change(to__kyc__expires=None), "case c1, field to.kyc.expires: missing"),
        (change(from__holding__regulation="reg_a"), "case c1, field from.holding.regulation:"),
        (change(to__colour="red"), "case c1, field to.colour: unknown field"),
        (change(override_reason="because"), "case c1, field override_reason: only a forced transfer"),
        (change(context={"holder_count": -1}), "case c1, field context: holder counts cannot be negative"),
        (
            change(
                policy="instant-execution",
                action="redeem",
                investor=ISSUE_CASE["to"],
                **{"from": None},
                to=None,
            ),
            "case c1, field notional: missing, and required by rule",
        ),
    ],
)
def test_a_malformed_case_file_is_refused_naming_case_and_field(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, data: Any, expected: str
) -> None:
    line = refusal(capsys, "compliance", "evaluate", write(tmp_path, data))
    assert line.startswith("equitoken: error INVALID_CASES: "), line
    assert expected in line, line


def test_broken_json_and_a_missing_file_are_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    line = refusal(capsys, "compliance", "evaluate", write(tmp_path, '{"cases": [\n  {"id": }]}'))
    assert "line 2, column 10: not valid JSON" in line
    assert "FILE_UNREADABLE" in refusal(capsys, "compliance", "evaluate", str(tmp_path / "none.json"))


def test_duplicate_case_ids_are_refused(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    line = refusal(capsys, "compliance", "evaluate", write(tmp_path, {"cases": [ISSUE_CASE, ISSUE_CASE]}))
    assert "case c1, field id: used by an earlier case" in line


def test_policies_lists_rules_with_codes_and_chain_coverage(capsys: pytest.CaptureFixture[str]) -> None:
    data = run_json(capsys, "compliance", "policies")
    by_name = {p["name"]: p for p in data["policies"]}
    assert set(by_name) == {"tracker-certificate", "instant-execution", "direct-ownership"}
    lockup = next(r for r in by_name["direct-ownership"]["rules"] if r["name"] == "reg-d-lockup")
    assert lockup["codes"] == ["LOCKUP_ACTIVE"] and lockup["on_chain"] == "partly"
    assert "230.144" in lockup["cite"]
    assert run(["compliance", "policies"]) == 0
    assert "retail-only-where-passported" in capsys.readouterr().out


def test_sanctions_validates_a_list(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert len(run_json(capsys, "compliance", "sanctions")["entries"]) == 8
    bad = tmp_path / "list.csv"
    bad.write_text("type,value,list,listed_on\nwallet,0x1,OFAC,2024-01-01\n")
    line = refusal(capsys, "compliance", "sanctions", str(bad))
    assert line.startswith("equitoken: error INVALID_SANCTIONS_FILE: ") and "line 2, field value" in line
