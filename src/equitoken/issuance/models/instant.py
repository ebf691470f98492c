"""The instant-execution model (Ondo Global Markets / Dinari style): mint against a hedge, any hour.

Every fill, in session or not, is an EIP-712 quote the platform signs and the investor settles on
the listing's ``QuoteSettlement`` contract: stablecoin and tokens change hands in one transaction
(a buy pays the treasury and mints; a sell burns and the treasury pays). Then the buffer covers it:

- **in session** the fill is hedged at once with one broker order (``hedge-{fill_id}``); the broker
  books the shares in flight on the trade date, paid from ``buffer_pool:instant`` — the buffer fronts
  the T+n gap between the chain's instant settlement and the broker's;
- **off-hours** the buffer fills at the last reference price plus the off-hours spread, and owes the
  broker the shares: the fill's own ledger entry books that commitment (``in_flight:SYM:pending``),
  so tokens stay backed at every instant. Commitments net (buys against sells); at the next open
  ``on_time`` places ONE hedge for the net. The open gap between the reference the buffer filled at
  and the hedge's price is the buffer's P&L.

Every fill books its commitment, in session too: the hedge's fill reverses it when booked. So a
hedge that queues or is refused leaves the fill committed (backed) and it is hedged again at the
next ``on_time`` in session — one rule instead of two. Net pending exposure per symbol is capped
off-hours (``BUFFER_LIMIT``).

Ledger (one entry per fill, ``fill:{fill_id}``): the mint or burn into/out of
``investor_tokens:INV:SYM``, the cash legs (investor ↔ buffer at the reference value, the spread and
fixed fee to ``fees:instant``) and the commitment. Per hedge fill, ``hedge-cover:{broker fill id}``
reverses the commitment for its shares; per hedge, ``hedge-pnl:{client order id}`` moves the gap
P&L between ``buffer_pool:instant`` and ``issuer_cash:instant`` (a profit leaves the buffer for the
issuer, a loss is topped up), so the buffer keeps its size and ``issuer_cash:instant`` is the
realised hedge P&L. The ledger books the stablecoin the contract moved, read from the investor's
balance before and after, not a figure recomputed beside it.

Chain time ≈ clock time, assumed: the quote's expiry is the clock's now plus the quote policy's
time to live (whole seconds), and the contract compares it with the block's timestamp. The engine
moves the embedded chain's block time up to the clock before it calls the model (and a simulated
chain starts at the clock and adds no seconds per block). A chain running ahead of the clock by
more than the time to live reverts every quote (``quote: expired``), which changes nothing.

State: the exposure book (unhedged commitments, open hedges) is a fold of ``ExposureEvent``s the
model journals as they happen (stream ``exposure-instant-SYM``); ``resume`` folds them back after a
restart, and reads the settlement contract from the capital entry ``open`` posted, so a restarted
listing hedges its open commitments at the next open and deploys nothing again.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from equitoken.corporate_actions.units import shares_of
from equitoken.domain.errors import DomainError, InfrastructureError
from equitoken.domain.ids import WalletAddress
from equitoken.domain.instants import utc
from equitoken.domain.market import MarketStatus, ReferencePrice
from equitoken.domain.trading import Side
from equitoken.domain.values import Money, Price, Shares, TokenAmount, exact
from equitoken.issuance import journal
from equitoken.issuance.models.base import (
    IssuanceModel,
    Listing,
    ModelContext,
    ModelFill,
    ModelName,
    ModelReason,
)
from equitoken.issuance.models.books import (
    BANK,
    MARKET,
    USD,
    buffer_pool,
    burn,
    cash,
    fees,
    hedge_pending,
    investor_cash,
    investor_tokens,
    issuer_cash,
    mint,
    trade_cash,
)
from equitoken.issuance.models.instant_book import (
    EXPOSURE_EVENTS,
    Commitment,
    CommitmentsNetted,
    Committed,
    ExposureBook,
    ExposureEvent,
    Hedge,
    HedgeFilled,
    HedgeOpened,
    HedgeReleased,
    hedge_for,
    net_value,
)
from equitoken.issuance.models.instant_pricing import (
    chain_notional,
    chain_price,
    shares_for_budget,
    token_price,
    tokens_for,
)
from equitoken.issuance.orders import Fill, Order, OrderRequest, QuotePolicy, make_quote
from equitoken.issuance.plans import Leg, Plan, Plans, SettleQuote, Transfer
from equitoken.issuance.reasons import OrderReason, Refusal
from equitoken.ledger.entries import EntryDraft, Posting, move
from equitoken.ports.broker import BrokerBooks, BrokerFill, BrokerOrder, BrokerOrderState
from equitoken.ports.chain import ChainQuote, QuoteSide

log = logging.getLogger(__name__)

MODEL = ModelName.INSTANT
STABLE_DECIMALS = 6
TREASURY_LABEL = "instant:treasury"
SIGNER_LABEL = "instant:signer"


@dataclass(frozen=True, slots=True)
class InstantSettings:
    """The buffer's size, its off-hours exposure cap per symbol, and the stablecoin float for sellers."""

    buffer: Money = Money(250_000)
    """Capital put into the buffer at open (the capital this model locks)."""
    exposure_cap: Money = Money(50_000)
    """Largest |net unhedged shares| × reference per symbol the buffer may carry off-hours."""
    stablecoin_float: Money = Money(100_000)
    """Stablecoin minted to the treasury wallet at open to pay sellers: the on-chain part of the buffer."""

    def __post_init__(self) -> None:
        for what, amount in (
            ("buffer", self.buffer),
            ("exposure cap", self.exposure_cap),
            ("stablecoin float", self.stablecoin_float),
        ):
            if amount.currency != "USD" or amount.amount < 0:
                raise DomainError("INVALID_SETTING", f"the {what} must be a non-negative USD amount")
        if self.buffer.is_zero():
            raise DomainError("INVALID_SETTING", "the buffer must hold some capital")
        if self.stablecoin_float > self.buffer:
            raise DomainError(
                "INVALID_SETTING",
                f"the stablecoin float {self.stablecoin_float} is part of the buffer {self.buffer}",
            )


@dataclass(frozen=True, slots=True)
class _Size:
    """A fill as the contract will see it: shares, tokens, prices, and the stablecoin it moves."""

    side: Side
    shares: Shares
    per_share: Money
    """The fill's price per share, to the micro-dollar (rounded against the investor)."""
    tokens: Decimal
    per_token: Money
    due: Money
    """What the contract moves: ``tokens × per_token`` rounded its way (up for a buy, down for a sell)."""
    hedged: Shares
    """The shares the tokens stand for (tokens × multiplier, ≤ ``shares``): what is committed and hedged."""


class InstantModel:
    """Fill every order at once through quote settlement, hedge at the broker, front the gap."""

    def __init__(self, listing: Listing, context: ModelContext, settings: InstantSettings) -> None:
        if context.broker is None:
            raise DomainError("NO_BROKER", "the instant model hedges every fill: it needs a broker")
        self._listing = listing
        self._context = context
        self._broker: BrokerBooks = context.broker
        self._settings = settings
        self._policy = QuotePolicy(context.fees)
        self._book = ExposureBook()
        self._recorded = 0
        """Exposure events journaled so far (the next one's key)."""
        self._settlement: WalletAddress | None = None
        self._treasury = context.chain.wallet(TREASURY_LABEL)

    # -- the protocol ---------------------------------------------------------------------------

    @property
    def name(self) -> ModelName:
        """Return ``instant``."""
        return MODEL

    @property
    def listing(self) -> Listing:
        """Return the listing this model runs."""
        return self._listing

    @property
    def settings(self) -> InstantSettings:
        """Return the buffer's settings."""
        return self._settings

    @property
    def settlement(self) -> WalletAddress:
        """Return the listing's quote-settlement contract (deployed by ``open``)."""
        if self._settlement is None:
            raise DomainError("NOT_OPEN", f"the instant listing of {self._listing.symbol} is not open")
        return self._settlement

    @property
    def treasury(self) -> WalletAddress:
        """Return the treasury wallet: receives buy payments, pays sell proceeds."""
        return self._treasury

    @property
    def exposure(self) -> ExposureBook:
        """Return the buffer's exposure book (read it; the model writes it)."""
        return self._book

    def open(self) -> None:
        """Deploy quote settlement, mint the stablecoin float to the treasury, book the buffer capital.

        The chain steps come first: the capital entry is posted only once the listing can trade.
        """
        if self._settlement is not None:
            return
        chain, listing = self._context.chain, self._listing
        signer = chain.wallet(SIGNER_LABEL)
        if not self._settings.stablecoin_float.is_zero():
            chain.mint_stablecoin(listing.stablecoin, self._treasury, self._settings.stablecoin_float)
        settlement = chain.deploy_quote_settlement(
            listing.instrument, listing.stablecoin, signer, self._treasury
        )
        symbol = listing.symbol
        self._context.store.post(
            EntryDraft(
                f"capital:instant:{symbol}",
                self._now(),
                cash(self._settings.buffer, debit=buffer_pool(MODEL), credit=BANK),
                f"buffer capital for {symbol} (instant execution)",
                {"symbol": str(symbol), "settlement": str(settlement)},
            )
        )
        self._settlement = settlement

    def resume(self, working: Sequence[Order] = ()) -> None:
        """Reopen a listing ``open`` opened before a restart: its settlement contract and exposure book.

        The settlement address comes from the capital entry ``open`` posted; the book is the fold of
        the journaled exposure events. Nothing is deployed, minted or booked again.
        """
        if self._settlement is not None:
            return
        symbol = self._listing.symbol
        capital = self._context.store.entry(f"capital:instant:{symbol}")
        settlement = None if capital is None else capital.draft.metadata.get("settlement")
        if settlement is None:
            raise DomainError(
                "NOT_OPEN", f"the instant listing of {symbol} was never opened: nothing to resume"
            )
        book = ExposureBook()
        recorded = 0
        for event in journal.read(self._context.store, self._stream, EXPOSURE_EVENTS):
            book.apply(event)
            recorded += 1
        # A new process's chain adapter does not know the contract yet: read it back (fail closed),
        # after deriving the signer's key from its label as ``open`` did.
        self._context.chain.wallet(SIGNER_LABEL)
        attached = self._context.chain.attach_quote_settlement(
            WalletAddress(settlement), self._listing.instrument
        )
        self._book, self._recorded = book, recorded
        self._settlement = attached

    @property
    def _stream(self) -> str:
        return f"exposure-instant-{self._listing.symbol}"

    def _record(self, event: ExposureEvent) -> Hedge | None:
        """Journal ``event`` first, then fold it into the book (memory never runs ahead of the record)."""
        key = f"exposure:{self._listing.symbol}:{self._recorded + 1}"
        journal.append(self._context.store, self._stream, key, self._now(), event)
        self._recorded += 1
        return self._book.apply(event)

    def refusal(
        self, request: OrderRequest, reference: ReferencePrice, status: MarketStatus
    ) -> Refusal | None:
        """Return why the buffer cannot take ``request`` now: funds, tokens, float or exposure cap.

        Called before the desk's own checks are combined, so it must not raise on a stale or foreign
        reference price: it only reads balances and never writes.
        """
        if request.symbol != self._listing.symbol:
            return Refusal(
                ModelReason.WRONG_MODEL, f"{request.symbol} is not listed under this instant model"
            )
        try:
            size = self._size(request.side, request.quantity, request.notional, reference.price, status.open)
        except DomainError as refused:
            return Refusal(refused.code, str(refused))
        return self._shortfall(request, size) or (
            None if status.open else self._cap_refusal(request.side, size.shares, reference.price)
        )

    @property
    def plan_events(self) -> tuple[type, ...]:
        """Return the exposure events a fill's plan carries."""
        return EXPOSURE_EVENTS

    def execute(self, order: Order, reference: ReferencePrice, status: MarketStatus) -> Plans:
        """Decide the fill of the whole remainder of ``order`` now, or nothing (a limit not met: it rests)."""
        plan = self._fill(order, reference, status)
        if plan is not None:
            outcome = yield plan
            if outcome.failure is not None:
                raise outcome.failure

    def on_time(self, working: Sequence[Order]) -> Plans:
        """Book hedge fills (cover, P&L), place the net hedge once in session, retry resting orders."""
        now = self._now()
        try:
            synced = self._broker.sync()
            for broker_fill in synced.booked:
                self._cover(broker_fill)
            for hedge in self._book.hedges:  # a resend is a harmless status read: catches rejections too
                self._absorb(self._broker.place(self._order_of(hedge)))
            status = self._context.calendar.status(now)
            if status.open and self._book.unhedged and not self._book.hedges:
                self._hedge(self._book.unhedged)
        except DomainError as failed:
            # The broker being out must not stop resting orders; the commitments stay booked and
            # the hedge is tried again at the next tick.
            log.error(
                "broker work not done", extra={"symbol": str(self._listing.symbol), "code": failed.code}
            )
            status = self._context.calendar.status(now)
        mine = [
            o
            for o in working
            if o.request.symbol == self._listing.symbol and o.state.working and not o.is_expired_at(now)
        ]
        if not mine:
            return
        try:
            reference = self._context.prices.reference_price(self._listing.symbol, now)
        except DomainError as failed:
            log.error("no reference price", extra={"symbol": str(self._listing.symbol), "code": failed.code})
            return
        if reference.stale:
            return
        for order in mine:
            try:
                plan = self._fill(order, reference, status)
            except DomainError as failed:
                # One order that cannot be decided must not stop the others.
                log.error(
                    "resting order not filled", extra={"order": str(order.order_id), "code": failed.code}
                )
                continue
            if plan is not None:
                outcome = yield plan
                if outcome.failure is not None:  # nothing moved; the order rests for the next tick
                    log.warning(
                        "resting order refused on chain",
                        extra={"order": str(order.order_id), "code": outcome.failure.code},
                    )

    def complete(self, plan: Plan) -> None:
        """Journal the fill's commitment into the exposure book; in session, hedge it at once."""
        for event in plan.events:
            self._record(event)
        in_session = [f for f in plan.fills if not f.off_hours]
        if in_session:
            self._hedge(tuple(e.commitment for e in plan.events if isinstance(e, Committed)))

    def withdraw(self, order: Order) -> None:
        """Forget ``order``: nothing to release, the buffer reserves nothing for resting orders."""

    def capital_locked(self) -> Money:
        """Return the buffer capital put in at open (zero before)."""
        return Money.zero() if self._settlement is None else self._settings.buffer

    def pnl(self) -> Money:
        """Return the realised hedge P&L: the balance of ``issuer_cash:instant``, and nothing else.

        Fees are excluded (``fees:instant``), and so is the open gap on commitments not yet hedged.
        The account is per model, so with several instant listings it is their sum.
        """
        return Money(self._context.store.balance(issuer_cash(MODEL), USD))

    # -- filling ------------------------------------------------------------------------------

    def _now(self) -> datetime:
        return utc(self._context.clock.now())

    def _size(
        self, side: Side, quantity: Shares | None, notional: Money | None, reference: Price, in_session: bool
    ) -> _Size:
        """Return the fill of ``quantity`` or ``notional`` now, priced as the contract will settle it."""
        fee_schedule = self._context.fees
        per_share = chain_price(side, fee_schedule.quoted_price(side, reference, in_session))
        if quantity is None:
            assert notional is not None  # a request holds exactly one of the two
            budget = notional - fee_schedule.fixed if side is Side.BUY else notional
            if budget.amount <= 0:
                raise DomainError(
                    OrderReason.FEE_EXCEEDS_PROCEEDS,
                    f"the fixed fee {fee_schedule.fixed} consumes the notional {notional}",
                )
            quantity = shares_for_budget(budget, per_share)
            if quantity.is_zero():
                raise DomainError(
                    OrderReason.INVALID_ORDER,
                    f"{notional} does not buy a billionth of a share at {per_share}",
                )
        instrument = self._listing.instrument
        multiplier = self._context.chain.multiplier(instrument)
        tokens = tokens_for(quantity, multiplier, instrument.decimals)
        per_token = token_price(side, per_share, multiplier)
        due = chain_notional(side, tokens, per_token)
        return _Size(side, quantity, per_share, tokens, per_token, due, Shares(shares_of(tokens, multiplier)))

    def _shortfall(self, request: OrderRequest, size: _Size) -> Refusal | None:
        """Return what the investor or the treasury lacks to settle ``size`` on chain, or ``None``."""
        chain, listing = self._context.chain, self._listing
        due, fixed = size.due, self._context.fees.fixed
        if request.side is Side.BUY:
            needed = due + fixed
            held = chain.stablecoin_balance(listing.stablecoin, request.wallet)
            if held < needed:
                return Refusal(
                    ModelReason.INSUFFICIENT_FUNDS,
                    f"the buy costs {needed}; wallet {request.wallet} holds {held}",
                )
            return None
        balance = chain.balance_of(listing.instrument.token, request.wallet).value
        if balance < size.tokens:
            return Refusal(
                ModelReason.INSUFFICIENT_TOKENS,
                f"the sell needs {size.tokens} tokens; wallet {request.wallet} holds {balance}",
            )
        if fixed > due:
            return Refusal(
                OrderReason.FEE_EXCEEDS_PROCEEDS, f"the fixed fee {fixed} exceeds the proceeds {due}"
            )
        float_left = chain.stablecoin_balance(listing.stablecoin, self._treasury)
        if float_left < due:
            return Refusal(
                ModelReason.BUFFER_LIMIT,
                f"the treasury's stablecoin {float_left} cannot pay the proceeds {due}",
            )
        return None

    def _cap_refusal(self, side: Side, shares: Shares, reference: Price) -> Refusal | None:
        """Return ``BUFFER_LIMIT`` if the fill would push the net unhedged exposure past the cap.

        An order that shrinks the exposure is always taken, even while the exposure is above the cap
        (a cap lowered, or prices moved): refusing it would keep the buffer more exposed, not less.
        """
        pending = self._context.store.balance(hedge_pending(self._listing.symbol), self._listing.share)
        # Firm quotes out with self-custody investors may settle any moment: counted as if they had.
        out = self._context.outstanding(self._listing.symbol)
        with exact():
            pending += out
            after = pending + shares.value if side is Side.BUY else pending - shares.value
        value = Money.rounded(abs(after) * reference.amount)
        if value <= self._settings.exposure_cap or abs(after) <= abs(pending):
            return None
        return Refusal(
            ModelReason.BUFFER_LIMIT,
            f"{self._listing.symbol}: {abs(after)} unhedged shares worth {value} after this order"
            f" would exceed the off-hours cap {self._settings.exposure_cap}",
        )

    def _fill(self, order: Order, reference: ReferencePrice, status: MarketStatus) -> Plan | None:
        """Decide the order's remainder as one quote and its records; ``None`` when it cannot fill now."""
        request = order.request
        if not order.state.working or request.symbol != self._listing.symbol:
            return None
        side, in_session = request.side, status.open
        try:
            size = self._size(
                side, order.remaining_shares(), order.remaining_notional(), reference.price, in_session
            )
        except DomainError as refused:
            log.info("order not fillable", extra={"order": str(order.order_id), "code": refused.code})
            return None
        limit = request.limit_price
        if limit is not None and (
            size.per_share.amount > limit.amount if side is Side.BUY else size.per_share.amount < limit.amount
        ):
            return None  # the order rests; on_time tries it again
        blocked = self._shortfall(request, size) or (
            None if in_session else self._cap_refusal(side, size.shares, reference.price)
        )
        if blocked is not None:
            log.info("order not fillable now", extra={"order": str(order.order_id), "code": blocked.code})
            return None
        fill_id = f"{order.order_id}:{len(order.fills) + 1}"
        legs = self._legs(order, fill_id, size, reference, status)
        entry, commitment, fee = self._book_fill(order, fill_id, size, reference.price, in_session)
        fill = Fill(fill_id, size.shares, Price(size.per_share.amount, size.per_share.currency), self._now())
        return Plan(
            fill_id,
            self._listing.symbol,
            legs,
            (entry,),
            (Committed(commitment),),
            (ModelFill(order.order_id, fill, reference.price, fee, off_hours=not in_session),),
            note=f"instant fill {fill_id}",
        )

    def _legs(
        self, order: Order, fill_id: str, size: _Size, reference: ReferencePrice, status: MarketStatus
    ) -> tuple[Leg, ...]:
        """Return the quote to settle (atomic DvP) and the fixed fee's transfer, if there is one.

        The quote id is the fill id: deterministic and unique per order fill, so a retry after a crash
        re-derives the same id and the contract refuses to settle it twice.
        """
        listing, request = self._listing, order.request
        quote = make_quote(
            self._policy,
            request.investor,
            request.wallet,
            listing.symbol,
            request.side,
            size.shares,
            reference,
            status,
            self._now(),
        )
        if chain_price(size.side, quote.price) != size.per_share:  # one fee schedule prices both
            raise DomainError(
                "QUOTE_MISMATCH", f"the quote's {quote.price} is not the sized {size.per_share}"
            )
        chain_quote = ChainQuote(
            self.settlement,
            request.wallet,
            QuoteSide.BUY if size.side is Side.BUY else QuoteSide.SELL,
            listing.instrument.amount(size.tokens),
            size.per_token,
            quote.expires_at.replace(microsecond=0),  # the contract counts whole seconds
            fill_id,
        )
        fixed = self._context.fees.fixed
        if fixed.is_zero():
            return (SettleQuote(chain_quote),)
        # Not part of the quote; funds were checked, so a stablecoin move does not refuse.
        fee = Transfer(
            listing.stablecoin, request.wallet, self._treasury, TokenAmount(fixed.amount, STABLE_DECIMALS)
        )
        return (SettleQuote(chain_quote), fee)

    def _book_fill(
        self, order: Order, fill_id: str, size: _Size, reference: Price, in_session: bool
    ) -> tuple[EntryDraft, Commitment, Money]:
        """Return the fill's entry (tokens, cash, commitment), the commitment and the whole fee.

        The stablecoin booked is ``size.due``: exactly what the contract computes and moves for the
        quote (the same rounding, ``chain_notional``), so the ledger books what happens on chain.
        """
        listing, request = self._listing, order.request
        side, fixed, shares, tokens, moved = (
            size.side,
            self._context.fees.fixed,
            size.shares,
            size.tokens,
            size.due,
        )
        reference_value = reference.notional(shares)
        # The spread is what the investor paid beyond (or got below) the reference; never negative,
        # so a rounding oddity lands in the buffer's P&L instead of a negative fee.
        spread = moved - reference_value if side is Side.BUY else reference_value - moved
        spread = max(spread, Money.zero())
        fee = spread + fixed
        paid = moved + fixed if side is Side.BUY else moved - fixed
        holder = investor_tokens(request.investor, listing.symbol)
        token_lines = mint(listing, holder, tokens) if side is Side.BUY else burn(listing, holder, tokens)
        hedged = size.hedged  # what the tokens stand for: the invariant needs exactly these shares
        commitment = Commitment(fill_id, side, hedged, paid - fee if side is Side.BUY else paid + fee)
        postings: tuple[Posting, ...] = (
            *token_lines,
            *trade_cash(side, investor_cash(request.investor), buffer_pool(MODEL), fees(MODEL), paid, fee),
            *self._commitment_lines(side, hedged),
        )
        session = "in session" if in_session else "off-hours"
        entry = EntryDraft(
            f"fill:{fill_id}",
            self._now(),
            postings,
            f"instant {side.value} {shares.value} {listing.symbol} for {paid} ({session})",
            {
                "fill_id": fill_id,
                "order_id": str(order.order_id),
                "symbol": str(listing.symbol),
                "side": side.value,
                "shares": str(shares.value),
                "reference": str(reference.amount),
                "paid": str(paid.amount),
                "fee": str(fee.amount),
                "session": "regular" if in_session else "off_hours",
            },
        )
        return entry, commitment, fee

    def _commitment_lines(self, side: Side, shares: Shares) -> tuple[Posting, ...]:
        """Return the buffer's commitment for a fill: shares owed by (buy) or to (sell) the market."""
        pending, share = hedge_pending(self._listing.symbol), self._listing.share
        if side is Side.BUY:
            return move(share, shares.value, debit=pending, credit=MARKET)
        return move(share, shares.value, debit=MARKET, credit=pending)

    # -- hedging ------------------------------------------------------------------------------

    def _order_of(self, hedge: Hedge) -> BrokerOrder:
        return BrokerOrder(hedge.client_order_id, self._listing.symbol, hedge.side, hedge.shares)

    def _hedge(self, commitments: Sequence[Commitment]) -> None:
        """Place one broker order for the net of ``commitments`` (or realise their P&L if they net out)."""
        taken = tuple(commitments)
        client_order_id = self._book.peek_hedge_id(taken)
        hedge = hedge_for(client_order_id, taken)
        if hedge is None:  # buys and sells cancelled out: nothing to trade, the value gap is realised
            self._record(CommitmentsNetted(client_order_id, tuple(c.fill_id for c in taken)))
            self._post_pnl(client_order_id, Money(net_value(taken)), self._now())
            return
        self._record(HedgeOpened(hedge))
        try:
            state = self._broker.place(self._order_of(hedge))
        except InfrastructureError as unknown:
            # No answer: the broker may have taken it. The hedge stays open under its id, and the next
            # tick places that same id again (a harmless status read if it was taken) — never a new one.
            log.warning("hedge unanswered", extra={"hedge": client_order_id, "code": unknown.code})
            return
        except DomainError as refused:  # the commitments stay booked; the next open tick tries again
            log.warning("hedge refused", extra={"hedge": client_order_id, "code": refused.code})
            self._record(HedgeReleased(client_order_id))
            return
        self._absorb(state)

    def _absorb(self, state: BrokerOrderState) -> None:
        """Cover what ``state`` filled; if the order is over short of full, give the rest back."""
        for broker_fill in state.fills:
            self._cover(broker_fill)
        client_order_id = state.order.client_order_id
        if not state.is_open and self._book.hedge(client_order_id) is not None:
            log.warning(
                "hedge ended unfilled", extra={"hedge": client_order_id, "status": state.status.value}
            )
            part = self._record(HedgeReleased(client_order_id))
            if part is not None:
                self._post_pnl(client_order_id, part.pnl(), self._now())

    def _cover(self, broker_fill: BrokerFill) -> None:
        """Reverse the commitment for a booked hedge fill (the broker booked it in flight) and, once the
        hedge is complete, post its gap P&L."""
        open_hedge = self._book.hedge(broker_fill.client_order_id)
        if open_hedge is None or broker_fill.fill_id in open_hedge.fills:
            return  # not a fill of an open hedge, or one already covered
        if open_hedge.filled + broker_fill.quantity > open_hedge.shares:  # refused before it is journaled
            raise DomainError(
                "HEDGE_OVERFILL",
                f"hedge {open_hedge.client_order_id} filled {open_hedge.filled + broker_fill.quantity} "
                f"of its {open_hedge.shares}",
            )
        hedge = self._record(
            HedgeFilled(
                broker_fill.client_order_id, broker_fill.fill_id, broker_fill.quantity, broker_fill.notional
            )
        )
        if hedge is None:
            return
        pending, share, q = (
            hedge_pending(self._listing.symbol),
            self._listing.share,
            broker_fill.quantity.value,
        )
        lines = (
            move(share, q, debit=MARKET, credit=pending)
            if hedge.side is Side.BUY
            else move(share, q, debit=pending, credit=MARKET)
        )
        self._context.store.post(
            EntryDraft(
                f"hedge-cover:{broker_fill.fill_id}",
                broker_fill.filled_at,
                lines,
                f"hedge {broker_fill.client_order_id} filled {q} {self._listing.symbol}: commitment covered",
                {"client_order_id": broker_fill.client_order_id, "fill_id": broker_fill.fill_id},
            )
        )
        if hedge.complete:
            self._post_pnl(hedge.client_order_id, hedge.pnl(), broker_fill.filled_at)

    def _post_pnl(self, client_order_id: str, pnl: Money, at: datetime) -> None:
        """Move the gap P&L between the buffer and the issuer's cash, so the buffer keeps its size."""
        if pnl.is_zero():
            return
        if pnl.amount > 0:
            lines = cash(pnl, debit=issuer_cash(MODEL), credit=buffer_pool(MODEL))
        else:
            lines = cash(-pnl, debit=buffer_pool(MODEL), credit=issuer_cash(MODEL))
        self._context.store.post(
            EntryDraft(
                f"hedge-pnl:{client_order_id}",
                at,
                lines,
                f"gap P&L of hedge {client_order_id} ({self._listing.symbol}): {pnl}",
                {
                    "client_order_id": client_order_id,
                    "symbol": str(self._listing.symbol),
                    "pnl": str(pnl.amount),
                },
            )
        )


def build_instant_model(
    listing: Listing, context: ModelContext, settings: InstantSettings | None = None
) -> IssuanceModel:
    """Return the instant model of ``listing`` (bind ``settings`` with ``functools.partial``)."""
    return InstantModel(listing, context, settings or InstantSettings())
