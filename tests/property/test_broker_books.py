"""Random order flow on random clock paths: the broker and the books must agree, always.

Invariants checked after every sync and once everything has settled:
- every entry balances per asset;
- ``custody + in_flight`` per symbol equals the opening custody plus the net filled quantity, in the
  books and in the broker's own custody report; settled custody agrees between the two;
- cash moves by exactly each fill's notional, in the right account at the right time;
- no entry is booked ahead of its time (the latest balances are the balances now);
- nothing fills while the regular session is closed, no order fills twice, a fill is booked once;
- a market order fills when placed if the session is open, else exactly at the next open, at the
  reference price there moved against it by the slippage; a limit order never fills through its limit.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from hypothesis import HealthCheck, event, given, settings, target
from hypothesis import strategies as st

from equitoken.adapters.broker.simulated import SimulatedBroker
from equitoken.adapters.clock import ManualClock
from equitoken.adapters.store.memory import MemoryStore
from equitoken.app.brokerage import Brokerage
from equitoken.domain.ids import Symbol
from equitoken.domain.trading import OrderType, Side
from equitoken.domain.values import Bps, Price, Shares
from equitoken.ledger.accounts import Account, AccountKind, Asset
from equitoken.ledger.entries import EntryDraft, move
from equitoken.ports.broker import BrokerFill, BrokerOrder, BrokerOrderStatus, CustodyPosition
from equitoken.trading.settlement import settlement_instant, trade_key
from tests.fakes.market import FakeCalendar, FakePriceSource, ny

SYMBOLS = (Symbol("AAPL"), Symbol("MSFT"))
OPENING = {Symbol("AAPL"): Decimal(20), Symbol("MSFT"): Decimal(0)}
SLIPPAGE = Bps(5)
FUNDING = Account.of(AccountKind.ISSUER_CASH)
MARKET = Account.of(AccountKind.EXTERNAL_MARKET)
CIF = Account.of(AccountKind.CASH_IN_FLIGHT)
USD = Asset.cash()
START = ny(2024, 6, 13, 8)  # Thursday pre-market, before the Juneteenth holiday week
EPOCH = datetime(2024, 1, 1, tzinfo=UTC)


def wave(base: int, step: int, span: int) -> Callable[[datetime], Price]:
    """Return a deterministic, jumpy price path: a new price every minute, within [base, base + span/100)."""

    def price(at: datetime) -> Price:
        minutes = int((at - EPOCH).total_seconds()) // 60
        return Price(Decimal(base) + Decimal((minutes * step) % span) / 100)

    return price


PRICES = {"AAPL": wave(100, 7919, 1000), "MSFT": wave(40, 104729, 500)}


@dataclass
class Run:
    clock: ManualClock = field(default_factory=lambda: ManualClock(START))
    calendar: FakeCalendar = field(
        default_factory=lambda: FakeCalendar(holidays={date(2024, 6, 19)}, early_closes={date(2024, 7, 3)})
    )
    store: MemoryStore = field(default_factory=MemoryStore)
    placed: dict[str, tuple[BrokerOrder, datetime]] = field(default_factory=dict)
    booked: list[BrokerFill] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.prices = FakePriceSource(PRICES)
        opening = {s: Shares(q) for s, q in OPENING.items()}
        self.broker = SimulatedBroker(
            self.clock, self.calendar, self.prices, SLIPPAGE, initial_positions=opening
        )
        self.service = self.restart()
        for symbol, qty in OPENING.items():
            if qty:
                custody = Account.of(AccountKind.CUSTODY, symbol)
                postings = move(Asset.share(symbol), qty, debit=custody, credit=MARKET)
                self.store.post(EntryDraft(f"opening:{symbol}", START, postings))

    def restart(self) -> Brokerage:
        return Brokerage(self.broker, self.store, self.calendar, self.clock, FUNDING)

    def sync(self) -> None:
        report = self.service.sync()
        self.booked.extend(report.booked)


orders = st.builds(
    lambda symbol, side, quarters, limit_pct: (symbol, side, quarters, limit_pct),
    st.sampled_from(SYMBOLS),
    st.sampled_from(list(Side)),
    st.integers(1, 60),  # quantity in quarter shares: fractions and whole numbers (zero: unit tests)
    st.one_of(st.none(), st.integers(-4, 4)),  # limit: None (market) or reference ± n %
)
placing = st.tuples(st.just("place"), orders)
advancing = st.tuples(
    st.just("advance"), st.one_of(st.sampled_from([1, 30, 90, 389, 390, 1050, 2880]), st.integers(1, 6000))
)
steps = st.one_of(
    placing,
    placing,
    advancing,
    advancing,
    st.tuples(st.just("cancel"), st.integers(0, 30)),
    st.tuples(st.just("sync"), st.none()),
    st.tuples(st.just("restart"), st.none()),
)


def place(run: Run, spec: tuple[Symbol, Side, int, int | None]) -> None:
    symbol, side, quarters, limit_pct = spec
    coid = f"o{len(run.placed)}"
    limit = None
    if limit_pct is not None:
        reference = PRICES[str(symbol)](run.clock.now()).amount
        limit = Price.rounded(reference * (1 + Decimal(limit_pct) / 100))
    order = BrokerOrder(
        coid,
        symbol,
        side,
        Shares(Decimal(quarters) / 4),
        OrderType.MARKET if limit is None else OrderType.LIMIT,
        limit,
    )
    run.placed[coid] = (order, run.clock.now())
    run.service.place(order)


def fills_of(run: Run) -> list[BrokerFill]:
    fills: list[BrokerFill] = []
    for coid in run.placed:
        state = run.broker.order(coid)
        assert state is not None
        assert len(state.fills) <= 1, f"{coid} filled more than once"
        assert (state.status is BrokerOrderStatus.FILLED) == bool(state.fills)
        fills.extend(state.fills)
    return fills


def net_filled(fills: list[BrokerFill], symbol: Symbol) -> Decimal:
    """Return shares bought minus shares sold of ``symbol``."""
    signed = (
        f.quantity.value if f.side is Side.BUY else -f.quantity.value for f in fills if f.symbol == symbol
    )
    return sum(signed, Decimal(0))


def check_broker(run: Run) -> None:
    now = run.clock.now()
    fills = fills_of(run)
    assert len({f.fill_id for f in fills}) == len(fills)
    for fill in fills:
        order, placed_at = run.placed[fill.client_order_id]
        assert placed_at <= fill.filled_at <= now
        assert run.calendar.status(fill.filled_at).open, f"{fill.client_order_id} filled while closed"
        if run.calendar.status(placed_at).open:
            expected_at = placed_at if order.limit_price is None else fill.filled_at
        else:
            expected_at = run.calendar.next_open(placed_at) if order.limit_price is None else fill.filled_at
        assert fill.filled_at == expected_at
        reference = PRICES[str(fill.symbol)](fill.filled_at)
        slip = SLIPPAGE if fill.side is Side.BUY else Bps(-SLIPPAGE.value)
        assert fill.price == reference.adjusted(slip)
        if order.limit_price is not None:
            assert (
                fill.price <= order.limit_price if fill.side is Side.BUY else fill.price >= order.limit_price
            )
    for symbol, position in run.broker.positions().items():
        economic = position.settled.value + position.pending_in.value - position.pending_out.value
        assert economic == OPENING[symbol] + net_filled(fills, symbol)


def check_books(run: Run) -> None:
    """Check the books after a sync: they must match every fill the broker made up to now."""
    now = run.clock.now()
    fills = fills_of(run)
    trade_keys = [e.key for e in run.store.entries() if e.key.startswith("broker-fill:")]
    assert sorted(trade_keys) == sorted(trade_key(f.fill_id) for f in fills)  # every fill booked, once
    assert len({f.fill_id for f in run.booked}) == len(run.booked)  # no sync reports a fill twice
    for entry in run.store.entries():
        assert entry.effective_at <= now, f"{entry.key} is booked ahead of time"
        totals: defaultdict[str, Decimal] = defaultdict(Decimal)
        for posting in entry.postings:
            totals[posting.asset.code] += posting.amount
        assert all(total == 0 for total in totals.values()), entry.key
    positions = run.broker.positions()
    for symbol in SYMBOLS:
        share = Asset.share(symbol)
        custody = run.store.balance(Account.of(AccountKind.CUSTODY, symbol), share)
        in_flight = run.store.balance(Account.of(AccountKind.IN_FLIGHT, symbol), share)
        assert custody + in_flight == OPENING[symbol] + net_filled(fills, symbol)
        reported = positions.get(symbol)
        assert custody == (reported.settled.value if reported else OPENING[symbol])
    expected = {FUNDING: Decimal(0), CIF: Decimal(0), MARKET: Decimal(0)}
    for fill in fills:
        cash = fill.notional.amount
        done = settlement_instant(run.calendar, fill.settlement_date) <= now
        if fill.side is Side.BUY:
            expected[FUNDING] -= cash
            expected[MARKET if done else CIF] += cash
        else:
            expected[MARKET] -= cash
            expected[FUNDING if done else CIF] += cash
    for account, amount in expected.items():
        assert run.store.balance(account, USD) == amount, account


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(steps, min_size=4, max_size=40))
def test_random_order_flow_keeps_broker_and_books_in_agreement(script: list[tuple[str, object]]) -> None:
    run = Run()
    for action, argument in script:
        if action == "place":
            place(run, argument)  # type: ignore[arg-type]
        elif action == "advance":
            run.clock.advance(timedelta(minutes=argument))  # type: ignore[arg-type]
        elif action == "cancel" and run.placed:
            coid = f"o{argument % len(run.placed)}"  # type: ignore[operator]
            run.service.cancel(coid)
        elif action == "sync":
            run.sync()
            check_books(run)
        elif action == "restart":
            run.service = run.restart()
        check_broker(run)
    for coid in run.placed:
        run.service.cancel(coid)  # nothing may fill after this: everything must settle below
    run.clock.advance(timedelta(days=10))
    run.sync()
    check_books(run)
    check_broker(run)
    assert run.service.pending() == []
    fills = fills_of(run)
    target(float(len(fills)), label="fills")  # steer generation towards busy histories
    event(f"fills: {min(len(fills), 5)}{'+' if len(fills) >= 5 else ''}")
    event(
        "a queued order filled"
        if any(not run.calendar.status(run.placed[f.client_order_id][1]).open for f in fills)
        else "no queued fill"
    )
    event(
        "a limit order filled"
        if any(run.placed[f.client_order_id][0].limit_price for f in fills)
        else "no limit fill"
    )
    positions = run.broker.positions()
    for symbol in SYMBOLS:  # all settled: nothing in flight, and custody agrees line for line
        share = Asset.share(symbol)
        assert run.store.balance(Account.of(AccountKind.IN_FLIGHT, symbol), share) == 0
        custody = Shares(run.store.balance(Account.of(AccountKind.CUSTODY, symbol), share))
        assert positions.get(symbol, CustodyPosition(symbol, Shares(0))) == CustodyPosition(symbol, custody)
    assert run.store.balance(CIF, USD) == 0
