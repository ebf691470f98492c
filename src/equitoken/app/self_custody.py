"""Investors who hold their own keys: firm quotes they settle themselves, and the relay of what they sign.

A self-custody investor (onboarded with its own wallet: ``IssuanceEngine.onboard(wallet=...)``) takes
a **firm quote** on an instant-execution listing: an order like any other (compliance through the one
gate, price band, risk limits, the model's funds and exposure checks), which the instant model fills
with one EIP-712 quote — the same decision as for a platform-settled order. The executor does not
send it: the investor's wallet does (``QuoteSettlement.settle`` requires its caller to be the quote's
investor). The plan waits in the outbox until the chain shows the quote's ``QuoteSettled`` log —
then the fill is booked exactly once, with its ledger entry, commitment and hedge — or until the
chain's time passes the quote's expiry, when it is abandoned and the order ends ``QUOTE_EXPIRED``.

Each quote answered is journaled (stream ``firm-quotes``, ``FirmQuoteIssued``), so a retried request
answers the same quote after its plan has closed; the signature is derived again (deterministic).

The **relay** submits a transaction a self-custody wallet signed, for chains the investor cannot
reach itself (the embedded chain has no JSON-RPC endpoint). It takes only what a firm quote needs:
``approve`` on the stablecoin and ``settle`` on a listing's settlement contract, from a self-custody
investor's wallet, at the sender's next nonce, on this chain, with no native value. Anything else is
refused before it reaches the chain. With a node, the wallet may send to the node directly: the
engine books it the same way, from the chain's log.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from equitoken.app.issuance import IssuanceEngine, QuoteSettling
from equitoken.domain.errors import DomainError
from equitoken.domain.ids import InvestorId, OrderId, Symbol, WalletAddress
from equitoken.domain.instants import utc
from equitoken.domain.keccak import keccak256
from equitoken.domain.trading import OrderType, Side
from equitoken.domain.values import Money, Shares
from equitoken.issuance import journal
from equitoken.issuance.models import ModelName
from equitoken.issuance.models.base import Holder
from equitoken.issuance.orders import Order, OrderRequest, TimeInForce
from equitoken.issuance.plans import SettleQuote
from equitoken.ports.chain import ChainQuote, ChainTx, SignedQuote

STREAM = "firm-quotes"
APPROVE = keccak256(b"approve(address,uint256)")[:4]
SETTLE = keccak256(b"settle(address,bytes32,uint8,uint256,uint256,uint256,bytes32,uint8,bytes32,bytes32)")[:4]


@dataclass(frozen=True, slots=True)
class FirmQuoteIssued:
    """A firm quote was signed and handed to its self-custody investor to settle."""

    at: datetime
    order_id: OrderId
    investor: InvestorId
    symbol: Symbol
    quote: ChainQuote


FIRM_QUOTE_EVENTS: tuple[type, ...] = (FirmQuoteIssued,)


@dataclass(frozen=True, slots=True)
class FirmQuote:
    """What a self-custody investor needs to settle a quote itself, and the order that waits for it."""

    order: Order
    quote: ChainQuote
    signed: SignedQuote
    notional: Money
    """The stablecoin the contract moves (a buy must approve at least this to the settlement)."""
    stablecoin: WalletAddress
    typed_data: Mapping[str, Any]
    calldata: bytes


@dataclass(frozen=True, slots=True)
class Relayed:
    """A relayed transaction, mined: its receipt, and the orders booked from the chain right after."""

    tx: ChainTx
    sender: WalletAddress
    booked: tuple[OrderId, ...]


class SelfCustody:
    """Firm quotes for self-custody investors, and the relay of their signed transactions."""

    def __init__(self, engine: IssuanceEngine) -> None:
        self._engine = engine

    def firm_quote(
        self, client: str, idempotency_key: str, holder: Holder, symbol: Symbol, side: Side, quantity: Shares
    ) -> FirmQuote:
        """Decide, sign and journal a firm quote for ``holder`` (its own wallet) to settle on chain."""
        engine = self._engine
        if engine.custody_wallet(holder.investor) != holder.wallet:
            raise DomainError(
                "FIRM_QUOTE_NEEDS_OWN_WALLET",
                f"{holder.investor}'s wallet is kept by the platform, which settles its orders itself",
            )
        model = engine.model(symbol)  # NOT_LISTED
        if model.name is not ModelName.INSTANT:
            raise DomainError(
                "FIRM_QUOTE_UNSUPPORTED",
                f"{symbol} is listed under {model.name}: only instant-execution listings settle quotes",
            )
        request = OrderRequest(
            client,
            idempotency_key,
            holder.investor,
            holder.wallet,
            symbol,
            side,
            OrderType.MARKET,
            TimeInForce.IOC,
            quantity=quantity,
        )
        submission = engine.submit(request)
        order = engine.orders.order(submission.order.order_id)
        rejection = order.rejection
        if rejection is not None:
            raise DomainError(
                rejection.code,
                f"{rejection.message} (order {order.order_id})",
                {"order_id": str(order.order_id)},
            )
        quote = self._quote_of(order)
        return self._answer(order, quote)

    def _quote_of(self, order: Order) -> ChainQuote:
        """Return the order's firm quote: its waiting plan's, or the one journaled when first answered."""
        engine = self._engine
        plan = engine.executor.awaiting().get(order.order_id)
        if plan is not None:
            leg = plan.legs[0]
            assert isinstance(leg, SettleQuote)  # ``awaiting`` holds only plans that start with one
            at = utc(engine.clock.now())
            request = order.request
            event = FirmQuoteIssued(at, order.order_id, request.investor, request.symbol, leg.quote)
            answered = self._journaled(order.order_id)
            if answered is not None:
                return answered  # answered before (a retry): the same quote, as first journaled
            journal.append(engine.store, STREAM, f"firm-quote:{order.order_id}", at, event)
            return leg.quote
        answered = self._journaled(order.order_id)
        if answered is not None:
            return answered
        raise DomainError(
            "FIRM_QUOTE_UNAVAILABLE",
            f"order {order.order_id} is {order.state.value} with no quote to settle (see the order)",
            {"order_id": str(order.order_id)},
        )

    def _journaled(self, order_id: OrderId) -> ChainQuote | None:
        """Return the quote journaled for ``order_id`` when it was first answered, if it was."""
        for known in journal.read(self._engine.store, STREAM, FIRM_QUOTE_EVENTS):
            if isinstance(known, FirmQuoteIssued) and known.order_id == order_id:
                return known.quote
        return None

    def _answer(self, order: Order, quote: ChainQuote) -> FirmQuote:
        chain = self._engine.chain
        signed = chain.sign_quote(quote)
        return FirmQuote(
            order,
            quote,
            signed,
            chain.quote_notional(quote),
            self._engine.stablecoin,
            chain.quote_typed_data(signed),
            chain.settle_calldata(signed),
        )

    def relay(self, raw: bytes, may_act_for: Callable[[InvestorId], None]) -> Relayed:
        """Check and submit a transaction a self-custody wallet signed; book what the chain then shows.

        ``may_act_for(investor)`` refuses (``ACCESS_DENIED``) a caller who may not act for the
        sender's investor.
        """
        engine = self._engine
        chain = engine.chain
        tx = chain.decode_transaction(raw)  # TX_MALFORMED
        if tx.chain_id != chain.chain_id:
            raise DomainError(
                "TX_WRONG_CHAIN", f"the transaction is signed for chain {tx.chain_id}, not {chain.chain_id}"
            )
        investor = engine.custody.owners.get(tx.sender)
        if investor is None:
            raise DomainError(
                "TX_SENDER_UNKNOWN",
                f"{tx.sender} is no self-custody investor's wallet: the relay sends only for those",
            )
        may_act_for(investor)
        self._check_call(tx.to, tx.data, tx.value)
        expected = chain.nonce_of(tx.sender)
        if tx.nonce < expected:
            raise DomainError(
                "TX_NONCE_USED",
                f"nonce {tx.nonce} of {tx.sender} is used (next is {expected}): a replayed transaction",
            )
        if tx.nonce > expected:
            raise DomainError(
                "TX_NONCE_GAP", f"nonce {tx.nonce} of {tx.sender} skips ahead of its next nonce {expected}"
            )
        mined = chain.submit_transaction(raw)  # a revert raises its code, with the tx hash
        booked = engine.book_settlements()
        return Relayed(mined, tx.sender, booked)

    def _check_call(self, to: WalletAddress | None, data: bytes, value: int) -> None:
        """Refuse a call a firm quote does not need: only ``approve`` on the stablecoin, ``settle`` on a
        listing's quote settlement, and no native value."""
        if value != 0:
            raise DomainError("TX_CALL_REFUSED", "the relay sends no native value")
        engine = self._engine
        settlements = {
            model.settlement for model in engine.models().values() if isinstance(model, QuoteSettling)
        }
        if to is not None and to == engine.stablecoin:
            if data[:4] != APPROVE:
                raise DomainError("TX_CALL_REFUSED", "on the stablecoin the relay sends only approve")
            return
        if to is not None and to in settlements:
            if data[:4] != SETTLE:
                raise DomainError("TX_CALL_REFUSED", "on a quote settlement the relay sends only settle")
            return
        raise DomainError(
            "TX_DESTINATION_REFUSED",
            f"the relay sends only to the stablecoin or a listing's quote settlement, not to {to}",
        )
