"""The API's shapes: what requests carry and what answers hold, with the converters from domain values.

Amounts, prices and share counts travel as decimal strings (``"38.50"``), never JSON numbers: a float
cannot carry money exactly, so a number where an amount belongs is refused as bad input. Instants are
ISO 8601 in UTC. Each answer model is built from the domain object it shows (``*_out`` functions), so
the OpenAPI document and the bodies cannot drift apart.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from equitoken.compliance.investors import Investor
from equitoken.domain.market import MarketStatus
from equitoken.domain.values import canonical_decimal
from equitoken.issuance.orders import Order
from equitoken.issuance.orders.quotes import Quote

DecimalText = Annotated[
    str,
    Field(pattern=r"^[0-9]{1,15}(\.[0-9]{1,18})?$", examples=["100", "38.50"], max_length=34),
]
"""A non-negative decimal amount, as text."""
SymbolText = Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9.]{0,9}$", examples=["MSFT"])]
InvestorText = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$", examples=["inv-anna"])]
CountryText = Annotated[str, Field(pattern=r"^[A-Z]{2}$", examples=["DE"])]
ReasonText = Annotated[str, Field(min_length=1, max_length=500)]


def text(value: Decimal) -> str:
    """Return ``value`` as the API's decimal text."""
    return canonical_decimal(value)


class Strict(BaseModel):
    """A request body: unknown fields are refused, not ignored."""

    model_config = ConfigDict(extra="forbid")


# -- service -----------------------------------------------------------------------------------


class Health(BaseModel):
    """Liveness and what the service is connected to."""

    status: Literal["ok"]
    version: str
    now: datetime
    sandbox: bool
    store: str
    chain: str
    chain_id: int
    block: int
    listings: int
    halted: list[str]
    last_tick: datetime | None
    tick_failures: int
    role: Literal["leader", "follower", "opening"] = "leader"
    """What this server does with the engine; a lone server leads (``docs/service.md``, Scaling out)."""
    leader_url: str | None = None
    """Where the engine's leader is reached (this server's own URL when it leads several)."""
    leader_since: datetime | None = None


class MarketOut(BaseModel):
    """What the exchange is doing now, by the platform's clock."""

    at: datetime
    session: str
    open: bool
    early_close: bool
    trading_day: date | None
    next_open: datetime
    next_close: datetime
    holiday: str | None


def market_out(status: MarketStatus) -> MarketOut:
    """Return the market status as the API shows it."""
    return MarketOut(
        at=status.at,
        session=status.session.value,
        open=status.open,
        early_close=status.early_close,
        trading_day=status.trading_day,
        next_open=status.next_open,
        next_close=status.next_close,
        holiday=status.holiday,
    )


class SessionOut(BaseModel):
    """One trading day's regular session."""

    day: date
    open: datetime
    close: datetime


# -- listings ----------------------------------------------------------------------------------


class ListingIn(Strict):
    """List a stock under a model and a compliance policy."""

    symbol: SymbolText
    model: Literal["inventory", "instant", "direct"]
    policy: Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{0,63}$", examples=["instant-execution"])]


class ListingOut(BaseModel):
    """A listed stock: its model, policy, contracts, multiplier, backing and whether it trades."""

    symbol: str
    model: str
    policy: str
    token: str
    compliance: str
    identity_registry: str
    stablecoin: str
    multiplier: str
    supply: str
    custody: str
    in_flight: str
    backed: bool
    halted: str | None
    blackout: str | None
    reference_price: str | None
    price_at: datetime | None


# -- investors ---------------------------------------------------------------------------------


WalletText = Annotated[str, Field(pattern=r"^0x[0-9a-fA-F]{40}$", examples=["0x" + "ab" * 20])]


class InvestorIn(Strict):
    """Onboard an investor: the platform makes and keeps its wallet's key, unless ``wallet`` is given.

    With ``wallet`` the investor holds its own key (self-custody): the platform records the address
    only, whitelists it like any wallet, and leaves the settlement of its firm quotes to that wallet.
    """

    investor_id: InvestorText
    name: Annotated[str, Field(min_length=1, max_length=200)]
    residence: CountryText
    nationality: CountryText | None = None
    category: Literal[
        "retail",
        "professional",
        "elective_professional",
        "accredited",
        "qualified_purchaser",
        "institutional",
    ]
    kind: Literal["natural_person", "entity"] = "natural_person"
    us_person: bool = False
    kyc: Literal["none", "pending", "verified", "rejected"] = "verified"
    kyc_expires: date | None = None
    kyc_reason: Annotated[str, Field(max_length=500)] = ""
    wallet: WalletText | None = None
    """The investor's own wallet (self-custody); omitted, the platform keeps one for it."""


class KycIn(Strict):
    """Move an investor's KYC to another state."""

    state: Literal["pending", "verified", "suspended", "rejected", "expired"]
    expires: date | None = None
    reason: Annotated[str, Field(max_length=500)] = ""


class WhitelistIn(Strict):
    """Put an investor on (or take it off) a listing's holder whitelist."""

    symbol: SymbolText
    whitelisted: bool = True


class InvestorOut(BaseModel):
    """An onboarded investor as compliance sees it."""

    investor_id: str
    name: str
    kind: str
    residence: str
    nationality: str
    category: str
    us_person: bool
    kyc: str
    kyc_expires: date | None
    kyc_since: datetime | None
    wallets: list[str]
    custody: Literal["platform", "self"]
    """Who holds the wallet's key: the platform, or the investor itself (self-custody)."""


def investor_out(investor: Investor, self_custody: bool = False) -> InvestorOut:
    """Return the investor as the API shows it (``self_custody``: it holds its own key)."""
    kyc = investor.kyc
    return InvestorOut(
        investor_id=str(investor.investor_id),
        name=investor.name,
        kind=investor.kind.value,
        residence=investor.residence.alpha2,
        nationality=investor.nationality.alpha2,
        category=investor.category.value,
        us_person=investor.us_person,
        kyc=kyc.state.value,
        kyc_expires=kyc.expires,
        kyc_since=kyc.since,
        wallets=sorted(w.value for w in investor.wallets),
        custody="self" if self_custody else "platform",
    )


class HoldingOut(BaseModel):
    """One listing's position of an investor: tokens, what they are worth in shares, lockups."""

    symbol: str
    tokens: str
    """The raw token balance on chain (what the ERC-20 reports)."""
    multiplier: str
    shares: str
    """Tokens × the listing's multiplier: the shares the tokens stand for after splits."""
    ledger_tokens: str
    cost: str
    """What the investor paid for the tokens it holds (fills at cost, less what it sold at cost)."""
    locked: str
    """Tokens still in a lockup (direct ownership), not transferable yet."""
    lockup_until: datetime | None


class HoldingsOut(BaseModel):
    """An investor's cash and positions."""

    investor_id: str
    wallet: str
    cash: str
    stablecoin: str
    holdings: list[HoldingOut]


class AmountIn(Strict):
    """An amount of USD."""

    amount: DecimalText


class CashOut(BaseModel):
    """What a deposit or a redemption did."""

    investor_id: str
    amount: str
    applied: bool
    """False when the same idempotency key had already moved this money (nothing moved twice)."""
    cash: str


# -- quotes and orders -------------------------------------------------------------------------


class QuoteIn(Strict):
    """Ask for an indicative price."""

    investor_id: InvestorText
    symbol: SymbolText
    side: Literal["buy", "sell"]
    quantity: DecimalText


class QuoteOut(BaseModel):
    """An indicative price, valid until ``expires_at``."""

    quote_id: str
    investor_id: str
    wallet: str
    symbol: str
    side: str
    quantity: str
    price: str
    reference: str
    spread_bps: str
    fee: str
    in_session: bool
    issued_at: datetime
    expires_at: datetime


def quote_out(quote: Quote) -> QuoteOut:
    """Return the quote as the API shows it."""
    return QuoteOut(
        quote_id=quote.quote_id,
        investor_id=str(quote.investor),
        wallet=quote.wallet.value,
        symbol=str(quote.symbol),
        side=quote.side.value,
        quantity=text(quote.quantity.value),
        price=text(quote.price.amount),
        reference=text(quote.reference.amount),
        spread_bps=text(quote.spread.value),
        fee=text(quote.fee.amount),
        in_session=quote.in_session,
        issued_at=quote.issued_at,
        expires_at=quote.expires_at,
    )


class OrderIn(Strict):
    """Submit an order: shares (``quantity``) or USD (``notional``), market or limit."""

    investor_id: InvestorText
    symbol: SymbolText
    side: Literal["buy", "sell"]
    type: Literal["market", "limit"] = "market"
    time_in_force: Literal["ioc", "day", "gtc"] = "day"
    quantity: DecimalText | None = None
    notional: DecimalText | None = None
    limit_price: DecimalText | None = None


class FillOut(BaseModel):
    """One fill of an order."""

    fill_id: str
    shares: str
    price: str
    notional: str
    at: datetime


class OrderOut(BaseModel):
    """An order as it stands, with its fills."""

    order_id: str
    client: str
    idempotency_key: str
    investor_id: str
    symbol: str
    side: str
    type: str
    time_in_force: str
    quantity: str | None
    notional: str | None
    limit_price: str | None
    state: str
    received_at: datetime
    expires_at: datetime | None
    filled_shares: str
    filled_notional: str
    rejection_code: str | None
    rejection: str | None
    end_code: str | None
    """The reason code a cancelled or expired order ended with, when the engine ended it."""
    end_reason: str | None
    """Why a cancelled or expired order ended (the client's cancel, the chain's refusal, its expiry)."""
    fills: list[FillOut]


_CODED = re.compile(r"^([A-Z][A-Z0-9_]{1,63}): ")
"""How the engine words the end of an order it ended: ``CODE: sentence`` (a client's cancel is not)."""


@dataclass(frozen=True, slots=True)
class Ending:
    """The reason code and sentence an order the engine ended carries."""

    code: str
    reason: str


def ending(order: Order) -> Ending | None:
    """Return the code and sentence an ended order carries, or ``None`` (not ended, or by its client)."""
    found = None if order.ended is None else _CODED.match(order.ended)
    return None if found is None or order.ended is None else Ending(found.group(1), order.ended)


def order_out(order: Order) -> OrderOut:
    """Return the order as the API shows it."""
    request = order.request
    rejected = order.rejection
    return OrderOut(
        order_id=str(order.order_id),
        client=request.client,
        idempotency_key=request.idempotency_key,
        investor_id=str(request.investor),
        symbol=str(request.symbol),
        side=request.side.value,
        type=request.order_type.value,
        time_in_force=request.time_in_force.value,
        quantity=None if request.quantity is None else text(request.quantity.value),
        notional=None if request.notional is None else text(request.notional.amount),
        limit_price=None if request.limit_price is None else text(request.limit_price.amount),
        state=order.state.value,
        received_at=order.received_at,
        expires_at=order.expires_at,
        filled_shares=text(order.filled_shares.value),
        filled_notional=text(order.filled_notional.amount),
        rejection_code=None if rejected is None else rejected.code,
        rejection=None if rejected is None else rejected.message,
        end_code=None if (ended := ending(order)) is None else ended.code,
        end_reason=order.ended,
        fills=[
            FillOut(
                fill_id=f.fill_id,
                shares=text(f.shares.value),
                price=text(f.price.amount),
                notional=text(f.notional.amount),
                at=f.at,
            )
            for f in order.fills
        ],
    )


class CancelIn(Strict):
    """Cancel a working order."""

    reason: Annotated[str, Field(max_length=500)] = "cancelled by the client"


# -- halts and keys ----------------------------------------------------------------------------


class HaltOut(BaseModel):
    """A listing whose minting is halted, and why."""

    symbol: str
    reason: str


class LiftIn(Strict):
    """Lift a halt after a clean reconciliation, with the operator's reason."""

    reason: ReasonText
    accept_break: bool = False


class ReconciliationOut(BaseModel):
    """One listing's reconciliation of the chain, the ledger and the custodian."""

    symbol: str
    clean: bool
    block: int
    collateral: str
    """Shares held (custody + in flight + commitments) by the ledger."""
    required: str
    """Shares the tokens stand for (chain supply × multiplier)."""
    breaks: list[str]
    at: datetime


class ReconciliationsOut(BaseModel):
    """The reconciliations one request ran."""

    results: list[ReconciliationOut]


class KeyIn(Strict):
    """Issue an API key."""

    role: Literal["operator", "compliance", "investor", "auditor"]
    investor_id: InvestorText | None = None
    name: Annotated[str, Field(max_length=200)] = ""


class KeyOut(BaseModel):
    """An API key (its secret only in the answer that issued it)."""

    key_id: str
    role: str
    investor_id: str | None
    name: str
    active: bool
    secret: str | None = None
