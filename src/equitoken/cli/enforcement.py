"""``equitoken enforcement``: pause, freezes (whole or partial), forced transfers, recoveries, the record."""

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
from equitoken.domain.errors import DomainError

app = typer.Typer(
    help="Enforcement on a listing's token, every action with its reason.", no_args_is_help=True
)

Symbol = Annotated[str, typer.Argument(help="The listed symbol.")]
Reason = Annotated[str, typer.Option(help="Why, on the record (a court order, a lost key…).")]
InvestorOpt = Annotated[
    str | None, typer.Option("--investor", help="The investor whose platform wallet it is.")
]
WalletOpt = Annotated[str | None, typer.Option("--wallet", help="The wallet address.")]
TokensOpt = Annotated[str | None, typer.Option("--tokens", help="Only this many tokens (a partial freeze).")]


@app.command("status")
def status(
    symbol: Symbol,
    url: UrlOption = None,
    key: KeyOption = None,
    key_file: KeyFileOption = None,
    json_out: JsonFlag = False,
) -> None:
    """Show whether the token is paused, which wallets are frozen, and the record."""
    show(call(target(url, key, key_file), "GET", f"/v1/listings/{symbol}/enforcement"), json_out)


@app.command("pause")
def pause(
    symbol: Symbol,
    reason: Reason,
    url: UrlOption = None,
    key: KeyOption = None,
    key_file: KeyFileOption = None,
    idempotency_key: IdempotencyOption = None,
    json_out: JsonFlag = False,
) -> None:
    """Pause the token: no transfer, mint or burn until it is unpaused."""
    where = target(url, key, key_file, idempotency_key)
    show(call(where, "POST", f"/v1/listings/{symbol}/pause", body=body(reason=reason)), json_out)


@app.command("unpause")
def unpause(
    symbol: Symbol,
    reason: Reason,
    url: UrlOption = None,
    key: KeyOption = None,
    key_file: KeyFileOption = None,
    idempotency_key: IdempotencyOption = None,
    json_out: JsonFlag = False,
) -> None:
    """Let the token move again."""
    where = target(url, key, key_file, idempotency_key)
    show(call(where, "POST", f"/v1/listings/{symbol}/unpause", body=body(reason=reason)), json_out)


def _frozen(investor: str | None, wallet: str | None, tokens: str | None, reason: str) -> dict[str, object]:
    if (investor is None) == (wallet is None):
        raise DomainError("USAGE", "name exactly one of --investor and --wallet")
    return body(investor_id=investor, wallet=wallet, tokens=tokens, reason=reason)


@app.command("freeze")
def freeze(
    symbol: Symbol,
    reason: Reason,
    investor: InvestorOpt = None,
    wallet: WalletOpt = None,
    tokens: TokensOpt = None,
    url: UrlOption = None,
    key: KeyOption = None,
    key_file: KeyFileOption = None,
    idempotency_key: IdempotencyOption = None,
    json_out: JsonFlag = False,
) -> None:
    """Freeze a wallet whole, or only --tokens of its balance."""
    where = target(url, key, key_file, idempotency_key)
    sent = _frozen(investor, wallet, tokens, reason)
    show(call(where, "POST", f"/v1/listings/{symbol}/freezes", body=sent), json_out)


@app.command("unfreeze")
def unfreeze(
    symbol: Symbol,
    reason: Reason,
    investor: InvestorOpt = None,
    wallet: WalletOpt = None,
    tokens: TokensOpt = None,
    url: UrlOption = None,
    key: KeyOption = None,
    key_file: KeyFileOption = None,
    idempotency_key: IdempotencyOption = None,
    json_out: JsonFlag = False,
) -> None:
    """Unfreeze a wallet whole, or release --tokens of its frozen balance."""
    where = target(url, key, key_file, idempotency_key)
    sent = _frozen(investor, wallet, tokens, reason)
    show(call(where, "POST", f"/v1/listings/{symbol}/unfreezes", body=sent), json_out)


@app.command("force-transfer")
def force_transfer(
    symbol: Symbol,
    from_investor: Annotated[str, typer.Argument(metavar="FROM", help="The investor the tokens leave.")],
    to_investor: Annotated[str, typer.Argument(metavar="TO", help="The investor they go to.")],
    tokens: Annotated[str, typer.Argument(help="How many tokens, as a decimal.")],
    reason: Reason,
    url: UrlOption = None,
    key: KeyOption = None,
    key_file: KeyFileOption = None,
    idempotency_key: IdempotencyOption = None,
    json_out: JsonFlag = False,
) -> None:
    """Move tokens from one investor to another as the agent (the receiver must still be eligible)."""
    where = target(url, key, key_file, idempotency_key)
    sent = body(from_investor=from_investor, to_investor=to_investor, tokens=tokens, reason=reason)
    show(call(where, "POST", f"/v1/listings/{symbol}/forced-transfers", body=sent), json_out)


@app.command("recover")
def recover(
    symbol: Symbol,
    investor: Annotated[str, typer.Argument(help="The investor whose wallet was lost.")],
    new_wallet: Annotated[str, typer.Argument(help="The investor's new wallet.")],
    reason: Reason,
    lost_wallet: Annotated[
        str | None, typer.Option(help="The lost wallet (default: the platform's).")
    ] = None,
    url: UrlOption = None,
    key: KeyOption = None,
    key_file: KeyFileOption = None,
    idempotency_key: IdempotencyOption = None,
    json_out: JsonFlag = False,
) -> None:
    """Move a lost wallet's whole position to a new wallet of the same investor."""
    where = target(url, key, key_file, idempotency_key)
    sent = body(investor_id=investor, lost_wallet=lost_wallet, new_wallet=new_wallet, reason=reason)
    show(call(where, "POST", f"/v1/listings/{symbol}/recoveries", body=sent), json_out)
