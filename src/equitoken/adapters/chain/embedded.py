"""The embedded engine: ``EvmBackend`` and ``DevBackend`` on revm (pyrevm), in this process, nothing to start.

pyrevm is an EVM with no transaction layer, so this module models one, and says where it differs from a
node:

- **Chain id.** ``EMBEDDED_CHAIN_ID`` (``domain.chains``) by default, never a development node's
  (31337, 1337): what is signed or posted here cannot be mistaken for the user's anvil.
- **Blocks.** Each non-empty ``send`` mines exactly one block holding its calls, in order (like a node
  run with ``--no-mining`` and one ``evm_mine`` per batch). Block 0 is genesis at ``start_timestamp``;
  a new block carries the timestamp given to ``set_next_timestamp`` or else the latest one plus
  ``block_time`` seconds — never the wall clock, so a simulation replays identically.
- **Nonces** are kept per sender and advance by one per mined call, reverted or not. A deploy's address
  is ``keccak(rlp([sender, nonce]))[12:]`` exactly as on a real chain (the EVM's own account nonce is
  synchronised before each deploy, since pyrevm only counts creations).
- **Transaction hashes** are ``keccak(chain id, sender, nonce, to, value, data)``: unique and
  deterministic, but *not* the hash of an RLP-encoded signed transaction (nothing is signed here; the
  backend only checks that the sender is in its key ring).
- **Gas** is metered (limits, out-of-gas) but costs nothing: gas price and base fee are 0, so senders
  need no native balance. ``gas_used`` is approximate: pyrevm never finalises its journal, so storage
  and accounts touched by an earlier transaction stay "warm" (EIP-2929) and count cheaper than on a node.
- **History.** There is no state history: ``call`` runs on the latest block only
  (``historical_state = False``); the facade reads past balances by replaying ``Transfer`` logs, which
  this backend indexes in memory per contract address.
- **Rejections.** A call that a node would refuse before mining (gas below the intrinsic cost or above
  the block limit, value above the balance, unknown signer) raises ``DomainError("TX_REJECTED" /
  "UNKNOWN_SIGNER")`` and uses no nonce; the calls before it in the batch stay mined.
- **Reverts.** pyrevm reports a revert or halt as a ``RuntimeError`` carrying revm's debug text
  (``Revert { gas_used: 23932, output: 0x08c3… }``); ``parse_failure`` recovers the gas and the raw
  revert data from it.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from operator import attrgetter
from typing import Final

import pyrevm
import sha3

from equitoken.adapters.chain.backend import ChainRevert, KeyRing, RawCall, RawLog, RawReceipt
from equitoken.domain.chains import EMBEDDED_CHAIN_ID
from equitoken.domain.errors import DomainError
from equitoken.domain.keccak import keccak256

DEFAULT_CHAIN_ID: Final = EMBEDDED_CHAIN_ID
"""The embedded chain's own id (``domain.chains``): never anvil's or Hardhat's 31337, nor Ganache's 1337."""
DEFAULT_START_TIMESTAMP: Final = 1_704_067_200  # 2024-01-01T00:00:00Z: a fixed, readable genesis
DEFAULT_BLOCK_GAS_LIMIT: Final = 30_000_000  # anvil's default, so the same calls fit on both engines
SPECS: Final = ("SHANGHAI", "CANCUN", "PRAGUE")
"""EVM versions accepted by name (pyrevm maps an unknown name silently to its latest, so we check)."""

ZERO_ADDRESS: Final = bytes(20)
_FAUCET: Final = "0x" + "fa" * 20
"""The account ``fund`` moves native balance from/to, so that funding is journaled and rolls back."""
_FAUCET_BALANCE: Final = 2**200
MAX_SNAPSHOTS: Final = 256
"""Outstanding snapshots allowed at once. Each holds one level of revm's journal depth, which is also the
call-depth budget (1024): past it every transaction would fail with ``CallTooDeep``."""
_REVERT_TEXT = re.compile(r"Revert \{\s*gas_used:\s*(\d+),\s*output:\s*0x([0-9a-fA-F]*)\s*\}")
_HALT_TEXT = re.compile(r"Halt \{\s*reason:\s*(.*?),\s*gas_used:\s*(\d+)\s*\}")
_block_of = attrgetter("block")
_keccak = sha3.keccak_256  # called directly on the hot path (no wrapper frame)


@dataclass(frozen=True, slots=True)
class Failure:
    """A reverted or halted execution as pyrevm reported it."""

    kind: str  # "revert" (REVERT opcode: ``output`` is the revert data) or "halt" (out of gas, invalid…)
    gas_used: int
    output: bytes
    reason: str  # the halt reason (e.g. ``OutOfGas(Basic)``); "" for a revert


def parse_failure(message: str) -> Failure | None:
    """Return the revert/halt in pyrevm's error text, or ``None`` if it is not an execution failure.

    pyrevm formats revm's ``ExecutionResult`` with Rust's ``{:?}``; anything else (a validation error
    such as ``Transaction(CallGasCostMoreThanGasLimit)``) means the transaction never executed.
    """
    revert = _REVERT_TEXT.search(message)
    if revert is not None:
        return Failure("revert", int(revert.group(1)), bytes.fromhex(revert.group(2)), "")
    halt = _HALT_TEXT.search(message)
    if halt is not None:
        return Failure("halt", int(halt.group(2)), b"", halt.group(1))
    return None


def _rlp_bytes(item: bytes) -> bytes:
    if len(item) == 1 and item[0] < 0x80:
        return item
    if len(item) <= 55:
        return bytes([0x80 + len(item)]) + item
    length = len(item).to_bytes((len(item).bit_length() + 7) // 8, "big")
    return bytes([0xB7 + len(length)]) + length + item


def create_address(sender: bytes, nonce: int) -> bytes:
    """Return the address a CREATE from ``sender`` at ``nonce`` deploys to: ``keccak(rlp([s, n]))[12:]``."""
    nonce_bytes = nonce.to_bytes((nonce.bit_length() + 7) // 8, "big")  # 0 encodes as the empty string
    payload = _rlp_bytes(sender) + _rlp_bytes(nonce_bytes)
    # Both items are short, so the list header is the short form; the payload never exceeds 55 bytes.
    return keccak256(bytes([0xC0 + len(payload)]) + payload)[12:]


@dataclass(frozen=True, slots=True)
class _Snapshot:
    id: int
    checkpoint: pyrevm.JournalCheckpoint
    block_number: int
    timestamp: int
    next_timestamp: int | None
    nonces: dict[bytes, int]
    log_count: int


class EmbeddedBackend:
    """Run an in-process EVM (revm) as a development chain: one block per ``send``, no history."""

    historical_state: Final[bool] = False
    """``call`` reads the latest block only; past state comes from replaying logs."""
    engine: Final[str] = "embedded"

    def __init__(
        self,
        keyring: KeyRing,
        chain_id: int = DEFAULT_CHAIN_ID,
        start_timestamp: int = DEFAULT_START_TIMESTAMP,
        *,
        spec: str = "CANCUN",
        block_time: int = 1,
        block_gas_limit: int = DEFAULT_BLOCK_GAS_LIMIT,
    ) -> None:
        """Start an empty chain at block 0 (``start_timestamp``) whose senders are ``keyring``'s addresses."""
        if spec not in SPECS:
            raise DomainError("INVALID_SETTING", f"EVM spec {spec!r} is not one of {', '.join(SPECS)}")
        if chain_id <= 0 or start_timestamp < 0 or block_time < 0 or block_gas_limit < 21_000:
            raise DomainError("INVALID_SETTING", "chain id, timestamps and gas limit must be positive")
        self._keyring = keyring
        self._chain_id = chain_id
        self._block_time = block_time
        self._block_gas_limit = block_gas_limit
        self._evm = pyrevm.EVM(
            env=pyrevm.Env(cfg=pyrevm.CfgEnv(chain_id=chain_id)),
            gas_limit=block_gas_limit,
            spec_id=spec,
        )
        self._evm.set_balance(_FAUCET, _FAUCET_BALANCE)
        self._hash_prefix = chain_id.to_bytes(32, "big")
        self._block_number = 0
        self._timestamp = start_timestamp
        self._next_timestamp: int | None = None
        self._block_times: list[int] = [start_timestamp]
        """Each sealed block's timestamp, by number (record dates are looked up by time)."""
        self._set_block_env(0, start_timestamp)
        self._nonces: dict[bytes, int] = {}
        self._signers: set[bytes] = set()  # addresses already confirmed to be in the key ring
        self._hex: dict[bytes, str] = {}  # 20-byte address -> "0x…" as pyrevm wants it
        self._senders: dict[bytes, tuple[str, bytes]] = {}  # sender -> (hex, tx hash prefix)
        self._from_hex: dict[str, bytes] = {}  # pyrevm's checksummed log address -> 20 bytes
        self._logs: list[RawLog] = []
        self._logs_by_address: dict[bytes, list[RawLog]] = {}
        self._snapshots: list[_Snapshot] = []
        self._next_snapshot_id = 1
        self._closed = False

    # -- EvmBackend ---------------------------------------------------------------------------------

    @property
    def chain_id(self) -> int:
        """Return the chain id (EIP-155)."""
        return self._chain_id

    def send(self, calls: Sequence[RawCall]) -> list[RawReceipt]:
        """Mine one block holding ``calls`` in order; return a receipt per call (reverts included)."""
        if not calls:
            return []
        self._check_open()
        for call in calls:  # refuse the whole batch up front for what can be checked without executing
            if call.sender not in self._signers:
                self._keyring.private_key(call.sender)  # raises UNKNOWN_SIGNER
                self._signers.add(call.sender)
            if call.gas > self._block_gas_limit:
                raise DomainError(
                    "TX_REJECTED", f"gas {call.gas} exceeds the block gas limit {self._block_gas_limit}"
                )
        block = self._block_number + 1
        timestamp = self._next_timestamp
        if timestamp is None:
            timestamp = self._timestamp + self._block_time
        self._set_block_env(block, timestamp)

        evm = self._evm
        nonces = self._nonces
        senders = self._senders
        hex_of = self._hex
        from_hex = self._from_hex
        all_logs = self._logs
        by_address = self._logs_by_address
        receipts: list[RawReceipt] = []
        log_index = 0
        for call in calls:
            sender = call.sender
            to = call.to
            data = call.data
            value = call.value
            nonce = nonces.get(sender, 0)
            known = senders.get(sender)
            if known is None:
                known = senders[sender] = ("0x" + sender.hex(), self._hash_prefix + sender)
            sender_hex, hash_prefix = known
            tx_hash = _keccak(
                b"".join((hash_prefix, nonce.to_bytes(8, "big"), to or b"", value.to_bytes(32, "big"), data))
            ).digest()
            contract: bytes | None = None
            try:
                if to is None:
                    self._sync_evm_nonce(sender_hex, nonce)
                    created = evm.deploy(sender_hex, data, value, call.gas)
                    contract = bytes.fromhex(created[2:])
                    output = b""
                else:
                    to_hex = hex_of.get(to)
                    if to_hex is None:
                        to_hex = hex_of[to] = "0x" + to.hex()
                    output = evm.message_call(sender_hex, to_hex, data, value, call.gas)
            except RuntimeError as error:
                failure = parse_failure(str(error))
                if failure is None:
                    self._seal_block(block, timestamp, mined=bool(receipts))
                    raise DomainError(
                        "TX_REJECTED",
                        f"call {len(receipts)} of {len(calls)} from {sender_hex} was refused before "
                        f"execution ({error}); "
                        + (
                            f"the calls before it were mined in block {block}"
                            if receipts
                            else "nothing mined"
                        ),
                    ) from None
                nonces[sender] = nonce + 1
                receipts.append(RawReceipt(tx_hash, block, False, failure.gas_used, (), failure.output))
                continue
            nonces[sender] = nonce + 1
            result = evm.result
            assert result is not None  # pyrevm records the result of every executed call
            raw_logs = result.logs
            logs: tuple[RawLog, ...] = ()
            if raw_logs:
                converted: list[RawLog] = []
                for raw in raw_logs:
                    topics, log_data = raw.data
                    address_text = raw.address
                    address = from_hex.get(address_text)
                    if address is None:
                        address = from_hex[address_text] = bytes.fromhex(address_text[2:])
                    log = RawLog(address, tuple(topics), log_data, block, tx_hash, log_index)
                    log_index += 1
                    converted.append(log)
                    all_logs.append(log)
                    per_address = by_address.get(address)
                    if per_address is None:
                        by_address[address] = [log]
                    else:
                        per_address.append(log)
                logs = tuple(converted)
            receipts.append(RawReceipt(tx_hash, block, True, result.gas_used, logs, output, contract))
        self._seal_block(block, timestamp, mined=True)
        return receipts

    def call(self, to: bytes, data: bytes, block: int | None = None, sender: bytes | None = None) -> bytes:
        """Run a read-only call on the latest block and discard its effects; raise ``ChainRevert`` on revert.

        Like ``eth_call``, the callee may change state (the change is rolled back), so a state-changing
        function can be dry-run. Only the latest block is available (``historical_state`` is false).
        """
        self._check_open()
        if block is not None and block != self._block_number:
            raise DomainError(
                "HISTORICAL_STATE_UNAVAILABLE",
                f"the embedded chain keeps no state history: block {block} asked, latest is "
                f"{self._block_number}; replay logs to read past balances",
            )
        evm = self._evm
        to_hex = self._hex.get(to) or "0x" + to.hex()
        sender_hex = "0x" + (sender if sender is not None else ZERO_ADDRESS).hex()
        # A checkpoint around the call discards its writes and also truncates the journal entries it
        # would otherwise leave behind (pyrevm never finalises its journal).
        checkpoint = evm.snapshot()
        try:
            return evm.message_call(sender_hex, to_hex, data, 0, self._block_gas_limit)
        except RuntimeError as error:
            failure = parse_failure(str(error))
            if failure is None:
                raise DomainError("CALL_REJECTED", f"call to {to_hex} refused: {error}") from None
            message = "call reverted" if failure.kind == "revert" else f"call halted: {failure.reason}"
            raise ChainRevert(
                failure.output, f"{message} ({len(failure.output)} bytes of revert data)"
            ) from None
        finally:
            evm.revert(checkpoint)

    def block_number(self) -> int:
        """Return the latest block number (0 before the first ``send``)."""
        return self._block_number

    def timestamp(self) -> int:
        """Return the latest block's timestamp (seconds)."""
        return self._timestamp

    def block_timestamp(self, number: int) -> int:
        """Return the timestamp (seconds) of block ``number`` (``UNKNOWN_BLOCK`` past the latest)."""
        if not 0 <= number <= self._block_number:
            raise DomainError(
                "UNKNOWN_BLOCK", f"block {number} is not on this chain (latest {self._block_number})"
            )
        return self._block_times[number]

    def logs(self, address: bytes | None, from_block: int, to_block: int | None = None) -> list[RawLog]:
        """Return the logs of ``address`` (all if ``None``) from ``from_block`` to ``to_block``, in order."""
        if from_block < 0 or (to_block is not None and to_block < 0):
            raise DomainError(
                "INVALID_BLOCK_RANGE", f"block numbers cannot be negative: {from_block}..{to_block}"
            )
        source = self._logs if address is None else self._logs_by_address.get(address)
        if not source:
            return []
        # Logs are appended in block order, so a range is two binary searches and one slice.
        start = bisect_left(source, from_block, key=_block_of)
        end = len(source) if to_block is None else bisect_right(source, to_block, key=_block_of)
        return source[start:end]

    def close(self) -> None:
        """Drop the EVM and the log index; later calls raise ``DomainError`` CHAIN_CLOSED."""
        self._closed = True
        self._logs = []
        self._logs_by_address = {}
        self._snapshots = []

    # -- DevBackend ---------------------------------------------------------------------------------

    def snapshot(self) -> int:
        """Record the whole chain (state, nonces, blocks, time, logs); return an id for ``revert``."""
        self._check_open()
        if len(self._snapshots) >= MAX_SNAPSHOTS:
            raise DomainError(
                "TOO_MANY_SNAPSHOTS",
                f"{MAX_SNAPSHOTS} snapshots are outstanding; revert one before taking another",
            )
        snapshot = _Snapshot(
            self._next_snapshot_id,
            self._evm.snapshot(),
            self._block_number,
            self._timestamp,
            self._next_timestamp,
            dict(self._nonces),
            len(self._logs),
        )
        self._next_snapshot_id += 1
        self._snapshots.append(snapshot)
        return snapshot.id

    def revert(self, snapshot_id: int) -> None:
        """Return the chain to ``snapshot_id``; that snapshot and every later one become invalid."""
        self._check_open()
        position = next((i for i, s in enumerate(self._snapshots) if s.id == snapshot_id), None)
        if position is None:
            raise DomainError("UNKNOWN_SNAPSHOT", f"snapshot {snapshot_id} does not exist or was reverted")
        target = self._snapshots[position]
        # Unwind the later checkpoints first: each pyrevm checkpoint holds one level of journal depth,
        # and skipping them would leak depth (eventually "call too deep" for every transaction).
        for later in reversed(self._snapshots[position:]):
            self._evm.revert(later.checkpoint)
        del self._snapshots[position:]
        self._block_number = target.block_number
        self._timestamp = target.timestamp
        del self._block_times[target.block_number + 1 :]
        self._next_timestamp = target.next_timestamp
        self._nonces = dict(target.nonces)
        for log in self._logs[target.log_count :]:
            # Logs are appended to both lists in the same order, so each dropped one is its list's last.
            self._logs_by_address[log.address].pop()
        del self._logs[target.log_count :]
        self._set_block_env(self._block_number, self._timestamp)

    def set_next_timestamp(self, timestamp: int) -> None:
        """Make the next block carry ``timestamp`` (equal to the latest is allowed; earlier is refused)."""
        if timestamp < self._timestamp:
            raise DomainError(
                "TIMESTAMP_IN_PAST",
                f"next block timestamp {timestamp} is before the latest {self._timestamp}",
            )
        self._next_timestamp = timestamp

    def fund(self, address: bytes, wei: int) -> None:
        """Set ``address``'s native balance to ``wei`` (like ``anvil_setBalance``).

        An account without code is funded by a value transfer from a faucet account, so the change rolls
        back with ``revert``; a contract's balance is set directly (a transfer would run its code), which
        pyrevm does not journal.
        """
        self._check_open()
        if wei < 0:
            raise DomainError("INVALID_AMOUNT", "a balance cannot be negative")
        evm = self._evm
        target = "0x" + address.hex()
        current = evm.get_balance(target)
        if wei == current:
            return
        if evm.get_code(target):
            evm.set_balance(target, wei)
        elif wei > current:
            evm.message_call(_FAUCET, target, b"", wei - current, 21_000)
        else:
            evm.message_call(target, _FAUCET, b"", current - wei, 21_000)

    # -- extras (not in the protocols) ---------------------------------------------------------------

    def nonce(self, address: bytes) -> int:
        """Return the number of mined transactions ``address`` has sent."""
        return self._nonces.get(address, 0)

    def native_balance(self, address: bytes) -> int:
        """Return ``address``'s native balance in wei."""
        return self._evm.get_balance("0x" + address.hex())

    def code(self, address: bytes) -> bytes:
        """Return the runtime code at ``address`` (empty for an account without code)."""
        return self._evm.get_code("0x" + address.hex()) or b""

    # -- internals ----------------------------------------------------------------------------------

    def _check_open(self) -> None:
        if self._closed:
            raise DomainError("CHAIN_CLOSED", "this embedded chain was closed")

    def _set_block_env(self, number: int, timestamp: int) -> None:
        self._evm.set_block_env(
            pyrevm.BlockEnv(
                number=number,
                timestamp=timestamp,
                basefee=0,
                gas_limit=self._block_gas_limit,
                # Post-merge blocks need a randomness beacon; derive it so runs are reproducible.
                prevrandao=keccak256(self._hash_prefix + number.to_bytes(32, "big")),
                excess_blob_gas=0,
            )
        )

    def _seal_block(self, block: int, timestamp: int, *, mined: bool) -> None:
        if mined:
            self._block_number = block
            self._timestamp = timestamp
            self._next_timestamp = None
            del self._block_times[block:]  # blocks are sealed in order; a revert may have cut the list
            self._block_times.append(timestamp)
        else:  # nothing was included: keep the latest block as it was
            self._set_block_env(self._block_number, self._timestamp)

    def _sync_evm_nonce(self, sender_hex: str, nonce: int) -> None:
        evm = self._evm
        if evm.basic(sender_hex).nonce == nonce:
            return
        balance = evm.get_balance(sender_hex)
        # AccountInfo carries no balance, so restore it after replacing the account's info.
        evm.insert_account_info(sender_hex, pyrevm.AccountInfo(nonce=nonce))
        evm.set_balance(sender_hex, balance)
