"""Regressions for the security defects of issue 11 that sit on the CLI: each refuses, one line, exit 2.

- item 1/5: after a node restart the recorded contracts are gone: ``compliance check`` said *on-chain
  allowed* for a transfer to a sanctioned wallet, ``diff``/``sync`` crashed (``InsufficientDataBytes``);
- item 2: ``EQUITOKEN_SANCTIONS_FILE`` was ignored by every ``compliance`` command;
- item 4: a far-future ``--distribution-start`` was journaled, then crashed every later command.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from equitoken.adapters.chain.anvil import AnvilNode
from equitoken.adapters.store.sql import SqlStore
from equitoken.cli.main import run
from tests.chain.anvil_support import anvil_binary

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "compliance-onboard.json"
ANNA, BEN = (f"0x00000000000000000000000000000000000{x}0001" for x in ("a", "b"))
LISTED = "0x00000000000000000000000000000000000e0e01"


@pytest.fixture(autouse=True)
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith("EQUITOKEN_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("EQUITOKEN_DATA_DIR", str(tmp_path / "data"))


def refused(capsys: pytest.CaptureFixture[str], argv: list[str], code: str) -> str:
    """Run ``argv``; assert exit 2 and exactly one stderr line naming ``code``; return that line."""
    capsys.readouterr()
    assert run(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith(f"equitoken: error {code}: "), err[0]
    return err[0]


def digest(data_dir: Path) -> str:
    """Return a digest of the store's rows (what a refusal must leave unchanged).

    The rows, not the files: opening SQLite in WAL mode touches its side files without changing data.
    """
    connection = sqlite3.connect(data_dir / "equitoken.db")
    try:
        return hashlib.sha256("\n".join(connection.iterdump()).encode()).hexdigest()
    finally:
        connection.close()


# ---------------------------------------------------------------- item 1/5: a restarted node


@pytest.fixture
def restarted_node() -> Iterator[tuple[AnvilNode, AnvilNode]]:
    """Yield a running node and its restart-to-be: the same port and chain id, none of the state."""
    first = AnvilNode(binary=anvil_binary()).start()
    again = AnvilNode(binary=anvil_binary(), port=first.port)
    try:
        yield first, again
    finally:
        first.stop()
        again.stop()


def test_after_a_node_restart_check_diff_and_sync_refuse_no_contract(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    restarted_node: tuple[AnvilNode, AnvilNode],
) -> None:
    first, again = restarted_node
    monkeypatch.setenv("EQUITOKEN_CHAIN_URL", first.url)
    assert run(["compliance", "onboard", str(EXAMPLE)]) == 0
    check = ["compliance", "check", "--instrument", "ACME", "--from", BEN, "--to", ANNA, "--amount", "10"]
    assert run(check) == 0  # the contracts answer while the node holds them
    first.stop()
    again.start()
    try:
        to_listed = [*check[:6], "--to", "0x5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a", "--amount", "5000000"]
        line = refused(capsys, to_listed, "NO_CONTRACT")
        assert "EQUITOKEN_CHAIN_URL" in line  # says what to do
        refused(capsys, [*to_listed, "--json"], "NO_CONTRACT")
        refused(capsys, ["compliance", "diff"], "NO_CONTRACT")
        refused(capsys, ["compliance", "sync"], "NO_CONTRACT")
    finally:
        again.stop()


# ---------------------------------------------------------------- item 2: the sanctions setting


def _listing(tmp_path: Path, wallet: str) -> Path:
    path = tmp_path / "sanctions.csv"
    path.write_text(f"type,value,list,listed_on\nwallet,{wallet},OPERATOR-LIST,2026-01-02\n")
    return path


def test_the_configured_sanctions_file_screens_compliance_check(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert run(["compliance", "onboard", str(EXAMPLE)]) == 0
    check = ["compliance", "check", "--instrument", "ACME", "--from", ANNA, "--to", BEN, "--amount", "1"]
    capsys.readouterr()
    assert run([*check, "--json"]) == 0
    before = capsys.readouterr().out
    assert "RECIPIENT_SANCTIONED" not in before
    monkeypatch.setenv("EQUITOKEN_SANCTIONS_FILE", str(_listing(tmp_path, BEN)))
    assert run([*check, "--json"]) == 0
    after = capsys.readouterr().out
    assert "RECIPIENT_SANCTIONED" in after  # off chain, from the operator's list


def test_an_extra_sanctions_list_adds_to_the_configured_one_never_replaces_it(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert run(["compliance", "onboard", str(EXAMPLE)]) == 0
    monkeypatch.setenv("EQUITOKEN_SANCTIONS_FILE", str(_listing(tmp_path, BEN)))
    other = tmp_path / "other.csv"
    other.write_text(
        "type,value,list,listed_on\nwallet,0x00000000000000000000000000000000000f0f01,X,2026-01-02\n"
    )
    check = ["compliance", "check", "--instrument", "ACME", "--from", ANNA, "--to", BEN, "--amount", "1"]
    capsys.readouterr()
    assert run([*check, "--sanctions", str(other), "--json"]) == 0
    assert "RECIPIENT_SANCTIONED" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (None, "INVALID_SETTING"),
        ("type,value,list,listed_on\nwallet,not-a-wallet,X,2026-01-02\n", "INVALID_SANCTIONS_FILE"),
    ],
)
def test_a_missing_or_malformed_sanctions_file_is_an_error_at_start(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    content: str | None,
    code: str,
) -> None:
    path = tmp_path / "operator-sanctions.csv"
    if content is not None:
        path.write_text(content)
    monkeypatch.setenv("EQUITOKEN_SANCTIONS_FILE", str(path))
    for argv in (
        ["compliance", "onboard", str(EXAMPLE)],
        ["compliance", "sanctions"],
        ["compliance", "diff"],
    ):
        refused(capsys, argv, code)
    assert not (tmp_path / "data").exists()  # refused before a store was opened


# ---------------------------------------------------------------- item 4: one bad date


@pytest.mark.parametrize(
    "start",
    [
        "9999-12-31T23:59:59Z",
        "9999-12-31T23:59:59-12:00",
        "0001-01-01T00:00:00+01:00",
        "2100-01-01T00:00:00Z",
    ],
)
def test_an_out_of_range_distribution_start_is_refused_before_anything_is_recorded(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, start: str
) -> None:
    assert run(["chain", "instrument", "add", "--symbol", "OLD", "--policy", "instant-execution"]) == 0
    before = digest(tmp_path / "data")
    argv = ["chain", "instrument", "add", "--symbol", "NEWCO", "--policy", "direct-ownership"]
    refused(capsys, [*argv, "--distribution-start", start], "INVALID_DISTRIBUTION_START")
    assert digest(tmp_path / "data") == before
    for later in (["chain", "list"], ["compliance", "diff"]):
        assert run(later) == 0, capsys.readouterr().err  # the data dir still works


def test_a_recorded_instrument_that_no_longer_fits_is_store_corrupt_not_a_crash(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # Stand for a journal written before the check existed: record the bad event through the store.
    assert run(["chain", "list"]) == 0
    store = SqlStore.open(f"sqlite:///{tmp_path / 'data' / 'equitoken.db'}")
    try:
        store.append_event(
            "instruments",
            "InstrumentRegistered",
            "hand-written",
            datetime(2026, 1, 5, tzinfo=UTC),
            {
                "symbol": "NEWCO",
                "at": "2026-01-05T00:00:00+00:00",
                "policy": "direct-ownership",
                "decimals": 18,
                "distribution_start": "9999-12-31T23:59:59+00:00",
            },
        )
    finally:
        store.close()
    for argv in (["chain", "list"], ["compliance", "diff"]):
        line = refused(capsys, argv, "STORE_CORRUPT")
        assert "instruments" in line and "position" in line and "InstrumentRegistered" in line


# ---------------------------------------------------------------- amounts past any range


@pytest.mark.parametrize(
    ("amount", "code"),
    [
        ("1e999999999", "NUMBER_OUT_OF_RANGE"),
        ("9" * 5000, "NUMBER_OUT_OF_RANGE"),
        ("1e-999999999", "NUMBER_OUT_OF_RANGE"),
        ("1e60", "AMOUNT_TOO_LARGE"),
    ],
)
def test_an_amount_past_any_range_is_one_line_and_changes_nothing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, amount: str, code: str
) -> None:
    assert run(["compliance", "onboard", str(EXAMPLE)]) == 0
    before = digest(tmp_path / "data")
    argv = ["compliance", "check", "--instrument", "ACME", "--from", ANNA, "--to", BEN, "--amount", amount]
    line = refused(capsys, argv, code)
    assert len(line) < 300
    assert digest(tmp_path / "data") == before


# ---------------------------------------------------------------- check: balances, and disagreement


def test_the_engine_checks_the_senders_balance_as_the_token_does(capsys: pytest.CaptureFixture[str]) -> None:
    import json

    assert run(["compliance", "onboard", str(EXAMPLE)]) == 0
    ben2 = "0x00000000000000000000000000000000000b0002"  # Ben's second wallet: bound, verified, empty
    capsys.readouterr()
    argv = ["compliance", "check", "--instrument", "ACME", "--from", ben2, "--to", BEN, "--amount", "1"]
    assert run([*argv, "--json"]) == 0  # they agree
    result = json.loads(capsys.readouterr().out)
    assert result["off_chain"]["violations"][0]["code"] == "INSUFFICIENT_BALANCE"
    assert result["off_chain"]["violations"][0]["rule"] == "sender-balance"
    assert result["on_chain"]["reason"] == "INSUFFICIENT_BALANCE" and result["agree"]
    # Ben's first wallet holds 300: 300 is not refused for the balance, 301 is.
    within = ["compliance", "check", "--instrument", "ACME", "--from", BEN, "--to", ben2, "--amount", "300"]
    assert run([*within, "--json"]) == 0
    assert "INSUFFICIENT_BALANCE" not in capsys.readouterr().out
    assert run([*within[:-1], "301", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["on_chain"]["reason"] == "INSUFFICIENT_BALANCE"


def test_check_exits_1_when_the_engine_and_the_contracts_disagree(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    with AnvilNode(binary=anvil_binary()) as node:
        monkeypatch.setenv("EQUITOKEN_CHAIN_URL", node.url)
        assert run(["compliance", "onboard", str(EXAMPLE)]) == 0
        # The operator lists Ben's wallet; the contracts on the node have not been synced yet.
        monkeypatch.setenv("EQUITOKEN_SANCTIONS_FILE", str(_listing(tmp_path, BEN)))
        argv = ["compliance", "check", "--instrument", "ACME", "--from", ANNA, "--to", BEN, "--amount", "1"]
        capsys.readouterr()
        assert run(argv) == 1
        assert "disagree" in capsys.readouterr().err
        assert run(["compliance", "sync"]) == 0
        capsys.readouterr()
        assert run(argv) == 0  # synced: both refuse RECIPIENT_SANCTIONED
        assert "RECIPIENT_SANCTIONED" in capsys.readouterr().out


# ---------------------------------------------------------------- output paths, checked before any work


@pytest.mark.parametrize(
    ("argv", "code"),
    [
        (["contracts", "export", ""], "INVALID_PATH"),
        (["contracts", "export", "{file}"], "OUT_NOT_A_DIRECTORY"),
        (["contracts", "export", "{file}/below"], "OUT_NOT_A_DIRECTORY"),
        (["bench", "ledger", "--quick", "--save", ""], "INVALID_PATH"),
        (["bench", "ledger", "--quick", "--save", "{dir}"], "OUT_IS_A_DIRECTORY"),
        (["bench", "ledger", "--quick", "--save", "{file}/report.json"], "OUT_NOT_A_DIRECTORY"),
    ],
)
def test_an_output_path_that_cannot_be_written_is_refused_first(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, argv: list[str], code: str
) -> None:
    a_file = tmp_path / "a-file"
    a_file.write_text("keep me\n")
    filled = [a.format(file=a_file, dir=tmp_path) for a in argv]
    refused(capsys, filled, code)
    assert a_file.read_text() == "keep me\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file"]  # nothing written anywhere


def test_exported_artifacts_are_readable_by_everyone(tmp_path: Path) -> None:
    assert run(["contracts", "export", str(tmp_path / "artifacts")]) == 0
    modes = {p.name: p.stat().st_mode & 0o777 for p in (tmp_path / "artifacts").iterdir()}
    assert modes and all(mode & 0o044 == 0o044 for mode in modes.values()), modes


@pytest.mark.parametrize("name", ["", "   "])
def test_a_token_is_never_deployed_with_an_empty_name(capsys: pytest.CaptureFixture[str], name: str) -> None:
    refused(capsys, ["chain", "deploy", "--symbol", "ZED", "--name", name], "INVALID_NAME")


# ---------------------------------------------------------------- replay-day narrates what happened


def test_replay_day_narrates_an_order_that_ended_unfilled(capsys: pytest.CaptureFixture[str]) -> None:
    import json

    assert run(["replay-day", "--day", "2014-12-31", "--json"]) == 0  # the next open is past the history
    rows = json.loads(capsys.readouterr().out)["rows"]
    labels = [r["event"] for r in rows]
    assert not any("fills" in label for label in labels if "next open" in label)
    ended = [r for r in rows if r["event"].startswith("ended unfilled")]
    assert ended and "STALE_PRICE" in ended[0]["status"]


@pytest.mark.parametrize(("day", "says"), [("2020-03-16", "past its end"), ("2012-01-03", "no earlier bar")])
def test_replay_day_says_which_end_of_the_history_a_day_misses(
    capsys: pytest.CaptureFixture[str], day: str, says: str
) -> None:
    line = refused(capsys, ["replay-day", "--day", day], "NO_PRICE_HISTORY")
    assert says in line


# ---------------------------------------------------------------- chain deploy is recorded where it lasts


def test_chain_deploy_on_a_node_is_recorded_and_listed(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    with AnvilNode(binary=anvil_binary()) as node:
        monkeypatch.setenv("EQUITOKEN_CHAIN_URL", node.url)
        assert run(["chain", "deploy", "--symbol", "ZED", "--json"]) == 0
        deployed = json.loads(capsys.readouterr().out)
        assert deployed["recorded"] is True
        assert run(["chain", "list", "--json"]) == 0
        listed = json.loads(capsys.readouterr().out)["deployments"]
        assert [(d["symbol"], d["token"]) for d in listed] == [("ZED", deployed["token"])]


def test_chain_deploy_on_the_embedded_chain_says_it_is_not_kept(capsys: pytest.CaptureFixture[str]) -> None:
    import json

    assert run(["chain", "deploy", "--symbol", "ZED", "--json"]) == 0
    out = capsys.readouterr()
    assert json.loads(out.out)["recorded"] is False and "forgets these contracts" in out.err
    assert run(["chain", "list", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["deployments"] == []


# ---------------------------------------------------------------- the public development seed


def test_the_public_development_seed_signs_nothing_on_a_chain_that_is_not_a_development_chain(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from equitoken.adapters.chain.factory import build_chain
    from equitoken.domain.chains import DEVELOPMENT_SEED
    from equitoken.domain.errors import DomainError

    with AnvilNode(binary=anvil_binary(), chain_id=1) as mainnet_like:  # chain id 1: Ethereum's
        with pytest.raises(DomainError) as refused_build:
            build_chain(mainnet_like.url, DEVELOPMENT_SEED)
        assert refused_build.value.code == "DEV_KEY_ON_REAL_CHAIN"
        monkeypatch.setenv("EQUITOKEN_CHAIN_URL", mainnet_like.url)
        refused(capsys, ["chain", "deploy", "--symbol", "ZED"], "DEV_KEY_ON_REAL_CHAIN")
        own = build_chain(mainnet_like.url, "an operator's own seed")  # its own keys: allowed
        assert own.chain_id == 1
        own.close()
