"""``equitoken market``: placeholder until the market commands land."""

from __future__ import annotations

import typer

app = typer.Typer(help="market commands.", no_args_is_help=True)
