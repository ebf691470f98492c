"""The inventory model (xStocks / Backed style): shares bought ahead, tokens sold from an inventory wallet.

At open the issuer puts its capital in (``issuer_cash:inventory`` ← bank), gives the treasury wallet
a stablecoin float to pay sellers, and buys the opening inventory through the broker. Tokens are
minted into the inventory wallet only against broker fills already booked (trade date), exactly
their quantity, so tokens × 1 = custody + in flight at every instant; a buy queued while the market
is closed is minted when a later ``on_time`` finds its fill booked.

An investor's buy is delivered from the inventory wallet at the reference price plus the spread
(wider off-hours), paid in stablecoin to the treasury; a sell returns the tokens to the inventory and
the treasury pays the investor. Nothing is minted or burned for an investor trade. While the regular
session is open and no broker order of the listing is still open, the watermarks are checked: below
the low one the inventory is refilled to the target (broker buy, then mint against the fill), above
the high one it is trimmed to the target (broker sell of settled shares, then burn exactly the fill).
Orders that rest (DAY, GTC) are retried at every ``on_time``.

Leg order of an investor fill: the token transfer first (the contracts may refuse it: then nothing
else happens and the ``ChainRefusal`` propagates), then the stablecoin, then one ledger entry keyed
by the fill id. Broker refusals never crash the model: they are logged and the watermark check runs
again at a later tick.

Shares and tokens: orders, watermarks and balances are in shares (UI units); a token stands for the
multiplier in force (1 until a split or a reinvested dividend). A delivery moves ``shares ÷
multiplier`` raw tokens rounded down to the token unit (the supply does not change); a mint or burn
is exactly a broker fill's shares ÷ multiplier, and refill and trim orders are sized on the token
grid (``corporate_actions.units``) so that quotient is exact. Bookkeeping of broker orders and
fills lives in memory, guarded by the ledger's idempotency keys (``inventory-mint:{fill_id}``,
``inventory-burn:{fill_id}``, ``fill:{fill_id}``) so a repeated sync or a retried fill never moves
anything twice.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from equitoken.corporate_actions.units import raw_for_shares, shares_of, tokens_for_shares
from equitoken.domain.errors import DomainError
from equitoken.domain.ids import WalletAddress
from equitoken.domain.instants import utc
from equitoken.domain.market import MarketStatus, ReferencePrice
from equitoken.domain.trading import Side
from equitoken.domain.values import Money, Price, Shares, TokenAmount, exact
from equitoken.issuance.models import books
from equitoken.issuance.models.base import Listing, ModelContext, ModelFill, ModelName, ModelReason
from equitoken.issuance.models.inventory_plan import rebalance, value_of
from equitoken.issuance.models.inventory_settings import InventorySettings
from equitoken.issuance.orders import Fill, Order, OrderRequest, TimeInForce
from equitoken.issuance.plans import Burn, Leg, Mint, Outcome, Plan, Plans, Transfer
from equitoken.issuance.reasons import Refusal
from equitoken.ledger.entries import EntryDraft, Posting
from equitoken.ports.broker import BrokerBooks, BrokerFill, BrokerOrder, BrokerOrderState, BrokerRecord
from equitoken.trading.settlement import settle_key

__all__ = ["InventoryModel", "InventorySettings", "build_inventory_model"]

log = logging.getLogger(__name__)

MODEL = ModelName.INVENTORY
STABLECOIN_DECIMALS = 6


@dataclass(frozen=True, slots=True)
class InventorySettled:
    """The mint or burn against broker fill ``fill_id`` happened (it leaves the queue)."""

    fill_id: str


TREASURY_LABEL = "inventory:treasury"


def inventory_label(listing: Listing) -> str:
    """Return the chain wallet label of ``listing``'s inventory wallet."""
    return f"inventory:{listing.symbol}"


def capital_key(listing: Listing) -> str:
    """Return the ledger key of the capital entry posted when ``listing`` opens."""
    return f"capital:inventory:{listing.symbol}"


def mint_key(fill_id: str) -> str:
    """Return the ledger key of the mint against the broker buy fill ``fill_id``."""
    return f"inventory-mint:{fill_id}"


def burn_key(fill_id: str) -> str:
    """Return the ledger key of the burn against the broker sell fill ``fill_id``."""
    return f"inventory-burn:{fill_id}"


def fill_key(fill_id: str) -> str:
    """Return the ledger key of the investor fill ``fill_id``."""
    return f"fill:{fill_id}"


class InventoryModel:
    """Sell tokens out of a pre-minted inventory backed by shares bought ahead (see the module doc)."""

    def __init__(self, listing: Listing, context: ModelContext, settings: InventorySettings) -> None:
        if listing.model is not MODEL:
            raise DomainError("WRONG_MODEL", f"{listing.symbol} is listed under {listing.model}, not {MODEL}")
        if context.broker is None:
            raise DomainError("NO_BROKER", "the inventory model buys its shares through a broker; none given")
        self._listing = listing
        self._context = context
        self._broker: BrokerBooks = context.broker
        self._settings = settings
        self._inventory = context.chain.wallet(inventory_label(listing))
        self._treasury = context.chain.wallet(TREASURY_LABEL)
        self._opened = False
        self._open_orders: dict[str, BrokerOrder] = {}
        """Refill, trim and opening orders still queued or working at the broker, by client order id."""
        self._due: dict[str, BrokerFill] = {}
        """Broker fills booked and not yet minted or burned (a refused mint is retried at the next tick)."""
        self._done: set[str] = set()
        """Broker fill ids already minted or burned."""
        self._sells: dict[str, BrokerFill] = {}
        """Broker sell fills whose cash may not have settled yet (a receivable in ``pnl``)."""
        self._rebalances = 0
        """Refill and trim orders placed so far (the next one's number)."""
        self._fills: dict[str, ModelFill] = {}
        """Investor fills executed, by fill id: executing the same fill again returns it, moves nothing."""

    # -- the protocol --------------------------------------------------------------------------

    @property
    def name(self) -> ModelName:
        """Return ``inventory``."""
        return MODEL

    @property
    def listing(self) -> Listing:
        """Return the listing this model runs."""
        return self._listing

    @property
    def settings(self) -> InventorySettings:
        """Return the settings the model was built with."""
        return self._settings

    @property
    def queued(self) -> tuple[BrokerFill, ...]:
        """Return the broker fills queued for their mint or burn (booked, not yet minted or burned)."""
        return tuple(self._due.values())

    @property
    def rebalances(self) -> int:
        """Return how many refill and trim orders this listing has placed (the next one's number - 1)."""
        return self._rebalances

    @property
    def inventory_wallet(self) -> WalletAddress:
        """Return the inventory wallet's address."""
        return self._inventory

    @property
    def treasury_wallet(self) -> WalletAddress:
        """Return the treasury wallet's address (it receives buyers' and pays sellers' stablecoin)."""
        return self._treasury

    def open(self) -> None:
        """Put the capital in, fund the treasury's float, buy the opening inventory and mint what filled."""
        if self._opened:
            return
        settings, chain, store = self._settings, self._context.chain, self._context.store
        key = capital_key(self._listing)
        if store.entry(key) is None:  # the float is minted once, with the capital that pays for it
            if not settings.stablecoin_float.is_zero():
                chain.mint_stablecoin(self._listing.stablecoin, self._treasury, settings.stablecoin_float)
            store.post(
                EntryDraft(
                    key,
                    self._now(),
                    books.cash(settings.capital, debit=books.issuer_cash(MODEL), credit=books.BANK),
                    f"capital {settings.capital} for the {self._listing.symbol} inventory",
                    {"symbol": str(self._listing.symbol), "float": str(settings.stablecoin_float)},
                )
            )
        if not settings.initial_shares.is_zero():
            coid = f"inventory:{self._listing.symbol}:open"
            self._place(BrokerOrder(coid, self._listing.symbol, Side.BUY, settings.initial_shares))
        self._settle_due_now()
        self._opened = True

    def resume(self, working: Sequence[Order] = ()) -> None:
        """Reopen a listing ``open`` opened before a restart, from the ledger and the broker's journal.

        The capital entry says it opened; the broker books give back the orders still open and the
        fills not yet settled (queued again for their mint or burn, which the ledger key makes a
        no-op when done). Nothing is bought, minted or booked again. Investor fills need no memo: a
        restarted order numbers its next fill on from the fills the order journal holds.
        """
        if self._opened:
            return
        symbol = self._listing.symbol
        if self._context.store.entry(capital_key(self._listing)) is None:
            raise DomainError("NOT_OPEN", f"the inventory listing of {symbol} was never opened")
        record = self._broker
        if not isinstance(record, BrokerRecord):
            raise DomainError(
                "RESTART_UNSUPPORTED", f"the broker books of {symbol} cannot tell their open orders"
            )
        for order in record.open_orders():
            if order.symbol == symbol and order.client_order_id.startswith(f"inventory:{symbol}:"):
                self._open_orders[order.client_order_id] = order
        prefix = f"inventory:{symbol}:rebalance:"
        self._rebalances = sum(1 for coid in record.placed() if coid.startswith(prefix))
        for fill in record.unsettled_fills():
            if fill.symbol == symbol:
                self._take(fill)
        # Their mints wait for the next tick; one decided before the crash is finished by the engine's
        # executor, and its completion takes the fill off the queue.
        self._opened = True

    def refusal(
        self, request: OrderRequest, reference: ReferencePrice, status: MarketStatus
    ) -> Refusal | None:
        """Return why the model cannot take ``request``: funds, tokens, or inventory for an IOC buy."""
        if request.symbol != self._listing.symbol:
            return Refusal(ModelReason.WRONG_MODEL, f"{request.symbol} is not this {MODEL} listing")
        fees, chain = self._context.fees, self._context.chain
        price, in_session = reference.price, status.open
        try:
            if request.side is Side.BUY:
                if request.quantity is not None:
                    shares = request.quantity
                    cost = fees.fee_for(Side.BUY, price, shares, in_session).investor_cash
                else:
                    assert request.notional is not None  # a request holds exactly one of the two
                    cost = request.notional
                    shares = fees.shares_for_notional(Side.BUY, cost, price, in_session)
                cash = chain.stablecoin_balance(self._listing.stablecoin, request.wallet)
                if cash < cost:
                    return Refusal(
                        ModelReason.INSUFFICIENT_FUNDS, f"the buy needs about {cost}; the wallet holds {cash}"
                    )
                available = self._available()
                if request.time_in_force is TimeInForce.IOC and shares > available:
                    return Refusal(
                        ModelReason.INSUFFICIENT_INVENTORY,
                        f"an immediate-or-cancel buy of {shares} exceeds the {available} in inventory",
                    )
                return None
            if request.quantity is not None:
                shares = request.quantity
            else:
                assert request.notional is not None
                shares = fees.shares_for_notional(Side.SELL, request.notional, price, in_session)
            held = self._tokens(request.wallet)
            if held < shares.value:
                return Refusal(
                    ModelReason.INSUFFICIENT_TOKENS,
                    f"the sell of {shares} exceeds the {held} tokens the wallet holds",
                )
        except DomainError as refused:  # a fixed fee that eats the notional, say
            return Refusal(refused.code, refused.message)
        return None

    def execute(self, order: Order, reference: ReferencePrice, status: MarketStatus) -> Plans:
        """Decide the fill of what the inventory (buys) or the treasury (sells) can take of ``order`` now."""
        request = order.request
        if request.symbol != self._listing.symbol:
            raise DomainError(
                "WRONG_MODEL", f"order {order.order_id} is for {request.symbol}, not this listing"
            )
        fill_id = f"{order.order_id}:{len(order.fills) + 1}"
        side, in_session = request.side, status.open
        shares = self._wanted(order, reference.price, in_session)
        if shares is None:
            return
        if side is Side.BUY:
            shares = min(shares, self._available())
        if shares.is_zero():
            return
        quoted = self._context.fees.quoted_price(side, reference.price, in_session)
        limit = request.limit_price
        if limit is not None and (quoted > limit if side is Side.BUY else quoted < limit):
            return
        charge = self._context.fees.fee_for(side, reference.price, shares, in_session)
        if not self._can_pay(order, shares, charge.investor_cash):
            return
        now = self._now()
        postings = (
            *self._token_postings(order, shares),
            *books.trade_cash(
                side,
                books.investor_cash(request.investor),
                books.issuer_cash(MODEL),
                books.fees(MODEL),
                charge.investor_cash,
                charge.fee,
            ),
        )
        entry = EntryDraft(
            fill_key(fill_id),
            now,
            postings,
            f"{request.investor} {side.value}s {shares.value} {request.symbol} @ {charge.price}"
            f" from inventory",
            {
                "order_id": str(order.order_id),
                "fill_id": fill_id,
                "symbol": str(request.symbol),
                "side": side.value,
                "shares": str(shares.value),
                "price": str(charge.price.amount),
                "reference": str(reference.price.amount),
                "fee": str(charge.fee.amount),
            },
        )
        fill = ModelFill(
            order.order_id,
            Fill(fill_id, shares, charge.price, now),
            reference.price,
            charge.fee,
            off_hours=not in_session,
        )
        outcome = yield Plan(
            fill_id,
            request.symbol,
            self._delivery(order, shares, charge.investor_cash),
            (entry,),
            fills=(fill,),
            undo=True,
            note=f"inventory fill {fill_id}",
        )
        if outcome.failure is not None:
            raise outcome.failure

    @property
    def plan_events(self) -> tuple[type, ...]:
        """Return the events an inventory plan carries."""
        return (InventorySettled,)

    def on_time(self, working: Sequence[Order]) -> Plans:
        """Book broker fills, mint or burn against them, check the watermarks, retry resting orders."""
        now = self._now()
        status = self._context.calendar.status(now)
        self._sync()
        yield from self._settle_due()
        if status.open and not self._open_orders and not self._due:
            self._rebalance(now)
            yield from self._settle_due()
        yield from self._retry(working, now, status)

    def complete(self, plan: Plan) -> None:
        """Take a settled mint or burn off the queue; remember an investor fill by its id."""
        for event in plan.events:
            if isinstance(event, InventorySettled):
                self._settled(event.fill_id)
        for fill in plan.fills:
            self._fills[fill.fill.fill_id] = fill

    def withdraw(self, order: Order) -> None:
        """Forget an ended order: inventory is never reserved for one, so only the fill memo goes."""
        for fill_id in [f for f, fill in self._fills.items() if fill.order_id == order.order_id]:
            del self._fills[fill_id]

    def capital_locked(self) -> Money:
        """Return the inventory's value: inventory wallet tokens × the reference price now."""
        return value_of(self._tokens(self._inventory), self._mark())

    def pnl(self) -> Money:
        """Return the inventory book's mark-to-market result, fees excluded.

        pnl = issuer_cash:inventory
              + proceeds of broker sells not yet settled (they sit in ``cash_in_flight``)
              + inventory tokens × reference
              + (custody + in flight − tokens outstanding) × reference   (shares bought, not yet minted)
              − capital put in.

        Tokens held by investors are owed shares and are backed one for one, so they cancel out;
        fees are booked to ``fees:inventory`` and stay out. ``issuer_cash:inventory`` is one account
        per model, so with several inventory listings each one's figure includes the others' cash.
        """
        store, symbol, listing = self._context.store, self._listing.symbol, self._listing
        price = self._mark()
        cash = Money(store.balance(books.issuer_cash(MODEL), books.USD))
        receivable = Money.zero()
        for fill_id, fill in self._sells.items():
            if store.entry(settle_key(fill_id)) is None:  # the ledger, not memory, says what settled
                receivable = receivable + fill.notional
        with exact():
            shares = store.balance(books.custody(symbol), listing.share) + store.balance(
                books.in_flight(symbol), listing.share
            )
            supply = store.balance(books.token_supply(symbol), listing.token)  # minus tokens outstanding
            unminted = shares + shares_of(supply, self._multiplier())
        inventory = value_of(self._tokens(self._inventory), price)
        return cash + receivable + inventory + value_of(unminted, price) - self._settings.capital

    # -- broker side ---------------------------------------------------------------------------

    def _sync(self) -> None:
        """Book what the broker did since the last look and learn how this listing's open orders stand."""
        try:
            report = self._broker.sync()
        except DomainError as failure:
            log.warning(
                "broker sync failed", extra={"symbol": str(self._listing.symbol), "code": failure.code}
            )
            return
        for fill in report.booked:
            if fill.symbol == self._listing.symbol:
                self._take(fill)
        for fill in report.settled:
            self._sells.pop(fill.fill_id, None)
        # The books port has no order lookup; resending an order is harmless and returns its state,
        # which is how a queued order the broker later rejected (stale price at the open) is noticed.
        for order in list(self._open_orders.values()):
            self._place(order)

    def _place(self, order: BrokerOrder) -> BrokerOrderState | None:
        """Send ``order`` (or resend it) and take in its state; a refusal is logged, never raised."""
        try:
            state = self._broker.place(order)
        except DomainError as refused:
            log.warning(
                "broker refused an inventory order",
                extra={"order": order.client_order_id, "code": refused.code, "reason": refused.message},
            )
            self._open_orders.pop(order.client_order_id, None)
            return None
        for fill in state.fills:
            self._take(fill)
        if state.is_open:
            self._open_orders[order.client_order_id] = order
        else:
            self._open_orders.pop(order.client_order_id, None)
            if not state.fills:
                log.warning(
                    "inventory order ended unfilled",
                    extra={
                        "order": order.client_order_id,
                        "status": state.status.value,
                        "code": state.reason_code,
                        "reason": state.reason,
                    },
                )
        return state

    def _take(self, fill: BrokerFill) -> None:
        """Queue a booked fill of one of this listing's own orders for its mint or burn (once).

        The account also carries orders the model did not place (a dividend's reinvestment buys shares
        that raise the multiplier, and mints nothing): only ``inventory:SYM:`` orders are minted against.
        """
        if not fill.client_order_id.startswith(f"inventory:{self._listing.symbol}:"):
            return
        if fill.fill_id in self._done or fill.fill_id in self._due:
            return
        self._due[fill.fill_id] = fill
        if fill.side is Side.SELL:
            self._sells[fill.fill_id] = fill

    def _settle_due(self) -> Plans:
        """Decide the mint against each booked buy and the burn against each booked sell."""
        for fill_id, fill in list(self._due.items()):
            try:
                plan = self._mint_or_burn(fill)
            except DomainError as failure:  # refused before anything moved: waits for the next tick
                log.error(
                    "inventory mint or burn failed",
                    extra={"fill": fill_id, "code": failure.code, "reason": failure.message},
                )
                continue
            if plan is None:
                self._settled(fill_id)
                continue
            outcome = yield plan
            if outcome.failure is not None:  # refused, nothing moved: the fill waits for the next tick
                log.error(
                    "inventory mint or burn refused", extra={"fill": fill_id, "code": outcome.failure.code}
                )

    def _settle_due_now(self) -> None:
        """Mint or burn what is due at once (while opening, before the listing trades: no plan is open)."""
        chain, instrument = self._context.chain, self._listing.instrument
        for plan in _each(self._settle_due()):
            for leg in plan.legs:
                if isinstance(leg, Mint):
                    chain.mint(instrument, leg.wallet, leg.amount)
                elif isinstance(leg, Burn):
                    chain.burn(instrument, leg.wallet, leg.amount)
            for entry in plan.entries:
                self._context.store.post(entry)
            self.complete(plan)

    def _settled(self, fill_id: str) -> None:
        self._due.pop(fill_id, None)
        self._done.add(fill_id)

    def _mint_or_burn(self, fill: BrokerFill) -> Plan | None:
        """Decide the mint (buy) or burn (sell) of exactly the fill's quantity in the inventory wallet.

        ``None`` when the ledger already holds it (a repeated sync moves nothing).
        """
        listing, store = self._listing, self._context.store
        quantity, multiplier = fill.quantity.value, self._multiplier()
        tokens = tokens_for_shares(quantity, multiplier)
        amount = listing.instrument.amount(tokens)
        account = books.inventory(listing.symbol)
        if fill.side is Side.BUY:
            key, postings, verb = mint_key(fill.fill_id), books.mint(listing, account, tokens), "mint"
        else:
            key, postings, verb = burn_key(fill.fill_id), books.burn(listing, account, tokens), "burn"
        if store.entry(key) is not None:
            return None
        if shares_of(tokens, multiplier) != quantity:  # fail closed: the invariant would break by dust
            raise DomainError(
                "INEXACT_TOKEN_AMOUNT",
                f"{quantity} {listing.symbol} is not whole token steps at multiplier {multiplier}",
            )
        leg: Leg = Mint(self._inventory, amount) if fill.side is Side.BUY else Burn(self._inventory, amount)
        entry = EntryDraft(
            key,
            self._now(),
            postings,
            f"{verb} {quantity} {listing.symbol} in inventory against broker fill {fill.fill_id}",
            {
                "fill_id": fill.fill_id,
                "client_order_id": fill.client_order_id,
                "symbol": str(listing.symbol),
            },
        )
        return Plan(
            key, listing.symbol, (leg,), (entry,), (InventorySettled(fill.fill_id),), note=f"inventory {verb}"
        )

    def _rebalance(self, now: datetime) -> None:
        """Refill or trim the inventory if a watermark is crossed (called in session, nothing open)."""
        symbol = self._listing.symbol
        level = Shares.rounded_down(self._tokens(self._inventory))
        plan = rebalance(level, self._settings, self._deliverable())
        if plan is None:
            if level > self._settings.high_watermark:
                log.info("inventory trim waits for settled shares", extra={"symbol": str(symbol)})
            return
        multiplier = self._multiplier()  # trade whole token steps, so the mint or burn is exact
        shares = Shares(shares_of(tokens_for_shares(plan.shares.value, multiplier), multiplier))
        if shares.is_zero():
            return
        purpose = "refill" if plan.side is Side.BUY else "trim"
        # Numbered, not stamped: a rebalance decided again after a crash lost the order's record
        # takes the same id, so the broker (idempotent by client order id) hands back the order it
        # already has instead of taking a second one.
        self._rebalances += 1
        coid = f"inventory:{symbol}:rebalance:{self._rebalances}:{purpose}"
        log.info(
            "inventory %s",
            purpose,
            extra={"symbol": str(symbol), "level": str(level.value), "shares": str(shares.value)},
        )
        self._place(BrokerOrder(coid, symbol, plan.side, shares))

    def _deliverable(self) -> Shares:
        """Return the settled shares custody can deliver now, net of sells already on their way out."""
        try:
            position = self._broker.positions().get(self._listing.symbol)
        except DomainError as failure:
            log.warning("broker positions unavailable", extra={"code": failure.code})
            return Shares(0)
        if position is None:
            return Shares(0)
        with exact():
            free = position.settled.value - position.pending_out.value
        return Shares(max(free, Decimal(0)))

    # -- investor side -------------------------------------------------------------------------

    def _retry(self, working: Sequence[Order], now: datetime, status: MarketStatus) -> Plans:
        """Execute what can be filled now of this listing's resting orders; a failure skips one order."""
        symbol = self._listing.symbol
        mine = [
            o for o in working if o.request.symbol == symbol and o.state.working and not o.is_expired_at(now)
        ]
        if not mine:
            return
        try:
            reference = self._context.prices.reference_price(symbol, now)
        except DomainError as failure:
            log.warning(
                "no reference price to retry orders", extra={"symbol": str(symbol), "code": failure.code}
            )
            return
        if reference.stale:
            return
        for order in mine:
            try:
                yield from self.execute(order, reference, status)
            except DomainError as failure:  # one order refused must not stop the others
                log.warning(
                    "resting order not filled",
                    extra={"order_id": str(order.order_id), "code": failure.code, "reason": failure.message},
                )

    def _wanted(self, order: Order, reference: Price, in_session: bool) -> Shares | None:
        """Return the shares still to fill of ``order`` (a notional converted at the quote), or ``None``."""
        remaining = order.remaining_shares()
        if remaining is not None:
            return remaining
        notional = order.remaining_notional()
        if notional is None or notional.amount <= 0:
            return None
        try:
            return self._context.fees.shares_for_notional(order.request.side, notional, reference, in_session)
        except DomainError:  # what remains cannot pay the fixed fee: nothing more can fill
            return None

    def _can_pay(self, order: Order, shares: Shares, cash: Money) -> bool:
        """Tell whether the investor can pay for a buy, or hold the tokens and be paid for a sell, now."""
        request, chain = order.request, self._context.chain
        if request.side is Side.BUY:
            held = chain.stablecoin_balance(self._listing.stablecoin, request.wallet)
            short = held < cash
            why = f"the wallet holds {held}, the fill costs {cash}"
        else:
            tokens = self._tokens(request.wallet)
            treasury = chain.stablecoin_balance(self._listing.stablecoin, self._treasury)
            short = tokens < shares.value or treasury < cash
            why = f"the wallet holds {tokens} tokens for {shares}; the treasury holds {treasury} for {cash}"
        if short:
            log.warning("order cannot fill now", extra={"order_id": str(order.order_id), "reason": why})
        return not short

    def _delivery(self, order: Order, shares: Shares, cash: Money) -> tuple[Transfer, ...]:
        """Return the tokens' transfer, then the stablecoin's (the executor sends the tokens back if the
        payment is refused)."""
        request, listing = order.request, self._listing
        token, amount = listing.instrument.token, listing.instrument.amount(self._raw(shares))
        buy = request.side is Side.BUY
        sender, receiver = (self._inventory, request.wallet) if buy else (request.wallet, self._inventory)
        tokens = Transfer(token, sender, receiver, amount)
        if cash.is_zero():
            return (tokens,)
        payer, payee = (request.wallet, self._treasury) if buy else (self._treasury, request.wallet)
        payment = Transfer(listing.stablecoin, payer, payee, TokenAmount(cash.amount, STABLECOIN_DECIMALS))
        return (tokens, payment)

    def _token_postings(self, order: Order, shares: Shares) -> tuple[Posting, ...]:
        request, symbol = order.request, self._listing.symbol
        inventory, holder = books.inventory(symbol), books.investor_tokens(request.investor, symbol)
        if request.side is Side.BUY:
            return books.deliver(self._listing, inventory, holder, self._raw(shares))
        return books.deliver(self._listing, holder, inventory, self._raw(shares))

    # -- reads ---------------------------------------------------------------------------------

    def _available(self) -> Shares:
        """Return the inventory investors may buy: the wallet's tokens less those promised to a trim."""
        promised = Decimal(0)
        with exact():
            for order in self._open_orders.values():
                if order.side is Side.SELL:
                    promised += order.quantity.value
            for fill in self._due.values():
                if fill.side is Side.SELL:
                    promised += fill.quantity.value
            free = self._tokens(self._inventory) - promised
        return Shares.rounded_down(max(free, Decimal(0)))

    def _tokens(self, wallet: WalletAddress) -> Decimal:
        """Return ``wallet``'s holding of this listing in shares: raw balance × the multiplier in force."""
        raw = self._context.chain.balance_of(self._listing.instrument.token, wallet).value
        return shares_of(raw, self._multiplier())

    def _raw(self, shares: Shares) -> Decimal:
        """Return the raw tokens a delivery of ``shares`` moves (rounded down to the token unit)."""
        return raw_for_shares(shares.value, self._multiplier(), self._listing.instrument.decimals)

    def _multiplier(self) -> Decimal:
        return self._context.chain.multiplier(self._listing.instrument)

    def _mark(self) -> Price:
        return self._context.prices.reference_price(self._listing.symbol, self._now()).price

    def _now(self) -> datetime:
        return utc(self._context.clock.now())


def build_inventory_model(
    listing: Listing, context: ModelContext, *, settings: InventorySettings
) -> InventoryModel:
    """Build the inventory model of ``listing`` (bind ``settings`` with ``functools.partial``)."""
    return InventoryModel(listing, context, settings)


def _each(plans: Plans) -> Iterator[Plan]:
    """Yield each plan of ``plans`` and tell it it was done (the caller carries it out at once)."""
    try:
        plan = next(plans)
        while True:
            yield plan
            plan = plans.send(Outcome(plan, True))
    except StopIteration:
        return
