"""``equitoken bench``: measure a part (or all) and print a table, or JSON with ``--json``."""

from __future__ import annotations

import json
import os
from typing import Annotated

import typer

from equitoken.bench import parts
from equitoken.bench.core import BenchOptions, Machine, Measurement, cpu_model
from equitoken.cli.output import JsonFlag, emit_json, emit_table, fail, output_file


def _fmt(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:,.0f}" if value >= 100 else f"{value:,.3g}"


def command(
    part: Annotated[str, typer.Argument(help="A part name, or 'all'.")],
    quick: Annotated[
        bool, typer.Option("--quick", help="Small workloads: a smoke run, not a measurement.")
    ] = False,
    json_out: JsonFlag = False,
    save_to: Annotated[
        str | None, typer.Option("--save", metavar="FILE", help="Also write the JSON report to this file.")
    ] = None,
) -> None:
    """Measure PART (or all parts) and print each figure beside its same-run baseline."""
    available = parts()
    if part != "all" and part not in available:
        fail("UNKNOWN_BENCH_PART", f"{part!r} is not a part; choose one of: all, {', '.join(available)}")
    save = None if save_to is None else output_file(save_to, "the bench report")  # before measuring
    from equitoken.app.settings import load_settings

    settings = load_settings()
    options = BenchOptions(quick=quick, postgres_url=_postgres_url(settings.database_url))
    rows: list[Measurement] = []
    for name, bench in available.items():
        if part in ("all", name):
            rows.extend(bench(options))
    report = {
        "machine": _machine(),
        "quick": quick,
        "measurements": [m.as_dict() for m in rows],
    }
    if save is not None:
        save.parent.mkdir(parents=True, exist_ok=True)
        save.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    if json_out:
        emit_json(report)
        return
    emit_table(
        [
            {
                "part": m.part,
                "measure": m.name,
                "value": _fmt(m.value),
                "unit": m.unit,
                "baseline": m.baseline_name or "-",
                "baseline value": _fmt(m.baseline_value),
                "ratio": "-" if m.ratio is None else f"{m.ratio:.3f}",
                "note": m.note,
            }
            for m in rows
        ]
    )


def _machine() -> dict[str, object]:
    machine = Machine()
    return {
        "python": machine.python,
        "system": machine.system,
        "cpu": cpu_model(),
        "cores": machine.cores,
        "measured_at": machine.measured_at,
    }


def _postgres_url(database_url: str) -> str | None:
    if database_url.startswith("postgresql"):
        return database_url
    return os.environ.get("EQUITOKEN_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
