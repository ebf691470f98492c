"""A world with one listing per model, a holder, and the corporate-action service (shared by the tests)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from functools import partial

from equitoken.app.corporate_actions import CorporateActionService, Outcome
from equitoken.app.issuance import ModelBuilder
from equitoken.compliance.actions import Regulation
from equitoken.compliance.investors import InvestorCategory
from equitoken.domain.ids import Symbol
from equitoken.domain.values import Money, Price, Shares
from equitoken.issuance.models import IssuanceModel, ModelName
from equitoken.issuance.models.base import Holder
from equitoken.issuance.models.direct import DirectSettings, build_direct_model
from equitoken.issuance.models.instant import InstantSettings, build_instant_model
from equitoken.issuance.models.inventory import InventorySettings, build_inventory_model
from equitoken.issuance.orders import OrderState
from tests.issuance.world import World, ny

START = ny(2012, 11, 19, 10, 0)  # Monday, in session; fills settle T+3 at Friday 11-23's open
EX = date(2012, 11, 27)  # Tuesday: everything bought on Monday has settled
EX_OPEN = ny(2012, 11, 27, 9, 30)
PAY = date(2012, 11, 30)
PAY_OPEN = ny(2012, 11, 30, 9, 30)
MSFT = Symbol("MSFT")  # about 26.7 that week
POLICIES = {
    ModelName.INVENTORY: "tracker-certificate",
    ModelName.INSTANT: "instant-execution",
    ModelName.DIRECT: "direct-ownership",
}
BUILDERS: dict[ModelName, ModelBuilder] = {
    ModelName.INVENTORY: partial(
        build_inventory_model,
        settings=InventorySettings(
            capital=Money("100000"),
            initial_shares=Shares("500"),
            low_watermark=Shares("100"),
            target=Shares("500"),
            high_watermark=Shares("2000"),
            stablecoin_float=Money("20000"),
        ),
    ),
    ModelName.INSTANT: partial(build_instant_model, settings=InstantSettings()),
    ModelName.DIRECT: partial(build_direct_model, settings=DirectSettings()),
}


@dataclass
class Setup:
    """The world, the listing's model, the service and the first holder."""

    world: World
    model: IssuanceModel
    service: CorporateActionService
    alice: Holder

    def holder(self, name: str, shares: str | None = None) -> Holder:
        """Onboard ``name`` (whitelisted for direct) and give them ``shares`` of MSFT now, if asked."""
        made = self.world.investor(name, residence="CH", category=InvestorCategory.PROFESSIONAL)
        if self.model.name is ModelName.DIRECT:
            self.world.engine.desk.whitelist(MSFT, [made.investor])
        if shares is not None:
            acquire(self.world, self.model, made, shares)
        return made

    def due_at(self, moment: datetime) -> list[Outcome]:
        """Move the clock, let the engine tick, then apply what is due (the order the service asks for)."""
        self.world.clock.set(moment)
        self.world.engine.tick()
        return self.service.due()


def acquire(world: World, model: IssuanceModel, holder: Holder, shares: str) -> None:
    """Give ``holder`` ``shares`` of MSFT: a primary issue (direct) or a market buy (the others)."""
    if model.name is ModelName.DIRECT:
        world.engine.issue_primary(MSFT, holder, Shares(shares), Price("27"), regulation=Regulation.REG_S)
        return
    sub = world.engine.submit(world.buy(holder, "MSFT", shares))
    assert sub.order.state in (OrderState.FILLED, OrderState.SETTLED), sub.events


def setup(model: ModelName, shares: str = "100") -> Setup:
    """List MSFT under ``model`` on a fresh world; alice acquires ``shares``."""
    world = World.start(START)
    listed = world.list("MSFT", model, POLICIES[model], BUILDERS[model])
    alice = world.investor("alice", residence="CH", category=InvestorCategory.PROFESSIONAL)
    if model is ModelName.DIRECT:
        world.engine.desk.whitelist(MSFT, [alice.investor])
    acquire(world, listed, alice, shares)
    return Setup(world, listed, CorporateActionService(world.engine), alice)
