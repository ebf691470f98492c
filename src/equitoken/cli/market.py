"""``equitoken market``: the exchange's session and the reference price of a symbol at an instant."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

import typer

from equitoken.app.bootstrap import bootstrap
from equitoken.cli.output import JsonFlag, emit_json, emit_pairs, parse_instant
from equitoken.domain.ids import Symbol
from equitoken.domain.market import AS_TRADED

app = typer.Typer(help="Exchange sessions and reference prices.", no_args_is_help=True)

AtOption = Annotated[
    str | None,
    typer.Option(
        "--at",
        help="Instant to ask about, ISO-8601 with a zone (e.g. 2026-11-27T18:30:00Z); default: now.",
    ),
]


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


@app.command("status")
def status(at: AtOption = None, json_out: JsonFlag = False) -> None:
    """Show whether the exchange is open at an instant, and when it next opens and closes."""
    platform = bootstrap()
    moment = parse_instant(at, platform.clock.now())
    state = platform.calendar.status(moment)
    data: dict[str, Any] = {
        "at": _iso(state.at),
        "open": state.open,
        "session": state.session.value,
        "early_close": state.early_close,
        "trading_day": state.trading_day.isoformat() if state.trading_day else None,
        "holiday": state.holiday,
        "next_open": _iso(state.next_open),
        "next_close": _iso(state.next_close),
        "calendar": platform.settings.calendar,
    }
    if json_out:
        emit_json(data)
    else:
        emit_pairs(data)


def _price_text(amount: Decimal) -> str:
    """Write a price without the padding of its 8-place precision, but with at least cents."""
    text = format(amount.normalize(), "f")
    whole, _, fraction = text.partition(".")
    return f"{whole}.{fraction.ljust(2, '0')}"


@app.command("price")
def price(
    symbol: Annotated[str, typer.Argument(help="Ticker, e.g. AAPL.")],
    at: AtOption = None,
    json_out: JsonFlag = False,
) -> None:
    """Show the reference price of a symbol at an instant, its basis and whether it is stale."""
    ticker = Symbol(symbol)
    platform = bootstrap()
    moment = parse_instant(at, platform.clock.now())
    quote = platform.prices.reference_price(ticker, moment)
    data: dict[str, Any] = {
        "symbol": str(quote.symbol),
        "at": _iso(quote.at),
        "price": _price_text(quote.price.amount),
        "currency": quote.price.currency,
        "basis": quote.basis.value,
        "adjustment": AS_TRADED,
        "bar_day": quote.bar_day.isoformat(),
        "stale": quote.stale,
        "stale_reason": quote.stale_reason,
    }
    if json_out:
        emit_json(data)
    else:
        emit_pairs(data)
