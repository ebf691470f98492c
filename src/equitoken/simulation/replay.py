"""Replay real corporate-action history through the three models and measure what a holder keeps.

For each model, one engine (embedded chain, simulated broker, bundled real prices, the real XNYS
calendar) lists AAPL, IBM, KO and MSFT. On the first session of 2012 one holder buys ``shares`` of
each (from inventory, against a hedge, or by primary issue for direct ownership), then only time
passes: every split and dividend the as-traded bars hold for 2012–2014 is applied by the
corporate-action service — KO 2:1 on 2012-08-13, AAPL 7:1 on 2014-06-09 and every quarterly
dividend (record date and pay date derived as ``actions.from_bar`` says).

The benchmark is the same holder owning the shares directly, with the same withholding:

- against a **paying** model (direct ownership) it holds the shares and keeps the net dividends in
  cash: value = shares × price + cash received, the token holder's = UI balance × price + the
  stablecoin dividends actually received;
- against a **reinvesting** model (inventory, instant) it reinvests each net dividend at the pay
  date's reference price (a frictionless DRIP): value = shares × price, the token holder's = UI
  balance (raw × multiplier) × price.

At each step (split, record, pay or reinvest) the deviation (token − benchmark) / benchmark is
measured in basis points; ``TOLERANCE`` is the bound the replay claims. What may move it: the
broker's slippage on each reinvestment (a real cost the frictionless benchmark does not pay: it
accumulates, about 0.02 bp per quarterly dividend), the carry (the part of a net dividend a
reinvestment could not place — the price pad and the multiplier's five decimals — reinvested with
the next one) and micro-dollar rounding. A split moves
nothing: the multiplier neutralises the price jump exactly. Flow stays away from the ex-dates, so
no share is in flight when a split applies (the service would refuse it). The reserve invariant is
checked by the engine after every step.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from datetime import time as clock_time
from decimal import Decimal
from functools import partial
from zoneinfo import ZoneInfo

from equitoken.adapters.chain.factory import build_chain
from equitoken.adapters.clock import ManualClock
from equitoken.adapters.store.memory import MemoryStore
from equitoken.app.bootstrap import bootstrap
from equitoken.app.corporate_actions import NON_TREATY, TREATMENTS, CorporateActionService, Outcome
from equitoken.app.issuance import IssuanceEngine, ModelBuilder, open_engine
from equitoken.app.settings import Settings
from equitoken.compliance.actions import Regulation
from equitoken.compliance.investors import InvestorCategory
from equitoken.corporate_actions import dividends
from equitoken.corporate_actions.actions import CashDividend, Split
from equitoken.domain.errors import DomainError
from equitoken.domain.ids import InvestorId, Symbol
from equitoken.domain.trading import OrderType, Side
from equitoken.domain.values import Bps, Money, Shares, exact, quantize
from equitoken.issuance.models import ModelName
from equitoken.issuance.models.base import Holder
from equitoken.issuance.models.direct import DirectSettings, build_direct_model
from equitoken.issuance.models.instant import InstantSettings, build_instant_model
from equitoken.issuance.models.inventory import InventorySettings, build_inventory_model
from equitoken.issuance.orders import OrderRequest, TimeInForce

SYMBOLS = ("AAPL", "IBM", "KO", "MSFT")
START = date(2012, 1, 3)
END = date(2014, 12, 31)
HOLDING = Shares(100)
"""What the holder buys of each symbol on the first session."""
TOLERANCE = Bps(1)
"""The claim: a token holder's value stays within 1 bp of the directly held share at every step."""
POLICIES = {
    ModelName.INVENTORY: "tracker-certificate",
    ModelName.INSTANT: "instant-execution",
    ModelName.DIRECT: "direct-ownership",
}
NEW_YORK = ZoneInfo("America/New_York")


@dataclass(frozen=True, slots=True)
class Mark:
    """One measurement: after a step of an action, the token holder's value against the benchmark."""

    symbol: str
    model: str
    action_id: str
    step: str
    at: str
    multiplier: str
    ui_shares: str
    price: str
    cash: str
    token_value: str
    direct_value: str
    deviation_bps: str


@dataclass(frozen=True, slots=True)
class Tracking:
    """One symbol under one model over the whole replay."""

    symbol: str
    model: str
    actions: int
    max_deviation_bps: str
    within_tolerance: bool
    final_multiplier: str
    carry: str


@dataclass
class ReplayReport:
    """The whole replay: every mark, the per symbol/model summary, the invariant, the runtime."""

    start: str
    end: str
    shares: str
    withholding_bps: str
    tolerance_bps: str
    marks: list[Mark] = field(default_factory=list)
    tracking: list[Tracking] = field(default_factory=list)
    invariant_checks: int = 0
    invariant_breaks: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def invariants_ok(self) -> bool:
        """Tell whether every listing was backed at every check."""
        return not self.invariant_breaks

    @property
    def within_tolerance(self) -> bool:
        """Tell whether every symbol under every model tracked within the tolerance."""
        return all(t.within_tolerance for t in self.tracking)


def builders() -> dict[ModelName, ModelBuilder]:
    """Return the replay's model settings (sized for four listings and one holder)."""
    return {
        ModelName.INVENTORY: partial(
            build_inventory_model,
            settings=InventorySettings(
                capital=Money("500000"),
                initial_shares=Shares("300"),
                low_watermark=Shares("100"),
                target=Shares("300"),
                high_watermark=Shares("600"),
                stablecoin_float=Money("100000"),
            ),
        ),
        ModelName.INSTANT: partial(build_instant_model, settings=InstantSettings()),
        ModelName.DIRECT: partial(build_direct_model, settings=DirectSettings()),
    }


def ny(day: date, hour: int, minute: int = 0) -> datetime:
    """Return ``day`` at ``hour:minute`` New York time, in UTC."""
    return datetime.combine(day, clock_time(hour, minute), NEW_YORK).astimezone(UTC)


@dataclass
class _Benchmark:
    """The directly held share: its count and the net cash it received."""

    shares: Decimal
    cash: Money = field(default_factory=Money.zero)


class _Run:
    """One model's replay over its own engine."""

    def __init__(self, model: ModelName, shares: Shares, withholding: Bps, report: ReplayReport) -> None:
        self.model = model
        self.shares = shares
        self.withholding = withholding
        self.report = report
        self.clock = ManualClock(ny(START, 10, 0))
        seed = f"replay-{model.value}"
        platform = bootstrap(
            Settings(chain_seed=seed),
            self.clock,
            store=MemoryStore(),
            chain=build_chain("", seed, genesis=self.clock.now()),
        )
        self.engine: IssuanceEngine = open_engine(platform)
        self.service = CorporateActionService(self.engine, withholding=withholding)
        self.treatment = TREATMENTS[model]
        self.bench: dict[str, _Benchmark] = {}
        self.received: dict[str, Money] = {}
        self.deviations: dict[str, list[Decimal]] = {s: [] for s in SYMBOLS}
        self.holder: Holder | None = None

    def run(self) -> None:
        engine = self.engine
        build = builders()[self.model]
        for symbol in SYMBOLS:
            engine.list_stock(Symbol(symbol), self.model, POLICIES[self.model], build)
        holder = engine.onboard(
            InvestorId("inv-holder"),
            name="Hana Holder",
            residence="CH",
            category=InvestorCategory.PROFESSIONAL,
        )
        self.holder = holder
        engine.deposit(holder, Money("400000"))
        for symbol in SYMBOLS:
            self._buy(Symbol(symbol), holder)
            self.bench[symbol] = _Benchmark(self.shares.value)
            self.received[symbol] = Money.zero()
        engine.tick()
        actions = self.service.feed(START, END)
        instants: set[datetime] = set()
        for action in actions:
            instants.add(engine.calendar.session_bounds(action.ex_date)[0])
            if isinstance(action, CashDividend):
                instants.add(engine.calendar.session_bounds(action.pay_date)[0])
        by_id = {a.action_id: a for a in actions}
        for moment in sorted(instants):
            self.clock.set(moment)
            engine.tick()
            for outcome in self.service.due():
                self._mark(outcome, by_id[outcome.action_id])
        self.clock.set(ny(END, 16, 30))
        engine.tick()
        for symbol in SYMBOLS:
            deviations = self.deviations[symbol]
            worst = max((abs(d) for d in deviations), default=Decimal(0))
            self.report.tracking.append(
                Tracking(
                    symbol,
                    self.model.value,
                    len(deviations),
                    str(quantize(worst, 4)),
                    worst <= TOLERANCE.value,
                    str(engine.chain.multiplier(engine.model(Symbol(symbol)).listing.instrument)),
                    str(self.service.carry(Symbol(symbol)).amount),
                )
            )
        self.report.invariant_checks += engine.log.checks
        self.report.invariant_breaks.extend(f"{self.model.value}: {b}" for b in engine.log.breaks)
        self.report.failures.extend(f"{self.model.value}: {f}" for f in engine.log.failures)

    def _buy(self, symbol: Symbol, holder: Holder) -> None:
        engine = self.engine
        if self.model is ModelName.DIRECT:
            engine.desk.whitelist(symbol, [holder.investor])
            price = engine.prices.reference_price(symbol, self.clock.now()).price
            engine.issue_primary(symbol, holder, self.shares, price, regulation=Regulation.REG_S)
            return
        request = OrderRequest(
            "replay",
            f"buy-{symbol}",
            holder.investor,
            holder.wallet,
            symbol,
            Side.BUY,
            OrderType.MARKET,
            TimeInForce.DAY,
            quantity=self.shares,
        )
        submission = engine.submit(request)
        if not submission.order.state.name.startswith(("FILLED", "SETTLED")):
            raise DomainError(
                "REPLAY_SETUP_FAILED", f"the opening buy of {symbol} did not fill: {submission.order.state}"
            )

    def _mark(self, outcome: Outcome, action: Split | CashDividend) -> None:
        engine, symbol = self.engine, str(outcome.symbol)
        assert self.holder is not None
        bench = self.bench[symbol]
        figures = outcome.figures
        if isinstance(action, Split):
            with exact():
                bench.shares *= action.ratio
        elif outcome.step == "pay":
            paid = figures["payments"].get(str(self.holder.wallet), "0")
            self.received[symbol] = self.received[symbol] + Money(paid)
            bench.cash = bench.cash + self._benchmark_net(action, bench.shares)
        elif outcome.step == "reinvest":
            net = self._benchmark_net(action, bench.shares)
            bench.shares += _divide(net.amount, Decimal(figures["price"]))
        elif outcome.step == "record" and figures.get("treatment") == "reinvest":
            return  # reinvested in the same instant: measured once, after the reinvestment
        listing = engine.model(outcome.symbol).listing
        price = engine.prices.reference_price(outcome.symbol, self.clock.now()).price.amount
        raw = engine.token_balance(outcome.symbol, self.holder.wallet).value
        multiplier = engine.chain.multiplier(listing.instrument)
        with exact():
            ui = raw * multiplier
            token_value = ui * price + self.received[symbol].amount
            direct_value = bench.shares * price + bench.cash.amount
        deviation = _divide((token_value - direct_value) * 10_000, direct_value)
        self.deviations[symbol].append(deviation)
        self.report.marks.append(
            Mark(
                symbol,
                self.model.value,
                outcome.action_id,
                outcome.step,
                outcome.at.isoformat(),
                str(multiplier),
                str(ui),
                str(price),
                str(self.received[symbol].amount),
                str(quantize(token_value, 6)),
                str(quantize(direct_value, 6)),
                str(quantize(deviation, 4)),
            )
        )

    def _benchmark_net(self, action: CashDividend, shares: Decimal) -> Money:
        return dividends.entitlement(shares, action.per_share, self.withholding).net


def _divide(numerator: Decimal, denominator: Decimal) -> Decimal:
    """Return the quotient to 18 places (rounded down): for measurements, not for the books."""
    with exact():
        scaled = numerator.scaleb(18)
    return (scaled // denominator).scaleb(-18) if denominator else Decimal(0)


def run_replay(shares: Shares = HOLDING, withholding: Bps = NON_TREATY) -> ReplayReport:
    """Replay 2012–2014 for every model and return the tracking figures (see the module doc)."""
    started = time.perf_counter()
    report = ReplayReport(
        START.isoformat(),
        END.isoformat(),
        str(shares.value),
        str(withholding.value),
        str(TOLERANCE.value),
    )
    for model in (ModelName.DIRECT, ModelName.INVENTORY, ModelName.INSTANT):
        _Run(model, shares, withholding, report).run()
    report.seconds = round(time.perf_counter() - started, 2)
    return report
