"""``equitoken prices``: post a reference price signed here with the price signer's key, show the latest."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated

import typer

from equitoken.app.files import read_text
from equitoken.app.price_feed import sign_price
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
from equitoken.cli.output import JsonFlag, parse_instant
from equitoken.domain.errors import DomainError
from equitoken.domain.ids import Symbol
from equitoken.domain.price_posts import canonical_instant
from equitoken.domain.values import canonical_decimal

app = typer.Typer(help="Reference prices: the operator's signed feed for live use.", no_args_is_help=True)


@app.command("post")
def post(
    symbol: Annotated[str, typer.Argument(help="The symbol, e.g. MSFT.")],
    price: Annotated[str, typer.Argument(help="USD per share, as a decimal.")],
    signer_key_file: Annotated[
        Path, typer.Option("--signer-key-file", help="File with the price signer's key (64 hex digits).")
    ],
    at: Annotated[str | None, typer.Option("--at", help="The price's as-of instant (default: now).")] = None,
    url: UrlOption = None,
    key: KeyOption = None,
    key_file: KeyFileOption = None,
    idempotency_key: IdempotencyOption = None,
    json_out: JsonFlag = False,
) -> None:
    """Sign a reference price with the price signer's key here, and post it (locally or to --url)."""
    try:
        amount = Decimal(price)
    except InvalidOperation:
        raise DomainError("INVALID_AMOUNT", f"{price!r} is not a decimal price") from None
    as_of = parse_instant(at, datetime.now(UTC))
    secret = read_text(signer_key_file, "the price signer's key").strip()
    signature = sign_price(secret, Symbol(symbol), amount, as_of)
    sent = body(
        symbol=symbol, price=canonical_decimal(amount), as_of=canonical_instant(as_of), signature=signature
    )
    show(call(target(url, key, key_file, idempotency_key), "POST", "/v1/prices", body=sent), json_out)


@app.command("show")
def show_(
    symbol: Annotated[str, typer.Argument(help="The symbol.")],
    url: UrlOption = None,
    key: KeyOption = None,
    key_file: KeyFileOption = None,
    json_out: JsonFlag = False,
) -> None:
    """Show the latest posted price of a symbol, its age and whether it may be traded on."""
    show(call(target(url, key, key_file), "GET", f"/v1/prices/{symbol}"), json_out)
