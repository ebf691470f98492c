"""Direct ownership (Securitize / DS Protocol style): the token is the registered share.

The transfer agent's cap table (``CapTable``) is the legal record and the token mirrors it wallet by
wallet. The issuer issues to whitelisted investors (``primary_plan``, after the compliance desk has
minted); holders trade with each other on an ATS order book inside the platform (``OrderBook``):
price-time priority, limit and market orders, matching only pairs the compliance engine — and so the
contracts, which enforce the same rules — would let trade, each match settled at once on chain
(T+0): tokens seller → buyer, stablecoin buyer → seller, the taker's commission → the treasury.

After every settlement the model reads the token's ``Transfer`` events since its last read, applies
them to the cap table and compares both wallets with the chain; a difference fails closed
(``CAP_TABLE_DIVERGED``). There is no inventory, no buffer and no broker: liquidity is whatever rests
in the book, the model takes no principal risk, and its only revenue is the commission.

Books: a share on the register is ``custody:SYM`` (its counter-account is the market the issuer
created it from), so tokens outstanding × multiplier always equal custody and the reserve invariant
holds by construction (a split multiplies both sides: ``app.corporate_actions``); trades move
``investor_tokens`` and ``investor_cash`` between the two investors. Orders are in shares; a match
moves ``shares ÷ multiplier`` raw tokens, rounded down to the register's billionth.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import ROUND_CEILING, Decimal

from equitoken.compliance.actions import Regulation
from equitoken.corporate_actions.units import raw_for_shares, shares_of
from equitoken.domain.errors import DomainError
from equitoken.domain.ids import InvestorId, OrderId, WalletAddress
from equitoken.domain.instants import utc
from equitoken.domain.market import MarketStatus, ReferencePrice
from equitoken.domain.trading import OrderType, Side
from equitoken.domain.values import SHARE_DECIMALS, Bps, Money, Price, Shares, TokenAmount, canonical_decimal
from equitoken.issuance import journal
from equitoken.issuance.models.base import Listing, ModelContext, ModelFill, ModelName, ModelReason
from equitoken.issuance.models.books import (
    MARKET,
    cash,
    custody,
    deliver,
    fees,
    investor_cash,
    investor_tokens,
    issuer_cash,
    mint,
)
from equitoken.issuance.models.cap_table import CapTable, Mismatch
from equitoken.issuance.models.order_book import BookOrder, Match, OrderBook
from equitoken.issuance.models.register_events import (
    REGISTER_EVENTS,
    MintSeen,
    Register,
    RegisterEvent,
    RegisterOpened,
    RegisterTransfer,
    SharesIssued,
    TransfersAbsorbed,
    absorbed,
)
from equitoken.issuance.orders import Fill, Order, OrderRequest, TimeInForce
from equitoken.issuance.plans import Plan, Plans, Transfer
from equitoken.issuance.reasons import Refusal
from equitoken.ledger.entries import EntryDraft, move

log = logging.getLogger(__name__)

STABLECOIN_DECIMALS = 6
NOTIONAL_NOT_SUPPORTED = "NOTIONAL_NOT_SUPPORTED"
"""The ATS trades shares only: a notional order has no price until it meets the book."""
CAP_TABLE_DIVERGED = "CAP_TABLE_DIVERGED"
SETTLEMENT_INCOMPLETE = "SETTLEMENT_INCOMPLETE"
"""A match moved part of its legs and could not undo them: the books need a human."""
MARKET_ORDER_NEEDS_IOC = "MARKET_ORDER_NEEDS_IOC"


@dataclass(frozen=True, slots=True)
class DirectSettings:
    """The ATS's commission (charged to the taker on each match's notional) and the treasury wallet."""

    commission: Bps = Bps(10)
    treasury: str = "direct:treasury"
    """Label of the issuer's treasury wallet (primary proceeds and commissions land there)."""

    def __post_init__(self) -> None:
        if self.commission.value < 0:
            raise DomainError("INVALID_SETTINGS", "the commission cannot be negative")


class DirectModel:
    """The direct-ownership model of one listing: register, order book, T+0 settlement."""

    def __init__(
        self, listing: Listing, context: ModelContext, settings: DirectSettings | None = None
    ) -> None:
        self._listing = listing
        self._context = context
        self._settings = settings or DirectSettings()
        self._treasury = context.chain.wallet(self._settings.treasury)
        self._book = OrderBook()
        self._table = CapTable(listing.symbol)
        self._owners: dict[WalletAddress, InvestorId] = {}
        """Every wallet the model has seen with its investor (to register a buyer's wallet)."""
        self._expiry: dict[OrderId, datetime | None] = {}
        self._cursor = 0
        """The first block whose token events the cap table has not absorbed yet."""
        self._mints: list[MintSeen] = []
        self._recorded = 0
        """Register events journaled so far (the next one's key)."""
        """Mints seen on chain that no primary issue has claimed yet."""

    # -- the protocol --------------------------------------------------------------------------

    @property
    def name(self) -> ModelName:
        """Return ``DIRECT``."""
        return ModelName.DIRECT

    @property
    def listing(self) -> Listing:
        """Return the listing this model runs."""
        return self._listing

    @property
    def cap_table(self) -> CapTable:
        """Return the register as it stands (an immutable value: reading it changes nothing)."""
        return self._table

    @property
    def book(self) -> list[BookOrder]:
        """Return the resting orders, bids then asks, each in priority order."""
        return self._book.orders()

    def open(self) -> None:
        """Start reading token events from the next block (the listing's register starts empty)."""
        cursor = self._context.chain.block_number() + 1
        self._record(RegisterOpened(cursor))
        self._cursor = cursor

    def resume(self, working: Sequence[Order] = ()) -> None:
        """Reopen the listing after a restart: the register from its events, the book from ``working``.

        The register is the fold of its journaled events (the same lots, unclaimed mints and read
        cursor); the ATS book takes back every working limit order of this listing with what
        remains of it, in the order the orders came in (their time priority).
        """
        register = Register.empty(self._listing.symbol)
        recorded = 0
        for event in journal.read(self._context.store, self._stream, REGISTER_EVENTS):
            register.apply(event)
            recorded += 1
        if not register.opened:
            raise DomainError("NOT_OPEN", f"the direct listing of {self._listing.symbol} was never opened")
        book = OrderBook()
        owners = dict(register.owners)
        expiry: dict[OrderId, datetime | None] = {}
        for order in working:
            request, remaining = order.request, order.remaining_shares()
            owners[request.wallet] = request.investor
            if (
                request.symbol != self._listing.symbol
                or not order.state.working
                or request.order_type is not OrderType.LIMIT
                or request.time_in_force is TimeInForce.IOC
                or remaining is None
                or remaining.is_zero()
            ):
                continue
            book.add(
                BookOrder(
                    order.order_id,
                    request.investor,
                    request.wallet,
                    request.side,
                    remaining,
                    request.limit_price,
                )
            )
            expiry[order.order_id] = order.expires_at
        self._table, self._mints, self._cursor = register.table, register.mints, register.cursor
        self._book, self._owners, self._expiry, self._recorded = book, owners, expiry, recorded

    @property
    def _stream(self) -> str:
        return f"register-direct-{self._listing.symbol}"

    def _record(self, event: RegisterEvent) -> None:
        """Journal a register event (before memory changes: a restart folds exactly what was kept)."""
        key = f"register:{self._listing.symbol}:{self._recorded + 1}"
        journal.append(self._context.store, self._stream, key, self._context.clock.now(), event)
        self._recorded += 1

    def refusal(
        self, request: OrderRequest, reference: ReferencePrice, status: MarketStatus
    ) -> Refusal | None:
        """Return why the ATS cannot take ``request``: notional, tokens or cash short, an empty book."""
        if request.quantity is None:
            return Refusal(NOTIONAL_NOT_SUPPORTED, "the ATS trades a number of shares, not a USD amount")
        if request.order_type is OrderType.MARKET and request.time_in_force is not TimeInForce.IOC:
            # A market order cannot rest on a book (it has no price): it takes what rests now, or nothing.
            return Refusal(
                MARKET_ORDER_NEEDS_IOC,
                "a market order on the ATS takes what rests now: send it immediate-or-cancel, or set a limit",
            )
        shares = request.quantity
        other = Side.SELL if request.side is Side.BUY else Side.BUY
        takers = [o for o in self._book.side(other) if o.investor != request.investor]
        if request.order_type is OrderType.MARKET and not takers:
            return Refusal(ModelReason.NO_LIQUIDITY, f"no {other.value} order rests in {request.symbol}")
        if request.side is Side.SELL:
            free = self._tokens(request.wallet) - self._book.resting_shares(request.wallet, Side.SELL).value
            if shares.value > free:
                return Refusal(
                    ModelReason.INSUFFICIENT_TOKENS,
                    f"{request.wallet} has {canonical_decimal(free)} {request.symbol} free to sell, "
                    f"not {shares.value}",
                )
            return None
        cost = self._buy_cost(shares, request.limit_price, takers)
        free_cash = self._cash(request.wallet) - self._reserved(request.wallet)
        if cost > free_cash:
            return Refusal(
                ModelReason.INSUFFICIENT_FUNDS,
                f"the buy needs {cost} with the commission; {request.wallet} has {free_cash} free",
            )
        return None

    def execute(self, order: Order, reference: ReferencePrice, status: MarketStatus) -> Plans:
        """Match ``order`` against the book, settle each match on chain at once, rest a limit remainder."""
        request = order.request
        remaining = order.remaining_shares()
        if remaining is None:
            raise DomainError(NOTIONAL_NOT_SUPPORTED, "the ATS trades a number of shares, not a USD amount")
        if remaining.is_zero() or self._book.get(order.order_id) is not None:
            return  # already done, or already resting: nothing new to match
        self._absorb()
        self._owners[request.wallet] = request.investor
        self._expiry[order.order_id] = order.expires_at
        incoming: BookOrder | None = BookOrder(
            order.order_id, request.investor, request.wallet, request.side, remaining, request.limit_price
        )
        settled = 0
        skipped: set[OrderId] = set()
        while incoming is not None:
            # One match at a time, on live balances: each settlement changes what the next may pay.
            found = self._book.match(incoming, self._eligibility(skipped), limit=1)
            if not found:
                break
            match = found[0]
            diverged = self._divergence(self._table, (match.seller.wallet, match.buyer.wallet))
            if diverged is not None:
                if not settled:
                    raise DomainError(CAP_TABLE_DIVERGED, diverged)
                # Fail closed from here on: keep what already settled (the engine applied it), rest nothing.
                log.error("register diverged mid-order", extra={"order": str(order.order_id)})
                return
            outcome = yield self._plan(match, reference.price, status)
            if not outcome.done:
                failure = outcome.failure
                if failure is not None and failure.code == SETTLEMENT_INCOMPLETE:
                    if not settled:
                        raise failure
                    log.error("settlement broke mid-order", extra={"order": str(order.order_id)})
                    return  # the engine halted the listing; the checks and reconciliation see the rest
                skipped.add(match.maker.order_id)  # nothing moved: a leg was refused and sent back
                continue
            settled += 1
            left = incoming.remaining - match.shares
            incoming = None if left.is_zero() else replace(incoming, remaining=left)
        rests = request.order_type is OrderType.LIMIT and request.time_in_force is not TimeInForce.IOC
        if incoming is not None and rests:
            self._book.add(incoming)

    @property
    def plan_events(self) -> tuple[type, ...]:
        """Return the events a plan carries: an issue's (a match's register moves follow the chain)."""
        return (SharesIssued,)

    def on_time(self, working: Sequence[Order]) -> Plans:
        """Drop book entries whose order no longer works; the ATS has nothing else due."""
        for gone in self._book.keep_only(o.order_id for o in working):
            self._expiry.pop(gone.order_id, None)
        yield from ()

    def complete(self, plan: Plan) -> None:
        """Apply a settled plan: an issue joins the register; a match shrinks what rests of its orders
        and the register reads its transfers."""
        for event in plan.events:
            if isinstance(event, SharesIssued):
                self._record(event)
                self._table = self._table.issue(
                    event.investor, event.wallet, event.shares, event.acquired_at, event.regulation
                )
                self._owners[event.wallet] = event.investor
                claimed = (event.tx_hash, event.log_index)
                self._mints = [m for m in self._mints if (m.tx_hash, m.log_index) != claimed]
        if not plan.fills:
            return
        for fill in plan.fills:
            self._book.reduce(fill.order_id, fill.fill.shares)
        wallets = [w for leg in plan.legs if isinstance(leg, Transfer) for w in (leg.sender, leg.receiver)]
        self._absorb(check=tuple(dict.fromkeys(wallets)))

    def withdraw(self, order: Order) -> None:
        """Take ``order`` off the book."""
        self._book.cancel(order.order_id)
        self._expiry.pop(order.order_id, None)

    def capital_locked(self) -> Money:
        """Return zero: the ATS holds no inventory and no buffer."""
        return Money.zero()

    def pnl(self) -> Money:
        """Return zero: the ATS only matches, it never takes a position."""
        return Money.zero()

    # -- primary issuance ----------------------------------------------------------------------

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
        """Decide the booking of an issue the compliance desk has just minted: payment, ledger, register.

        Decided after the mint (the model does not mint again): the issue is matched to an unbooked
        mint of exactly ``shares`` to ``wallet`` on chain, and keyed by that mint's transaction, so
        two equal issues are two entries and no issue is booked without its mint (``MINT_NOT_FOUND``).
        """
        symbol = self._listing.symbol
        self._absorb()
        minted = next((m for m in self._mints if m.wallet == wallet and m.tokens == shares.value), None)
        if minted is None:
            raise DomainError(
                "MINT_NOT_FOUND", f"no unbooked mint of {shares.value} {symbol} to {wallet} is on chain"
            )
        key = f"primary:{symbol}:{minted.tx_hash}:{minted.log_index}"
        refusal = self.primary_refusal(wallet, shares, price)
        if refusal is not None:
            raise DomainError(refusal.code, refusal.message)
        cost = price.notional(shares)
        self._verify(self._table.issue(investor, wallet, shares, acquired_at, regulation), (wallet,))
        legs = (
            ()
            if cost.is_zero()
            else (Transfer(self._listing.stablecoin, wallet, self._treasury, _usd(cost)),)
        )
        postings = (
            *move(self._listing.share, shares.value, debit=custody(symbol), credit=MARKET),
            *mint(self._listing, investor_tokens(investor, symbol), shares.value),
            *cash(cost, debit=issuer_cash(ModelName.DIRECT), credit=investor_cash(investor)),
        )
        memo = f"primary issue of {shares.value} {symbol} to {investor} at {price} ({regulation.value})"
        metadata = {"investor": investor.value, "wallet": wallet.value, "regulation": regulation.value}
        issued = SharesIssued(
            investor, wallet, shares, acquired_at, regulation, minted.tx_hash, minted.log_index
        )
        return Plan(key, symbol, legs, (EntryDraft(key, at, postings, memo, metadata),), (issued,), note=memo)

    def primary_refusal(self, wallet: WalletAddress, shares: Shares, price: Price) -> Refusal | None:
        """Return why ``wallet`` cannot pay for an issue of ``shares`` at ``price`` (ask before minting)."""
        multiplier = self._multiplier()
        if multiplier != 1:  # the desk mints one token per share: right only before any split
            return Refusal(
                "MULTIPLIER_NOT_ONE",
                f"{self._listing.symbol} trades at multiplier {multiplier}: a primary issue waits until"
                f" the desk mints shares ÷ multiplier",
            )
        cost = price.notional(shares)
        if self._cash(wallet) < cost:
            return Refusal(
                ModelReason.INSUFFICIENT_FUNDS,
                f"{wallet} cannot pay {cost} for {shares.value} {self._listing.symbol}",
            )
        return None

    # -- reconciliation ------------------------------------------------------------------------

    def reconcile(self) -> list[Mismatch]:
        """Return every wallet where the register and the chain disagree now (empty: they agree)."""
        self._absorb()
        chain = self._context.chain
        token = self._listing.instrument.token
        balances = chain.balances_at(token, chain.block_number())
        return self._table.diff({w: a.value for w, a in balances.items()})

    # -- matching ------------------------------------------------------------------------------

    def _eligibility(self, skipped: set[OrderId]) -> Callable[[BookOrder, BookOrder], Refusal | None]:
        def eligible(resting: BookOrder, incoming: BookOrder) -> Refusal | None:
            if resting.order_id in skipped:
                return Refusal("SETTLEMENT_REFUSED", "the chain refused this pair a moment ago")
            return self._refuse(resting, incoming)

        return eligible

    def _refuse(self, resting: BookOrder, incoming: BookOrder) -> Refusal | None:
        """Return why ``resting`` and ``incoming`` cannot trade now, or ``None``.

        Compliance first (the engine's decision on the transfer seller → buyer, which the contracts
        enforce too, and the contracts' own answer), then what settlement needs: the seller's tokens,
        the buyer's cash (with the commission when the buyer is the taker), a maker still in time.
        """
        now = utc(self._context.clock.now())
        expiry = self._expiry.get(resting.order_id)
        if expiry is not None and now >= expiry:
            return Refusal("ORDER_EXPIRED", f"order {resting.order_id} expired at {expiry}")
        shares = min(resting.remaining, incoming.remaining)
        seller, buyer = (resting, incoming) if resting.side is Side.SELL else (incoming, resting)
        decision = self._context.compliance.transfer(
            self._listing.symbol, seller.wallet, buyer.wallet, shares, now
        )
        if not decision.allowed:
            return Refusal(decision.reason.name, decision.violations[0].message)
        instrument = self._listing.instrument
        on_chain = self._context.chain.can_transfer(
            instrument, seller.wallet, buyer.wallet, instrument.amount(self._raw(shares))
        )
        if not on_chain.allowed:
            return Refusal(on_chain.reason.name, on_chain.reason.sentence)
        if self._tokens(seller.wallet) < shares.value:
            return Refusal(ModelReason.INSUFFICIENT_TOKENS, f"{seller.wallet} no longer holds {shares.value}")
        assert resting.limit is not None  # only limit orders rest
        notional = resting.limit.notional(shares)
        taker_buys = buyer.order_id == incoming.order_id
        due = notional + self._commission(notional) if taker_buys else notional
        if self._cash(buyer.wallet) < due:
            return Refusal(ModelReason.INSUFFICIENT_FUNDS, f"{buyer.wallet} cannot pay {due}")
        return None

    def _plan(self, match: Match, reference: Price, status: MarketStatus) -> Plan:
        """Decide one match's settlement: delivery versus payment in transfers, then its entry and fills.

        The cash legs first (a stablecoin moves for anyone with the balance), then the token leg, the
        one the compliance contracts may refuse; the executor sends the cash back if it is refused.
        """
        listing = self._listing
        instrument, symbol = listing.instrument, listing.symbol
        seller, buyer, taker = match.seller, match.buyer, match.taker
        notional = match.price.notional(match.shares)
        commission = self._commission(notional)
        tokens = self._raw(match.shares)
        legs = [Transfer(listing.stablecoin, buyer.wallet, seller.wallet, _usd(notional))]
        if not commission.is_zero():
            legs.append(Transfer(listing.stablecoin, taker.wallet, self._treasury, _usd(commission)))
        legs.append(Transfer(instrument.token, seller.wallet, buyer.wallet, instrument.amount(tokens)))
        postings = (
            *deliver(
                listing,
                investor_tokens(seller.investor, symbol),
                investor_tokens(buyer.investor, symbol),
                tokens,
            ),
            *cash(notional, debit=investor_cash(seller.investor), credit=investor_cash(buyer.investor)),
            *cash(commission, debit=fees(ModelName.DIRECT), credit=investor_cash(taker.investor)),
        )
        memo = (
            f"ATS match: {match.shares.value} {symbol} at {match.price}, {seller.investor} → {buyer.investor}"
        )
        metadata = {
            "match_id": match.match_id,
            "taker": taker.order_id.value,
            "maker": match.maker.order_id.value,
        }
        entry = EntryDraft(f"match:{match.match_id}", self._context.clock.now(), postings, memo, metadata)
        return Plan(
            match.match_id,
            symbol,
            tuple(legs),
            (entry,),
            fills=tuple(self._fills(match, reference, status)),
            undo=True,
            note=f"ATS match {match.match_id}",
        )

    def _fills(self, match: Match, reference: Price, status: MarketStatus) -> list[ModelFill]:
        at = self._context.clock.now()
        commission = self._commission(match.price.notional(match.shares))
        off_hours = not status.open  # the ATS runs around the clock; the tag is for the scorecard
        taker = Fill(f"{match.match_id}:taker", match.shares, match.price, at)
        maker = Fill(f"{match.match_id}:maker", match.shares, match.price, at)
        return [
            ModelFill(match.taker.order_id, taker, reference, commission, off_hours, match.match_id),
            ModelFill(match.maker.order_id, maker, reference, Money.zero(), off_hours, match.match_id),
        ]

    # -- the register --------------------------------------------------------------------------

    def _absorb(self, check: Sequence[WalletAddress] = ()) -> None:
        """Apply the token's transfers since the last read to the register, then verify ``check``.

        Mints are not applied here but kept for ``primary_plan`` to claim: an issue reaches the
        register with its exemption, which the event does not carry; ``reconcile`` shows a mint no
        issue claimed, and a burn (which the ATS never makes).
        """
        chain = self._context.chain
        token = self._listing.instrument.token
        latest = chain.block_number()
        if latest < self._cursor:
            self._verify(self._table, check)
            return
        mints: list[MintSeen] = []
        transfers: list[RegisterTransfer] = []
        at = utc(self._context.clock.now())
        for event in chain.events(token, self._cursor, latest):
            if event.name != "Transfer":
                continue
            sender: WalletAddress = event.args["sender"]
            receiver: WalletAddress = event.args["receiver"]
            amount: TokenAmount = event.args["value"]
            if sender.is_zero and not receiver.is_zero:
                mints.append(MintSeen(event.tx_hash, event.log_index, receiver, amount.value))
            if sender.is_zero or receiver.is_zero:
                continue
            owner = self._owners.get(receiver)
            transfers.append(RegisterTransfer(event.tx_hash, sender, receiver, Shares(amount.value), owner))
        table = absorbed(self._table, tuple(transfers), at)
        self._verify(table, check)
        if transfers or mints:  # a range with nothing in it is read again after a restart: harmless
            self._record(TransfersAbsorbed(at, latest, tuple(transfers), tuple(mints)))
        self._table = table
        self._mints = [*self._mints, *mints]
        self._cursor = latest + 1

    def _verify(self, table: CapTable, wallets: Sequence[WalletAddress]) -> None:
        diverged = self._divergence(table, wallets)
        if diverged is not None:
            raise DomainError(CAP_TABLE_DIVERGED, diverged)

    def _divergence(self, table: CapTable, wallets: Sequence[WalletAddress]) -> str | None:
        """Return where ``table`` and the chain disagree on ``wallets``, or ``None``."""
        token = self._listing.instrument.token
        chain = self._context.chain
        # Only the wallets asked about: the check after a match costs the same on any size of register.
        wrong = table.diff({w: chain.balance_of(token, w).value for w in wallets}, only=wallets)
        if not wrong:
            return None
        return f"the {self._listing.symbol} register and the token disagree: " + "; ".join(
            str(m) for m in wrong
        )

    # -- balances ------------------------------------------------------------------------------

    def _tokens(self, wallet: WalletAddress) -> Decimal:
        """Return ``wallet``'s holding in shares: raw balance × the multiplier in force."""
        raw = self._context.chain.balance_of(self._listing.instrument.token, wallet).value
        return shares_of(raw, self._multiplier())

    def _raw(self, shares: Shares) -> Decimal:
        """Return the raw tokens a trade of ``shares`` moves: ÷ multiplier, down to the register's 1e-9."""
        return raw_for_shares(shares.value, self._multiplier(), SHARE_DECIMALS)

    def _multiplier(self) -> Decimal:
        return self._context.chain.multiplier(self._listing.instrument)

    def _cash(self, wallet: WalletAddress) -> Money:
        return self._context.chain.stablecoin_balance(self._listing.stablecoin, wallet)

    def _reserved(self, wallet: WalletAddress) -> Money:
        """Return what ``wallet``'s resting buys would pay if they all matched (makers pay no commission)."""
        total = Money.zero()
        for order in self._book.side(Side.BUY):
            if order.wallet == wallet and order.limit is not None:
                total = total + order.limit.notional(order.remaining)
        return total

    def _commission(self, notional: Money) -> Money:
        """Return the taker's commission on ``notional``, rounded up to the micro-unit (platform's favour)."""
        return notional.scaled(self._settings.commission.fraction, ROUND_CEILING)

    def _buy_cost(self, shares: Shares, limit: Price | None, asks: Sequence[BookOrder]) -> Money:
        """Return the most a buy can cost: at its limit, or (market) at the asks it would take in turn."""
        if limit is not None:
            notional = limit.notional(shares)
            return notional + self._commission(notional)
        total = Money.zero()
        due = shares
        for ask in asks:
            if due.is_zero():
                break
            assert ask.limit is not None
            take = min(due, ask.remaining)
            notional = ask.limit.notional(take)
            total = total + notional + self._commission(notional)
            due = due - take
        return total


def _usd(amount: Money) -> TokenAmount:
    return TokenAmount(amount.amount, STABLECOIN_DECIMALS)


def build_direct_model(
    listing: Listing, context: ModelContext, settings: DirectSettings | None = None
) -> DirectModel:
    """Build the direct-ownership model (bind other settings with ``functools.partial``)."""
    return DirectModel(listing, context, settings)
