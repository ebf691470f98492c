"""Posting rules for broker fills: the trade-date entry and the settlement-day entry of each fill.

A fill is booked twice, both times as a balanced entry with a key derived from the fill id, so
booking a fill again is a no-op:

- **trade date** (``broker-fill:{fill_id}``, effective at the fill instant): the shares become the
  issuer's economically, in ``in_flight:SYM``; the cash is committed, in ``cash_in_flight``.
- **settlement** (``broker-settle:{fill_id}``, effective at the *settlement instant*): the shares
  move from ``in_flight:SYM`` to ``custody:SYM`` (or leave custody, for a sell) and the cash
  changes hands with the market.

Signs are debit-positive. With ``q`` shares and ``c`` = the fill's notional:

- buy, trade date:  in_flight:SYM +q / external_market −q;   funding −c / cash_in_flight +c
- buy, settlement:  custody:SYM +q / in_flight:SYM −q;       cash_in_flight −c / external_market +c
- sell, trade date: in_flight:SYM −q / external_market +q;   cash_in_flight +c / external_market −c
- sell, settlement: custody:SYM −q / in_flight:SYM +q;       funding +c / cash_in_flight −c

A fill so small that its notional rounds to zero books its share lines only.

So from the trade date on, ``custody:SYM + in_flight:SYM`` is the issuer's economic share position,
the figure the reserve invariant (tokens × multiplier = custody + in flight) compares with supply.

**Settlement instant rule.** Shares and cash settle at the *regular-session open of the settlement
date* (``settlement_instant``): the calendar's open of ``fill.settlement_date``. DTC's overnight
cycle has delivered by then, and using a calendar instant (not midnight) keeps holidays, early
closes and daylight saving out of the rule. The simulated broker reports custody with the same
rule, so the ledger and the broker's positions agree at every instant.
"""

from __future__ import annotations

from datetime import date, datetime

from equitoken.domain.errors import DomainError
from equitoken.domain.instants import utc
from equitoken.domain.trading import Side
from equitoken.domain.values import canonical_decimal
from equitoken.ledger.accounts import Account, AccountKind, Asset
from equitoken.ledger.entries import EntryDraft, Posting, move
from equitoken.ports.broker import BrokerFill
from equitoken.ports.market import MarketCalendar

MARKET = Account.of(AccountKind.EXTERNAL_MARKET)
CASH_IN_FLIGHT = Account.of(AccountKind.CASH_IN_FLIGHT)
_NOT_FUNDING = (AccountKind.CASH_IN_FLIGHT, AccountKind.EXTERNAL_MARKET)


def trade_key(fill_id: str) -> str:
    """Return the idempotency key of a fill's trade-date entry."""
    return f"broker-fill:{fill_id}"


def settle_key(fill_id: str) -> str:
    """Return the idempotency key of a fill's settlement entry."""
    return f"broker-settle:{fill_id}"


def settlement_instant(calendar: MarketCalendar, settlement_date: date) -> datetime:
    """Return when a fill settling on ``settlement_date`` settles: that session's regular open."""
    return calendar.session_bounds(settlement_date)[0]


def check_funding_account(funding: Account, currency: str = "USD") -> Asset:
    """Return the cash asset ``funding`` pays fills in, or refuse an account that cannot fund fills.

    Refused: accounts that cannot hold cash, and the two legs the rules book themselves
    (``cash_in_flight``, ``external_market``), which would make the cash movement vanish.
    """
    cash = Asset.cash(currency)
    if funding.kind in _NOT_FUNDING or not funding.accepts(cash):
        raise DomainError(
            "INVALID_FUNDING_ACCOUNT", f"{funding} cannot fund or receive {cash} for a broker fill"
        )
    return cash


def fill_metadata(fill: BrokerFill, funding: Account) -> dict[str, str]:
    """Return what identifies ``fill`` and its funding, as text (entry metadata, event payloads)."""
    return {
        "fill_id": fill.fill_id,
        "client_order_id": fill.client_order_id,
        "symbol": str(fill.symbol),
        "side": fill.side.value,
        "quantity": canonical_decimal(fill.quantity.value),
        "price": canonical_decimal(fill.price.amount),
        "currency": fill.price.currency,
        "trade_date": fill.trade_date.isoformat(),
        "settlement_date": fill.settlement_date.isoformat(),
        "funding_account": funding.path,
    }


def _cash_leg(fill: BrokerFill, cash: Asset, *, debit: Account, credit: Account) -> tuple[Posting, ...]:
    notional = fill.notional
    # A sliver of a share can round to zero notional; a zero posting is refused, so book no cash then.
    return () if notional.is_zero() else move(cash, notional.amount, debit=debit, credit=credit)


def trade_date_entry(fill: BrokerFill, funding: Account) -> EntryDraft:
    """Return the entry that books ``fill`` on its trade date, effective at the fill instant.

    ``funding`` is the cash account that pays for a buy (or, at settlement, receives a sell's
    proceeds): e.g. ``issuer_cash`` or a buffer pool.
    """
    cash = check_funding_account(funding, fill.price.currency)
    shares = Asset.share(fill.symbol)
    in_flight = Account.of(AccountKind.IN_FLIGHT, fill.symbol)
    q = fill.quantity.value
    if fill.side is Side.BUY:
        postings = (
            *move(shares, q, debit=in_flight, credit=MARKET),
            *_cash_leg(fill, cash, debit=CASH_IN_FLIGHT, credit=funding),
        )
    else:
        postings = (
            *move(shares, q, debit=MARKET, credit=in_flight),
            *_cash_leg(fill, cash, debit=CASH_IN_FLIGHT, credit=MARKET),
        )
    price = f"{canonical_decimal(fill.price.amount)} {fill.price.currency}"  # one spelling per value
    memo = f"broker {fill.side.value} {canonical_decimal(q)} {fill.symbol} @ {price} (trade date)"
    return EntryDraft(trade_key(fill.fill_id), fill.filled_at, postings, memo, fill_metadata(fill, funding))


def settlement_entry(fill: BrokerFill, funding: Account, settles_at: datetime) -> EntryDraft:
    """Return the entry that settles ``fill``, effective at ``settles_at`` (see ``settlement_instant``)."""
    cash = check_funding_account(funding, fill.price.currency)
    if utc(settles_at) < fill.filled_at:
        raise DomainError(
            "SETTLEMENT_BEFORE_TRADE",
            f"fill {fill.fill_id} cannot settle at {settles_at.isoformat()}, before it traded",
        )
    shares = Asset.share(fill.symbol)
    in_flight = Account.of(AccountKind.IN_FLIGHT, fill.symbol)
    custody = Account.of(AccountKind.CUSTODY, fill.symbol)
    q = fill.quantity.value
    if fill.side is Side.BUY:
        postings = (
            *move(shares, q, debit=custody, credit=in_flight),
            *_cash_leg(fill, cash, debit=MARKET, credit=CASH_IN_FLIGHT),
        )
    else:
        postings = (
            *move(shares, q, debit=in_flight, credit=custody),
            *_cash_leg(fill, cash, debit=funding, credit=CASH_IN_FLIGHT),
        )
    memo = f"broker {fill.side.value} {canonical_decimal(q)} {fill.symbol} settles ({fill.settlement_date})"
    return EntryDraft(settle_key(fill.fill_id), settles_at, postings, memo, fill_metadata(fill, funding))


def fill_entries(fill: BrokerFill, funding: Account, settles_at: datetime) -> tuple[EntryDraft, EntryDraft]:
    """Return both entries of ``fill``: the trade-date one and the settlement one."""
    return trade_date_entry(fill, funding), settlement_entry(fill, funding, settles_at)
