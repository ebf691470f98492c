"""A whole issuance world for tests: the production engine on a manual clock, in one process.

Real parts everywhere except time and the database: the embedded EVM, the real XNYS calendar, the
bundled real price history, the simulated broker (one account per model), the shipped policies and
sample sanctions list, and an in-memory store with the ``Store`` port's guarantees.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from equitoken.adapters.chain.factory import build_chain
from equitoken.adapters.clock import ManualClock
from equitoken.adapters.store.memory import MemoryStore
from equitoken.app.bootstrap import Platform, bootstrap
from equitoken.app.issuance import IssuanceEngine, ModelBuilder, open_engine
from equitoken.app.settings import Settings
from equitoken.compliance.investors import InvestorCategory, PersonKind
from equitoken.compliance.kyc import KycState
from equitoken.domain.ids import InvestorId, Symbol
from equitoken.domain.trading import OrderType, Side
from equitoken.domain.values import Money, Price, Shares
from equitoken.issuance.models import IssuanceModel, ModelName
from equitoken.issuance.models.base import Holder
from equitoken.issuance.orders import FeeSchedule, OrderRequest, RiskLimits, TimeInForce
from equitoken.ledger.accounts import Account, Asset
from tests.fakes.market import ny

__all__ = ["World", "ny"]


@dataclass
class World:
    """The engine and the parts around it, with shortcuts for investors and orders."""

    platform: Platform
    clock: ManualClock
    store: MemoryStore
    engine: IssuanceEngine
    _keys: int = field(default=0)

    @classmethod
    def start(
        cls,
        at: datetime,
        *,
        seed: str = "world",
        fees: FeeSchedule | None = None,
        limits: RiskLimits | None = None,
        chain_kept: bool | None = None,
    ) -> World:
        """Return a fresh world whose clock reads ``at`` (``chain_kept``: see ``Platform.chain_kept``)."""
        clock = ManualClock(at)
        store = MemoryStore()
        platform = bootstrap(  # the composition root takes the parts a test chooses; none is patched in
            Settings(chain_seed=seed),
            clock,
            store=store,
            chain=build_chain("", seed, genesis=at),
            chain_kept=chain_kept,
        )
        engine = open_engine(platform, fees=fees, limits=limits)
        return cls(platform, clock, store, engine)

    # -- setup ---------------------------------------------------------------------------------

    def investor(
        self,
        name: str,
        *,
        residence: str = "CH",
        category: InvestorCategory = InvestorCategory.PROFESSIONAL,
        us_person: bool = False,
        kind: PersonKind = PersonKind.NATURAL_PERSON,
        kyc: KycState = KycState.VERIFIED,
        cash: str | None = "100000",
    ) -> Holder:
        """Onboard ``name`` (investor id ``inv-<name>``) with a wallet and, unless ``cash`` is None, cash."""
        holder = self.engine.onboard(
            InvestorId(f"inv-{name}"),
            name=name.title(),
            residence=residence,
            category=category,
            us_person=us_person,
            kind=kind,
            kyc=kyc,
        )
        if cash is not None:
            self.engine.deposit(holder, Money(cash))
        return holder

    def list(self, symbol: str, model: ModelName, policy: str, build: ModelBuilder) -> IssuanceModel:
        """List ``symbol`` under ``model`` and ``policy``."""
        return self.engine.list_stock(Symbol(symbol), model, policy, build)

    # -- orders --------------------------------------------------------------------------------

    def order(
        self,
        holder: Holder,
        side: Side,
        symbol: str,
        quantity: str | None = None,
        *,
        notional: str | None = None,
        tif: TimeInForce = TimeInForce.DAY,
        limit: str | None = None,
        key: str | None = None,
    ) -> OrderRequest:
        """Return an order request with a fresh idempotency key unless ``key`` is given."""
        if key is None:
            self._keys += 1
            key = f"k{self._keys}"
        return OrderRequest(
            "world",
            key,
            holder.investor,
            holder.wallet,
            Symbol(symbol),
            side,
            OrderType.LIMIT if limit is not None else OrderType.MARKET,
            tif,
            quantity=None if quantity is None else Shares(quantity),
            notional=None if notional is None else Money(notional),
            limit_price=None if limit is None else Price(limit),
        )

    def buy(self, holder: Holder, symbol: str, quantity: str | None = None, **kwargs: Any) -> OrderRequest:
        """Return a buy request (see ``order``)."""
        return self.order(holder, Side.BUY, symbol, quantity, **kwargs)

    def sell(self, holder: Holder, symbol: str, quantity: str | None = None, **kwargs: Any) -> OrderRequest:
        """Return a sell request (see ``order``)."""
        return self.order(holder, Side.SELL, symbol, quantity, **kwargs)

    # -- time and reads --------------------------------------------------------------------------

    def at(self, moment: datetime) -> None:
        """Move the clock to ``moment`` and let the engine do what is due."""
        self.clock.set(moment)
        self.engine.tick()

    def balance(self, account: Account, asset: Asset) -> Decimal:
        """Return a ledger balance now."""
        return self.store.balance(account, asset)

    def tokens(self, symbol: str, holder: Holder) -> Decimal:
        """Return a holder's raw token balance on chain."""
        return self.engine.token_balance(Symbol(symbol), holder.wallet).value

    def cash(self, holder: Holder) -> Money:
        """Return a holder's stablecoin balance on chain."""
        return self.engine.chain.stablecoin_balance(self.engine.stablecoin, holder.wallet)

    def backed(self) -> bool:
        """Tell whether every listing is backed now and was at every check so far."""
        return all(b.holds for b in self.engine.check()) and self.engine.invariants_ok
