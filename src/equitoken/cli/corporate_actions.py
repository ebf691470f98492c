"""``equitoken corporate-actions``: ``replay`` runs 2012–2014's real splits and dividends through every model.

The table shows, per symbol and model, how many steps were measured and the largest deviation of the
token holder's value from the directly held share (bps) against the stated tolerance; ``--json``
adds every mark. The exit status is 1 when a listing broke its reserve invariant or a deviation
passed the tolerance.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

import typer

from equitoken.cli.channel import (
    IdempotencyOption,
    KeyFileOption,
    KeyOption,
    UrlOption,
    body,
    call,
    show,
    target,
)
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


COLUMNS = ("action_id", "kind", "symbol", "ex_date", "ratio", "per_share", "record_date", "pay_date", "state")


@app.command("announce")
def announce(
    kind: Annotated[str, typer.Argument(help="split or dividend.")],
    symbol: Annotated[str, typer.Argument(help="The listed symbol.")],
    ex_date: Annotated[str, typer.Option(help="The ex-date (YYYY-MM-DD).")],
    ratio: Annotated[
        str | None, typer.Option(help="A split: new shares per old (2, or 0.25 for 1:4).")
    ] = None,
    per_share: Annotated[str | None, typer.Option(help="A dividend: USD per share.")] = None,
    record_date: Annotated[str | None, typer.Option(help="A dividend's record date.")] = None,
    pay_date: Annotated[str | None, typer.Option(help="A dividend's pay date.")] = None,
    url: UrlOption = None,
    key: KeyOption = None,
    key_file: KeyFileOption = None,
    idempotency_key: IdempotencyOption = None,
    json_out: JsonFlag = False,
) -> None:
    """Announce a split or a cash dividend of a listing (the ticker applies it when it comes due)."""
    sent = body(
        kind=kind,
        symbol=symbol,
        ex_date=ex_date,
        ratio=ratio,
        per_share=per_share,
        record_date=record_date,
        pay_date=pay_date,
    )
    show(
        call(target(url, key, key_file, idempotency_key), "POST", "/v1/corporate-actions", body=sent),
        json_out,
    )


@app.command("list")
def list_(
    symbol: Annotated[str | None, typer.Option(help="Only this symbol's actions.")] = None,
    state: Annotated[str | None, typer.Option(help="announced, effective, applied or paid.")] = None,
    url: UrlOption = None,
    key: KeyOption = None,
    key_file: KeyFileOption = None,
    json_out: JsonFlag = False,
) -> None:
    """List the announced actions in ex-date order, with where each stands."""
    found = call(
        target(url, key, key_file), "GET", "/v1/corporate-actions", query={"symbol": symbol, "state": state}
    )
    show(found, json_out, COLUMNS)


@app.command("show")
def show_(
    action: Annotated[str, typer.Argument(help="The action id.")],
    url: UrlOption = None,
    key: KeyOption = None,
    key_file: KeyFileOption = None,
    json_out: JsonFlag = False,
) -> None:
    """Show one announced action."""
    show(call(target(url, key, key_file), "GET", f"/v1/corporate-actions/{action}"), json_out)


@app.command("apply")
def apply(
    action: Annotated[str, typer.Argument(help="The action id.")],
    url: UrlOption = None,
    key: KeyOption = None,
    key_file: KeyFileOption = None,
    idempotency_key: IdempotencyOption = None,
    json_out: JsonFlag = False,
) -> None:
    """Apply an action now, if its ex-date open has come; once, however often asked."""
    where = target(url, key, key_file, idempotency_key)
    show(call(where, "POST", f"/v1/corporate-actions/{action}/apply"), json_out)
