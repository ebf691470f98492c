"""``equitoken contracts export`` and ``equitoken chain deploy`` (on the embedded chain)."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from typer.testing import CliRunner

from equitoken.cli.chain import chain_app, contracts_app

app = typer.Typer()
app.add_typer(contracts_app, name="contracts")
app.add_typer(chain_app, name="chain")


def test_export_writes_standard_artifacts(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["contracts", "export", str(tmp_path), "--json"])
    assert result.exit_code == 0, result.output
    listed = {row["contract"] for row in json.loads(result.output)["artifacts"]}
    assert {"SecurityToken", "Compliance", "IdentityRegistry", "Stablecoin"} <= listed
    artifact = json.loads((tmp_path / "SecurityToken.json").read_text())
    assert artifact["abi"] and artifact["bytecode"].startswith("0x")
    assert artifact["compiler"] == "vyper-0.4.3" and artifact["sourceHash"].startswith("sha256:")
    assert [a["name"] for a in artifact["constructorArguments"]][:2] == ["name_", "symbol_"]


def test_deploy_prints_every_address() -> None:
    result = CliRunner().invoke(app, ["chain", "deploy", "--symbol", "MSFT", "--url", "", "--json"])
    assert result.exit_code == 0, result.output
    deployed = json.loads(result.stdout)  # stderr says the embedded contracts are not kept
    assert deployed["chain"] == "embedded" and deployed["symbol"] == "MSFT"
    for key in ("token", "identity_registry", "compliance", "stablecoin", "quote_settlement", "pool"):
        assert deployed[key].startswith("0x") and len(deployed[key]) == 42
    assert len(set(deployed["roles"].values())) == len(deployed["roles"])  # roles kept separate
