"""``equitoken compliance``: what-if evaluation of hypothetical actions, and the shipped policies."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from equitoken.app.compliance import load_cases, load_sanctions, shipped_policies
from equitoken.cli.output import JsonFlag, emit_json, emit_table
from equitoken.compliance.cases import evaluate_cases
from equitoken.compliance.chain_config import ChainGap, chain_gaps
from equitoken.compliance.rules import Rule

app = typer.Typer(help="Compliance policies and what-if evaluation.", no_args_is_help=True)


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
        typer.Argument(metavar="[LIST.csv]", help="A sanctions CSV; default: the shipped sample."),
    ] = None,
    json_out: JsonFlag = False,
) -> None:
    """Validate a sanctions list and show its entries."""
    loaded = load_sanctions(list_file)
    rows = [
        {"line": e.line, "type": e.type.value, "value": e.value, "list": e.list, "listed_on": e.listed_on}
        for e in loaded.entries
    ]
    if json_out:
        emit_json({"entries": rows})
    else:
        emit_table(rows)
