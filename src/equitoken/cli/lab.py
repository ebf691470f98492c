"""``equitoken lab``: the three models on one stock, one flow and real history — measured, swept, judged."""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import typer

from equitoken.cli.output import JsonFlag, emit_json, emit_table, output_dir
from equitoken.domain.errors import DomainError
from equitoken.domain.values import Money
from equitoken.lab.parallel import check_where

app = typer.Typer(help="The trilemma lab: three models, the same flow, real history.", no_args_is_help=True)

ScenarioArg = Annotated[
    str, typer.Argument(help="A bundled scenario's name (`equitoken lab list`) or a .toml file.")
]
OutOption = Annotated[
    str | None,
    typer.Option("--out", help="Write the JSON, the PNG charts and report.html into this directory."),
]
WorkersOption = Annotated[
    int | None, typer.Option("--workers", help="Local processes (default: every core; 1: in series).")
]
SchedulerOption = Annotated[
    str | None, typer.Option("--scheduler", help="A Dask scheduler address (tcp://host:port) to run on.")
]

MEASURES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("orders submitted", ("orders_submitted",)),
    ("fills", ("fills",)),
    ("traded notional (USD)", ("traded_notional",)),
    ("capital sized (USD)", ("capital", "sized")),
    ("capital per $ traded", ("capital", "per_dollar_traded")),
    ("capital in use, time-weighted", ("capital", "time_weighted")),
    ("capital in use, peak", ("capital", "peak")),
    ("unserved rate", ("unserved_rate",)),
    ("capacity refusal rate", ("refusals", "rate")),
    ("off-hours fill share", ("off_hours_fill_share",)),
    ("time to fill, median s", ("time_to_fill", "median_seconds")),
    ("time to custody, median s", ("time_to_custody", "median_seconds")),
    ("time to custody, p95 s", ("time_to_custody", "p95_seconds")),
    ("tracking error (bps)", ("tracking_error_bps",)),
    ("gap P&L, worst (USD)", ("gap_pnl", "worst")),
    ("gap P&L, total (USD)", ("gap_pnl", "total")),
    ("investors' gap P&L (USD)", ("gap_pnl", "investors_total")),
    ("fees (bps of notional)", ("fees_bps",)),
    ("collateral T+0 peak", ("settlement_collateral", "T+0", "peak")),
    ("collateral T+1 peak", ("settlement_collateral", "T+1", "peak")),
    ("collateral T+2 peak", ("settlement_collateral", "T+2", "peak")),
    ("holder rights (of 3)", ("rights", "points")),
    ("pool swaps succeeded", ("composability", "success_rate")),
    ("pool price impact (bps)", ("composability", "price_impact_bps")),
    ("invariant breaks", ("invariants", "breaks")),
    ("eligibility refusals (own row)", ("eligibility", "refused")),
)


def _at(node: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        if not isinstance(node, Mapping) or key not in node:
            return "n/a"
        node = node[key]
    return len(node) if isinstance(node, list) else node


def measures_table(run: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Return the run's measures as rows (one per measure, one column per model)."""
    models = run["models"]
    return [{"measure": label, **{m: _at(models[m], path) for m in models}} for label, path in MEASURES]


@contextmanager
def progress_bar(label: str, quiet: bool) -> Iterator[Callable[[int, int], None] | None]:
    """Yield a progress callback drawing a bar on stderr (none with ``--json``: stdout stays clean)."""
    if quiet:
        yield None
        return
    err = sys.stderr

    def advance(done: int, total: int) -> None:
        width = 30
        filled = width * done // max(total, 1)
        err.write(f"\r{label} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
        err.flush()

    err.write(f"{label} …")
    err.flush()
    try:
        yield advance
    finally:
        err.write("\n")
        err.flush()


REPORT_FILES = ("run.json", "capital.png", "gaps.png", "report.html")


@contextmanager
def out_dir(text: str | None, what: str, names: tuple[str, ...]) -> Iterator[Path | None]:
    """Yield ``text`` as a directory proven writable before any work, and remove it if the work fails.

    The directory is created (with its missing parents) and a probe file written and removed in it,
    so a path nothing may write to is refused ``OUT_NOT_WRITABLE`` at once rather than after a long
    run; so is one where a file to be written exists as something else. If the block raises, the
    directories this created are removed again (when still empty): a refused run leaves no trace.
    """
    if text is None:
        yield None
        return
    path = output_dir(text, what)
    for name in names:
        if (path / name).exists() and not (path / name).is_file():
            raise DomainError(
                "OUT_NOT_WRITABLE", f"{path / name} exists and is not a file: {what} goes there"
            )
    created = [p for p in (path, *path.parents) if not p.exists()]
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".equitoken-probe-"):
            pass
    except OSError as error:
        _remove_empty(created)
        raise DomainError(
            "OUT_NOT_WRITABLE", f"{what} cannot be written to {path}: {error.strerror or error}"
        ) from None
    try:
        yield path
    except BaseException:
        _remove_empty(created)
        raise


def _remove_empty(directories: list[Path]) -> None:
    for directory in directories:  # deepest first
        with suppress(OSError):
            directory.rmdir()


def publish(target: Path, what: str, write: Callable[[Path], object]) -> None:
    """Write ``what`` into a staging directory beside its files, then move each file into ``target``.

    A failure while writing leaves ``target`` as it was; each file lands whole (a rename).
    """
    try:
        staging = Path(tempfile.mkdtemp(dir=target, prefix=".equitoken-staging-"))
        try:
            write(staging)
            for written in sorted(staging.iterdir()):
                os.replace(written, target / written.name)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    except OSError as error:
        raise DomainError("OUT_NOT_WRITABLE", f"{what} could not be written to {target}: {error}") from None


def _write(run: Mapping[str, Any], out: Path, sweeps: list[Mapping[str, Any]]) -> Path:
    from equitoken.lab.report import capital_chart, gap_chart, write_report

    def write(staging: Path) -> None:
        (staging / "run.json").write_text(json.dumps(run, indent=2) + "\n", encoding="utf-8")
        capital_chart(run, staging / "capital.png")
        gap_chart(run, staging / "gaps.png")
        write_report(run, staging, sweeps)

    publish(out, "the lab report", write)
    return out / "report.html"


def _parse_capital(text: str | None) -> dict[str, str]:
    fixed: dict[str, str] = {}
    for pair in [] if text is None else [p.strip() for p in text.split(",")]:
        model, sep, amount = pair.partition("=")
        if not sep or model not in ("inventory", "instant", "direct"):
            raise DomainError(
                "USAGE", f"--capital takes MODEL=USD (inventory, instant, direct), got {pair!r}"
            )
        try:
            value = Decimal(amount)
        except ArithmeticError:
            value = Decimal(0)
        if not value.is_finite() or value <= 0:
            raise DomainError("USAGE", f"--capital {pair!r}: the amount must be a positive number")
        try:
            Money(value)  # in range, at most 6 decimals: what the engine takes, checked before any work
        except DomainError as refused:
            raise DomainError("USAGE", f"--capital {pair!r}: {refused.message}") from None
        if model in fixed:
            raise DomainError("USAGE", f"--capital gives {model} twice ({fixed[model]} and {amount})")
        fixed[model] = amount
    return fixed


@app.command("list")
def list_scenarios(
    json_out: JsonFlag = False,
    every: Annotated[bool, typer.Option("--all", help="List every scenario of every series.")] = False,
) -> None:
    """List the bundled scenarios (a series counts as one line unless --all)."""
    from equitoken.lab.scenario import bundled

    scenarios = bundled()
    rows: list[dict[str, Any]] = []
    families: dict[str, list[Any]] = {}
    for s in scenarios:
        families.setdefault(s.name.split("/")[0], []).append(s)
    if every or json_out:
        rows = [
            {
                "name": s.name,
                "symbol": s.symbol,
                "start": s.start.isoformat(),
                "end": s.end.isoformat(),
                "title": s.title,
                "source": s.source,
            }
            for s in scenarios
        ]
    else:
        for family, members in families.items():
            first, last = members[0], members[-1]
            rows.append(
                {
                    "name": family if len(members) > 1 else first.name,
                    "scenarios": len(members),
                    "symbols": ",".join(sorted({m.symbol for m in members})),
                    "from": first.start.isoformat(),
                    "to": last.end.isoformat(),
                    "title": first.title,
                }
            )
    if json_out:
        emit_json(rows)
    else:
        emit_table(rows)


@app.command("run")
def run_command(
    scenario: ScenarioArg,
    json_out: JsonFlag = False,
    out: OutOption = None,
    workers: WorkersOption = None,
    scheduler: SchedulerOption = None,
    capital: Annotated[
        str | None,
        typer.Option(
            "--capital", help="Fix capital instead of searching: MODEL=USD[,MODEL=USD…], e.g. instant=80000."
        ),
    ] = None,
) -> None:
    """Run a scenario through the three models, each sized by search; print the measures and the verdicts."""
    from equitoken.lab.scenario import find
    from equitoken.lab.study import check_history, run_scenario

    chosen = find(scenario)
    check_history(chosen)
    fixed = _parse_capital(capital)
    check_where(workers, scheduler)  # refused before any work
    label = f"{chosen.name}: {'three models' if fixed else 'sizing three models'}"
    with out_dir(out, "the lab report", REPORT_FILES) as target:
        with progress_bar(label, json_out) as progress:
            run = run_scenario(chosen, workers=workers, scheduler=scheduler, progress=progress, capital=fixed)
        written = _write(run, target, []) if target is not None else None
    if json_out:
        emit_json(run)
        return
    print_run(run)
    if written is not None:
        typer.echo(f"\nreport: {written}")


def print_run(run: Mapping[str, Any]) -> None:
    """Print a lab run: the scenario, the flow, every measure per model, the verdicts."""
    s, f = run["scenario"], run["flow"]
    typer.echo(f"{s['title']} — {s['symbol']} {s['start']} … {s['end']} (seed {s['seed']})")
    typer.echo(
        f"flow: {f.get('orders')} orders from {f.get('investors')} investors, off-hours share"
        f" {f.get('off_hours_share')}; the same orders went to every model"
        f" (digest {str(f.get('digest'))[:12]})"
    )
    typer.echo("")
    emit_table(measures_table(run))
    typer.echo("")
    _print_claims(run["claims"])
    typer.echo(f"\n{run['elapsed_seconds']} s")


def _print_claims(claims: Sequence[Mapping[str, Any]]) -> None:
    emit_table([{"claim": c["claim"], "verdict": c["verdict"], "because": c["because"]} for c in claims])


@app.command("sweep")
def sweep_command(
    scenario: ScenarioArg,
    kind: Annotated[
        str, typer.Option("--kind", help="buffer-spread (instant) or inventory-watermarks (inventory).")
    ] = "buffer-spread",
    xs: Annotated[
        str, typer.Option("--x", help="Capital values, comma-separated (USD).")
    ] = "25000,50000,100000",
    ys: Annotated[
        str,
        typer.Option(
            "--y", help="Off-hours spreads in bps, or low-watermark shares of the target, comma-separated."
        ),
    ] = "",
    json_out: JsonFlag = False,
    out: OutOption = None,
    workers: WorkersOption = None,
    scheduler: SchedulerOption = None,
) -> None:
    """Run a grid of one model's settings on a scenario's flow and print the frontier."""
    from equitoken.lab.scenario import find
    from equitoken.lab.study import check_history
    from equitoken.lab.sweep import sweep

    chosen = find(scenario)
    check_history(chosen)
    y_values = ys or ("10,30,60" if kind == "buffer-spread" else "0.2,0.4,0.6")
    grid = ([x for x in xs.split(",") if x.strip()], [y for y in y_values.split(",") if y.strip()])
    from equitoken.lab.sweep import check_grid

    check_grid(kind, *grid)
    check_where(workers, scheduler)  # refused before any work
    with out_dir(out, "the sweep", (f"sweep-{kind}.json", f"frontier-{kind}.png")) as target:
        with progress_bar(f"{chosen.name}: {kind}", json_out) as progress:
            result = sweep(chosen, kind, *grid, workers=workers, scheduler=scheduler, progress=progress)
        if target is not None:
            from equitoken.lab.report import frontier_chart

            def write(staging: Path) -> None:
                (staging / f"sweep-{kind}.json").write_text(
                    json.dumps(result, indent=2) + "\n", encoding="utf-8"
                )
                frontier_chart(result, staging / f"frontier-{kind}.png")

            publish(target, "the sweep", write)
    if json_out:
        emit_json(result)
        return
    emit_table(result["points"])


@app.command("claims")
def claims_command(
    scenario: Annotated[
        str | None, typer.Argument(help="A scenario to run (default: the demo's, thanksgiving-2012).")
    ] = None,
    source: Annotated[
        str | None,
        typer.Option("--from", help="Judge a run's figures (lab run --out's run.json) instead of running."),
    ] = None,
    json_out: JsonFlag = False,
    workers: WorkersOption = None,
    scheduler: SchedulerOption = None,
) -> None:
    """Print the market report's claims, each with its verdict from a run's figures."""
    if source is not None:
        if scenario is not None or workers is not None or scheduler is not None:
            raise DomainError(
                "USAGE", "--from judges a finished run: give no scenario, --workers or --scheduler"
            )
        claims = judge(source)
    else:
        from equitoken.lab.scenario import find
        from equitoken.lab.study import check_history, run_scenario

        chosen = find(scenario or "thanksgiving-2012")
        check_history(chosen)
        check_where(workers, scheduler)
        with progress_bar(f"{chosen.name}: sizing three models", json_out) as progress:
            claims = run_scenario(chosen, workers=workers, scheduler=scheduler, progress=progress)["claims"]
    if json_out:
        emit_json(claims)
    else:
        _print_claims(claims)


def judge(source: str) -> list[dict[str, Any]]:
    """Return the verdicts computed afresh from a run file's figures (never the verdicts it carries).

    The figures are the record: a verdict stored beside them could have been edited, or judged on
    figures since changed. A file that is not a run, or whose figures cannot be judged (a model
    missing, a figure that is not a number), is refused ``LAB_RUN_INVALID``.
    """
    from equitoken.lab.claims import verdicts

    try:
        run = json.loads(Path(source).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise DomainError("LAB_RUN_INVALID", f"{source} is not a lab run's JSON: {error}") from None
    models = run.get("models") if isinstance(run, dict) else None
    names = ("inventory", "instant", "direct")
    if not isinstance(models, dict) or any(not isinstance(models.get(m), dict) for m in names):
        raise DomainError(
            "LAB_RUN_INVALID", f"{source} is not a lab run's JSON: it needs models.{{{','.join(names)}}}"
        )
    try:
        return verdicts({m: models[m] for m in names})
    except (ArithmeticError, LookupError, TypeError, ValueError, AttributeError) as error:
        raise DomainError(
            "LAB_RUN_INVALID",
            f"{source}: the run's figures cannot be judged ({type(error).__name__}: {error})",
        ) from None
