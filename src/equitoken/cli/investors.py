"""``equitoken investors``: onboarding, KYC (suspension included), whitelists, holdings."""

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

app = typer.Typer(help="Investors: onboarding, KYC, whitelists and holdings.", no_args_is_help=True)

Investor = Annotated[str, typer.Argument(help="The investor id, e.g. inv-1.")]
COLUMNS = ("investor_id", "name", "residence", "category", "kyc", "wallet")


@app.command("list")
def list_(
    url: UrlOption = None, key: KeyOption = None, key_file: KeyFileOption = None, json_out: JsonFlag = False
) -> None:
    """List every onboarded investor."""
    show(call(target(url, key, key_file), "GET", "/v1/investors"), json_out, COLUMNS)


@app.command("show")
def show_(
    investor: Investor,
    url: UrlOption = None,
    key: KeyOption = None,
    key_file: KeyFileOption = None,
    json_out: JsonFlag = False,
) -> None:
    """Show one investor."""
    show(call(target(url, key, key_file), "GET", f"/v1/investors/{investor}"), json_out)


@app.command("holdings")
def holdings(
    investor: Investor,
    url: UrlOption = None,
    key: KeyOption = None,
    key_file: KeyFileOption = None,
    json_out: JsonFlag = False,
) -> None:
    """Show an investor's cash, stablecoin and positions."""
    show(call(target(url, key, key_file), "GET", f"/v1/investors/{investor}/holdings"), json_out)


@app.command("onboard")
def onboard(
    investor: Investor,
    name: Annotated[str, typer.Option(help="Legal name.")],
    residence: Annotated[str, typer.Option(help="Country of residence (ISO 3166 alpha-2).")],
    category: Annotated[str, typer.Option(help="retail, professional, accredited, qualified_purchaser…")],
    nationality: Annotated[str | None, typer.Option(help="Nationality (default: the residence).")] = None,
    kind: Annotated[str | None, typer.Option(help="natural_person or entity.")] = None,
    us_person: Annotated[bool, typer.Option("--us-person", help="A US person (Regulation S).")] = False,
    kyc: Annotated[str | None, typer.Option(help="none, pending, verified (default) or rejected.")] = None,
    url: UrlOption = None,
    key: KeyOption = None,
    key_file: KeyFileOption = None,
    idempotency_key: IdempotencyOption = None,
    json_out: JsonFlag = False,
) -> None:
    """Onboard an investor: identity, jurisdiction, category, KYC, and a wallet the platform keeps."""
    sent = body(
        investor_id=investor,
        name=name,
        residence=residence,
        category=category,
        nationality=nationality,
        kind=kind,
        us_person=us_person or None,
        kyc=kyc,
    )
    show(call(target(url, key, key_file, idempotency_key), "POST", "/v1/investors", body=sent), json_out)


@app.command("kyc")
def kyc(
    investor: Investor,
    state: Annotated[str, typer.Argument(help="pending, verified, suspended, rejected or expired.")],
    expires: Annotated[str | None, typer.Option(help="Expiry day of a verification (YYYY-MM-DD).")] = None,
    reason: Annotated[str | None, typer.Option(help="Why, on the record.")] = None,
    url: UrlOption = None,
    key: KeyOption = None,
    key_file: KeyFileOption = None,
    idempotency_key: IdempotencyOption = None,
    json_out: JsonFlag = False,
) -> None:
    """Move an investor's KYC (a suspension stops its orders at once)."""
    where = target(url, key, key_file, idempotency_key)
    sent = body(state=state, expires=expires, reason=reason)
    show(call(where, "POST", f"/v1/investors/{investor}/kyc", body=sent), json_out)


@app.command("suspend")
def suspend(
    investor: Investor,
    reason: Annotated[str, typer.Option(help="Why, on the record.")],
    url: UrlOption = None,
    key: KeyOption = None,
    key_file: KeyFileOption = None,
    idempotency_key: IdempotencyOption = None,
    json_out: JsonFlag = False,
) -> None:
    """Suspend an investor (KYC ``suspended``): its orders stop, resting ones are cancelled."""
    where = target(url, key, key_file, idempotency_key)
    sent = body(state="suspended", reason=reason)
    show(call(where, "POST", f"/v1/investors/{investor}/kyc", body=sent), json_out)


@app.command("whitelist")
def whitelist(
    investor: Investor,
    symbol: Annotated[str, typer.Argument(help="A direct-ownership listing.")],
    remove: Annotated[bool, typer.Option("--remove", help="Take the investor off the whitelist.")] = False,
    url: UrlOption = None,
    key: KeyOption = None,
    key_file: KeyFileOption = None,
    idempotency_key: IdempotencyOption = None,
    json_out: JsonFlag = False,
) -> None:
    """Put an investor on (or, with --remove, take it off) a listing's holder whitelist."""
    where = target(url, key, key_file, idempotency_key)
    sent = body(symbol=symbol, whitelisted=not remove)
    show(call(where, "POST", f"/v1/investors/{investor}/whitelist", body=sent), json_out)
