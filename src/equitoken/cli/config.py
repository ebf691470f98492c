"""``equitoken config``: show the settings in force and where each can be set."""

from __future__ import annotations

import typer

from equitoken.app.settings import FIELDS, describe, load_settings
from equitoken.cli.output import JsonFlag, emit_json, emit_table

app = typer.Typer(help="Show configuration.", no_args_is_help=True)


@app.command("show")
def show(json_out: JsonFlag = False) -> None:
    """Show every setting, its value and the environment variable that sets it."""
    values = describe(load_settings())
    if json_out:
        emit_json(values)
        return
    rows = [
        {"setting": k, "value": v, "variable": FIELDS[k][0] if k in FIELDS else ""} for k, v in values.items()
    ]
    emit_table(rows)
