"""How the scripted week is shown: a scorecard table per model, or JSON with a ``models`` object."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import typer

from equitoken.cli.output import emit_pairs, emit_table
from equitoken.issuance.scorecard import ModelScore
from equitoken.simulation.week import WeekReport

ROWS: tuple[tuple[str, str], ...] = (
    ("symbol", "symbol"),
    ("orders filled", "orders_filled"),
    ("orders part-filled", "orders_partial"),
    ("orders rejected", "orders_rejected"),
    ("orders ended unfilled", "orders_unfilled"),
    ("orders failed", "orders_failed"),
    ("fills (order sides)", "fills"),
    ("trades", "trades"),
    ("fills off-hours", "fills_off_hours"),
    ("median time to fill (s)", "median_fill_seconds"),
    ("tracking error (bps, RMS)", "tracking_error_bps"),
    ("capital locked (USD)", "capital_locked_usd"),
    ("buffer/inventory P&L (USD)", "pnl_usd"),
    ("fees earned (USD)", "fees_usd"),
    ("AMM swap by a non-KYC wallet", "amm_swap_ok"),
    ("invariants held", "invariants_ok"),
)


def score_json(item: ModelScore) -> dict[str, Any]:
    """Return one model's figures as JSON-ready values (money as decimal strings, never floats)."""
    data = asdict(item)
    data["model"] = item.model.value
    for key in ("capital_locked_usd", "pnl_usd", "fees_usd"):
        data[key] = str(getattr(item, key).amount)
    return data


def week_json(report: WeekReport) -> dict[str, Any]:
    """Return the whole report as JSON-ready data, with ``models`` keyed inventory, instant, direct."""
    data = asdict(report)
    data["models"] = {name: score_json(item) for name, item in report.models.items()}
    return data


def print_week(report: WeekReport, *, scorecard: bool = True) -> None:
    """Print the week: who got in, the per-model scorecard (unless not asked), rejections and the checks.

    The scorecard compares three stocks under three models on different slices of the flow; the demo
    leaves it out and shows the lab's comparison on one stock and one flow instead.
    """
    typer.echo(
        f"equitoken demo — Thanksgiving week 2012 on real prices (seed {report.seed!r}); "
        f"{', '.join(f'{s} under {m}' for s, m in report.listings.items())}\n"
    )
    typer.echo("Investors")
    emit_table(
        [
            {"investor": r.investor, "residence": r.residence, "category": r.category, "result": r.detail}
            for r in report.investors
        ]
    )
    if scorecard:
        typer.echo("\nScorecard (figures from the engine, the ledger and the chain)")
        names = list(report.models)
        emit_table(
            [
                {"": label} | {name: _show(getattr(report.models[name], field)) for name in names}
                for label, field in ROWS
            ]
        )
        for name in names:
            typer.echo(f"  AMM, {name}: {report.models[name].amm_detail}")
    typer.echo("\nRejected orders by reason")
    emit_table([{"reason": code, "orders": count} for code, count in report.rejections.items()])
    typer.echo("")
    emit_pairs(
        {
            "orders": report.orders,
            "weekend gap (Fri close → Mon open)": ", ".join(f"{s} {g}" for s, g in report.gap.items()),
            "invariant checks": report.invariant_checks,
            "invariant breaks": len(report.invariant_breaks),
            "reconciliations (chain · ledger · custodian)": report.reconciliations,
            "reconciliation breaks": len(report.reconciliation_breaks),
            "collateral ratio at the end": ", ".join(f"{s} {r}" for s, r in report.collateral.items()),
            "model failures": len(report.failures),
            "run time (s)": report.elapsed_seconds,
        }
    )
    if report.attestation is not None:
        a = report.attestation
        typer.echo(
            f"\nProof of reserves: attestation as of block {a['as_of_block']} signed by {a['signer']},"
            f" roots posted to {a['registry']}; written to {a['document']} with the holder lists"
            " (check it: equitoken reserves verify FILE; a holder's proof: equitoken reserves prove)"
        )
    for line in report.invariant_breaks + report.reconciliation_breaks + report.failures:
        typer.echo(f"  ! {line}")


def _show(value: Any) -> Any:
    if hasattr(value, "amount"):
        return value.amount
    if hasattr(value, "value") and not isinstance(value, int | bool):
        return value.value
    return "—" if value is None else value
