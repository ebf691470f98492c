"""``equitoken listings``: the listed stocks (list, show) and listing a new one."""

from __future__ import annotations

from typing import Annotated

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
from equitoken.cli.output import JsonFlag

app = typer.Typer(
    help="Listings: the stocks the platform tokenizes, under which model and policy.", no_args_is_help=True
)

COLUMNS = ("symbol", "model", "policy", "supply", "custody", "backed", "halted", "reference_price")


@app.command("list")
def list_(
    url: UrlOption = None, key: KeyOption = None, key_file: KeyFileOption = None, json_out: JsonFlag = False
) -> None:
    """List every listing."""
    show(call(target(url, key, key_file), "GET", "/v1/listings"), json_out, COLUMNS)


@app.command("show")
def show_(
    symbol: Annotated[str, typer.Argument(help="The listed symbol, e.g. AAPL.")],
    url: UrlOption = None,
    key: KeyOption = None,
    key_file: KeyFileOption = None,
    json_out: JsonFlag = False,
) -> None:
    """Show one listing: model, policy, contracts, supply, custody, halt, price."""
    show(call(target(url, key, key_file), "GET", f"/v1/listings/{symbol}"), json_out)


@app.command("add")
def add(
    symbol: Annotated[str, typer.Argument(help="The stock to list, e.g. AAPL.")],
    model: Annotated[str, typer.Option(help="inventory, instant or direct.")],
    policy: Annotated[str, typer.Option(help="A shipped compliance policy, e.g. instant-execution.")],
    url: UrlOption = None,
    key: KeyOption = None,
    key_file: KeyFileOption = None,
    idempotency_key: IdempotencyOption = None,
    json_out: JsonFlag = False,
) -> None:
    """List a stock under a model and a compliance policy (deploys its contracts)."""
    where = target(url, key, key_file, idempotency_key)
    show(call(where, "POST", "/v1/listings", body=body(symbol=symbol, model=model, policy=policy)), json_out)
