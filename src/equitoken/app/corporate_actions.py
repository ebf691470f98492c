"""The corporate-action service: splits and cash dividends applied exactly once, on a running engine.

``CorporateActionService(engine)`` applies each action through the pure lifecycle
(``corporate_actions.lifecycle``) and carries its effects out on the engine's ports, per model:

- **split** (at the ex-date's regular open): the broker's record of the shares changes first
  (``apply_split`` of a broker that offers it — it refuses, before anything moves, while the
  symbol has unsettled fills or open broker orders; direct ownership has the register in
  ``custody:SYM`` only); the symbol's working orders are cancelled with the action in the reason
  (their quantities and limits were in old shares; instant quotes are settled atomically, so none
  is ever open); ``custody:SYM`` is adjusted by the posting rule; the multiplier is scheduled on
  chain from that instant. Refused before anything moves while the ledger has shares in flight
  or committed (``SPLIT_IN_FLIGHT``): the books stay exact because nothing is half-settled.
- **cash dividend**: at the ex-date open (the token's record instant — tokens settle at once, so
  whoever holds when the share goes ex bore the price drop; the underlying's record date comes
  ``settlement cycle − 1`` days later) the holders are snapshotted from the chain
  (``balances_at`` the current block) with the issuer's shares; on the pay date (first session
  instant on or after its open) the dividend is passed on by the listing's treatment —
  **paid** in stablecoin to the holders of record (direct ownership; unclaimed and dust rules in
  ``corporate_actions.dividends``; ``release_unclaimed`` pays a held dividend once the wallet
  can receive), or **reinvested** (inventory, instant): the broker credits the
  dividend on the issuer's shares, the withholding goes to the tax account, the net (plus the carry
  of earlier reinvestments) buys shares at once — at the record instant itself (the ex-date open),
  not on the pay date, so only the holders of record share in it; the funding account fronts the
  cash until the broker pays — and the multiplier rises to exactly (shares after) / tokens
  (``corporate_actions.reinvest``).

Exactly once, across restarts: every step is recorded in the event journal (stream
``corporate_actions``: ``ActionApplied`` keyed ``ca:{action_id}``, ``DividendPaid`` keyed
``ca-paid:{action_id}``) *after* its effects, and every effect is idempotent on its own (ledger
keys per action, the broker's split per instant, the chain's multiplier nonce, the reinvestment's
client order id), so a retry after a crash finishes what was begun and a second application finds
the action in the journal and changes nothing. A stablecoin payment is posted before it is minted,
so a crash between the two shows as a reconciliation difference, never as a double payment.

Call ``due()`` at each instant before ``engine.tick()``: the engine checks the reserve invariant
after its commands, and the multiplier and custody change together inside one ``due()``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Protocol, runtime_checkable

from equitoken.app import announcements
from equitoken.app.issuance import FUNDING, IssuanceEngine
from equitoken.corporate_actions import dividends, lifecycle, postings, reinvest
from equitoken.corporate_actions.actions import CashDividend, CorporateAction, Split, from_bar
from equitoken.corporate_actions.effects import (
    AdjustCustody,
    CancelOpenOrders,
    Distribute,
    ScheduleMultiplier,
    SnapshotHolders,
    Treatment,
)
from equitoken.corporate_actions.events import (
    CORPORATE_ACTION_EVENTS,
    ActionApplied,
    CashPaid,
    CorporateActionsState,
    DividendPaid,
    DividendRecord,
    Reinvested,
    ReinvestmentPlanned,
    SplitFigures,
    WalletAmount,
)
from equitoken.corporate_actions.lifecycle import Applied, InstrumentVersion
from equitoken.domain.codec import to_dict
from equitoken.domain.errors import DomainError
from equitoken.domain.ids import Symbol, WalletAddress
from equitoken.domain.instants import utc
from equitoken.domain.trading import Side, settlement_cycle
from equitoken.domain.values import Bps, Money, Shares, canonical_decimal, exact
from equitoken.issuance import journal
from equitoken.issuance.models import ModelName
from equitoken.issuance.models.books import custody, hedge_pending, in_flight
from equitoken.ledger.entries import EntryDraft
from equitoken.ports.broker import BrokerOrder, CustodyPosition
from equitoken.ports.chain import CorporateActionsChain, DevChain, Instrument, MultiplierUpdate

log = logging.getLogger(__name__)

STREAM = "corporate_actions"
APPLIED = ActionApplied.__name__
PAID = DividendPaid.__name__
PLANNED = ReinvestmentPlanned.__name__
TREATMENTS: Mapping[ModelName, Treatment] = {
    ModelName.DIRECT: Treatment.PAY,
    ModelName.INVENTORY: Treatment.REINVEST,
    ModelName.INSTANT: Treatment.REINVEST,
}
NON_TREATY = Bps(3000)
"""US withholding on dividends paid to a foreign issuer without a treaty rate: 30 %."""


@runtime_checkable
class SplitRecord(Protocol):
    """A broker that applies a split to its custody record when told (the simulated broker does)."""

    def apply_split(self, symbol: Symbol, ratio: Decimal, effective_at: datetime) -> CustodyPosition:
        """Make every settled share of ``symbol`` ``ratio`` shares as of ``effective_at``."""
        ...


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one step did: the action, the step, the version after it, and the figures, as text."""

    action_id: str
    symbol: Symbol
    step: str
    """``split``, ``record`` (dividend snapshot), ``pay`` or ``reinvest``, or ``repeat``."""
    at: datetime
    version: int
    multiplier: Decimal
    figures: Mapping[str, Any] = field(default_factory=dict)


class CorporateActionService:
    """Apply splits and cash dividends to the engine's listings, once each (rules: module doc)."""

    def __init__(
        self,
        engine: IssuanceEngine,
        *,
        withholding: Bps = NON_TREATY,
        treatments: Mapping[ModelName, Treatment] = TREATMENTS,
        pad: Bps = reinvest.PAD,
    ) -> None:
        self._engine = engine
        self._withholding = withholding
        self._treatments = treatments
        self._pad = pad
        self._announced: dict[str, CorporateAction] = {}
        self.failures: list[str] = []
        """Steps ``due`` could not take (each retried at the next ``due``), with the refusal."""
        self._seen_seq = 0
        self._state = CorporateActionsState()
        # What was announced through the service before a restart is applied after it, as if never
        # stopped: the announcements are journaled (``app.announcements``), read again here.
        self.announce(announcements.recorded(engine.store))

    def _journal(self) -> CorporateActionsState:
        """Fold the journal's new events into the state (each event read once, ever); return it."""
        for stored in self._engine.store.events(STREAM, after_seq=self._seen_seq):
            self._state.apply(journal.decode(stored, CORPORATE_ACTION_EVENTS))
            self._seen_seq = stored.seq
        return self._state

    # -- reads ---------------------------------------------------------------------------------

    def version(self, symbol: Symbol) -> InstrumentVersion:
        """Return ``symbol``'s instrument version as the journal records it."""
        return self._journal().version(symbol)

    def applied(self, action_id: str) -> bool:
        """Tell whether ``action_id`` has been applied (its ex-date step is in the journal)."""
        return action_id in self._journal().applied

    def paid(self, action_id: str) -> bool:
        """Tell whether the dividend ``action_id`` has been paid or reinvested."""
        return action_id in self._journal().paid

    def carry(self, symbol: Symbol) -> Money:
        """Return the net dividends of ``symbol`` not reinvested yet (owed to holders, see ``reinvest``)."""
        return self._journal().carries.get(symbol, Money.zero())

    # -- feeding -------------------------------------------------------------------------------

    def actions(self, start: date, end: date) -> list[CorporateAction]:
        """Return every split and dividend the bars announce for the listed symbols, ex-date order."""
        engine = self._engine
        found: list[CorporateAction] = []
        for symbol in engine.models():
            for bar in engine.prices.bars(symbol, start, end):
                found.extend(from_bar(bar, engine.calendar))
        return sorted(found, key=_order)

    def announce(self, actions: Iterable[CorporateAction]) -> None:
        """Register actions for ``due`` to apply when their instants come (announcing twice is harmless).

        A split blacks its symbol out from the open ``cycle + 1`` sessions before the ex-date (so every
        trade has settled by then) until the split is applied: no order is ever taken or filled in
        old shares at new prices, and the split never meets shares in flight.
        """
        for action in actions:
            self._announced.setdefault(action.action_id, action)
            if isinstance(action, Split) and not self.applied(action.action_id):
                calendar = self._engine.calendar
                lead = settlement_cycle(action.ex_date) + 1
                start = calendar.session_bounds(calendar.add_trading_days(action.ex_date, -lead))[0]
                reason = f"{action.label} split of {action.symbol} goes ex on {action.ex_date}"
                self._engine.black_out(action.symbol, start, reason)

    def declare(self, action: CorporateAction) -> CorporateAction:
        """Announce one action on the record (journaled first, so a restarted service applies it too).

        The same terms again return the action already announced. Refused: an unlisted symbol
        (``NOT_LISTED``), an ex-date that is no trading day (``NOT_A_TRADING_DAY``) or whose open has
        come (``EX_DATE_PASSED``: an action is announced ahead), other terms under an id already
        announced (``ACTION_EXISTS``), a dividend paid on no trading day.
        """
        engine = self._engine
        engine.model(action.symbol)
        known = self._announced.get(action.action_id)
        if known is not None:
            if known != action:
                raise DomainError(
                    "ACTION_EXISTS", f"{action.action_id} was announced with other terms: {known}"
                )
            return known
        days = [action.ex_date] if isinstance(action, Split) else [action.ex_date, action.pay_date]
        for day in days:
            if not engine.calendar.is_trading_day(day):
                raise DomainError("NOT_A_TRADING_DAY", f"{day} is not a trading day")
        now = utc(engine.clock.now())
        if self._ex_open(action) <= now:
            raise DomainError(
                "EX_DATE_PASSED",
                f"{action.action_id} would go ex at {self._ex_open(action).isoformat()}, already past",
            )
        announcements.record(engine.store, now, action)
        self.announce([action])
        return action

    def announced(self) -> list[CorporateAction]:
        """Return every announced action, in ex-date order."""
        return sorted(self._announced.values(), key=_order)

    def announced_action(self, action_id: str) -> CorporateAction:
        """Return the announced action ``action_id`` (``UNKNOWN_ACTION`` if none is)."""
        found = self._announced.get(action_id)
        if found is None:
            raise DomainError("UNKNOWN_ACTION", f"no corporate action {action_id!r} was announced")
        return found

    def stage(self, action: CorporateAction) -> str:
        """Return where ``action`` stands: ``announced``, ``effective`` (its ex-date open has come, not
        applied yet), ``applied`` (a split applied, a dividend's holders recorded) or ``paid``."""
        if self.paid(action.action_id):
            return "paid"
        if self.applied(action.action_id):
            return "applied"
        if self._ex_open(action) <= utc(self._engine.clock.now()):
            return "effective"
        return "announced"

    def feed(self, start: date, end: date) -> list[CorporateAction]:
        """Announce every action the bars hold between ``start`` and ``end``; return them."""
        found = self.actions(start, end)
        self.announce(found)
        return found

    def due(self) -> list[Outcome]:
        """Apply every announced action whose ex-date open has come, then pay what is payable now."""
        now = utc(self._engine.clock.now())
        done: list[Outcome] = []
        for action in sorted(
            self._announced.values(), key=lambda a: (a.ex_date, isinstance(a, CashDividend))
        ):
            if self._ex_open(action) <= now and not self.applied(action.action_id):
                try:
                    done.append(self.apply(action))
                except DomainError as refused:  # one symbol's refusal must not hold up the others
                    self.failures.append(f"{action.action_id}: {refused.code}: {refused.message}")
                    log.error(
                        "corporate action not applied",
                        extra={"action": action.action_id, "code": refused.code},
                    )
        status = self._engine.calendar.status(now)
        for action in self._announced.values():
            if not isinstance(action, CashDividend) or not status.open:
                continue
            pay_open = self._engine.calendar.session_bounds(action.pay_date)[0]
            recorded = self._journal().applied.get(action.action_id)
            # A reinvestment belongs to the holders of the record instant: it is bought and passed on
            # at once (the first session instant from the ex-date open), not on the pay date, so a
            # token bought after the ex-date — at the ex-dividend price — never shares in it. A cash
            # dividend is paid on its pay date to the holders of record.
            reinvesting = (
                recorded is not None
                and recorded.dividend is not None
                and recorded.dividend.treatment is Treatment.REINVEST
            )
            due_now = reinvesting or pay_open <= now
            if due_now and recorded is not None and not self.paid(action.action_id):
                try:
                    done.append(self.pay(action))
                except DomainError as refused:
                    self.failures.append(f"{action.action_id}: {refused.code}: {refused.message}")
                    log.error("dividend not paid", extra={"action": action.action_id, "code": refused.code})
        return done

    # -- applying ------------------------------------------------------------------------------

    def apply(self, action: CorporateAction, expected_version: int | None = None) -> Outcome:
        """Apply ``action`` now (at or after its ex-date open), once; a repeat changes nothing.

        ``expected_version`` is the version the caller wrote the action against (the current one if
        omitted): another version is refused with ``WRONG_VERSION``, nothing applied.
        """
        engine = self._engine
        model = engine.model(action.symbol)
        now = utc(engine.clock.now())
        if now < self._ex_open(action):
            raise DomainError("NOT_DUE", f"{action.action_id} goes ex at {self._ex_open(action).isoformat()}")
        current = self.version(action.symbol)
        kind = "split" if isinstance(action, Split) else "dividend"
        for event in list(self._journal().applied.values()):
            if (
                event.symbol == action.symbol
                and event.kind == kind
                and event.ex_date == action.ex_date
                and event.action_id != action.action_id
            ):
                # The same event under another id (a re-keyed feed, a typo) must not apply twice.
                raise DomainError(
                    "DUPLICATE_ACTION",
                    f"a {kind} of {action.symbol} going ex on {action.ex_date} was already applied as "
                    f"{event.action_id}",
                )
        expected = current.version if expected_version is None else expected_version
        treatment = self._treatments[model.name]
        outcome = lifecycle.apply(
            current, action, expected, treatment=treatment, withholding=self._withholding
        )
        if outcome.repeated:
            return Outcome(
                action.action_id, action.symbol, "repeat", now, current.version, current.multiplier
            )
        engine.sync_chain_time()
        split: SplitFigures | None = None
        record: DividendRecord | None = None
        if isinstance(action, Split):
            split = self._split(action, outcome)
            engine.lift_blackout(action.symbol)
            step = "split"
        else:
            record = self._record(action, outcome)
            step = "record"
        after = outcome.version
        applied = ActionApplied(
            action.action_id, action.symbol, after.version, after.multiplier, action.ex_date, split, record
        )
        journal.append(engine.store, STREAM, f"ca:{action.action_id}", now, applied)
        figures = {"kind": applied.kind} | _figures(split or record)
        engine.check()
        log.info("corporate action applied", extra={"action": action.action_id, "step": step})
        return Outcome(action.action_id, action.symbol, step, now, after.version, after.multiplier, figures)

    def pay(self, action: CashDividend) -> Outcome:
        """Pay or reinvest the dividend ``action`` now (in session, on or after its pay date), once."""
        engine = self._engine
        now = utc(engine.clock.now())
        applied = self._journal().applied.get(action.action_id)
        recorded = None if applied is None else applied.dividend
        if recorded is None:
            raise DomainError("NOT_RECORDED", f"{action.action_id} has no record-date snapshot yet")
        current = self.version(action.symbol)
        if self.paid(action.action_id):
            return Outcome(
                action.action_id, action.symbol, "repeat", now, current.version, current.multiplier
            )
        if not engine.calendar.status(now).open:
            raise DomainError("MARKET_CLOSED", f"{action.action_id} is paid in a regular session")
        engine.sync_chain_time()
        cash: CashPaid | None = None
        reinvested: Reinvested | None = None
        if recorded.treatment is Treatment.PAY:
            cash = self._pay(action, recorded)
            version, multiplier, step = current.version, current.multiplier, "pay"
        else:
            reinvested = self._reinvest(action, recorded, current)
            version, multiplier, step = current.version + 1, reinvested.multiplier, "reinvest"
        paid = DividendPaid(action.action_id, action.symbol, version, multiplier, cash, reinvested)
        journal.append(engine.store, STREAM, f"ca-paid:{action.action_id}", now, paid)
        figures = _figures(cash or reinvested)
        engine.check()
        return Outcome(action.action_id, action.symbol, step, now, version, multiplier, figures)

    def release_unclaimed(self, action_id: str) -> dict[WalletAddress, Money]:
        """Pay the held dividends of ``action_id`` to every wallet that can receive now; return them.

        A holder who could not receive on the pay date (frozen, sanctioned, unbound) is owed the net
        from ``issuer_cash:MODEL:unclaimed``; once the wallet can receive, this pays it, once (ledger
        key per wallet), and what still cannot be received stays held.
        """
        engine = self._engine
        paid = self._journal().paid.get(action_id)
        if paid is None or paid.cash is None or not paid.cash.held:
            return {}
        symbol = paid.symbol
        model = engine.model(symbol)
        name, instrument = model.name.value, model.listing.instrument
        released: dict[WalletAddress, Money] = {}
        for held in paid.cash.held:
            wallet, net = held.wallet, Money(held.amount)
            key = f"ca:{action_id}:release:{wallet}"
            owner = engine.desk.investors.book.owner_of(wallet)
            if engine.store.entry(key) is not None or owner is None or net.is_zero():
                continue
            if engine.desk.sanctions.screen(owner) or engine.desk.sanctions.screen_wallet(wallet):
                continue
            if engine.chain.is_frozen(instrument, wallet):
                continue
            entry = EntryDraft(
                key,
                utc(engine.clock.now()),
                postings.unclaimed_released(name, owner.investor_id, net),
                f"{symbol} dividend {action_id} held for {owner.investor_id}: released {net}",
                {"action_id": action_id, "wallet": str(wallet)},
            )
            engine.pay_out(wallet, net, entry, note=f"held dividend {action_id} to {wallet}")
            released[wallet] = net
        return released

    # -- splits --------------------------------------------------------------------------------

    def _split(self, action: Split, outcome: Applied) -> SplitFigures:
        engine, symbol = self._engine, action.symbol
        listing = engine.model(symbol).listing
        share = listing.share
        moving = engine.store.balance(in_flight(symbol), share)
        pending = engine.store.balance(hedge_pending(symbol), share)
        if moving != 0 or pending != 0:
            raise DomainError(
                "SPLIT_IN_FLIGHT",
                f"{symbol} has {canonical_decimal(moving)} shares in flight and {canonical_decimal(pending)}"
                f" committed: a split waits until they settle",
            )
        # Books and broker take the ex-date open (so a retry names the same instant); the chain takes
        # the latest block's time if later, since it refuses to schedule into its past.
        ex_open = self._ex_open(action)
        at = max(ex_open, engine.chain.block_time())
        key = f"ca:{action.action_id}:custody"
        cancel = next(e for e in outcome.effects if isinstance(e, CancelOpenOrders))
        adjust = next(e for e in outcome.effects if isinstance(e, AdjustCustody))
        schedule = next(e for e in outcome.effects if isinstance(e, ScheduleMultiplier))
        held = engine.store.balance(custody(symbol), share)
        # The broker first: it checks its own record whole (nothing in flight, no open order, no
        # fraction) and refuses before anything else has moved; it is idempotent per instant.
        broker = engine.broker(symbol)
        if isinstance(broker, SplitRecord):
            broker.apply_split(symbol, adjust.ratio, ex_open)
        cancelled = 0
        for order in engine.orders.working():
            if order.request.symbol == symbol:
                engine.cancel(order.order_id, cancel.reason)
                cancelled += 1
        lines = postings.split(symbol, held, adjust.ratio)
        if lines and engine.store.entry(key) is None:  # posted before a crash: done
            engine.store.post(
                EntryDraft(
                    key,
                    ex_open,
                    lines,
                    f"{action.label} split of {symbol}: custody {held} × {adjust.ratio}",
                    {"action_id": action.action_id, "ratio": canonical_decimal(adjust.ratio)},
                )
            )
        self._schedule(listing.instrument, schedule.multiplier, at, schedule.nonce)
        return SplitFigures(action.ratio, cancelled)

    def _schedule(self, instrument: Any, multiplier: Decimal, at: datetime, nonce: int) -> None:
        chain = self._engine.chain
        same = [u for u in chain.multiplier_history(instrument) if u.nonce == nonce]
        if same and same[0].multiplier == multiplier:
            return  # scheduled before a crash: the nonce and the multiplier say so
        if same or any(u.nonce > nonce for u in chain.multiplier_history(instrument)):
            # The chain holds another multiplier under this nonce (or a later one): the journal and the
            # chain disagree — a step that crashed after scheduling was not finished. Fail closed.
            symbol = instrument.symbol
            reason = f"multiplier nonce {nonce} of {symbol} is taken on chain by another action"
            self._engine.halt_minting(symbol, reason)
            raise DomainError("MULTIPLIER_NONCE_CONFLICT", reason + "; finish or reconcile it first")
        schedule_multiplier(chain, chain.dev, instrument, multiplier, at, nonce)

    # -- dividends -----------------------------------------------------------------------------

    def _record(self, action: CashDividend, outcome: Applied) -> DividendRecord:
        engine, symbol = self._engine, action.symbol
        listing = engine.model(symbol).listing
        backing = engine.backing(symbol)
        snapshot = next(e for e in outcome.effects if isinstance(e, SnapshotHolders))
        plan = next(e for e in outcome.effects if isinstance(e, Distribute))
        # The holders at the record instant (the ex-date open), however late this step runs.
        block = engine.chain.block_at(self._ex_open(action))
        balances = engine.chain.balances_at(listing.instrument.token, block)
        return DividendRecord(
            action.per_share,
            plan.treatment,
            plan.withholding.value,
            block,
            snapshot.record,
            plan.pay_date,
            backing.multiplier,
            backing.held,
            tuple(
                WalletAmount(w, a.value) for w, a in sorted(balances.items(), key=lambda item: str(item[0]))
            ),
        )

    def _pay(self, action: CashDividend, recorded: DividendRecord) -> CashPaid:
        """Pay the holders of record in stablecoin; hold what cannot be received; post every leg."""
        engine, symbol = self._engine, action.symbol
        model = engine.model(symbol)
        multiplier = recorded.record_multiplier
        rate = Bps(recorded.withholding)
        with exact():
            holdings = {h.wallet: h.amount * multiplier for h in recorded.holders}
        owners = {w: engine.desk.investors.book.owner_of(w) for w in holdings}
        instrument = model.listing.instrument

        def can_receive(wallet: WalletAddress) -> bool:
            owner = owners[wallet]
            return (
                owner is not None
                and not engine.desk.sanctions.screen(owner)
                and not engine.desk.sanctions.screen_wallet(wallet)
                and not engine.chain.is_frozen(instrument, wallet)
            )

        split = dividends.distribute(holdings, action.per_share, rate, can_receive)
        name = model.name.value
        now = self._pay_open(action)
        funded = f"ca:{action.action_id}:funded"
        lines = postings.dividend_funded(name, split.gross, split.withheld, split.unclaimed_total)
        # No holder of record (every token sold before the record instant), or a gross below a cent:
        # nothing moves, and an entry of no postings would be refused (UNBALANCED_ENTRY) at every tick.
        if lines and engine.store.entry(funded) is None:
            engine.store.post(
                EntryDraft(
                    funded,
                    now,
                    lines,
                    f"{symbol} dividend {action.per_share}/sh: gross {split.gross},"
                    f" withheld {split.withheld}, unclaimed {split.unclaimed_total}, dust {split.dust}",
                    {"action_id": action.action_id, "dust": str(split.dust.amount)},
                )
            )
        for payment in split.paid:
            owner = owners[payment.wallet]
            assert owner is not None  # can_receive said so
            if payment.net.is_zero():
                continue
            key = f"ca:{action.action_id}:pay:{payment.wallet}"
            if engine.store.entry(key) is not None:
                continue  # paid before a crash: the entry posts only with its mint (the outbox's rule)
            entry = EntryDraft(
                key,
                now,
                postings.dividend_paid(name, owner.investor_id, payment.net),
                f"{symbol} dividend to {owner.investor_id}: {payment.net} on {payment.shares} shares",
                {"action_id": action.action_id, "wallet": str(payment.wallet)},
            )
            engine.pay_out(payment.wallet, payment.net, entry, note=f"dividend {action.action_id}")
        return CashPaid(
            split.gross.amount,
            split.withheld.amount,
            split.paid_total.amount,
            split.unclaimed_total.amount,
            split.dust.amount,
            tuple(WalletAmount(p.wallet, p.net.amount) for p in split.paid),
            tuple(WalletAmount(p.wallet, p.net.amount) for p in split.unclaimed),
        )

    def _reinvest(
        self, action: CashDividend, recorded: DividendRecord, current: InstrumentVersion
    ) -> Reinvested:
        """Take the dividend on the issuer's shares, buy shares with the net now, raise the multiplier."""
        engine, symbol = self._engine, action.symbol
        model = engine.model(symbol)
        books = engine.broker_books(symbol)
        if books is None:
            raise DomainError("NO_BROKER", f"{symbol} has no broker to reinvest through")
        funding = FUNDING[model.name]
        name = model.name.value
        rate = Bps(recorded.withholding)
        due = dividends.entitlement(recorded.issuer_shares, action.per_share, rate)
        received = f"ca:{action.action_id}:received"
        lines = postings.dividend_received(funding, name, due.gross, due.withheld, due.dust)
        if lines and engine.store.entry(received) is None:  # nothing of record, nothing to post
            engine.store.post(
                EntryDraft(
                    received,
                    # The issuer's entitlement is fixed at the record instant; the broker's cash follows on
                    # the pay date (the funding account fronts the purchase until then).
                    utc(engine.clock.now()),
                    lines,
                    f"{symbol} dividend {action.per_share}/sh on {recorded.issuer_shares} shares: gross"
                    f" {due.gross}, withheld {due.withheld}, dust {due.dust}",
                    {"action_id": action.action_id},
                )
            )
        now = utc(engine.clock.now())
        planned = self._planned(action.action_id)
        if planned is None:  # the plan is journaled before the order: a retry buys by the same plan
            backing = engine.backing(symbol)
            budget = due.net + self.carry(symbol)
            reference = engine.prices.reference_price(symbol, now)
            if reference.stale:
                raise DomainError("STALE_PRICE", f"no fresh {symbol} price to reinvest at")
            if backing.tokens == 0:
                # No token outstanding: there is no one to pass a purchase on to. Nothing is bought;
                # what the budget holds waits in the carry for the holders of a later one.
                purchase = reinvest.ReinvestPlan(Shares(0), current.multiplier, Shares(0))
            else:
                purchase = reinvest.plan(backing.tokens, backing.held, budget, reference.price, self._pad)
            price = reference.price.amount
            planned = ReinvestmentPlanned(
                action.action_id, symbol, purchase.shares, purchase.multiplier, purchase.step, budget, price
            )
            journal.append(engine.store, STREAM, f"ca-plan:{action.action_id}", now, planned)
        else:
            purchase = reinvest.ReinvestPlan(planned.shares, planned.multiplier, planned.step)
            budget, price = planned.budget, planned.price
        cost = Money.zero()
        bought = Shares(0)
        if not purchase.shares.is_zero():
            order = BrokerOrder(f"reinvest:{action.action_id}", symbol, Side.BUY, purchase.shares)
            state = books.place(order)
            if state.is_open:  # it must fill now, in session: anything else waits in the carry
                state = books.cancel(order.client_order_id)
            filled = sum((f.quantity.value for f in state.fills), Decimal(0))
            if state.fills and filled != purchase.shares.value:
                # The multiplier is exact for the planned quantity only: a part-fill cannot be passed on
                # exactly. Fail closed: the shares stay booked, minting stops until reconciled.
                reason = f"reinvestment {order.client_order_id} filled {filled} of {purchase.shares.value}"
                engine.halt_minting(symbol, reason)
                raise DomainError("REINVESTMENT_INCOMPLETE", reason)
            if state.fills:
                cost = Money(sum((f.notional.amount for f in state.fills), Decimal(0)))
                bought = purchase.shares
                self._schedule(model.listing.instrument, purchase.multiplier, now, current.version + 1)
            else:
                log.warning(
                    "reinvestment not filled: the budget waits in the carry",
                    extra={
                        "action": action.action_id,
                        "status": state.status.value,
                        "code": state.reason_code,
                    },
                )
        multiplier = purchase.multiplier if not bought.is_zero() else current.multiplier
        return Reinvested(
            due.gross.amount,
            due.withheld.amount,
            due.net.amount,
            due.dust.amount,
            budget.amount,
            bought.value,
            cost.amount,
            (budget - cost).amount,
            multiplier,
            purchase.step.value,
            price,
        )

    # -- helpers -------------------------------------------------------------------------------

    def _ex_open(self, action: CorporateAction) -> datetime:
        return self._engine.calendar.session_bounds(action.ex_date)[0]

    def _pay_open(self, action: CashDividend) -> datetime:
        return self._engine.calendar.session_bounds(action.pay_date)[0]

    def _planned(self, action_id: str) -> ReinvestmentPlanned | None:
        return self._journal().planned.get(action_id)


def _order(action: CorporateAction) -> tuple[date, bool, str]:
    """Order actions by ex-date, a split before a dividend on one day (it applies at the open)."""
    return action.ex_date, isinstance(action, CashDividend), str(action.symbol)


def _figures(part: object) -> dict[str, Any]:
    """Return a step's figures as the outcome reports them: text, with wallets' amounts by wallet."""
    figures = to_dict(part)
    for name, value in figures.items():
        if isinstance(value, list) and all(
            isinstance(v, dict) and set(v) == {"wallet", "amount"} for v in value
        ):
            figures[name] = {v["wallet"]: v["amount"] for v in value}
    return figures


def _repeat(action: CorporateAction, at: datetime, current: InstrumentVersion) -> Outcome:
    return Outcome(action.action_id, action.symbol, "repeat", at, current.version, current.multiplier)


class TimedChain(CorporateActionsChain, Protocol):
    """A chain that schedules multipliers and tells the latest block's time."""

    def block_time(self) -> datetime:
        """Return the latest block's time."""
        ...


def schedule_multiplier(
    chain: TimedChain,
    dev: DevChain | None,
    instrument: Instrument,
    multiplier: Decimal,
    at: datetime,
    nonce: int,
) -> MultiplierUpdate:
    """Schedule ``multiplier`` from ``at`` (or the latest block's time if later); return the update.

    A development node's clock runs on by itself (anvil's moves with the wall clock): a second passing
    between reading the block time and mining the schedule would have the chain refuse it as in the
    past (``MULTIPLIER_EFFECTIVE_TIME_IN_THE_PAST``), at random. On such a chain (``dev``) the block
    that carries the schedule is pinned to its effective time.
    """
    effective = max(at.replace(microsecond=0), chain.block_time())
    if dev is not None:
        dev.set_next_block_time(effective)
    update = MultiplierUpdate(multiplier, effective, nonce)
    chain.schedule_multiplier(instrument, update)
    return update
