"""Lab scenarios: a stock, a stretch of its real history and a flow, written as a TOML file.

A scenario is data, not code: the bundled ones live in ``lab/scenarios/`` and a user passes a path
to their own. A file holds one scenario, or a *series* that expands into one scenario per week (or
per year) of a range for each of several symbols — ``weekly-2012-2014`` is every week of 2012–2014
for AAPL, IBM, KO and MSFT, named ``weekly-2012-2014/AAPL-2012-W47``.

Prices are the real daily bars (as traded: splits and dividends happen on their real dates). Between
two real prices — a close and the next open — the reference holds the close (``between_prices =
"hold"``, the default): nothing is invented. ``"synthetic"`` asks for a seeded path between them, and
every price drawn from it is labelled ``synthetic`` in the run.

Every field and its default is in ``docs/lab.md``; a value out of range is refused
``SCENARIO_INVALID`` naming the file and the field.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from importlib import resources
from pathlib import Path
from typing import Any

from equitoken.compliance.investors import InvestorCategory
from equitoken.domain.errors import DomainError
from equitoken.domain.values import Money
from equitoken.lab.orders import PeriodKind

INVALID = "SCENARIO_INVALID"
BETWEEN_PRICES = ("hold", "synthetic")
SERIES_EVERY = ("week", "year")


@dataclass(frozen=True, slots=True)
class Segment:
    """A share of the population: where it lives, what it is, how much cash each member starts with."""

    residence: str
    category: InvestorCategory
    weight: Decimal
    cash: Money
    us_person: bool = False


@dataclass(frozen=True, slots=True)
class FlowSettings:
    """How orders arrive and what they look like (the generator's inputs: ``lab.flow``).

    ``rates`` are mean orders per hour in each kind of period; sizes are drawn in notional from a
    log-normal with median ``size_median`` and log-deviation ``size_sigma``, capped at ``size_max``;
    ``buy_share`` is the share of buys when prices are flat; ``momentum`` is how strongly flow
    answers a price move (the arrival rate scales by ``1 + momentum × |move|`` and the buy share
    tilts toward the move's sign), the move being the last close against the one before it.
    """

    rates: Mapping[PeriodKind, Decimal]
    size_median: Money = Money("2500")
    size_sigma: Decimal = Decimal("1.0")
    size_max: Money = Money("50000")
    buy_share: Decimal = Decimal("0.55")
    limit_share: Decimal = Decimal("0.2")
    limit_band_bps: Decimal = Decimal("50")
    momentum: Decimal = Decimal("0")
    investors: int = 200
    population: tuple[Segment, ...] = ()


@dataclass(frozen=True, slots=True)
class InstantShape:
    """How a buffer of capital C is split: the off-hours exposure cap and the treasury's float."""

    cap_share: Decimal = Decimal("0.4")
    float_share: Decimal = Decimal("0.6")


@dataclass(frozen=True, slots=True)
class InventoryShape:
    """How capital C is split: the opening inventory's value, the float, and the watermarks around it."""

    inventory_share: Decimal = Decimal("0.35")
    float_share: Decimal = Decimal("0.4")
    low: Decimal = Decimal("0.4")
    """The low watermark as a share of the target inventory."""
    high: Decimal = Decimal("1.75")
    """The high watermark as a multiple of the target inventory."""


@dataclass(frozen=True, slots=True)
class DirectLiquidity:
    """Who makes the ATS's market: a holder already on the register quoting both sides every session.

    Direct ownership has no issuer inventory; without resting orders every market order would find an
    empty book. A market maker (an investor, not the issuer) with the run's capital rests all its
    shares at the ask and all its cash at the bid at each open, ``spread_bps`` away from the reference
    (``lab.run``); the search sizes that capital.
    """

    spread_bps: Decimal = Decimal("20")


@dataclass(frozen=True, slots=True)
class Sizing:
    """What "serves the flow" means and how finely the search looks for the smallest capital.

    An eligible order is *unserved* when a model refuses it for want of capacity (inventory, buffer,
    liquidity) or fills it later than ``window_seconds`` after it arrived (or never).
    """

    target_unserved: Decimal = Decimal("0.01")
    window_seconds: int = 60
    tolerance: Decimal = Decimal("0.1")
    """The search stops when the bracket's upper end is within this share of its lower end."""
    start: Money = Money("0")
    """Where the search starts; zero: the flow's largest daily notional."""


@dataclass(frozen=True, slots=True)
class Scenario:
    """One scenario: a symbol over a date range with its flow and the models' capital shapes."""

    name: str
    title: str
    symbol: str
    start: date
    end: date
    seed: str
    flow: FlowSettings
    between_prices: str = "hold"
    sizing: Sizing = field(default_factory=Sizing)
    instant: InstantShape = field(default_factory=InstantShape)
    inventory: InventoryShape = field(default_factory=InventoryShape)
    direct: DirectLiquidity = field(default_factory=DirectLiquidity)
    source: str = ""
    """The file it came from (for messages and the report)."""

    @property
    def synthetic(self) -> bool:
        """Tell whether prices between a close and the next open are drawn rather than held."""
        return self.between_prices == "synthetic"

    def with_flow(self, **changes: Any) -> Scenario:
        """Return this scenario with some flow settings changed (sweeps and tests use it)."""
        return replace(self, flow=replace(self.flow, **changes))


# -- reading files ------------------------------------------------------------------------------------


def _fail(source: str, where: str, sentence: str) -> DomainError:
    return DomainError(INVALID, f"{source}: {where}: {sentence}")


MAX_MONEY = Decimal(10) ** 12
"""The largest amount a scenario may give (a trillion dollars: more is a typo, not a scenario)."""


class _Reader:
    """Typed access to one TOML table, refusing unknown keys and wrong types with the field's path."""

    def __init__(self, source: str, path: str, table: Mapping[str, Any], known: Sequence[str]) -> None:
        self.source, self.path, self.table = source, path, table
        unknown = sorted(set(table) - set(known))
        if unknown:
            raise _fail(source, path or "top level", f"unknown field(s) {', '.join(unknown)}")

    def _where(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def text(self, key: str, default: str | None = None) -> str:
        value = self.table.get(key, default)
        if not isinstance(value, str) or not value.strip():
            raise _fail(self.source, self._where(key), "must be a non-empty string")
        return value

    def day(self, key: str) -> date:
        value = self.table.get(key)
        if not isinstance(value, date) or hasattr(value, "hour"):
            raise _fail(self.source, self._where(key), "must be a date such as 2012-11-19")
        return value

    def number(
        self, key: str, default: Decimal, *, low: Decimal | None = None, high: Decimal | None = None
    ) -> Decimal:
        raw = self.table.get(key, default)
        if isinstance(raw, bool) or not isinstance(raw, int | float | str | Decimal):
            raise _fail(self.source, self._where(key), "must be a number")
        try:
            # A TOML float goes through its shortest repr, never its binary expansion.
            value = Decimal(repr(raw)) if isinstance(raw, float) else Decimal(str(raw))
        except InvalidOperation:
            raise _fail(self.source, self._where(key), f"{raw!r} is not a number") from None
        if not value.is_finite():
            raise _fail(self.source, self._where(key), "must be finite")
        if low is not None and value < low:
            raise _fail(self.source, self._where(key), f"must be at least {low}, got {value}")
        if high is not None and value > high:
            raise _fail(self.source, self._where(key), f"must be at most {high}, got {value}")
        return value

    def whole(self, key: str, default: int, *, low: int = 0, high: int | None = None) -> int:
        value = self.table.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int):
            raise _fail(self.source, self._where(key), "must be a whole number")
        if value < low or (high is not None and value > high):
            raise _fail(self.source, self._where(key), f"must be between {low} and {high}, got {value}")
        return value

    def money(self, key: str, default: Money, *, positive: bool = True) -> Money:
        amount = Money.rounded(self.number(key, default.amount, low=Decimal(0), high=MAX_MONEY))
        if positive and amount.amount == 0:  # after rounding: 0.0000001 is no amount
            raise _fail(self.source, self._where(key), "must be positive once rounded to money")
        return amount

    def sub(self, key: str, known: Sequence[str]) -> _Reader:
        table = self.table.get(key, {})
        if not isinstance(table, dict):
            raise _fail(self.source, self._where(key), "must be a table")
        return _Reader(self.source, self._where(key), table, known)


_ZERO, _ONE = Decimal(0), Decimal(1)
_FLOW_KEYS = (
    "rates",
    "size_median",
    "size_sigma",
    "size_max",
    "buy_share",
    "limit_share",
    "limit_band_bps",
    "momentum",
    "investors",
    "population",
)
_DEFAULT_POPULATION: tuple[Segment, ...] = (
    Segment("DE", InvestorCategory.PROFESSIONAL, Decimal(3), Money("250000")),
    Segment("CH", InvestorCategory.RETAIL, Decimal(4), Money("50000")),
    Segment("SG", InvestorCategory.INSTITUTIONAL, Decimal(1), Money("2000000")),
    Segment("IT", InvestorCategory.ELECTIVE_PROFESSIONAL, Decimal(2), Money("150000")),
    Segment("US", InvestorCategory.ACCREDITED, Decimal(1), Money("250000"), us_person=True),
)
"""Several jurisdictions and categories; the US accredited segment may hold only the direct share."""


def _segment(source: str, i: int, raw: object) -> Segment:
    if not isinstance(raw, dict):
        raise _fail(source, f"flow.population[{i}]", "must be a table")
    known = ("residence", "category", "weight", "cash", "us_person")
    r = _Reader(source, f"flow.population[{i}]", raw, known)
    residence = r.text("residence").upper()
    if len(residence) != 2 or not residence.isalpha():
        raise _fail(source, r._where("residence"), f"must be a two-letter country code, got {residence!r}")
    try:
        category = InvestorCategory(r.text("category"))
    except ValueError:
        names = ", ".join(c.value for c in InvestorCategory)
        raise _fail(source, r._where("category"), f"must be one of {names}") from None
    us_person = raw.get("us_person", False)
    if not isinstance(us_person, bool):
        raise _fail(source, r._where("us_person"), "must be true or false")
    weight = r.number("weight", _ONE, low=_ZERO)
    if weight == 0:
        raise _fail(source, r._where("weight"), "must be positive")
    return Segment(residence, category, weight, r.money("cash", Money("100000")), us_person)


def _flow(source: str, top: _Reader) -> FlowSettings:
    r = top.sub("flow", _FLOW_KEYS)
    rates_reader = r.sub("rates", tuple(k.value for k in PeriodKind))
    rates = {
        kind: rates_reader.number(kind.value, Decimal(0), low=_ZERO, high=Decimal(10_000))
        for kind in PeriodKind
    }
    if not any(rates.values()):
        raise _fail(source, "flow.rates", "at least one kind of period must have orders")
    population_raw = r.table.get("population")
    if population_raw is None:
        population = _DEFAULT_POPULATION
    elif isinstance(population_raw, list) and population_raw:
        population = tuple(_segment(source, i, p) for i, p in enumerate(population_raw))
    else:
        raise _fail(source, "flow.population", "must be a non-empty array of tables")
    median = r.money("size_median", Money("2500"))
    cap = r.money("size_max", Money("50000"))
    if cap < median:
        raise _fail(source, "flow.size_max", f"must be at least the median {median}")
    return FlowSettings(
        rates=rates,
        size_median=median,
        size_sigma=r.number("size_sigma", Decimal("1.0"), low=_ZERO, high=Decimal(4)),
        size_max=cap,
        buy_share=r.number("buy_share", Decimal("0.55"), low=_ZERO, high=_ONE),
        limit_share=r.number("limit_share", Decimal("0.2"), low=_ZERO, high=_ONE),
        limit_band_bps=r.number("limit_band_bps", Decimal(50), low=_ZERO, high=Decimal(5000)),
        momentum=r.number("momentum", _ZERO, low=_ZERO, high=Decimal(100)),
        investors=r.whole("investors", 200, low=1, high=100_000),
        population=population,
    )


_TOP_KEYS = (
    "name",
    "title",
    "symbol",
    "start",
    "end",
    "seed",
    "between_prices",
    "flow",
    "sizing",
    "instant",
    "inventory",
    "direct",
    "series",
)


def parse(text: str, source: str) -> list[Scenario]:
    """Return the scenario (or the series' scenarios, in order) a TOML text describes."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise DomainError(INVALID, f"{source}: not valid TOML: {error}") from None
    top = _Reader(source, "", raw, _TOP_KEYS)
    name = top.text("name")
    if not all(c.isalnum() or c in "-_." for c in name):
        raise _fail(source, "name", "may hold letters, digits, '-', '_' and '.' only")
    between = top.text("between_prices", "hold")
    if between not in BETWEEN_PRICES:
        raise _fail(source, "between_prices", f"must be one of {', '.join(BETWEEN_PRICES)}")
    s = top.sub("sizing", ("target_unserved", "window_seconds", "tolerance", "start"))
    i = top.sub("instant", ("cap_share", "float_share"))
    v = top.sub("inventory", ("inventory_share", "float_share", "low", "high"))
    d = top.sub("direct", ("spread_bps",))
    inventory = InventoryShape(
        inventory_share=v.number("inventory_share", Decimal("0.35"), low=Decimal("0.01"), high=_ONE),
        float_share=v.number("float_share", Decimal("0.4"), low=_ZERO, high=_ONE),
        low=v.number("low", Decimal("0.4"), low=_ZERO, high=Decimal("0.99")),
        high=v.number("high", Decimal("1.75"), low=Decimal("1.01"), high=Decimal(100)),
    )
    if inventory.inventory_share + inventory.float_share > 1:
        raise _fail(source, "inventory", "inventory_share + float_share must not exceed 1")
    base = Scenario(
        name=name,
        title=top.text("title", name),
        symbol="",
        start=date.min,
        end=date.min,
        seed=top.text("seed", name),
        flow=_flow(source, top),
        between_prices=between,
        sizing=Sizing(
            target_unserved=s.number("target_unserved", Decimal("0.01"), low=_ZERO, high=Decimal("0.5")),
            window_seconds=s.whole("window_seconds", 60, low=1, high=7 * 86_400),
            tolerance=s.number("tolerance", Decimal("0.1"), low=Decimal("0.01"), high=_ONE),
            start=s.money("start", Money("0"), positive=False),
        ),
        instant=InstantShape(
            cap_share=i.number("cap_share", Decimal("0.4"), low=Decimal("0.01"), high=_ONE),
            float_share=i.number("float_share", Decimal("0.6"), low=_ZERO, high=_ONE),
        ),
        inventory=inventory,
        direct=DirectLiquidity(
            spread_bps=d.number("spread_bps", Decimal(20), low=_ZERO, high=Decimal(1000)),
        ),
        source=source,
    )
    if "series" in raw:
        return _series(base, top)
    return [_dated(base, top.text("symbol").upper(), top.day("start"), top.day("end"))]


def _dated(base: Scenario, symbol: str, start: date, end: date, name: str | None = None) -> Scenario:
    if end < start:
        raise _fail(base.source, "end", f"{end} is before the start {start}")
    if (end - start).days > 3 * 366:
        raise _fail(base.source, "end", "a scenario spans at most three years")
    label = name or base.name
    seed = base.seed if name is None else f"{base.seed}/{label}"
    return replace(base, name=label, symbol=symbol, start=start, end=end, seed=seed)


def _series(base: Scenario, top: _Reader) -> list[Scenario]:
    r = top.sub("series", ("every", "symbols", "from", "to"))
    every = r.text("every")
    if every not in SERIES_EVERY:
        raise _fail(base.source, "series.every", f"must be one of {', '.join(SERIES_EVERY)}")
    symbols = r.table.get("symbols")
    if not isinstance(symbols, list) or not symbols or not all(isinstance(s, str) and s for s in symbols):
        raise _fail(base.source, "series.symbols", "must be a non-empty array of symbols")
    first, last = r.day("from"), r.day("to")
    if last < first:
        raise _fail(base.source, "series.to", f"{last} is before {first}")
    found: list[Scenario] = []
    for symbol in (s.upper() for s in symbols):
        for start, end, label in _spans(every, first, last):
            found.append(_dated(base, symbol, start, end, f"{base.name}/{symbol}-{label}"))
    return found


def _spans(every: str, first: date, last: date) -> list[tuple[date, date, str]]:
    """Return the calendar weeks (Monday to Sunday) or years that start within [first, last]."""
    spans: list[tuple[date, date, str]] = []
    if every == "year":
        for year in range(first.year, last.year + 1):
            start, end = max(first, date(year, 1, 1)), min(last, date(year, 12, 31))
            spans.append((start, end, str(year)))
        return spans
    monday = first - timedelta(days=first.weekday())
    if monday < first:
        monday += timedelta(days=7)
    while monday <= last:
        iso = monday.isocalendar()
        spans.append((monday, monday + timedelta(days=6), f"{iso.year}-W{iso.week:02d}"))
        monday += timedelta(days=7)
    return spans


def load(path: Path) -> list[Scenario]:
    """Return the scenarios of a file (refused ``SCENARIO_INVALID`` if unreadable)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise DomainError(INVALID, f"{path}: cannot be read: {error}") from None
    return parse(text, str(path))


def bundled() -> list[Scenario]:
    """Return every bundled scenario, series expanded, in file-name order."""
    found: list[Scenario] = []
    folder = resources.files("equitoken.lab") / "scenarios"
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml"):
            found.extend(parse(entry.read_text(encoding="utf-8"), f"scenarios/{entry.name}"))
    return found


def find(name_or_path: str) -> Scenario:
    """Return a bundled scenario by name, or the single scenario of a file path."""
    path = Path(name_or_path)
    if name_or_path.endswith(".toml") or path.is_file():
        if not path.is_file():
            raise DomainError("UNKNOWN_SCENARIO", f"no scenario file {name_or_path}")
        scenarios = load(path)
        if len(scenarios) != 1:
            names = ", ".join(s.name for s in scenarios[:3])
            raise DomainError(
                INVALID, f"{path} is a series of {len(scenarios)} scenarios ({names}, …): name one of them"
            )
        return scenarios[0]
    for scenario in bundled():
        if scenario.name == name_or_path:
            return scenario
    families = sorted({s.name.split("/")[0] for s in bundled()})
    raise DomainError(
        "UNKNOWN_SCENARIO",
        f"no scenario {name_or_path!r}; bundled: {', '.join(families)} (`equitoken lab list` shows them)",
    )
