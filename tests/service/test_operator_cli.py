"""The operator's commands give the same answer over the local store and, with ``--url``, from a server.

Two live platforms on the same seed start empty: one served on a loopback port (``equitoken serve``,
not a sandbox), one the CLI opens itself over a data directory of its own. The same commands run
against both, in the same order; their exit status, output (``--json`` and tables) and error line
must agree once what differs by nature is masked (instants, transaction hashes, key ids, secrets).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from equitoken.cli.main import run
from tests.service.server import Server, free_port

SEED = "operator-cli-test"
MASKS = (
    (re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|\+00:00)"), "<instant>"),
    (re.compile(r"0x[0-9a-fA-F]{64}"), "<hash>"),
    (re.compile(r"eqk_[A-Za-z0-9_\-]+"), "<secret>"),
    (re.compile(r"\b[0-9a-f]{32}\b"), "<id>"),
    (re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b"), "<uuid>"),
    (re.compile(r'("(as_of_)?block": |block +)\d+'), r"\1<block>"),  # a server's ticks mine blocks too
    (re.compile(r"api-key:[A-Za-z0-9_-]+"), "api-key:<key>"),  # the local operator, or the server's key
    (re.compile(r'("key_id": |key_id +)"?[A-Za-z0-9_-]+"?'), r"\1<key>"),
)


@dataclass(frozen=True)
class Ran:
    """What one command did: its exit status and what it printed."""

    status: int
    out: str
    err: str

    def masked(self) -> Ran:
        """Return the run with what differs by nature between two platforms masked."""

        def mask(text: str) -> str:
            for pattern, placeholder in MASKS:
                text = pattern.sub(placeholder, text)
            return text

        return Ran(self.status, mask(self.out), mask(self.err))


class Cli:
    """Run ``equitoken`` in process, over the local store or against ``url`` with ``key``."""

    def __init__(
        self, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], local: Path
    ) -> None:
        self.monkeypatch = monkeypatch
        self.capsys = capsys
        monkeypatch.setenv("EQUITOKEN_DATA_DIR", str(local))
        monkeypatch.setenv("EQUITOKEN_CHAIN_SEED", SEED)
        monkeypatch.delenv("EQUITOKEN_API_KEY", raising=False)

    def __call__(self, *args: str) -> Ran:
        """Run one command line and return what it did."""
        self.capsys.readouterr()
        status = run(list(args))
        printed = self.capsys.readouterr()
        return Ran(status, printed.out, printed.err)


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """Return a live (not sandbox) server over a data directory of its own."""
    server = Server(tmp_path_factory.mktemp("remote"), args=(), env={"EQUITOKEN_CHAIN_SEED": SEED})
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> Cli:
    """Return the CLI with a fresh local store."""
    return Cli(monkeypatch, capsys, tmp_path / "local")


WALLET = "0x00000000000000000000000000000000000b0001"
COMMANDS: tuple[tuple[str, ...], ...] = (
    ("listings", "add", "MSFT", "--model", "instant", "--policy", "instant-execution", "--json"),
    ("listings", "add", "MSFT", "--model", "instant", "--policy", "instant-execution"),  # refused: listed
    ("listings", "list"),
    ("listings", "show", "MSFT", "--json"),
    ("listings", "show", "NOPE"),
    ("investors", "onboard", "inv-a", "--name", "A", "--residence", "DE", "--category", "professional"),
    ("investors", "onboard", "inv-b", "--name", "B", "--residence", "FR", "--category", "retail", "--json"),
    ("investors", "onboard", "inv-a", "--name", "A", "--residence", "DE", "--category", "professional"),
    ("investors", "list"),
    ("investors", "show", "inv-a", "--json"),
    ("investors", "kyc", "inv-b", "pending", "--reason", "documents expired", "--json"),
    ("investors", "kyc", "inv-b", "verified"),
    ("investors", "suspend", "inv-b", "--reason", "under review"),
    ("investors", "whitelist", "inv-a", "MSFT", "--json"),
    ("cash", "deposit", "inv-a", "1000", "--json"),
    ("cash", "deposit", "inv-a", "-5"),
    ("cash", "withdraw", "inv-a", "10", "--to", WALLET, "--json"),
    ("cash", "redeem", "inv-a", "15"),
    ("investors", "holdings", "inv-a", "--json"),
    ("orders", "submit", "inv-a", "MSFT", "buy", "--notional", "100"),  # the bundled price is stale
    ("orders", "list", "--json"),
    ("orders", "cancel", "no-such-order"),
    ("enforcement", "freeze", "MSFT", "--investor", "inv-a", "--reason", "court order", "--json"),
    ("enforcement", "unfreeze", "MSFT", "--investor", "inv-a", "--reason", "order lifted"),
    ("enforcement", "freeze", "MSFT", "--wallet", WALLET, "--tokens", "1", "--reason", "partial"),
    ("enforcement", "force-transfer", "MSFT", "inv-a", "inv-b", "1", "--reason", "estate"),
    ("enforcement", "recover", "MSFT", "inv-a", WALLET, "--reason", "lost key"),
    ("enforcement", "pause", "MSFT", "--reason", "incident"),
    ("enforcement", "unpause", "MSFT", "--reason", "resolved", "--json"),
    ("enforcement", "status", "MSFT", "--json"),
    ("halts", "list"),
    ("halts", "lift", "MSFT", "--reason", "checked"),
    ("reserves", "reconcile", "--symbol", "MSFT", "--json"),
    ("reserves", "history", "--json"),
    ("reserves", "latest"),
    ("reserves", "proof", "1", WALLET),
    ("reserves", "feed", "show", "MSFT", "--json"),
    ("reserves", "feed", "on", "MSFT"),  # refused: no attestation has deployed its feed yet
    ("reserves", "feed", "off", "MSFT", "--json"),  # off already: nothing to send
    ("reserves", "feed", "show", "NOPE"),
    ("corporate-actions", "announce", "split", "MSFT", "--ex-date", "2027-03-01", "--ratio", "2", "--json"),
    ("corporate-actions", "list"),
    ("corporate-actions", "apply", "no-such-action"),
    ("keys", "issue", "auditor", "--name", "books", "--json"),
)


def test_every_command_gives_the_same_answer_locally_and_over_url(live: Server, cli: Cli) -> None:
    remote = ("--url", live.url, "--key", live.key("operator"))
    for command in COMMANDS:
        here = cli(*command).masked()
        there = cli(*command, *remote).masked()
        assert here == there, f"{' '.join(command)}:\nlocal  {here}\nremote {there}"
        assert here.status in (0, 2), f"{' '.join(command)}: {here}"
        assert "Traceback" not in here.err + there.err


def test_a_refusal_over_url_is_one_line_and_status_2(live: Server, cli: Cli) -> None:
    ran = cli("listings", "show", "NOPE", "--url", live.url, "--key", live.key("operator"))
    assert ran.status == 2 and ran.out == ""
    assert re.fullmatch(r"equitoken: error NOT_LISTED: [^\n]+\n", ran.err), ran.err


def test_a_dead_url_is_service_unreachable(cli: Cli) -> None:
    ran = cli("listings", "list", "--url", f"http://127.0.0.1:{free_port()}", "--key", "eqk_x")
    assert ran.status == 2 and ran.err.startswith("equitoken: error SERVICE_UNREACHABLE: "), ran.err
    assert "Traceback" not in ran.err


def test_a_malformed_url_is_a_usage_error(cli: Cli) -> None:
    ran = cli("listings", "list", "--url", "ftp:/nowhere")
    assert ran.status == 2 and ran.err.startswith("equitoken: error USAGE: "), ran.err


def test_a_wrong_or_weak_key_is_refused_with_its_code(live: Server, cli: Cli, tmp_path: Path) -> None:
    ran = cli("listings", "list", "--url", live.url, "--key", "eqk_not-a-key")
    assert ran.status == 2 and ran.err.startswith("equitoken: error API_KEY_INVALID: "), ran.err
    ran = cli("listings", "list", "--url", live.url)
    assert ran.status == 2 and ran.err.startswith("equitoken: error API_KEY_MISSING: "), ran.err
    issued = cli("keys", "issue", "auditor", "--json", "--url", live.url, "--key", live.key("operator"))
    secret = re.search(r'"secret": "([^"]+)"', issued.out)
    assert secret is not None, issued
    key_file = tmp_path / "auditor.key"
    key_file.write_text(secret.group(1) + "\n")
    ran = cli("halts", "lift", "MSFT", "--reason", "x", "--url", live.url, "--key-file", str(key_file))
    assert ran.status == 2 and ran.err.startswith("equitoken: error ACCESS_DENIED: "), ran.err
    cli.monkeypatch.setenv("EQUITOKEN_API_KEY", secret.group(1))
    assert cli("halts", "list", "--url", live.url).status == 0


def test_a_key_for_a_local_command_is_a_usage_error(cli: Cli) -> None:
    ran = cli("listings", "list", "--key", "eqk_x")
    assert ran.status == 2 and ran.err.startswith("equitoken: error USAGE: "), ran.err


@pytest.mark.parametrize("remote", [True, False], ids=["url", "local"])
def test_a_retried_command_with_its_idempotency_key_is_done_once(
    live: Server, cli: Cli, remote: bool
) -> None:
    where = ("--url", live.url, "--key", live.key("operator")) if remote else ()
    investor = f"inv-retry-{'url' if remote else 'local'}"
    onboarded = cli(
        "investors",
        "onboard",
        investor,
        "--name",
        "R",
        "--residence",
        "DE",
        "--category",
        "professional",
        *where,
    )
    if onboarded.status != 0:  # the local store of this test is fresh; the server's is shared
        assert "INVESTOR_EXISTS" in onboarded.err, onboarded
    first = cli("cash", "deposit", investor, "250", "--idempotency-key", f"dep-{investor}", "--json", *where)
    again = cli("cash", "deposit", investor, "250", "--idempotency-key", f"dep-{investor}", "--json", *where)
    assert first.status == again.status == 0, (first, again)
    holdings = cli("investors", "holdings", investor, "--json", *where)
    assert '"cash": "250"' in holdings.out, holdings.out
    other = cli("cash", "deposit", investor, "99", "--idempotency-key", f"dep-{investor}", *where)
    assert other.status == 2 and "IDEMPOTENCY_CONFLICT" in other.err, other
