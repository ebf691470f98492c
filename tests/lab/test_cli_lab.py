"""``equitoken lab list|run|sweep|claims``: tables, JSON, charts and a report; one-line refusals, exit 2."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from equitoken.cli.lab import REPORT_FILES, out_dir
from equitoken.cli.main import run
from equitoken.domain.errors import DomainError

TINY = """
name = "cli-tiny"
symbol = "AAPL"
start = 2012-11-21
end = 2012-11-24
seed = "cli"
[flow]
investors = 15
size_median = 2000
size_max = 20000
[flow.rates]
session = 1.5
evening = 0.5
night = 0.2
weekend = 0.3
holiday = 0.5
"""
FIXED = ["--capital", "inventory=150000,instant=80000,direct=300000"]


@pytest.fixture(autouse=True)
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Read no operator configuration: no EQUITOKEN_* variables, no ./equitoken.toml."""
    for name in list(os.environ):
        if name.startswith("EQUITOKEN_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def scenario_file(tmp_path: Path) -> Path:
    path = tmp_path / "cli-tiny.toml"
    path.write_text(TINY, encoding="utf-8")
    return path


def test_list_shows_the_families_and_every_scenario_in_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["lab", "list"]) == 0
    table = capsys.readouterr().out
    assert "weekly-2012-2014" in table and "gme-2021q1" in table and "624" in table
    assert run(["lab", "list", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    names = {r["name"] for r in rows}
    assert "yearly-2012-2014/AAPL-2013" in names and "thanksgiving-2012" in names
    assert len(rows) == len(names) >= 4 * 156 + 12 + 2


def test_run_prints_json_per_model_and_writes_the_report(
    capsys: pytest.CaptureFixture[str], scenario_file: Path, tmp_path: Path
) -> None:
    out = tmp_path / "report"
    assert run(["lab", "run", str(scenario_file), *FIXED, "--workers", "1", "--json", "--out", str(out)]) == 0
    captured = capsys.readouterr()
    data = json.loads(captured.out)
    submitted = {m: data["models"][m]["orders_submitted"] for m in ("inventory", "instant", "direct")}
    assert len(set(submitted.values())) == 1 and submitted["direct"] == data["flow"]["orders"]
    assert {data["models"][m]["symbol"] for m in submitted} == {"AAPL"}
    assert {c["verdict"] for c in data["claims"]} <= {"supported", "refuted", "depends"}
    for name in ("run.json", "capital.png", "gaps.png", "report.html"):
        assert (out / name).stat().st_size > 200, name
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "data:image/png;base64," in html and "http://" not in html and "https://" not in html
    assert json.loads((out / "run.json").read_text(encoding="utf-8"))["flow"] == data["flow"]
    # claims --from reads the run back without running anything.
    assert run(["lab", "claims", "--from", str(out / "run.json"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == data["claims"]


def test_run_as_a_table_shows_every_measure_row_and_the_verdicts(
    capsys: pytest.CaptureFixture[str], scenario_file: Path
) -> None:
    assert run(["lab", "run", str(scenario_file), *FIXED, "--workers", "1"]) == 0
    captured = capsys.readouterr()
    for row in ("capital per $ traded", "gap P&L, worst", "collateral T+2 peak", "eligibility refusals"):
        assert row in captured.out
    assert "T+0 settlement cuts collateral tie-up." in captured.out
    assert "cli-tiny: three models" in captured.err and "3/3" in captured.err  # the bar: on stderr


def test_sweep_writes_its_frontier(
    capsys: pytest.CaptureFixture[str], scenario_file: Path, tmp_path: Path
) -> None:
    argv = [
        "lab",
        "sweep",
        str(scenario_file),
        "--kind",
        "inventory-watermarks",
        "--x",
        "100000",
        "--y",
        "0.3,0.6",
    ]
    assert run([*argv, "--workers", "1", "--json", "--out", str(tmp_path / "s")]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [p["y"] for p in data["points"]] == ["0.3", "0.6"]
    assert (tmp_path / "s" / "frontier-inventory-watermarks.png").stat().st_size > 200


@pytest.mark.parametrize(
    ("argv", "code"),
    [
        (["lab", "run", "no-such-scenario"], "UNKNOWN_SCENARIO"),
        (["lab", "run", "thanksgiving-2012", "--capital", "instant=-5"], "USAGE"),
        (["lab", "run", "thanksgiving-2012", "--capital", "bank=5"], "USAGE"),
        (["lab", "run", "thanksgiving-2012", "--workers", "0"], "INVALID_SETTING"),
        (
            ["lab", "run", "thanksgiving-2012", "--scheduler", "tcp://127.0.0.1:1"],
            "LAB_SCHEDULER_UNREACHABLE",
        ),
        (["lab", "sweep", "thanksgiving-2012", "--kind", "moon"], "INVALID_SETTING"),
        (["lab", "sweep", "thanksgiving-2012", "--x", "abc"], "INVALID_SETTING"),
        (["lab", "claims", "--from", "missing.json"], "LAB_RUN_INVALID"),
        # Found by an adversarial review: each of these used to pass the checks and fail after work
        # had started (a "task N:" error), be taken silently, or end in a traceback.
        (["lab", "run", "thanksgiving-2012", "--capital", "instant=1e400"], "USAGE"),
        (["lab", "run", "thanksgiving-2012", "--capital", "instant=0.0000001"], "USAGE"),
        (["lab", "run", "thanksgiving-2012", "--capital", "instant=80000,instant=1"], "USAGE"),
        (["lab", "run", "thanksgiving-2012", "--scheduler", "tcp://[::1:1"], "INVALID_SETTING"),
        (["lab", "run", "thanksgiving-2012", "--out", "/proc/equitoken-lab"], "OUT_NOT_WRITABLE"),
        (["lab", "sweep", "thanksgiving-2012", "--x", "1e400"], "INVALID_SETTING"),
        (["lab", "sweep", "thanksgiving-2012", "--x", "0.0000001"], "INVALID_SETTING"),
        (["lab", "sweep", "thanksgiving-2012", "--x", "50000,5e4"], "INVALID_SETTING"),
        (["lab", "sweep", "thanksgiving-2012", "--x", "50000", "--y", "1e9"], "INVALID_SETTING"),
        (["lab", "sweep", "thanksgiving-2012", "--out", "/proc/equitoken-lab"], "OUT_NOT_WRITABLE"),
        (["lab", "claims", "thanksgiving-2012", "--from", "run.json"], "USAGE"),
    ],
)
def test_bad_input_is_one_line_with_its_code_and_exit_2(
    capsys: pytest.CaptureFixture[str], argv: list[str], code: str
) -> None:
    assert run(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"equitoken: error {code}: ") and err.count("\n") == 1
    assert "Traceback" not in err


def test_a_malformed_scenario_file_is_refused_by_field(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(TINY.replace("session = 1.5", "session = -1"), encoding="utf-8")
    assert run(["lab", "run", str(path)]) == 2
    assert "SCENARIO_INVALID" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (("symbol = \"AAPL\"", "symbol = \"ZZZZ\""), "symbol"),
        (("start = 2012-11-21", "start = 2011-11-21"), "start, end"),  # starts before it
        (("end = 2012-11-24", "end = 2015-01-06"), "start, end"),  # runs past the bundled history
        (("[flow]", "[sizing]\nstart = \"1e400\"\n[flow]"), "sizing.start"),
        (("size_median = 2000", "size_median = \"0.0000001\""), "flow.size_median"),
    ],
)
def test_a_scenario_outside_the_history_or_the_money_range_is_refused_before_any_work(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, change: tuple[str, str], field: str
) -> None:
    path = tmp_path / "outside.toml"
    path.write_text(TINY.replace(*change), encoding="utf-8")
    assert run(["lab", "run", str(path), *FIXED, "--workers", "1"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"equitoken: error SCENARIO_INVALID: {path}: {field}") and err.count("\n") == 1


def test_a_port_that_is_not_a_dask_scheduler_is_refused_not_waited_on(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import socket

    from equitoken.lab import parallel

    monkeypatch.setattr(parallel, "CONNECT_TIMEOUT_SECONDS", 0.5)
    with socket.create_server(("127.0.0.1", 0)) as silent:
        address = f"tcp://127.0.0.1:{silent.getsockname()[1]}"
        assert run(["lab", "run", "thanksgiving-2012", *FIXED, "--scheduler", address]) == 2
    assert "LAB_SCHEDULER_UNREACHABLE" in capsys.readouterr().err


def test_an_output_that_cannot_be_written_leaves_nothing_behind(
    capsys: pytest.CaptureFixture[str], scenario_file: Path, tmp_path: Path
) -> None:
    # A report file that exists as a directory is refused before the run, and nothing is created.
    blocked = tmp_path / "blocked"
    (blocked / "capital.png").mkdir(parents=True)
    assert run(["lab", "run", str(scenario_file), *FIXED, "--workers", "1", "--out", str(blocked)]) == 2
    assert "OUT_NOT_WRITABLE" in capsys.readouterr().err
    assert sorted(p.name for p in blocked.iterdir()) == ["capital.png"]
    # Work refused after the directory was made (inside the block) removes the directories it made,
    # and leaves one that was there before.
    fresh = tmp_path / "new" / "report"
    with pytest.raises(DomainError), out_dir(str(fresh), "the lab report", REPORT_FILES) as made:
        assert made is not None and made.is_dir()
        raise DomainError("SCENARIO_INVALID", "the flow has no orders")
    assert not (tmp_path / "new").exists()
    with pytest.raises(DomainError), out_dir(str(blocked), "the lab report", ("run.json",)):
        raise DomainError("SCENARIO_INVALID", "the flow has no orders")
    assert blocked.is_dir()


def test_claims_from_a_file_are_judged_from_its_figures_and_a_malformed_one_is_refused(
    capsys: pytest.CaptureFixture[str], scenario_file: Path, tmp_path: Path
) -> None:
    out = tmp_path / "r"
    assert run(["lab", "run", str(scenario_file), *FIXED, "--workers", "1", "--json", "--out", str(out)]) == 0
    data = json.loads(capsys.readouterr().out)
    # Edited verdicts are not believed: the figures are judged again.
    edited = dict(data, claims=[{"claim": "forged", "verdict": "supported", "because": "trust me"}])
    (tmp_path / "edited.json").write_text(json.dumps(edited), encoding="utf-8")
    assert run(["lab", "claims", "--from", str(tmp_path / "edited.json"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == data["claims"]
    broken_runs = {
        "no-claims-list.json": {"claims": 5},
        "no-instant.json": dict(data, models={k: v for k, v in data["models"].items() if k != "instant"}),
        "nan.json": json.loads(
            json.dumps(data).replace(data["models"]["instant"]["capital"]["per_dollar_traded"], "NaN", 1)
        ),
    }
    for name, body in broken_runs.items():
        (tmp_path / name).write_text(json.dumps(body), encoding="utf-8")
        assert run(["lab", "claims", "--from", str(tmp_path / name)]) == 2, name
        err = capsys.readouterr().err
        assert err.startswith("equitoken: error LAB_RUN_INVALID: ") and "Traceback" not in err, name
