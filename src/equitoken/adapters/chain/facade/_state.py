"""What the facade knows: its engine, keys and roles, the contracts it deployed, and its caches.

``ChainState`` is the base of every port mixin. It holds the plumbing (engine, ``DevChain``, named and
funded wallets), the conversions between domain values and raw chain values that need state (address
bytes, token decimals, investor keys, cached amounts) and the read-only calls; writes are in
``_sending``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from equitoken.adapters.chain.backend import ChainRevert, EvmBackend, KeyRing
from equitoken.adapters.chain.facade._abi import contract_abi
from equitoken.adapters.chain.facade._codec import SEL_DECIMALS, investor_key
from equitoken.adapters.chain.facade._dev import DevControls, supports_dev
from equitoken.adapters.chain.facade._reverts import decode_revert
from equitoken.adapters.chain.keys import DeterministicKeyRing
from equitoken.domain.errors import DomainError
from equitoken.domain.ids import InvestorId, WalletAddress
from equitoken.domain.values import TokenAmount
from equitoken.ports.chain import Instrument, Roles

UINT256_LIMIT = 1 << 256
"""The first amount in base units that no ``uint256`` holds."""


@dataclass(frozen=True, slots=True)
class SettlementRecord:
    """A quote settlement contract this facade deployed, and what it settles."""

    instrument: Instrument
    stablecoin: bytes
    signer: bytes
    treasury: bytes


@dataclass(frozen=True, slots=True)
class PoolRecord:
    """A pool this facade deployed, and the instrument it trades against the stablecoin."""

    instrument: Instrument
    stablecoin: bytes


class ChainState:
    """The facade's engine, keys, deployed contracts and caches, with its stateful conversions and reads."""

    def __init__(
        self,
        backend: EvmBackend,
        keyring: DeterministicKeyRing | KeyRing,
        *,
        roles: Roles | None = None,
        platform: WalletAddress | None = None,
    ) -> None:
        """Drive ``backend`` as the holders of ``keyring``'s keys.

        Role wallets come from ``roles`` when given (one platform-wide set), else from the key ring's
        labels ``"{symbol}:admin"``, ``"{symbol}:issuer"``… (a ``DeterministicKeyRing`` is then needed).
        ``platform`` deploys the stablecoin and pools (default: label ``"platform:deployer"``, or
        ``roles.admin``).
        """
        self._backend = backend
        self._keyring = keyring
        self._roles = roles
        self._dev: DevControls | None = DevControls(self, backend) if supports_dev(backend) else None  # type: ignore[arg-type]
        self._funded: set[bytes] = set()
        self._to_bytes: dict[WalletAddress, bytes] = {}
        self._to_wallet: dict[bytes, WalletAddress] = {}
        self._decimals: dict[bytes, int] = {}
        self._kinds: dict[bytes, str] = {}
        self._instruments: dict[bytes, Instrument] = {}  # by token, registry and compliance address
        self._settlements: dict[bytes, SettlementRecord] = {}
        self._pools: dict[bytes, PoolRecord] = {}
        self._investors: dict[bytes, InvestorId] = {}
        self._amounts: dict[tuple[int, int], TokenAmount] = {}
        self._unit_cache: dict[TokenAmount, int] = {}
        self._revision: Callable[[], int] | None = getattr(backend, "revision", None)
        """The in-process chain's state revision (``EmbeddedBackend.revision``); a node has none."""
        self._multipliers: dict[bytes, tuple[int, Decimal]] = {}
        """Per token, the multiplier read at one revision (reused while the revision stays)."""
        self._topic_wallet: dict[bytes, WalletAddress] = {}
        self._platform: bytes | None = platform.to_bytes() if platform is not None else None
        self._chain_id = backend.chain_id

    @property
    def backend(self) -> EvmBackend:
        """Return the raw engine (for tools and benchmarks)."""
        return self._backend

    @property
    def dev(self) -> DevControls | None:
        """Return the ``DevChain`` capability, or ``None`` when the engine cannot snapshot or move time."""
        return self._dev

    @property
    def chain_id(self) -> int:
        """Return the EIP-155 chain id."""
        return self._chain_id

    @property
    def keyring(self) -> KeyRing:
        """Return the key ring the facade signs with (for adapters that sign more than transactions)."""
        return self._keyring

    def close(self) -> None:
        """Release the engine."""
        self._backend.close()

    def wallet(self, label: str) -> WalletAddress:
        """Return the wallet derived for ``label`` (needs a DeterministicKeyRing), funded on dev chains."""
        keyring = self._keyring
        if not isinstance(keyring, DeterministicKeyRing):
            raise DomainError("UNSUPPORTED", "named wallets need a DeterministicKeyRing")
        raw = keyring.add(label)
        self._ensure_funded(raw)
        return self._wallet(raw)

    def platform_wallet_bytes(self) -> bytes:
        """Return the platform deployer's 20-byte address (funded on dev chains)."""
        if self._platform is None:
            if self._roles is not None:
                self._platform = self._b(self._roles.admin)
            else:
                self._platform = self.wallet("platform:deployer").to_bytes()
        self._ensure_funded(self._platform)
        return self._platform

    def forget_funding(self) -> None:
        """Forget which wallets were funded (after a revert the chain may have taken the funds back)."""
        self._funded.clear()

    def _ensure_funded(self, raw: bytes) -> None:
        if self._dev is not None and raw not in self._funded:
            self._dev.fund(self._wallet(raw))
            self._funded.add(raw)

    def _b(self, wallet: WalletAddress) -> bytes:
        raw = self._to_bytes.get(wallet)
        if raw is None:
            raw = self._to_bytes[wallet] = wallet.to_bytes()
            self._to_wallet.setdefault(raw, wallet)
        return raw

    def _wallet(self, raw: bytes) -> WalletAddress:
        wallet = self._to_wallet.get(raw)
        if wallet is None:
            wallet = self._to_wallet[raw] = WalletAddress.from_bytes(raw)
            self._to_bytes.setdefault(wallet, raw)
        return wallet

    def _amount(self, units: int, decimals: int) -> TokenAmount:
        key = (units, decimals)
        amount = self._amounts.get(key)
        if amount is None:
            amount = TokenAmount.from_units(units, decimals)
            if len(self._amounts) < 65_536:  # bounded: amounts repeat in bulk flows, not in general
                self._amounts[key] = amount
        return amount

    def _token_decimals(self, token: bytes) -> int:
        decimals = self._decimals.get(token)
        if decimals is None:
            decimals = self._word(token, SEL_DECIMALS)
            if decimals > 77:  # 10**78 overflows uint256: no real token has such decimals
                raise DomainError(
                    "CHAIN_BAD_RESPONSE", f"the token at 0x{token.hex()} claims {decimals} decimals"
                )
            self._decimals[token] = decimals
        return decimals

    def _units(self, token: bytes, amount: TokenAmount) -> int:
        decimals = self._decimals.get(token)
        if decimals is None:
            decimals = self._token_decimals(token)
        if amount.decimals != decimals:
            raise DomainError(
                "DECIMALS_MISMATCH", f"the token has {decimals} decimals, the amount {amount.decimals}"
            )
        units = self._unit_cache.get(amount)
        if units is None:
            units = amount.to_units()
            if units >= UINT256_LIMIT:
                raise DomainError("AMOUNT_TOO_LARGE", f"{amount.value} does not fit a uint256 in base units")
            if len(self._unit_cache) < 65_536:  # bounded: bulk flows repeat amounts, others need not
                self._unit_cache[amount] = units
        return units

    def _call(self, to: bytes, data: bytes) -> bytes:
        """Run a read-only call; refuse an empty answer rather than read it as zero.

        Every view of our contracts returns at least one word, so an empty answer means there is no
        contract at ``to`` (a restarted node, a wrong address) or the node answered nonsense. Reading it
        as 0 once let ``canTransfer`` say OK for a sanctioned wallet.
        """
        try:
            output = self._backend.call(to, data)
        except ChainRevert as revert:
            raise decode_revert(revert.data) from None
        if not output:
            raise self._empty_answer(to)
        return output

    def _word(self, to: bytes, data: bytes) -> int:
        """Return the single ``uint256`` a view answers, refusing any answer that is not one word."""
        output = self._call(to, data)
        if len(output) != 32:
            raise DomainError(
                "CHAIN_BAD_RESPONSE",
                f"the contract at 0x{to.hex()} answered {len(output)} bytes where one 32-byte word was due",
            )
        return int.from_bytes(output, "big")

    def _empty_answer(self, to: bytes) -> DomainError:
        if not self._backend.code(to):
            return DomainError(
                "NO_CONTRACT",
                f"there is no contract at 0x{to.hex()} on chain {self._chain_id}: the node may have been "
                "restarted or reset since the contracts were deployed; deploy them again or point "
                "EQUITOKEN_CHAIN_URL at the chain that holds them",
            )
        return DomainError("CHAIN_BAD_RESPONSE", f"the contract at 0x{to.hex()} gave an empty answer")

    def _view(self, kind: str, to: bytes, name: str, *args: Any) -> tuple[Any, ...]:
        abi = contract_abi(kind)
        output = self._call(to, abi.encode(name, *args))
        try:
            if len(output) % 32:  # ABI answers are whole words; eth_abi would read past a ragged tail
                raise ValueError("not a whole number of words")
            return abi.decode(name, output)
        except Exception as exc:  # eth_abi raises several unrelated types for malformed data
            raise DomainError(
                "CHAIN_BAD_RESPONSE",
                f"the answer of {kind}.{name} at 0x{to.hex()} is not a well-formed ABI value "
                f"({type(exc).__name__})",
            ) from None

    def _investor(self, investor: InvestorId) -> bytes:
        key = investor_key(investor)
        self._investors[key] = investor
        return key
