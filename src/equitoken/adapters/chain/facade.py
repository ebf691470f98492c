"""The chain ports over any ``EvmBackend``: domain values in, ``ChainTx``/``ChainRefusal`` out.

``ChainFacade`` implements ``TokenChain``, ``TokenEnforcement``, ``IdentityChain``,
``CorporateActionsChain``, ``StablecoinChain``, ``QuoteChain`` and ``PoolChain`` on top of one raw
backend (the embedded EVM or a JSON-RPC node), and offers ``DevChain`` as ``facade.dev`` when the engine
can snapshot and move time (``None`` otherwise). All integers, ABI words and hex stay in here:

- amounts: ``TokenAmount`` <-> raw units with the token's decimals; stablecoin ``Money`` (USD) <-> 1e6
  units; multipliers ``Decimal`` <-> 1e18 fixed point; instants (tz-aware) <-> uint64 seconds;
  wallets <-> 20 bytes; ``InvestorId`` <-> ``keccak256("investor:" + id)``;
- a revert whose ``Error(string)`` is a ``Reason`` name raises ``ChainRefusal(reason)``; any other revert
  (a missing role, a contract assertion) raises ``DomainError("CHAIN_REVERT", <the revert string>)``;
- logs are decoded by ABI (topic0 -> event) into ``ChainEvent`` with domain-typed arguments.

The hot paths (``transfer``, ``mint``, ``balance_of``, ``transfer_many``) hand-encode their calldata
(selector + 32-byte words) and cache every address conversion: eth-abi costs more than the EVM here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Final

from eth_abi.abi import decode as abi_decode
from eth_abi.abi import encode as abi_encode

from equitoken.adapters.chain import eip712
from equitoken.adapters.chain.backend import (
    ChainRevert,
    DevBackend,
    EvmBackend,
    KeyRing,
    RawCall,
    RawLog,
    RawReceipt,
)
from equitoken.adapters.chain.compiler import CompiledContract, compile_contract
from equitoken.adapters.chain.keys import DeterministicKeyRing
from equitoken.domain.errors import DomainError
from equitoken.domain.ids import InvestorId, Symbol, WalletAddress
from equitoken.domain.instants import utc
from equitoken.domain.keccak import keccak256
from equitoken.domain.reasons import Reason
from equitoken.domain.values import Money, TokenAmount, exact
from equitoken.ports.chain import (
    ChainEvent,
    ChainQuote,
    ChainRefusal,
    ChainTx,
    ComplianceConfig,
    Instrument,
    MultiplierUpdate,
    OnChainInvestor,
    QuoteSide,
    Roles,
    SignedQuote,
    TransferDecision,
    TransferMode,
)

MAX_UINT256: Final = 2**256 - 1
MAX_BATCH: Final = 256
"""Recipients per ``batchMint``/``batchBurn`` call (the contracts' bound)."""
ONE: Final = 10**18
STABLE_DECIMALS: Final = 6
DEV_FUNDING: Final = 10**24
"""Native balance (wei) given to every wallet this facade uses on a development chain."""
ROLE_BITS: Final = {"admin": 1, "issuer": 2, "agent": 4, "pauser": 8, "corporate_actions": 16}
ROLE_NAMES: Final = tuple(ROLE_BITS)
EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_SECOND: Final = timedelta(seconds=1)
_ERROR_SELECTOR: Final = bytes.fromhex("08c379a0")
_PAD12: Final = bytes(12)
_ZERO20: Final = bytes(20)
_TRANSFER_TOPIC: Final = keccak256(b"Transfer(address,address,uint256)")
_REASON_NAMES: Final = {r.name: r for r in Reason if r is not Reason.OK}

# Gas limits declared per call: generous (unused gas costs nothing on a dev chain and is refunded on a
# real one) but far below a block, so hundreds of calls fit one block on a node.
GAS_TRANSFER: Final = 300_000
GAS_ADMIN: Final = 500_000
GAS_DEPLOY: Final = 8_000_000
GAS_PER_BATCH_ITEM: Final = 90_000
GAS_BATCH_BASE: Final = 100_000
GAS_CAP: Final = 29_000_000


def _selector(signature: str) -> bytes:
    return keccak256(signature.encode())[:4]


SEL_TRANSFER: Final = _selector("transfer(address,uint256)")
SEL_TRANSFER_FROM: Final = _selector("transferFrom(address,address,uint256)")
SEL_APPROVE: Final = _selector("approve(address,uint256)")
SEL_BALANCE_OF: Final = _selector("balanceOf(address)")
SEL_TOTAL_SUPPLY: Final = _selector("totalSupply()")
SEL_DECIMALS: Final = _selector("decimals()")
SEL_MINT: Final = _selector("mint(address,uint256)")
SEL_BURN: Final = _selector("burn(address,uint256)")
SEL_RESTRICTION: Final = _selector("transferRestriction(address,address,uint256)")


def _type_string(param: Mapping[str, Any]) -> str:
    kind = str(param["type"])
    if kind.startswith("tuple"):
        return "(" + ",".join(_type_string(c) for c in param["components"]) + ")" + kind[5:]
    return kind


@dataclass(frozen=True, slots=True)
class _Function:
    selector: bytes
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _Event:
    name: str
    fields: tuple[tuple[str, str, bool], ...]  # (name, type, indexed) in declaration order
    data_types: tuple[str, ...]
    static_data: bool


_STATIC = ("uint", "int", "address", "bool", "bytes32")


class _Abi:
    """One contract's functions by name and events by topic0, built once from the compiled ABI."""

    def __init__(self, compiled: CompiledContract) -> None:
        self.compiled = compiled
        self.functions: dict[str, _Function] = {}
        self.events: dict[bytes, _Event] = {}
        for entry in compiled.abi:
            if entry.get("type") == "function":
                inputs = tuple(_type_string(i) for i in entry["inputs"])
                outputs = tuple(_type_string(o) for o in entry.get("outputs", ()))
                signature = f"{entry['name']}({','.join(inputs)})"
                self.functions[str(entry["name"])] = _Function(_selector(signature), inputs, outputs)
            elif entry.get("type") == "event":
                fields = tuple(
                    (str(i["name"]), _type_string(i), bool(i.get("indexed"))) for i in entry["inputs"]
                )
                topic = keccak256(f"{entry['name']}({','.join(t for _, t, _ in fields)})".encode())
                data_types = tuple(t for _, t, indexed in fields if not indexed)
                static = all(t.startswith(_STATIC) and "[" not in t for t in data_types)
                self.events[topic] = _Event(str(entry["name"]), fields, data_types, static)

    def encode(self, name: str, *args: Any) -> bytes:
        function = self.functions[name]
        return function.selector + abi_encode(list(function.inputs), list(args))

    def decode(self, name: str, output: bytes) -> tuple[Any, ...]:
        return tuple(abi_decode(list(self.functions[name].outputs), output))

    def constructor_data(self, *args: Any) -> bytes:
        types = [i["type"] for i in self.compiled.constructor_inputs()]
        return self.compiled.bytecode + abi_encode(types, list(args))


_ABIS: dict[str, _Abi] = {}


def contract_abi(name: str) -> _Abi:
    """Return the (cached) ABI tables of the equitoken contract ``name``."""
    abi = _ABIS.get(name)
    if abi is None:
        abi = _ABIS[name] = _Abi(compile_contract(name))
    return abi


def investor_key(investor: InvestorId) -> bytes:
    """Return the on-chain ``bytes32`` of an investor id: ``keccak256("investor:" + id)``."""
    return keccak256(b"investor:" + investor.value.encode())


def to_seconds(moment: datetime) -> int:
    """Return a tz-aware instant as whole unix seconds (sub-second parts are refused, not rounded)."""
    delta = utc(moment) - EPOCH
    if delta.microseconds:
        raise DomainError(
            "SUBSECOND_TIME", f"{moment.isoformat()} has a fraction of a second; the chain counts seconds"
        )
    return delta // _SECOND


def from_seconds(seconds: int) -> datetime:
    """Return unix ``seconds`` as a UTC instant."""
    return EPOCH + timedelta(seconds=seconds)


def money_units(amount: Money) -> int:
    """Return a non-negative USD amount in stablecoin units (6 decimals)."""
    if amount.currency != "USD":
        raise DomainError("CURRENCY_MISMATCH", f"the stablecoin is USD, not {amount.currency}")
    if amount.amount < 0:
        raise DomainError("NEGATIVE_QUANTITY", f"a stablecoin amount must not be negative, got {amount}")
    with exact():
        return int(amount.amount.scaleb(STABLE_DECIMALS))


def money_from_units(units: int) -> Money:
    """Return stablecoin units as USD ``Money``."""
    with exact():
        return Money(Decimal(units).scaleb(-STABLE_DECIMALS))


def multiplier_units(multiplier: Decimal) -> int:
    """Return a multiplier as 18-decimal fixed point (more than 18 decimals is refused)."""
    with exact():
        scaled = multiplier.scaleb(18)
        if scaled != scaled.to_integral_value() or scaled <= 0:
            raise DomainError(
                "INVALID_MULTIPLIER", f"a multiplier is positive with at most 18 decimals, got {multiplier}"
            )
        return int(scaled)


def multiplier_from_units(units: int) -> Decimal:
    """Return an 18-decimal fixed-point multiplier as a ``Decimal``."""
    with exact():
        return Decimal(units).scaleb(-18).normalize()


def unlimited(decimals: int = 18) -> TokenAmount:
    """Return the ERC-20 "unlimited" allowance (max uint256 units) as an amount."""
    return TokenAmount.from_units(MAX_UINT256, decimals)


def decode_revert(data: bytes) -> DomainError:
    """Turn raw revert data into ``ChainRefusal`` (a reason NAME) or ``DomainError("CHAIN_REVERT")``."""
    if data[:4] == _ERROR_SELECTOR and len(data) >= 68:
        try:
            length = int.from_bytes(data[36:68], "big")
            message = data[68 : 68 + length].decode("utf-8", "replace")
        except (ValueError, OverflowError):
            message = ""
        reason = _REASON_NAMES.get(message)
        if reason is not None:
            return ChainRefusal(reason)
        return DomainError("CHAIN_REVERT", message or "reverted with an empty message")
    if not data:
        return DomainError("CHAIN_REVERT", "reverted without a reason (out of gas, or a failed assertion)")
    return DomainError("CHAIN_REVERT", f"reverted with undecodable data 0x{data[:64].hex()}")


class _Dev:
    """``DevChain`` over a ``DevBackend``: snapshots, reverts and moving time."""

    def __init__(self, facade: ChainFacade, backend: DevBackend) -> None:
        self._facade = facade
        self._backend = backend

    def snapshot(self) -> int:
        """Record the chain's whole state and return an id."""
        return self._backend.snapshot()

    def revert(self, snapshot_id: int) -> None:
        """Return to a recorded state (wallets funded since then are funded again on next use)."""
        self._backend.revert(snapshot_id)
        self._facade.forget_funding()

    def set_next_block_time(self, moment: datetime) -> None:
        """Make the next block carry ``moment`` (never earlier than the latest block)."""
        self._backend.set_next_timestamp(to_seconds(moment))

    def mine(self) -> None:
        """Seal a block now (a node mines an empty one; the embedded chain a no-op self-call)."""
        mine = getattr(self._backend, "mine", None)
        if callable(mine):
            mine()
            return
        sender = self._facade.platform_wallet_bytes()
        self._backend.send([RawCall(sender, sender, b"", 0, 21_000)])

    def fund(self, wallet: WalletAddress, wei: int = DEV_FUNDING) -> None:
        """Give ``wallet`` native balance for gas."""
        self._backend.fund(wallet.to_bytes(), wei)

    def time(self) -> datetime:
        """Return the latest block's time."""
        return from_seconds(self._backend.timestamp())


@dataclass(frozen=True, slots=True)
class _Settlement:
    instrument: Instrument
    stablecoin: bytes
    signer: bytes
    treasury: bytes


@dataclass(frozen=True, slots=True)
class _Pool:
    instrument: Instrument
    stablecoin: bytes


def _supports_dev(backend: EvmBackend) -> bool:
    flag = getattr(backend, "supports_dev", None)
    if flag is not None:
        return bool(flag)
    return all(
        callable(getattr(backend, m, None)) for m in ("snapshot", "revert", "set_next_timestamp", "fund")
    )


class ChainFacade:
    """Security tokens on one chain, in domain values; the adapter holds every role's key."""

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
        self._dev: _Dev | None = _Dev(self, backend) if _supports_dev(backend) else None  # type: ignore[arg-type]
        self._funded: set[bytes] = set()
        self._to_bytes: dict[WalletAddress, bytes] = {}
        self._to_wallet: dict[bytes, WalletAddress] = {}
        self._decimals: dict[bytes, int] = {}
        self._kinds: dict[bytes, str] = {}
        self._instruments: dict[bytes, Instrument] = {}  # by token, registry and compliance address
        self._settlements: dict[bytes, _Settlement] = {}
        self._pools: dict[bytes, _Pool] = {}
        self._investors: dict[bytes, InvestorId] = {}
        self._amounts: dict[tuple[int, int], TokenAmount] = {}
        self._unit_cache: dict[TokenAmount, int] = {}
        self._topic_wallet: dict[bytes, WalletAddress] = {}
        self._platform: bytes | None = platform.to_bytes() if platform is not None else None
        self._chain_id = backend.chain_id

    # ------------------------------------------------------------------ plumbing

    @property
    def backend(self) -> EvmBackend:
        """Return the raw engine (for tools and benchmarks)."""
        return self._backend

    @property
    def dev(self) -> _Dev | None:
        """Return the ``DevChain`` capability, or ``None`` when the engine cannot snapshot or move time."""
        return self._dev

    @property
    def chain_id(self) -> int:
        """Return the EIP-155 chain id."""
        return self._chain_id

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
            decimals = self._decimals[token] = int.from_bytes(self._call(token, SEL_DECIMALS)[:32], "big")
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
            if len(self._unit_cache) < 65_536:  # bounded: bulk flows repeat amounts, others need not
                self._unit_cache[amount] = units
        return units

    def _call(self, to: bytes, data: bytes) -> bytes:
        try:
            return self._backend.call(to, data)
        except ChainRevert as revert:
            raise decode_revert(revert.data) from None

    def _view(self, kind: str, to: bytes, name: str, *args: Any) -> tuple[Any, ...]:
        abi = contract_abi(kind)
        return abi.decode(name, self._call(to, abi.encode(name, *args)))

    def _send_one(self, call: RawCall) -> ChainTx:
        receipt = self._backend.send([call])[0]
        if not receipt.success:
            raise decode_revert(receipt.output)
        return self._tx(receipt)

    def _send_all(self, calls: Sequence[RawCall]) -> list[ChainTx]:
        """Send ``calls`` in one batch; raise the first failure (the calls before it stay mined)."""
        receipts = self._backend.send(calls)
        for receipt in receipts:
            if not receipt.success:
                raise decode_revert(receipt.output)
        return [self._tx(r) for r in receipts]

    def _write(
        self, kind: str, sender: bytes, to: bytes, name: str, *args: Any, gas: int = GAS_ADMIN
    ) -> RawCall:
        return RawCall(sender, to, contract_abi(kind).encode(name, *args), 0, gas)

    def _deploy(self, kind: str, sender: bytes, *args: Any) -> bytes:
        receipt = self._backend.send(
            [RawCall(sender, None, contract_abi(kind).constructor_data(*args), 0, GAS_DEPLOY)]
        )[0]
        if not receipt.success or receipt.contract_address is None:
            raise decode_revert(receipt.output)
        self._kinds[receipt.contract_address] = kind
        return receipt.contract_address

    def _tx(self, receipt: RawReceipt) -> ChainTx:
        logs = receipt.logs
        events = tuple(self._event(log) for log in logs) if logs else ()
        return ChainTx("0x" + receipt.tx_hash.hex(), receipt.block, receipt.gas_used, events)

    # ------------------------------------------------------------------ events

    def _event(self, log: RawLog) -> ChainEvent:
        kind = self._kinds.get(log.address)
        topics = log.topics
        topic = topics[0] if topics else b""
        if topic == _TRANSFER_TOPIC and kind == "SecurityToken":
            # The hot path (every transfer and mint): decode the one event by hand, all lookups cached.
            word_wallet = self._topic_wallet
            sender = word_wallet.get(topics[1]) or self._topic_to_wallet(topics[1])
            receiver = word_wallet.get(topics[2]) or self._topic_to_wallet(topics[2])
            fast_args = {
                "sender": sender,
                "receiver": receiver,
                "value": self._amount(int.from_bytes(log.data, "big"), self._decimals[log.address]),
            }
            return ChainEvent(
                self._wallet(log.address),
                "Transfer",
                log.block,
                "0x" + log.tx_hash.hex(),
                log.log_index,
                fast_args,
            )
        spec: _Event | None = None
        if kind is not None:
            spec = contract_abi(kind).events.get(topic)
        if spec is None:
            for name in (
                "SecurityToken",
                "Compliance",
                "IdentityRegistry",
                "Stablecoin",
                "QuoteSettlement",
                "ConstantProductPool",
            ):
                spec = contract_abi(name).events.get(topic)
                if spec is not None:
                    break
        contract = self._wallet(log.address)
        tx_hash = "0x" + log.tx_hash.hex()
        if spec is None:
            return ChainEvent(
                contract,
                "Unknown",
                log.block,
                tx_hash,
                log.log_index,
                {"topics": tuple("0x" + t.hex() for t in log.topics)},
            )
        data = log.data
        if spec.static_data:
            values = [
                int.from_bytes(data[i : i + 32], "big") for i in range(0, 32 * len(spec.data_types), 32)
            ]
            decoded: list[Any] = [self._static(t, v) for t, v in zip(spec.data_types, values, strict=True)]
        else:
            decoded = list(abi_decode(list(spec.data_types), data))
        args: dict[str, Any] = {}
        topic_index = 1
        data_index = 0
        for name, kind_type, indexed in spec.fields:
            if indexed:
                raw = int.from_bytes(log.topics[topic_index], "big")
                topic_index += 1
                args[name] = self._static(kind_type, raw)
            else:
                args[name] = decoded[data_index]
                data_index += 1
        self._domain_args(kind, spec.name, log.address, args)
        return ChainEvent(contract, spec.name, log.block, tx_hash, log.log_index, args)

    def _topic_to_wallet(self, topic: bytes) -> WalletAddress:
        wallet = self._wallet(topic[12:])
        if len(self._topic_wallet) < 1_000_000:
            self._topic_wallet[topic] = wallet
        return wallet

    def _static(self, kind: str, value: int) -> Any:
        if kind == "address":
            return self._wallet(value.to_bytes(32, "big")[12:])
        if kind == "bool":
            return value != 0
        if kind == "bytes32":
            raw = value.to_bytes(32, "big")
            return self._investors.get(raw) or "0x" + raw.hex()
        return value

    def _domain_args(self, kind: str | None, event: str, address: bytes, args: dict[str, Any]) -> None:
        """Turn raw integers into domain values where the emitting contract gives them a meaning."""
        if kind == "SecurityToken":
            decimals = self._decimals[address]
            for field in ("value", "amount"):
                if field in args:
                    args[field] = self._amount(args[field], decimals)
            if event == "MultiplierScheduled":
                args["multiplier"] = multiplier_from_units(args["multiplier"])
                args["effectiveAt"] = from_seconds(args["effectiveAt"])
        elif kind == "Stablecoin":
            if "value" in args:
                args["value"] = money_from_units(args["value"])
        elif kind == "Compliance":
            if event == "MaxBalanceSet":
                instrument = self._instruments.get(address)
                if instrument is not None:
                    args["maxBalance"] = self._amount(args["maxBalance"], instrument.decimals)
            for field in ("until",):
                if field in args:
                    args[field] = from_seconds(args[field])
        elif kind == "IdentityRegistry":
            if "kycExpiry" in args:
                args["kycExpiry"] = from_seconds(args["kycExpiry"])
        elif kind == "QuoteSettlement":
            settlement = self._settlements.get(address)
            if event == "QuoteSettled" and settlement is not None:
                args["quantity"] = self._amount(args["quantity"], settlement.instrument.decimals)
                args["price"] = money_from_units(args["price"])
                args["notional"] = money_from_units(args["notional"])
                args["side"] = QuoteSide(args["side"])
        elif kind == "ConstantProductPool":
            pool = self._pools.get(address)
            if pool is None:
                return
            decimals = pool.instrument.decimals
            if event in ("LiquidityAdded", "LiquidityRemoved"):
                args["amount0"] = self._amount(args["amount0"], decimals)
                args["amount1"] = money_from_units(args["amount1"])
            elif event == "Swap":
                token_in = args["tokenIn"] == pool.instrument.token
                args["amountIn"] = (
                    self._amount(args["amountIn"], decimals)
                    if token_in
                    else money_from_units(args["amountIn"])
                )
                args["amountOut"] = (
                    money_from_units(args["amountOut"])
                    if token_in
                    else self._amount(args["amountOut"], decimals)
                )

    # ------------------------------------------------------------------ TokenChain

    def _role_wallets(self, symbol: Symbol) -> Roles:
        if self._roles is not None:
            return self._roles
        return Roles(*(self.wallet(f"{symbol.value}:{role}") for role in ROLE_NAMES))

    def deploy_instrument(
        self, symbol: Symbol, name: str, decimals: int = 18, *, mode: TransferMode = TransferMode.OPEN
    ) -> Instrument:
        """Deploy a token with its identity registry and compliance contracts, roles wired."""
        roles = self._role_wallets(symbol)
        for holder in (roles.admin, roles.issuer, roles.agent, roles.pauser, roles.corporate_actions):
            self._ensure_funded(self._b(holder))
        admin = self._b(roles.admin)
        registry = self._deploy("IdentityRegistry", admin, admin)
        compliance = self._deploy("Compliance", admin, registry, admin, int(mode))
        token = self._deploy("SecurityToken", admin, name, symbol.value, decimals, admin, compliance)
        self._decimals[token] = decimals
        grants = [
            self._write("Compliance", admin, compliance, "bindToken", token),
            self._write(
                "IdentityRegistry", admin, registry, "grantRole", ROLE_BITS["agent"], self._b(roles.agent)
            ),
            self._write(
                "Compliance", admin, compliance, "grantRole", ROLE_BITS["agent"], self._b(roles.agent)
            ),
        ]
        for role in ("issuer", "agent", "pauser", "corporate_actions"):
            grants.append(
                self._write(
                    "SecurityToken", admin, token, "grantRole", ROLE_BITS[role], self._b(getattr(roles, role))
                )
            )
        self._send_all(grants)
        instrument = Instrument(
            symbol, self._wallet(token), self._wallet(registry), self._wallet(compliance), decimals, roles
        )
        for address in (token, registry, compliance):
            self._instruments[address] = instrument
        return instrument

    def deploy_stablecoin(self, symbol: str = "USDX") -> WalletAddress:
        """Deploy a plain 6-decimal USD token for payments and buffer pools (owned by the platform)."""
        owner = self.platform_wallet_bytes()
        coin = self._deploy("Stablecoin", owner, f"{symbol} US Dollar", symbol, owner)
        self._decimals[coin] = STABLE_DECIMALS
        return self._wallet(coin)

    def mint(self, instrument: Instrument, to: WalletAddress, amount: TokenAmount) -> ChainTx:
        """Mint ``amount`` to ``to`` as the issuer (compliance checked)."""
        token = self._b(instrument.token)
        data = SEL_MINT + _PAD12 + self._b(to) + self._units(token, amount).to_bytes(32, "big")
        return self._send_one(RawCall(self._b(instrument.roles.issuer), token, data, 0, GAS_TRANSFER))

    def _batch_call(
        self, instrument: Instrument, name: str, allocations: Sequence[tuple[WalletAddress, TokenAmount]]
    ) -> RawCall:
        if not allocations:
            raise DomainError("EMPTY_BATCH", "a batch needs at least one allocation")
        if len(allocations) > MAX_BATCH:
            raise DomainError(
                "BATCH_TOO_LARGE", f"at most {MAX_BATCH} allocations per batch, got {len(allocations)}"
            )
        token = self._b(instrument.token)
        wallets = [self._b(w) for w, _ in allocations]
        units = [self._units(token, a) for _, a in allocations]
        data = contract_abi("SecurityToken").encode(name, wallets, units)
        gas = min(GAS_CAP, GAS_BATCH_BASE + GAS_PER_BATCH_ITEM * len(allocations))
        return RawCall(self._b(instrument.roles.issuer), token, data, 0, gas)

    def batch_mint(
        self, instrument: Instrument, allocations: Sequence[tuple[WalletAddress, TokenAmount]]
    ) -> ChainTx:
        """Mint to up to 256 holders in one transaction (all or nothing)."""
        return self._send_one(self._batch_call(instrument, "batchMint", allocations))

    def batch_mint_many(
        self, instrument: Instrument, batches: Sequence[Sequence[tuple[WalletAddress, TokenAmount]]]
    ) -> list[ChainTx | DomainError]:
        """Send many ``batchMint`` transactions in one backend batch; each is all-or-nothing on its own."""
        receipts = self._backend.send([self._batch_call(instrument, "batchMint", b) for b in batches])
        return [self._tx(r) if r.success else decode_revert(r.output) for r in receipts]

    def burn(self, instrument: Instrument, holder: WalletAddress, amount: TokenAmount) -> ChainTx:
        """Burn ``amount`` from ``holder`` as the issuer."""
        token = self._b(instrument.token)
        data = SEL_BURN + _PAD12 + self._b(holder) + self._units(token, amount).to_bytes(32, "big")
        return self._send_one(RawCall(self._b(instrument.roles.issuer), token, data, 0, GAS_TRANSFER))

    def batch_burn(
        self, instrument: Instrument, allocations: Sequence[tuple[WalletAddress, TokenAmount]]
    ) -> ChainTx:
        """Burn from up to 256 holders in one transaction (all or nothing)."""
        return self._send_one(self._batch_call(instrument, "batchBurn", allocations))

    def transfer(
        self, token: WalletAddress, sender: WalletAddress, to: WalletAddress, amount: TokenAmount
    ) -> ChainTx:
        """Move tokens from a wallet whose key the adapter holds."""
        raw_token = self._b(token)
        data = SEL_TRANSFER + _PAD12 + self._b(to) + self._units(raw_token, amount).to_bytes(32, "big")
        receipt = self._backend.send([RawCall(self._b(sender), raw_token, data, 0, GAS_TRANSFER)])[0]
        if not receipt.success:
            raise decode_revert(receipt.output)
        return self._tx(receipt)

    def transfer_many(
        self, token: WalletAddress, transfers: Iterable[tuple[WalletAddress, WalletAddress, TokenAmount]]
    ) -> list[ChainTx | DomainError]:
        """Send many transfers in one backend batch (one block); return each one's tx or refusal, in order.

        A rule's refusal is a ``ChainRefusal``; any other revert a ``DomainError("CHAIN_REVERT")``.
        Refused transfers change nothing; the others stand.
        """
        raw_token = self._b(token)
        to_bytes = self._b
        units = self._units
        calls = [
            RawCall(
                to_bytes(sender),
                raw_token,
                SEL_TRANSFER + _PAD12 + to_bytes(to) + units(raw_token, amount).to_bytes(32, "big"),
                0,
                GAS_TRANSFER,
            )
            for sender, to, amount in transfers
        ]
        receipts = self._backend.send(calls)
        return [self._tx(r) if r.success else decode_revert(r.output) for r in receipts]

    def approve(
        self, token: WalletAddress, owner: WalletAddress, spender: WalletAddress, amount: TokenAmount
    ) -> ChainTx:
        """Let ``spender`` move up to ``amount`` of ``owner``'s tokens (``unlimited()``: no limit)."""
        raw_token = self._b(token)
        data = SEL_APPROVE + _PAD12 + self._b(spender) + self._units(raw_token, amount).to_bytes(32, "big")
        return self._send_one(RawCall(self._b(owner), raw_token, data, 0, GAS_TRANSFER))

    def transfer_from(
        self,
        token: WalletAddress,
        spender: WalletAddress,
        owner: WalletAddress,
        to: WalletAddress,
        amount: TokenAmount,
    ) -> ChainTx:
        """Move ``owner``'s tokens as ``spender`` under an allowance."""
        raw_token = self._b(token)
        data = (
            SEL_TRANSFER_FROM
            + _PAD12
            + self._b(owner)
            + _PAD12
            + self._b(to)
            + self._units(raw_token, amount).to_bytes(32, "big")
        )
        return self._send_one(RawCall(self._b(spender), raw_token, data, 0, GAS_TRANSFER))

    def allowance(self, token: WalletAddress, owner: WalletAddress, spender: WalletAddress) -> TokenAmount:
        """Return how much ``spender`` may still move of ``owner``'s tokens."""
        raw_token = self._b(token)
        (units,) = self._view("SecurityToken", raw_token, "allowance", self._b(owner), self._b(spender))
        return self._amount(int(units), self._token_decimals(raw_token))

    def balance_of(self, token: WalletAddress, wallet: WalletAddress) -> TokenAmount:
        """Return a wallet's raw balance (not multiplied)."""
        raw_token = self._b(token)
        output = self._call(raw_token, SEL_BALANCE_OF + _PAD12 + self._b(wallet))
        return self._amount(int.from_bytes(output[:32], "big"), self._token_decimals(raw_token))

    def total_supply(self, token: WalletAddress) -> TokenAmount:
        """Return the raw token supply."""
        raw_token = self._b(token)
        output = self._call(raw_token, SEL_TOTAL_SUPPLY)
        return self._amount(int.from_bytes(output[:32], "big"), self._token_decimals(raw_token))

    def can_transfer(
        self, instrument: Instrument, sender: WalletAddress, to: WalletAddress, amount: TokenAmount
    ) -> TransferDecision:
        """Return the contracts' decision on a transfer, with its reason, without moving anything."""
        token = self._b(instrument.token)
        data = (
            SEL_RESTRICTION
            + _PAD12
            + self._b(sender)
            + _PAD12
            + self._b(to)
            + self._units(token, amount).to_bytes(32, "big")
        )
        code = int.from_bytes(self._call(token, data)[:32], "big")
        try:
            reason = Reason(code)
        except ValueError:
            raise DomainError("UNKNOWN_REASON", f"the contracts returned reason code {code}") from None
        return TransferDecision(reason is Reason.OK, reason)

    def events(
        self, contract: WalletAddress, from_block: int, to_block: int | None = None
    ) -> list[ChainEvent]:
        """Return the decoded events of ``contract`` in a block range."""
        return [self._event(log) for log in self._backend.logs(self._b(contract), from_block, to_block)]

    def balances_at(self, token: WalletAddress, block: int) -> Mapping[WalletAddress, TokenAmount]:
        """Return every non-zero holder balance at the end of ``block``, by replaying ``Transfer`` logs.

        Replaying works on every engine (the embedded one keeps no state history; a node prunes it).
        """
        raw_token = self._b(token)
        balances: dict[bytes, int] = {}
        for log in self._backend.logs(raw_token, 0, block):
            if not log.topics or log.topics[0] != _TRANSFER_TOPIC:
                continue
            value = int.from_bytes(log.data[:32], "big")
            source = log.topics[1][12:]
            target = log.topics[2][12:]
            if source != _ZERO20:
                balances[source] = balances.get(source, 0) - value
            if target != _ZERO20:
                balances[target] = balances.get(target, 0) + value
        decimals = self._token_decimals(raw_token)
        return {self._wallet(a): self._amount(v, decimals) for a, v in balances.items() if v}

    def block_number(self) -> int:
        """Return the latest block number."""
        return self._backend.block_number()

    def block_time(self) -> datetime:
        """Return the latest block's time."""
        return from_seconds(self._backend.timestamp())

    # ------------------------------------------------------------------ TokenEnforcement

    def _token_write(self, instrument: Instrument, role: str, name: str, *args: Any) -> ChainTx:
        sender = self._b(getattr(instrument.roles, role))
        return self._send_one(self._write("SecurityToken", sender, self._b(instrument.token), name, *args))

    def pause(self, instrument: Instrument) -> ChainTx:
        """Stop every transfer, mint and burn."""
        return self._token_write(instrument, "pauser", "pause")

    def unpause(self, instrument: Instrument) -> ChainTx:
        """Resume."""
        return self._token_write(instrument, "pauser", "unpause")

    def is_paused(self, instrument: Instrument) -> bool:
        """Tell whether the token is paused."""
        return bool(self._view("SecurityToken", self._b(instrument.token), "paused")[0])

    def set_address_frozen(self, instrument: Instrument, wallet: WalletAddress, frozen: bool) -> ChainTx:
        """Freeze or unfreeze a whole wallet."""
        return self._token_write(instrument, "agent", "setAddressFrozen", self._b(wallet), frozen)

    def is_frozen(self, instrument: Instrument, wallet: WalletAddress) -> bool:
        """Tell whether a wallet is frozen."""
        return bool(self._view("SecurityToken", self._b(instrument.token), "isFrozen", self._b(wallet))[0])

    def frozen_tokens(self, instrument: Instrument, wallet: WalletAddress) -> TokenAmount:
        """Return the partially frozen part of a wallet's balance."""
        (units,) = self._view("SecurityToken", self._b(instrument.token), "getFrozenTokens", self._b(wallet))
        return self._amount(int(units), instrument.decimals)

    def freeze_partial_tokens(
        self, instrument: Instrument, wallet: WalletAddress, amount: TokenAmount
    ) -> ChainTx:
        """Freeze part of a wallet's balance."""
        units = self._units(self._b(instrument.token), amount)
        return self._token_write(instrument, "agent", "freezePartialTokens", self._b(wallet), units)

    def unfreeze_partial_tokens(
        self, instrument: Instrument, wallet: WalletAddress, amount: TokenAmount
    ) -> ChainTx:
        """Release part of a wallet's frozen balance."""
        units = self._units(self._b(instrument.token), amount)
        return self._token_write(instrument, "agent", "unfreezePartialTokens", self._b(wallet), units)

    def forced_transfer(
        self, instrument: Instrument, sender: WalletAddress, to: WalletAddress, amount: TokenAmount
    ) -> ChainTx:
        """Move tokens as the agent; the receiver's eligibility is still checked."""
        units = self._units(self._b(instrument.token), amount)
        return self._token_write(instrument, "agent", "forcedTransfer", self._b(sender), self._b(to), units)

    def recovery_address(
        self, instrument: Instrument, lost: WalletAddress, new: WalletAddress, investor: InvestorId
    ) -> ChainTx:
        """Move a lost wallet's whole position, frozen state included, to another wallet of its investor."""
        return self._token_write(
            instrument, "agent", "recoveryAddress", self._b(lost), self._b(new), self._investor(investor)
        )

    # ------------------------------------------------------------------ IdentityChain

    def _investor(self, investor: InvestorId) -> bytes:
        key = investor_key(investor)
        self._investors[key] = investor
        return key

    def _agent_write(self, instrument: Instrument, kind: str, name: str, *args: Any) -> RawCall:
        target = instrument.registry if kind == "IdentityRegistry" else instrument.compliance
        return self._write(kind, self._b(instrument.roles.agent), self._b(target), name, *args)

    @staticmethod
    def _merged(txs: Sequence[ChainTx]) -> ChainTx:
        """Report several transactions sent together as one: the last one's hash, all gas and events."""
        last = txs[-1]
        return ChainTx(
            last.tx_hash, last.block, sum(t.gas_used for t in txs), tuple(e for t in txs for e in t.events)
        )

    def set_investor(self, instrument: Instrument, investor: OnChainInvestor) -> ChainTx:
        """Create or update an investor's record (country, category, KYC expiry, sanctions)."""
        key = self._investor(investor.investor_id)
        if not 1 <= investor.country <= 999:
            raise DomainError(
                "INVALID_COUNTRY", f"an ISO 3166 numeric code is 1..999, got {investor.country}"
            )
        exists, _, _, _, sanctioned = self._view(
            "IdentityRegistry", self._b(instrument.registry), "investor", key
        )
        calls = [
            self._agent_write(
                instrument,
                "IdentityRegistry",
                "setInvestor",
                key,
                investor.country,
                investor.category,
                to_seconds(investor.kyc_expiry),
            )
        ]
        if bool(sanctioned) != investor.sanctioned and (exists or investor.sanctioned):
            calls.append(
                self._agent_write(
                    instrument, "IdentityRegistry", "setInvestorSanctioned", key, investor.sanctioned
                )
            )
        return self._merged(self._send_all(calls))

    def read_investor(self, instrument: Instrument, investor: InvestorId) -> OnChainInvestor | None:
        """Return what the registry holds for ``investor`` (``None`` if unknown)."""
        exists, country, category, expiry, sanctioned = self._view(
            "IdentityRegistry", self._b(instrument.registry), "investor", self._investor(investor)
        )
        if not exists:
            return None
        return OnChainInvestor(
            investor, int(country), int(category), from_seconds(int(expiry)), bool(sanctioned)
        )

    def bind_wallet(self, instrument: Instrument, wallet: WalletAddress, investor: InvestorId) -> ChainTx:
        """Bind a wallet to an investor (a wallet belongs to one investor)."""
        return self._send_one(
            self._agent_write(
                instrument, "IdentityRegistry", "bindWallet", self._b(wallet), self._investor(investor)
            )
        )

    def unbind_wallet(self, instrument: Instrument, wallet: WalletAddress) -> ChainTx:
        """Remove a wallet's binding."""
        return self._send_one(
            self._agent_write(instrument, "IdentityRegistry", "unbindWallet", self._b(wallet))
        )

    def set_wallet_sanctioned(
        self, instrument: Instrument, wallet: WalletAddress, sanctioned: bool
    ) -> ChainTx:
        """Put a wallet (bound or not) on, or take it off, the wallet-level sanctions blocklist."""
        return self._send_one(
            self._agent_write(
                instrument, "IdentityRegistry", "setWalletSanctioned", self._b(wallet), sanctioned
            )
        )

    def is_verified(self, instrument: Instrument, wallet: WalletAddress) -> bool:
        """Tell whether ``wallet`` is bound to a verified, unsanctioned investor with valid KYC (ERC-3643)."""
        return bool(
            self._view("IdentityRegistry", self._b(instrument.registry), "isVerified", self._b(wallet))[0]
        )

    def configure(self, instrument: Instrument, config: ComplianceConfig) -> list[ChainTx]:
        """Make the on-chain rule configuration equal ``config`` (only the differences are sent)."""
        current = self.read_config(instrument)
        calls: list[RawCall] = []

        def write(name: str, *args: Any) -> None:
            calls.append(self._agent_write(instrument, "Compliance", name, *args))

        if config.transfer_mode != current.transfer_mode:
            write("setTransferMode", int(config.transfer_mode))
        compliance = self._b(instrument.compliance)
        enabled = bool(self._view("Compliance", compliance, "countryAllowlistEnabled")[0])
        on_chain_allowed = {int(c) for c in self._view("Compliance", compliance, "allowedCountries")[0]}
        for countries in (config.countries_allowed, config.countries_denied):
            bad = [c for c in countries if not 1 <= c <= 999]
            if bad:
                raise DomainError("INVALID_COUNTRY", f"ISO 3166 numeric codes are 1..999, got {sorted(bad)}")
        if on_chain_allowed - config.countries_allowed:
            write("setCountriesAllowed", sorted(on_chain_allowed - config.countries_allowed), False)
        if config.countries_allowed - on_chain_allowed:
            write("setCountriesAllowed", sorted(config.countries_allowed - on_chain_allowed), True)
        if enabled != bool(config.countries_allowed):
            write("setCountryAllowlistEnabled", bool(config.countries_allowed))
        if current.countries_denied - config.countries_denied:
            write("setCountriesDenied", sorted(current.countries_denied - config.countries_denied), False)
        if config.countries_denied - current.countries_denied:
            write("setCountriesDenied", sorted(config.countries_denied - current.countries_denied), True)
        if config.allowed_categories != current.allowed_categories:
            bad = [c for c in config.allowed_categories if not 0 <= c <= 255]
            if bad:
                raise DomainError("INVALID_CATEGORY", f"investor categories are 0..255, got {sorted(bad)}")
            mask = (
                sum(1 << c for c in config.allowed_categories) if config.allowed_categories else MAX_UINT256
            )
            write("setAllowedCategories", mask)
        if config.max_holders != current.max_holders:
            write("setMaxHolders", config.max_holders)
        if config.max_balance != current.max_balance:
            units = (
                0
                if config.max_balance is None
                else self._units(self._b(instrument.token), config.max_balance)
            )
            write("setMaxBalance", units)
        if dict(config.flowback) != dict(current.flowback):
            if len(config.flowback) > 1:
                raise DomainError("UNSUPPORTED_CONFIG", "the Compliance contract holds one flowback country")
            country, until = next(iter(config.flowback.items()), (0, EPOCH))
            write("setFlowback", country, to_seconds(until))
        return self._send_all(calls) if calls else []

    def read_config(self, instrument: Instrument) -> ComplianceConfig:
        """Read the whole on-chain configuration back (for drift checks)."""
        compliance = self._b(instrument.compliance)
        mode, enabled, mask, max_holders, max_balance, flow_country, flow_until = self._view(
            "Compliance", compliance, "config"
        )
        allowed = frozenset(int(c) for c in self._view("Compliance", compliance, "allowedCountries")[0])
        denied = frozenset(int(c) for c in self._view("Compliance", compliance, "deniedCountries")[0])
        categories = frozenset() if mask == MAX_UINT256 else frozenset(i for i in range(256) if mask >> i & 1)
        return ComplianceConfig(
            transfer_mode=TransferMode(mode),
            countries_allowed=allowed if enabled else frozenset(),
            countries_denied=denied,
            allowed_categories=categories,
            max_holders=int(max_holders),
            max_balance=None if max_balance == 0 else self._amount(int(max_balance), instrument.decimals),
            flowback={int(flow_country): from_seconds(int(flow_until))} if flow_until else {},
        )

    def set_lockup(self, instrument: Instrument, investor: InvestorId, until: datetime) -> ChainTx:
        """Lock an investor's holding until ``until`` (the epoch removes the lockup)."""
        return self._send_one(
            self._agent_write(
                instrument, "Compliance", "setLockup", self._investor(investor), to_seconds(until)
            )
        )

    def set_whitelisted(
        self, instrument: Instrument, investors: Sequence[InvestorId], whitelisted: bool
    ) -> ChainTx:
        """Add investors to (or remove them from) the holder whitelist."""
        keys = [self._investor(i) for i in investors]
        return self._send_one(
            self._agent_write(instrument, "Compliance", "setWhitelisted", keys, whitelisted)
        )

    # ------------------------------------------------------------------ CorporateActionsChain

    def schedule_multiplier(self, instrument: Instrument, update: MultiplierUpdate) -> ChainTx:
        """Schedule a new multiplier from ``effective_at``; a used nonce is refused."""
        return self._token_write(
            instrument,
            "corporate_actions",
            "scheduleMultiplier",
            multiplier_units(update.multiplier),
            to_seconds(update.effective_at),
            update.nonce,
        )

    def multiplier(self, instrument: Instrument) -> Decimal:
        """Return the multiplier in force at the latest block."""
        return multiplier_from_units(
            int(self._view("SecurityToken", self._b(instrument.token), "multiplier")[0])
        )

    def multiplier_history(self, instrument: Instrument) -> list[MultiplierUpdate]:
        """Return every scheduled update, oldest first (the initial 1.0 is not a scheduled update)."""
        token = self._b(instrument.token)
        (count,) = self._view("SecurityToken", token, "multiplierUpdateCount")
        history = []
        for index in range(1, int(count)):
            value, effective, nonce = self._view("SecurityToken", token, "multiplierUpdate", index)
            history.append(
                MultiplierUpdate(multiplier_from_units(int(value)), from_seconds(int(effective)), int(nonce))
            )
        return history

    def ui_balance_of(self, instrument: Instrument, wallet: WalletAddress) -> Decimal:
        """Return a wallet's balance times the multiplier in force, in whole tokens (rounded down)."""
        (units,) = self._view("SecurityToken", self._b(instrument.token), "uiBalanceOf", self._b(wallet))
        with exact():
            return Decimal(int(units)).scaleb(-instrument.decimals)

    # ------------------------------------------------------------------ StablecoinChain

    def mint_stablecoin(self, stablecoin: WalletAddress, to: WalletAddress, amount: Money) -> ChainTx:
        """Create ``amount`` of USD stablecoin for ``to`` (as the stablecoin's owner)."""
        coin = self._b(stablecoin)
        (owner,) = self._view("Stablecoin", coin, "owner")
        data = SEL_MINT + _PAD12 + self._b(to) + money_units(amount).to_bytes(32, "big")
        return self._send_one(RawCall(bytes.fromhex(owner[2:]), coin, data, 0, GAS_TRANSFER))

    def stablecoin_balance(self, stablecoin: WalletAddress, wallet: WalletAddress) -> Money:
        """Return a wallet's stablecoin balance."""
        output = self._call(self._b(stablecoin), SEL_BALANCE_OF + _PAD12 + self._b(wallet))
        return money_from_units(int.from_bytes(output[:32], "big"))

    def _approve_call(self, token: bytes, owner: bytes, spender: bytes, units: int) -> RawCall:
        return RawCall(
            owner, token, SEL_APPROVE + _PAD12 + spender + units.to_bytes(32, "big"), 0, GAS_TRANSFER
        )

    # ------------------------------------------------------------------ QuoteChain

    def deploy_quote_settlement(
        self,
        instrument: Instrument,
        stablecoin: WalletAddress,
        signer: WalletAddress,
        treasury: WalletAddress,
        *,
        window: timedelta = timedelta(days=1),
        notional_cap: Money | None = None,
    ) -> WalletAddress:
        """Deploy the settlement contract of ``instrument``; it becomes an issuer of the token.

        The treasury (whose key this facade must hold) approves the contract to pay sell proceeds.
        """
        window_seconds = window // _SECOND
        if window_seconds <= 0:
            raise DomainError("INVALID_SETTING", "the notional window must be at least one second")
        cap = MAX_UINT256 if notional_cap is None else money_units(notional_cap)
        admin = self._b(instrument.roles.admin)
        coin = self._b(stablecoin)
        settlement = self._deploy(
            "QuoteSettlement",
            admin,
            self._b(instrument.token),
            coin,
            eip712.symbol_bytes32(instrument.symbol.value),
            self._b(treasury),
            self._b(signer),
            window_seconds,
            cap,
            admin,
        )
        self._ensure_funded(self._b(treasury))
        self._send_all(
            [
                self._write(
                    "SecurityToken",
                    admin,
                    self._b(instrument.token),
                    "grantRole",
                    ROLE_BITS["issuer"],
                    settlement,
                ),
                self._approve_call(coin, self._b(treasury), settlement, MAX_UINT256),
            ]
        )
        self._settlements[settlement] = _Settlement(instrument, coin, self._b(signer), self._b(treasury))
        return self._wallet(settlement)

    def _settlement(self, address: WalletAddress) -> _Settlement:
        found = self._settlements.get(self._b(address))
        if found is None:
            raise DomainError(
                "UNKNOWN_CONTRACT", f"{address} is not a settlement contract deployed by this facade"
            )
        return found

    def _raw_quote(self, quote: ChainQuote) -> eip712.Quote:
        settlement = self._settlement(quote.settlement)
        return eip712.Quote(
            investor=self._b(quote.investor),
            symbol=eip712.symbol_bytes32(settlement.instrument.symbol.value),
            side=int(quote.side),
            quantity=self._units(self._b(settlement.instrument.token), quote.quantity),
            price=money_units(quote.price),
            expiry=to_seconds(quote.expiry),
            quote_id=keccak256(b"quote:" + quote.quote_id.encode()),
        )

    def sign_quote(self, quote: ChainQuote, chain_id: int | None = None) -> SignedQuote:
        """Sign ``quote`` as the settlement's platform signer for ``chain_id`` (this chain's if omitted)."""
        settlement = self._settlement(quote.settlement)
        target_chain = self._chain_id if chain_id is None else chain_id
        signature = eip712.sign_quote(
            self._keyring.private_key(settlement.signer),
            self._raw_quote(quote),
            target_chain,
            self._b(quote.settlement),
        )
        return SignedQuote(quote, target_chain, "0x" + signature.to_bytes().hex())

    def quote_notional(self, quote: ChainQuote) -> Money:
        """Return what a quote pays or receives, rounded as the contract does (in the platform's favour)."""
        raw = self._raw_quote(quote)
        decimals = self._settlement(quote.settlement).instrument.decimals
        return money_from_units(eip712.quote_notional(raw.side, raw.quantity, raw.price, decimals))

    def settle_quote(self, signed: SignedQuote) -> ChainTx:
        """Settle a signed quote as its investor; a buy approves exactly its notional first (same block)."""
        quote = signed.quote
        settlement = self._settlement(quote.settlement)
        raw = self._raw_quote(quote)
        signature = bytes.fromhex(signed.signature.removeprefix("0x"))
        if len(signature) != 65:
            raise DomainError("INVALID_SIGNATURE", "a quote signature is 65 bytes")
        investor = raw.investor
        contract = self._b(quote.settlement)
        calls = []
        if quote.side is QuoteSide.BUY:
            notional = eip712.quote_notional(
                raw.side, raw.quantity, raw.price, settlement.instrument.decimals
            )
            calls.append(self._approve_call(settlement.stablecoin, investor, contract, notional))
        calls.append(
            self._write(
                "QuoteSettlement",
                investor,
                contract,
                "settle",
                raw.investor,
                raw.symbol,
                raw.side,
                raw.quantity,
                raw.price,
                raw.expiry,
                raw.quote_id,
                signature[64],
                signature[:32],
                signature[32:64],
            )
        )
        receipts = self._backend.send(calls)
        for receipt in receipts:
            if not receipt.success:
                raise decode_revert(receipt.output)
        return self._tx(receipts[-1])

    # ------------------------------------------------------------------ PoolChain

    def deploy_pool(
        self, instrument: Instrument, stablecoin: WalletAddress, fee_bps: int = 30
    ) -> WalletAddress:
        """Deploy an empty x*y=k pool of ``instrument`` against ``stablecoin``."""
        pool = self._deploy(
            "ConstantProductPool",
            self.platform_wallet_bytes(),
            self._b(instrument.token),
            self._b(stablecoin),
            fee_bps,
        )
        self._pools[pool] = _Pool(instrument, self._b(stablecoin))
        return self._wallet(pool)

    def _pool(self, address: WalletAddress) -> _Pool:
        found = self._pools.get(self._b(address))
        if found is None:
            raise DomainError("UNKNOWN_CONTRACT", f"{address} is not a pool deployed by this facade")
        return found

    def add_liquidity(
        self, pool: WalletAddress, provider: WalletAddress, tokens: TokenAmount, cash: Money
    ) -> ChainTx:
        """Deposit both sides as ``provider``; the approvals go in the same block."""
        info = self._pool(pool)
        raw_pool = self._b(pool)
        who = self._b(provider)
        token = self._b(info.instrument.token)
        token_units = self._units(token, tokens)
        cash_units = money_units(cash)
        calls = [
            self._approve_call(token, who, raw_pool, token_units),
            self._approve_call(info.stablecoin, who, raw_pool, cash_units),
            self._write(
                "ConstantProductPool",
                who,
                raw_pool,
                "addLiquidity",
                token_units,
                cash_units,
                0,
                gas=GAS_ADMIN,
            ),
        ]
        receipts = self._backend.send(calls)
        for receipt in receipts:
            if not receipt.success:
                raise decode_revert(receipt.output)
        return self._tx(receipts[-1])

    def swap(
        self,
        pool: WalletAddress,
        trader: WalletAddress,
        amount_in: TokenAmount | Money,
        min_out: TokenAmount | Money | None = None,
    ) -> ChainTx:
        """Sell ``amount_in`` (tokens or cash) into the pool as ``trader``; the output goes to ``trader``."""
        info = self._pool(pool)
        raw_pool = self._b(pool)
        who = self._b(trader)
        token = self._b(info.instrument.token)
        if isinstance(amount_in, TokenAmount):
            token_in, units_in = token, self._units(token, amount_in)
            minimum = 0 if min_out is None else money_units(_as_money(min_out))
        else:
            token_in, units_in = info.stablecoin, money_units(amount_in)
            minimum = 0 if min_out is None else self._units(token, _as_tokens(min_out))
        calls = [
            self._approve_call(token_in, who, raw_pool, units_in),
            self._write(
                "ConstantProductPool", who, raw_pool, "swap", token_in, units_in, minimum, who, gas=GAS_ADMIN
            ),
        ]
        receipts = self._backend.send(calls)
        for receipt in receipts:
            if not receipt.success:
                raise decode_revert(receipt.output)
        return self._tx(receipts[-1])

    def pool_reserves(self, pool: WalletAddress) -> tuple[TokenAmount, Money]:
        """Return the pool's token and cash reserves."""
        info = self._pool(pool)
        reserve0, reserve1 = self._view("ConstantProductPool", self._b(pool), "getReserves")
        return self._amount(int(reserve0), info.instrument.decimals), money_from_units(int(reserve1))


def _as_money(value: TokenAmount | Money) -> Money:
    if not isinstance(value, Money):
        raise DomainError("INVALID_AMOUNT", "selling tokens pays out cash: give the minimum as Money")
    return value


def _as_tokens(value: TokenAmount | Money) -> TokenAmount:
    if not isinstance(value, TokenAmount):
        raise DomainError("INVALID_AMOUNT", "selling cash pays out tokens: give the minimum as a TokenAmount")
    return value
