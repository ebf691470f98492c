"""The lab on the real engine: the same orders to every model, invariants held, capital sized by flow."""

from __future__ import annotations

from decimal import Decimal

from equitoken.domain.values import Money
from equitoken.issuance.models import ModelName
from equitoken.lab.measures import unserved_rate
from equitoken.lab.run import MODELS, run_model
from equitoken.lab.sizing import size
from equitoken.lab.study import digest, flow_of, run_scenario
from tests.lab.tiny import tiny


def test_every_model_receives_the_same_orders_and_keeps_its_books_backed() -> None:
    scenario = tiny()
    flow = flow_of(scenario)
    assert 20 <= len(flow.orders) <= 200
    sent = [(o.order_id, o.at, o.investor, o.side, o.shares.value, o.limit) for o in flow.orders]
    runs = {m: run_model(scenario, flow, m, Money(150_000)) for m in MODELS}
    for model, run in runs.items():
        seen = [(o.order_id, o.at, o.side, o.shares) for o in run.orders]
        assert seen == [(i, at, side, shares) for i, at, _, side, shares, _ in sent], model
        assert run.invariant_checks > 0 and run.invariant_breaks == () and run.failures == (), model
        for s in run.samples:  # tokens × multiplier = custody + in flight at every tick
            assert s.supply_shares == s.custody + s.in_flight, (model, s)
    # Each model did something different with the same orders.
    filled = {m: sum(1 for o in r.orders if o.fills) for m, r in runs.items()}
    assert all(filled.values()) and len({tuple(o.state for o in r.orders) for r in runs.values()}) > 1


def test_a_lab_run_reports_every_measure_per_model_with_the_flow_s_digest() -> None:
    scenario = tiny(seed="report")
    fixed = {"inventory": "150000", "instant": "80000", "direct": "300000"}
    run = run_scenario(scenario, workers=1, capital=fixed)
    flow = flow_of(scenario)
    assert run["flow"]["digest"] == digest(flow)
    for name in ("inventory", "instant", "direct"):
        figures = run["models"][name]
        assert figures["symbol"] == "AAPL" and figures["orders_submitted"] == len(flow.orders)
        assert figures["orders_digest"] == digest(flow)
        assert figures["capital"]["sized"] == f"{Decimal(fixed[name]):.2f}"
        for key in (
            "traded_notional",
            "refusals",
            "eligibility",
            "off_hours_fill_share",
            "time_to_fill",
            "time_to_custody",
            "tracking_error_bps",
            "gap_pnl",
            "fees_bps",
            "settlement_collateral",
            "rights",
            "composability",
        ):
            assert key in figures, (name, key)
        assert figures["gap_pnl"]["gaps"], name  # Thanksgiving and the weekend
    # US accredited investors may hold only the direct share: an eligibility row, not a refusal rate.
    assert run["models"]["instant"]["eligibility"]["refused"] > 0
    assert run["models"]["direct"]["eligibility"]["refused"] == 0
    assert {c["id"] for c in run["claims"]} >= {"capital-efficiency", "gap-risk", "t0-settlement"}


def test_a_heavier_off_hours_flow_needs_a_bigger_buffer() -> None:
    light = tiny(seed="hours", evening="0.2", night="0.1", weekend="0.1", holiday="0.2")
    heavy = tiny(seed="hours", evening="2", night="1", weekend="1.5", holiday="2")
    sized = {}
    for label, scenario in (("light", light), ("heavy", heavy)):
        flow = flow_of(scenario)
        found = size(scenario, flow, ModelName.INSTANT)
        assert found.met
        assert unserved_rate(found.run, flow, 60) <= scenario.sizing.target_unserved
        sized[label] = found.run.capital.amount
    assert sized["heavy"] > sized["light"]
