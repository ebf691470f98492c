"""The pool probe after a dividend reinvestment: the seed fits the token's decimals (a year run died here).

AAPL's dividend of February 2013, reinvested into the tracker, moves the inventory token's multiplier
to a figure whose share cap quotient (100 shares / multiplier) does not end: the probe computed its
seed with 19+ decimals and the whole run failed with ``TOO_MANY_DECIMALS`` after every order had gone
through. The probe rounds the seed down to the token's decimals now.
"""

from __future__ import annotations

from decimal import Decimal

from equitoken.domain.values import Money
from equitoken.issuance.models import ModelName
from equitoken.lab.pool import SEED_CAP_SHARES
from equitoken.lab.run import _Run
from equitoken.lab.study import flow_of
from tests.lab.tiny import tiny


def test_a_pool_is_seeded_and_swapped_through_after_a_reinvested_dividend() -> None:
    scenario = tiny(seed="dividend", start="2013-02-05", end="2013-02-15", investors=12)
    flow = flow_of(scenario)
    run = _Run(scenario, flow, ModelName.INVENTORY, Money(300_000))
    result = run.run()
    engine = run.engine
    multiplier = engine.chain.multiplier(engine.model(run.symbol).listing.instrument)
    # The case itself: the dividend moved the multiplier, and the cap's quotient has no 18-place form.
    assert multiplier != 1
    cap = SEED_CAP_SHARES / multiplier
    assert cap != cap.quantize(Decimal(1).scaleb(-18))
    assert result.failures == () and result.invariant_breaks == ()
    assert result.swaps and any(s.succeeded for s in result.swaps if s.who == "outsider")
