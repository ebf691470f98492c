"""``equitoken corporate-actions``: ``replay`` runs 2012–2014's real splits and dividends through every model.

The table shows, per symbol and model, how many steps were measured and the largest deviation of the
token holder's value from the directly held share (bps) against the stated tolerance; ``--json``
adds every mark. The exit status is 1 when a listing broke its reserve invariant or a deviation
passed the tolerance.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import typer

from equitoken.cli.output import JsonFlag, emit_json, emit_pairs, emit_table
from equitoken.simulation.replay import ReplayReport, run_replay

app = typer.Typer(help="Corporate actions: splits and dividends, applied once.", no_args_is_help=True)


def replay_json(report: ReplayReport) -> dict[str, Any]:
    """Return the replay as JSON-ready data (decimals as strings)."""
    data = asdict(report)
    data["invariants_ok"] = report.invariants_ok
    data["within_tolerance"] = report.within_tolerance
    return data


@app.command("replay")
def replay(json_out: JsonFlag = False) -> None:
    """Replay KO 2:1 (2012), AAPL 7:1 (2014) and every 2012–2014 dividend of AAPL, IBM, KO, MSFT."""
    report = run_replay()
    if json_out:
        emit_json(replay_json(report))
    else:
        typer.echo(
            f"Corporate actions replayed {report.start} → {report.end}: a holder of {report.shares} shares"
            f" of each symbol, {report.withholding_bps} bps withheld; benchmark: the share held directly\n"
        )
        emit_table(
            [
                {
                    "symbol": t.symbol,
                    "model": t.model,
                    "steps": t.actions,
                    "max |deviation| (bps)": t.max_deviation_bps,
                    "within": "yes" if t.within_tolerance else "NO",
                    "final multiplier": t.final_multiplier,
                    "carry (USD)": t.carry,
                }
                for t in report.tracking
            ]
        )
        typer.echo("")
        emit_pairs(
            {
                "tolerance (bps)": report.tolerance_bps,
                "invariant checks": report.invariant_checks,
                "invariant held": "yes" if report.invariants_ok else f"NO: {report.invariant_breaks[:3]}",
                "model failures": len(report.failures),
                "runtime (s)": report.seconds,
            }
        )
    if not (report.invariants_ok and report.within_tolerance):
        raise typer.Exit(1)
