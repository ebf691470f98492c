"""Builders for order-desk tests: requests, reference prices and market statuses with plain defaults."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from equitoken.compliance.decision import Decision, Violation
from equitoken.domain.ids import InvestorId, Symbol, WalletAddress
from equitoken.domain.market import MarketStatus, PriceBasis, ReferencePrice, Session
from equitoken.domain.reasons import Reason
from equitoken.domain.trading import OrderType, Side
from equitoken.domain.values import Price, Shares
from equitoken.issuance.orders import OrderRequest, TimeInForce

AAPL = Symbol("AAPL")
MSFT = Symbol("MSFT")
ALICE = InvestorId("alice")
BOB = InvestorId("bob")
WALLET = WalletAddress("0x" + "11" * 20)
T0 = datetime(2024, 6, 3, 15, 0, tzinfo=UTC)  # a Monday, inside the NYSE session
CLOSE = datetime(2024, 6, 3, 20, 0, tzinfo=UTC)
ALLOWED = Decision.of(())


def request(**changes: Any) -> OrderRequest:
    """Return a market buy of 10 AAPL for alice, with ``changes`` applied."""
    fields: dict[str, Any] = {
        "client": "alice-app",
        "idempotency_key": "k1",
        "investor": ALICE,
        "wallet": WALLET,
        "symbol": AAPL,
        "side": Side.BUY,
        "order_type": OrderType.MARKET,
        "time_in_force": TimeInForce.GTC,
        "quantity": Shares(10),
    }
    fields.update(changes)
    return OrderRequest(**fields)


def reference(
    price: str = "100", symbol: Symbol = AAPL, at: datetime = T0, stale: bool = False
) -> ReferencePrice:
    """Return a reference price, fresh unless told."""
    return ReferencePrice(
        symbol=symbol,
        at=at,
        price=Price(price),
        basis=PriceBasis.INTERPOLATED,
        bar_day=date(2024, 6, 3),
        stale=stale,
        stale_reason="no bar for the 2024-06-04 session" if stale else None,
    )


def status(open_: bool = True, next_close: datetime = CLOSE, at: datetime = T0) -> MarketStatus:
    """Return a market status: the regular session (default) or closed, closing at ``next_close``."""
    return MarketStatus(
        at=at,
        session=Session.REGULAR if open_ else Session.CLOSED,
        early_close=False,
        trading_day=date(2024, 6, 3) if open_ else None,
        next_open=at + timedelta(hours=18),
        next_close=next_close,
    )


def refused(code: Reason = Reason.RECIPIENT_SANCTIONED, message: str = "on the sanctions list") -> Decision:
    """Return a compliance decision refusing with ``code``."""
    return Decision.of((Violation(code, "sanctions", message),))
