"""``equitoken compliance``: what-if evaluation, the shipped policies, and instruments on the chain.

``onboard``, ``check``, ``diff`` and ``sync`` work on the journaled state (see ``app.compliance_desk``
for how an instrument exists across invocations, embedded chain or node).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from equitoken.app.compliance import load_cases, load_sanctions, shipped_policies
from equitoken.cli.output import JsonFlag, emit_json, emit_pairs, emit_table
from equitoken.compliance.cases import evaluate_cases
from equitoken.compliance.chain_config import ChainGap, chain_gaps
from equitoken.compliance.rules import Rule
from equitoken.domain.ids import Symbol, WalletAddress
from equitoken.domain.values import Shares

if TYPE_CHECKING:
    from equitoken.app.compliance_desk import ComplianceDesk, TransferCheck

app = typer.Typer(help="Compliance policies and what-if evaluation.", no_args_is_help=True)

EXIT_DISAGREE = 1
"""``compliance check``'s status when the engine and the contracts give different first reasons."""


@app.command("evaluate")
def evaluate(
    cases_file: Annotated[Path, typer.Argument(metavar="CASES.json", help="The what-if cases (see README).")],
    json_out: JsonFlag = False,
) -> None:
    """Evaluate hypothetical actions against the shipped policies, touching no state."""
    results = evaluate_cases(load_cases(cases_file))
    if json_out:
        emit_json({"results": [r.as_dict() for r in results]})
        return
    rows: list[dict[str, Any]] = []
    for result in results:
        base = {
            "id": result.case.id,
            "policy": result.case.policy.name,
            "action": result.case.action.kind.value,
        }
        decision = result.decision
        if decision.allowed:
            waived = ", ".join(f"{o.code.name} waived: {o.reason}" for o in decision.overrides)
            rows.append({**base, "allowed": True, "code": "-", "rule": "-", "message": waived or "-"})
        for v in decision.violations:
            rows.append({**base, "allowed": False, "code": v.code.name, "rule": v.rule, "message": v.message})
    emit_table(rows, ["id", "policy", "action", "allowed", "code", "rule", "message"])


def _rule_data(rule: Rule, gaps: list[ChainGap]) -> dict[str, Any]:
    mine = [g for g in gaps if g.rule == rule.name]
    return {
        "name": rule.name,
        "kind": rule.kind.name,
        "actions": sorted(a.value for a in rule.actions),
        "codes": [c.name for c in rule.kind.codes],
        "description": rule.description,
        "cite": rule.cite,
        "on_chain": "no" if any(g.whole for g in mine) else "partly" if mine else "yes",
        "chain_gaps": [g.why for g in mine],
    }


@app.command("policies")
def policies(json_out: JsonFlag = False) -> None:
    """List the shipped policies, their rules, reason codes and what the contracts cannot enforce."""
    data: list[dict[str, Any]] = []
    for policy in shipped_policies().values():
        gaps = list(chain_gaps(policy))
        data.append(
            {
                "name": policy.name,
                "title": policy.title,
                "model": policy.model.value,
                "description": " ".join(policy.description.split()),
                "rules": [_rule_data(rule, gaps) for rule in policy.rules],
            }
        )
    if json_out:
        emit_json({"policies": data})
        return
    rows = [
        {
            "policy": p["name"],
            "rule": r["name"],
            "kind": r["kind"],
            "actions": ",".join(r["actions"]),
            "codes": ",".join(r["codes"]),
            "on_chain": r["on_chain"],
        }
        for p in data
        for r in p["rules"]
    ]
    emit_table(rows)


@app.command("sanctions")
def sanctions(
    list_file: Annotated[
        Path | None,
        typer.Argument(
            metavar="[LIST.csv]",
            help="A sanctions CSV; default: the configured one (EQUITOKEN_SANCTIONS_FILE, else the sample).",
        ),
    ] = None,
    json_out: JsonFlag = False,
) -> None:
    """Validate a sanctions list and show its entries."""
    from equitoken.app.bootstrap import bootstrap

    loaded = load_sanctions(list_file) if list_file is not None else bootstrap().sanctions
    rows = [
        {"line": e.line, "type": e.type.value, "value": e.value, "list": e.list, "listed_on": e.listed_on}
        for e in loaded.entries
    ]
    if json_out:
        emit_json({"entries": rows})
    else:
        emit_table(rows)


# ---------------------------------------------------------------------- instruments on the chain

SanctionsOption = Annotated[
    Path | None,
    typer.Option(
        "--sanctions",
        metavar="LIST.csv",
        help="A further sanctions list to screen with, on top of the configured one"
        " (EQUITOKEN_SANCTIONS_FILE, else the shipped sample).",
    ),
]


def _desk(sanctions: Path | None) -> ComplianceDesk:
    # Imported here: the chain stack is heavy, and most commands of this group never touch it.
    from equitoken.app.bootstrap import bootstrap
    from equitoken.app.compliance_desk import open_desk

    return open_desk(bootstrap(), sanctions)


@app.command("onboard")
def onboard_command(
    onboarding_file: Annotated[
        Path, typer.Argument(metavar="FILE.json", help="Instruments, investors, holdings.")
    ],
    sanctions: SanctionsOption = None,
    json_out: JsonFlag = False,
) -> None:
    """Record instruments, investors (KYC, wallets), whitelists and holdings at once, then sync the chain.

    All or nothing: a bad entry anywhere records nothing. Loading the same file again changes nothing.
    """
    from equitoken.app.onboarding import onboard, read_onboarding

    plan = read_onboarding(onboarding_file)
    report = onboard(_desk(sanctions), plan)
    data = {
        "instruments": report.instruments,
        "investors": report.investors,
        "wallets_bound": report.wallets,
        "holdings_issued": report.holdings,
        "whitelisted": report.whitelisted,
        "skipped": report.skipped,
        "mints_sent": report.minted,
        "mints_found": report.found_minted,
    }
    if json_out:
        emit_json(data)
        return
    emit_pairs({k: ", ".join(v) if isinstance(v, list) else v for k, v in data.items()})


def _check_data(result: TransferCheck) -> dict[str, Any]:
    on = result.on_chain
    return {
        "instrument": result.instrument.value,
        "from": str(result.sender),
        "to": str(result.receiver),
        "amount": result.shares.value,
        "at": result.at,
        "off_chain": result.off_chain.as_dict(),
        "on_chain": {"allowed": on.allowed, "reason": on.reason.name, "message": on.reason.sentence},
        "agree": result.agree,
        "off_chain_only": sorted({g.rule for g in result.gaps}),
    }


@app.command("check")
def check_command(
    instrument: Annotated[str, typer.Option("--instrument", help="The instrument's symbol.")],
    sender: Annotated[str, typer.Option("--from", help="The sending wallet.")],
    receiver: Annotated[str, typer.Option("--to", help="The receiving wallet.")],
    amount: Annotated[str, typer.Option("--amount", help="Shares to transfer (a decimal number).")],
    sanctions: SanctionsOption = None,
    json_out: JsonFlag = False,
) -> None:
    """Decide a transfer with the engine (every violated rule) and ask the contracts, side by side.

    Exits 1 when the two disagree (a finding to look into, like drift), 0 when they agree.
    """
    # Every input is checked before the desk (and the chain) is opened.
    symbol, source, target, shares = (
        Symbol(instrument),
        WalletAddress(sender),
        WalletAddress(receiver),
        Shares(amount),
    )
    result = _desk(sanctions).check(symbol, source, target, shares)
    data = _check_data(result)
    if json_out:
        emit_json(data)
        _exit_if_disagreeing(result)
        return
    off = result.off_chain
    emit_pairs(
        {
            "instrument": data["instrument"],
            "transfer": f"{data['amount']} from {data['from']} to {data['to']}",
            "at": result.at,
            "off-chain": "allowed" if off.allowed else f"refused ({off.reason.name})",
            "on-chain": "allowed" if result.on_chain.allowed else f"refused ({result.on_chain.reason.name})",
            "agree": result.agree,
        }
    )
    if off.violations:
        typer.echo("")
        emit_table([v.as_dict() for v in off.violations], ["code", "rule", "message"])
    _exit_if_disagreeing(result)


def _exit_if_disagreeing(result: TransferCheck) -> None:
    if not result.agree:
        typer.echo(
            f"equitoken: the engine ({result.off_chain.reason.name}) and the contracts"
            f" ({result.on_chain.reason.name}) disagree",
            err=True,
        )
        raise typer.Exit(EXIT_DISAGREE)


@app.command("diff")
def diff_command(
    instrument: Annotated[
        str | None, typer.Option("--instrument", help="One instrument (default: all).")
    ] = None,
    sanctions: SanctionsOption = None,
    json_out: JsonFlag = False,
) -> None:
    """Show where the chain differs from the off-chain intent (policy, investors, wallets, whitelist)."""
    desk = _desk(sanctions)
    symbols = (
        [Symbol(instrument)]
        if instrument is not None  # an empty --instrument is a bad symbol, not "all"
        else [s.symbol for s in desk.instruments.book.instruments()]
    )
    rows = [
        {"instrument": symbol.value, **dataclasses.asdict(d)} for symbol in symbols for d in desk.diff(symbol)
    ]
    if json_out:
        emit_json({"drift": rows})
        return
    emit_table(rows, ["instrument", "kind", "subject", "off_chain", "on_chain"])


@app.command("sync")
def sync_command(sanctions: SanctionsOption = None, json_out: JsonFlag = False) -> None:
    """Write what differs to the chain (on a node; the embedded chain is synced at every start)."""
    reports = _desk(sanctions).sync_all()
    rows = [
        {"instrument": symbol.value, "steps": len(r.steps), "transactions": r.txs}
        for symbol, r in reports.items()
    ]
    if json_out:
        emit_json({"synced": rows})
        return
    emit_table(rows)
