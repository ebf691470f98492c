"""``equitoken demo`` (the scripted week, the main job) and ``equitoken replay-day``, as tables or JSON."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import typer

from equitoken.app.settings import load_settings
from equitoken.cli.lab import print_run, progress_bar
from equitoken.cli.output import JsonFlag, emit_json, emit_pairs, emit_table, fail
from equitoken.cli.week import print_week, week_json
from equitoken.lab.scenario import find
from equitoken.lab.study import run_scenario
from equitoken.simulation.trading_day import DEFAULT_DAY, DemoReport, run_trading_day
from equitoken.simulation.week import DEFAULT_SEED, attestation_dir, run_week

DEMO_SCENARIO = "thanksgiving-2012"
"""The demo's comparison: AAPL over Thanksgiving week 2012 (a holiday, an early close, a weekend)."""


def week_command(
    seed: Annotated[
        str, typer.Option("--seed", help="Seed of the random order flow (the script and rules stay fixed).")
    ] = DEFAULT_SEED,
    json_out: JsonFlag = False,
    scenario: Annotated[
        str,
        typer.Option("--scenario", help="The lab scenario the three models are compared on (name or file)."),
    ] = DEMO_SCENARIO,
    comparison: Annotated[
        bool, typer.Option("--comparison/--no-comparison", help="Compare the three models on one flow.")
    ] = True,
) -> None:
    """Run the platform's Thanksgiving week 2012, then the three models on one stock and one flow, sized."""
    settings = load_settings()
    if settings.chain_url:
        # The week needs a chain whose clock follows its simulated 2012 clock: say so, never ignore silently.
        typer.echo(
            "equitoken: note: the scripted week runs on the embedded chain in this process; "
            f"EQUITOKEN_CHAIN_URL ({settings.chain_url}) is not used",
            err=True,
        )
    chosen = find(scenario) if comparison else None  # a bad scenario is refused before the week runs
    report = run_week(settings, seed, attestation_dir(settings))
    compared = None
    if chosen is not None:
        with progress_bar(f"the lab: {chosen.name}, three models sized", json_out) as progress:
            compared = run_scenario(chosen, progress=progress)
    if json_out:
        emit_json(week_json(report) | ({} if compared is None else {"comparison": compared}))
        return
    print_week(report, scorecard=compared is None)
    if compared is not None:
        typer.echo("\nThe three models on the same stock, the same orders and the same real prices")
        typer.echo("(equitoken lab run; capital sized by search for each model)\n")
        print_run(compared)


def day_command(
    day: Annotated[
        str, typer.Option("--day", help="Trading day to replay (YYYY-MM-DD, 2012–2014 data).")
    ] = str(DEFAULT_DAY),
    json_out: JsonFlag = False,
) -> None:
    """Replay one real trading day through the calendar, prices, simulated broker and the books."""
    try:
        chosen = date.fromisoformat(day)
    except ValueError:
        fail("INVALID_DATE", f"{day!r} is not a date (YYYY-MM-DD)")
    report = run_trading_day(load_settings(), chosen)
    if json_out:
        emit_json(_as_json(report))
        return
    _print(report)


def _as_json(report: DemoReport) -> dict[str, Any]:
    return asdict(report)


def _print(report: DemoReport) -> None:
    hours = f"{_local(report, report.session_open)}–{_local(report, report.session_close)}"
    typer.echo(
        f"equitoken demo — {report.day}: regular session {hours} exchange time"
        f"{' (early close)' if report.early_close else ''}; times below are {report.timezone}\n"
    )
    emit_table(
        [
            {
                "time": _local(report, r.at, with_day=True),
                "session": r.session.value,
                "event": r.event,
                "order": r.order_id,
                "side": r.side,
                "qty": r.quantity,
                "ref price": r.reference,
                "fill price": r.price,
                "status": r.status,
            }
            for r in report.rows
        ]
    )
    typer.echo("\nBooks (shares): end of day → after settlement, against the broker's custody record")
    emit_table(
        [
            {
                "symbol": p.symbol,
                "custody EOD": p.custody_end_of_day,
                "in flight EOD": p.in_flight_end_of_day,
                "custody settled": p.custody_settled,
                "in flight settled": p.in_flight_settled,
                "broker custody": p.broker_settled,
                "books = broker": p.custody_settled == p.broker_settled,
            }
            for p in report.positions
        ]
    )
    typer.echo("")
    emit_pairs(
        {
            "cash spent (USD)": report.cash_spent,
            "ledger entries": report.entries,
            "every asset balances": report.books_balance,
            "all settled at": _local(report, report.settled_at, with_day=True),
        }
    )


def _local(report: DemoReport, moment: datetime, with_day: bool = False) -> str:
    local = moment.astimezone(ZoneInfo(report.timezone))
    return str(local.strftime("%a %m-%d %H:%M" if with_day else "%H:%M"))
