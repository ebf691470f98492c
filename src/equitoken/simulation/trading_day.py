"""The foundation demo: one real trading day through the calendar, reference prices, broker and books.

It runs the production parts on a simulated clock: the exchange calendar, the bundled price history,
the simulated broker, the brokerage service and the SQL store (SQLite by default). Every figure in
its report comes from those parts — prices from the history, fills from the broker, balances from
the ledger — so changing the day changes the numbers, never the rules.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

from equitoken.adapters.clock import ManualClock
from equitoken.app.bootstrap import Platform, bootstrap, ensure_data_dir
from equitoken.app.brokerage import Brokerage
from equitoken.app.settings import Settings
from equitoken.domain.errors import DomainError
from equitoken.domain.ids import Symbol
from equitoken.domain.market import Session
from equitoken.domain.values import canonical_decimal
from equitoken.ledger import Account, AccountKind, Asset
from equitoken.ports.broker import OPEN_STATUSES, BrokerFill, BrokerOrder, BrokerOrderState, BrokerOrderStatus
from equitoken.simulation.scenario import Action, Scenario, Step, one_trading_day

DEFAULT_DAY = date(2012, 11, 23)
"""The day after Thanksgiving 2012: an early close at 13:00 ET, then a weekend before the next fill."""
FUNDING = Account.of(AccountKind.ISSUER_CASH)


@dataclass(frozen=True, slots=True)
class DemoRow:
    """One line of the demo's timeline."""

    at: datetime
    session: Session
    event: str
    order_id: str = ""
    symbol: str = ""
    side: str = ""
    quantity: Decimal | None = None
    reference: Decimal | None = None
    price: Decimal | None = None
    status: str = ""


@dataclass(frozen=True, slots=True)
class Position:
    """The issuer's book position in one symbol at the end of the demo and once everything settled."""

    symbol: str
    custody_end_of_day: Decimal
    in_flight_end_of_day: Decimal
    custody_settled: Decimal
    in_flight_settled: Decimal
    broker_settled: Decimal


@dataclass(frozen=True, slots=True)
class DemoReport:
    """What the demo did and what the books say."""

    day: date
    timezone: str
    """The exchange's zone, in which people read the timeline."""
    early_close: bool
    session_open: datetime
    session_close: datetime
    settled_at: datetime
    rows: tuple[DemoRow, ...]
    positions: tuple[Position, ...]
    cash_spent: Decimal
    entries: int
    books_balance: bool


def demo_database(settings: Settings) -> Path:
    """Return the demo's own SQLite file: the demo never writes to the configured database."""
    return settings.data_dir / "demo.db"


def reset_demo_database(database: Path) -> None:
    """Delete the demo's SQLite file so each run replays its day from a clean book."""
    ensure_data_dir(database.parent)
    for leftover in (database, Path(f"{database}-wal"), Path(f"{database}-shm")):
        leftover.unlink(missing_ok=True)


def check_day(platform: Platform, scenario: Scenario) -> None:
    """Refuse a day the calendar does not trade or the bundled history cannot price, before any write."""
    day = scenario.day
    if not platform.calendar.is_trading_day(day):
        raise DomainError("NOT_A_TRADING_DAY", f"{day} is not a trading day on {platform.settings.calendar}")
    for symbol in sorted({step.symbol for step in scenario.steps if step.symbol is not None}):
        before = platform.prices.bars(symbol, day - timedelta(days=10), day - timedelta(days=1))
        if not platform.prices.bars(symbol, day, day) or not before:
            known = platform.prices.bars(symbol, date.min, date.max)
            first, last = known[0].day, known[-1].day
            # A day needs a bar of its own and one before it (the previous close).
            if day <= first:
                why = f"{day} has no earlier bar for a previous close: pick a trading day after {first}"
            elif day > last:
                why = f"{day} is past its end: pick a trading day up to {last}"
            else:
                why = f"{day} has no bar in it"
            raise DomainError(
                "NO_PRICE_HISTORY", f"the bundled history prices {symbol} from {first} to {last}; {why}"
            )


def run_trading_day(settings: Settings, day: date = DEFAULT_DAY) -> DemoReport:
    """Run the one-trading-day scenario on ``day`` in the demo's own database; return timeline and books."""
    scenario = one_trading_day(day)
    database = demo_database(settings)
    clock = ManualClock(datetime.combine(day, time(0), tzinfo=UTC) - timedelta(days=1))
    platform = bootstrap(replace(settings, database_url=f"sqlite:///{database.resolve()}"), clock=clock)
    check_day(platform, scenario)
    open_, close = platform.calendar.session_bounds(day)
    bounds = (open_, close, platform.calendar.next_open(close))
    timeline = sorted(scenario.steps, key=lambda s: s.at(*bounds))
    reset_demo_database(database)
    brokerage = Brokerage(platform.broker, platform.store, platform.calendar, clock, FUNDING)
    try:
        return _play(platform, brokerage, clock, scenario, timeline, bounds)
    finally:
        platform.store.close()


def _play(
    platform: Platform,
    brokerage: Brokerage,
    clock: ManualClock,
    scenario: Scenario,
    timeline: list[Step],
    bounds: tuple[datetime, datetime, datetime],
) -> DemoReport:
    rows: list[DemoRow] = []
    working: list[str] = []
    queued: list[str] = []
    for step in timeline:
        clock.set(step.at(*bounds))
        if step.action is Action.CHECK:
            rows.append(DemoRow(clock.now(), platform.calendar.status(clock.now()).session, step.label))
        rows += [_fill_row(platform, fill) for fill in brokerage.sync().booked]
        rows += _ended_rows(platform, brokerage, queued, clock.now())
        if step.action is Action.PLACE:
            state = brokerage.place(_order(platform, step, clock.now()))
            rows.append(_order_row(platform, step.label, state, clock.now()))
            rows += [_fill_row(platform, fill) for fill in state.fills]
            if state.status is BrokerOrderStatus.WORKING:
                working.append(state.order.client_order_id)
            elif state.status is BrokerOrderStatus.QUEUED:
                queued.append(state.order.client_order_id)
        elif step.action is Action.EXPIRE_DAY_ORDERS:
            for order_id in working:
                state = brokerage.cancel(order_id)
                rows.append(_order_row(platform, f"{step.label}: {order_id}", state, clock.now()))
            working.clear()
    end_of_day = bounds[1]  # the books at the closing bell, before anything queued after it fills
    settled_at = clock.now()
    for settles_at in sorted({p.settles_at for p in brokerage.pending()}):
        clock.set(settles_at)
        settled_at = settles_at
        for fill in brokerage.sync().settled:
            what = "into" if fill.side.value == "buy" else "out of"
            rows.append(
                DemoRow(
                    settles_at,
                    platform.calendar.status(settles_at).session,
                    f"settled: shares {what} custody",
                    fill.client_order_id,
                    str(fill.symbol),
                    fill.side.value,
                    fill.quantity.value,
                    status=f"traded {fill.trade_date}",
                )
            )
    return _report(platform, scenario, rows, bounds, end_of_day, settled_at)


def _ended_rows(platform: Platform, brokerage: Brokerage, queued: list[str], now: datetime) -> list[DemoRow]:
    """Narrate queued orders that ended without a fill (a stale price, a rejection): what happened."""
    rows: list[DemoRow] = []
    for order_id in list(queued):
        state = brokerage.order(order_id)
        if state is None or state.status in OPEN_STATUSES:
            continue
        queued.remove(order_id)
        if state.status is not BrokerOrderStatus.FILLED:  # fills have their own rows
            rows.append(_order_row(platform, f"ended unfilled: {order_id}", state, now))
    return rows


def _order(platform: Platform, step: Step, now: datetime) -> BrokerOrder:
    assert step.symbol is not None
    limit = None
    if step.limit_from_reference is not None:
        limit = platform.prices.reference_price(step.symbol, now).price.adjusted(step.limit_from_reference)
    return BrokerOrder(step.order_id, step.symbol, step.side, step.quantity, step.order_type, limit)


def _order_row(platform: Platform, label: str, state: BrokerOrderState, now: datetime) -> DemoRow:
    order = state.order
    reference = platform.prices.reference_price(order.symbol, now).price.amount
    status = state.status.value + (f" ({state.reason_code})" if state.reason_code else "")
    if order.limit_price is not None:
        status += f", limit {canonical_decimal(order.limit_price.amount)}"
    return DemoRow(
        now,
        platform.calendar.status(now).session,
        label,
        order.client_order_id,
        str(order.symbol),
        order.side.value,
        order.quantity.value,
        reference,
        None,
        status,
    )


def _fill_row(platform: Platform, fill: BrokerFill) -> DemoRow:
    return DemoRow(
        fill.filled_at,
        platform.calendar.status(fill.filled_at).session,
        "filled at the broker",
        fill.client_order_id,
        str(fill.symbol),
        fill.side.value,
        fill.quantity.value,
        fill.reference_price.amount,
        fill.price.amount,
        f"settles {fill.settlement_date}",
    )


def _report(
    platform: Platform,
    scenario: Scenario,
    rows: list[DemoRow],
    bounds: tuple[datetime, datetime, datetime],
    end_of_day: datetime,
    settled_at: datetime,
) -> DemoReport:
    store = platform.store
    symbols = sorted({row.symbol for row in rows if row.symbol})
    custody_now = platform.broker.positions()
    positions = []
    for name in symbols:
        symbol = Symbol(name)
        share = Asset.share(symbol)
        custody = Account.of(AccountKind.CUSTODY, symbol)
        flight = Account.of(AccountKind.IN_FLIGHT, symbol)
        broker_position = custody_now.get(symbol)
        positions.append(
            Position(
                name,
                store.balance(custody, share, end_of_day),
                store.balance(flight, share, end_of_day),
                store.balance(custody, share, settled_at),
                store.balance(flight, share, settled_at),
                broker_position.settled.value if broker_position else Decimal(0),
            )
        )
    totals: dict[str, Decimal] = {}
    for (_, asset), value in store.balances().items():
        totals[asset.code] = totals.get(asset.code, Decimal(0)) + value
    open_, close, _ = bounds
    return DemoReport(
        day=scenario.day,
        timezone=str(platform.calendar.tz),
        early_close=platform.calendar.status(open_).early_close,
        session_open=open_,
        session_close=close,
        settled_at=settled_at,
        rows=tuple(sorted(rows, key=lambda r: r.at)),
        positions=tuple(positions),
        cash_spent=-store.balance(FUNDING, Asset.cash(), settled_at),
        entries=len(store.entries()),
        books_balance=all(total == 0 for total in totals.values()),
    )
