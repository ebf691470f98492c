"""Stable codes for contract errors that are not transfer rules: the second, and last, revert vocabulary.

Rule refusals revert with a reason NAME from ``domain.reasons``; every other failed assertion in a
contract (a missing role, an expired or replayed quote, pool slippage, a malformed schedule…) reverts
with one of these codes. A test scans every contract and fails on any revert string found in neither
catalogue, so a contract can never again answer in free text. The sentence names the contract that
refuses; codes are never reused for another meaning.
"""

from __future__ import annotations

from typing import Final

CONTRACT_ERRORS: Final[dict[str, str]] = {
    "ACCESS_LAST_ADMIN": "access: last admin",
    "ACCESS_MISSING_ROLE": "access: missing role",
    "ACCESS_UNKNOWN_ROLE": "access: unknown role",
    "ACCESS_ZERO_ACCOUNT": "access: zero account",
    "ACCESS_ZERO_ADMIN": "access: zero admin",
    "COMPLIANCE_BAD_COUNTRY": "compliance: bad country",
    "COMPLIANCE_BAD_MODE": "compliance: bad mode",
    "COMPLIANCE_CALLER_IS_NOT_THE_BOUND_TOKEN": "compliance: caller is not the bound token",
    "COMPLIANCE_INDEX_OUT_OF_RANGE": "compliance: index out of range",
    "COMPLIANCE_TOKEN_HAS_HOLDERS": "compliance: token has holders",
    "COMPLIANCE_ZERO_INVESTOR_ID": "compliance: zero investor id",
    "COMPLIANCE_ZERO_REGISTRY": "compliance: zero registry",
    "COMPLIANCE_ZERO_TOKEN": "compliance: zero token",
    "MULTIPLIER_ALREADY_IN_EFFECT": "multiplier: already in effect",
    "MULTIPLIER_BEFORE_THE_LAST_SCHEDULED": "multiplier: before the last scheduled",
    "MULTIPLIER_EFFECTIVE_TIME_IN_THE_PAST": "multiplier: effective time in the past",
    "MULTIPLIER_EFFECTIVE_TIME_TOO_FAR_AHEAD": "multiplier: effective time too far ahead",
    "MULTIPLIER_INDEX_OUT_OF_RANGE": "multiplier: index out of range",
    "MULTIPLIER_NONCE_ALREADY_USED": "multiplier: nonce already used",
    "MULTIPLIER_NONCE_OUT_OF_RANGE": "multiplier: nonce out of range",
    "MULTIPLIER_NOTHING_TO_CANCEL": "multiplier: nothing to cancel",
    "MULTIPLIER_NOT_THE_LAST_SCHEDULED_NONCE": "multiplier: not the last scheduled nonce",
    "MULTIPLIER_OUT_OF_RANGE": "multiplier: out of range",
    "POOL_BAD_TOKENS": "pool: bad tokens",
    "POOL_FEE_TOO_HIGH": "pool: fee too high",
    "POOL_NOT_ENOUGH_SHARES": "pool: not enough shares",
    "POOL_SLIPPAGE": "pool: slippage",
    "POOL_TOO_FEW_SHARES": "pool: too few shares",
    "POOL_TOO_LITTLE_LIQUIDITY": "pool: too little liquidity",
    "POOL_TRANSFER_FAILED": "pool: transfer failed",
    "POOL_UNKNOWN_TOKEN": "pool: unknown token",
    "POOL_ZERO_AMOUNT": "pool: zero amount",
    "QUOTE_ALREADY_USED": "quote: already used",
    "QUOTE_BAD_SIDE": "quote: bad side",
    "QUOTE_BAD_SIGNATURE": "quote: bad signature",
    "QUOTE_CALLER_IS_NOT_THE_INVESTOR": "quote: caller is not the investor",
    "QUOTE_EXPIRED": "quote: expired",
    "QUOTE_PAYMENT_FAILED": "quote: payment failed",
    "QUOTE_PAYOUT_FAILED": "quote: payout failed",
    "QUOTE_WRONG_SYMBOL": "quote: wrong symbol",
    "QUOTE_ZERO_QUANTITY_OR_PRICE": "quote: zero quantity or price",
    "REGISTRY_BAD_COUNTRY": "registry: bad country",
    "REGISTRY_INVESTOR_STILL_HAS_WALLETS": "registry: investor still has wallets",
    "REGISTRY_LENGTH_MISMATCH": "registry: length mismatch",
    "REGISTRY_UNKNOWN_INVESTOR": "registry: unknown investor",
    "REGISTRY_WALLET_BOUND_TO_ANOTHER_INVESTOR": "registry: wallet bound to another investor",
    "REGISTRY_WALLET_NOT_BOUND": "registry: wallet not bound",
    "REGISTRY_ZERO_INVESTOR_ID": "registry: zero investor id",
    "REGISTRY_ZERO_WALLET": "registry: zero wallet",
    "RESERVES_BLOCK_IN_THE_FUTURE": "reserves: block in the future",
    "RESERVES_NOT_NEWER": "reserves: not newer",
    "RESERVES_NOT_THE_TRUSTEE": "reserves: not the trustee",
    "RESERVES_NO_SUCH_ATTESTATION": "reserves: no such attestation",
    "RESERVES_ZERO_TRUSTEE": "reserves: zero trustee",
    "SETTLEMENT_ZERO_ADDRESS": "settlement: zero address",
    "SETTLEMENT_ZERO_TOKEN": "settlement: zero token",
    "SETTLEMENT_ZERO_WINDOW": "settlement: zero window",
    "STABLECOIN_NOT_THE_OWNER": "stablecoin: not the owner",
    "STABLECOIN_ZERO_OWNER": "stablecoin: zero owner",
    "TOKEN_ALREADY_PAUSED": "token: already paused",
    "TOKEN_AMOUNT_EXCEEDS_FROZEN_TOKENS": "token: amount exceeds frozen tokens",
    "TOKEN_LENGTH_MISMATCH": "token: length mismatch",
    "TOKEN_NOT_PAUSED": "token: not paused",
    "TOKEN_SUPPLY_MUST_BE_ZERO_TO_REBIND": "token: supply must be zero to rebind",
    "TOKEN_TOO_MANY_DECIMALS": "token: too many decimals",
    "TOKEN_ZERO_COMPLIANCE": "token: zero compliance",
    "UNKNOWN_REASON": "reasons: a reason code with no name (unreachable: the table is complete)",
}
"""Code → sentence, for every non-rule revert of the contracts."""
