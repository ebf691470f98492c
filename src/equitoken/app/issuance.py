"""The issuance engine: orders in, fills, tokens and books out, under whichever model a stock is listed.

The engine is the one service every architecture shares. It takes a request through the order
service (compliance, reference price, price band, the model's own venue check, risk limits —
journaled), hands each accepted order to the model of its listing (``IssuanceModel.execute``),
applies the fills the model returns (the order desk refuses a fill applied twice or beyond the
order), ends IOC orders after their one attempt, marks filled orders settled (tokens are delivered on
chain at the fill), and after every command checks the reserve invariant of every listing:
ledger tokens = chain supply, and tokens × multiplier = custody + in flight.

``tick`` is what happens when time passes (its steps are in its docstring): the chain's clock follows
the platform's, orders past their time expire, resting orders are re-decided by compliance, each
model does what is due (hedges at the open, replenishment) and fills waiting orders.

A model that fails while executing an accepted order (the chain refused a leg, the broker said no)
does not leave the order working: the engine cancels it with the failure's code and sentence, so the
client sees why. A failure that may have left something half-done (a crash, a fill settled on chain
that the desk refuses, a trade that could not be undone) also **halts minting** for the listing until
an operator lifts it after reconciliation; halts are journaled (stream ``reserves``) and reloaded.

Tokens holders move themselves (an ERC-20 transfer outside the platform) are mirrored into the
ledger from the chain's Transfer events (``mirror_transfers``), so per-investor books stay exact.

**Restart.** What the engine deployed and listed, and the blackouts it imposed, are typed events
(stream ``engine``, ``issuance.engine_events``). An engine built over a store that holds listings,
on a chain that kept its state (a node; the same in-process EVM), reopens them when it is given the
model builders: the same stablecoin and contracts, each model ``resume``d from its own durable
records (never ``open``ed twice), the blackouts still in force; the order service has already
rebuilt the working orders, so the next ``tick`` fills or expires them. A model that cannot resume
is refused (``RESTART_UNSUPPORTED``), never reopened half-way.
"""

from __future__ import annotations

import functools
import logging
from bisect import bisect_right
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, Concatenate, ParamSpec, Protocol, TypeVar, runtime_checkable

from equitoken.adapters.chain.facade import ChainFacade
from equitoken.app import primary
from equitoken.app.bootstrap import Platform
from equitoken.app.brokerage import Brokerage
from equitoken.app.cash_out import Way, cash_out_entry, made_before, refuse_cash_out
from equitoken.app.compliance_desk import ComplianceDesk, open_desk
from equitoken.app.executor import Executor
from equitoken.app.orders import ComplianceCheck, EngineCompliance, OrderService, VenueCheck
from equitoken.app.settings import Settings
from equitoken.app.settlement_audit import SettlementAudit, unknown_quote
from equitoken.compliance.actions import Regulation
from equitoken.compliance.book import BindWallet, ChangeKyc, OnboardInvestor
from equitoken.compliance.countries import country
from equitoken.compliance.decision import Decision
from equitoken.compliance.engine import evaluate
from equitoken.compliance.investors import InvestorCategory, PersonKind
from equitoken.compliance.kyc import KycState
from equitoken.compliance.transfers import transfer_action
from equitoken.domain.codec import MALFORMED
from equitoken.domain.errors import DomainError, InfrastructureError
from equitoken.domain.ids import InvestorId, OrderId, Symbol, WalletAddress
from equitoken.domain.instants import utc
from equitoken.domain.market import MarketStatus, ReferencePrice
from equitoken.domain.trading import OrderType, Side
from equitoken.domain.values import Money, Price, Shares, TokenAmount
from equitoken.issuance import journal
from equitoken.issuance.custody_events import (
    CUSTODY_EVENTS,
    CustodyState,
    SelfCustodyRegistered,
    WalletRecovered,
)
from equitoken.issuance.custody_events import STREAM as CUSTODY_STREAM
from equitoken.issuance.engine_events import (
    ENGINE_EVENTS,
    LOG_EVENTS,
    BlackoutLifted,
    BlackoutStarted,
    BreakRecorded,
    EngineState,
    FailureRecorded,
    FillRecorded,
    StablecoinDeployed,
    StockListed,
)
from equitoken.issuance.models import IssuanceModel, Listing, ModelContext, ModelFill, ModelName, ModelReason
from equitoken.issuance.models.backing import Backing, backing
from equitoken.issuance.models.base import Holder
from equitoken.issuance.models.books import (
    BANK,
    buffer_pool,
    deliver,
    investor_cash,
    investor_tokens,
    issuer_cash,
)
from equitoken.issuance.models.instant_book import Committed
from equitoken.issuance.orders import (
    FeeSchedule,
    Order,
    OrderDesk,
    OrderEvent,
    OrderExpired,
    OrderRequest,
    OrderState,
    RiskLimits,
    Submission,
    TimeInForce,
)
from equitoken.issuance.plans import (
    BurnStablecoin,
    Leg,
    MintStablecoin,
    Outcome,
    Plan,
    Plans,
    Transfer,
    no_plans,
)
from equitoken.issuance.reasons import Refusal
from equitoken.ledger.accounts import Account, AccountKind, Asset
from equitoken.ledger.entries import EntryDraft, move
from equitoken.ledger.running import RunningBalances
from equitoken.ports.broker import Broker, BrokerBooks
from equitoken.ports.chain import Instrument
from equitoken.ports.clock import Clock
from equitoken.ports.market import MarketCalendar, PriceSource
from equitoken.ports.store import Store
from equitoken.reserves.events import RESERVE_EVENTS, MintingHalted, MintingResumed, ReservesState

log = logging.getLogger(__name__)

ModelBuilder = Callable[[Listing, ModelContext], IssuanceModel]
"""Build a model for a listing from the ports it works through (a model's settings are bound in)."""

FUNDING: dict[ModelName, Account] = {
    ModelName.INVENTORY: issuer_cash(ModelName.INVENTORY),
    ModelName.INSTANT: buffer_pool(ModelName.INSTANT),
}
"""Which account pays a model's broker trades (direct ownership has no broker)."""

ENGINE_STREAM = "engine"
"""The journal stream of the engine's own events: stablecoin, listings, blackouts."""
LOG_STREAM = "engine-log"
"""The journal stream of what the engine saw (``EngineLog``): fills applied, failures, breaks."""

HALTS = "reserves"
"""The journal stream of minting halts and their lifting (shared with the reserves service)."""
HALTED = "MintingHalted"
RESUMED = "MintingResumed"

ZERO_WALLET = WalletAddress("0x" + "0" * 40)
BLACKOUT = "CORPORATE_ACTION_BLACKOUT"
STABLE_DECIMALS = 6

BREAKING = frozenset({"SETTLEMENT_INCOMPLETE", "CAP_TABLE_DIVERGED"})
"""Failure codes meaning part of a trade moved and could not be undone: the listing stops minting."""


_P = ParamSpec("_P")
_R = TypeVar("_R")


def platform_command(
    method: Callable[Concatenate[IssuanceEngine, _P], _R],
) -> Callable[Concatenate[IssuanceEngine, _P], _R]:
    """Mark an engine command: the blocks it mines are the platform's own (see ``mirror_transfers``)."""

    @functools.wraps(method)
    def command(engine: IssuanceEngine, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        before = engine.chain.block_number()
        try:
            return method(engine, *args, **kwargs)
        finally:
            engine._own_blocks(before, engine.chain.block_number())

    return command


@runtime_checkable
class Resumable(Protocol):
    """A model that can reopen, after a restart, a listing it opened before (from durable records)."""

    def resume(self, working: Sequence[Order]) -> None:
        """Rebuild the model's state from durable records and the listing's ``working`` orders."""
        ...


@runtime_checkable
class QuoteSettling(Protocol):
    """A model whose fills settle as quotes on a settlement contract (instant execution)."""

    @property
    def settlement(self) -> WalletAddress:
        """Return the listing's quote-settlement contract."""
        ...


@runtime_checkable
class PrimaryIssuer(Protocol):
    """A model whose tokens are issued by the issuer directly (direct ownership): it records the issue."""

    def primary_refusal(self, wallet: WalletAddress, shares: Shares, price: Price) -> Refusal | None:
        """Return why ``wallet`` cannot take the issue (asked before anything is minted)."""
        ...

    def primary_plan(
        self,
        investor: InvestorId,
        wallet: WalletAddress,
        shares: Shares,
        price: Price,
        acquired_at: datetime,
        regulation: Regulation,
        at: datetime,
    ) -> Plan:
        """Decide the booking of an issue the desk has just minted on chain (register, tokens, payment)."""
        ...


class EngineGate:
    """The ``ComplianceGate`` models ask: the compliance engine on the desk's books and policies."""

    def __init__(self, desk: ComplianceDesk) -> None:
        self._desk = desk

    def transfer(
        self, symbol: Symbol, sender: WalletAddress, receiver: WalletAddress, shares: Shares, at: datetime
    ) -> Decision:
        """Return the engine's decision on moving ``shares`` of ``symbol`` from ``sender`` to ``receiver``."""
        desk = self._desk
        action = transfer_action(
            sender,
            receiver,
            shares,
            book=desk.investors.book,
            instrument=desk.instruments.book.get(symbol),
            sanctions=desk.sanctions,
            at=at,
        )
        return evaluate(desk.policy(symbol), action)


@dataclass
class _Run:
    """What one command's plans did: the fills applied, the order events, and how it failed, if it did."""

    fills: list[ModelFill] = field(default_factory=list)
    events: list[OrderEvent] = field(default_factory=list)
    failure: DomainError | None = None
    crash: BaseException | None = None
    waiting: bool = False
    """A plan was left for its investor to settle (a firm quote): its order stays working."""


@dataclass(frozen=True, slots=True)
class FillRecord:
    """A fill the engine applied, with what the scorecard needs to judge it."""

    symbol: Symbol
    model: ModelName
    investor: InvestorId
    received_at: datetime
    fill: ModelFill


@dataclass
class EngineLog:
    """What the engine saw: every fill applied, every invariant check, every order a model failed."""

    fills: list[FillRecord] = field(default_factory=list)
    failed_orders: set[OrderId] = field(default_factory=set)
    checks: int = 0
    breaks: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


class IssuanceEngine:
    """List stocks under models, take orders, drive time, and keep every listing's backing checked."""

    def __init__(
        self,
        desk: ComplianceDesk,
        store: Store,
        chain: ChainFacade,
        clock: Clock,
        calendar: MarketCalendar,
        prices: PriceSource,
        brokers: Callable[[Symbol], Broker],
        *,
        fees: FeeSchedule | None = None,
        limits: RiskLimits | None = None,
        compliance: ComplianceCheck | None = None,
        builders: Mapping[ModelName, ModelBuilder] | None = None,
        chain_persists: bool = False,
    ) -> None:
        self.desk = desk
        self.store = store
        self.chain = chain
        self.clock = clock
        self.calendar = calendar
        self.prices = prices
        self.fees = fees or FeeSchedule()
        self._brokers = brokers
        self._compliance = compliance or EngineCompliance(desk)
        self.orders = OrderService(
            OrderDesk(self.fees, limits), store, clock, calendar, prices, self._compliance
        )
        self.gate = EngineGate(desk)
        self._state = EngineState()
        self._recorded = 0
        for event in journal.read(store, ENGINE_STREAM, ENGINE_EVENTS):
            self._state.apply(event)
            self._recorded += 1
        self._chain_persists = chain_persists
        self.stablecoin = self._stablecoin()
        self.log = EngineLog()
        self._logged = 0
        for seen in journal.read(store, LOG_STREAM, LOG_EVENTS):
            self._fold_log(seen)
            self._logged += 1
        self._models: dict[Symbol, IssuanceModel] = {}
        self._books: dict[Symbol, BrokerBooks] = {}
        self._broker_of: dict[Symbol, Broker] = {}
        self._halted: dict[Symbol, str] = {}
        self._halt_events: dict[tuple[str, Symbol], int] = {}
        self._blackouts: dict[Symbol, tuple[datetime, str]] = dict(self._state.blackouts)
        self._load_halts()
        self._balances = RunningBalances()
        self._own: list[tuple[int, int]] = []
        """Block ranges the engine's own commands mined (inclusive)."""
        self._mirrored: dict[Symbol, int] = {}
        """Per listing, the last block whose token transfers the ledger has seen."""
        self.custody = CustodyState()
        """The self-custody investors' wallets (stream ``custody``): the platform holds no key for them."""
        for event in journal.read(store, CUSTODY_STREAM, CUSTODY_EVENTS):
            self.custody.apply(event)
        # The keys of the wallets the engine made for its investors are derived from their labels: a new
        # process derives them again before anything (a recovered plan may pay from such a wallet).
        # A self-custody investor has no such wallet: nothing is derived for it.
        for investor in desk.investors.book.investors():
            if investor.investor_id not in self.custody.onboarded:
                chain.wallet(investor_label(investor.investor_id))
        self._audit = SettlementAudit(store)
        self.executor = Executor(
            store,
            chain,
            clock,
            self._instrument_of,
            self._plan_events,
            settles_itself=self.custody.settles_itself,
            chain_time=chain.block_time,
        )
        self._stale: str | None = None
        self._lazy_close = False  # submit_many: the order's closing unit may skip its own fsync
        """Why a unit of work rolled back with the engine's memory ahead of the store, if one did."""
        if builders is not None:
            self._reopen(builders)
        before = chain.block_number()
        self._recover()
        # What recovery sent is the platform's own: the transfer mirror must not book it again as a
        # holder's (it books the plan's entries itself).
        self._own_blocks(before, chain.block_number())
        # An IOC order still working now lost its one attempt to a crash (any plan it had was finished
        # just above): it ends now, unfilled by us — unless its firm quote waits for its investor.
        awaiting = self.executor.awaiting()
        for order in self.orders.working():
            if order.request.time_in_force is TimeInForce.IOC and order.order_id not in awaiting:
                self.orders.end_attempt(order.order_id)
        self._deposits = _deposits_booked(store)
        """Deposits booked so far (their keys number on from the ledger's, across restarts)."""

    # -- listings and investors ----------------------------------------------------------------

    @platform_command
    def list_stock(self, symbol: Symbol, model: ModelName, policy: str, build: ModelBuilder) -> IssuanceModel:
        """Put ``symbol`` under ``policy`` on chain, build its model and open it."""
        if symbol in self._models:
            raise DomainError(
                "ALREADY_LISTED", f"{symbol} is already listed under {self._models[symbol].name}"
            )
        if symbol in self._state.listings:
            raise DomainError(
                "ALREADY_LISTED",
                f"{symbol} was listed before a restart; the engine reopens it when given its builders",
            )
        self.sync_chain_time()
        instrument = self.desk.register(symbol, policy)
        built = self._attach(symbol, model, instrument, build)
        built.open()
        self._record(StockListed(utc(self.clock.now()), symbol, model, policy, self.chain.block_number()))
        self.check()
        log.info("listed", extra={"symbol": str(symbol), "model": model.value, "policy": policy})
        return built

    def _attach(
        self, symbol: Symbol, model: ModelName, instrument: Instrument, build: ModelBuilder
    ) -> IssuanceModel:
        """Build the model of a listing over its ports (its broker account, if it trades at one)."""
        listing = Listing(symbol, model, instrument, self.stablecoin, f"evm-{self.chain.chain_id}")
        funding = FUNDING.get(model)
        broker = None if funding is None else self._brokers(symbol)
        books = (
            None
            if broker is None or funding is None
            else Brokerage(
                broker,
                self.store,
                self.calendar,
                self.clock,
                funding,
                stream=f"broker-{model}-{symbol}",  # one writer per stream: one account per listing
            )
        )
        context = ModelContext(
            self.chain,
            self.store,
            books,
            self.clock,
            self.calendar,
            self.prices,
            self.fees,
            self.gate,
            self._outstanding,
        )
        built = build(listing, context)
        if built.name is not model:
            raise DomainError("WRONG_MODEL", f"the builder made a {built.name} model for a {model} listing")
        self._models[symbol] = built
        self._mirrored[symbol] = self.chain.block_number()
        if books is not None and broker is not None:
            self._books[symbol] = books
            self._broker_of[symbol] = broker
        return built

    def _reopen(self, builders: Mapping[ModelName, ModelBuilder]) -> None:
        """Reopen every journaled listing (see the module doc); refuse rather than reopen half-way."""
        listings = list(self._state.listings.values())
        if listings and not self._chain_persists:
            raise DomainError(
                "CHAIN_NOT_KEPT",
                f"the journal lists {', '.join(str(e.symbol) for e in listings)}, but this chain did "
                "not keep their contracts: a fresh chain cannot resume the listings",
            )
        for listed in listings:
            build = builders.get(listed.model)
            if build is None:
                raise DomainError(
                    "RESTART_UNSUPPORTED", f"no builder for the {listed.model} listing of {listed.symbol}"
                )
            instrument = self.desk.instrument(listed.symbol)
            model = self._attach(listed.symbol, listed.model, instrument, build)
            if not isinstance(model, Resumable):
                self._models.pop(listed.symbol, None)
                raise DomainError(
                    "RESTART_UNSUPPORTED",
                    f"the {listed.model} model of {listed.symbol} cannot resume after a restart yet",
                )
            model.resume([o for o in self.orders.working() if o.request.symbol == listed.symbol])
            log.info("listing reopened", extra={"symbol": str(listed.symbol), "model": listed.model.value})

    def _note_failure(self, sentence: str, order_id: OrderId | None = None) -> None:
        self._note(FailureRecorded(utc(self.clock.now()), sentence, order_id))

    def _note(self, event: FillRecorded | FailureRecorded | BreakRecorded) -> None:
        """Journal what the engine saw (stream ``engine-log``), then add it to ``log``."""
        self._logged += 1
        journal.append(self.store, LOG_STREAM, f"engine-log:{self._logged}", event.at, event)
        self._fold_log(event)

    def _fold_log(self, event: Any) -> None:
        match event:
            case FillRecorded():
                fill = ModelFill(
                    event.order_id, event.fill, event.reference, event.fee, event.off_hours, event.trade_id
                )
                record = FillRecord(event.symbol, event.model, event.investor, event.received_at, fill)
                self.log.fills.append(record)
            case FailureRecorded():
                self.log.failures.append(event.sentence)
                if event.order_id is not None:
                    self.log.failed_orders.add(event.order_id)
            case BreakRecorded():
                self.log.breaks.append(event.sentence)

    def _stablecoin(self) -> WalletAddress:
        """Return the stablecoin this chain already holds for the engine, or deploy (and journal) one."""
        known = self._state.stablecoins.get(self.chain.chain_id)
        if known is not None and self._chain_persists:
            return self.chain.attach_stablecoin(known)  # a new process's facade must learn it again
        coin = self.chain.deploy_stablecoin()
        self._record(StablecoinDeployed(utc(self.clock.now()), self.chain.chain_id, coin))
        return coin

    def _record(self, event: object) -> None:
        """Journal one engine event (stream ``engine``) and fold it into the engine's state."""
        self._recorded += 1
        journal.append(self.store, ENGINE_STREAM, f"engine:{self._recorded}", utc(self.clock.now()), event)
        self._state.apply(event)

    def model(self, symbol: Symbol) -> IssuanceModel:
        """Return the model ``symbol`` is listed under (``NOT_LISTED`` if none)."""
        try:
            return self._models[symbol]
        except KeyError:
            raise DomainError("NOT_LISTED", f"{symbol} is not listed on this engine") from None

    def models(self) -> dict[Symbol, IssuanceModel]:
        """Return every listing's model."""
        return dict(self._models)

    def broker_books(self, symbol: Symbol) -> BrokerBooks | None:
        """Return the broker account of a listing (``None`` for a model without a broker)."""
        self.model(symbol)
        return self._books.get(symbol)

    def broker(self, symbol: Symbol) -> Broker | None:
        """Return the broker a listing trades through (corporate actions tell it of a split), if any."""
        self.model(symbol)
        return self._broker_of.get(symbol)

    # -- minting halts (set by reconciliation and by failures; journaled) --------------------------

    def halt_minting(self, symbol: Symbol, reason: str) -> None:
        """Refuse new tokens for ``symbol`` (buys, primary issues) until an operator resumes; sells go on.

        The halt is journaled (stream ``reserves``), so a restarted engine is halted too.
        """
        self.model(symbol)
        if symbol in self._halted:
            return
        self._halted[symbol] = reason
        self._journal_halt(HALTED, symbol, {"reason": reason})
        log.error("minting halted", extra={"symbol": str(symbol), "reason": reason})

    def resume_minting(self, symbol: Symbol, operator: str, reason: str, **record: Any) -> None:
        """Lift the halt on ``symbol``, with who lifted it and why on the record."""
        if symbol not in self._halted:
            raise DomainError("NOT_HALTED", f"minting of {symbol} is not halted")
        if not operator.strip() or not reason.strip():
            raise DomainError(
                "REASON_REQUIRED", "lifting a halt needs an operator and a reason on the record"
            )
        self._journal_halt(RESUMED, symbol, {"operator": operator, "reason": reason} | record)
        del self._halted[symbol]
        log.warning("minting resumed", extra={"symbol": str(symbol), "operator": operator, "reason": reason})

    def _journal_halt(self, kind: str, symbol: Symbol, payload: dict[str, Any]) -> None:
        count = self._halt_events.get((kind, symbol), 0) + 1
        at = utc(self.clock.now())
        record = dict(payload)
        event: MintingHalted | MintingResumed
        if kind == HALTED:
            event = MintingHalted(at, symbol, record.pop("reason"))
        else:
            breaks = tuple(record.pop("accepted_breaks", ()))
            event = MintingResumed(at, symbol, record.pop("operator"), record.pop("reason"), breaks)
        if record:  # a field the event has no place for would be lost from the record: refuse it
            raise DomainError(MALFORMED, f"{kind} has no field {sorted(record)[0]!r}")
        journal.append(self.store, HALTS, f"reserves:{kind}:{symbol}:{count}", at, event)
        self._halt_events[(kind, symbol)] = count

    def _load_halts(self) -> None:
        state = ReservesState()
        for event in journal.read(self.store, HALTS, RESERVE_EVENTS):
            state.apply(event)
        self._halt_events.update(state.halts)
        self._halted.update(state.halted)

    # -- trading blackouts (around a corporate action) ---------------------------------------------

    def black_out(self, symbol: Symbol, start: datetime, reason: str) -> None:
        """Stop all trading in ``symbol`` from ``start`` until ``lift_blackout``: no orders, no fills.

        Used around a split: from early enough that nothing is in flight at the ex-date, until the
        split has been applied — so no order is ever priced in new shares against old tokens.
        """
        self.model(symbol)
        if self._blackouts.get(symbol) == (utc(start), reason):
            return
        self._record(BlackoutStarted(utc(self.clock.now()), symbol, utc(start), reason))
        self._blackouts[symbol] = (utc(start), reason)

    def lift_blackout(self, symbol: Symbol) -> None:
        """Let ``symbol`` trade again (journaled, so a restarted engine does not black it out again)."""
        if symbol not in self._blackouts:
            return
        self._record(BlackoutLifted(utc(self.clock.now()), symbol))
        self._blackouts.pop(symbol, None)

    def blacked_out(self, symbol: Symbol) -> str | None:
        """Return why ``symbol`` may not trade now, or ``None`` when it may."""
        found = self._blackouts.get(symbol)
        if found is None or utc(self.clock.now()) < found[0]:
            return None
        return found[1]

    def halted(self) -> dict[Symbol, str]:
        """Return the listings whose minting is halted, with why."""
        return dict(self._halted)

    @platform_command
    def onboard(
        self,
        investor: InvestorId,
        *,
        name: str,
        residence: str,
        category: InvestorCategory,
        nationality: str | None = None,
        us_person: bool = False,
        kind: PersonKind = PersonKind.NATURAL_PERSON,
        kyc: KycState = KycState.VERIFIED,
        kyc_expires: date | None = None,
        kyc_reason: str = "",
        wallet: WalletAddress | None = None,
    ) -> Holder:
        """Onboard an investor with one wallet; return the holder.

        Without ``wallet`` the chain adapter derives the wallet and holds its key. With ``wallet`` the
        investor holds its own key (self-custody): the address is journaled (stream ``custody``) before
        it is bound, and refused if the platform holds its key or another investor has it. Whitelisting
        and the identity registry then cover it as any bound wallet. Refusals (a US person declared
        otherwise, a KYC transition the rules forbid) come from the investor book and leave nothing
        recorded for this investor past the refused command.
        """
        at = self.clock.now()
        if wallet is None:
            wallet = self.chain.wallet(investor_label(investor))
        else:
            self._register_self_custody(investor, wallet, utc(at))
        service = self.desk.investors
        service.execute(
            OnboardInvestor(
                investor,
                at,
                kind,
                name,
                country(residence),
                country(nationality or residence),
                us_person,
                category,
            )
        )
        service.execute(BindWallet(investor, at, wallet))
        if kyc is not KycState.NONE:  # every file opens as a review before it is decided
            service.execute(ChangeKyc(investor, at, KycState.PENDING))
        if kyc not in (KycState.NONE, KycState.PENDING):
            expires = kyc_expires or date(at.year + 2, at.month, 1)
            verified = kyc is KycState.VERIFIED
            service.execute(ChangeKyc(investor, at, kyc, expires if verified else None, kyc_reason))
        self.desk.sync_all(only=investor)  # this investor's part: onboarding n is not n² chain reads
        return Holder(investor, wallet)

    def _register_self_custody(self, investor: InvestorId, wallet: WalletAddress, at: datetime) -> None:
        """Journal that ``investor`` signs for ``wallet`` itself (once; the same again is no change)."""
        if self.chain.holds_key(wallet):
            raise DomainError(
                "WALLET_KEPT_BY_PLATFORM",
                f"the platform holds the key of {wallet}: a self-custody wallet is the investor's own",
            )
        book = self.desk.investors.book
        owner = book.owner_of(wallet)
        if owner is not None and owner.investor_id != investor:
            raise DomainError("WALLET_BOUND_ELSEWHERE", f"{wallet} belongs to investor {owner.investor_id}")
        known = self.custody.wallets.get(investor)
        if known == wallet:
            return  # a retry after a crash between this record and the onboarding
        if book.find(investor) is not None:  # never turn a kept wallet's investor into a self-custody one
            raise DomainError("INVESTOR_EXISTS", f"investor {investor} is already onboarded")
        event = SelfCustodyRegistered(at, investor, wallet)
        probe = CustodyState(dict(self.custody.wallets), dict(self.custody.owners))
        probe.apply(event)  # refused before it is journaled
        journal.append(self.store, CUSTODY_STREAM, f"custody:{investor}", at, event)
        self.custody.apply(event)

    def _outstanding(self, symbol: Symbol) -> Decimal:
        """Return the net shares of ``symbol`` committed by firm quotes out (buys positive)."""
        net = Decimal(0)
        for plan in {p.key: p for p in self.executor.awaiting().values()}.values():
            if plan.symbol != symbol:
                continue
            for event in plan.events:
                if isinstance(event, Committed):
                    shares = event.commitment.shares.value
                    net += shares if event.commitment.side is Side.BUY else -shares
        return net

    def custody_wallet(self, investor: InvestorId) -> WalletAddress | None:
        """Return the wallet ``investor`` trades from when it is not the one the platform derived for it.

        A self-custody wallet, or the wallet its position was recovered to (``record_recovery``);
        ``None`` when the investor trades from the wallet the platform keeps for it.
        """
        return self.custody.wallet_of(investor)

    def record_recovery(self, investor: InvestorId, lost: WalletAddress, new: WalletAddress) -> None:
        """Journal that ``investor``'s position moved from ``lost`` to ``new``: it trades from ``new`` now."""
        event = WalletRecovered(utc(self.clock.now()), investor, lost, new, not self.chain.holds_key(new))
        self.custody.apply(event)  # refused before anything is journaled if ``new`` is another's
        journal.append(self.store, CUSTODY_STREAM, f"recovered:{investor}:{lost}:{new}", event.at, event)

    @platform_command
    def deposit(self, holder: Holder, amount: Money, *, key: str | None = None) -> bool:
        """Credit ``amount`` of stablecoin to the holder's wallet and book it (investor_cash ← bank).

        With ``key``, the deposit is made once: the same key again changes nothing and returns False.
        """
        if amount.amount <= 0 or amount.currency != "USD":
            raise DomainError("INVALID_AMOUNT", f"a deposit must be a positive USD amount, not {amount}")
        self._recover()
        if key is None:
            self._deposits += 1
            entry_key = f"deposit:{holder.investor}:{self._deposits}"
        else:
            entry_key = f"deposit:{holder.investor}:key:{key}"
            booked = self.store.entry(entry_key)
            if booked is not None:
                credited = sum(
                    (p.amount for p in booked.draft.postings if p.account == investor_cash(holder.investor)),
                    Decimal(0),
                )
                same = (
                    credited == amount.amount and booked.draft.metadata.get("wallet") == holder.wallet.value
                )
                if not same:
                    raise DomainError(
                        "IDEMPOTENCY_CONFLICT",
                        f"deposit {key!r} of {holder.investor} was made with another amount or wallet",
                    )
                return False
        draft = EntryDraft(
            entry_key,
            self.clock.now(),
            move(Asset.cash(), amount.amount, debit=investor_cash(holder.investor), credit=BANK),
            f"deposit {amount} by {holder.investor}",
            {"investor": holder.investor.value, "wallet": holder.wallet.value},
        )
        self.pay_out(holder.wallet, amount, draft, note=f"deposit {amount} to {holder.wallet}")
        return True

    def pay_out(self, wallet: WalletAddress, amount: Money, entry: EntryDraft, *, note: str) -> None:
        """Mint ``amount`` of the stablecoin to ``wallet`` and post ``entry``, once, through the outbox.

        The entry's key is the payment's: the intent commits first, the mint is sent, the entry posts
        with the outcome; after a kill the next command finds the mint on chain and posts the entry
        (never mints again). Call it outside any unit of work, as every engine command is.
        """
        leg = MintStablecoin(self.stablecoin, wallet, TokenAmount(amount.amount, STABLE_DECIMALS))
        self._move_cash(leg, entry, note)

    @platform_command
    def redeem(self, holder: Holder, amount: Money, *, key: str | None = None) -> bool:
        """Burn ``amount`` of the holder's stablecoin and book it paid to its bank (bank ← investor_cash).

        Refused before anything is recorded when the investor's cash does not cover it or the investor
        is sanctioned (``app.cash_out``). With ``key``, it is made once: the same key again changes
        nothing and returns False, also after a kill between the burn and its entry.
        """
        return self._cash_out("redemption", holder, amount, None, key)

    @platform_command
    def withdraw(self, holder: Holder, to: WalletAddress, amount: Money, *, key: str | None = None) -> bool:
        """Send ``amount`` of the holder's stablecoin to ``to``, outside the platform, and book it there.

        The receiving address is screened against the sanctions list, and may not be a wallet the
        platform keeps; otherwise as ``redeem``.
        """
        return self._cash_out("withdrawal", holder, amount, to, key)

    def _cash_out(
        self, way: Way, holder: Holder, amount: Money, to: WalletAddress | None, key: str | None
    ) -> bool:
        entry = cash_out_entry(way, holder, amount, self.clock.now(), to=to, key=key)  # INVALID_AMOUNT
        self._recover()  # a cash-out killed between its leg and its entry is booked before it is looked up
        if key is not None and made_before(self.store, entry):
            return False
        refuse_cash_out(self.desk.investors.book, self.desk.sanctions, self.store, holder, amount, to)
        coins = TokenAmount(amount.amount, STABLE_DECIMALS)
        leg: Leg = (
            BurnStablecoin(self.stablecoin, holder.wallet, coins)
            if to is None
            else Transfer(self.stablecoin, holder.wallet, to, coins)
        )
        self._move_cash(leg, entry, entry.memo)
        return True

    def _move_cash(self, leg: Leg, entry: EntryDraft, note: str) -> None:
        """Send one stablecoin leg and post ``entry`` with it, once, through the outbox."""
        plan = Plan(entry.key, None, (leg,), (entry,), note=note)
        with self._unit():
            self.executor.intend(plan, utc(self.clock.now()))
        outcome = self.executor.send(plan)
        with self._unit():
            self._close(None, outcome)
        if outcome.failure is not None:
            raise outcome.failure

    @platform_command
    def issue_primary(
        self,
        symbol: Symbol,
        holder: Holder,
        shares: Shares,
        price: Price,
        *,
        acquired_at: datetime | None = None,
        regulation: Regulation = Regulation.NONE,
        key: str | None = None,
    ) -> datetime:
        """Issue new shares to a holder under a model whose issuer issues directly (direct ownership).

        The compliance desk mints on chain and journals the holding (its lockup and flowback then
        follow the regulation); the model books the register, the tokens and the payment. Given a
        ``key``, the issue is made once whatever crashes between its steps (``app.primary``): a retry
        under the key books the mint already on chain instead of minting again, and the same key
        with other terms is refused (``IDEMPOTENCY_CONFLICT``). Return the holding's acquired instant.
        """
        model = self.model(symbol)
        self._recover()  # an issue decided before a crash is finished before another is minted
        if (blackout := self.blacked_out(symbol)) is not None:
            raise DomainError(BLACKOUT, f"{symbol} does not trade now: {blackout}")
        if symbol in self._halted:
            raise DomainError(
                ModelReason.MINTING_HALTED,
                f"new {symbol} shares are halted until reserves reconcile: {self._halted[symbol]}",
            )
        if not isinstance(model, PrimaryIssuer):
            raise DomainError("WRONG_MODEL", f"{symbol} is listed under {model.name}: no primary issuance")
        self.sync_chain_time()
        at = self.clock.now()
        keyed = None if key is None else primary.find(self.store, key)
        if keyed is not None:
            primary.same_terms(keyed.asked, symbol, holder.investor, shares, price, regulation)
            if keyed.booked:
                return keyed.asked.acquired_at
            acquired = keyed.asked.acquired_at  # the first try's instant: its holding may be on record
        else:
            # The holding's lockup goes on chain in whole seconds: a fraction would be refused after the
            # mint (the desk mints before the plan), so it is refused, or dropped from now, before.
            acquired = acquired_at or at.replace(microsecond=0)
            if acquired.microsecond:
                raise DomainError(
                    "SUBSECOND_TIME", f"acquired at {acquired.isoformat()}: the chain counts seconds"
                )
        minted = keyed is not None and self._holding_at(symbol, keyed.asked)
        if not minted:
            refusal = model.primary_refusal(holder.wallet, shares, price)
            if refusal is not None:
                raise DomainError(refusal.code, refusal.message)
            if key is not None and keyed is None:
                position = len(self.desk.instruments.book.get(symbol).holdings)
                primary.ask(
                    self.store,
                    primary.PrimaryIssueAsked(
                        key,
                        symbol,
                        holder.investor,
                        holder.wallet,
                        shares,
                        price,
                        acquired,
                        regulation,
                        position,
                    ),
                )
            self.desk.issue(symbol, holder.wallet, shares, acquired_at=acquired, regulation=regulation)

        def decide() -> Plans:
            plan = model.primary_plan(holder.investor, holder.wallet, shares, price, acquired, regulation, at)
            outcome = yield plan
            if outcome.failure is not None:
                raise outcome.failure

        def finish(run: _Run) -> None:
            self.check()

        run = self._drive(model, decide, finish)
        if run.crash is not None:
            raise run.crash
        failure = run.failure
        if failure is not None and not (minted and failure.code == "MINT_NOT_FOUND"):
            raise failure
        # (No unbooked mint of a holding on record: the first try booked it and was cut short before
        # marking it booked. It is done.)
        if key is not None:
            primary.book(self.store, key, utc(self.clock.now()))
        return acquired

    def _holding_at(self, symbol: Symbol, asked: primary.PrimaryIssueAsked) -> bool:
        """Tell whether the holding ``asked`` announced is on the desk's record (its mint went out)."""
        holdings = self.desk.instruments.book.get(symbol).holdings
        if len(holdings) <= asked.position:
            return False
        found = holdings[asked.position]
        return (found.wallet, found.shares, found.acquired_at) == (
            asked.wallet,
            asked.shares,
            asked.acquired_at,
        )

    # -- orders --------------------------------------------------------------------------------

    @platform_command
    def submit(self, request: OrderRequest) -> Submission:
        """Take ``request`` in and, once accepted, have its model execute it now.

        The acceptance and the model's first plan commit together; each plan's legs are then sent and
        its records committed with the next plan (``_drive``). A plan the chain refuses leaves the order
        cancelled with the refusal's code; a failure that is not a refusal (a bug, a lost connection)
        also halts minting for the listing, since what moved is then unknown, and is raised after the
        order is closed.
        """
        model = self.model(request.symbol)
        if (
            isinstance(model, QuoteSettling)
            and self.custody.settles_itself(request.wallet)
            and (request.time_in_force is not TimeInForce.IOC or request.order_type is not OrderType.MARKET)
        ):
            # Its quote waits for the wallet to settle it: a resting order would be quoted again and again.
            raise DomainError(
                "FIRM_QUOTE_REQUIRED",
                f"{request.wallet} settles its own quotes: take a firm quote (a market order, IOC)",
            )
        self._recover()
        state: dict[str, Submission] = {}

        def accept() -> Plans:
            self.mirror_transfers()
            self.sync_chain_time()
            submission = self.orders.submit(request, venue=self._venue(model))
            state["submission"] = submission
            order = submission.order
            if submission.replayed or order.state is not OrderState.ACCEPTED:
                return no_plans()
            return self._execute(model, order)

        def finish(run: _Run) -> None:
            submission = state.get("submission")
            if submission is None:
                return
            order = submission.order
            if submission.replayed or order.state is not OrderState.ACCEPTED:
                return
            run.events[:0] = list(submission.events)
            if run.failure is not None:
                run.events += self._fail(model, order.order_id, run.failure)
            if request.time_in_force is TimeInForce.IOC and not run.waiting:
                ended = self.orders.end_attempt(order.order_id)
                run.events += ended
                if ended:
                    model.withdraw(self.orders.order(order.order_id))
            # A match fills resting orders too (the ATS): settle every order a fill completed.
            run.events += self._settle_filled([order.order_id, *(f.order_id for f in run.fills)])
            self.check()

        run = self._drive(model, accept, finish)
        submission: Submission = state["submission"]
        if submission.replayed or submission.order.state is not OrderState.ACCEPTED:
            return submission
        if run.crash is not None:
            raise run.crash
        order_id = submission.order.order_id
        return Submission(self.orders.order(order_id), tuple(run.events), False)

    def submit_many(self, requests: Sequence[OrderRequest]) -> list[Submission]:
        """Submit ``requests`` one after another as one group commit, and return every submission.

        With ``Settings.group_commit`` (a store opened for it), each order but the last closes in a unit
        of work that does not wait for its own fsync: the next order's first unit — durable, as every
        unit that records a plan must be before its legs are sent — makes it durable with itself, and
        the last order closes durably. Nothing is returned before that last fsync, so no order is
        acknowledged before it is durable. Without group commit this is ``submit`` in a loop.
        """
        done: list[Submission] = []
        for index, request in enumerate(requests):
            self._lazy_close = index < len(requests) - 1
            try:
                done.append(self.submit(request))
            finally:
                self._lazy_close = False
        return done

    def _execute(self, model: IssuanceModel, order: Order) -> Plans:
        """Yield the model's plans for an accepted order, priced now (a price failure is the model's)."""
        now = utc(self.clock.now())
        reference = self.prices.reference_price(order.request.symbol, now)
        return (yield from model.execute(order, reference, self.calendar.status(now)))

    def _drive(
        self,
        model: IssuanceModel,
        decide: Callable[[], Plans],
        finish: Callable[[_Run], None],
    ) -> _Run:
        """Carry out a command's plans: each intended in one unit of work, sent, then closed in the next.

        The first unit of work runs ``decide`` (the command's own records, then the model's first
        plan); each later one closes the last plan (its entries, events and fills) and takes the
        model's next, and the last one runs ``finish``. So a command with one plan commits twice, one
        with none once. A model that raises while deciding ends the run with ``run.failure`` (and,
        when it is not a refusal, ``run.crash`` and a halted listing), after what was done is kept.
        """
        run = _Run()
        plans: Plans = no_plans()
        plan: Plan | None = None

        def take(outcome: Outcome | None) -> Plan | None:
            try:
                nxt = next(plans) if outcome is None else plans.send(outcome)
            except StopIteration:
                return None
            except DomainError as failure:
                self._model_failed(model, run, failure)
                return None
            except Exception as unexpected:
                self._model_failed(model, run, DomainError("MODEL_FAILED", repr(unexpected)), unexpected)
                return None
            if nxt is not None:
                self.executor.intend(nxt, utc(self.clock.now()))
            return nxt

        with self._unit():
            plans = decide()
            plan = take(None)
            if plan is None:
                finish(run)
                self._closing_lazily()
        while plan is not None:
            outcome = self.executor.send(plan)  # raises only when what happened is unknown: still pending
            with self._unit():
                if outcome.waiting:  # a firm quote: the plan stays pending until its investor settles
                    run.waiting = True
                else:
                    self._close(model, outcome, run)
                plan = take(outcome)  # the model hears how its plan went, then decides the next
                if plan is None:
                    finish(run)
                    self._closing_lazily()
        return run

    def _closing_lazily(self) -> None:
        """In a group commit, let the unit that closes an order (no plan left to send) skip its fsync."""
        if self._lazy_close:
            self.store.commit_lazily()

    @contextmanager
    def _unit(self) -> Iterator[None]:
        """Run one unit of work: its writes commit together, or none do.

        A refusal is raised before anything is written, so rolling it back leaves memory as the store
        is. Anything else (the store failing at commit, a bug) may leave the engine's folded state ahead
        of what committed: the engine then refuses every command until it is reopened from the store,
        which is the one true record (crash-only: a restart is the recovery).
        """
        self._usable()
        mirrored = dict(self._mirrored)  # a rolled-back unit un-books the transfers it mirrored
        try:
            with self.store.transaction():
                yield
        except InfrastructureError as broken:
            self._stale = f"{broken.code}: {broken.message}"
            self.executor.rolled_back()
            raise
        except DomainError:
            self._mirrored = mirrored
            self.executor.rolled_back()
            raise
        except BaseException as unexpected:
            self._stale = repr(unexpected)
            self.executor.rolled_back()
            raise
        self.executor.committed()

    def _usable(self) -> None:
        if self._stale is not None:
            raise DomainError(
                "TRANSACTION_ABORTED",
                f"a unit of work rolled back after the engine's state moved ({self._stale}); reopen the "
                "engine from the store",
            )

    def _model_failed(
        self, model: IssuanceModel, run: _Run, failure: DomainError, unexpected: Exception | None = None
    ) -> None:
        run.failure = failure
        symbol = model.listing.symbol
        if failure.code in BREAKING:  # part of a trade moved and could not be undone
            self.halt_minting(symbol, f"the {model.name} model: {failure.code}: {failure.message}")
        if isinstance(failure, InfrastructureError):
            run.crash = failure
            self.halt_minting(symbol, f"infrastructure failed in the {model.name} model: {failure}")
        elif unexpected is not None:
            run.crash = unexpected
            self.halt_minting(symbol, f"the model failed: {unexpected!r}")

    def _close(self, model: IssuanceModel | None, outcome: Outcome, run: _Run | None = None) -> bool:
        """Record a plan's outcome; when done, its entries, its model's events and its fills. Return
        whether it was refused (nothing moved)."""
        plan = outcome.plan
        now = utc(self.clock.now())
        self.executor.close(outcome, now)
        if outcome.done:
            for entry in plan.entries:
                self.store.post(entry)
            if model is not None:
                model.complete(plan)
                # A filled order settles in the unit of work that fills it: a kill after this commit
                # must not leave it filled and never settled.
                events = self._apply(model, plan.fills)
                events += self._settle_filled([f.order_id for f in plan.fills])
                if run is not None:
                    run.events += events
                    run.fills += plan.fills
            return False
        failure = outcome.failure
        assert failure is not None
        if failure.code in BREAKING and plan.symbol is not None:
            self._note_failure(f"{plan.key}: {failure.code}: {failure.message}")
            self.halt_minting(plan.symbol, f"plan {plan.key}: {failure.code}: {failure.message}")
        log.warning("plan refused", extra={"plan": plan.key, "code": failure.code})
        return True

    def _recover(self) -> None:
        """Finish every plan recorded before a crash (see ``app.executor``) before anything else runs."""
        for plan in self.executor.pending():
            model = None if plan.symbol is None else self._models.get(plan.symbol)
            if plan.symbol is not None and model is None:
                continue  # its listing is not open on this engine: it is finished when it reopens
            outcome = self.executor.recover(plan)
            if outcome.waiting:
                continue  # a firm quote neither settled nor expired: looked for again next time
            with self._unit():
                refused = self._close(model, outcome)
                if refused and model is not None:
                    for fill in plan.fills:
                        order = self.orders.order(fill.order_id)
                        if order.state.working and order.request.time_in_force is TimeInForce.IOC:
                            self._fail(
                                model,
                                fill.order_id,
                                outcome.failure
                                or DomainError("PLAN_REFUSED", f"plan {plan.key} was refused"),
                            )
                self._settle_filled([f.order_id for f in plan.fills])
            log.warning(
                "plan recovered", extra={"plan": plan.key, "done": outcome.done, "found": outcome.found}
            )

    def _instrument_of(self, symbol: Symbol | None) -> Instrument:
        if symbol is None:
            raise DomainError("NOT_LISTED", "a plan that mints or burns names its listing")
        return self.model(symbol).listing.instrument

    def _plan_events(self, symbol: Symbol | None) -> tuple[type, ...] | None:
        if symbol is None:
            return ()
        found = self._models.get(symbol)
        return None if found is None else found.plan_events

    @platform_command  # recovery may send another plan's legs: those blocks are the platform's own
    def book_settlements(self) -> tuple[OrderId, ...]:
        """Book the firm quotes the chain shows settled since the last look; return their orders.

        Each waiting plan (``app.executor``) is looked for on chain: one settled is closed with its
        records (entries, commitment, hedge, fill) in one unit of work, exactly once; one expired ends
        its order ``QUOTE_EXPIRED``. Then any ``QuoteSettled`` log the platform never issued halts the
        listing (``audit_settlements``). Every command and tick does the first part too.
        """
        waiting = self.executor.awaiting()
        self._recover()
        left = self.executor.awaiting()
        self.audit_settlements()
        with self._unit():
            self.check()
        return tuple(
            order_id
            for order_id in waiting
            if order_id not in left
            and self.orders.order(order_id).state in (OrderState.FILLED, OrderState.SETTLED)
        )

    def audit_settlements(self) -> int:
        """Halt every listing whose settlement contract settled a quote the platform never issued.

        Fail closed (``app.settlement_audit``): the stranger is recorded as a failure and the listing's
        minting halts with its quote id and transaction, for reconciliation. Return how many were found.
        """
        settlements: dict[Symbol, tuple[WalletAddress, int]] = {}
        for symbol, model in self._models.items():
            listed = self._state.listings.get(symbol)
            if isinstance(model, QuoteSettling) and listed is not None:
                settlements[symbol] = (model.settlement, listed.block)
        if not settlements:
            return 0
        latest = self.chain.block_number()
        with self._unit():
            strangers = self._audit.audit(
                settlements, self.chain.events, latest, self.executor.pending(), utc(self.clock.now())
            )
            for symbol, event in strangers:
                failure = unknown_quote(symbol, event)
                sentence = f"{failure.code}: {failure.message}"
                self._note_failure(sentence)
                self.halt_minting(symbol, sentence)
                log.error("unknown settlement", extra={"symbol": str(symbol), "tx": event.tx_hash})
        return len(strangers)

    @platform_command
    def cancel(self, order_id: OrderId, reason: str = "cancelled by the client") -> Order:
        """Cancel a working order and tell its model to forget it (not one whose firm quote is out)."""
        plan = self.executor.awaiting().get(order_id)
        if plan is not None:
            raise DomainError(
                "FIRM_QUOTE_OUTSTANDING",
                f"order {order_id} has a signed quote its investor may still settle ({plan.key}); "
                "it ends when the quote settles or expires",
            )
        with self._unit():
            order = self.orders.order(order_id)
            self.orders.cancel(order_id, reason)
            cancelled = self.orders.order(order_id)
            self.model(order.request.symbol).withdraw(cancelled)
            self.check()
        return cancelled

    @platform_command
    def tick(self) -> list[ModelFill]:
        """Do what is due at the clock's now, in this order.

        1. the chain's clock follows the platform's;
        2. orders whose time in force ran out expire (before any model may fill them);
        3. resting orders are decided again by compliance: an investor who is no longer eligible
           (KYC lapsed, sanctioned, struck off the whitelist) has the order cancelled with the reason
           (not one whose firm quote is out: the token's own compliance decides that settlement);
           firm quotes out are looked for on chain (booked if settled, ended if expired) and every
           settlement contract is audited for quotes the platform never issued;
        4. each model does what is due and fills waiting orders — never an IOC order (it had its one
           attempt), never a buy of a listing whose minting is halted; a model that fails is recorded
           and the others go on (a failure that is not a refusal halts its listing's minting);
        5. filled orders are settled, and every listing's backing is checked.
        """
        self._recover()
        with self._unit():
            self.sync_chain_time()
            self.mirror_transfers()
            self._expire_due()
            self._recheck_compliance()
        self._recover()  # the chain's time moved up: a firm quote out may have expired (or settled) since
        try:
            self.audit_settlements()
        except DomainError as failed:  # the audit must not stop time; it is tried again next tick
            log.error("settlement audit not done", extra={"code": failed.code, "reason": failed.message})
        done: list[ModelFill] = []
        for symbol, model in self._models.items():
            halted = symbol in self._halted
            dark = self.blacked_out(symbol) is not None  # the model still settles, but fills nothing
            working = [
                o
                for o in self.orders.working()
                if o.request.symbol == symbol
                and not dark
                and o.request.time_in_force is not TimeInForce.IOC
                and not (halted and o.request.side is Side.BUY)
            ]

            def due(model: IssuanceModel = model, working: list[Order] = working) -> Plans:
                return model.on_time(working)

            run = self._drive(model, due, lambda run: None)
            if run.failure is not None:
                failure = run.failure
                self._note_failure_unit(f"{symbol} on_time: {failure.code}: {failure.message}")
                log.error("model failed on time", extra={"symbol": str(symbol), "code": failure.code})
            done.extend(run.fills)
        with self._unit():
            self._settle_filled([f.order_id for f in done])
            self.check()
        return done

    def _note_failure_unit(self, sentence: str) -> None:
        with self._unit():
            self._note_failure(sentence)

    # -- checks --------------------------------------------------------------------------------

    def backing(self, symbol: Symbol) -> Backing:
        """Return the backing of one listing now."""
        listing = self.model(symbol).listing
        instrument = listing.instrument
        supply = self.chain.total_supply(instrument.token)
        balances = self._balances
        balances.add(self.store.entries(after_seq=balances.seq))  # only what was posted since
        return backing(
            listing, balances.balance, supply.value, self.chain.multiplier(instrument), self.clock.now()
        )

    def check(self) -> list[Backing]:
        """Check every listing's backing now; record (and log) any break. Return the backings."""
        found = [self.backing(symbol) for symbol in self._models]
        self.log.checks += 1
        for item in found:
            for sentence in item.breaks:
                self._note(BreakRecorded(utc(self.clock.now()), f"{utc(item.at).isoformat()} {sentence}"))
                log.error("reserve break", extra={"symbol": item.symbol, "break": sentence})
        return found

    @property
    def invariants_ok(self) -> bool:
        """Tell whether every check so far found every listing backed."""
        return not self.log.breaks

    def sync_chain_time(self) -> None:
        """Move a development chain's block time up to the clock (a real chain keeps its own time)."""
        dev = self.chain.dev
        if dev is None:
            return
        now = utc(self.clock.now()).replace(microsecond=0)  # the chain counts whole seconds
        if now > self.chain.block_time():
            dev.set_next_block_time(now)
            dev.mine()

    def token_balance(self, symbol: Symbol, wallet: WalletAddress) -> TokenAmount:
        """Return a wallet's raw token balance on chain."""
        return self.chain.balance_of(self.model(symbol).listing.instrument.token, wallet)

    # -- transfers made outside the platform -------------------------------------------------------

    def mirror_transfers(self) -> int:
        """Book the token transfers holders made outside the platform since the last look; return how many.

        Tokens are ERC-20s: a holder may send them to anyone the contracts allow (for the tracker
        token, anyone at all). The platform books what it moves itself; a Transfer in a block none of
        its commands mined was made by a holder, and is booked here as it happened — from the
        sender's account to the receiver's: an investor's ``investor_tokens`` account when the
        wallet is bound to one, else ``external_chain:holders:SYM`` (holders the platform does not
        know). Mints and burns are never mirrored: one made outside the platform is a reserve break
        for reconciliation to report, not a movement to book.
        """
        booked = 0
        latest = self.chain.block_number()
        for symbol, model in self._models.items():
            since = self._mirrored.get(symbol, latest)
            if since >= latest:
                continue
            listing = model.listing
            for event in self.chain.events(listing.instrument.token, since + 1, latest):
                if event.name != "Transfer" or self._is_own(event.block):
                    continue
                sender, receiver = event.args["sender"], event.args["receiver"]
                if ZERO_WALLET in (sender, receiver):
                    continue
                amount = event.args["value"].value
                if amount == 0:
                    continue
                entry = EntryDraft(
                    f"external-transfer:{symbol}:{event.tx_hash}:{event.log_index}",
                    self.clock.now(),
                    deliver(
                        listing,
                        self._holder_account(sender, symbol),
                        self._holder_account(receiver, symbol),
                        amount,
                    ),
                    f"{amount} {symbol} moved on chain outside the platform",
                    {
                        "tx_hash": event.tx_hash,
                        "block": str(event.block),
                        "from": sender.value,
                        "to": receiver.value,
                    },
                )
                if self.store.post(entry).created:
                    booked += 1
            self._mirrored[symbol] = latest
        return booked

    def _holder_account(self, wallet: WalletAddress, symbol: Symbol) -> Account:
        owner = self.desk.investors.book.owner_of(wallet)
        if owner is not None:
            return investor_tokens(owner.investor_id, symbol)
        return Account.of(AccountKind.EXTERNAL_CHAIN, "holders", symbol)

    def _own_blocks(self, before: int, after: int) -> None:
        if after <= before:
            return
        start = before + 1
        if self._own and self._own[-1][1] >= start - 1:  # adjacent or overlapping: extend the last range
            start = min(start, self._own[-1][0])
            self._own.pop()
        self._own.append((start, after))

    def _is_own(self, block: int) -> bool:
        index = bisect_right(self._own, (block, float("inf"))) - 1
        return index >= 0 and self._own[index][0] <= block <= self._own[index][1]

    # -- internals -----------------------------------------------------------------------------

    def _venue(self, model: IssuanceModel) -> VenueCheck:
        """Return the venue check of ``model``, preceded by the minting halt of its listing."""
        halted = self._halted.get(model.listing.symbol)

        blackout = self.blacked_out(model.listing.symbol)

        def check(request: OrderRequest, reference: ReferencePrice, status: MarketStatus) -> Refusal | None:
            if blackout is not None:
                return Refusal(BLACKOUT, f"{request.symbol} does not trade now: {blackout}")
            if halted is not None and request.side is Side.BUY:
                return Refusal(
                    ModelReason.MINTING_HALTED,
                    f"new {request.symbol} tokens are halted until reserves reconcile: {halted}",
                )
            return model.refusal(request, reference, status)

        return check

    def _apply(self, model: IssuanceModel, fills: Sequence[ModelFill]) -> list[OrderEvent]:
        """Apply each fill to its order; a fill the desk refuses after the chain moved halts the listing.

        Every fill a model returns has already settled on chain and in the ledger, so a refusal here
        (expired, overfilled, through the limit, a fill id reused) means the order record and the books
        disagree: it is recorded as a failure and the listing's minting is halted for reconciliation,
        and the other fills are still applied.
        """
        events: list[OrderEvent] = []
        for item in fills:
            try:
                applied = self.orders.apply_fill(item.order_id, item.fill)
            except DomainError as refused:
                sentence = f"fill {item.fill.fill_id} of {item.order_id} settled but refused: {refused}"
                self._note_failure(sentence)
                self.halt_minting(model.listing.symbol, sentence)
                continue
            if applied:
                order = self.orders.order(item.order_id)
                request = order.request
                fill = item
                self._note(
                    FillRecorded(
                        utc(self.clock.now()),
                        request.symbol,
                        model.name,
                        request.investor,
                        order.received_at,
                        fill.order_id,
                        fill.fill,
                        fill.reference,
                        fill.fee,
                        fill.off_hours,
                        fill.trade_id,
                    )
                )
            events.extend(applied)
        return events

    def _expire_due(self) -> None:
        for event in self.orders.expire_due():
            if isinstance(event, OrderExpired):
                order = self.orders.order(event.order_id)
                self.model(order.request.symbol).withdraw(order)

    def _recheck_compliance(self) -> None:
        """Cancel resting orders whose investor compliance would now refuse (with the rule's code)."""
        now = utc(self.clock.now())
        # A signed firm quote can still be settled by its investor: cancelling its order here would
        # refuse a fill that happened. The token's compliance hook decides that mint on chain instead.
        awaiting = self.executor.awaiting()
        for order in self.orders.working():
            request = order.request
            if request.symbol not in self._models or order.order_id in awaiting:
                continue
            decision = self._compliance.decide(request, self.prices.reference_price(request.symbol, now), now)
            if decision.allowed:
                continue
            first = decision.violations[0]
            self.cancel(order.order_id, f"{first.code.name}: {first.message}")

    def _fail(self, model: IssuanceModel, order_id: OrderId, failure: DomainError) -> list[OrderEvent]:
        sentence = f"{failure.code}: {failure.message}"
        self._note_failure(f"{order_id}: {sentence}", order_id)
        if failure.code in BREAKING:
            self.halt_minting(model.listing.symbol, f"order {order_id}: {sentence}")
        log.error("order execution failed", extra={"order_id": str(order_id), "code": failure.code})
        if not self.orders.order(order_id).state.working:
            return []
        events = list(self.orders.cancel(order_id, sentence))
        model.withdraw(self.orders.order(order_id))
        return events

    def _settle_filled(self, order_ids: Sequence[OrderId]) -> list[OrderEvent]:
        events: list[OrderEvent] = []
        for order_id in dict.fromkeys(order_ids):
            if self.orders.order(order_id).state is OrderState.FILLED:
                events.extend(self.orders.settle(order_id))
        return events


def investor_label(investor: InvestorId) -> str:
    """Return the key label of the wallet the engine makes for ``investor``."""
    return f"investor:{investor}"


def _deposits_booked(store: Store) -> int:
    """Return the highest deposit number the ledger holds (keys ``deposit:INVESTOR:N``)."""
    highest = 0
    for entry in store.entries():
        if entry.key.startswith("deposit:"):
            number = entry.key.rsplit(":", 1)[1]
            if number.isdigit():
                highest = max(highest, int(number))
    return highest


def open_engine(
    platform: Platform,
    *,
    fees: FeeSchedule | None = None,
    limits: RiskLimits | None = None,
    compliance: Callable[[ComplianceDesk], ComplianceCheck] = EngineCompliance,
    brokers: Callable[[Symbol], Broker] | None = None,
    builders: Mapping[ModelName, ModelBuilder] | None = None,
) -> IssuanceEngine:
    """Return an engine over the platform's store, chain, clock and market, one simulated broker per model.

    Each model trades through its own broker account (by default a new ``SimulatedBroker``), as an
    issuer runs one account per programme, so one model's fills and custody never mix with another's.
    ``compliance`` builds the order check from the desk (the engine's decision unless replaced).
    With ``builders``, the listings the store holds are reopened (a restart: see the module doc) on
    a chain that kept its state (``Platform.keeps_chain``); ``brokers`` is then asked, once per
    listing, for the account that listing trades through (by default ``Platform.broker_account``).
    """
    keeps = platform.keeps_chain()
    desk = open_desk(platform, persistent=keeps)  # a kept in-process chain's contracts are reused too
    return IssuanceEngine(
        desk,
        platform.store,
        platform.chain,
        platform.clock,
        platform.calendar,
        platform.prices,
        brokers or platform.broker_account,
        fees=fees or fee_schedule(platform.settings),
        limits=limits or risk_limits(platform.settings),
        compliance=compliance(desk),
        builders=builders,
        chain_persists=keeps,
    )


def fee_schedule(settings: Settings) -> FeeSchedule:
    """Return the fee schedule the settings describe."""
    return FeeSchedule(settings.fee_spread_bps, settings.fee_off_hours_spread_bps, settings.fee_fixed_usd)


def risk_limits(settings: Settings) -> RiskLimits:
    """Return the risk limits the settings describe."""
    return RiskLimits(
        window=timedelta(hours=settings.risk_window_hours),
        per_investor=settings.risk_per_investor_usd,
        per_symbol=settings.risk_per_symbol_usd,
        global_notional=settings.risk_global_usd,
        price_band=settings.price_band_bps,
    )
