"""``equitoken orders``: orders an operator submits, lists and cancels for an investor."""

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

app = typer.Typer(help="Orders for an investor: submit, list, show, cancel.", no_args_is_help=True)

COLUMNS = (
    "order_id",
    "investor_id",
    "symbol",
    "side",
    "type",
    "state",
    "quantity",
    "notional",
    "filled_shares",
)


@app.command("submit")
def submit(
    investor: Annotated[str, typer.Argument(help="The investor the order is for.")],
    symbol: Annotated[str, typer.Argument(help="The listed symbol.")],
    side: Annotated[str, typer.Argument(help="buy or sell.")],
    quantity: Annotated[str | None, typer.Option(help="Shares, as a decimal.")] = None,
    notional: Annotated[str | None, typer.Option(help="USD, as a decimal (instead of --quantity).")] = None,
    type_: Annotated[str | None, typer.Option("--type", help="market (default) or limit.")] = None,
    time_in_force: Annotated[str | None, typer.Option(help="day (default), gtc or ioc.")] = None,
    limit_price: Annotated[str | None, typer.Option(help="The limit, for --type limit.")] = None,
    url: UrlOption = None,
    key: KeyOption = None,
    key_file: KeyFileOption = None,
    idempotency_key: IdempotencyOption = None,
    json_out: JsonFlag = False,
) -> None:
    """Submit an order for an investor (the idempotency key is the order's: a retry finds it)."""
    sent = body(
        investor_id=investor,
        symbol=symbol,
        side=side,
        quantity=quantity,
        notional=notional,
        type=type_,
        time_in_force=time_in_force,
        limit_price=limit_price,
    )
    show(call(target(url, key, key_file, idempotency_key), "POST", "/v1/orders", body=sent), json_out)


@app.command("list")
def list_(
    investor: Annotated[str | None, typer.Option(help="Only this investor's orders.")] = None,
    symbol: Annotated[str | None, typer.Option(help="Only this symbol.")] = None,
    state: Annotated[str | None, typer.Option(help="Only orders in this state.")] = None,
    limit: Annotated[int | None, typer.Option(help="At most this many (newest first).")] = None,
    url: UrlOption = None,
    key: KeyOption = None,
    key_file: KeyFileOption = None,
    json_out: JsonFlag = False,
) -> None:
    """List orders, newest first."""
    query = {"investor_id": investor, "symbol": symbol, "state": state, "limit": limit}
    show(call(target(url, key, key_file), "GET", "/v1/orders", query=query), json_out, COLUMNS)


@app.command("show")
def show_(
    order: Annotated[str, typer.Argument(help="The order id.")],
    url: UrlOption = None,
    key: KeyOption = None,
    key_file: KeyFileOption = None,
    json_out: JsonFlag = False,
) -> None:
    """Show one order and its fills."""
    show(call(target(url, key, key_file), "GET", f"/v1/orders/{order}"), json_out)


@app.command("cancel")
def cancel(
    order: Annotated[str, typer.Argument(help="The order id.")],
    reason: Annotated[str | None, typer.Option(help="Why, on the record.")] = None,
    url: UrlOption = None,
    key: KeyOption = None,
    key_file: KeyFileOption = None,
    idempotency_key: IdempotencyOption = None,
    json_out: JsonFlag = False,
) -> None:
    """Cancel a resting order."""
    where = target(url, key, key_file, idempotency_key)
    show(call(where, "POST", f"/v1/orders/{order}/cancel", body=body(reason=reason)), json_out)
