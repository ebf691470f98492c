"""Send one flow to one model on its own engine and record what happened (the lab's only engine contact).

Each run is the production engine on a manual clock — an in-memory store, the in-process EVM, the
simulated broker over the scenario's real bars, the real XNYS calendar — with one listing of the
scenario's stock under one model, sized by one figure of capital ``C`` split as the scenario's
shape says (``settings_for``). The population is onboarded (an investor the platform refuses keeps
its orders in the flow: they are refused as ineligible, and counted as such), every onboarded
investor is whitelisted by the transfer agent for the direct-ownership share, and the stock's real
splits and dividends are announced and applied on their dates.

Time moves from the first order's day to the scenario's end, then on until every broker trade has
settled. The engine is ticked at every open and close (a minute after), every 15 minutes in session
and every hour outside it; the flow's orders are submitted at their own instants (the engine brings
the chain's clock up first). At every tick the run samples the price, the listing's backing and the
issuer's principal position; the measures (``lab.measures``) are computed from these records alone.

Direct ownership has no issuer capital: its liquidity is a market maker on the ATS, an investor on
the register with ``C`` (half in shares issued to it at the start, half in cash) who rests all its
shares at the ask and all its cash at the bid, ``spread_bps`` around the reference, re-quoted at
every open. Its orders are not part of the flow and are left out of every measure but capital.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_FLOOR, Decimal
from functools import cache, partial
from typing import Any

from equitoken.adapters.broker.simulated import SimulatedBroker
from equitoken.adapters.chain.factory import build_chain
from equitoken.adapters.clock import ManualClock
from equitoken.adapters.store.memory import MemoryStore
from equitoken.app.bootstrap import bootstrap
from equitoken.app.corporate_actions import CorporateActionService
from equitoken.app.issuance import IssuanceEngine, ModelBuilder, open_engine
from equitoken.app.settings import Settings
from equitoken.compliance.actions import Regulation
from equitoken.compliance.investors import InvestorCategory, PersonKind
from equitoken.domain.errors import DomainError
from equitoken.domain.ids import InvestorId, OrderId, Symbol
from equitoken.domain.instants import utc
from equitoken.domain.trading import OrderType, Side
from equitoken.domain.values import Bps, Money, Price, Shares
from equitoken.issuance.models import ModelName
from equitoken.issuance.models.base import Holder
from equitoken.issuance.models.books import USD, fees, hedge_pending, inventory, investor_cash
from equitoken.issuance.models.direct import DirectSettings, build_direct_model
from equitoken.issuance.models.instant import InstantSettings, build_instant_model
from equitoken.issuance.models.inventory import InventorySettings, build_inventory_model
from equitoken.issuance.orders import Order, OrderRequest, OrderState, TimeInForce
from equitoken.lab.bridge import BridgedPrices
from equitoken.lab.orders import Flow, LabOrder
from equitoken.lab.scenario import Scenario
from equitoken.ports.broker import BrokerFill
from equitoken.ports.market import MarketCalendar, PriceSource

MODELS = (ModelName.INVENTORY, ModelName.INSTANT, ModelName.DIRECT)
POLICIES = {
    ModelName.INVENTORY: "tracker-certificate",
    ModelName.INSTANT: "instant-execution",
    ModelName.DIRECT: "direct-ownership",
}
SESSION_TICK = timedelta(minutes=15)
OFF_HOURS_TICK = timedelta(hours=1)
SETTLE_DAYS = 7
"""Calendar days after the scenario's end during which time runs on (no orders) so trades settle."""
MAKER = "lab-maker"
"""The direct-ownership market maker's investor key (its orders are not the flow's)."""
CLIENT = "lab"


@dataclass(frozen=True, slots=True)
class FillSeen:
    """One fill of a flow order: when, how many shares, at what price, against which reference."""

    at: datetime
    shares: Decimal
    price: Decimal
    reference: Decimal


@dataclass(frozen=True, slots=True)
class OrderSeen:
    """What became of one flow order under one model."""

    order_id: str
    at: datetime
    side: Side
    shares: Decimal
    state: str
    code: str | None
    """The rejection's or the ending's reason code, if any."""
    fills: tuple[FillSeen, ...]


@dataclass(frozen=True, slots=True)
class Sample:
    """The listing at one tick: price, backing, and the issuer's principal position in shares."""

    at: datetime
    price: Decimal
    basis: str
    position: Decimal
    """Shares the issuer is long (inventory) or short (the buffer's unhedged commitments) as principal."""
    supply_shares: Decimal
    custody: Decimal
    in_flight: Decimal


@dataclass(frozen=True, slots=True)
class BrokerTrade:
    """One execution at the broker (hedge, refill, trim, reinvestment): what settles T+n."""

    filled_at: datetime
    trade_date: date
    settlement_date: date
    side: Side
    shares: Decimal
    price: Decimal


@dataclass(frozen=True, slots=True)
class SwapSeen:
    """One swap attempted through a constant-product pool of the token on a chain snapshot."""

    who: str
    """``outsider`` (a wallet no investor owns) or ``investor`` (an onboarded, eligible one)."""
    spend: Decimal
    succeeded: bool
    code: str | None
    impact_bps: Decimal | None
    """Average price paid against the pool's price before the swap, in bps (None when refused)."""


@dataclass(frozen=True, slots=True)
class ModelRun:
    """Everything one model did with the flow: the raw records the measures are computed from."""

    model: ModelName
    symbol: str
    capital: Money
    settings: dict[str, str]
    orders: tuple[OrderSeen, ...]
    samples: tuple[Sample, ...]
    broker_trades: tuple[BrokerTrade, ...]
    fees: Money
    ineligible_investors: tuple[str, ...]
    invariant_checks: int
    invariant_breaks: tuple[str, ...]
    failures: tuple[str, ...]
    swaps: tuple[SwapSeen, ...]
    seconds: Decimal
    stages: dict[str, Decimal] = field(default_factory=dict)


class RecordingBroker(SimulatedBroker):
    """The simulated broker, keeping every execution it hands the engine (the settlement measures read it)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.executions: list[BrokerFill] = []

    def poll(self) -> list[BrokerFill]:
        """Return the new fills, as the simulated broker does, and keep them."""
        found = super().poll()
        self.executions.extend(found)
        return found


def _floor_shares(amount: Decimal) -> Shares:
    return Shares(amount.to_integral_value(rounding=ROUND_FLOOR))


def settings_for(model: ModelName, scenario: Scenario, capital: Money, price: Price) -> dict[str, Any]:
    """Return the model's settings for capital ``C`` split as the scenario's shape says (see the module)."""
    c = capital.amount
    if model is ModelName.INSTANT:
        shape = scenario.instant
        return {
            "buffer": capital,
            "exposure_cap": Money.rounded(c * shape.cap_share),
            "stablecoin_float": Money.rounded(c * shape.float_share),
        }
    if model is ModelName.INVENTORY:
        shape_i = scenario.inventory
        target = max(_floor_shares(c * shape_i.inventory_share / price.amount), Shares(3))
        low = max(_floor_shares(target.value * shape_i.low), Shares(1))
        high = max(_floor_shares(target.value * shape_i.high), Shares(target.value + 1))
        low = min(low, Shares(target.value - 1))
        return {
            "capital": capital,
            "initial_shares": target,
            "low_watermark": low,
            "target": target,
            "high_watermark": high,
            "stablecoin_float": Money.rounded(c * shape_i.float_share),
        }
    return {}


@cache
def market() -> tuple[MarketCalendar, PriceSource]:
    """Return the real XNYS calendar and the bundled real prices, built once per process (stateless)."""
    platform = bootstrap(Settings(chain_seed="lab"), ManualClock(datetime(2012, 1, 3, tzinfo=UTC)))
    return platform.calendar, platform.prices


def scenario_market(scenario: Scenario) -> tuple[MarketCalendar, PriceSource]:
    """Return the calendar and the prices a scenario runs on (bridged off-hours if it asks: lab.bridge)."""
    calendar, prices = market()
    if scenario.synthetic:
        return calendar, BridgedPrices(prices, calendar, scenario.seed)
    return calendar, prices


def _builder(model: ModelName, settings: dict[str, Any]) -> ModelBuilder:
    if model is ModelName.INSTANT:
        return partial(build_instant_model, settings=InstantSettings(**settings))
    if model is ModelName.INVENTORY:
        return partial(build_inventory_model, settings=InventorySettings(**settings))
    return partial(build_direct_model, settings=DirectSettings())


def _ny(day: date, hour: int = 0) -> datetime:
    from zoneinfo import ZoneInfo

    return datetime(day.year, day.month, day.day, hour, tzinfo=ZoneInfo("America/New_York")).astimezone(UTC)


def ticks(calendar: MarketCalendar, start: datetime, end: datetime) -> list[datetime]:
    """Return the tick instants in [start, end]: opens and closes (+1 min), each 15 min in session, hourly."""
    found: set[datetime] = set()
    moment = start.replace(minute=0, second=0, microsecond=0)
    while moment <= end:
        found.add(moment)
        moment += OFF_HOURS_TICK
    for day in calendar.trading_days(start.date() - timedelta(days=1), end.date()):
        open_, close = calendar.session_bounds(day)
        step = open_ + timedelta(minutes=1)
        while step < close:
            found.add(step)
            step += SESSION_TICK
        found.add(close + timedelta(minutes=1))
    return sorted(t for t in found if start <= t <= end)


class _Run:
    """One model over one flow (see the module doc)."""

    def __init__(
        self,
        scenario: Scenario,
        flow: Flow,
        model: ModelName,
        capital: Money,
        off_hours_spread: Bps | None = None,
    ) -> None:
        self.scenario, self.flow, self.model, self.capital = scenario, flow, model, capital
        self.symbol = Symbol(scenario.symbol)
        # Every model opens in the session before the flow's first order: the inventory is bought,
        # the buffer funded and the market maker's book rested before anyone can order.
        calendar, prices = scenario_market(scenario)
        first = flow.orders[0].at if flow.orders else _ny(scenario.start, 9)
        # (A session with a price: GME's history starts with the flow's own first session, so there
        # the models open at its bell, before the first order of the day.)
        symbol = Symbol(scenario.symbol)
        priced = [b.day for b in prices.bars(symbol, first.date() - timedelta(days=10), first.date())]
        opens = [calendar.session_bounds(d)[0] for d in priced]
        before = [o + timedelta(minutes=30) for o in opens if o + timedelta(minutes=30) < first]
        at_bell = [o for o in opens if o < first]
        if not before and not at_bell:
            raise DomainError(
                "NO_PRICE", f"{scenario.name}: no {symbol} session with a price before its first order"
            )
        self.start = before[-1] if before else at_bell[-1]
        self.clock = ManualClock(self.start)
        seed = f"lab/{scenario.seed}/{model.value}"
        settings = Settings(chain_seed="lab")
        if off_hours_spread is not None:
            settings = replace(settings, fee_off_hours_spread_bps=off_hours_spread)
        platform = bootstrap(
            settings,
            self.clock,
            store=MemoryStore(),
            chain=build_chain("", seed, genesis=self.clock.now()),
            calendar=calendar,
            prices=prices,
        )
        self.calendar = platform.calendar
        self.prices = platform.prices
        self.broker = RecordingBroker(self.clock, self.calendar, self.prices, settings.broker_slippage_bps)
        self.engine: IssuanceEngine = open_engine(platform, brokers=lambda _symbol: self.broker)
        self.actions = CorporateActionService(self.engine)
        self.holders: dict[str, Holder] = {}
        self.ineligible: list[str] = []
        self.samples: list[Sample] = []
        self.settings: dict[str, Any] = {}
        self.stages: dict[str, float] = {"setup": 0.0, "orders": 0.0, "ticks": 0.0, "samples": 0.0}
        self.maker: Holder | None = None
        self._maker_orders: list[OrderId] = []

    def run(self) -> ModelRun:
        started = time.perf_counter()
        self._setup()
        self.stages["setup"] = time.perf_counter() - started
        end = _ny(self.scenario.end + timedelta(days=1))
        settle = _ny(self.scenario.end + timedelta(days=1 + SETTLE_DAYS))
        orders = iter(self.flow.orders)
        pending = next(orders, None)
        for moment in ticks(self.calendar, self.clock.now(), settle):
            while pending is not None and pending.at <= moment and pending.at < end:
                self._at(pending.at)
                self._submit(pending)
                pending = next(orders, None)
            self._at(moment)
            self._tick()
        self.engine.check()
        swaps = self._probe_pool()
        return self._result(started, swaps)

    # -- setting up ------------------------------------------------------------------------------

    def _setup(self) -> None:
        engine, scenario = self.engine, self.scenario
        price = self.prices.reference_price(self.symbol, self.clock.now()).price
        self.settings = settings_for(self.model, scenario, self.capital, price)
        engine.list_stock(self.symbol, self.model, POLICIES[self.model], _builder(self.model, self.settings))
        wallets: list[InvestorId] = []
        for investor in self.flow.investors:
            try:
                holder = engine.onboard(
                    InvestorId(investor.key),
                    name=f"Lab investor {investor.key}",
                    residence=investor.residence,
                    category=investor.category,
                    us_person=investor.us_person,
                    kind=PersonKind.ENTITY
                    if investor.category is InvestorCategory.INSTITUTIONAL
                    else PersonKind.NATURAL_PERSON,
                )
            except DomainError:
                self.ineligible.append(investor.key)
                continue
            engine.deposit(holder, investor.cash)
            self.holders[investor.key] = holder
            wallets.append(holder.investor)
        if self.model is ModelName.DIRECT:
            engine.desk.whitelist(self.symbol, wallets)
            self._open_maker(price)
        self.actions.feed(scenario.start - timedelta(days=7), scenario.end + timedelta(days=SETTLE_DAYS))
        engine.tick()
        if self.maker is not None:
            self._requote(first=True)

    def _open_maker(self, price: Price) -> None:
        """Put the market maker on the register with half of ``C`` in shares and half in cash."""
        engine = self.engine
        maker = engine.onboard(
            InvestorId(MAKER),
            name="Lab market maker",
            residence="SG",
            category=InvestorCategory.INSTITUTIONAL,
            kind=PersonKind.ENTITY,
        )
        half = self.capital.amount / 2
        engine.deposit(maker, self.capital)  # half of it pays for the shares issued to it below
        engine.desk.whitelist(self.symbol, [maker.investor])
        shares = _floor_shares(half / price.amount)
        if not shares.is_zero():
            engine.issue_primary(
                self.symbol,
                maker,
                shares,
                price,
                acquired_at=datetime(2000, 1, 3, tzinfo=UTC),
                regulation=Regulation.REG_S,
            )
        self.maker = maker
        self.settings = {"maker_capital": self.capital, "maker_shares": shares}

    # -- time ------------------------------------------------------------------------------------

    def _at(self, moment: datetime) -> None:
        if moment > self.clock.now():
            self.clock.set(moment)

    def _tick(self) -> None:
        began = time.perf_counter()
        self.actions.due()
        self.engine.tick()
        if self.maker is not None and self.calendar.status(self.clock.now()).open:
            self._requote()
        ticked = time.perf_counter()
        self.stages["ticks"] += ticked - began
        self._sample()
        self.stages["samples"] += time.perf_counter() - ticked

    def _requote(self, *, first: bool = False) -> None:
        """Re-rest the market maker's whole book around the reference (at the start, then each open)."""
        maker, engine = self.maker, self.engine
        assert maker is not None
        status = self.calendar.status(self.clock.now())
        if not first:
            if status.trading_day is None:
                return
            open_ = self.calendar.session_bounds(status.trading_day)[0]
            if self.clock.now() - open_ > SESSION_TICK:
                return  # quoted at this session's first tick already
        for order_id in self._maker_orders:
            with contextlib.suppress(DomainError):  # filled or ended since: nothing to cancel
                engine.cancel(order_id, "the market maker re-quotes at the open")
        self._maker_orders = []
        reference = self.prices.reference_price(self.symbol, self.clock.now()).price.amount
        spread = self.scenario.direct.spread_bps / Decimal(10_000)
        held = engine.token_balance(self.symbol, maker.wallet).value * engine.chain.multiplier(
            engine.model(self.symbol).listing.instrument
        )
        cash = engine.store.balance(investor_cash(maker.investor), USD)
        bid = Price.rounded(reference * (1 - spread))
        ask = Price.rounded(reference * (1 + spread))
        for side, shares, limit in (
            (Side.SELL, _floor_shares(held), ask),
            (Side.BUY, _floor_shares(cash / bid.amount / Decimal("1.01")), bid),
        ):
            if shares.is_zero():
                continue
            key = f"maker-{self.clock.now().isoformat()}-{side.value}"
            request = OrderRequest(
                CLIENT,
                key,
                maker.investor,
                maker.wallet,
                self.symbol,
                side,
                OrderType.LIMIT,
                TimeInForce.GTC,
                quantity=shares,
                limit_price=limit,
            )
            submission = engine.submit(request)
            if submission.order.state in (OrderState.ACCEPTED, OrderState.PARTIALLY_FILLED):
                self._maker_orders.append(submission.order.order_id)

    def _submit(self, order: LabOrder) -> None:
        began = time.perf_counter()
        holder = self.holders.get(order.investor)
        if holder is not None:
            request = OrderRequest(
                CLIENT,
                order.order_id,
                holder.investor,
                holder.wallet,
                self.symbol,
                order.side,
                OrderType.MARKET if order.limit is None else OrderType.LIMIT,
                order.time_in_force,
                quantity=order.shares,
                limit_price=order.limit,
            )
            self.engine.submit(request)
        self.stages["orders"] += time.perf_counter() - began

    def _sample(self) -> None:
        engine, symbol = self.engine, self.symbol
        reference = self.prices.reference_price(symbol, self.clock.now())
        backing = engine.backing(symbol)
        listing = engine.model(symbol).listing
        position = Decimal(0)
        if self.model is ModelName.INVENTORY:
            position = engine.store.balance(inventory(symbol), listing.token) * backing.multiplier
        elif self.model is ModelName.INSTANT:
            # A commitment is shares the buffer owes the broker: the buffer is short them until hedged.
            position = -engine.store.balance(hedge_pending(symbol), listing.share)
        elif self.maker is not None:
            held = engine.token_balance(symbol, self.maker.wallet).value
            position = held * backing.multiplier
        self.samples.append(
            Sample(
                utc(self.clock.now()),
                reference.price.amount,
                reference.basis,
                position,
                backing.required,
                backing.custody,
                backing.in_flight,
            )
        )

    # -- the end ---------------------------------------------------------------------------------

    def _probe_pool(self) -> tuple[SwapSeen, ...]:
        """Try swaps through a pool of the token on a chain snapshot (reverted: the probe leaves no trace)."""
        from equitoken.lab.pool import probe

        wallet = next(iter(self.holders.values())).wallet if self.holders else None
        return probe(self.engine, self.symbol, wallet)

    def _result(self, started: float, swaps: tuple[SwapSeen, ...]) -> ModelRun:
        engine = self.engine
        by_key: dict[str, Order] = {}
        for order in engine.orders.desk.orders():
            if order.request.client == CLIENT and order.request.investor.value != MAKER:
                by_key[order.request.idempotency_key] = order
        seen: list[OrderSeen] = []
        for lab in self.flow.orders:
            seen.append(self._seen(lab, by_key.get(lab.order_id)))
        trades = tuple(
            BrokerTrade(
                utc(f.filled_at), f.trade_date, f.settlement_date, f.side, f.quantity.value, f.price.amount
            )
            for f in self.broker.executions
        )
        return ModelRun(
            model=self.model,
            symbol=str(self.symbol),
            capital=self.capital,
            settings={k: str(getattr(v, "amount", getattr(v, "value", v))) for k, v in self.settings.items()},
            orders=tuple(seen),
            samples=tuple(self.samples),
            broker_trades=trades,
            fees=Money(engine.store.balance(fees(self.model), USD)),
            ineligible_investors=tuple(self.ineligible),
            invariant_checks=engine.log.checks,
            invariant_breaks=tuple(engine.log.breaks),
            failures=tuple(engine.log.failures) + tuple(self.actions.failures),
            swaps=swaps,
            seconds=Decimal(f"{time.perf_counter() - started:.3f}"),
            stages={k: Decimal(f"{v:.3f}") for k, v in self.stages.items()},
        )

    def _seen(self, lab: LabOrder, order: Order | None) -> OrderSeen:
        if order is None:  # the investor was never onboarded: the platform refused it
            shares = lab.shares.value
            return OrderSeen(lab.order_id, lab.at, lab.side, shares, "rejected", "NOT_ONBOARDED", ())
        code = None
        if order.rejection is not None:
            code = order.rejection.code
        elif order.ended is not None:
            head = order.ended.split(":", 1)[0]
            code = head if head.isupper() and " " not in head else "ENDED"
        elif order.state is OrderState.EXPIRED:
            code = "EXPIRED"
        fills = tuple(
            FillSeen(
                utc(f.at),
                f.shares.value,
                f.price.amount,
                self.prices.reference_price(self.symbol, f.at).price.amount,
            )
            for f in order.fills
        )
        return OrderSeen(lab.order_id, lab.at, lab.side, lab.shares.value, order.state.value, code, fills)


def run_model(
    scenario: Scenario, flow: Flow, model: ModelName, capital: Money, off_hours_spread: Bps | None = None
) -> ModelRun:
    """Run ``flow`` through ``model`` with capital ``capital`` on a fresh engine; return the records.

    ``off_hours_spread`` replaces the platform's off-hours spread (the sweeps vary it).
    """
    return _Run(scenario, flow, model, capital, off_hours_spread).run()


def each_model() -> Iterator[ModelName]:
    """Yield the models in the lab's order."""
    yield from MODELS
