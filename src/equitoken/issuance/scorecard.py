"""The scorecard: how one model served its orders, from the orders and fills themselves.

Pure arithmetic over what the engine recorded; the money figures (capital, P&L, fees) come from the
model and the ledger and are passed in. Definitions, so the numbers mean one thing:

- ``orders_filled``: orders completely filled (filled or settled); ``orders_partial``: orders that
  ended with some fills but not all; ``orders_rejected``: refused at the desk (compliance, price,
  band, the model's venue check, risk); ``orders_unfilled``: accepted orders that ended (expired or
  cancelled) with no fill at all — no liquidity, a limit never reached; ``orders_failed``: accepted
  orders a model could not execute (the engine cancels them with the failure's reason).
- ``fills``: order fills (each side of an ATS match fills its own order); ``trades``: executions (an
  ATS match is one trade with two fills); ``fills_off_hours``: fills outside the regular session
  (evenings, weekends, holidays).
- ``median_fill_seconds``: over every order with at least one fill, from receipt to its last fill —
  so an order that rested on a book until someone took it counts with its wait.
- ``tracking_error_bps``: root mean square of (fill price − reference price) / reference price, in
  basis points, over every fill — the spread and any gap the investor paid against the share's price.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Context, Decimal, localcontext
from statistics import median

from equitoken.domain.ids import OrderId
from equitoken.domain.values import Money
from equitoken.issuance.models.base import ModelFill, ModelName
from equitoken.issuance.orders import Order, OrderState

BPS = Decimal(10_000)


@dataclass(frozen=True, slots=True)
class ModelScore:
    """One model's figures over a run."""

    model: ModelName
    symbol: str
    orders_filled: int
    orders_partial: int
    orders_rejected: int
    orders_unfilled: int
    orders_failed: int
    fills: int
    trades: int
    fills_off_hours: int
    median_fill_seconds: Decimal | None
    tracking_error_bps: Decimal
    capital_locked_usd: Money
    pnl_usd: Money
    fees_usd: Money
    amm_swap_ok: bool
    amm_detail: str
    invariants_ok: bool


def fill_seconds(order: Order) -> Decimal | None:
    """Return seconds from receipt to the last fill of an order with fills, else ``None``."""
    if not order.fills:
        return None
    last: datetime = max(f.at for f in order.fills)
    return Decimal(str((last - order.received_at).total_seconds()))


def tracking_error_bps(fills: Iterable[ModelFill]) -> Decimal:
    """Return the RMS deviation of fill prices from their reference prices, in basis points (4 dp)."""
    squares: list[Decimal] = []
    with localcontext(Context(prec=40)):  # a statistic, not money: rounding at 40 digits is fine
        for item in fills:
            deviation = (item.fill.price.amount - item.reference.amount) / item.reference.amount * BPS
            squares.append(deviation * deviation)
    if not squares:
        return Decimal(0)
    with localcontext(Context(prec=40)):
        mean = sum(squares, Decimal(0)) / len(squares)
        return mean.sqrt().quantize(Decimal("0.0001"))


def score(
    model: ModelName,
    symbol: str,
    orders: Sequence[Order],
    fills: Sequence[ModelFill],
    *,
    failed: frozenset[OrderId] = frozenset(),
    capital_locked: Money,
    pnl: Money,
    fees: Money,
    amm: tuple[bool, str],
    invariants_ok: bool,
) -> ModelScore:
    """Return the scorecard of ``model`` from its orders, its fills and the money figures given."""
    waits = [s for s in map(fill_seconds, orders) if s is not None]
    ended = (OrderState.CANCELLED, OrderState.EXPIRED)
    complete = (OrderState.FILLED, OrderState.SETTLED)
    return ModelScore(
        model=model,
        symbol=symbol,
        orders_filled=sum(1 for o in orders if o.state in complete),
        orders_partial=sum(1 for o in orders if o.state in ended and o.fills),
        orders_rejected=sum(1 for o in orders if o.state is OrderState.REJECTED),
        orders_unfilled=sum(
            1 for o in orders if o.state in ended and not o.fills and o.order_id not in failed
        ),
        orders_failed=sum(1 for o in orders if o.order_id in failed),
        fills=len(fills),
        trades=len({f.trade for f in fills}),
        fills_off_hours=sum(1 for f in fills if f.off_hours),
        median_fill_seconds=None if not waits else Decimal(median(waits)),
        tracking_error_bps=tracking_error_bps(fills),
        capital_locked_usd=capital_locked,
        pnl_usd=pnl,
        fees_usd=fees,
        amm_swap_ok=amm[0],
        amm_detail=amm[1],
        invariants_ok=invariants_ok,
    )
