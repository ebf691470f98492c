"""The shapes of self-custody: firm quotes an investor settles from its own wallet, and the relay."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from equitoken.api.schemas import DecimalText, InvestorText, OrderOut, Strict, SymbolText, order_out, text
from equitoken.app.self_custody import FirmQuote, Relayed
from equitoken.domain.instants import utc

HexText = Annotated[str, Field(pattern=r"^0x[0-9a-fA-F]+$", max_length=131_074, examples=["0x02f86f"])]
"""Bytes as ``0x`` hex (an odd number of digits is refused as ``TX_MALFORMED``)."""


class FirmQuoteIn(Strict):
    """Ask for a firm quote to settle from the investor's own wallet (instant-execution listings)."""

    investor_id: InvestorText
    symbol: SymbolText
    side: Literal["buy", "sell"]
    quantity: DecimalText
    """Shares."""


class SignatureOut(BaseModel):
    """The platform signer's EIP-712 signature: 65 bytes ``r || s || v`` and its parts."""

    signature: str
    v: int
    r: str
    s: str


class FirmQuoteOut(BaseModel):
    """A signed firm quote: settle it with ``settle`` on ``settlement`` from ``wallet`` before ``expires_at``.

    A buy must first approve ``settlement`` for at least ``notional`` on ``stablecoin``. ``calldata``
    is the ``settle`` call ready to sign; ``typed_data`` is the EIP-712 document the signature covers.
    """

    quote_id: str
    """The platform's quote id (the on-chain ``quoteId`` is its keccak, in ``typed_data``)."""
    order: OrderOut
    chain_id: int
    settlement: str
    stablecoin: str
    wallet: str
    side: Literal["buy", "sell"]
    tokens: str
    price_per_token: str
    notional: str
    expires_at: str
    signature: SignatureOut
    typed_data: dict[str, Any]
    calldata: str


def firm_quote_out(made: FirmQuote) -> FirmQuoteOut:
    """Return the firm quote as the API shows it."""
    quote, raw = made.quote, bytes.fromhex(made.signed.signature.removeprefix("0x"))
    return FirmQuoteOut(
        quote_id=quote.quote_id,
        order=order_out(made.order),
        chain_id=made.signed.chain_id,
        settlement=quote.settlement.value,
        stablecoin=made.stablecoin.value,
        wallet=quote.investor.value,
        side="buy" if quote.side == 0 else "sell",
        tokens=text(quote.quantity.value),
        price_per_token=text(quote.price.amount),
        notional=text(made.notional.amount),
        expires_at=utc(quote.expiry).isoformat(),
        signature=SignatureOut(
            signature=made.signed.signature, v=raw[64], r="0x" + raw[:32].hex(), s="0x" + raw[32:64].hex()
        ),
        typed_data=dict(made.typed_data),
        calldata="0x" + made.calldata.hex(),
    )


class TransactionIn(Strict):
    """A raw transaction the sender signed itself (EIP-155: legacy, EIP-2930 or EIP-1559), as hex."""

    raw: HexText


class TransactionOut(BaseModel):
    """A relayed transaction, mined: its hash, block, sender, the events it emitted, what was booked."""

    tx_hash: str
    block: int
    sender: str
    status: Literal["mined"]
    events: list[str]
    booked_orders: list[str]
    """Orders whose firm quote this settled, booked at once."""


def transaction_out(relayed: Relayed) -> TransactionOut:
    """Return the relayed transaction as the API shows it."""
    return TransactionOut(
        tx_hash=relayed.tx.tx_hash,
        block=relayed.tx.block,
        sender=relayed.sender.value,
        status="mined",
        events=[e.name for e in relayed.tx.events],
        booked_orders=[str(o) for o in relayed.booked],
    )
