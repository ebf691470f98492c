"""``compliance onboard`` against a real node (anvil): every command a fresh desk over the node's state.

The same file twice mints nothing the second time; a kill right after a mint landed (before its outcome
was journaled), then a re-run, leaves exactly one mint per holding on the chain.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from equitoken.adapters.chain.anvil import AnvilNode
from equitoken.adapters.chain.facade import ChainFacade
from equitoken.cli.main import run
from equitoken.domain.ids import Symbol, WalletAddress
from tests.chain.anvil_support import anvil_binary

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "compliance-onboard.json"
ANNA = WalletAddress("0x00000000000000000000000000000000000a0001")
BEN = WalletAddress("0x00000000000000000000000000000000000b0001")


class Killed(Exception):
    """The process died here."""


@pytest.fixture
def node(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[AnvilNode]:
    for name in list(os.environ):
        if name.startswith("EQUITOKEN_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("EQUITOKEN_DATA_DIR", str(tmp_path / "data"))
    with AnvilNode(binary=anvil_binary()) as started:
        monkeypatch.setenv("EQUITOKEN_CHAIN_URL", started.url)
        yield started


def onboard(capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    assert run(["compliance", "onboard", str(EXAMPLE), "--json"]) == 0, capsys.readouterr().err
    loaded: dict[str, Any] = json.loads(capsys.readouterr().out)
    return loaded


def outcomes() -> list[bool]:
    """Return, per journaled mint outcome, whether it was found on the chain (rather than sent)."""
    from equitoken.app.bootstrap import bootstrap
    from equitoken.app.outbox import CONFIRMED, STREAM

    platform = bootstrap()
    assert platform.settings.chain_url  # a node, not the embedded chain
    return [bool(e.payload["found"]) for e in platform.store.events(STREAM) if e.type == CONFIRMED]


def acme_balances() -> tuple[Decimal, Decimal, int]:
    """Return Anna's and Ben's ACME balances and the number of ACME mints the node logged."""
    from equitoken.app.bootstrap import bootstrap
    from equitoken.app.compliance_desk import open_desk

    desk = open_desk(bootstrap())
    token = desk.instrument(Symbol("ACME")).token
    mints = [
        e
        for e in desk.chain.events(token, 0)
        if e.name == "Transfer" and e.args["sender"] == WalletAddress("0x" + "0" * 40)
    ]
    return (
        desk.chain.balance_of(token, ANNA).value,
        desk.chain.balance_of(token, BEN).value,
        len(mints),
    )


def test_the_same_file_twice_on_a_node_mints_once(
    node: AnvilNode, capsys: pytest.CaptureFixture[str]
) -> None:
    first = onboard(capsys)
    assert first["holdings_issued"] == 4
    again = onboard(capsys)
    assert again["holdings_issued"] == 0 and again["mints_sent"] == 0
    assert acme_balances() == (Decimal(500), Decimal(300), 2)
    assert outcomes() == [False] * 4
    assert run(["compliance", "diff", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"drift": []}


def test_a_kill_after_a_mint_landed_then_a_rerun_mints_exactly_once(
    node: AnvilNode, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    real = ChainFacade.mint

    def mint_then_die(self: ChainFacade, *args: Any) -> Any:
        real(self, *args)
        raise Killed  # the process dies before the outcome is journaled

    with monkeypatch.context() as patched, pytest.raises(Killed):
        patched.setattr(ChainFacade, "mint", mint_then_die)
        run(["compliance", "onboard", str(EXAMPLE)])
    capsys.readouterr()
    rerun = onboard(capsys)
    assert rerun["holdings_issued"] == 0 and rerun["mints_found"] == 1 and rerun["mints_sent"] == 3
    assert acme_balances() == (Decimal(500), Decimal(300), 2)
    assert sorted(outcomes()) == [False, False, False, True]
