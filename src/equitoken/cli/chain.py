"""``equitoken contracts export`` and ``equitoken chain deploy``: standard artifacts and a full deployment.

Two Typer groups, registered by ``cli.main``: ``contracts_app`` as ``contracts`` and ``chain_app`` as
``chain``. The chain is the configured one (``chain_url``: empty = a fresh in-process EVM; ``chain_seed``
derives the wallets), overridable per command with ``--url`` and ``--seed``.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Annotated, Any

import typer

from equitoken.cli.output import JsonFlag, emit_json, emit_pairs, emit_table, fail, output_dir
from equitoken.domain.ids import Symbol

contracts_app = typer.Typer(help="The Vyper contracts as standard artifacts.", no_args_is_help=True)
chain_app = typer.Typer(
    help="Deploy and inspect security tokens on the configured chain.", no_args_is_help=True
)


@contracts_app.command("export")
def export(
    target: Annotated[
        str, typer.Argument(metavar="DIRECTORY", help="Where to write NAME.json (created if missing).")
    ],
    json_out: JsonFlag = False,
) -> None:
    """Write one NAME.json per contract (ABI, bytecode, constructor arguments, compiler, source hash)."""
    from equitoken.adapters.chain.compiler import export_artifacts

    directory = output_dir(target, "the contract artifacts")

    rows: list[dict[str, Any]] = []
    for path in export_artifacts(directory):
        artifact = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(artifact, dict):
            rows.append(
                {
                    "contract": artifact.get("contractName", path.stem),
                    "file": str(path),
                    "bytecode_bytes": (len(str(artifact.get("bytecode", "0x"))) - 2) // 2,
                    "compiler": artifact.get("compiler", ""),
                    "source_hash": artifact.get("sourceHash", ""),
                }
            )
        else:
            rows.append(
                {
                    "contract": path.stem,
                    "file": str(path),
                    "bytecode_bytes": 0,
                    "compiler": "",
                    "source_hash": "",
                }
            )
    if json_out:
        emit_json({"directory": str(directory), "artifacts": rows})
        return
    emit_table(rows)


def deploy_all(url: str, seed: str, symbol: str, name: str | None = None) -> dict[str, Any]:
    """Deploy an instrument set, a stablecoin, a settlement contract and a pool; return the addresses."""
    from equitoken.adapters.chain.factory import build_chain

    chain = build_chain(url, seed)
    try:
        ticker = Symbol(symbol)
        instrument = chain.deploy_instrument(ticker, name or f"{ticker.value} tokenized share")
        stablecoin = chain.deploy_stablecoin()
        signer = chain.wallet("platform:signer")
        treasury = chain.wallet("platform:treasury")
        settlement = chain.deploy_quote_settlement(
            instrument, stablecoin, signer, treasury, window=timedelta(days=1)
        )
        pool = chain.deploy_pool(instrument, stablecoin)
        roles = instrument.roles
        return {
            "chain": url or "embedded",
            "chain_id": chain.chain_id,
            "block": chain.block_number(),
            "symbol": ticker.value,
            "token": str(instrument.token),
            "identity_registry": str(instrument.registry),
            "compliance": str(instrument.compliance),
            "stablecoin": str(stablecoin),
            "quote_settlement": str(settlement),
            "pool": str(pool),
            "decimals": instrument.decimals,
            "roles": {
                "admin": str(roles.admin),
                "issuer": str(roles.issuer),
                "agent": str(roles.agent),
                "pauser": str(roles.pauser),
                "corporate_actions": str(roles.corporate_actions),
                "quote_signer": str(signer),
                "treasury": str(treasury),
            },
        }
    finally:
        chain.close()


@chain_app.command("deploy")
def deploy(
    symbol: Annotated[str, typer.Option("--symbol", help="Ticker of the instrument to deploy.")] = "AAPL",
    name: Annotated[
        str | None, typer.Option("--name", help="Token name (default: '<SYMBOL> tokenized share').")
    ] = None,
    url: Annotated[
        str | None,
        typer.Option("--url", help="JSON-RPC URL (default: the chain_url setting; empty = embedded)."),
    ] = None,
    seed: Annotated[
        str | None, typer.Option("--seed", help="Key seed (default: the chain_seed setting).")
    ] = None,
    json_out: JsonFlag = False,
) -> None:
    """Deploy a full instrument set (registry, compliance, token) with stablecoin, settlement and pool."""
    from equitoken.app.settings import load_settings

    if name is not None and not name.strip():
        fail("INVALID_NAME", "a token needs a name; leave --name out for '<SYMBOL> tokenized share'")
    settings = load_settings()
    chain_url = settings.chain_url if url is None else url
    result = deploy_all(chain_url, settings.chain_seed if seed is None else seed, symbol, name)
    result["recorded"] = bool(chain_url)
    if chain_url:
        _record_deployment(result)
    else:  # recording contracts that end with this process would be a lie
        typer.echo(
            "equitoken: the embedded chain forgets these contracts when this command ends (not recorded);"
            " set EQUITOKEN_CHAIN_URL or --url to deploy on a node that keeps them",
            err=True,
        )
    if json_out:
        emit_json(result)
        return
    flat = {k: v for k, v in result.items() if k != "roles"}
    flat.update({f"role.{k}": v for k, v in result["roles"].items()})
    emit_pairs(flat)


instrument_app = typer.Typer(help="Instruments under a compliance policy (journaled).", no_args_is_help=True)
chain_app.add_typer(instrument_app, name="instrument")


@instrument_app.command("add")
def instrument_add(
    symbol: Annotated[str, typer.Option("--symbol", help="Ticker of the instrument.")],
    policy: Annotated[
        str, typer.Option("--policy", help="A shipped policy (equitoken compliance policies).")
    ],
    decimals: Annotated[int, typer.Option("--decimals", help="Token decimals.")] = 18,
    distribution_start: Annotated[
        str | None,
        typer.Option("--distribution-start", help="Offering start, ISO-8601 with zone (Reg S flowback)."),
    ] = None,
    json_out: JsonFlag = False,
) -> None:
    """Register an instrument under a policy, deploy it on the configured chain and sync it."""
    from equitoken.app.bootstrap import bootstrap
    from equitoken.app.compliance_desk import open_desk
    from equitoken.cli.output import parse_instant

    platform = bootstrap()
    start = None if distribution_start is None else parse_instant(distribution_start, platform.clock.now())
    instrument = open_desk(platform).register(
        Symbol(symbol), policy, decimals=decimals, distribution_start=start
    )
    data = {
        "symbol": instrument.symbol.value,
        "policy": policy,
        "token": str(instrument.token),
        "identity_registry": str(instrument.registry),
        "compliance": str(instrument.compliance),
    }
    if json_out:
        emit_json(data)
        return
    emit_pairs(data)


DEPLOYMENTS = "deployments"
"""Journal stream of ``chain deploy`` runs on a node: what was deployed where, for ``chain list``."""


def _record_deployment(result: dict[str, Any]) -> None:
    from equitoken.app.bootstrap import bootstrap

    platform = bootstrap()
    key = f"deploy:{result['chain_id']}:{result['token']}"  # one record per token contract, however re-run
    platform.store.append_event(DEPLOYMENTS, "ContractsDeployed", key, platform.clock.now(), result)


@chain_app.command("list")
def list_instruments(json_out: JsonFlag = False) -> None:
    """List the journaled instruments: policy, addresses on the configured chain, holdings, whitelist."""
    from equitoken.app.bootstrap import bootstrap
    from equitoken.app.compliance_desk import open_desk

    desk = open_desk(bootstrap())
    live = desk.open()
    rows: list[dict[str, Any]] = []
    for state in desk.instruments.book.instruments():
        instrument = live[state.symbol]
        rows.append(
            {
                "symbol": state.symbol.value,
                "policy": state.policy,
                "token": str(instrument.token),
                "compliance": str(instrument.compliance),
                "holdings": len(state.holdings),
                "whitelisted": len(state.whitelist),
                "distribution_start": state.distribution_start,
            }
        )
    chain_id = desk.chain.chain_id
    deployed = [
        {k: e.payload[k] for k in ("symbol", "token", "stablecoin", "quote_settlement", "pool", "block")}
        for e in desk.store.events(DEPLOYMENTS)
        if e.payload.get("chain_id") == chain_id
    ]
    if json_out:
        emit_json({"chain_id": chain_id, "instruments": rows, "deployments": deployed})
        return
    emit_table(rows)
    if deployed:
        typer.echo("")
        emit_table(deployed)
