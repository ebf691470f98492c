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
  and accounts touched by an earlier transaction stay "warm" (EIP-2929) and count cheaper than on a node
  until the next compaction (below) makes them cold again.
- **Compaction.** pyrevm keeps every transaction's journal (the undo record of each state change, and
  every log) for as long as the EVM lives — about 1.6 KB per transaction, never given back. pyrevm
  0.3.7 has no call that finalises it, so every ``compact_every`` mined calls, when no snapshot is
  outstanding, the backend moves the state into a fresh EVM: every account (nonce, balance, code) and
  every storage slot the old one holds, read back through the EVM itself. The slots are found in
  pyrevm's state dump (the only listing it offers) plus those copied at the last compaction. The
  cost is the size of the state, not of the history; the chain is the same before and after.
- **History.** There is no state history: ``call`` runs on the latest block only
  (``historical_state = False``). Logs are indexed in memory per contract address for the last
  ``log_retention`` blocks, like a node that prunes old receipts; a query reaching further back is
  refused (``LOGS_PRUNED``), never answered short. ERC-20 ``Transfer`` logs are also folded into
  holder balances per contract as they are mined, so ``transfer_balances`` answers the holders of a
  token at the latest block at once, and at any block of the window from the fold of what was pruned
  plus the logs kept — what the facade's ``balances_at`` needs (a record date, a reconciliation).
- **Rejections.** A call that a node would refuse before mining (gas below the intrinsic cost or above
  the block limit, value above the balance, unknown signer) raises ``DomainError("TX_REJECTED" /
  "UNKNOWN_SIGNER")`` and uses no nonce; the calls before it in the batch stay mined.
- **Reverts.** pyrevm reports a revert or halt as a ``RuntimeError`` carrying revm's debug text
  (``Revert { gas_used: 23932, output: 0x08c3… }``); ``parse_failure`` recovers the gas and the raw
  revert data from it.
"""

from __future__ import annotations

import re
from array import array
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
LOG_RETENTION: Final = 10_000
"""Blocks whose logs are kept (about three thousand orders of the engine); older ones are pruned."""
TRANSFER_TOPIC: Final = keccak256(b"Transfer(address,address,uint256)")
COMPACT_EVERY: Final = 2000
"""Mined calls between two compactions of pyrevm's journal (see the module doc)."""
_ACCOUNT_TEXT = re.compile(r"(0x[0-9a-fA-F]{40}): Account \{ info: AccountInfo \{")
_SLOT_TEXT = re.compile(r"(\d+): StorageSlot \{")
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
        compact_every: int = COMPACT_EVERY,
        log_retention: int | None = LOG_RETENTION,
    ) -> None:
        """Start an empty chain at block 0 (``start_timestamp``) whose senders are ``keyring``'s addresses.

        ``compact_every``: mined calls between two compactions of the EVM's journal (0: never).
        ``log_retention``: blocks whose logs are kept (``None``: every block's, for ever).
        """
        if spec not in SPECS:
            raise DomainError("INVALID_SETTING", f"EVM spec {spec!r} is not one of {', '.join(SPECS)}")
        if (
            chain_id <= 0
            or start_timestamp < 0
            or block_time < 0
            or block_gas_limit < 21_000
            or compact_every < 0
        ):
            raise DomainError("INVALID_SETTING", "chain id, timestamps and gas limit must be positive")
        self._keyring = keyring
        self._chain_id = chain_id
        self._block_time = block_time
        self._block_gas_limit = block_gas_limit
        self._spec = spec
        self._compact_every = compact_every
        self._since_compaction = 0
        self._slots: dict[str, set[int]] = {}
        """Storage slots copied at the last compaction, by address (the new EVM lists none of them)."""
        self._revision = 0
        """Moves on every change of state (a block, a revert, a funding, a compaction): see ``revision``."""
        self._evm = self._new_evm()
        self._evm.set_balance(_FAUCET, _FAUCET_BALANCE)
        self._hash_prefix = chain_id.to_bytes(32, "big")
        self._block_number = 0
        self._timestamp = start_timestamp
        self._next_timestamp: int | None = None
        self._block_times = array("q", [start_timestamp])
        """Each sealed block's timestamp, by number (record dates are looked up by time)."""
        self._set_block_env(0, start_timestamp)
        self._nonces: dict[bytes, int] = {}
        self._signers: set[bytes] = set()  # addresses already confirmed to be in the key ring
        self._hex: dict[bytes, str] = {}  # 20-byte address -> "0x…" as pyrevm wants it
        self._senders: dict[bytes, tuple[str, bytes]] = {}  # sender -> (hex, tx hash prefix)
        self._from_hex: dict[str, bytes] = {}  # pyrevm's checksummed log address -> 20 bytes
        self._logs: list[RawLog] = []
        self._logs_by_address: dict[bytes, list[RawLog]] = {}
        self._log_retention = log_retention
        self._log_floor = 0
        """The first block whose logs are kept (0: none pruned yet)."""
        self._folded: dict[bytes, dict[bytes, int]] = {}
        """Per contract, holder balances from the ``Transfer`` logs of the blocks before the floor."""
        self._holders: dict[bytes, dict[bytes, int]] = {}
        """Per contract, holder balances from every ``Transfer`` log up to the latest block."""
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
        return self._mine(calls)

    def send_external(self, call: RawCall, nonce: int) -> RawReceipt:
        """Mine one block holding a transaction its sender signed elsewhere (a relayed, self-custody wallet).

        The sender's key is not in the ring: the caller has recovered the sender from the transaction's
        signature. Only the nonce is checked here — the one the signature covers must be the sender's
        next, so a relayed transaction executes once, as a node would mine it once.
        """
        self._check_open()
        expected = self._nonces.get(call.sender, 0)
        if nonce != expected:
            raise DomainError(
                "TX_NONCE_REFUSED",
                f"the transaction's nonce is {nonce}; the sender's next nonce is {expected}",
            )
        if call.gas > self._block_gas_limit:
            raise DomainError(
                "TX_REJECTED", f"gas {call.gas} exceeds the block gas limit {self._block_gas_limit}"
            )
        return self._mine([call])[0]

    def _mine(self, calls: Sequence[RawCall]) -> list[RawReceipt]:
        """Execute ``calls`` in order in one new block (their senders already checked)."""
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
                    if topics and topics[0] == TRANSFER_TOPIC:
                        _fold(self._holders, log)
                logs = tuple(converted)
            receipts.append(RawReceipt(tx_hash, block, True, result.gas_used, logs, output, contract))
        self._seal_block(block, timestamp, mined=True)
        self._prune_logs()
        self._since_compaction += len(receipts)
        if self._compact_every and self._since_compaction >= self._compact_every and not self._snapshots:
            self.compact()
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

    def revision(self) -> int:
        """Return a number that changes whenever a read-only call could answer differently.

        It moves with every new block (so with block time: a scheduled multiplier takes effect only in
        a block), every revert, funding and compaction. A read cached under one revision is right for as
        long as the revision stays; unlike the block number it never repeats after a revert.
        """
        return self._revision

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
        if from_block < self._log_floor:
            raise DomainError(
                "LOGS_PRUNED",
                f"logs before block {self._log_floor} were pruned (the embedded chain keeps the last "
                f"{self._log_retention} blocks' logs); {from_block} asked",
            )
        source = self._logs if address is None else self._logs_by_address.get(address)
        if not source:
            return []
        # Logs are appended in block order, so a range is two binary searches and one slice.
        start = bisect_left(source, from_block, key=_block_of)
        end = len(source) if to_block is None else bisect_right(source, to_block, key=_block_of)
        return source[start:end]

    def transfer_balances(self, address: bytes, block: int) -> dict[bytes, int]:
        """Return the holder balances the ``Transfer`` logs of ``address`` add up to at the end of ``block``.

        Every holder ever credited or debited is in it, zero balances included. The latest block is
        answered from the running fold; an earlier block of the window from the fold of the pruned
        blocks plus the logs kept; a block before the window is refused (``LOGS_PRUNED``).
        """
        if block >= self._block_number:
            return dict(self._holders.get(address, {}))
        if block < self._log_floor - 1:
            raise DomainError(
                "LOGS_PRUNED",
                f"the logs to block {block} were pruned (kept from block {self._log_floor}): the "
                "holders at that block are not known any more",
            )
        balances = {address: dict(self._folded.get(address, {}))}
        source = self._logs_by_address.get(address, [])
        for log in source[: bisect_right(source, block, key=_block_of)]:
            if log.topics and log.topics[0] == TRANSFER_TOPIC:
                _fold(balances, log)
        return balances[address]

    def close(self) -> None:
        """Drop the EVM and the log index; later calls raise ``DomainError`` CHAIN_CLOSED."""
        self._closed = True
        self._logs = []
        self._logs_by_address = {}
        self._folded, self._holders = {}, {}
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
        # No pruning happens while a snapshot is outstanding, so the fold plus the logs kept is exact.
        self._holders = {a: dict(b) for a, b in self._folded.items()}
        for log in self._logs:
            if log.topics and log.topics[0] == TRANSFER_TOPIC:
                _fold(self._holders, log)
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
        self._revision += 1
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

    def compact(self) -> None:
        """Move the chain's state into a fresh EVM, dropping pyrevm's journal (see the module doc).

        Refused (``SNAPSHOT_OUTSTANDING``) while a snapshot is outstanding: a snapshot is a point in
        the journal this would drop. Blocks, nonces, logs and every balance and slot stay as they were.
        """
        self._check_open()
        if self._snapshots:
            raise DomainError("SNAPSHOT_OUTSTANDING", "revert the outstanding snapshots before compacting")
        old, new = self._evm, self._new_evm()
        slots = _state_slots(old.journal_str)
        for address in old.db_accounts:
            slots.setdefault(address.lower(), set())
        for address, known in self._slots.items():
            slots.setdefault(address, set()).update(known)
        kept: dict[str, set[int]] = {}
        for address, keys in slots.items():
            info = old.basic(address)
            new.insert_account_info(
                address, pyrevm.AccountInfo(nonce=info.nonce, code=old.get_code(address) or None)
            )
            new.set_balance(address, old.get_balance(address))
            live = kept[address] = set()
            for key in keys:
                value = old.storage(address, key)
                if value:  # a zero slot is an absent slot
                    new.insert_account_storage(address, key, value)
                    live.add(key)
        self._evm, self._slots, self._since_compaction = new, kept, 0
        self._set_block_env(self._block_number, self._timestamp)

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

    def _prune_logs(self) -> None:
        """Drop the logs older than the retention window, folding their transfers first.

        Pruned in steps of a tenth of the window (each a slice off the front of the lists), and
        never while a snapshot is outstanding: a snapshot remembers how many logs there were.
        """
        retention = self._log_retention
        if retention is None or self._snapshots:
            return
        floor = self._block_number - retention + 1
        if floor - self._log_floor < max(retention // 10, 1):
            return
        cut = bisect_left(self._logs, floor, key=_block_of)
        for log in self._logs[:cut]:
            if log.topics and log.topics[0] == TRANSFER_TOPIC:
                _fold(self._folded, log)
        del self._logs[:cut]
        for address, logs in list(self._logs_by_address.items()):
            del logs[: bisect_left(logs, floor, key=_block_of)]
            if not logs:
                del self._logs_by_address[address]
        self._log_floor = floor

    def _new_evm(self) -> pyrevm.EVM:
        return pyrevm.EVM(
            env=pyrevm.Env(cfg=pyrevm.CfgEnv(chain_id=self._chain_id)),
            gas_limit=self._block_gas_limit,
            spec_id=self._spec,
        )

    def _check_open(self) -> None:
        if self._closed:
            raise DomainError("CHAIN_CLOSED", "this embedded chain was closed")

    def _set_block_env(self, number: int, timestamp: int) -> None:
        # Every path that changes state or the block a call runs in passes here (mining, reverting,
        # compacting); funding bumps the revision itself.
        self._revision += 1
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


def _state_slots(dump: str) -> dict[str, set[int]]:
    """Return the storage slots of every account in pyrevm's journaled-state dump, by address.

    The dump is revm's ``{:?}`` of its ``JournaledState``: ``state: {0x…: Account { info: …,
    storage: {KEY: StorageSlot { … }, …}, status: … }, …}, transient_storage: …``. Only the keys are
    taken from it; every value is read back through the EVM, so a misread key costs a slot read,
    never a wrong value. pyrevm is pinned (``pyproject.toml``); a change of format fails the
    compaction tests.
    """
    end = dump.find(", transient_storage: ")
    if not dump.startswith("JournaledState { state: {") or end < 0:
        raise DomainError("COMPACTION_UNSUPPORTED", "pyrevm's state dump is not in the expected format")
    state = dump[:end]
    starts = [(m.start(), m.group(1).lower()) for m in _ACCOUNT_TEXT.finditer(state)]
    found: dict[str, set[int]] = {}
    for index, (position, address) in enumerate(starts):
        stop = starts[index + 1][0] if index + 1 < len(starts) else len(state)
        found[address] = {int(key) for key in _SLOT_TEXT.findall(state, position, stop)}
    return found


def _fold(balances: dict[bytes, dict[bytes, int]], log: RawLog) -> None:
    """Add one ``Transfer(from, to, value)`` log to ``balances`` (per contract, per holder)."""
    if len(log.topics) != 3 or len(log.data) < 32:  # an ERC-721 Transfer indexes its value: not ours
        return
    value = int.from_bytes(log.data[:32], "big")
    holders = balances.setdefault(log.address, {})
    source, target = log.topics[1][12:], log.topics[2][12:]
    if source != ZERO_ADDRESS:
        holders[source] = holders.get(source, 0) - value
    if target != ZERO_ADDRESS:
        holders[target] = holders.get(target, 0) + value
