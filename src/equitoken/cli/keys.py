"""``equitoken keys``: API keys — issue one (its secret is printed once), list them (never a secret)."""

from __future__ import annotations

from typing import Annotated

import typer

from equitoken.cli.channel import KeyFileOption, KeyOption, UrlOption, body, call, show, target
from equitoken.cli.output import JsonFlag

app = typer.Typer(help="API keys for the service.", no_args_is_help=True)


@app.command("list")
def list_(
    url: UrlOption = None, key: KeyOption = None, key_file: KeyFileOption = None, json_out: JsonFlag = False
) -> None:
    """List every key ever issued (never a secret)."""
    show(
        call(target(url, key, key_file), "GET", "/v1/keys"),
        json_out,
        ("key_id", "role", "investor_id", "name", "active"),
    )


@app.command("issue")
def issue(
    role: Annotated[str, typer.Argument(help="operator, compliance, investor or auditor.")],
    investor: Annotated[str | None, typer.Option(help="The investor an investor key is bound to.")] = None,
    name: Annotated[str | None, typer.Option(help="A name for the key.")] = None,
    url: UrlOption = None,
    key: KeyOption = None,
    key_file: KeyFileOption = None,
    json_out: JsonFlag = False,
) -> None:
    """Issue an API key; its secret is printed here only."""
    sent = body(role=role, investor_id=investor, name=name)
    show(call(target(url, key, key_file), "POST", "/v1/keys", body=sent), json_out)
