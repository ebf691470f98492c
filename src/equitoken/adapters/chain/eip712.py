"""EIP-712 quotes for ``QuoteSettlement``: the digest exactly as the contract computes it, and signing.

Domain: ``EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)`` with
name ``"equitoken"``, version ``"1"``. Message type::

    Quote(address investor,bytes32 symbol,uint8 side,uint256 quantity,uint256 price,uint256 expiry,
          bytes32 quoteId)   (one line in the type string)

``side`` is 0 for a buy, 1 for a sell; ``quantity`` is in token raw units; ``price`` in stablecoin raw
units (6 decimals) per whole token; ``expiry`` is the last valid second. ``quote_notional`` rounds as
the contract does: up for buys, down for sells (in the platform's favour).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import coincurve

from equitoken.domain.errors import DomainError
from equitoken.domain.keccak import keccak256

DOMAIN_NAME = "equitoken"
DOMAIN_VERSION = "1"
DOMAIN_TYPE = "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
QUOTE_TYPE = (
    "Quote(address investor,bytes32 symbol,uint8 side,uint256 quantity,uint256 price,"
    "uint256 expiry,bytes32 quoteId)"
)
DOMAIN_TYPEHASH = keccak256(DOMAIN_TYPE.encode())
QUOTE_TYPEHASH = keccak256(QUOTE_TYPE.encode())
SIDE_BUY = 0
SIDE_SELL = 1
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
_UINT256_MAX = 2**256 - 1


@dataclass(frozen=True, slots=True)
class Quote:
    """A platform quote, in the contract's raw integer units."""

    investor: bytes
    symbol: bytes
    side: int
    quantity: int
    price: int
    expiry: int
    quote_id: bytes

    def __post_init__(self) -> None:
        """Validate field sizes, so a bad quote fails here rather than as a bad signature on chain."""
        if len(self.investor) != 20:
            raise DomainError("INVALID_QUOTE", "investor must be a 20-byte address")
        if len(self.symbol) != 32 or len(self.quote_id) != 32:
            raise DomainError("INVALID_QUOTE", "symbol and quote_id must be 32 bytes")
        if self.side not in (SIDE_BUY, SIDE_SELL):
            raise DomainError("INVALID_QUOTE", "side must be 0 (buy) or 1 (sell)")
        for value in (self.quantity, self.price, self.expiry):
            if not 0 <= value <= _UINT256_MAX:
                raise DomainError("INVALID_QUOTE", "quantity, price and expiry must fit in uint256")


@dataclass(frozen=True, slots=True)
class QuoteSignature:
    """An ``ecrecover``-style signature: ``v`` in {27, 28}, low ``s``."""

    v: int
    r: bytes
    s: bytes

    def to_bytes(self) -> bytes:
        """Return the 65-byte ``r || s || v`` form."""
        return self.r + self.s + bytes([self.v])


def symbol_bytes32(symbol: str) -> bytes:
    """Encode a ticker as the contract's ``bytes32`` symbol: ASCII, right-padded with zero bytes."""
    raw = symbol.encode("ascii")
    if not raw or len(raw) > 32:
        raise DomainError("INVALID_QUOTE", "a symbol is 1 to 32 ASCII characters")
    return raw.ljust(32, b"\0")


def quote_notional(side: int, quantity: int, price: int, token_decimals: int = 18) -> int:
    """Return a quote's stablecoin amount: quantity * price / 10**decimals, up for buys, down for sells."""
    unit: int = 10**token_decimals
    gross = quantity * price
    if side == SIDE_BUY:
        return -(-gross // unit)
    return gross // unit


def _word(value: int) -> bytes:
    return value.to_bytes(32, "big")


def domain_separator(chain_id: int, verifying_contract: bytes) -> bytes:
    """Return the EIP-712 domain separator of the settlement contract at ``verifying_contract``."""
    if len(verifying_contract) != 20:
        raise DomainError("INVALID_QUOTE", "verifying_contract must be a 20-byte address")
    return keccak256(
        DOMAIN_TYPEHASH
        + keccak256(DOMAIN_NAME.encode())
        + keccak256(DOMAIN_VERSION.encode())
        + _word(chain_id)
        + verifying_contract.rjust(32, b"\0")
    )


def quote_struct_hash(quote: Quote) -> bytes:
    """Return ``hashStruct(quote)``."""
    return keccak256(
        QUOTE_TYPEHASH
        + quote.investor.rjust(32, b"\0")
        + quote.symbol
        + _word(quote.side)
        + _word(quote.quantity)
        + _word(quote.price)
        + _word(quote.expiry)
        + quote.quote_id
    )


def quote_digest(quote: Quote, chain_id: int, verifying_contract: bytes) -> bytes:
    """Return the digest the platform signs: keccak256(0x1901 || domainSeparator || hashStruct)."""
    return keccak256(b"\x19\x01" + domain_separator(chain_id, verifying_contract) + quote_struct_hash(quote))


def sign_quote(private_key: bytes, quote: Quote, chain_id: int, verifying_contract: bytes) -> QuoteSignature:
    """Sign ``quote`` for the settlement contract at ``verifying_contract`` (low s, v 27/28)."""
    digest = quote_digest(quote, chain_id, verifying_contract)
    signature = coincurve.PrivateKey(private_key).sign_recoverable(digest, hasher=None)
    r = int.from_bytes(signature[:32], "big")
    s = int.from_bytes(signature[32:64], "big")
    recovery = signature[64]
    if s > SECP256K1_N // 2:
        s = SECP256K1_N - s
        recovery ^= 1
    return QuoteSignature(v=27 + recovery, r=_word(r), s=_word(s))


def recover_quote_signer(
    quote: Quote, signature: QuoteSignature, chain_id: int, verifying_contract: bytes
) -> bytes:
    """Return the 20-byte address that signed ``quote`` (as the contract's ``ecrecover`` would)."""
    digest = quote_digest(quote, chain_id, verifying_contract)
    recoverable = signature.r + signature.s + bytes([signature.v - 27])
    public = coincurve.PublicKey.from_signature_and_message(recoverable, digest, hasher=None)
    return keccak256(public.format(compressed=False)[1:])[12:]


def typed_data(quote: Quote, chain_id: int, verifying_contract: bytes) -> dict[str, Any]:
    """Return the quote as an EIP-712 ``eth_signTypedData_v4`` document (for wallets and eth-account)."""
    return {
        "types": {
            "EIP712Domain": [
                {"name": "name", "type": "string"},
                {"name": "version", "type": "string"},
                {"name": "chainId", "type": "uint256"},
                {"name": "verifyingContract", "type": "address"},
            ],
            "Quote": [
                {"name": "investor", "type": "address"},
                {"name": "symbol", "type": "bytes32"},
                {"name": "side", "type": "uint8"},
                {"name": "quantity", "type": "uint256"},
                {"name": "price", "type": "uint256"},
                {"name": "expiry", "type": "uint256"},
                {"name": "quoteId", "type": "bytes32"},
            ],
        },
        "primaryType": "Quote",
        "domain": {
            "name": DOMAIN_NAME,
            "version": DOMAIN_VERSION,
            "chainId": chain_id,
            "verifyingContract": "0x" + verifying_contract.hex(),
        },
        "message": {
            "investor": "0x" + quote.investor.hex(),
            "symbol": "0x" + quote.symbol.hex(),
            "side": quote.side,
            "quantity": quote.quantity,
            "price": quote.price,
            "expiry": quote.expiry,
            "quoteId": "0x" + quote.quote_id.hex(),
        },
    }
