"""The trilemma lab's order flow: one seeded list of investors and orders per scenario.

Every model of a lab run receives the flow ``generate`` returns, so the rules below are the flow's
whole definition. All randomness comes from one ``random.Random(scenario.seed)`` (a string seed is
hashed with SHA-512 by ``random``, so it does not depend on ``PYTHONHASHSEED``). Floats appear only
inside the draws and only under IEEE 754's correctly rounded operations (``+ − × ÷``, comparisons);
every transcendental step (``exp``, ``ln``, ``sqrt``) is done in ``Decimal`` under a fixed context,
since a platform's libm may differ in the last place. So the same scenario gives the same flow on
any machine.

**Population.** ``flow.investors`` investors are split across ``flow.population`` by weight with the
largest-remainder method: each segment gets the floor of its quota and the investors left over go,
one each, to the largest fractional remainders (ties: the earlier segment). When there are at least
as many investors as segments, a segment left empty takes one investor from the segment holding the
most (the earlier on ties). Keys run ``inv-0001``, ``inv-0002``, … in segment order; each investor
has its segment's residence, category, US-person flag and cash.

**Time span and periods.** From ``scenario.start`` 00:00 New York to ``scenario.end`` 24:00 New
York, cut at every open, close, 20:00 New York and New York midnight into contiguous intervals, each
of one ``PeriodKind`` (``period_of``). An interval of kind *k* lasting *h* hours expects
``rates[k] × h × factor`` orders; the count is a Poisson draw (inversion; above a mean of 1,000 a
normal approximation rounded half-even), the instants are uniform whole seconds inside the interval,
sorted.

**Momentum.** At each interval's start, ``move`` is the reference price then divided by the close
of the bar before the reference's bar, minus one. That earlier close is divided by the reference
bar's split ratio, so a split day (AAPL 7:1 on 2014-06-09) is not read as an 86 % crash. With no
usable price (none yet, stale, or no earlier bar) the move is zero. The rate factor is
``min(10, 1 + momentum × |move|)`` and the buy probability ``clamp(buy_share + momentum × move,
0.05, 0.95)``.

**Orders.** At each instant the reference price is ``prices.reference_price``; an instant with no
price (``NO_PRICE``) or a stale one is skipped: the platform would refuse such an order. Then, in
this order of draws:

* side: a buy with the buy probability, else a sell; a sell needs a holder — an investor whose
  nominal position (what it would hold had every earlier buy filled) is positive — and with none
  the order is a buy;
* investor: a buy picks uniformly from the population, a sell uniformly from the holders (in key
  order);
* size: notional ``min(size_max, size_median × exp(size_sigma × N(0, 1)))`` (the normal by Leva's ratio
  of uniforms), shares ``max(1, floor(notional ÷ reference))``; a sell is capped at the position;
* limit: with probability ``limit_share`` a ``DAY`` limit order at ``reference × (1 + s × U(−0.5, 1)
  × limit_band_bps ÷ 10,000)`` rounded to cents, ``s`` = +1 for a buy and −1 for a sell (mostly
  marketable, some passive); otherwise a market order, ``IOC`` (the direct model's ATS takes market
  orders as IOC only, and every model gets the same orders).

Positions are whole shares and follow splits: before the first order at or after the open of a bar
with a split ratio other than one, every position is multiplied by the ratio and floored.
``order_id`` is ``{scenario.name}:{n:06d}``, numbered from 1 in time order.
"""

from __future__ import annotations

import math
import random
from bisect import bisect_right, insort
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from decimal import ROUND_FLOOR, ROUND_HALF_EVEN, Context, Decimal, localcontext
from fractions import Fraction

from equitoken.domain.errors import DomainError
from equitoken.domain.ids import Symbol
from equitoken.domain.instants import utc
from equitoken.domain.market import DailyBar
from equitoken.domain.trading import Side
from equitoken.domain.values import Price, Shares, quantize
from equitoken.issuance.orders import TimeInForce
from equitoken.lab.orders import Flow, LabInvestor, LabOrder, PeriodKind
from equitoken.lab.scenario import Scenario, Segment
from equitoken.ports.market import MarketCalendar, PriceSource

__all__ = ["describe", "generate", "period_of"]

EVENING_ENDS = time(20, 0)
"""Where an evening turns into night, New York time."""
RATE_FACTOR_CAP = Decimal(10)
BUY_FLOOR, BUY_CEILING = Decimal("0.05"), Decimal("0.95")
NORMAL_ABOVE = Decimal(1000)
"""Above this mean the Poisson count is drawn from its normal approximation (inversion is O(mean))."""

# A fixed context rather than the thread's: a caller that changed the default precision or rounding
# must not change the flow.
_MATH = Context(prec=28, rounding=ROUND_HALF_EVEN)
# The size's exponential needs far fewer digits than a share count's floor can notice, and costs
# half as much at 16 (it runs once an order).
_SIZE = Context(prec=16, rounding=ROUND_HALF_EVEN)
_ZERO, _ONE, _TWO = Decimal(0), Decimal(1), Decimal(2)
_HOUR_SECONDS = Decimal(3600)
_BPS = Decimal(10_000)
_CENT_PLACES = 2


# -- periods ------------------------------------------------------------------------------------------


def period_of(at: datetime, calendar: MarketCalendar) -> PeriodKind:
    """Return the kind of period ``at`` falls in, by its New York date and the exchange's session.

    ``SESSION`` in the regular session; ``EVENING`` on a trading day from the close until 20:00 New
    York; ``NIGHT`` on a trading day from 20:00 to midnight and from midnight to the open;
    ``WEEKEND`` on a Saturday or Sunday; ``HOLIDAY`` on a weekday the exchange is shut all day.
    """
    moment = utc(at)
    tz = calendar.tz
    local = moment.astimezone(tz)
    day = local.date()
    if day.weekday() >= 5:
        return PeriodKind.WEEKEND
    if not calendar.is_trading_day(day):
        return PeriodKind.HOLIDAY
    opens, closes = calendar.session_bounds(day)
    if moment < opens:
        return PeriodKind.NIGHT
    if moment < closes:
        return PeriodKind.SESSION
    if moment < datetime.combine(day, EVENING_ENDS, tz):
        return PeriodKind.EVENING
    return PeriodKind.NIGHT


@dataclass(frozen=True, slots=True)
class _Interval:
    start: datetime
    end: datetime
    kind: PeriodKind


def _intervals(first: date, last: date, calendar: MarketCalendar) -> Iterator[_Interval]:
    """Yield the span's contiguous intervals, one kind each, from ``first`` 00:00 to ``last`` 24:00 NY."""
    tz = calendar.tz
    day = first
    while day <= last:
        midnight, next_midnight = _midnight(day, tz), _midnight(day + timedelta(days=1), tz)
        if day.weekday() >= 5:
            yield _Interval(midnight, next_midnight, PeriodKind.WEEKEND)
        elif not calendar.is_trading_day(day):
            yield _Interval(midnight, next_midnight, PeriodKind.HOLIDAY)
        else:
            opens, closes = (utc(m) for m in calendar.session_bounds(day))
            evening_ends = max(closes, utc(datetime.combine(day, EVENING_ENDS, tz)))
            pieces = (
                (midnight, opens, PeriodKind.NIGHT),
                (opens, closes, PeriodKind.SESSION),
                (closes, evening_ends, PeriodKind.EVENING),
                (evening_ends, next_midnight, PeriodKind.NIGHT),
            )
            for start, end, kind in pieces:
                if start < end:  # an evening may be empty if a close were ever at 20:00 or later
                    yield _Interval(start, end, kind)
        day += timedelta(days=1)


def _midnight(day: date, tz: tzinfo) -> datetime:
    # Built in New York wall-clock time, then to UTC: a DST day lasts 23 or 25 hours.
    return utc(datetime.combine(day, time(0), tz))


# -- population ---------------------------------------------------------------------------------------


def _split(weights: Sequence[Decimal], total: int) -> list[int]:
    """Return ``total`` split by ``weights`` with the largest-remainder method (see the module docs)."""
    # Exact fractions, not Decimals: two equal remainders must compare equal to fall to the tie rule,
    # and a rounded quota keeps more fractional digits the smaller it is.
    weight_sum = sum((Fraction(w) for w in weights), Fraction(0))
    quotas = [total * Fraction(w) / weight_sum for w in weights]
    counts = [math.floor(q) for q in quotas]
    by_remainder = sorted(range(len(weights)), key=lambda i: (-(quotas[i] - counts[i]), i))
    for i in by_remainder[: total - sum(counts)]:
        counts[i] += 1
    if total >= len(weights):
        for i, count in enumerate(counts):
            if count == 0:
                donor = max(range(len(counts)), key=lambda j: (counts[j], -j))
                counts[donor] -= 1
                counts[i] = 1
    return counts


def _population(segments: Sequence[Segment], total: int) -> tuple[LabInvestor, ...]:
    counts = _split([s.weight for s in segments], total)
    investors: list[LabInvestor] = []
    for segment, count in zip(segments, counts, strict=True):
        for _ in range(count):
            investors.append(
                LabInvestor(
                    key=f"inv-{len(investors) + 1:04d}",
                    residence=segment.residence,
                    category=segment.category,
                    us_person=segment.us_person,
                    cash=segment.cash,
                )
            )
    return tuple(investors)


# -- draws --------------------------------------------------------------------------------------------


def _uniform(rng: random.Random) -> Decimal:
    """Return U[0, 1) as an exact Decimal (a float from ``random`` is k / 2**53: no rounding)."""
    return Decimal(rng.random())


def _chance(rng: random.Random, probability: float) -> bool:
    """Tell whether an event of ``probability`` happens (one uniform draw).

    Comparing two binary64 values is exact, so this is as reproducible as a Decimal comparison and
    spares a 53-digit Decimal per draw; ``probability`` is ``float(Decimal)``, correctly rounded.
    """
    return rng.random() < probability


def _normal(rng: random.Random) -> Decimal:
    """Return N(0, 1) by Leva's ratio of uniforms, exactly as a Decimal.

    Only additions, multiplications, a division and comparisons touch floats: IEEE 754 rounds each
    correctly, so every machine computes the same bits. The rare logarithm of the exact test (about
    one draw in a hundred) is taken in Decimal, since a platform's libm ``log`` may differ in the last
    place. Box–Muller would need a cosine, which Decimal lacks.
    """
    while True:
        u = rng.random()
        v = 1.7156 * (rng.random() - 0.5)
        if u == 0.0:
            continue
        x = u - 0.449871
        y = abs(v) + 0.386595
        q = x * x + y * (0.19600 * y - 0.25472 * x)
        if q < 0.27597:
            return Decimal(v / u)
        if q > 0.27846:
            continue
        exact_u, exact_v = Decimal(u), Decimal(v)
        if exact_v * exact_v <= -4 * exact_u * exact_u * exact_u.ln():
            return Decimal(v / u)


def _poisson(rng: random.Random, mean: Decimal) -> int:
    """Return a Poisson count of ``mean`` (inversion; a rounded normal above ``NORMAL_ABOVE``)."""
    if mean <= 0:
        return 0
    if mean > NORMAL_ABOVE:
        drawn = mean + mean.sqrt() * _normal(rng)
        return max(0, int(drawn.to_integral_value(ROUND_HALF_EVEN)))
    u = _uniform(rng)
    k = 0
    term = (-mean).exp()
    cumulative = term
    # The cap guards against a cumulative sum that rounding keeps a hair below u near u = 1.
    limit = int(mean + 40 * mean.sqrt()) + 40
    while cumulative <= u and k < limit:
        k += 1
        term = term * mean / k
        cumulative += term
    return k


def _clamp(value: Decimal, low: Decimal, high: Decimal) -> Decimal:
    return max(low, min(high, value))


# -- prices -------------------------------------------------------------------------------------------


class _Market:
    """The scenario's symbol: fresh reference prices and the momentum move at an instant."""

    def __init__(self, scenario: Scenario, calendar: MarketCalendar, prices: PriceSource) -> None:
        self.symbol = Symbol(scenario.symbol)
        self.prices = prices
        # A year before the start is ample to find the bar before the first reference's bar.
        history = prices.bars(self.symbol, scenario.start - timedelta(days=366), scenario.end)
        self.bars: tuple[DailyBar, ...] = tuple(history)
        self.days = tuple(bar.day for bar in self.bars)
        splits = [b for b in self.bars if b.split_ratio != 1 and scenario.start <= b.day <= scenario.end]
        self.splits = [(utc(calendar.session_bounds(b.day)[0]), b.split_ratio) for b in splits]

    def reference(self, at: datetime) -> tuple[Price, date] | None:
        """Return the fresh reference price at ``at`` and its bar's day, or None when there is none."""
        try:
            quote = self.prices.reference_price(self.symbol, at)
        except DomainError as error:
            if error.code != "NO_PRICE":
                raise
            return None
        return None if quote.stale else (quote.price, quote.bar_day)

    def move(self, at: datetime) -> Decimal:
        """Return the reference at ``at`` against the split-adjusted close before its bar, minus one."""
        found = self.reference(at)
        if found is None:
            return _ZERO
        price, bar_day = found
        i = bisect_right(self.days, bar_day) - 1
        if i < 1 or self.days[i] != bar_day:
            return _ZERO
        previous = self.bars[i - 1].close.amount / self.bars[i].split_ratio
        return price.amount / previous - _ONE


# -- the flow -----------------------------------------------------------------------------------------


class _Book:
    """Nominal positions in whole shares, and the holders in investor order (for a uniform pick)."""

    def __init__(self) -> None:
        self.positions: dict[int, int] = {}
        self.holders: list[int] = []

    def add(self, investor: int, shares: int) -> None:
        before = self.positions.get(investor, 0)
        self.positions[investor] = before + shares
        if before == 0:
            insort(self.holders, investor)

    def remove(self, investor: int, shares: int) -> None:
        left = self.positions[investor] - shares
        self.positions[investor] = left
        if left == 0:
            self.holders.remove(investor)

    def split(self, ratio: Decimal) -> None:
        for investor in list(self.holders):
            scaled = int((self.positions[investor] * ratio).to_integral_value(ROUND_FLOOR))
            self.positions[investor] = scaled
            if scaled == 0:  # a reverse split can floor a small holding away
                self.holders.remove(investor)


def generate(scenario: Scenario, calendar: MarketCalendar, prices: PriceSource) -> Flow:
    """Return the scenario's flow: its population and its orders in time order (rules: module docs)."""
    with localcontext(_MATH):
        return _generate(scenario, calendar, prices)


def _generate(scenario: Scenario, calendar: MarketCalendar, prices: PriceSource) -> Flow:
    settings = scenario.flow
    rng = random.Random(scenario.seed)
    investors = _population(settings.population, settings.investors)
    market = _Market(scenario, calendar, prices)
    pending_splits = list(market.splits)
    book = _Book()
    orders: list[LabOrder] = []
    median, cap = settings.size_median.amount, settings.size_max.amount
    band = settings.limit_band_bps / _BPS
    limit_chance = float(settings.limit_share)
    for interval in _intervals(scenario.start, scenario.end, calendar):
        rate = settings.rates.get(interval.kind, _ZERO)
        if rate <= 0:
            continue
        seconds = int((interval.end - interval.start).total_seconds())
        move = market.move(interval.start) if settings.momentum else _ZERO
        factor = min(RATE_FACTOR_CAP, _ONE + settings.momentum * abs(move))
        buy_probability = _clamp(settings.buy_share + settings.momentum * move, BUY_FLOOR, BUY_CEILING)
        buy_chance = float(buy_probability)
        count = _poisson(rng, rate * Decimal(seconds) / _HOUR_SECONDS * factor)
        offsets = sorted(rng.randrange(seconds) for _ in range(count))
        for offset in offsets:
            at = interval.start + timedelta(seconds=offset)
            found = market.reference(at)
            if found is None:
                continue
            reference = found[0]
            while pending_splits and pending_splits[0][0] <= at:
                book.split(pending_splits.pop(0)[1])
            side = Side.BUY if _chance(rng, buy_chance) else Side.SELL
            if side is Side.SELL and not book.holders:
                side = Side.BUY
            if side is Side.BUY:
                investor = rng.randrange(len(investors))
            else:
                investor = book.holders[rng.randrange(len(book.holders))]
            notional = min(cap, median * _SIZE.exp(_SIZE.multiply(settings.size_sigma, _normal(rng))))
            shares = max(1, int((notional / reference.amount).to_integral_value(ROUND_FLOOR)))
            if side is Side.BUY:
                book.add(investor, shares)
            else:
                shares = min(shares, book.positions[investor])
                book.remove(investor, shares)
            limit: Price | None = None
            tif = TimeInForce.IOC
            if _chance(rng, limit_chance):
                sign = _ONE if side is Side.BUY else -_ONE
                offset_share = Decimal("1.5") * _uniform(rng) - Decimal("0.5")
                amount = reference.amount * (_ONE + sign * offset_share * band)
                limit = Price(max(quantize(amount, _CENT_PLACES), Decimal("0.01")), reference.currency)
                tif = TimeInForce.DAY
            orders.append(
                LabOrder(
                    order_id=f"{scenario.name}:{len(orders) + 1:06d}",
                    at=at,
                    investor=investors[investor].key,
                    side=side,
                    shares=Shares(shares),
                    limit=limit,
                    time_in_force=tif,
                    period=interval.kind,
                    reference=reference,
                )
            )
    return Flow(seed=scenario.seed, investors=investors, orders=tuple(orders))


# -- summary ------------------------------------------------------------------------------------------


def _share(part: int, whole: int) -> str:
    if whole == 0:
        return "0.0000"
    with localcontext(_MATH):
        return str(quantize(Decimal(part) / Decimal(whole), 4))


def _iso(moment: datetime) -> str:
    return utc(moment).isoformat().replace("+00:00", "Z")


def describe(flow: Flow) -> dict[str, object]:
    """Return a JSON-ready summary of a flow: counts, shares, sizes, its first and last instants.

    ``orders_per_trading_day`` is the orders of trading days (session, evening and night) per day
    that has at least one session order: a flow carries no calendar, and an exchange's regular
    session lies within one UTC date (New York's does), so those dates are its trading days.
    """
    orders = flow.orders
    total = len(orders)
    by_period = {kind.value: 0 for kind in PeriodKind}
    for order in orders:
        by_period[order.period.value] += 1
    off_hours = sum(1 for o in orders if o.period.off_hours)
    buys = sum(1 for o in orders if o.side is Side.BUY)
    limits = sum(1 for o in orders if o.limit is not None)
    with localcontext(_MATH):
        notionals = sorted(o.notional.amount for o in orders)
        if not notionals:
            median = _ZERO
        elif total % 2:
            median = notionals[total // 2]
        else:
            median = (notionals[total // 2 - 1] + notionals[total // 2]) / _TWO
        session_days = {utc(o.at).date() for o in orders if o.period is PeriodKind.SESSION}
        on_trading_days = total - by_period[PeriodKind.WEEKEND.value] - by_period[PeriodKind.HOLIDAY.value]
        per_day = Decimal(on_trading_days) / Decimal(len(session_days)) if session_days else _ZERO
        # Cents in a summary: the orders themselves keep the money precision.
        median_text = str(quantize(median, _CENT_PLACES))
        total_text = str(quantize(sum(notionals, _ZERO), _CENT_PLACES))
        per_day_text = str(quantize(per_day, 1))
    return {
        "orders": total,
        "investors": len(flow.investors),
        "by_period": by_period,
        "off_hours_share": _share(off_hours, total),
        "buy_share": _share(buys, total),
        "limit_share": _share(limits, total),
        "median_notional": median_text,
        "total_notional": total_text,
        "orders_per_trading_day": per_day_text,
        "first_order": _iso(orders[0].at) if orders else None,
        "last_order": _iso(orders[-1].at) if orders else None,
    }
