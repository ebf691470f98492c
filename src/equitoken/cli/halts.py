"""``equitoken halts``: the listings whose minting is halted, and lifting a halt with its reason."""

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

app = typer.Typer(help="Halts: minting stopped by a reserve break, and lifting them.", no_args_is_help=True)


@app.command("list")
def list_(
    url: UrlOption = None, key: KeyOption = None, key_file: KeyFileOption = None, json_out: JsonFlag = False
) -> None:
    """List the halted listings and why."""
    show(call(target(url, key, key_file), "GET", "/v1/halts"), json_out, ("symbol", "reason"))


@app.command("lift")
def lift(
    symbol: Annotated[str, typer.Argument(help="The halted listing.")],
    reason: Annotated[str, typer.Option(help="Why, on the record.")],
    accept_break: Annotated[
        bool, typer.Option("--accept-break", help="Lift despite an unreconciled break (on the record).")
    ] = False,
    url: UrlOption = None,
    key: KeyOption = None,
    key_file: KeyFileOption = None,
    idempotency_key: IdempotencyOption = None,
    json_out: JsonFlag = False,
) -> None:
    """Lift a halt: only after a clean reconciliation, unless --accept-break."""
    where = target(url, key, key_file, idempotency_key)
    sent = body(reason=reason, accept_break=accept_break or None)
    show(call(where, "POST", f"/v1/halts/{symbol}/lift", body=sent), json_out)
