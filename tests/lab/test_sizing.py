"""The capital search: the smallest capital, to the tolerance, at which a model serves the flow.

The runs here are fakes of the one port the search has (an ``Evaluate``: capital → a run's records),
so the search itself is what is tested; ``test_lab_runs`` sizes real engines.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import ROUND_CEILING, Decimal
from types import SimpleNamespace
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from equitoken.compliance.investors import InvestorCategory
from equitoken.domain.trading import Side
from equitoken.domain.values import Money, Price, Shares
from equitoken.issuance.models import ModelName
from equitoken.issuance.orders import TimeInForce
from equitoken.lab.orders import Flow, LabInvestor, LabOrder, PeriodKind
from equitoken.lab.run import FillSeen, OrderSeen
from equitoken.lab.scenario import parse
from equitoken.lab.sizing import floor, round_capital, size

SCENARIO = parse(
    'name = "s"\nsymbol = "KO"\nstart = 2013-03-04\nend = 2013-03-08\n[flow.rates]\nsession = 1\n', "s.toml"
)[0]
ORDERS = 100
T0 = datetime(2013, 3, 4, 15, tzinfo=UTC)
FLOW = Flow(
    "s",
    (LabInvestor("inv-0001", "DE", InvestorCategory.PROFESSIONAL, False, Money(10**6)),),
    tuple(
        LabOrder(
            f"s:{i:06d}",
            T0 + timedelta(minutes=i),
            "inv-0001",
            Side.BUY,
            Shares(10),
            None,
            TimeInForce.IOC,
            PeriodKind.SESSION,
            Price("40"),
        )
        for i in range(1, ORDERS + 1)
    ),
)


def fake_model(needed: Decimal, calls: list[Money]) -> Any:
    """Return an evaluate that refuses a share (needed − C) / needed of the orders (none at C ≥ needed)."""

    def evaluate(scenario: Any, flow: Flow, model: ModelName, capital: Money) -> Any:
        calls.append(capital)
        short = max(Decimal(0), (needed - capital.amount) / needed)
        refused = int((short * ORDERS).to_integral_value(rounding=ROUND_CEILING))
        seen = []
        for i, order in enumerate(flow.orders):
            if i < refused:
                seen.append(
                    OrderSeen(
                        order.order_id, order.at, order.side, Decimal(10), "rejected", "BUFFER_LIMIT", ()
                    )
                )
            else:
                fill = FillSeen(order.at, Decimal(10), Decimal(40), Decimal(40))
                seen.append(
                    OrderSeen(order.order_id, order.at, order.side, Decimal(10), "settled", None, (fill,))
                )
        return SimpleNamespace(orders=tuple(seen), capital=capital)

    return evaluate


@settings(max_examples=40, deadline=None)
@given(needed=st.integers(min_value=2_000, max_value=5_000_000))
def test_the_search_finds_the_smallest_serving_capital_within_the_tolerance(needed: int) -> None:
    calls: list[Money] = []
    sized = size(SCENARIO, FLOW, ModelName.INSTANT, fake_model(Decimal(needed), calls))
    found = sized.run.capital.amount
    # Served means at most 1 % unserved: the fake serves from 99 % of what is needed.
    least = Decimal(needed) * Decimal("0.99")
    assert sized.met
    assert found >= least or found == floor(ModelName.INSTANT, FLOW, SCENARIO).amount
    # Within the tolerance, allowing the three-figure rounding of each probe.
    assert found <= max(
        least * (1 + SCENARIO.sizing.tolerance) * Decimal("1.01"),
        floor(ModelName.INSTANT, FLOW, SCENARIO).amount,
    )
    assert [p.capital for p in sized.probes] == calls  # every probe is reported, in order
    assert len(calls) <= 25


def test_the_search_reports_a_flow_it_cannot_serve_at_any_capital_it_tried() -> None:
    calls: list[Money] = []

    def never(scenario: Any, flow: Flow, model: ModelName, capital: Money) -> Any:
        calls.append(capital)
        seen = tuple(
            OrderSeen(o.order_id, o.at, o.side, Decimal(10), "rejected", "NO_LIQUIDITY", ())
            for o in flow.orders
        )
        return SimpleNamespace(orders=seen, capital=capital)

    sized = size(SCENARIO, FLOW, ModelName.DIRECT, never)
    assert not sized.met and all(p.unserved == 1 for p in sized.probes)
    # Three probes with the same rate: more capital changes nothing, so the search stops there.
    assert len(calls) == 3 and calls[1].amount == 2 * calls[0].amount


def test_a_flow_that_more_capital_serves_a_little_better_each_time_is_doubled_to_the_limit() -> None:
    calls: list[Money] = []

    def slowly(scenario: Any, flow: Flow, model: ModelName, capital: Money) -> Any:
        calls.append(capital)
        refused = max(2, 60 - len(calls))  # never under the 1 % target, but better each time
        seen = tuple(
            OrderSeen(o.order_id, o.at, o.side, Decimal(10), "rejected", "NO_LIQUIDITY", ())
            if i < refused
            else OrderSeen(
                o.order_id,
                o.at,
                o.side,
                Decimal(10),
                "settled",
                None,
                (FillSeen(o.at, Decimal(10), Decimal(40), Decimal(40)),),
            )
            for i, o in enumerate(flow.orders)
        )
        return SimpleNamespace(orders=seen, capital=capital)

    sized = size(SCENARIO, FLOW, ModelName.DIRECT, slowly)
    assert not sized.met and len(calls) == 13  # the start, then twelve doublings


def test_a_tighter_target_needs_more_capital_and_the_start_can_be_set() -> None:
    loose = replace(SCENARIO, sizing=replace(SCENARIO.sizing, target_unserved=Decimal("0.2")))
    tight = replace(SCENARIO, sizing=replace(SCENARIO.sizing, target_unserved=Decimal("0")))
    a = size(loose, FLOW, ModelName.INSTANT, fake_model(Decimal(100_000), [])).run.capital
    b = size(tight, FLOW, ModelName.INSTANT, fake_model(Decimal(100_000), [])).run.capital
    assert a < b
    calls: list[Money] = []
    started = replace(SCENARIO, sizing=replace(SCENARIO.sizing, start=Money(123456)))
    size(started, FLOW, ModelName.INSTANT, fake_model(Decimal(100_000), calls))
    assert calls[0] == Money(124000)  # the given start, rounded up to three figures


def test_capital_rounds_up_to_three_significant_figures() -> None:
    assert round_capital(Decimal("123456")) == Money(124000)
    assert round_capital(Decimal("1000")) == Money(1000)
    assert round_capital(Decimal("7")) == Money(100)
    assert round_capital(Decimal("99.9")) == Money(100)


def test_the_inventory_floor_holds_three_shares_at_the_first_reference() -> None:
    # 3 shares × $40 ÷ the 35 % inventory share of capital = $342.86 → $343.
    assert floor(ModelName.INVENTORY, FLOW, SCENARIO) == Money(343)
    assert floor(ModelName.INSTANT, FLOW, SCENARIO) == Money(800)  # twice the largest order ($400)
