"""Capital sized from the flow, not configured: the smallest ``C`` at which a model serves it.

For each model the search runs the whole flow on a fresh engine at a capital ``C`` (split as the
scenario's shape says: ``lab.run.settings_for``) and reads its unserved rate (``lab.measures``). It
starts from the flow's largest daily notional, doubles until the rate is at most the scenario's
target (or halves while it still is), then bisects geometrically between the last capital that
failed and the first that served until they are within the scenario's tolerance. Every probe is a
real run and is kept, so the report shows the path. Capital is rounded to three significant figures.

Each model has a floor below which its settings make no sense: the inventory must hold at least
three shares at the first reference; a market maker at least twice the largest order; a buffer
at least twice the largest order. A flow served even at the floor is reported as served there.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal

from equitoken.domain.values import Money
from equitoken.issuance.models import ModelName
from equitoken.lab.measures import unserved_rate
from equitoken.lab.orders import Flow
from equitoken.lab.run import ModelRun, run_model
from equitoken.lab.scenario import Scenario

MAX_STEPS = 12
"""Doublings (or halvings) at most before the search gives up on bracketing the target."""
SATURATED = 3
"""Equal unserved rates over this many probes while doubling: more capital does not help; stop."""


@dataclass(frozen=True, slots=True)
class Probe:
    """One capital tried and the unserved rate it gave."""

    capital: Money
    unserved: Decimal


@dataclass(frozen=True, slots=True)
class Sized:
    """The search's answer: the run at the capital found, every probe, and whether the target was met."""

    run: ModelRun
    probes: tuple[Probe, ...]
    met: bool


Evaluate = Callable[[Scenario, Flow, ModelName, Money], ModelRun]


def round_capital(amount: Decimal) -> Money:
    """Return ``amount`` rounded up to three significant figures (at least $100)."""
    amount = max(amount, Decimal(100))
    exponent = amount.adjusted() - 2
    step = Decimal(1).scaleb(exponent)
    return Money(((amount / step).to_integral_value(rounding=ROUND_CEILING) * step).quantize(Decimal(1)))


def floor(model: ModelName, flow: Flow, scenario: Scenario) -> Money:
    """Return the smallest capital the search tries for ``model`` (module doc)."""
    largest = max((o.notional.amount for o in flow.orders), default=Decimal(1000))
    if model is ModelName.INVENTORY and flow.orders:
        first = flow.orders[0].reference.amount
        return round_capital(3 * first / scenario.inventory.inventory_share)
    return round_capital(2 * largest)


def start(model: ModelName, flow: Flow, scenario: Scenario) -> Money:
    """Return where the search starts: the scenario's figure, else the flow's largest daily notional."""
    if scenario.sizing.start.amount > 0:
        return round_capital(scenario.sizing.start.amount)
    daily: dict[object, Decimal] = defaultdict(Decimal)
    for order in flow.orders:
        daily[order.at.date()] += order.notional.amount
    guess = max(daily.values(), default=Decimal(10_000))
    return round_capital(max(guess, floor(model, flow, scenario).amount))


def size(scenario: Scenario, flow: Flow, model: ModelName, evaluate: Evaluate = run_model) -> Sized:
    """Return the smallest capital (to the tolerance) at which ``model`` serves ``flow`` (module doc)."""
    target = scenario.sizing.target_unserved
    window = scenario.sizing.window_seconds
    probes: list[Probe] = []
    # Only the smallest serving run (and the last failing one) is kept: a year's run holds a lot.
    runs: dict[str, ModelRun] = {}

    def serves(capital: Money) -> bool:
        run = evaluate(scenario, flow, model, capital)
        rate = unserved_rate(run, flow, window)
        probes.append(Probe(capital, rate))
        ok = rate <= target
        if ok and ("served" not in runs or capital < runs["served"].capital):
            runs["served"] = run
        elif not ok:
            runs["failed"] = run
        return ok

    lowest = floor(model, flow, scenario)
    capital = start(model, flow, scenario)
    low: Money | None = None
    high: Money | None = None
    if serves(capital):
        high = capital
        for _ in range(MAX_STEPS):
            if high == lowest:
                break
            candidate = max(round_capital(high.amount / 2), lowest)
            if serves(candidate):
                high = candidate
            else:
                low = candidate
                break
    else:
        low = capital
        for _ in range(MAX_STEPS):
            candidate = round_capital(low.amount * 2)
            if serves(candidate):
                high = candidate
                break
            low = candidate
            if len(probes) >= SATURATED and len({p.unserved for p in probes[-SATURATED:]}) == 1:
                break  # more capital changes nothing: what is unserved is not for want of capital
    if high is None:  # never served: report the largest capital tried, and say so
        assert low is not None
        return Sized(runs["failed"], tuple(probes), False)
    while low is not None and high.amount > low.amount * (1 + scenario.sizing.tolerance):
        middle = round_capital((low.amount * high.amount).sqrt())
        if middle >= high or middle <= low:
            break
        if serves(middle):
            high = middle
        else:
            low = middle
    return Sized(runs["served"], tuple(probes), True)
