"""The chain ports: security tokens as the business sees them — domain values in, reasons out.

``TokenChain`` hides the engine (in-process EVM or a JSON-RPC node): no raw integers, no ABI, no hex
outside the adapter. Roles are separate wallets (admin, issuer, agent, pauser, corporate actions) whose
keys the adapter holds; every write names no sender because the role that may do it is fixed by the
contract. A refusal by the contracts surfaces as ``ChainRefusal`` carrying the rule's reason code, and
the chain is unchanged. What only a development chain can do (snapshots, moving time) is the separate
``DevChain`` capability, never a method that raises.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from enum import IntEnum
from typing import Any, Protocol

from equitoken.domain.errors import DomainError
from equitoken.domain.ids import InvestorId, Symbol, WalletAddress
from equitoken.domain.reasons import Reason
from equitoken.domain.values import Money, TokenAmount


class ChainRefusal(DomainError):
    """The contracts refused a write for a stated rule; nothing changed on chain."""

    def __init__(self, reason: Reason, detail: str = "") -> None:
        super().__init__(reason.name, detail or reason.sentence)
        self.reason = reason

    def __reduce__(self) -> tuple[type[DomainError], tuple[Any, ...]]:
        return type(self), (self.reason, self.message)


class TransferMode(IntEnum):
    """Who may receive a token (the Compliance contract's transfer mode)."""

    OPEN = 0  # anyone not on the sanctions blocklist: composable with any DEX/AMM
    ELIGIBLE = 1  # both parties bound to verified investors
    WHITELISTED = 2  # and the receiving investor is a whitelisted holder


@dataclass(frozen=True, slots=True)
class Roles:
    """The wallets holding each role on an instrument's contracts (kept separate on purpose)."""

    admin: WalletAddress
    issuer: WalletAddress
    agent: WalletAddress
    pauser: WalletAddress
    corporate_actions: WalletAddress


@dataclass(frozen=True, slots=True)
class Instrument:
    """One tokenized stock's deployed contracts."""

    symbol: Symbol
    token: WalletAddress
    registry: WalletAddress
    compliance: WalletAddress
    decimals: int
    roles: Roles

    def amount(self, value: Decimal | int | str) -> TokenAmount:
        """Return ``value`` as an amount of this token."""
        return TokenAmount(value, self.decimals)


@dataclass(frozen=True, slots=True)
class ComplianceConfig:
    """The on-chain rule configuration of one instrument (compiled from a policy by the compliance engine)."""

    transfer_mode: TransferMode = TransferMode.OPEN
    countries_allowed: frozenset[int] = frozenset()
    """ISO 3166 numeric codes; empty means no allow-list."""
    countries_denied: frozenset[int] = frozenset()
    allowed_categories: frozenset[int] = frozenset()
    """Investor category numbers; empty means any."""
    max_holders: int = 0
    """0 means no cap; counted per investor, not per wallet."""
    max_balance: TokenAmount | None = None
    flowback: Mapping[int, datetime] = field(default_factory=dict)
    """Country → end of its distribution compliance period (Reg S flowback restriction)."""


@dataclass(frozen=True, slots=True)
class OnChainInvestor:
    """What the identity registry knows of an investor."""

    investor_id: InvestorId
    country: int
    category: int
    kyc_expiry: datetime
    sanctioned: bool = False


@dataclass(frozen=True, slots=True)
class ChainEvent:
    """A decoded contract event."""

    contract: WalletAddress
    name: str
    block: int
    tx_hash: str
    log_index: int
    args: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class ChainTx:
    """A settled transaction: where it landed, what it cost, what it announced."""

    tx_hash: str
    block: int
    gas_used: int
    events: tuple[ChainEvent, ...] = ()


@dataclass(frozen=True, slots=True)
class TransferDecision:
    """The contracts' answer to "may this move?", without moving anything."""

    allowed: bool
    reason: Reason


@dataclass(frozen=True, slots=True)
class MultiplierUpdate:
    """One scheduled corporate-action multiplier (1 = no adjustment)."""

    multiplier: Decimal
    effective_at: datetime
    nonce: int


class QuoteSide(IntEnum):
    """Which way a platform quote moves: the investor buys (pays, is minted) or sells (is burned, is paid)."""

    BUY = 0
    SELL = 1


@dataclass(frozen=True, slots=True)
class ChainQuote:
    """A platform quote for atomic delivery-versus-payment through a settlement contract."""

    settlement: WalletAddress
    investor: WalletAddress
    side: QuoteSide
    quantity: TokenAmount
    price: Money
    """Stablecoin per whole token."""
    expiry: datetime
    """The last second at which the quote settles."""
    quote_id: str
    """Unique per quote; a settled id can never settle again."""


@dataclass(frozen=True, slots=True)
class SignedQuote:
    """A quote with the platform signer's EIP-712 signature, for one chain."""

    quote: ChainQuote
    chain_id: int
    signature: str
    """``0x`` + 65 bytes ``r || s || v`` (low s, v 27/28)."""


@dataclass(frozen=True, slots=True)
class SignedTransaction:
    """A transaction its sender signed itself (a self-custody wallet), as decoded before it is relayed.

    Integers stay as the chain counts them (nonce, wei, gas): this is the chain boundary.
    """

    sender: WalletAddress
    """Recovered from the signature: the wallet whose key signed it."""
    to: WalletAddress | None
    """``None`` for a contract creation."""
    nonce: int
    chain_id: int
    value: int
    """Native value in wei."""
    gas: int
    data: bytes


class RelayChain(Protocol):
    """Submit transactions signed outside the platform (self-custody wallets); read senders' nonces."""

    def decode_transaction(self, raw: bytes) -> SignedTransaction:
        """Return what a raw signed transaction asks (``TX_MALFORMED`` if it is not one)."""
        ...

    def submit_transaction(self, raw: bytes) -> ChainTx:
        """Submit a raw signed transaction and wait for it to be mined; a revert raises its code."""
        ...

    def nonce_of(self, wallet: WalletAddress) -> int:
        """Return the nonce ``wallet``'s next transaction must carry."""
        ...


class TokenChain(Protocol):
    """Deploy, mint, burn, move and read security tokens on one chain."""

    @property
    def chain_id(self) -> int:
        """Return the EIP-155 chain id."""
        ...

    def deploy_instrument(self, symbol: Symbol, name: str, decimals: int = 18) -> Instrument:
        """Deploy a token with its identity registry and compliance contracts, roles wired."""
        ...

    def deploy_stablecoin(self, symbol: str = "USDX") -> WalletAddress:
        """Deploy a plain 6-decimal USD token for payments and buffer pools."""
        ...

    def attach_stablecoin(self, stablecoin: WalletAddress) -> WalletAddress:
        """Drive a stablecoin deployed earlier (after a restart); ``NO_CONTRACT`` if none is there."""
        ...

    def mint(self, instrument: Instrument, to: WalletAddress, amount: TokenAmount) -> ChainTx:
        """Mint ``amount`` to ``to`` as the issuer (compliance checked)."""
        ...

    def batch_mint(
        self, instrument: Instrument, allocations: Sequence[tuple[WalletAddress, TokenAmount]]
    ) -> ChainTx:
        """Mint to many holders in one transaction (all or nothing)."""
        ...

    def burn(self, instrument: Instrument, holder: WalletAddress, amount: TokenAmount) -> ChainTx:
        """Burn ``amount`` from ``holder`` as the issuer."""
        ...

    def batch_burn(
        self, instrument: Instrument, allocations: Sequence[tuple[WalletAddress, TokenAmount]]
    ) -> ChainTx:
        """Burn from many holders in one transaction (all or nothing)."""
        ...

    def transfer(
        self, token: WalletAddress, sender: WalletAddress, to: WalletAddress, amount: TokenAmount
    ) -> ChainTx:
        """Move tokens from a wallet whose key the adapter holds."""
        ...

    def approve(
        self, token: WalletAddress, owner: WalletAddress, spender: WalletAddress, amount: TokenAmount
    ) -> ChainTx:
        """Let ``spender`` move up to ``amount`` of ``owner``'s tokens."""
        ...

    def transfer_from(
        self,
        token: WalletAddress,
        spender: WalletAddress,
        owner: WalletAddress,
        to: WalletAddress,
        amount: TokenAmount,
    ) -> ChainTx:
        """Move ``owner``'s tokens as ``spender`` under an allowance."""
        ...

    def balance_of(self, token: WalletAddress, wallet: WalletAddress) -> TokenAmount:
        """Return a wallet's raw balance (not multiplied)."""
        ...

    def total_supply(self, token: WalletAddress) -> TokenAmount:
        """Return the raw token supply."""
        ...

    def can_transfer(
        self, instrument: Instrument, sender: WalletAddress, to: WalletAddress, amount: TokenAmount
    ) -> TransferDecision:
        """Return the contracts' decision on a transfer, with its reason, without moving anything."""
        ...

    def can_mint(self, instrument: Instrument, to: WalletAddress, amount: TokenAmount) -> TransferDecision:
        """Return the contracts' decision on minting ``amount`` to ``to``, without minting."""
        ...

    def events(
        self, contract: WalletAddress, from_block: int, to_block: int | None = None
    ) -> list[ChainEvent]:
        """Return the decoded events of ``contract`` in a block range."""
        ...

    def balances_at(self, token: WalletAddress, block: int) -> Mapping[WalletAddress, TokenAmount]:
        """Return every non-zero holder balance as of the end of ``block`` (a record-date snapshot)."""
        ...

    def block_number(self) -> int:
        """Return the latest block number."""
        ...

    def block_at(self, moment: datetime) -> int:
        """Return the last block whose time is at or before ``moment`` (the block of a record date)."""
        ...


class TokenEnforcement(Protocol):
    """The agent's and pauser's tools (ERC-3643 names)."""

    def pause(self, instrument: Instrument) -> ChainTx:
        """Stop every transfer, mint and burn."""
        ...

    def unpause(self, instrument: Instrument) -> ChainTx:
        """Resume."""
        ...

    def set_address_frozen(self, instrument: Instrument, wallet: WalletAddress, frozen: bool) -> ChainTx:
        """Freeze or unfreeze a whole wallet."""
        ...

    def freeze_partial_tokens(
        self, instrument: Instrument, wallet: WalletAddress, amount: TokenAmount
    ) -> ChainTx:
        """Freeze part of a wallet's balance."""
        ...

    def unfreeze_partial_tokens(
        self, instrument: Instrument, wallet: WalletAddress, amount: TokenAmount
    ) -> ChainTx:
        """Release part of a wallet's frozen balance."""
        ...

    def forced_transfer(
        self, instrument: Instrument, sender: WalletAddress, to: WalletAddress, amount: TokenAmount
    ) -> ChainTx:
        """Move tokens as the agent; the receiver's eligibility is still checked."""
        ...

    def recovery_address(
        self, instrument: Instrument, lost: WalletAddress, new: WalletAddress, investor: InvestorId
    ) -> ChainTx:
        """Move a lost wallet's whole position, frozen state included, to another wallet of its investor."""
        ...


class IdentityChain(Protocol):
    """The identity registry and compliance configuration of an instrument."""

    def set_investor(self, instrument: Instrument, investor: OnChainInvestor) -> ChainTx:
        """Create or update an investor's record (country, category, KYC expiry, sanctions)."""
        ...

    def bind_wallet(self, instrument: Instrument, wallet: WalletAddress, investor: InvestorId) -> ChainTx:
        """Bind a wallet to an investor (a wallet belongs to one investor)."""
        ...

    def unbind_wallet(self, instrument: Instrument, wallet: WalletAddress) -> ChainTx:
        """Remove a wallet's binding."""
        ...

    def configure(self, instrument: Instrument, config: ComplianceConfig) -> list[ChainTx]:
        """Make the on-chain rule configuration equal ``config``."""
        ...

    def read_config(self, instrument: Instrument) -> ComplianceConfig:
        """Read the whole on-chain configuration back (for drift checks)."""
        ...

    def set_lockup(self, instrument: Instrument, investor: InvestorId, until: datetime) -> ChainTx:
        """Lock an investor's holding until ``until``."""
        ...

    def set_whitelisted(
        self, instrument: Instrument, investors: Sequence[InvestorId], whitelisted: bool
    ) -> ChainTx:
        """Add investors to (or remove them from) the holder whitelist."""
        ...


class CorporateActionsChain(Protocol):
    """The scaled-UI multiplier (ERC-8056 style): raw balances never change on a split."""

    def schedule_multiplier(self, instrument: Instrument, update: MultiplierUpdate) -> ChainTx:
        """Schedule a new multiplier from ``effective_at``; a used nonce is refused."""
        ...

    def multiplier(self, instrument: Instrument) -> Decimal:
        """Return the multiplier in force at the latest block."""
        ...

    def multiplier_history(self, instrument: Instrument) -> list[MultiplierUpdate]:
        """Return every scheduled update, oldest first."""
        ...

    def ui_balance_of(self, instrument: Instrument, wallet: WalletAddress) -> Decimal:
        """Return a wallet's balance times the multiplier in force, in whole tokens."""
        ...


class DevChain(Protocol):
    """What only a development chain offers: snapshots and moving time."""

    def snapshot(self) -> int:
        """Record the chain's whole state and return an id."""
        ...

    def revert(self, snapshot_id: int) -> None:
        """Return to a recorded state."""
        ...

    def set_next_block_time(self, moment: datetime) -> None:
        """Make the next block carry ``moment`` (never earlier than the latest block)."""
        ...

    def mine(self) -> None:
        """Seal a block now, so reads at the latest block see the time set by ``set_next_block_time``."""
        ...


class StablecoinChain(Protocol):
    """The plain 6-decimal USD token used for payments and pools."""

    def mint_stablecoin(self, stablecoin: WalletAddress, to: WalletAddress, amount: Money) -> ChainTx:
        """Create ``amount`` of USD stablecoin for ``to`` (as the stablecoin's owner)."""
        ...

    def burn_stablecoin(self, stablecoin: WalletAddress, holder: WalletAddress, amount: Money) -> ChainTx:
        """Destroy ``amount`` of ``holder``'s stablecoin, sent by ``holder`` (its key the adapter's)."""
        ...

    def stablecoin_balance(self, stablecoin: WalletAddress, wallet: WalletAddress) -> Money:
        """Return a wallet's stablecoin balance."""
        ...


class QuoteChain(Protocol):
    """Atomic delivery-versus-payment of platform-signed (EIP-712) quotes, refused with reasons."""

    def deploy_quote_settlement(
        self,
        instrument: Instrument,
        stablecoin: WalletAddress,
        signer: WalletAddress,
        treasury: WalletAddress,
        *,
        window: timedelta = ...,
        notional_cap: Money | None = None,
    ) -> WalletAddress:
        """Deploy the settlement contract of ``instrument`` (it becomes an issuer of the token)."""
        ...

    def attach_quote_settlement(self, settlement: WalletAddress, instrument: Instrument) -> WalletAddress:
        """Drive a settlement contract deployed earlier for ``instrument`` (after a restart)."""
        ...

    def sign_quote(self, quote: ChainQuote, chain_id: int | None = None) -> SignedQuote:
        """Sign ``quote`` with the settlement's platform signer for ``chain_id`` (this chain's if omitted)."""
        ...

    def settle_quote(self, signed: SignedQuote) -> ChainTx:
        """Settle a signed quote as its investor: payment and delivery in one transaction."""
        ...


class PoolChain(Protocol):
    """A constant-product AMM pool of a security token against the stablecoin (composability probe)."""

    def deploy_pool(
        self, instrument: Instrument, stablecoin: WalletAddress, fee_bps: int = 30
    ) -> WalletAddress:
        """Deploy an empty pool."""
        ...

    def add_liquidity(
        self, pool: WalletAddress, provider: WalletAddress, tokens: TokenAmount, cash: Money
    ) -> ChainTx:
        """Deposit both sides (approvals included) as ``provider``."""
        ...

    def swap(
        self,
        pool: WalletAddress,
        trader: WalletAddress,
        amount_in: TokenAmount | Money,
        min_out: TokenAmount | Money | None = None,
        *,
        deadline: datetime,
    ) -> ChainTx:
        """Sell ``amount_in`` (tokens or cash) into the pool as ``trader`` by ``deadline``.

        A refused leg names its rule; a swap mined after ``deadline`` reverts ``POOL_DEADLINE_PASSED``.
        """
        ...

    def pool_reserves(self, pool: WalletAddress) -> tuple[TokenAmount, Money]:
        """Return the pool's token and cash reserves."""
        ...


@dataclass(frozen=True, slots=True)
class PostedAttestation:
    """An attestation as the on-chain registry holds it."""

    symbol: Symbol
    as_of_block: int
    holders_root: str
    """``0x`` + 64 hex digits."""
    document_hash: str
    """keccak-256 of the signed attestation document, ``0x`` + 64 hex digits."""


class ReservesChain(Protocol):
    """The trustee's attestation registry: publish roots, read them back, check a holder's proof on chain."""

    def deploy_reserve_registry(self, trustee: WalletAddress) -> WalletAddress:
        """Deploy a registry whose only publisher is ``trustee``."""
        ...

    def post_attestation(
        self, registry: WalletAddress, symbol: Symbol, as_of_block: int, holders_root: str, document_hash: str
    ) -> ChainTx:
        """Publish an attestation as the trustee (as of a later block than the previous one)."""
        ...

    def latest_attestation(self, registry: WalletAddress, symbol: Symbol) -> PostedAttestation | None:
        """Return the latest attestation of ``symbol``, if any."""
        ...

    def registry_trustee(self, registry: WalletAddress) -> WalletAddress:
        """Return the trustee ``registry`` holds now (``NO_CONTRACT`` if there is no contract there)."""
        ...

    def verify_holder_on_chain(
        self, registry: WalletAddress, symbol: Symbol, holder: WalletAddress, units: int, proof: Sequence[str]
    ) -> bool:
        """Tell whether the registry's latest root of ``symbol`` includes (holder, balance in base units)."""
        ...


class IssuanceChain(TokenChain, StablecoinChain, QuoteChain, PoolChain, CorporateActionsChain, Protocol):
    """Everything an issuance model does on chain, plus wallets whose keys the adapter holds."""

    def wallet(self, label: str) -> WalletAddress:
        """Return the wallet derived for ``label`` (the same label always gives the same wallet)."""
        ...


@dataclass(frozen=True, slots=True)
class FeedRound:
    """One round of a listing's proof-of-reserve feed (Chainlink ``AggregatorV3Interface`` shape)."""

    round_id: int
    ratio: Decimal
    """The collateral ratio the round reports: (custody + in flight) / (supply × multiplier); 1 = backed."""
    started_at: datetime
    updated_at: datetime
    """The block time the round was posted at."""
    answered_in_round: int


@dataclass(frozen=True, slots=True)
class ReserveGate:
    """The proof-of-reserve feed a token's mints consult, and how old a round may be."""

    feed: WalletAddress
    heartbeat: timedelta


class ReserveFeedChain(Protocol):
    """A listing's proof-of-reserve feed: one AggregatorV3-shaped contract per listing, gating its mints."""

    def deploy_reserve_feed(self, trustee: WalletAddress, description: str) -> WalletAddress:
        """Deploy a feed whose only poster is ``trustee``; it has no round yet."""
        ...

    def post_reserve_round(self, feed: WalletAddress, ratio: Decimal, as_of_block: int) -> ChainTx:
        """Post the next round: the collateral ratio of an attestation as of ``as_of_block``."""
        ...

    def latest_round(self, feed: WalletAddress) -> FeedRound | None:
        """Return the feed's latest round (``None`` before the first)."""
        ...

    def round_data(self, feed: WalletAddress, round_id: int) -> FeedRound:
        """Return round ``round_id``; one never posted is refused (``RESERVES_NO_SUCH_ROUND``)."""
        ...

    def gate_mints(self, instrument: Instrument, gate: ReserveGate | None) -> ChainTx:
        """Make the token refuse mints on a stale or under-collateralised feed (``None``: remove the gate)."""
        ...

    def mint_gate(self, instrument: Instrument) -> ReserveGate | None:
        """Return the feed and heartbeat the token's mints consult now (``None``: not gated)."""
        ...
