"""Bad input, table-driven, across every command family and setting (issue 11).

Each case is one CLI invocation that must end with exactly one stderr line
``equitoken: error CODE: sentence``, exit status 2, and leave the store as it found it (its rows
digested before and after). The embedded chain is rebuilt from the store by every command, so the store
is the whole state. The cases are generated from small tables: bad values per kind of argument, crossed
with every command that takes that kind.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from equitoken.cli.main import run

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "compliance-onboard.json"
CASES = Path(__file__).resolve().parents[2] / "examples" / "compliance-cases.json"
ANNA, BEN = "0x00000000000000000000000000000000000a0001", "0x00000000000000000000000000000000000b0001"
ONE_LINE = re.compile(r"^equitoken: error [A-Z][A-Z0-9_]*: \S.*$")


@dataclass(frozen=True)
class Case:
    """One invocation: its argv (``{dir}`` is the case's scratch dir), environment and files to write."""

    id: str
    argv: tuple[str, ...]
    env: tuple[tuple[str, str], ...] = ()
    files: tuple[tuple[str, bytes], ...] = ()
    code: str | None = None
    """The reason code expected, where the category pins it."""


# ------------------------------------------------------------------------------------ the bad values

BAD_SETTINGS: list[tuple[str, str]] = [
    ("EQUITOKEN_CALENDAR", "XXXX"),
    ("EQUITOKEN_DATABASE_URL", "garbage"),
    ("EQUITOKEN_DATABASE_URL", "mysql://u@h/db"),
    ("EQUITOKEN_DATA_DIR", ""),
    ("EQUITOKEN_CHAIN_URL", "http://[::1"),
    ("EQUITOKEN_CHAIN_URL", "ftp://node"),
    ("EQUITOKEN_CHAIN_SEED", ""),
    ("EQUITOKEN_FEE_FIXED_USD", "1e999"),
    ("EQUITOKEN_FEE_FIXED_USD", "-1"),
    ("EQUITOKEN_FEE_SPREAD_BPS", "1e999999999"),
    ("EQUITOKEN_FEE_OFF_HOURS_SPREAD_BPS", "abc"),
    ("EQUITOKEN_BROKER_SLIPPAGE_BPS", "1000"),
    ("EQUITOKEN_PRICE_MAX_AGE_DAYS", "-1"),
    ("EQUITOKEN_PRICE_BAND_BPS", "NaN"),
    ("EQUITOKEN_RISK_WINDOW_HOURS", "0"),
    ("EQUITOKEN_RISK_GLOBAL_USD", "9" * 5000),
    ("EQUITOKEN_PRE_MARKET_OPEN", "25:00"),
    ("EQUITOKEN_AFTER_HOURS_CLOSE", "noon"),
    ("EQUITOKEN_SANCTIONS_FILE", "/nonexistent.csv"),
    ("EQUITOKEN_TRUSTEE_KEY_FILE", "/nonexistent.key"),
    ("EQUITOKEN_TRUSTEE_KEY_FILE", "/"),
    ("EQUITOKEN_LOG_LEVEL", "LOUD"),
    ("EQUITOKEN_LOG_FORMAT", "xml"),
]
SETTING_COMMANDS: list[tuple[str, ...]] = [
    ("config", "show"),
    ("market", "status"),
    ("chain", "list"),
    ("compliance", "diff"),
]

BAD_INSTANTS = [
    "yesterday",
    "2026-13-01T00:00:00Z",
    "2026-11-31T00:00:00Z",
    "2026-11-27T18:30:00",  # no zone
    "9999-12-31T23:59:59-12:00",
    "0001-01-01T00:00:00+01:00",
    "",
    "2026-11-27T25:00:00Z",
    "1e9",
    "2026-11-27T18:30:00+99:00",
    "\x00",
    "2" * 5000,
]
INSTANT_COMMANDS: list[tuple[str, ...]] = [
    ("market", "status", "--at"),
    ("market", "price", "AAPL", "--at"),
    (
        "chain",
        "instrument",
        "add",
        "--symbol",
        "NEWCO",
        "--policy",
        "direct-ownership",
        "--distribution-start",
    ),
]

BAD_DAYS = ["", "yesterday", "2014-02-30", "2014-12-25", "2014-12-27", "1990-01-02", "2099-01-02", "2014-1-2"]

BAD_AMOUNTS = [
    "",
    "abc",
    "-5",
    "0",
    "NaN",
    "Infinity",
    "1e999999999",
    "1e-999999999",
    "9" * 5000,
    "1e60",
    "0.0000000001",  # finer than a billionth of a share
    "1,5",
    "0x10",
    "5 shares",
]

BAD_WALLETS = [
    "",
    "0x",
    "0x123",
    "00000000000000000000000000000000000a0001",  # no 0x
    "0x00000000000000000000000000000000000a000g",
    "0x00000000000000000000000000000000000a00011",
    "0x0000000000000000000000000000000000000000",  # the zero address
    "alice",
    "0x" + "a" * 5000,
    "0x00000000000000000000000000000000000aBcD1",  # mixed case that fails its EIP-55 checksum
]
WALLET_COMMANDS: list[Callable[[str], tuple[str, ...]]] = [
    lambda w: ("compliance", "check", "--instrument", "ACME", "--from", w, "--to", BEN, "--amount", "1"),
    lambda w: ("compliance", "check", "--instrument", "ACME", "--from", ANNA, "--to", w, "--amount", "1"),
    lambda w: ("reserves", "prove", w, "--symbol", "KO", "--dir", "{dir}/pkg"),
    lambda w: ("reserves", "verify", "{dir}/pkg/attestation.json", "--trustee", w),
]

BAD_SYMBOLS = ["", "acme!", "A" * 40, "NOPE", "ÄCME", " ", "AC ME", "1234567890123"]
SYMBOL_COMMANDS: list[Callable[[str], tuple[str, ...]]] = [
    lambda s: ("market", "price", s),
    lambda s: ("compliance", "check", "--instrument", s, "--from", ANNA, "--to", BEN, "--amount", "1"),
    lambda s: ("compliance", "diff", "--instrument", s),
    lambda s: ("reserves", "prove", ANNA, "--symbol", s, "--dir", "{dir}/pkg"),
]


def _deep(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


BAD_FILES: dict[str, bytes | None] = {
    "missing": None,
    "directory": b"<dir>",
    "empty": b"",
    "not-utf8": b"\xff\xfe\x00\x01garbage",
    "not-json": b"{this is not json",
    "json-array": b"[1, 2, 3]",
    "json-string": b'"hello"',
    "deep-json": _deep(100_000),
    "huge-int": b'{"n": ' + b"9" * 5000 + b"}",
    "nul-bytes": b"\x00" * 64,
    "huge-field": b"holder,balance\n" + b"a" * (200 * 1024) + b",1\n",
}
FILE_COMMANDS: list[Callable[[str], tuple[str, ...]]] = [
    lambda f: ("compliance", "onboard", f),
    lambda f: ("compliance", "evaluate", f),
    lambda f: ("compliance", "sanctions", f),
    lambda f: (
        "compliance",
        "check",
        "--instrument",
        "ACME",
        "--from",
        ANNA,
        "--to",
        BEN,
        "--amount",
        "1",
        "--sanctions",
        f,
    ),
    lambda f: ("reserves", "verify", f, "--trustee", ANNA),
    lambda f: ("reserves", "verify", "{dir}/pkg/attestation.json", "--proof", f, "--trustee", ANNA),
    lambda f: ("reserves", "merkle", "--holders", f),
    lambda f: ("reserves", "prove", ANNA, "--symbol", "KO", "--dir", f),  # a package that is not one
]

BAD_CONFIG_FILES: dict[str, bytes | None] = {
    "config-directory": b"<dir>",
    "config-missing": None,
    "config-not-utf8": b"\xff\xfe[equitoken]\n",
    "config-not-toml": b"[equitoken\ncalendar = ",
    "config-not-a-table": b"equitoken = 5\n",
    "config-unknown-key": b"[equitoken]\nno_such_setting = 1\n",
    "config-bad-value": b'[equitoken]\nfee_fixed_usd = "1e999"\n',
}

USAGE: list[tuple[str, ...]] = [
    ("no-such-command",),
    ("market", "no-such"),
    ("market", "status", "--no-such-option"),
    ("market", "price"),
    ("compliance", "check", "--instrument", "ACME"),
    (
        "compliance",
        "check",
        "--instrument",
        "ACME",
        "--from",
        ANNA,
        "--from",
        BEN,
        "--to",
        BEN,
        "--amount",
        "1",
    ),
    ("bench", "no-such-part"),
    ("chain", "instrument", "add", "--symbol", "ZED"),
    ("chain", "instrument", "add", "--symbol", "ZED", "--policy", "no-such-policy"),
    ("chain", "instrument", "add", "--symbol", "ZED", "--policy", "direct-ownership", "--decimals", "19"),
    ("chain", "instrument", "add", "--symbol", "ZED", "--policy", "direct-ownership", "--decimals", "-1"),
    ("chain", "instrument", "add", "--symbol", "ACME", "--policy", "direct-ownership"),  # exists
    ("chain", "deploy", "--name", ""),
    ("demo", "--seed", ""),
    ("reserves", "attest", "--out", ""),
    ("reserves", "attest", "--out", "{dir}/a-file"),
    ("contracts", "export", ""),
    ("bench", "ledger", "--save", ""),
]

ONBOARDING = json.loads(EXAMPLE.read_text(encoding="utf-8"))


def _onboarding(change: Callable[[dict[str, object]], None]) -> bytes:
    data = json.loads(json.dumps(ONBOARDING))
    change(data)
    return json.dumps(data).encode()


def _set(path: tuple[object, ...], value: object) -> Callable[[dict[str, object]], None]:
    def change(data: dict[str, object]) -> None:
        target: object = data
        for step in path[:-1]:
            target = target[step]  # type: ignore[index]
        target[path[-1]] = value  # type: ignore[index]

    return change


def _twice_with_other_name(data: dict[str, object]) -> None:
    investors = data["investors"]
    assert isinstance(investors, list)
    investors.append(
        {**investors[0], "name": "Someone Else", "wallets": ["0x00000000000000000000000000000000000a0009"]}
    )


BAD_ONBOARDING: dict[str, Callable[[dict[str, object]], None]] = {
    "decimals-fraction": _set(("instruments", 0, "decimals"), 1.5),
    "decimals-bool": _set(("instruments", 0, "decimals"), True),
    "decimals-string": _set(("instruments", 0, "decimals"), "18"),
    "same-investor-other-name": _twice_with_other_name,
    "shares-negative": _set(("holdings", 0, "shares"), "-500"),
    "shares-float": _set(("holdings", 0, "shares"), 500.5),
    "shares-huge": _set(("holdings", 0, "shares"), "1e999999999"),
    "acquired-no-zone": _set(("holdings", 0, "acquired_at"), "2025-09-15T00:00:00"),
    "acquired-far": _set(("holdings", 0, "acquired_at"), "9999-12-31T23:59:59-12:00"),
    "kyc-expiry-garbage": _set(("investors", 0, "kyc", "expires"), "soon"),
    "residence-unknown": _set(("investors", 0, "residence"), "ZZ"),
    "category-unknown": _set(("investors", 0, "category"), "whale"),
    "wallet-bad": _set(("investors", 0, "wallets"), ["0x123"]),
    "policy-unknown": _set(("instruments", 0, "policy"), "nope"),
    "distribution-far": _set(("instruments", 0, "distribution_start"), "9999-12-31T23:59:59Z"),
    "holding-unknown-instrument": _set(("holdings", 0, "instrument"), "NOPE"),
    "whitelist-unknown-investor": _set(("whitelist", 0, "investors"), ["inv-nobody"]),
    "investors-not-list": _set(("investors",), {"a": 1}),
    "unknown-top-level-key": _set(("surprise",), []),
}

CASE_FILE = json.loads(CASES.read_text(encoding="utf-8"))


def _cases(change: Callable[[dict[str, object]], None]) -> bytes:
    data = json.loads(json.dumps(CASE_FILE))
    change(data)
    return json.dumps(data).encode()


BAD_WHAT_IF: dict[str, Callable[[dict[str, object]], None]] = {
    "negative-notional": _set(("cases", 0, "notional"), "-100"),
    "shares-zero": _set(("cases", 0, "shares"), "0"),
    "shares-huge": _set(("cases", 0, "shares"), "1e999999999"),
    "at-no-zone": _set(("cases", 0, "at"), "2026-12-01T15:00:00"),
    "unknown-policy": _set(("cases", 0, "policy"), "nope"),
    "unknown-action": _set(("cases", 0, "action"), "steal"),
    "duplicate-id": lambda d: d["cases"].append(d["cases"][0]),  # type: ignore[attr-defined]
    "cases-not-list": _set(("cases",), "all"),
}


def _generate() -> list[Case]:
    cases: list[Case] = []
    for j, (variable, value) in enumerate(BAD_SETTINGS):
        for argv in SETTING_COMMANDS:
            cases.append(
                Case(
                    f"setting-{j}-{variable}={value[:12]}-{'-'.join(argv)}",
                    argv,
                    ((variable, value),),
                    code="INVALID_SETTING",
                )
            )
    for name, content in BAD_CONFIG_FILES.items():
        for argv in SETTING_COMMANDS:
            files = () if content is None else (("equitoken.toml", content),)
            env = (("EQUITOKEN_CONFIG", "{dir}/equitoken.toml"),)
            cases.append(Case(f"{name}-{'-'.join(argv)}", argv, env, files))
    for j, value in enumerate(BAD_INSTANTS):
        for argv in INSTANT_COMMANDS:
            cases.append(Case(f"instant-{j}-{value[:20]!r}-{argv[1]}", (*argv, value)))
    for value in BAD_DAYS:
        cases.append(Case(f"day-{value!r}", ("replay-day", "--day", value)))
    for value in BAD_AMOUNTS:
        argv = ("compliance", "check", "--instrument", "ACME", "--from", ANNA, "--to", BEN, "--amount", value)
        cases.append(Case(f"amount-{value[:20]!r}", argv))
    for j, value in enumerate(BAD_WALLETS):
        for i, make in enumerate(WALLET_COMMANDS):
            cases.append(Case(f"wallet-{j}-{value[:20]!r}-{i}", make(value)))
    for j, value in enumerate(BAD_SYMBOLS):
        for i, make in enumerate(SYMBOL_COMMANDS):
            cases.append(Case(f"symbol-{j}-{value[:12]!r}-{i}", make(value)))
    for name, content in BAD_FILES.items():
        for i, make in enumerate(FILE_COMMANDS):
            files = () if content is None else (("input", content),)
            cases.append(Case(f"file-{name}-{i}", make("{dir}/input"), files=files))
    for i, argv in enumerate(USAGE):
        files = (("a-file", b"x"),) if "{dir}/a-file" in argv else ()
        cases.append(Case(f"usage-{i}-{'-'.join(a for a in argv if a)[:40]}", argv, files=files))
    for name, change in BAD_ONBOARDING.items():
        cases.append(
            Case(
                f"onboarding-{name}",
                ("compliance", "onboard", "{dir}/input"),
                files=(("input", _onboarding(change)),),
            )
        )
    for name, change in BAD_WHAT_IF.items():
        cases.append(
            Case(
                f"what-if-{name}",
                ("compliance", "evaluate", "{dir}/input"),
                files=(("input", _cases(change)),),
            )
        )
    return cases


ALL = _generate()


def test_the_table_is_large_and_covers_every_family() -> None:
    assert len(ALL) >= 300
    assert len({c.id for c in ALL}) == len(ALL)
    families = {c.argv[0] for c in ALL}
    assert families >= {
        "config",
        "market",
        "chain",
        "compliance",
        "reserves",
        "replay-day",
        "demo",
        "bench",
        "contracts",
    }


# ------------------------------------------------------------------------------------ the world they run in


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Return a data dir with the example onboarded and an attestation package at ``<root>/pkg``."""
    root = tmp_path_factory.mktemp("bad-input")
    saved = {k: v for k, v in os.environ.items() if k.startswith("EQUITOKEN_")}
    for name in saved:
        del os.environ[name]
    os.environ["EQUITOKEN_DATA_DIR"] = str(root / "data")
    cwd = Path.cwd()
    os.chdir(root)
    try:
        assert run(["compliance", "onboard", str(EXAMPLE)]) == 0
        assert run(["reserves", "attest", "--out", str(root / "pkg")]) == 0
        yield root
    finally:
        os.chdir(cwd)
        os.environ.pop("EQUITOKEN_DATA_DIR", None)
        os.environ.update(saved)


def _digest(data_dir: Path) -> str:
    connection = sqlite3.connect(data_dir / "equitoken.db")
    try:
        return hashlib.sha256("\n".join(connection.iterdump()).encode()).hexdigest()
    finally:
        connection.close()


@pytest.mark.parametrize("case", ALL, ids=[c.id for c in ALL])
def test_bad_input_is_one_line_exit_2_and_changes_nothing(
    case: Case,
    world: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    scratch = tmp_path
    for name, content in case.files:
        if content == b"<dir>":
            (scratch / name).mkdir()
        else:
            (scratch / name).write_bytes(content)
    (scratch / "pkg").symlink_to(world / "pkg")
    for variable, value in case.env:
        monkeypatch.setenv(variable, value.replace("{dir}", str(scratch)))
    argv = [a.replace("{dir}", str(scratch)) for a in case.argv]
    before = _digest(world / "data")
    capsys.readouterr()
    status = run(argv)
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 2, (status, err)
    assert len(err) == 1, err
    assert ONE_LINE.match(err[0]), err[0]
    assert len(err[0]) < 600, err[0][:200]  # a 5,000-character input is not echoed whole
    if case.code is not None:
        assert err[0].startswith(f"equitoken: error {case.code}:"), err[0]
    assert _digest(world / "data") == before
