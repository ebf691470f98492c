"""The crash flow as pure data, and the checks its end state must pass (the runner is ``harness.crash``).

A crash test plays one seeded flow twice — once uninterrupted, once with the engine killed (SIGKILL)
and restarted over and over — and asks that both end the same. This module holds what needs no
adapter: the flow, generated up front from the seed as a tuple of ``Step`` values (so the same flow
can be replayed, from any step on), and the checks on the end state (``Figures``, plain JSON-able
text), within one run (``consistency``) and between two runs (``differences``).

The flow covers the three models (AAPL under inventory, MSFT under instant execution, KO under direct
ownership) over two weeks of August 2012 on the bundled real prices: buys and sells, market and limit
orders, IOC, DAY and GTC, cancels, stablecoin deposits, redemptions and withdrawals, off-hours and
weekend times, AAPL's and MSFT's cash dividends (reinvested) and KO's 2:1 split (a blackout from four
sessions before its ex-date).
Limits are an offset in bps from the reference price at the step's instant, resolved by the runner:
the flow is fixed before any price is read, and a retried step resolves to the same order.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

NEW_YORK = ZoneInfo("America/New_York")
START = date(2012, 8, 6)
"""Monday; KO goes ex-split (2:1) on Monday 13th, AAPL ex-dividend on the 9th, MSFT on the 14th."""
END = date(2012, 8, 17)
SETTLED_BY = datetime(2012, 8, 23, 10, 0, tzinfo=NEW_YORK).astimezone(UTC)
"""Thursday after: the last Friday's broker trades have settled (T+3)."""
LISTINGS: tuple[tuple[str, str, str], ...] = (
    ("AAPL", "inventory", "tracker-certificate"),
    ("MSFT", "instant", "instant-execution"),
    ("KO", "direct", "direct-ownership"),
)
"""Symbol, model, compliance policy, in listing order (the broker accounts are handed out in it)."""
OUTSIDE_WALLET = "0x" + "c0" * 20
"""Where the flow's withdrawals go: an address no investor of the platform holds."""


class StepKind(StrEnum):
    """What a step does."""

    LIST = "list"
    ONBOARD = "onboard"
    DEPOSIT = "deposit"
    REDEEM = "redeem"
    WITHDRAW = "withdraw"
    WHITELIST = "whitelist"
    PRIMARY = "primary"
    ORDER = "order"
    CANCEL = "cancel"
    TICK = "tick"


@dataclass(frozen=True, slots=True)
class Investor:
    """An investor of the flow."""

    key: str
    name: str
    residence: str
    category: str
    kind: str = "natural_person"
    whitelisted: bool = False
    legacy_ko: str | None = None
    """KO shares on the register from an earlier offering (issued in the setup)."""


INVESTORS: tuple[Investor, ...] = (
    Investor("anna", "Anna Becker", "DE", "professional", whitelisted=True, legacy_ko="300"),
    Investor("chloe", "Chloe Martin", "CH", "retail"),
    Investor("dev", "Dev Capital Pte Ltd", "SG", "institutional", "entity", True, "400"),
    Investor("emma", "Emma Rossi", "IT", "elective_professional", whitelisted=True),
    Investor("kenji", "Kenji Sato", "JP", "retail"),
)


@dataclass(frozen=True, slots=True)
class Step:
    """One command of the flow, at its instant; fields a kind does not use stay empty."""

    index: int
    at: datetime
    kind: StepKind
    investor: str = ""
    symbol: str = ""
    side: str = ""
    quantity: str | None = None
    notional: str | None = None
    limit_bps: int | None = None
    """A limit order's price: the reference at ``at`` moved by this many bps (``None``: market)."""
    tif: str = "day"
    key: str = ""
    """The order's idempotency key; for a cancel, the key of the order it cancels."""
    amount: str = ""
    """A deposit's, redemption's or withdrawal's USD, or a primary issue's shares."""

    def to_dict(self) -> dict[str, Any]:
        """Return the step as JSON-able values."""
        data = asdict(self)
        data["at"] = self.at.isoformat()
        data["kind"] = self.kind.value
        return data


@dataclass(frozen=True, slots=True)
class Flow:
    """A seeded flow: the setup steps (listings, investors, first deposits) and then the flow proper."""

    seed: str
    steps: tuple[Step, ...]
    setup: int
    """How many leading steps are the setup (the runner kills only after it)."""

    @property
    def orders(self) -> int:
        """Return how many order steps the flow holds."""
        return sum(1 for s in self.steps if s.kind is StepKind.ORDER)


def ny(day: date, hour: int, minute: int = 0) -> datetime:
    """Return a New York wall-clock instant on ``day``, in UTC."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=NEW_YORK).astimezone(UTC)


PERIODS: tuple[tuple[datetime, datetime, int], ...] = (
    (ny(date(2012, 8, 6), 9, 45), ny(date(2012, 8, 6), 15, 45), 3),  # Monday session (KO still trades)
    (ny(date(2012, 8, 6), 17, 0), ny(date(2012, 8, 6), 21, 0), 2),  # Monday evening, off-hours
    (ny(date(2012, 8, 7), 9, 45), ny(date(2012, 8, 7), 15, 45), 2),  # KO blacked out from this open
    (ny(date(2012, 8, 8), 20, 0), ny(date(2012, 8, 8), 23, 30), 2),  # Wednesday night
    (ny(date(2012, 8, 9), 9, 45), ny(date(2012, 8, 9), 15, 45), 2),  # AAPL ex-dividend
    (ny(date(2012, 8, 10), 16, 30), ny(date(2012, 8, 10), 19, 0), 1),  # Friday after the close
    (ny(date(2012, 8, 11), 10, 0), ny(date(2012, 8, 12), 20, 0), 2),  # the weekend
    (ny(date(2012, 8, 13), 9, 45), ny(date(2012, 8, 13), 15, 45), 3),  # KO ex-split 2:1
    (ny(date(2012, 8, 14), 9, 45), ny(date(2012, 8, 14), 15, 45), 2),  # MSFT ex-dividend
    (ny(date(2012, 8, 15), 17, 0), ny(date(2012, 8, 15), 22, 0), 1),  # Wednesday evening
    (ny(date(2012, 8, 17), 9, 45), ny(date(2012, 8, 17), 15, 0), 2),  # the last Friday
)
"""Each stretch of the flow and its weight: the share of the random orders that fall in it."""


def make_flow(seed: str, orders: int = 60, tick_hours: int = 3) -> Flow:
    """Return the flow of ``seed``: ``orders`` random orders, a tick every ``tick_hours`` (seeded)."""
    rng = random.Random(f"crash-flow:{seed}")
    setup_at = ny(START, 8, 0)
    steps: list[tuple[datetime, int, dict[str, Any]]] = []

    def add(at: datetime, kind: StepKind, order: int = 1, **fields: Any) -> None:
        steps.append((at, order, {"kind": kind, **fields}))

    for symbol, _, _ in LISTINGS:
        add(setup_at, StepKind.LIST, symbol=symbol)
    for investor in INVESTORS:
        add(setup_at, StepKind.ONBOARD, investor=investor.key)
        add(setup_at, StepKind.DEPOSIT, investor=investor.key, amount="250000")
    add(setup_at, StepKind.WHITELIST, symbol="KO")
    for investor in INVESTORS:
        if investor.legacy_ko is not None:
            add(setup_at, StepKind.PRIMARY, investor=investor.key, symbol="KO", amount=investor.legacy_ko)
    setup = len(steps)
    # Time passes on its own: a tick at each open and close (a minute after) and every three hours.
    day = START
    while day <= SETTLED_BY.date():
        moments = [ny(day, hour, 30) for hour in range(0, 24, tick_hours)]
        if day.weekday() < 5:
            moments += [ny(day, 9, 31), ny(day, 16, 1)]
        for moment in moments:
            if moment > setup_at:  # the setup comes first: the runner arms its kill after it
                add(moment, StepKind.TICK, 0)
        day += timedelta(days=1)
    add(SETTLED_BY, StepKind.TICK, 2)
    # KO holders offer part of their position on the ATS, before the blackout and after the split.
    for round_, moment in enumerate((ny(START, 9, 40), ny(date(2012, 8, 13), 10, 5))):
        for key, bps, shares in (("dev", 20, "60"), ("anna", 40, "40")):
            add(
                moment,
                StepKind.ORDER,
                key=f"{seed}-ats{round_}-{key}",
                investor=key,
                symbol="KO",
                side="sell",
                quantity=shares,
                limit_bps=bps,
                tif="gtc",
            )
    weights = [w for _, _, w in PERIODS]
    held: dict[tuple[str, str], int] = {(i.key, "KO"): int(i.legacy_ko or 0) for i in INVESTORS}
    limits: list[str] = []
    for number in range(orders):
        start, end, _ = rng.choices(PERIODS, weights)[0]
        at = start + timedelta(seconds=rng.randrange(int((end - start).total_seconds())))
        investor = rng.choice(INVESTORS)
        symbol = rng.choice(["AAPL", "MSFT", "KO"])
        if symbol == "KO" and not investor.whitelisted:
            symbol = rng.choice(["AAPL", "MSFT"])
        key = f"{seed}-o{number}"
        owned = held.get((investor.key, symbol), 0)
        side = "sell" if owned >= 2 and rng.random() < 0.35 else "buy"
        fields: dict[str, Any] = {"investor": investor.key, "symbol": symbol, "side": side, "key": key}
        roll = rng.random()
        if side == "sell":
            fields["quantity"] = str(rng.randint(1, owned // 2))
        elif symbol != "KO" and roll < 0.3:
            fields["notional"] = str(rng.randint(500, 5000))
        else:
            fields["quantity"] = str(rng.randint(1, 25))
        if symbol == "KO" or roll > 0.7:  # a limit around the reference: some cross, some rest
            fields["limit_bps"] = rng.randint(-30, 60) * (1 if side == "buy" else -1)
            fields["tif"] = rng.choice(["day", "gtc", "gtc"]) if rng.random() < 0.8 else "ioc"
            if fields["tif"] != "ioc":
                limits.append(key)
        else:
            fields["tif"] = "ioc" if rng.random() < 0.2 else "day"
        if side == "buy" and "quantity" in fields:
            held[(investor.key, symbol)] = owned + int(fields["quantity"])
        elif side == "sell":
            held[(investor.key, symbol)] = owned - int(fields["quantity"])
        add(at, StepKind.ORDER, **fields)
        if limits and rng.random() < 0.15:  # a client cancels a resting order a little later
            add(at + timedelta(minutes=rng.randint(5, 180)), StepKind.CANCEL, key=rng.choice(limits))
        if rng.random() < 0.06:
            add(
                at + timedelta(minutes=1),
                StepKind.DEPOSIT,
                investor=investor.key,
                amount=str(rng.randint(1, 20) * 1000),
            )
        # Cash out now and then, drawing nothing from the generator: the other steps stay as they were.
        if number % 4 == 2:
            way = StepKind.REDEEM if number % 8 == 2 else StepKind.WITHDRAW
            add(at + timedelta(minutes=2), way, investor=investor.key, amount="1500")
    # Stable order: by instant, ticks before commands at the same instant, then generation order.
    ordered = sorted(enumerate(steps), key=lambda item: (item[1][0], item[1][1], item[0]))
    built = tuple(Step(index=i, at=at, **fields) for i, (_, (at, _, fields)) in enumerate(ordered))
    return Flow(seed, built, setup)


# -- the end state and its checks ---------------------------------------------------------------

Figures = Mapping[str, Any]
"""A run's end state as JSON-able text: orders, balances per investor, cash, fees, custody, backing."""


def consistency(figures: Figures) -> list[str]:
    """Return what is wrong inside one run's end state (empty: nothing).

    Per investor and symbol the ledger's tokens equal the wallet's balance on chain, and the ledger's
    cash the wallet's stablecoin; per listing the chain's supply equals the ledger's tokens, the
    backing holds (tokens × multiplier = custody + in flight) and minting is not halted; no order is
    left received but never decided once the flow is over.
    """
    found: list[str] = []
    for key, row in sorted(figures["holders"].items()):
        for symbol, tokens in sorted(row["tokens"].items()):
            if tokens["ledger"] != tokens["chain"]:
                found.append(f"{key} {symbol}: ledger tokens {tokens['ledger']} != chain {tokens['chain']}")
        if row["cash"]["ledger"] != row["cash"]["chain"]:
            found.append(f"{key} cash: ledger {row['cash']['ledger']} != chain {row['cash']['chain']}")
    for symbol, listing in sorted(figures["listings"].items()):
        if listing["supply"] != listing["ledger_tokens"]:
            found.append(
                f"{symbol}: chain supply {listing['supply']} != ledger tokens {listing['ledger_tokens']}"
            )
        found.extend(f"{symbol}: backing break: {b}" for b in listing["breaks"])
        if listing["halted"]:
            found.append(f"{symbol}: minting halted: {listing['halted']}")
    for order_id, order in sorted(figures["orders"].items()):
        if order["state"] == "received":  # taken in but never decided (accepted or rejected)
            found.append(f"order {order_id} ({order['key']}) left {order['state']}")
    return found


def differences(expected: Figures, actual: Figures, path: str = "") -> list[str]:
    """Return every place ``actual`` differs from ``expected`` (both ``Figures``), as ``path: a != b``."""
    if isinstance(expected, Mapping) and isinstance(actual, Mapping):
        found: list[str] = []
        for key in sorted(set(expected) | set(actual), key=str):
            where = f"{path}.{key}" if path else str(key)
            if key not in actual:
                found.append(f"{where}: missing (expected {_short(expected[key])})")
            elif key not in expected:
                found.append(f"{where}: unexpected {_short(actual[key])}")
            else:
                found.extend(differences(expected[key], actual[key], where))
        return found
    if isinstance(expected, list) and isinstance(actual, list) and len(expected) == len(actual):
        return [
            d
            for i, (e, a) in enumerate(zip(expected, actual, strict=True))
            for d in differences(e, a, f"{path}[{i}]")
        ]
    return [] if expected == actual else [f"{path}: expected {_short(expected)}, got {_short(actual)}"]


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 160 else text[:150] + "…"
