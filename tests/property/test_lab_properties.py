"""Every engine invariant holds in every lab run, whatever the flow; a sweep is the same in parallel."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from equitoken.domain.values import Money
from equitoken.lab.measures import outcome_class
from equitoken.lab.run import MODELS, run_model
from equitoken.lab.study import flow_of
from equitoken.lab.sweep import sweep
from tests.lab.tiny import tiny

RATES = st.sampled_from(["0", "0.3", "1", "2.5"])


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.text("abcdefghij", min_size=1, max_size=6),
    session=st.sampled_from(["0.5", "1.5", "3"]),
    evening=RATES,
    weekend=RATES,
    capital=st.sampled_from(["20000", "60000", "250000"]),
)
def test_every_invariant_holds_in_every_lab_run(
    seed: str, session: str, evening: str, weekend: str, capital: str
) -> None:
    scenario = tiny(seed=seed, session=session, evening=evening, weekend=weekend, end="2012-11-24")
    flow = flow_of(scenario)
    for model in MODELS:
        run = run_model(scenario, flow, model, Money(capital))
        assert run.invariant_breaks == () and run.failures == (), model
        assert [o.order_id for o in run.orders] == [o.order_id for o in flow.orders]
        for s in run.samples:
            assert s.supply_shares == s.custody + s.in_flight
        for seen, sent in zip(run.orders, flow.orders, strict=True):
            filled = sum(f.shares for f in seen.fills)
            assert filled <= sent.shares.value  # never more than asked
            if seen.code is not None and outcome_class(seen.code) != "taken":
                assert not seen.fills  # a refused order moved nothing
            for f in seen.fills:
                if sent.limit is not None:  # a limit is never traded through
                    better = (
                        f.price <= sent.limit.amount
                        if sent.side.value == "buy"
                        else f.price >= sent.limit.amount
                    )
                    assert better, (model, seen, sent)


@pytest.fixture(scope="module")
def scheduler() -> Iterator[str]:
    import distributed

    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
    ) as cluster:
        yield cluster.scheduler_address


def test_a_sweep_gives_the_same_figures_in_series_on_processes_and_on_a_cluster(scheduler: str) -> None:
    scenario = tiny(seed="sweep", end="2012-11-24")
    grid = (["30000", "90000"], ["10", "60"])
    in_series = sweep(scenario, "buffer-spread", *grid, workers=1)
    on_processes = sweep(scenario, "buffer-spread", *grid, workers=2)
    on_cluster = sweep(scenario, "buffer-spread", *grid, scheduler=scheduler)
    assert in_series == on_processes == on_cluster
    points = in_series["points"]
    assert [(p["x"], p["y"]) for p in points] == [(x, y) for y in grid[1] for x in grid[0]]
    # A wider off-hours spread earns more on the closures' fills: the net gap loss cannot grow.
    by = {(p["x"], p["y"]): p for p in points}
    for x in grid[0]:
        assert Decimal(by[(x, "60")]["gap_loss"]) <= Decimal(by[(x, "10")]["gap_loss"])
