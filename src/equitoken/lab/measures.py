"""Every figure the lab reports, each defined once, computed from a run's records alone (no engine here).

An order's outcome falls in exactly one class (``outcome_class``):

- **eligibility** — the platform's rules refuse the investor (not onboarded, a compliance rule:
  country, category, whitelist, lockup…). A model's *policy* decides it, not its capacity, so it is
  its own row and is left out of every rate below;
- **investor** — the investor's own means (cash, tokens to sell) or price limits;
- **platform** — the platform refuses for everyone (a corporate-action blackout, a stale price, a
  halt);
- **capacity** — the model could not serve it: ``INSUFFICIENT_INVENTORY``, ``BUFFER_LIMIT``,
  ``NO_LIQUIDITY``;
- otherwise the order was taken (filled, resting, expired).

Definitions (``docs/lab.md`` has them with the reasons):

- **unserved rate** — among orders not refused for eligibility or the investor's means: capacity
  refusals plus market orders not wholly filled within the scenario's window, over those orders;
- **traded notional** — the sum of fill shares × fill price;
- **capital** — *sized*: the capital ``C`` the search found (``lab.sizing``), what the issuer (or,
  for direct ownership, the market maker) must commit; *in use* at an instant: the reference × the
  principal position's shares, long or short (the inventory, the buffer's unhedged commitments, the
  maker's shares) — what is at risk then; time-weighted over the flow's span and its peak; *per
  dollar traded*: sized capital ÷ traded notional (and time-weighted in use ÷ traded notional);
- **off-hours fill share** — notional filled while the exchange is closed ÷ traded notional;
- **time to fill** — from the order's arrival to its last fill (filled orders); **time to custody**
  — from a buy fill to the first tick at which the shares short of custody then have settled since
  (0 when every token was in custody at the next tick);
- **tracking error** — root mean square of (fill price ÷ the share's reference at the fill − 1), bps;
- **gap P&L** — per weekend or holiday closure: the principal position just before the reopening
  × (open − last close) (open × split ratio if a split takes effect there), for the side that holds
  it (the inventory, the buffer, the market maker); beside it, the investors who traded during the
  closure: Σ signed fill shares × (open − fill price); and the spread the side earned on those fills
  (Σ |fill price − reference| × shares), which the *net* gap P&L adds to the platform's;
- **fees** — fee revenue ÷ traded notional, bps;
- **settlement collateral** — for a cycle T+n, each broker trade is unsettled from its fill until
  the close n trading days after its trade date, and a clearing house asks margin on it: |notional|
  × min(1, 2.33 × σ₂₀ × √n), σ₂₀ the standard deviation of the last 20 daily returns before the
  trade; peak and time-weighted of the sum. T+0 asks none; on-chain trades (the ATS) are T+0;
- **holder rights** — the stated rubric ``RIGHTS``; **composability** — the share of real swaps
  through a pool of the token that succeeded, and their median price impact.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from itertools import pairwise
from statistics import median
from typing import Any

from equitoken.domain.ids import Symbol
from equitoken.domain.reasons import Reason
from equitoken.domain.trading import Side
from equitoken.domain.values import Money
from equitoken.issuance.models import ModelName
from equitoken.lab.orders import Flow, LabOrder
from equitoken.ports.market import MarketCalendar, PriceSource

CAPACITY = frozenset({"INSUFFICIENT_INVENTORY", "BUFFER_LIMIT", "NO_LIQUIDITY"})
INVESTOR = frozenset(
    {
        "INSUFFICIENT_FUNDS",
        "INSUFFICIENT_TOKENS",
        "INSUFFICIENT_BALANCE",
        "INSUFFICIENT_UNFROZEN_BALANCE",
        "PRICE_OUTSIDE_BAND",
        "FEE_EXCEEDS_PROCEEDS",
        "NOTIONAL_LIMIT_EXCEEDED",
        "MAX_BALANCE_EXCEEDED",
    }
)
ELIGIBILITY = (
    frozenset(
        {r.name for r in Reason if r not in (Reason.OK, Reason.PAUSED, Reason.RESERVES_STALE)}
        | {"NOT_ONBOARDED"}
    )
    - INVESTOR
)
MARGIN_Z = Decimal("2.33")
"""One-sided 99 % normal quantile: the clearing margin covers a 99 % move over the settlement period."""
VOL_DAYS = 20
CYCLES = (0, 1, 2)
BPS = Decimal(10_000)


@dataclass(frozen=True, slots=True)
class Rights:
    """What a token holder gets under a model, on the stated rubric (one point for each full right)."""

    voting: str
    cash_dividends: str
    legal_claim: str
    points: int


RIGHTS: Mapping[ModelName, Rights] = {
    ModelName.DIRECT: Rights(
        "yes: the holder is the registered shareholder and votes (app.voting)",
        "yes: paid in stablecoin to the holders of record",
        "yes: the token is the share on the transfer agent's register",
        3,
    ),
    ModelName.INVENTORY: Rights(
        "no: the custodian holds the shares and votes them",
        "no: reinvested by the issuer (the multiplier rises)",
        "partial: a claim on the issuer's certificate, backed by shares in custody",
        0,
    ),
    ModelName.INSTANT: Rights(
        "no: the custodian holds the shares and votes them",
        "no: reinvested by the issuer (the multiplier rises)",
        "partial: a claim on the issuer, backed by hedges and a buffer",
        0,
    ),
}
"""The rubric: voting, cash dividends, a legal claim on the share itself. A test checks it against the
engine (only direct ownership can hold a vote; only direct ownership pays dividends in cash)."""


def outcome_class(code: str | None) -> str:
    """Return the class of an order's refusal or ending code (see the module doc)."""
    if code is None:
        return "taken"
    if code in CAPACITY:
        return "capacity"
    if code in ELIGIBILITY:
        return "eligibility"
    if code in INVESTOR:
        return "investor"
    if code in ("EXPIRED", "ENDED", "ORDER_EXPIRED", "CANCELLED"):
        return "taken"
    return "platform"


def _d(value: Decimal, places: int = 4) -> str:
    return str(value.quantize(Decimal(1).scaleb(-places)))


def _money(value: Decimal) -> str:
    return str(value.quantize(Decimal("0.01")))


def _ratio(part: Decimal, whole: Decimal) -> Decimal:
    return part / whole if whole else Decimal(0)


def _pct(values: Sequence[Decimal], q: Decimal) -> Decimal:
    if not values:
        return Decimal(0)
    ordered = sorted(values)
    index = min(len(ordered) - 1, int((q * (len(ordered) - 1)).to_integral_value()))
    return ordered[index]


@dataclass(frozen=True, slots=True)
class Market:
    """The calendar and the prices the measures read (ports: any adapter will do)."""

    calendar: MarketCalendar
    prices: PriceSource
    symbol: Symbol


def measure(run: Any, flow: Flow, window_seconds: int, market: Market) -> dict[str, Any]:
    """Return every measure of one model's run (``lab.run.ModelRun``) as JSON-ready figures."""
    by_id: dict[str, LabOrder] = {o.order_id: o for o in flow.orders}
    classes: dict[str, int] = {}
    capacity: dict[str, int] = {}
    eligibility: dict[str, int] = {}
    other: dict[str, int] = {}
    notional = off_hours = Decimal(0)
    fill_times: list[Decimal] = []
    squares: list[Decimal] = []
    fills = 0
    for seen in run.orders:
        lab = by_id[seen.order_id]
        kind = outcome_class(seen.code)
        classes[kind] = classes.get(kind, 0) + 1
        if kind == "eligibility":
            eligibility[seen.code] = eligibility.get(seen.code, 0) + 1
            continue
        if kind == "investor":
            other[seen.code] = other.get(seen.code, 0) + 1
            continue
        if kind == "capacity":
            capacity[seen.code] = capacity.get(seen.code, 0) + 1
        elif kind == "platform":
            other[seen.code] = other.get(seen.code, 0) + 1
        filled = sum((f.shares for f in seen.fills), Decimal(0))
        for f in seen.fills:
            fills += 1
            value = f.shares * f.price
            notional += value
            if not _in_session(market.calendar, f.at):
                off_hours += value
            if f.reference:
                squares.append(((f.price / f.reference) - 1) ** 2)
        if seen.fills and filled >= seen.shares:
            fill_times.append(Decimal(str((seen.fills[-1].at - lab.at).total_seconds())))
    unserved, considered = service(run, flow, window_seconds)
    samples = run.samples
    in_use = [(s.at, abs(s.position) * s.price) for s in samples]
    start = min((o.at for o in flow.orders), default=samples[0].at if samples else None)
    end = max((o.at for o in flow.orders), default=start)
    weighted = _time_weighted(in_use, start, end)
    peak = max((v for _, v in in_use), default=Decimal(0))
    sized = run.capital.amount
    custody = _custody_lags(run, samples)
    tracking = (sum(squares, Decimal(0)) / len(squares)).sqrt() * BPS if squares else Decimal(0)
    gaps = _gaps(run, market, samples)
    worst = min((Decimal(g["platform"]) for g in gaps), default=Decimal(0))
    swaps = run.swaps
    succeeded = [s for s in swaps if s.succeeded]
    impacts = [s.impact_bps for s in succeeded if s.impact_bps is not None]
    rights = RIGHTS[run.model]
    return {
        "symbol": run.symbol,
        "orders_submitted": len(run.orders),
        "fills": fills,
        "traded_notional": _money(notional),
        "capital": {
            "sized": _money(sized),
            "settings": dict(run.settings),
            "time_weighted": _money(weighted),
            "peak": _money(peak),
            "per_dollar_traded": _d(_ratio(sized, notional)),
            "time_weighted_per_dollar_traded": _d(_ratio(weighted, notional)),
        },
        "outcomes": dict(sorted(classes.items())),
        "unserved_rate": _d(_ratio(Decimal(unserved), Decimal(considered))),
        "served_considered": considered,
        "refusals": {
            "rate": _d(_ratio(Decimal(sum(capacity.values())), Decimal(considered))),
            "by_reason": dict(sorted(capacity.items())),
            "other": dict(sorted(other.items())),
        },
        "eligibility": {
            "refused": sum(eligibility.values()),
            "by_reason": dict(sorted(eligibility.items())),
        },
        "off_hours_fill_share": _d(_ratio(off_hours, notional)),
        "time_to_fill": _spread(fill_times),
        "time_to_custody": _spread(custody),
        "tracking_error_bps": _d(tracking, 2),
        "gap_pnl": {
            "gaps": gaps,
            "worst": _money(worst),
            "total": _money(sum((Decimal(g["platform"]) for g in gaps), Decimal(0))),
            "investors_total": _money(sum((Decimal(g["investors"]) for g in gaps), Decimal(0))),
            "worst_net": _money(min((Decimal(g["net"]) for g in gaps), default=Decimal(0))),
        },
        "fees_bps": _d(_ratio(run.fees.amount, notional) * BPS, 2),
        "settlement_collateral": _collateral(run, market),
        "rights": {
            "voting": rights.voting,
            "cash_dividends": rights.cash_dividends,
            "legal_claim": rights.legal_claim,
            "points": rights.points,
        },
        "composability": {
            "attempts": len(swaps),
            "succeeded": len(succeeded),
            "success_rate": _d(_ratio(Decimal(len(succeeded)), Decimal(len(swaps)))),
            "price_impact_bps": _d(Decimal(median(impacts)), 2) if impacts else "n/a",
            "refusals": sorted({s.code for s in swaps if s.code}),
        },
        "invariants": {
            "checks": run.invariant_checks,
            "breaks": list(run.invariant_breaks),
            "failures": list(run.failures),
        },
        "series": {"capital": [[at.isoformat(), _money(v)] for at, v in _thin(in_use)]},
        "seconds": str(run.seconds),
        "stages": {k: str(v) for k, v in run.stages.items()},
    }


def service(run: Any, flow: Flow, window_seconds: int) -> tuple[int, int]:
    """Return (unserved, considered) orders of a run: the unserved rate's parts (module doc)."""
    by_id = {o.order_id: o for o in flow.orders}
    unserved = considered = 0
    for seen in run.orders:
        kind = outcome_class(seen.code)
        if kind in ("eligibility", "investor"):
            continue
        considered += 1
        if kind == "capacity":
            unserved += 1
            continue
        lab = by_id[seen.order_id]
        if lab.limit is None and kind == "taken":
            filled = sum((f.shares for f in seen.fills), Decimal(0))
            late = bool(seen.fills) and (seen.fills[-1].at - lab.at).total_seconds() > window_seconds
            if filled < seen.shares or late:
                unserved += 1
    return unserved, considered


def unserved_rate(run: Any, flow: Flow, window_seconds: int) -> Decimal:
    """Return the share of considered orders a run left unserved (module doc)."""
    unserved, considered = service(run, flow, window_seconds)
    return _ratio(Decimal(unserved), Decimal(considered))


def _in_session(calendar: MarketCalendar, at: datetime) -> bool:
    return calendar.status(at).open


def _spread(values: Sequence[Decimal]) -> dict[str, str]:
    if not values:
        return {"median_seconds": "n/a", "p95_seconds": "n/a", "count": "0"}
    return {
        "median_seconds": _d(Decimal(median(values)), 1),
        "p95_seconds": _d(_pct(values, Decimal("0.95")), 1),
        "count": str(len(values)),
    }


def _time_weighted(points: Sequence[tuple[datetime, Decimal]], start: Any, end: Any) -> Decimal:
    if not points or start is None or end is None or end <= start:
        return points[-1][1] if points else Decimal(0)
    total = Decimal(0)
    span = Decimal(0)
    for (at, value), (after, _) in zip(points, [*points[1:], (end, Decimal(0))], strict=False):
        lo, hi = max(at, start), min(after, end)
        if hi <= lo:
            continue
        seconds = Decimal(str((hi - lo).total_seconds()))
        total += value * seconds
        span += seconds
    return total / span if span else Decimal(0)


def _thin(points: Sequence[tuple[datetime, Decimal]], most: int = 800) -> list[tuple[datetime, Decimal]]:
    """Return at most ``most`` points: every k-th sample and every change of the peak (for charts)."""
    if len(points) <= most:
        return list(points)
    step = math.ceil(len(points) / most)
    return [p for i, p in enumerate(points) if i % step == 0 or i == len(points) - 1]


def _custody_lags(run: Any, samples: Sequence[Any]) -> list[Decimal]:
    """Return, per buy fill, the seconds until the shortfall the next tick saw had settled (module doc)."""
    if not samples:
        return []
    times = [s.at for s in samples]
    gained: list[Decimal] = [Decimal(0)]
    for before, after in pairwise(samples):
        gained.append(gained[-1] + max(Decimal(0), after.custody - before.custody))
    lags: list[Decimal] = []
    for seen in run.orders:
        if seen.side is not Side.BUY:
            continue
        for f in seen.fills:
            i = bisect_left(times, f.at)
            if i >= len(samples):
                continue
            short = max(Decimal(0), samples[i].supply_shares - samples[i].custody)
            if short <= 0:
                lags.append(Decimal(0))
                continue
            goal = gained[i] + short
            for j in range(i + 1, len(samples)):
                s = samples[j]
                if gained[j] >= goal or s.supply_shares <= s.custody:
                    lags.append(Decimal(str((s.at - f.at).total_seconds())))
                    break
    return lags


def closures(calendar: MarketCalendar, start: date, end: date) -> list[tuple[date, date, str]]:
    """Return each weekend or holiday closure reopening in [start, end]: (last day, reopening, kind)."""
    days = list(calendar.trading_days(start - timedelta(days=10), end))
    found: list[tuple[date, date, str]] = []
    for before, after in pairwise(days):
        if (after - before).days <= 1 or after < start:
            continue
        weekdays_closed = any(
            (before + timedelta(days=k)).weekday() < 5 for k in range(1, (after - before).days)
        )
        found.append((before, after, "holiday" if weekdays_closed else "weekend"))
    return found


def _gaps(run: Any, market: Market, samples: Sequence[Any]) -> list[dict[str, str]]:
    if not samples:
        return []
    first, last = samples[0].at, samples[-1].at
    found: list[dict[str, str]] = []
    sides = {ModelName.INVENTORY: "inventory", ModelName.INSTANT: "buffer", ModelName.DIRECT: "market maker"}
    for before, after, kind in closures(market.calendar, first.date(), last.date()):
        closed = market.calendar.session_bounds(before)[1]
        opened = market.calendar.session_bounds(after)[0]
        if closed < first or opened > last:
            continue
        bars = {b.day: b for b in market.prices.bars(market.symbol, before, after)}
        if before not in bars or after not in bars:
            continue
        close = bars[before].close.amount
        open_ = bars[after].open.amount * bars[after].split_ratio
        held = Decimal(0)
        for s in samples:
            if s.at >= opened:
                break
            held = s.position
        platform = held * (open_ - close)
        investors = spread = Decimal(0)
        for seen in run.orders:
            for f in seen.fills:
                if closed < f.at < opened:
                    signed = f.shares if seen.side is Side.BUY else -f.shares
                    investors += signed * (open_ - f.price)
                    spread += abs(f.price - f.reference) * f.shares
        found.append(
            {
                "closed": closed.isoformat(),
                "opened": opened.isoformat(),
                "kind": kind,
                "move": _d(_ratio(open_ - close, close) * BPS, 1),
                "position": _d(held, 2),
                "platform": _money(platform),
                "investors": _money(investors),
                "spread_earned": _money(spread),
                "net": _money(platform + spread),
                "bearer": sides[run.model] if held else "investors",
            }
        )
    return found


def _volatility(market: Market, day: date) -> Decimal:
    bars = list(market.prices.bars(market.symbol, day - timedelta(days=45), day - timedelta(days=1)))
    closes = [b.close.amount for b in bars[-(VOL_DAYS + 1) :]]
    returns = [(b / a) - 1 for a, b in pairwise(closes) if a]
    if len(returns) < 2:
        return Decimal("0.02")
    mean = sum(returns, Decimal(0)) / len(returns)
    return (sum(((r - mean) ** 2 for r in returns), Decimal(0)) / (len(returns) - 1)).sqrt()


def _collateral(run: Any, market: Market) -> dict[str, dict[str, str]]:
    """Return the settlement collateral per cycle (module doc): peak and time-weighted, USD."""
    trades = list(run.broker_trades)
    vols: dict[date, Decimal] = {}
    found: dict[str, dict[str, str]] = {}
    for n in CYCLES:
        events: list[tuple[datetime, Decimal]] = []
        for t in trades:
            if n == 0:
                continue
            if t.trade_date not in vols:
                vols[t.trade_date] = _volatility(market, t.trade_date)
            margin = min(Decimal(1), MARGIN_Z * vols[t.trade_date] * Decimal(n).sqrt())
            amount = t.shares * t.price * margin
            settles = market.calendar.session_bounds(market.calendar.add_trading_days(t.trade_date, n))[1]
            events.append((t.filled_at, amount))
            events.append((settles, -amount))
        events.sort(key=lambda e: e[0])
        level, points = Decimal(0), []
        for at, change in events:
            level += change
            points.append((at, level))
        peak = max((v for _, v in points), default=Decimal(0))
        start = points[0][0] if points else None
        end = points[-1][0] if points else None
        found[f"T+{n}"] = {"peak": _money(peak), "time_weighted": _money(_time_weighted(points, start, end))}
    return found


def flow_money(flow: Flow) -> Money:
    """Return the flow's total notional at the references its orders saw."""
    return Money.rounded(sum((o.notional.amount for o in flow.orders), Decimal(0)))
