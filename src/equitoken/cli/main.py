"""The ``equitoken`` command line: thin commands over the service layer.

Each group lives in its own module and registers here. Every command that prints data takes
``--json``; bad input ends with one line ``equitoken: error CODE: sentence`` and exit status 2.
"""

from __future__ import annotations

import sys
from importlib.metadata import version as package_version
from typing import Annotated

import click
import typer

from equitoken.app.logging import configure_logging
from equitoken.app.settings import load_settings
from equitoken.cli import (
    bench,
    cash,
    chain,
    config,
    demo,
    enforcement,
    halts,
    investors,
    keys,
    lab,
    listings,
    market,
    orders,
    prices,
    serve,
)
from equitoken.cli.compliance import app as compliance_app
from equitoken.cli.corporate_actions import app as corporate_actions_app
from equitoken.cli.output import EXIT_BAD_INPUT
from equitoken.cli.reserves import app as reserves_app
from equitoken.domain.errors import DomainError

app = typer.Typer(
    name="equitoken",
    help="Tokenized stocks: issue, trade 24/7, settle on-chain, enforce eligibility, prove reserves.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _show_version(asked: bool) -> None:
    if asked:
        typer.echo(f"equitoken {package_version('equitoken')}")
        raise typer.Exit()


@app.callback()
def _configure(
    version: Annotated[
        bool,
        typer.Option("--version", help="Print the version and exit.", callback=_show_version, is_eager=True),
    ] = False,
) -> None:
    """Tokenized stocks: issue, trade 24/7, settle on-chain, enforce eligibility, prove reserves."""
    # Settings are validated before any command runs, so a bad variable fails every command the same way.
    settings = load_settings()
    configure_logging(settings.log_level, settings.log_format)


app.add_typer(market.app, name="market")
app.add_typer(chain.contracts_app, name="contracts")
app.add_typer(chain.chain_app, name="chain")
app.command("bench")(bench.command)
app.command("demo")(demo.week_command)
app.command("replay-day")(demo.day_command)
app.command("serve")(serve.command)
app.add_typer(config.app, name="config")
app.add_typer(compliance_app, name="compliance")
app.add_typer(corporate_actions_app, name="corporate-actions")
app.add_typer(reserves_app, name="reserves")
# The operator's commands: each is one API request, run over the local store or sent with --url.
app.add_typer(listings.app, name="listings")
app.add_typer(investors.app, name="investors")
app.add_typer(cash.app, name="cash")
app.add_typer(orders.app, name="orders")
app.add_typer(enforcement.app, name="enforcement")
app.add_typer(halts.app, name="halts")
app.add_typer(keys.app, name="keys")
app.add_typer(prices.app, name="prices")
app.add_typer(lab.app, name="lab")


def run(argv: list[str] | None = None) -> int:
    """Run the CLI and return its exit status, turning every refusal into one line and status 2."""
    try:
        _refuse_repeated_options(sys.argv[1:] if argv is None else argv)
        # Outside standalone mode click returns the code of a ``typer.Exit`` instead of raising it.
        result = app(args=argv, prog_name="equitoken", standalone_mode=False)
    except DomainError as error:
        typer.echo(f"equitoken: error {error.code}: {_bounded(error.message)}", err=True)
        return EXIT_BAD_INPUT
    except click.exceptions.NoArgsIsHelpError as shown:
        shown.show()  # the help text was asked for in effect: not an error
        return 0
    except click.UsageError as error:
        typer.echo(f"equitoken: error USAGE: {error.format_message()}", err=True)
        return EXIT_BAD_INPUT
    except click.exceptions.Exit as done:
        return done.exit_code
    except click.Abort:
        typer.echo("equitoken: aborted", err=True)
        return 1
    return result if isinstance(result, int) else 0


MAX_MESSAGE = 400
"""The longest error sentence printed: a 5,000-character input is named, not echoed whole."""


def _bounded(message: str) -> str:
    message = " ".join(message.split())  # one line, whatever the input held
    if len(message) <= MAX_MESSAGE:
        return message
    return f"{message[: MAX_MESSAGE - 40]}… ({len(message)} characters in all)"


def _refuse_repeated_options(argv: list[str]) -> None:
    """Refuse an option given twice (click keeps the last silently: ``--from A --from B`` is a typo)."""
    seen: set[str] = set()
    for arg in argv:
        if arg == "--":
            return
        if arg.startswith("--") and len(arg) > 2:
            name = arg.split("=", 1)[0]
            if name in seen and name not in ("--help",):
                raise DomainError("USAGE", f"{name} is given more than once; give it once")
            seen.add(name)


def main() -> None:
    """Console-script entry point."""
    sys.exit(run())


if __name__ == "__main__":
    main()
