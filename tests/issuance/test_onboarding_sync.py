"""Onboarding one investor syncs that investor's part of the chain only — and leaves nothing to repair."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from equitoken.adapters.chain.factory import build_chain
from equitoken.adapters.clock import ManualClock
from equitoken.adapters.store.memory import MemoryStore
from equitoken.app.bootstrap import bootstrap
from equitoken.app.issuance import open_engine
from equitoken.app.programmes import default_builders
from equitoken.app.settings import Settings
from equitoken.compliance.investors import InvestorCategory
from equitoken.compliance.sync import restricted
from equitoken.domain.ids import InvestorId, Symbol
from equitoken.issuance.models import ModelName

POLICIES = {
    ModelName.INVENTORY: "tracker-certificate",
    ModelName.INSTANT: "instant-execution",
    ModelName.DIRECT: "direct-ownership",
}


@pytest.mark.parametrize("model", list(ModelName))
def test_after_onboarding_many_a_full_sync_has_nothing_to_send(model: ModelName) -> None:
    clock = ManualClock(datetime(2013, 3, 4, 15, tzinfo=UTC))
    platform = bootstrap(
        Settings(chain_seed="onboard"),
        clock,
        store=MemoryStore(),
        chain=build_chain("", "onboard", genesis=clock.now()),
    )
    engine = open_engine(platform)
    engine.list_stock(Symbol("KO"), model, POLICIES[model], default_builders()[model])
    residences = ["DE", "CH", "US", "IR", "SG", "IT"]
    for i in range(12):
        residence = residences[i % len(residences)]
        engine.onboard(
            InvestorId(f"inv-{i:02d}"),
            name=f"Investor {i}",
            residence=residence,
            category=InvestorCategory.ACCREDITED if residence == "US" else InvestorCategory.PROFESSIONAL,
            us_person=residence == "US",
        )
    engine.desk.whitelist(Symbol("KO"), [InvestorId("inv-00"), InvestorId("inv-04")])
    # Every investor's record, binding and whitelisting is on chain as a full sync would have put it.
    assert engine.desk.diff(Symbol("KO")) == ()
    assert engine.desk.sync(Symbol("KO")).txs == 0
    # One investor's part, computed from that investor alone, is the whole intent's part about it.
    at = engine.chain.block_time()
    whole = engine.desk.intent(Symbol("KO"), at)
    for i in range(12):
        investor = InvestorId(f"inv-{i:02d}")
        assert engine.desk.intent(Symbol("KO"), at, only=investor) == restricted(whole, investor)
