"""``equitoken cash``: deposits, withdrawals and redemptions of an investor's USD."""

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

app = typer.Typer(help="Cash: deposits in, withdrawals and redemptions out.", no_args_is_help=True)

Investor = Annotated[str, typer.Argument(help="The investor id.")]
Amount = Annotated[str, typer.Argument(help="USD as a decimal, e.g. 2500.00.")]


@app.command("deposit")
def deposit(
    investor: Investor,
    amount: Amount,
    url: UrlOption = None,
    key: KeyOption = None,
    key_file: KeyFileOption = None,
    idempotency_key: IdempotencyOption = None,
    json_out: JsonFlag = False,
) -> None:
    """Record USD that arrived for an investor: its stablecoin is minted to its wallet, once."""
    where = target(url, key, key_file, idempotency_key)
    show(call(where, "POST", f"/v1/investors/{investor}/deposits", body=body(amount=amount)), json_out)


@app.command("withdraw")
def withdraw(
    investor: Investor,
    amount: Amount,
    to: Annotated[str, typer.Option(help="The address outside the platform to send the stablecoin to.")],
    url: UrlOption = None,
    key: KeyOption = None,
    key_file: KeyFileOption = None,
    idempotency_key: IdempotencyOption = None,
    json_out: JsonFlag = False,
) -> None:
    """Withdraw USD stablecoin to an address outside the platform."""
    where = target(url, key, key_file, idempotency_key)
    sent = body(amount=amount, to=to)
    show(call(where, "POST", f"/v1/investors/{investor}/withdrawals", body=sent), json_out)


@app.command("redeem")
def redeem(
    investor: Investor,
    amount: Amount,
    url: UrlOption = None,
    key: KeyOption = None,
    key_file: KeyFileOption = None,
    idempotency_key: IdempotencyOption = None,
    json_out: JsonFlag = False,
) -> None:
    """Redeem USD: the stablecoin is burned and the money goes to the investor's bank."""
    where = target(url, key, key_file, idempotency_key)
    show(call(where, "POST", f"/v1/investors/{investor}/redemptions", body=body(amount=amount)), json_out)
