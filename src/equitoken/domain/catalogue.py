"""Every reason code the platform can answer, with its kind and one sentence for people: the one catalogue.

A code is the stable, machine-readable half of an answer (CLI output, the API's problem ``code``, on-chain
reverts); the sentence here is its default description (documentation, the problem's ``title``), while a
raise site's own message gives the particulars and may be reworded freely. Codes are never reused for
another meaning, and one meaning has one code.

The kind says what sort of "no" it is, and so the HTTP status an API answers with and the exception type:
every kind is a ``DomainError`` except ``INFRASTRUCTURE``, which is an ``InfrastructureError`` (the
machinery failed, so what happened outside the store may be unknown). The vocabularies kept elsewhere as
enums — the numbered on-chain rules (``domain.reasons.Reason``), the order desk's, the models', the
broker port's and the ballot's — are members of this catalogue (a test checks each value is catalogued
with a consistent kind), and the contracts' revert codes are listed in ``CONTRACT_ERROR_CODES``.
``docs/reasons.md`` is generated from this table (``scripts/reasons-doc.py``; a test keeps it in step).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Final


class Kind(StrEnum):
    """What sort of answer a code is, and so how an entry point reports it."""

    INVALID = "invalid"
    REFUSED = "refused"
    NOT_FOUND = "not_found"
    CONFLICT = "conflict"
    UNAUTHENTICATED = "unauthenticated"
    FORBIDDEN = "forbidden"
    THROTTLED = "throttled"
    INTERNAL = "internal"
    INFRASTRUCTURE = "infrastructure"

    @property
    def description(self) -> str:
        """Return what this kind means, in one sentence."""
        return _KIND_NOTES[self]

    @property
    def status(self) -> int:
        """Return the HTTP status an API answers this kind with (RFC 9457 problem `status`)."""
        return _STATUS[self]

    @property
    def is_refusal(self) -> bool:
        """Tell whether this kind is a clean "no" to the request (nothing moved because of it)."""
        return self not in (Kind.INTERNAL, Kind.INFRASTRUCTURE)


_STATUS: Final[Mapping[Kind, int]] = MappingProxyType(
    {
        Kind.INVALID: 400,
        Kind.REFUSED: 422,
        Kind.NOT_FOUND: 404,
        Kind.CONFLICT: 409,
        Kind.UNAUTHENTICATED: 401,
        Kind.FORBIDDEN: 403,
        Kind.THROTTLED: 429,
        Kind.INTERNAL: 500,
        Kind.INFRASTRUCTURE: 503,
    }
)


_KIND_NOTES: Final[Mapping[Kind, str]] = MappingProxyType(
    {
        Kind.INVALID: "The request itself is malformed or out of range: fix the input.",
        Kind.REFUSED: "The request is well formed, but a rule, a policy or the market refuses it now.",
        Kind.NOT_FOUND: "The request names something that does not exist.",
        Kind.CONFLICT: "The request collides with what is already recorded, or comes in the wrong state.",
        Kind.UNAUTHENTICATED: "The request carries no API key, or one the platform does not know or has "
        "revoked.",
        Kind.FORBIDDEN: "The caller is known, but its role (or the investor its key is bound to) may not do "
        "this.",
        Kind.THROTTLED: "The caller has sent too many requests; retry after the time the answer states.",
        Kind.INTERNAL: "Not an answer about the request: the platform's own records disagree, an invariant "
        "broke, or a dependency failed in a way not classed as infrastructure. Raised as `DomainError`; "
        "an operator must look.",
        Kind.INFRASTRUCTURE: "The machinery (store, node, broker link) failed; raised as "
        "`InfrastructureError`: what happened outside the store may be unknown until reconciled.",
    }
)


@dataclass(frozen=True, slots=True)
class Entry:
    """One catalogued code: its kind and its default sentence."""

    code: str
    kind: Kind
    sentence: str

    @property
    def status(self) -> int:
        """Return the HTTP status an API answers this code with."""
        return self.kind.status


def _invalid(sentence: str) -> tuple[Kind, str]:
    return Kind.INVALID, sentence


def _refused(sentence: str) -> tuple[Kind, str]:
    return Kind.REFUSED, sentence


def _not_found(sentence: str) -> tuple[Kind, str]:
    return Kind.NOT_FOUND, sentence


def _conflict(sentence: str) -> tuple[Kind, str]:
    return Kind.CONFLICT, sentence


def _unauthenticated(sentence: str) -> tuple[Kind, str]:
    return Kind.UNAUTHENTICATED, sentence


def _forbidden(sentence: str) -> tuple[Kind, str]:
    return Kind.FORBIDDEN, sentence


def _throttled(sentence: str) -> tuple[Kind, str]:
    return Kind.THROTTLED, sentence


def _internal(sentence: str) -> tuple[Kind, str]:
    return Kind.INTERNAL, sentence


def _down(sentence: str) -> tuple[Kind, str]:
    return Kind.INFRASTRUCTURE, sentence


# Literals, so a repeated key is a lint error (ruff F601) rather than a silent override; the two tables
# must not share a code either (checked below).
_CONTRACT_TABLE: Final[dict[str, tuple[Kind, str]]] = {
    "ACCESS_LAST_ADMIN": _refused("access: last admin"),
    "ACCESS_MISSING_ROLE": _refused("access: missing role"),
    "ACCESS_UNKNOWN_ROLE": _invalid("access: unknown role"),
    "ACCESS_ZERO_ACCOUNT": _invalid("access: zero account"),
    "ACCESS_ZERO_ADMIN": _invalid("access: zero admin"),
    "COMPLIANCE_BAD_COUNTRY": _invalid("compliance: bad country"),
    "COMPLIANCE_BAD_MODE": _invalid("compliance: bad mode"),
    "COMPLIANCE_CALLER_IS_NOT_THE_BOUND_TOKEN": _refused("compliance: caller is not the bound token"),
    "COMPLIANCE_INDEX_OUT_OF_RANGE": _invalid("compliance: index out of range"),
    "COMPLIANCE_TOKEN_HAS_HOLDERS": _conflict("compliance: token has holders"),
    "COMPLIANCE_ZERO_INVESTOR_ID": _invalid("compliance: zero investor id"),
    "COMPLIANCE_ZERO_REGISTRY": _invalid("compliance: zero registry"),
    "COMPLIANCE_ZERO_TOKEN": _invalid("compliance: zero token"),
    "MULTIPLIER_ALREADY_IN_EFFECT": _conflict("multiplier: already in effect"),
    "MULTIPLIER_BEFORE_THE_LAST_SCHEDULED": _conflict("multiplier: before the last scheduled"),
    "MULTIPLIER_EFFECTIVE_TIME_IN_THE_PAST": _invalid("multiplier: effective time in the past"),
    "MULTIPLIER_EFFECTIVE_TIME_TOO_FAR_AHEAD": _invalid("multiplier: effective time too far ahead"),
    "MULTIPLIER_INDEX_OUT_OF_RANGE": _invalid("multiplier: index out of range"),
    "MULTIPLIER_NONCE_ALREADY_USED": _conflict("multiplier: nonce already used"),
    "MULTIPLIER_NONCE_OUT_OF_RANGE": _invalid("multiplier: nonce out of range"),
    "MULTIPLIER_NOTHING_TO_CANCEL": _conflict("multiplier: nothing to cancel"),
    "MULTIPLIER_NOT_THE_LAST_SCHEDULED_NONCE": _conflict("multiplier: not the last scheduled nonce"),
    "MULTIPLIER_OUT_OF_RANGE": _invalid("multiplier: out of range"),
    "POOL_BAD_TOKENS": _invalid("pool: bad tokens"),
    "POOL_DEADLINE_PASSED": _refused("pool: the swap's deadline has passed"),
    "POOL_FEE_TOO_HIGH": _invalid("pool: fee too high"),
    "POOL_NOT_ENOUGH_SHARES": _refused("pool: not enough shares"),
    "POOL_SLIPPAGE": _refused("pool: slippage"),
    "POOL_TOO_FEW_SHARES": _refused("pool: too few shares"),
    "POOL_TOO_LITTLE_LIQUIDITY": _refused("pool: too little liquidity"),
    "POOL_TRANSFER_FAILED": _refused("pool: transfer failed"),
    "POOL_UNKNOWN_TOKEN": _invalid("pool: unknown token"),
    "POOL_ZERO_AMOUNT": _invalid("pool: zero amount"),
    "QUOTE_ALREADY_USED": _conflict("quote: already used"),
    "QUOTE_BAD_SIDE": _invalid("quote: bad side"),
    "QUOTE_BAD_SIGNATURE": _refused("quote: bad signature"),
    "QUOTE_CALLER_IS_NOT_THE_INVESTOR": _refused("quote: caller is not the investor"),
    "QUOTE_EXPIRED": _refused("quote: expired"),
    "QUOTE_PAYMENT_FAILED": _refused("quote: payment failed"),
    "QUOTE_PAYOUT_FAILED": _refused("quote: payout failed"),
    "QUOTE_WRONG_SYMBOL": _invalid("quote: wrong symbol"),
    "QUOTE_ZERO_QUANTITY_OR_PRICE": _invalid("quote: zero quantity or price"),
    "REGISTRY_BAD_COUNTRY": _invalid("registry: bad country"),
    "REGISTRY_INVESTOR_STILL_HAS_WALLETS": _conflict("registry: investor still has wallets"),
    "REGISTRY_LENGTH_MISMATCH": _invalid("registry: length mismatch"),
    "REGISTRY_UNKNOWN_INVESTOR": _not_found("registry: unknown investor"),
    "REGISTRY_WALLET_BOUND_TO_ANOTHER_INVESTOR": _conflict("registry: wallet bound to another investor"),
    "REGISTRY_WALLET_NOT_BOUND": _not_found("registry: wallet not bound"),
    "REGISTRY_ZERO_INVESTOR_ID": _invalid("registry: zero investor id"),
    "REGISTRY_ZERO_WALLET": _invalid("registry: zero wallet"),
    "RESERVES_BLOCK_IN_THE_FUTURE": _invalid("reserves: block in the future"),
    "RESERVES_NOT_NEWER": _conflict("reserves: not newer"),
    "RESERVES_NOT_THE_TRUSTEE": _refused("reserves: not the trustee"),
    "RESERVES_NO_PROPOSED_TRUSTEE": _conflict("reserves: no trustee has been proposed"),
    "RESERVES_NOT_THE_PROPOSED_TRUSTEE": _refused("reserves: only the proposed trustee may accept the role"),
    "RESERVES_NO_SUCH_ATTESTATION": _not_found("reserves: no such attestation"),
    "RESERVES_NO_SUCH_ROUND": _not_found("reserve feed: no such round"),
    "RESERVES_NEGATIVE_ANSWER": _invalid("reserve feed: a collateral ratio cannot be negative"),
    "RESERVES_ZERO_TRUSTEE": _invalid("reserves: zero trustee"),
    "SETTLEMENT_ZERO_ADDRESS": _invalid("settlement: zero address"),
    "SETTLEMENT_ZERO_TOKEN": _invalid("settlement: zero token"),
    "SETTLEMENT_ZERO_WINDOW": _invalid("settlement: zero window"),
    "STABLECOIN_NOT_THE_OWNER": _refused("stablecoin: not the owner"),
    "STABLECOIN_NO_PENDING_OWNER": _conflict("stablecoin: no owner has been proposed"),
    "STABLECOIN_NOT_THE_PENDING_OWNER": _refused("stablecoin: only the proposed owner may accept ownership"),
    "STABLECOIN_ZERO_OWNER": _invalid("stablecoin: zero owner"),
    "TOKEN_ALREADY_PAUSED": _conflict("token: already paused"),
    "TOKEN_AMOUNT_EXCEEDS_FROZEN_TOKENS": _refused("token: amount exceeds frozen tokens"),
    "TOKEN_LENGTH_MISMATCH": _invalid("token: length mismatch"),
    "TOKEN_NOT_PAUSED": _conflict("token: not paused"),
    "TOKEN_SUPPLY_MUST_BE_ZERO_TO_REBIND": _conflict("token: supply must be zero to rebind"),
    "TOKEN_TOO_MANY_DECIMALS": _invalid("token: too many decimals"),
    "TOKEN_FEED_DECIMALS": _invalid("token: the reserve feed must answer with 18 decimals"),
    "TOKEN_FEED_HEARTBEAT_OUT_OF_RANGE": _invalid(
        "token: the reserve feed's heartbeat must be 1 second to 366 days (0 to remove the feed)"
    ),
    "TOKEN_ZERO_COMPLIANCE": _invalid("token: zero compliance"),
    "UNKNOWN_REASON": _internal("reasons: a reason code with no name (unreachable: the table is complete)"),
}
"""The contracts' revert codes other than the rule names; the sentence names the contract that refuses.
QUOTE_EXPIRED and UNKNOWN_REASON are also raised off chain, with the same meaning."""

_TABLE: Final[dict[str, tuple[Kind, str]]] = {
    # --- transfer rules, numbered in step with the contracts (domain.reasons.Reason, OK excepted) ---
    "PAUSED": _refused("the token is paused"),
    "SENDER_FROZEN": _refused("the sending wallet is frozen"),
    "RECIPIENT_FROZEN": _refused("the receiving wallet is frozen"),
    "INSUFFICIENT_UNFROZEN_BALANCE": _refused("the amount exceeds the sender's unfrozen balance"),
    "SENDER_NOT_VERIFIED": _refused("the sending wallet is not bound to a verified investor"),
    "RECIPIENT_NOT_VERIFIED": _refused("the receiving wallet is not bound to a verified investor"),
    "SENDER_SANCTIONED": _refused("the sending wallet or its investor is on the sanctions list"),
    "RECIPIENT_SANCTIONED": _refused("the receiving wallet or its investor is on the sanctions list"),
    "COUNTRY_NOT_ALLOWED": _refused("the receiving investor's country may not hold this token"),
    "CATEGORY_NOT_ALLOWED": _refused("the receiving investor's category may not hold this token"),
    "HOLDER_LIMIT_REACHED": _refused("the token already has its maximum number of holders"),
    "LOCKUP_ACTIVE": _refused("the sender's holding is still in its lockup period"),
    "MAX_BALANCE_EXCEEDED": _refused("the receiving investor would exceed the maximum balance"),
    "RECIPIENT_NOT_WHITELISTED": _refused("only whitelisted holders may receive this token"),
    "KYC_EXPIRED": _refused("the investor's KYC has expired"),
    "INSUFFICIENT_BALANCE": _refused("the sender's balance is too small"),
    "INSUFFICIENT_ALLOWANCE": _refused("the spender's allowance is too small"),
    "ZERO_ADDRESS": _invalid("the zero address cannot send or receive"),
    "NOT_SAME_INVESTOR": _refused("a recovery must move tokens between wallets of the same investor"),
    "FLOWBACK_RESTRICTED": _refused(
        "Reg S flowback: no transfer to a US person during distribution compliance"
    ),
    "NOTIONAL_LIMIT_EXCEEDED": _refused("the notional limit for this window would be exceeded"),
    "SAME_WALLET": _invalid("a forced transfer or recovery must move tokens to another wallet"),
    "RESERVES_STALE": _refused(
        "no new tokens: the listing's proof-of-reserve feed has no round within its heartbeat"
    ),
    "RESERVES_INSUFFICIENT": _refused(
        "no new tokens: the listing's proof-of-reserve feed reports a collateral ratio below 1"
    ),
    # --- the order desk (issuance.reasons.OrderReason; QUOTE_EXPIRED and the notional limit above) ---
    "DUPLICATE_FILL": _conflict("the fill was already applied to the order"),
    "FEE_EXCEEDS_PROCEEDS": _refused("the fee would take all of the order's proceeds"),
    "FILL_THROUGH_LIMIT": _conflict("a fill is priced through the order's limit"),
    "IDEMPOTENCY_CONFLICT": _conflict(
        "the idempotency key or client order id was already used for another request"
    ),
    "ILLEGAL_TRANSITION": _conflict("the order cannot move to that state from the one it is in"),
    "INVALID_ORDER": _invalid("the order is malformed"),
    "NOTIONAL_WITH_FIXED_FEE": _invalid("an order sized by notional cannot pay a fixed fee"),
    "ORDER_EXPIRED": _refused("the order expired before it could fill"),
    "OVERFILL": _conflict("a fill would take the order past its quantity"),
    "PRICE_OUTSIDE_BAND": _refused("the price is outside the band around the reference price"),
    "STALE_PRICE": _refused("the reference price is too old to trade on"),
    "SYMBOL_MISMATCH": _invalid("the reference price is for another symbol"),
    "UNKNOWN_ORDER": _not_found("no such order"),
    # --- the issuance models (issuance.models.base.ModelReason) ---
    "BUFFER_LIMIT": _refused("off-hours exposure would pass the buffer's cap for the symbol"),
    "INSUFFICIENT_FUNDS": _refused("the investor's cash does not cover the buy"),
    "INSUFFICIENT_INVENTORY": _refused("the inventory holds fewer tokens than the order needs now"),
    "INSUFFICIENT_TOKENS": _refused("the wallet holds fewer free tokens than the sell"),
    "MINTING_HALTED": _refused("minting of the listing is halted until its reserves reconcile"),
    "NO_LIQUIDITY": _refused("nothing rests on the other side of the book"),
    "WRONG_MODEL": _invalid("the symbol is listed under another issuance model"),
    # --- the broker port (ports.broker.RejectReason; STALE_PRICE above) ---
    "CURRENCY_MISMATCH": _invalid("the amount is in another currency than expected"),
    "FRACTIONAL_NOT_SUPPORTED": _refused("this broker trades whole shares only"),
    "INSUFFICIENT_POSITION": _refused("the sell is larger than the shares owned (no shorting)"),
    "ZERO_QUANTITY": _invalid("an order must trade more than zero shares"),
    # --- ballots (corporate_actions.voting.VoteReason) ---
    "DUPLICATE_BALLOT": _conflict("the same ballot was already counted"),
    "INVALID_CHOICE": _invalid("the proposal has no option at that index"),
    "INVALID_SIGNATURE": _refused("the signature is malformed or not the signer's"),
    "NONCE_CONFLICT": _conflict("the wallet signed different choices under the same nonce"),
    "NOT_A_HOLDER_OF_RECORD": _refused("the wallet held no shares at the record block"),
    "SUPERSEDED": _conflict("a ballot with a higher nonce from the same wallet replaces it"),
    "VOTING_CLOSED": _refused("voting has closed"),
    "VOTING_NOT_OPEN": _refused("voting has not opened yet"),
    "WALLET_FROZEN": _refused("the wallet was frozen at the record block: its shares cannot be voted"),
    "WRONG_PROPOSAL": _invalid("the ballot is for another proposal"),
    # --- values, identifiers and files: bad input ---
    "AMOUNT_OUT_OF_RANGE": _invalid("the amount is too large to post"),
    "AMOUNT_TOO_LARGE": _invalid("the amount does not fit a uint256 in base units"),
    "BAD_CHECKSUM": _invalid("the identifier's check digit is wrong"),
    "BATCH_TOO_LARGE": _invalid("the batch has more items than one transaction takes"),
    "BODY_TOO_LARGE": _invalid("the request body is larger than the platform reads"),
    "CONFIG_NOT_FOUND": _not_found("the config file does not exist"),
    "DECIMALS_MISMATCH": _invalid("the amount has other decimals than the token"),
    "DUPLICATE_HOLDER": _invalid("the holders file lists a holder twice"),
    "DUPLICATE_INDEX": _invalid("a multiproof cannot prove the same entry twice"),
    "DUPLICATE_RULE": _invalid("the policy names a rule twice"),
    "EMPTY_BATCH": _invalid("a batch needs at least one item"),
    "EMPTY_TREE": _invalid("a Merkle tree needs at least one holder"),
    "INVALID_TREE": _invalid("the file is not an OpenZeppelin StandardMerkleTree dump of holder balances"),
    "EVENT_MALFORMED": _invalid("the event payload cannot be encoded or decoded"),
    "FILE_NOT_UTF8": _invalid("the file is not UTF-8 text"),
    "FILE_TOO_LARGE": _invalid("the file is too large to read"),
    "FILE_UNREADABLE": _invalid("the file cannot be read"),
    "FILE_UNWRITABLE": _refused("the file cannot be written"),
    "INDEX_OUT_OF_RANGE": _invalid("no entry at that index"),
    "INEXACT_AMOUNT": _invalid("the amount needs more decimals than the unit has"),
    "INEXACT_MULTIPLIER": _invalid("the multiplier cannot be applied exactly"),
    "INEXACT_TOKEN_AMOUNT": _invalid("the shares are not a whole number of token steps at this multiplier"),
    "INVALID_ACCOUNT": _invalid("the ledger account path is malformed"),
    "INVALID_ACTION": _invalid("the compliance action is malformed"),
    "INVALID_ACTION_ID": _invalid("the corporate action id is malformed"),
    "INVALID_ADDRESS": _invalid("the address is malformed"),
    "INVALID_AMOUNT": _invalid("the amount is not valid here"),
    "INVALID_ASSET": _invalid("the asset is neither a currency nor FAMILY:NAME"),
    "INVALID_ATTESTATION": _invalid("the attestation document is malformed"),
    "INVALID_BALANCE": _invalid("the balance is not a whole number of base units"),
    "INVALID_BALLOT": _invalid("the ballot is malformed"),
    "INVALID_BAR": _invalid("the price bar is inconsistent"),
    "INVALID_BLOCK_RANGE": _invalid("the block range is malformed"),
    "INVALID_CASES": _invalid("the compliance cases file is malformed"),
    "INVALID_CATEGORY": _invalid("the investor category is out of range"),
    "INVALID_CLIENT_ORDER_ID": _invalid("the client order id is malformed"),
    "INVALID_CONFIG": _invalid("the config file is malformed"),
    "INVALID_CONTEXT": _invalid("the compliance context is inconsistent"),
    "INVALID_COUNTRY": _invalid("the country code is not valid"),
    "INVALID_CSV": _invalid("the CSV file is malformed"),
    "INVALID_CURRENCY": _invalid("the currency is not a three-letter ISO 4217 code"),
    "INVALID_DATE": _invalid("the value is not a calendar date (YYYY-MM-DD)"),
    "INVALID_DECIMALS": _invalid("a token has 0 to 18 decimals"),
    "INVALID_DIGEST": _invalid("a digest is 32 bytes"),
    "INVALID_DISTRIBUTION_START": _invalid(
        "the distribution start gives a flowback period that cannot be kept"
    ),
    "INVALID_DIVIDEND": _invalid("the dividend is malformed"),
    "INVALID_EVENT": _invalid("the event's stream, type or key is malformed"),
    "INVALID_EVENT_PAYLOAD": _invalid("the event payload holds a value an event cannot store"),
    "INVALID_FUNDING_ACCOUNT": _invalid("the account cannot fund or receive a broker fill"),
    "INVALID_HASH": _invalid("a hash is 0x followed by 64 hex digits"),
    "INVALID_HOLDING": _invalid("a holding cannot be negative"),
    "INVALID_IDENTIFIER": _invalid("the identifier is malformed"),
    "INVALID_INVESTOR": _invalid("the investor record is incomplete or inconsistent"),
    "INVALID_INVESTOR_ID": _invalid("the investor id is malformed"),
    "INVALID_ISIN": _invalid("the text is not an ISIN"),
    "INVALID_KEY": _invalid("the key file is malformed"),
    "INVALID_LIMIT": _invalid("the page limit must not be negative"),
    "INVALID_MARKET_DATA": _invalid("the market data file is malformed"),
    "INVALID_METADATA": _invalid("entry metadata maps text to text"),
    "INVALID_MULTIPLIER": _invalid("the multiplier is not positive or has too many decimals"),
    "INVALID_NAME": _invalid("the name is empty or malformed"),
    "INVALID_ONBOARDING": _invalid("the onboarding file is malformed"),
    "INVALID_ORDER_DESK": _invalid("the order service needs an empty desk to rebuild"),
    "INVALID_ORDER_ID": _invalid("an order id is a UUID"),
    "INVALID_PATH": _invalid("the path is empty or malformed"),
    "INVALID_POLICY": _invalid("the policy file is malformed"),
    "INVALID_PRIVATE_KEY": _invalid("the private key is malformed"),
    "INVALID_PROOF": _invalid("the proof is malformed"),
    "INVALID_PROPOSAL": _invalid("the proposal is malformed"),
    "INVALID_QUOTE": _invalid("the quote is malformed"),
    "INVALID_RANGE": _invalid("the end of the range does not follow its start"),
    "INVALID_SANCTIONS_FILE": _invalid("the sanctions file is malformed"),
    "INVALID_SEED": _invalid("the key ring seed is empty or malformed"),
    "INVALID_SETTING": _invalid("the setting's value is not valid"),
    "SCENARIO_INVALID": _invalid("the lab scenario file is malformed or out of range"),
    "LAB_RUN_INVALID": _invalid("the file is not a lab run's JSON (equitoken lab run --out writes one)"),
    "LAB_FLOW_DIFFERS": _internal("the models of a lab run were not sent the same orders"),
    "INVALID_SETTINGS": _invalid("the model's settings are not valid"),
    "INVALID_SLIPPAGE": _invalid("slippage must be at least 0 and below 10000 bps"),
    "INVALID_SNAPSHOT": _invalid("the record-date snapshot is malformed"),
    "INVALID_SPLIT": _invalid("the split is malformed"),
    "INVALID_SYMBOL": _invalid("the text is not a ticker symbol"),
    "INVALID_TIMESTAMP": _invalid("the text is not an ISO-8601 instant"),
    "INVALID_WITHHOLDING": _invalid("a withholding rate is 0 to below 100 %"),
    "KYC_EXPIRY_PAST": _invalid("the verification's expiry is already past"),
    "KYC_EXPIRY_REQUIRED": _invalid("a verified KYC needs an expiry date"),
    "KYC_EXPIRY_UNEXPECTED": _invalid("only a verification carries an expiry"),
    "MISSING_IDEMPOTENCY_KEY": _invalid("the request needs a non-empty idempotency key"),
    "MISSING_LIMIT_PRICE": _invalid("a limit order needs a limit price"),
    "MIXED_SYMBOLS": _invalid("a bar series mixes symbols"),
    "NAIVE_DATETIME": _invalid("the instant has no time zone"),
    "NEGATIVE_AMOUNT": _invalid("the amount must not be negative"),
    "NEGATIVE_QUANTITY": _invalid("the quantity must not be negative"),
    "NON_POSITIVE": _invalid("the value must be positive"),
    "NON_POSITIVE_PRICE": _invalid("a price must be greater than zero"),
    "NOT_AN_INTEGER": _invalid("the value must be an integer"),
    "NOT_A_DECIMAL": _invalid("the value must be a decimal string, an integer or a Decimal"),
    "NOT_A_NUMBER": _invalid("the value must be a finite number"),
    "NOT_MONEY": _invalid("money combines only with money"),
    "NUMBER_OUT_OF_RANGE": _invalid("the number is out of range"),
    "OUT_IS_A_DIRECTORY": _invalid("the output path is a directory; give a file name"),
    "OUT_NOT_A_DIRECTORY": _invalid("the output path is not a directory"),
    "OUT_NOT_WRITABLE": _invalid("nothing can be written to the output path"),
    "OUT_NOT_A_PACKAGE": _invalid("the output directory holds files that are not part of the package"),
    "OUT_OF_RANGE": _invalid("the value is out of range"),
    "OVERRIDE_NOT_ALLOWED": _invalid("only a forced transfer may carry an override reason"),
    "REASON_REQUIRED": _invalid("the operator action needs an operator and a reason on the record"),
    "SPLIT_FRACTION": _invalid("the split would leave a fraction finer than the position's unit"),
    "SUBSECOND_TIME": _invalid("the chain counts whole seconds"),
    "TOO_MANY_DECIMALS": _invalid("the value has more decimal places than allowed"),
    "UNBALANCED_ENTRY": _invalid("a ledger entry's postings must balance"),
    "UNEXPECTED_LIMIT_PRICE": _invalid("a market order carries no limit price"),
    "UNKNOWN_BENCH_PART": _invalid("no such benchmark part"),
    "UNKNOWN_CALENDAR": _invalid("not an exchange_calendars code"),
    "UNKNOWN_EVENT": _invalid("not an event type of this stream"),
    "UNKNOWN_SETTING": _invalid("not a setting"),
    "UNORDERED_BARS": _invalid("bars must ascend by day"),
    "UNSUPPORTED": _refused("this component cannot do that"),
    "UNSUPPORTED_CALENDAR": _invalid("the calendar has sessions equitoken does not model"),
    "UNSUPPORTED_CONFIG": _invalid("the contracts cannot hold this configuration"),
    "NOT_SUPPORTED": _refused("the node cannot do that (it is not a development chain)"),
    "USAGE": _invalid("the command line is malformed"),
    "US_PERSON_MISMATCH": _invalid("the investor's US-person flag contradicts Regulation S"),
    "ZERO_AMOUNT": _invalid("the amount must be positive"),
    "ZERO_POSTING": _invalid("a posting must move a non-zero amount"),
    # --- things that do not exist ---
    "MINT_NOT_FOUND": _not_found("no unbooked mint of that amount is on chain"),
    "NOT_A_HOLDER": _not_found("the wallet holds nothing in this attestation"),
    "NOT_ATTESTED": _not_found("the attestation has no line for that symbol"),
    "UNKNOWN_ATTESTATION": _not_found("no attestation with that number has been published"),
    "NOT_LISTED": _not_found("the symbol is not listed on this engine"),
    "NO_PRICE": _not_found("no price for the symbol at that instant"),
    "NO_PRICE_HISTORY": _not_found("the bundled price history does not cover that day"),
    "UNKNOWN_BLOCK": _not_found("no such block on this chain"),
    "UNKNOWN_CONTRACT": _not_found("no such contract deployed by this facade"),
    "LOGS_PRUNED": _conflict("the embedded chain no longer keeps the logs of that block range"),
    "SNAPSHOT_OUTSTANDING": _conflict("the embedded chain cannot compact while a snapshot is outstanding"),
    "COMPACTION_UNSUPPORTED": _conflict(
        "this embedded chain cannot be compacted (its state is not readable back)"
    ),
    "CHAIN_LOCKED": _conflict("another process holds the embedded chain's block log"),
    "CHAIN_LOG_MISMATCH": _conflict("the block log was created with other genesis settings than these"),
    "WRONG_SETTLEMENT": _conflict("the settlement contract at that address settles another token"),
    "UNKNOWN_HOLDER": _not_found("the wallet is on no register entry"),
    "UNKNOWN_INSTRUMENT": _not_found("no such instrument is registered"),
    "UNKNOWN_INVESTOR": _not_found("no such investor has been onboarded"),
    "UNKNOWN_POLICY": _not_found("no such policy"),
    "UNKNOWN_PROPOSAL": _not_found("no such proposal"),
    "UNKNOWN_ACTION": _not_found("no such corporate action was announced"),
    "UNKNOWN_RULE": _not_found("the policy has no such rule"),
    "UNKNOWN_SIGNER": _not_found("no key for that address in this key ring"),
    "UNKNOWN_SNAPSHOT": _not_found("no such chain snapshot"),
    "UNKNOWN_SYMBOL": _not_found("no such symbol"),
    "UNKNOWN_SCENARIO": _not_found("no lab scenario by that name"),
    # --- state and timing: what is recorded, due, open or in flight ---
    "ALREADY_LISTED": _conflict("the symbol is already listed"),
    "CHAIN_MOVED": _conflict("the chain moved during the attestation; run it again"),
    "CLOCK_BACKWARDS": _conflict("the clock cannot go back"),
    "CORPORATE_ACTION_BLACKOUT": _refused("the symbol does not trade around a corporate action"),
    "DUPLICATE_ACTION": _conflict("the corporate action was already applied"),
    "ACTION_EXISTS": _conflict("a corporate action with that id was announced with other terms"),
    "EX_DATE_PASSED": _refused("the corporate action's ex-date open has already come"),
    "DUPLICATE_ORDER": _conflict("the order already rests in the book"),
    "INSTRUMENT_EXISTS": _conflict("the instrument is already registered"),
    "INSUFFICIENT_CASH": _refused("the investor's cash does not cover the redemption or withdrawal"),
    "INVESTOR_EXISTS": _conflict("the investor is already onboarded"),
    "KEY_LABEL_TAKEN": _conflict("the label already names another key"),
    "KYC_OUT_OF_ORDER": _conflict("a KYC change predates the last one"),
    "KYC_TRANSITION_REFUSED": _conflict("the KYC state cannot move that way"),
    "MARKET_CLOSED": _refused("the market is closed for that"),
    "MARKET_ORDER_CANNOT_REST": _refused("a market order cannot rest in the book"),
    "MARKET_ORDER_NEEDS_IOC": _refused(
        "a market order on the ATS must be immediate-or-cancel, or set a limit"
    ),
    "MULTIPLIER_NONCE_CONFLICT": _conflict(
        "a multiplier change is already in flight; finish or reconcile it first"
    ),
    "MULTIPLIER_NOT_ONE": _refused("a primary issue waits until the multiplier is one"),
    "NOT_DUE": _refused("the corporate action is not due yet"),
    "NOT_HALTED": _conflict("minting of the symbol is not halted"),
    "NOT_OPEN": _conflict("the listing was never opened"),
    "NOT_RECORDED": _conflict("the corporate action has no record-date snapshot yet"),
    "NOTIONAL_NOT_SUPPORTED": _refused("the ATS trades a number of shares, not a USD amount"),
    "NOT_A_TRADING_DAY": _refused("the day is not a trading day"),
    "NO_BROKER": _refused("the listing has no broker"),
    "NO_CUSTODIAN": _refused("the listing has neither a broker account nor a register"),
    "NO_TOKENS": _refused("no tokens are outstanding"),
    "ONBOARDING_CONFLICT": _conflict("the onboarding file contradicts what is recorded; nothing was applied"),
    "OUTSIDE_SESSION": _refused("the instant is outside the session"),
    "OUT_OF_CALENDAR_RANGE": _refused("the instant is outside the calendar's range"),
    "PROOF_REJECTED": _refused("the proof does not lead to the attested root"),
    "QUOTE_MISMATCH": _conflict("the quote does not match the sized order"),
    "RECORD_DATE_NOT_REACHED": _refused("the record instant is still ahead"),
    "RECORD_DATE_PASSED": _refused("the record instant is already past"),
    "RESERVES_BROKEN": _refused("nothing is attested while reserves do not reconcile"),
    "RESERVES_FEED_NO_ROUND": _refused(
        "no attestation has been posted to the listing's reserve feed yet, so its first mint would be"
        " refused anyway; attest first"
    ),
    "RESERVES_FEED_STALE": _refused(
        "the listing's reserve feed is older than the heartbeat, so its first mint would be refused"
        " anyway; attest first"
    ),
    "RESERVES_NO_FEED": _refused("the listing has no reserve feed yet; the next attestation deploys one"),
    "RESERVES_STILL_BROKEN": _refused("the symbol still does not reconcile; fix the cause first"),
    "ROOT_MISMATCH": _refused("the holder list does not give the attested root"),
    "SETTLEMENT_BEFORE_TRADE": _invalid("a fill cannot settle before it traded"),
    "SETTLEMENT_REFUSED": _refused("the chain refused this pair a moment ago"),
    "SPLIT_IN_FLIGHT": _conflict("unsettled fills must settle before a split"),
    "SPLIT_NOT_DUE": _refused("the split is still ahead"),
    "SPLIT_OPEN_ORDERS": _conflict("open orders must be cancelled before a split"),
    "STALE_MATCH": _conflict("the match no longer fits the book"),
    "STALE_NONCE": _conflict("the wallet has already voted with this nonce or a higher one"),
    "TIMESTAMP_IN_PAST": _conflict("the timestamp is before the latest block"),
    "TOO_MANY_SNAPSHOTS": _refused("too many chain snapshots are outstanding"),
    "TRUSTEE_UNCHECKED": _refused("the attestation's trustee could not be checked against the registry"),
    "VOTING_OPEN": _refused("voting is still open"),
    "WITHDRAWAL_TO_PLATFORM_WALLET": _refused(
        "a withdrawal leaves the platform: it cannot go to a wallet the platform keeps for an investor"
    ),
    "WALLET_ALREADY_BOUND": _conflict("the wallet is already bound to the investor"),
    "WALLET_BOUND_ELSEWHERE": _conflict("the wallet belongs to another investor"),
    "WALLET_NOT_BOUND": _conflict("the wallet is not bound to the investor"),
    "WALLET_OF_ANOTHER_HOLDER": _conflict("the wallet is registered to another investor"),
    "WRONG_ASSET": _invalid("the account cannot hold that asset"),
    "WRONG_INSTRUMENT": _invalid("the corporate action is for another instrument"),
    "WRONG_REGISTRY": _refused("the document names another registry"),
    "WRONG_TRUSTEE": _refused("the document was not signed by the registry's trustee"),
    "WRONG_VERSION": _conflict("the corporate action was written against another version of the instrument"),
    # --- the chain, signed documents, the calendar and the register ---
    "BAD_SIGNATURE": _refused("the document was not signed by the expected signer"),
    "BEFORE_GENESIS": _refused("the chain did not exist yet at that instant"),
    "CALL_REJECTED": _refused("the chain refused the call"),
    "CHAIN_MISMATCH": _refused("the node runs another chain than the configured one"),
    "CHAIN_NOT_CONFIGURED": _refused("this needs a chain node: set the chain settings"),
    "CHAIN_NOT_KEPT": _refused("the chain did not keep the journal's contracts"),
    "CHAIN_REVERT": _refused("the chain reverted without a catalogued reason"),
    "DEV_KEY_ON_REAL_CHAIN": _refused("the public development keys are refused on a real chain"),
    "EMBEDDED_ONLY": _refused("this works on the embedded chain only"),
    "EMPTY_CALENDAR": _refused("the calendar has no session in that range"),
    "INSUFFICIENT_SHARES": _refused("the register shows fewer shares than the transfer"),
    "RESTART_UNSUPPORTED": _refused("the engine cannot reopen that listing"),
    "TX_REJECTED": _refused("the chain refused the transaction"),
    # --- self-custody: firm quotes investors settle themselves, and the relay of what they sign ---
    "WALLET_KEPT_BY_PLATFORM": _conflict("the platform holds that wallet's key: not a self-custody wallet"),
    "FIRM_QUOTE_NEEDS_OWN_WALLET": _refused("firm quotes are for investors who hold their own key"),
    "FIRM_QUOTE_UNSUPPORTED": _refused("that listing or fee cannot be quoted firm to a self-custody wallet"),
    "FIRM_QUOTE_OUTSTANDING": _conflict("the signed quote may still settle; it ends then or at expiry"),
    "FIRM_QUOTE_UNAVAILABLE": _refused("the order has no quote left to settle"),
    "FIRM_QUOTE_REQUIRED": _refused("a self-custody wallet trades an instant listing by firm quote"),
    "TX_MALFORMED": _invalid("not a well-formed signed transaction"),
    "TX_WRONG_CHAIN": _refused("the transaction is signed for another chain, or for none"),
    "TX_SENDER_UNKNOWN": _refused("the relay sends only for self-custody investors' wallets"),
    "TX_DESTINATION_REFUSED": _refused("the relay sends only to the stablecoin or a quote settlement"),
    "TX_CALL_REFUSED": _refused("the relay sends only approve and settle, with no native value"),
    "TX_NONCE_USED": _conflict("the transaction's nonce is used: a replay"),
    "TX_NONCE_GAP": _refused("the transaction's nonce skips ahead of the sender's next"),
    "TX_NONCE_REFUSED": _conflict("the transaction's nonce is not the sender's next"),
    "RELAY_UNSUPPORTED": _refused("this chain engine cannot take transactions signed elsewhere"),
    # --- the platform's own records disagree, or an invariant broke ---
    "SETTLEMENT_UNKNOWN_QUOTE": _internal("a quote settled on chain that the platform never issued"),
    "CALENDAR_INCONSISTENT": _internal("the calendar contradicts itself"),
    "CHAIN_TIMEOUT": _internal("transactions got no receipt in time: whether they landed is unknown"),
    "CHAIN_ERROR": _internal("the node answered with an error"),
    "CHAIN_CLOSED": _internal("the embedded chain was closed"),
    "CAP_TABLE_DIVERGED": _internal("the register and the chain disagree"),
    "HEDGE_OVERFILL": _internal("a hedge filled more than it asked for"),
    "HOLDERS_VS_SUPPLY": _internal("the holders read do not add up to the supply"),
    "JOURNAL_GAP": _internal("the ledger entries skip a sequence number"),
    "REPLAY_DIVERGED": _internal("replaying the block log gave other blocks than it recorded"),
    "MODEL_FAILED": _internal("the issuance model failed unexpectedly"),
    "INVALID_PLAN": _internal("a model decided a plan that cannot be carried out as written"),
    "PLAN_PENDING": _internal("a plan with this key is already recorded and not yet closed"),
    "PLAN_UNKNOWN": _internal("a plan was sent or closed without being recorded first"),
    "PLAN_REFUSED": _refused("the chain refused a plan recorded before a restart; nothing of it moved"),
    "ORDER_JOURNAL_DIVERGED": _internal("replaying the orders journal gives another record than stored"),
    "REINVESTMENT_INCOMPLETE": _internal("a reinvestment part-filled; minting halts until reconciled"),
    "REPLAY_SETUP_FAILED": _internal("the replay's opening trade did not fill"),
    "SETTLEMENT_INCOMPLETE": _internal(
        "a later leg of a settlement was refused and the earlier ones stand or could not be sent back"
    ),
    "STORE_INTEGRITY": _internal("the database refused a write as inconsistent"),
    "STORE_SCHEMA_MISMATCH": _internal("the database has a schema this version cannot migrate"),
    # --- the service (app.access, api): who may call, and how often ---
    "API_KEY_MISSING": _unauthenticated("the request carries no API key (Authorization: Bearer <key>)"),
    "API_KEY_INVALID": _unauthenticated("the API key is not one this platform issued, or was revoked"),
    "ACCESS_DENIED": _forbidden("the caller's role or investor binding does not allow this"),
    "RATE_LIMITED": _throttled("too many requests from this API key or address; retry after the stated time"),
    "INVALID_ROLE": _invalid("the role is not one of operator, compliance, investor, auditor"),
    "INVALID_REQUEST": _invalid("the request body, a parameter or a header is malformed"),
    "NO_SUCH_RESOURCE": _not_found("there is no resource at that path"),
    "METHOD_NOT_ALLOWED": _invalid("the resource does not take that method"),
    "INTERNAL_ERROR": _internal("the platform failed on a request; its log says why"),
    "ADDRESS_IN_USE": _conflict("the address and port cannot be listened on: another process has them"),
    "SANDBOX_MISMATCH": _conflict("the data directory holds a sandbox started on another period or speed"),
    "PRICE_SIGNER_UNSET": _refused("the service takes no posted prices: no price signer is configured"),
    "PRICE_SIGNER_UNKNOWN": _forbidden("the price is signed by a key other than the price signer"),
    "PRICE_SIGNATURE_INVALID": _invalid("the signature is not an EIP-191 signature of the price's message"),
    "PRICE_IN_FUTURE": _invalid("the price is as of an instant after now"),
    "PRICE_OUT_OF_ORDER": _conflict("the price is not later than the last one posted for the symbol"),
    "NO_HISTORY": _refused("the bundled history has no prices for that period"),
    # --- the machinery failed (InfrastructureError) ---
    "BROKER_UNAVAILABLE": _down("the broker cannot be reached"),
    "CHAIN_BAD_RESPONSE": _down("the chain answered with something that cannot be read"),
    "CHAIN_UNAVAILABLE": _down("the chain node cannot be reached"),
    "HISTORICAL_STATE_UNAVAILABLE": _down("the chain keeps no state for that block"),
    "SERVICE_BAD_ANSWER": _down("the service answered with something that is not the API's JSON"),
    "SERVICE_UNREACHABLE": _down("the service at the given URL cannot be reached"),
    "LAB_SCHEDULER_UNREACHABLE": _down("the Dask scheduler at the given address cannot be reached"),
    "NODE_UNAVAILABLE": _down("the chain node is not running or cannot be started"),
    "NO_CONTRACT": _down("there is no contract at that address on this chain"),
    "STORE_CLOSED": _down("the store was closed"),
    "STORE_CORRUPT": _down("the store holds a record that fails its checks"),
    "STORE_UNAVAILABLE": _down("the store cannot be reached"),
    "NO_LEADER": _down(
        "no server runs the engine now (a takeover is under way); retry after the stated time"
    ),
    "LEADER_LOST": _down(
        "the server running the engine went away while answering; retry with the same Idempotency-Key"
    ),
    "LEASE_LOST": _down("this server lost the engine's lease, so it stops: another may run the engine"),
    "TRANSACTION_ABORTED": _down("a step of the unit of work failed, so none of it was recorded"),
}

assert not _CONTRACT_TABLE.keys() & _TABLE.keys(), "a code is catalogued twice"

CATALOGUE: Final[Mapping[str, Entry]] = MappingProxyType(
    {
        code: Entry(code, kind, sentence)
        for code, (kind, sentence) in sorted((_TABLE | _CONTRACT_TABLE).items())
    }
)
"""Code → entry, for every reason code the platform answers."""

CONTRACT_ERROR_CODES: Final[frozenset[str]] = frozenset(_CONTRACT_TABLE)
"""The codes the contracts revert with besides the rule names of ``domain.reasons.Reason``."""

INFRASTRUCTURE_CODES: Final[frozenset[str]] = frozenset(
    code for code, entry in CATALOGUE.items() if entry.kind is Kind.INFRASTRUCTURE
)
"""The codes that are failures of the machinery: ``DomainError(code, ...)`` with one is an
``InfrastructureError``."""


def sentence(code: str) -> str:
    """Return the default sentence for ``code``."""
    return CATALOGUE[code].sentence


def markdown() -> str:
    """Return the catalogue as Markdown tables, one per kind (the generated part of ``docs/reasons.md``)."""
    lines: list[str] = []
    for kind in Kind:
        codes = [e for e in CATALOGUE.values() if e.kind is kind]
        lines += [f"### {kind.value} — HTTP {kind.status}", "", kind.description, ""]
        lines += ["| code | sentence |", "| --- | --- |"]
        lines += [f"| `{e.code}` | {e.sentence} |" for e in codes]
        lines.append("")
    return "\n".join(lines)
