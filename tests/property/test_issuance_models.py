"""Random orders, hours and real price paths through all three models on one engine.

Each example lists AAPL under inventory, MSFT under instant execution and KO under direct ownership
(the demo's settings), onboards eligible and ineligible investors, and then Hypothesis drives buys,
sells (market and limit, shares and notional, IOC/DAY/GTC), retries of the same request, cancels,
direct primary issues and jumps of time from minutes to days across sessions, evenings, weekends and
holidays of 2012–2013 (the real calendar and the bundled real prices). After every step:

- every listing is backed: ledger tokens = chain supply, tokens × multiplier = custody + in flight
  (the engine checks after each command; a break recorded at any point fails the run);
- the order record, the ledger and the chain agree per investor: the net of each investor's fills
  (plus primary issues) equals its ledger tokens and its wallet on chain — a fill applied twice, a
  settled fill lost to the record or a half-settled trade shows as a difference;
- no investor holds tokens the compliance engine would not let them buy at that moment (platform
  wallets, bound to no investor, are the inventory; they are checked by the backing instead).
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from equitoken.app.orders import EngineCompliance
from equitoken.compliance.actions import Regulation
from equitoken.compliance.investors import InvestorCategory, PersonKind
from equitoken.compliance.kyc import KycState
from equitoken.domain.errors import DomainError
from equitoken.domain.ids import Symbol
from equitoken.domain.trading import OrderType, Side
from equitoken.domain.values import Money, Price, Shares
from equitoken.issuance.models import ModelName
from equitoken.issuance.models.base import Holder
from equitoken.issuance.models.books import investor_tokens
from equitoken.issuance.orders import OrderRequest, OrderState, TimeInForce
from equitoken.simulation.week import model_builders
from tests.issuance.world import World, ny

SYMBOLS = ("AAPL", "MSFT", "KO")
START = ny(2012, 11, 19, 10, 0)
END = ny(2013, 6, 28, 16, 0)
INVESTORS = st.integers(min_value=0, max_value=5)
STEPS = st.sampled_from(
    [timedelta(minutes=7), timedelta(hours=1), timedelta(hours=5), timedelta(hours=17), timedelta(days=2)]
)


class ThreeModels(RuleBasedStateMachine):
    """One engine, three models, random flow."""

    def __init__(self) -> None:
        super().__init__()
        self.world = World.start(START)
        builders = model_builders()
        self.world.list("AAPL", ModelName.INVENTORY, "tracker-certificate", builders[ModelName.INVENTORY])
        self.world.list("MSFT", ModelName.INSTANT, "instant-execution", builders[ModelName.INSTANT])
        self.world.list("KO", ModelName.DIRECT, "direct-ownership", builders[ModelName.DIRECT])
        w = self.world
        self.holders: list[Holder] = [
            w.investor("anna", residence="DE"),
            w.investor(
                "dev", residence="SG", category=InvestorCategory.INSTITUTIONAL, kind=PersonKind.ENTITY
            ),
            w.investor("chloe", residence="CH", category=InvestorCategory.RETAIL),
            w.investor("ben", residence="US", us_person=True, category=InvestorCategory.ACCREDITED),
            w.investor("pat", residence="FR", kyc=KycState.PENDING),
            w.investor("omid", residence="IR"),
        ]
        for holder in self.holders[:2] + self.holders[3:4]:
            w.engine.desk.whitelist(Symbol("KO"), [holder.investor])
        two_years_back = START - timedelta(days=730)
        for holder in self.holders[:2]:
            w.engine.issue_primary(
                Symbol("KO"),
                holder,
                Shares(100),
                Price("20"),
                acquired_at=two_years_back,
                regulation=Regulation.REG_S,
            )
        self.issued: dict[tuple[str, str], Decimal] = {
            (h.investor.value, "KO"): Decimal(100) for h in self.holders[:2]
        }
        self.sent: list[OrderRequest] = []
        self.compliance = EngineCompliance(w.engine.desk)

    # -- rules ---------------------------------------------------------------------------------

    @rule(
        who=INVESTORS,
        symbol=st.sampled_from(SYMBOLS),
        side=st.sampled_from(Side),
        shares=st.integers(min_value=1, max_value=60),
        by_notional=st.booleans(),
        tif=st.sampled_from(TimeInForce),
        limit_bps=st.none() | st.integers(min_value=-60, max_value=60),
    )
    def order(
        self,
        who: int,
        symbol: str,
        side: Side,
        shares: int,
        by_notional: bool,
        tif: TimeInForce,
        limit_bps: int | None,
    ) -> None:
        holder = self.holders[who]
        reference = self._reference(symbol)
        limit = None
        if limit_bps is not None:
            limit = Price.rounded(reference.amount * (1 + Decimal(limit_bps) / 10_000))
        quantity: Shares | None = Shares(shares)
        notional: Money | None = None
        if by_notional and symbol != "KO" and limit is None:
            quantity, notional = None, reference.notional(Shares(shares))
        request = OrderRequest(
            "prop",
            f"o{len(self.sent)}",
            holder.investor,
            holder.wallet,
            Symbol(symbol),
            side,
            OrderType.MARKET if limit is None else OrderType.LIMIT,
            tif,
            quantity=quantity,
            notional=notional,
            limit_price=limit,
        )
        self._submit(request)

    @precondition(lambda self: bool(self.sent))
    @rule(pick=st.integers(min_value=0, max_value=10_000))
    def retry(self, pick: int) -> None:
        request = self.sent[pick % len(self.sent)]
        fills_before = self._fill_ids()
        submission = self.world.engine.submit(request)
        assert submission.replayed and submission.events == ()
        assert self._fill_ids() == fills_before

    @precondition(lambda self: bool(self.world.engine.orders.working()))
    @rule(pick=st.integers(min_value=0, max_value=10_000))
    def cancel(self, pick: int) -> None:
        working = self.world.engine.orders.working()
        self.world.engine.cancel(working[pick % len(working)].order_id)

    @rule(step=STEPS)
    def wait(self, step: timedelta) -> None:
        now = self.world.clock.now()
        if now + step < END:
            self.world.at(now + step)

    @rule(who=st.sampled_from([0, 1, 3]), shares=st.integers(min_value=1, max_value=50))
    def primary(self, who: int, shares: int) -> None:
        holder = self.holders[who]
        regulation = Regulation.REG_D if who == 3 else Regulation.REG_S
        try:
            self.world.engine.issue_primary(
                Symbol("KO"), holder, Shares(shares), self._reference("KO"), regulation=regulation
            )
        except DomainError as refused:  # a US buyer not allowed, the cash short: nothing issued
            assert refused.code, refused
            return
        key = (holder.investor.value, "KO")
        self.issued[key] = self.issued.get(key, Decimal(0)) + shares

    # -- invariants ----------------------------------------------------------------------------

    @invariant()
    def backed(self) -> None:
        engine = self.world.engine
        assert engine.invariants_ok, engine.log.breaks
        assert all(b.holds for b in engine.check())

    @invariant()
    def order_record_chain_and_books_agree(self) -> None:
        """Each investor's fills (the order record) = its ledger tokens = its wallet on chain.

        A fill applied twice, a fill settled on chain but lost to the record, or a trade half-settled
        shows here as a difference between the three.
        """
        engine = self.world.engine
        filled: dict[tuple[str, str], Decimal] = {}
        for order in engine.orders.desk.orders():
            if order.request.quantity is not None:
                assert order.filled_shares <= order.request.quantity
            sign = 1 if order.request.side is Side.BUY else -1
            key = (order.request.investor.value, order.request.symbol.value)
            filled[key] = filled.get(key, Decimal(0)) + sign * order.filled_shares.value
        for holder in self.holders:
            for symbol in SYMBOLS:
                listing = engine.model(Symbol(symbol)).listing
                expected = filled.get((holder.investor.value, symbol), Decimal(0))
                expected += self.issued.get((holder.investor.value, symbol), Decimal(0))
                ledger = self.world.balance(investor_tokens(holder.investor, Symbol(symbol)), listing.token)
                assert ledger == expected, (holder.investor, symbol, ledger, expected)
                assert self.world.tokens(symbol, holder) == ledger, (holder.investor, symbol)

    @invariant()
    def holders_are_eligible(self) -> None:
        now = self.world.clock.now()
        for symbol in SYMBOLS:
            reference = self.world.platform.prices.reference_price(Symbol(symbol), now)
            for holder in self.holders:
                if self.world.tokens(symbol, holder) == 0:
                    continue
                probe = OrderRequest(
                    "probe",
                    "probe",
                    holder.investor,
                    holder.wallet,
                    Symbol(symbol),
                    Side.BUY,
                    OrderType.MARKET,
                    TimeInForce.IOC,
                    quantity=Shares(1),
                )
                decision = self.compliance.decide(probe, reference, now)
                assert decision.allowed, (symbol, holder.investor, decision.violations)

    # -- helpers -------------------------------------------------------------------------------

    def _submit(self, request: OrderRequest) -> None:
        try:
            submission = self.world.engine.submit(request)
        except DomainError as refused:  # refused before the journal (e.g. a notional too small)
            assert refused.code in {"INVALID_ORDER", "FEE_EXCEEDS_PROCEEDS"}, refused
            return
        self.sent.append(request)
        order = submission.order
        if order.state is OrderState.REJECTED:
            assert order.rejection is not None and order.rejection.code

    def _reference(self, symbol: str) -> Price:
        return self.world.platform.prices.reference_price(Symbol(symbol), self.world.clock.now()).price

    def _fill_ids(self) -> set[str]:
        return {f.fill_id for o in self.world.engine.orders.desk.orders() for f in o.fills}


ThreeModels.TestCase.settings = settings(
    max_examples=12,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestThreeModels = ThreeModels.TestCase
