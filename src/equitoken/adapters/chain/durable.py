"""A durable embedded chain: ``EmbeddedBackend`` plus an append-only block log, replayed on open.

The embedded EVM lives in memory, so a killed process loses its chain. ``DurableEmbeddedBackend``
wraps one and appends every state-changing operation to a log file, ``fsync``'d before the operation
returns: a receipt the caller saw is on disk, as a node's mined block would be. Opening the file
replays the log into a fresh ``EmbeddedBackend``; pyrevm is deterministic, so the state, the contract
addresses, the transaction hashes, the block numbers and timestamps and the logs come back identical
(each replayed block is checked against a digest of its receipts, so a divergence is refused, never
silently accepted).

**What is logged.** ``send`` (the calls and the block timestamp they were mined at), ``set_next_timestamp``,
``fund`` (only when it changes a balance), ``snapshot`` and ``revert``. Reads (``call``, ``code``,
``logs``…) change nothing and are not logged: a read-only call runs inside a journal checkpoint that
is reverted, so it leaves no trace even in revm's warm/cold gas accounting. A ``send`` that a node would
have refused before mining anything is not logged either; one refused half-way (``TX_REJECTED`` after
some calls of the batch were mined) is, since those calls are on the chain.

**Snapshots.** ``snapshot`` and ``revert`` are logged like any other operation and replayed in order,
so a snapshot taken before a restart can still be reverted to after it, with the same id, as on a
node that kept its snapshots. A snapshot outstanding at a crash stays outstanding (it still counts
against ``MAX_SNAPSHOTS``). What was reverted is gone after a reopen too.

**File format.** A 16-byte magic, then records: a 4-byte big-endian payload length, the payload's
4-byte CRC-32, the payload (UTF-8 JSON). Record 0 is the genesis (chain id, start timestamp, spec,
block time, gas limit). A record cut short or failing its checksum at the end of the file is a write
the process died inside: its caller never got an answer, so it never happened — it is dropped and the
file truncated to the last whole record. A bad record with whole records after it is corruption, not
a torn write: opening refuses with ``STORE_CORRUPT`` naming the file and the record.

**One writer.** The file is locked (``flock``) while open: a second process opening it is refused
with ``CHAIN_LOCKED``. The kernel releases the lock when the holder dies, however it dies.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import struct
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit

from equitoken.adapters.chain.backend import KeyRing, RawCall, RawLog, RawReceipt
from equitoken.adapters.chain.embedded import (
    DEFAULT_BLOCK_GAS_LIMIT,
    DEFAULT_CHAIN_ID,
    DEFAULT_START_TIMESTAMP,
    EmbeddedBackend,
)
from equitoken.domain.errors import DomainError

MAGIC: Final = b"EQTCHAINLOG\x00v01\n"
"""The first bytes of every block log (format version 1)."""
_HEADER: Final = struct.Struct(">II")  # payload length, CRC-32 of the payload
MAX_RECORD: Final = 1 << 28
"""No record is larger (256 MiB): a length above it is a torn or corrupt length prefix."""


def chain_log_path(url: str) -> Path | None:
    """Return the block log an ``embedded:///abs/path/chain.log`` URL names; ``None`` for another URL."""
    if not url.startswith("embedded:"):
        return None
    parts = urlsplit(url)
    path = Path(parts.path)
    if parts.scheme != "embedded" or parts.netloc or parts.query or parts.fragment:
        raise DomainError("INVALID_SETTING", f"chain URL {url!r}: expected embedded:///abs/path/chain.log")
    if not path.is_absolute() or parts.path.endswith("/"):
        raise DomainError("INVALID_SETTING", f"chain URL {url!r}: the block log needs an absolute file path")
    return path


@dataclass(frozen=True, slots=True)
class Genesis:
    """The parameters a chain was created with; a reopened chain must be the same chain."""

    chain_id: int = DEFAULT_CHAIN_ID
    start_timestamp: int = DEFAULT_START_TIMESTAMP
    spec: str = "CANCUN"
    block_time: int = 1
    block_gas_limit: int = DEFAULT_BLOCK_GAS_LIMIT

    def to_payload(self) -> dict[str, Any]:
        """Return the genesis record."""
        return {
            "op": "genesis",
            "chain_id": self.chain_id,
            "start_timestamp": self.start_timestamp,
            "spec": self.spec,
            "block_time": self.block_time,
            "block_gas_limit": self.block_gas_limit,
        }

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> Genesis:
        """Read a genesis record."""
        return cls(
            int(payload["chain_id"]),
            int(payload["start_timestamp"]),
            str(payload["spec"]),
            int(payload["block_time"]),
            int(payload["block_gas_limit"]),
        )


class _ReplayRing:
    """The key ring the in-memory chain checks senders against: every sender while the log replays.

    Each logged call's sender was checked when it was sent; a ``DeterministicKeyRing`` derives its keys
    lazily, by label, so a fresh one would not know them yet. After the replay the real ring decides.
    """

    def __init__(self, ring: KeyRing) -> None:
        self.ring = ring
        self.replaying = True

    def addresses(self) -> Sequence[bytes]:
        """Return the real ring's addresses."""
        return self.ring.addresses()

    def private_key(self, address: bytes) -> bytes:
        """Accept any sender during the replay; ask the real ring afterwards."""
        if self.replaying:
            return bytes(31) + b"\x01"  # never used to sign: the embedded chain only checks presence
        return self.ring.private_key(address)


def receipts_digest(receipts: Sequence[RawReceipt]) -> str:
    """Return a short digest of everything a block's receipts say (how a replay proves it agrees)."""
    digest = hashlib.blake2b(digest_size=16)
    for receipt in receipts:
        digest.update(receipt.tx_hash)
        digest.update(struct.pack(">Q?Q", receipt.block, receipt.success, receipt.gas_used))
        digest.update(receipt.contract_address or b"-")
        digest.update(struct.pack(">I", len(receipt.output)) + receipt.output)
        for log in receipt.logs:
            digest.update(log.address + b"".join(log.topics))
            digest.update(struct.pack(">I", len(log.data)) + log.data)
    return digest.hexdigest()


def _encode_call(call: RawCall) -> list[Any]:
    return [
        call.sender.hex(),
        None if call.to is None else call.to.hex(),
        call.data.hex(),
        call.value,
        call.gas,
    ]


def _decode_call(item: list[Any]) -> RawCall:
    sender, to, data, value, gas = item
    return RawCall(
        bytes.fromhex(sender),
        None if to is None else bytes.fromhex(to),
        bytes.fromhex(data),
        int(value),
        int(gas),
    )


class DurableEmbeddedBackend:
    """An ``EmbeddedBackend`` whose every state change is in an fsync'd block log (rules: module doc)."""

    historical_state: Final[bool] = False
    engine: Final[str] = "embedded"

    def __init__(
        self,
        path: Path | str,
        keyring: KeyRing,
        *,
        chain_id: int | None = None,
        start_timestamp: int | None = None,
        spec: str | None = None,
        block_time: int | None = None,
        block_gas_limit: int | None = None,
    ) -> None:
        """Open the chain logged at ``path`` (created when missing) with ``keyring``'s senders.

        A parameter left ``None`` is the log's own (or the embedded default for a new log); one given
        that differs from the log's genesis is refused (``CHAIN_LOG_MISMATCH``): the file is that chain.
        """
        self._path = Path(path)
        if not self._path.is_absolute():
            raise DomainError("INVALID_SETTING", f"the chain log path must be absolute, not {path}")
        self._keyring = keyring
        self._fd = -1
        self._broken: str | None = None
        self._records = 0
        self._signers: set[bytes] = set()
        wanted = {
            "chain_id": chain_id,
            "start_timestamp": start_timestamp,
            "spec": spec,
            "block_time": block_time,
            "block_gas_limit": block_gas_limit,
        }
        try:
            self._path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self._path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
        except OSError as error:
            raise DomainError(
                "STORE_UNAVAILABLE", f"cannot open the chain log {self._path}: {error.strerror or error}"
            ) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise DomainError(
                "CHAIN_LOCKED", f"the chain log {self._path} is open in another process; one writer at a time"
            ) from None
        self._fd = fd
        try:
            self._inner = self._load(wanted)
        except BaseException:
            self._release()
            raise

    # -- opening ------------------------------------------------------------------------------

    def _load(self, wanted: dict[str, Any]) -> EmbeddedBackend:
        """Read the log, drop a torn tail, and replay it into a fresh in-memory chain."""
        size = os.fstat(self._fd).st_size
        data = os.pread(self._fd, size, 0) if size else b""
        if not data:
            genesis = Genesis(**{k: v for k, v in wanted.items() if v is not None})
            inner = self._fresh(genesis)
            self._ring.replaying = False
            os.write(self._fd, MAGIC)
            self._append(genesis.to_payload())
            self._sync_directory()
            return inner
        if not data.startswith(MAGIC):
            if MAGIC.startswith(data):  # killed while writing the magic of a new log: nothing happened
                os.ftruncate(self._fd, 0)
                return self._load(wanted)
            raise DomainError(
                "STORE_CORRUPT",
                f"{self._path} is not an equitoken chain log (its first bytes are not the magic)",
            )
        payloads, good_end = self._records_of(data)
        if good_end < len(data):  # a torn last record: the write its caller never saw answered
            os.ftruncate(self._fd, good_end)
            os.fsync(self._fd)
        if not payloads:  # killed before the genesis was whole
            os.ftruncate(self._fd, 0)
            return self._load(wanted)
        first = payloads[0]
        if first.get("op") != "genesis":
            raise DomainError("STORE_CORRUPT", f"record 0 of {self._path} is not the chain's genesis")
        genesis = Genesis.from_payload(first)
        for name, value in wanted.items():
            if value is not None and getattr(genesis, name) != value:
                raise DomainError(
                    "CHAIN_LOG_MISMATCH",
                    f"the chain log {self._path} was created with {name} {getattr(genesis, name)}, "
                    f"not {value}: it is another chain",
                )
        inner = self._fresh(genesis)
        for number, payload in enumerate(payloads[1:], start=1):
            self._replay(inner, number, payload)
        self._ring.replaying = False
        self._records = len(payloads)
        return inner

    def _fresh(self, genesis: Genesis) -> EmbeddedBackend:
        self._genesis = genesis
        self._ring = _ReplayRing(self._keyring)
        return EmbeddedBackend(
            self._ring,
            genesis.chain_id,
            genesis.start_timestamp,
            spec=genesis.spec,
            block_time=genesis.block_time,
            block_gas_limit=genesis.block_gas_limit,
        )

    def _records_of(self, data: bytes) -> tuple[list[dict[str, Any]], int]:
        """Return the whole records after the magic, and where the last whole one ends.

        A bad record (short, wrong checksum, not JSON) is a torn write only if it is the file's last;
        with anything after it, it is corruption and refused.
        """
        payloads: list[dict[str, Any]] = []
        offset = len(MAGIC)
        end = len(data)
        while offset < end:
            number = len(payloads)
            fault = ""
            body = b""
            if end - offset < _HEADER.size:
                fault = "its header is cut short"
                stop = end
            else:
                length, checksum = _HEADER.unpack_from(data, offset)
                stop = offset + _HEADER.size + length
                if length == 0 or length > MAX_RECORD:
                    fault, stop = f"its length {length} is impossible", end
                elif stop > end:
                    fault = f"it is cut short ({end - offset - _HEADER.size} of {length} bytes)"
                    stop = end
                else:
                    body = data[offset + _HEADER.size : stop]
                    if zlib.crc32(body) != checksum:
                        fault = "its checksum does not match"
            if not fault:
                try:
                    payload = json.loads(body)
                except ValueError:
                    fault = "it is not JSON"
                else:
                    if isinstance(payload, dict):
                        payloads.append(payload)
                        offset = stop
                        continue
                    fault = "it is not a record"
            if stop >= end:
                return payloads, offset  # the last record was torn: it never happened
            raise DomainError(
                "STORE_CORRUPT",
                f"record {number} of the chain log {self._path} (at byte {offset}) is damaged — {fault} — "
                "and whole records follow it: the file is corrupt, not cut short by a crash",
            )
        return payloads, offset

    def _replay(self, inner: EmbeddedBackend, number: int, payload: dict[str, Any]) -> None:
        """Apply one logged operation again, and refuse if the chain does not answer as it did."""
        op = payload.get("op")
        try:
            if op == "send":
                calls = [_decode_call(item) for item in payload["calls"]]
                rejected = payload.get("rejected")
                try:
                    receipts = inner.send(calls)
                except DomainError as error:
                    if rejected is None or error.code != "TX_REJECTED":
                        raise
                    receipts = []
                else:
                    if rejected is not None:
                        raise DomainError("REPLAY_DIVERGED", "the batch was refused when logged, not now")
                block, timestamp = inner.block_number(), inner.timestamp()
                if block != payload["block"] or timestamp != payload["timestamp"]:
                    raise DomainError(
                        "REPLAY_DIVERGED",
                        f"block {block} at {timestamp}, logged as block {payload['block']} at "
                        f"{payload['timestamp']}",
                    )
                if rejected is None and receipts_digest(receipts) != payload["digest"]:
                    raise DomainError("REPLAY_DIVERGED", f"the receipts of block {block} differ")
            elif op == "send_external":
                (call,) = [_decode_call(item) for item in payload["calls"]]
                receipt = inner.send_external(call, int(payload["nonce"]))
                if inner.block_number() != payload["block"] or inner.timestamp() != payload["timestamp"]:
                    raise DomainError("REPLAY_DIVERGED", f"the relayed block {payload['block']} moved")
                if receipts_digest([receipt]) != payload["digest"]:
                    raise DomainError("REPLAY_DIVERGED", f"the receipt of block {payload['block']} differs")
            elif op == "next_timestamp":
                inner.set_next_timestamp(int(payload["timestamp"]))
            elif op == "fund":
                inner.fund(bytes.fromhex(payload["address"]), int(payload["wei"]))
            elif op == "snapshot":
                got = inner.snapshot()
                if got != payload["id"]:
                    raise DomainError("REPLAY_DIVERGED", f"snapshot {got}, logged as {payload['id']}")
            elif op == "revert":
                inner.revert(int(payload["id"]))
            else:
                raise DomainError("STORE_CORRUPT", f"unknown operation {op!r}")
        except DomainError as error:
            raise DomainError(
                "STORE_CORRUPT",
                f"record {number} ({op}) of the chain log {self._path} does not replay: "
                f"{error.code}: {error.message}",
            ) from None
        except (KeyError, TypeError, ValueError) as error:
            detail = repr(error)
            raise DomainError(
                "STORE_CORRUPT",
                f"record {number} ({op}) of the chain log {self._path} does not replay: {detail}",
            ) from None

    # -- writing ------------------------------------------------------------------------------

    def _append(self, payload: dict[str, Any]) -> None:
        """Write one record and fsync it; a failure poisons the backend (memory is ahead of the file)."""
        body = json.dumps(payload, separators=(",", ":")).encode()
        record = _HEADER.pack(len(body), zlib.crc32(body)) + body
        try:
            written = os.write(self._fd, record)
            if written != len(record):
                raise OSError(f"short write ({written} of {len(record)} bytes)")
            os.fsync(self._fd)
        except OSError as error:
            self._broken = f"writing the chain log {self._path} failed: {error}"
            raise DomainError("STORE_UNAVAILABLE", self._broken) from None
        self._records += 1

    def _sync_directory(self) -> None:
        """Make the new file's name durable too (its directory entry)."""
        fd = os.open(self._path.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def _check(self) -> None:
        if self._broken is not None:
            raise DomainError(
                "STORE_UNAVAILABLE", f"{self._broken}; reopen the chain log to go on from what is on disk"
            )
        if self._fd < 0:
            raise DomainError("CHAIN_CLOSED", f"the chain logged at {self._path} was closed")

    def _release(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)  # closing the descriptor also releases the flock
            self._fd = -1

    # -- EvmBackend -----------------------------------------------------------------------------

    @property
    def path(self) -> Path:
        """Return the block log's path."""
        return self._path

    @property
    def genesis(self) -> Genesis:
        """Return the parameters this chain was created with."""
        return self._genesis

    @property
    def records(self) -> int:
        """Return how many records the log holds (the genesis included)."""
        return self._records

    @property
    def chain_id(self) -> int:
        """Return the chain id (EIP-155)."""
        return self._inner.chain_id

    def send(self, calls: Sequence[RawCall]) -> list[RawReceipt]:
        """Mine one block holding ``calls`` (see ``EmbeddedBackend.send``), logged before it returns."""
        if not calls:
            return []
        self._check()
        for call in calls:  # the in-memory chain knows the replayed senders; a new call needs its key
            if call.sender not in self._signers:
                self._keyring.private_key(call.sender)  # raises UNKNOWN_SIGNER
                self._signers.add(call.sender)
        inner = self._inner
        before = inner.block_number()
        try:
            receipts = inner.send(calls)
        except DomainError as refused:
            if refused.code == "TX_REJECTED" and inner.block_number() != before:
                # The calls before the refused one were mined: they are on the chain, so in the log.
                self._append(self._send_record(calls, "", refused.message))
            raise
        self._append(self._send_record(calls, receipts_digest(receipts), None))
        return receipts

    def send_external(self, call: RawCall, nonce: int) -> RawReceipt:
        """Mine a transaction signed outside this process (see ``EmbeddedBackend.send_external``), logged."""
        self._check()
        receipt = self._inner.send_external(call, nonce)
        record = self._send_record([call], receipts_digest([receipt]), None)
        self._append(record | {"op": "send_external", "nonce": nonce})
        return receipt

    def _send_record(self, calls: Sequence[RawCall], digest: str, rejected: str | None) -> dict[str, Any]:
        record: dict[str, Any] = {
            "op": "send",
            "block": self._inner.block_number(),
            "timestamp": self._inner.timestamp(),
            "calls": [_encode_call(call) for call in calls],
            "digest": digest,
        }
        if rejected is not None:
            record["rejected"] = rejected
        return record

    def call(self, to: bytes, data: bytes, block: int | None = None, sender: bytes | None = None) -> bytes:
        """Run a read-only call on the latest block (nothing is logged: it changes nothing)."""
        self._check()
        return self._inner.call(to, data, block, sender)

    def code(self, address: bytes) -> bytes:
        """Return the runtime code at ``address``."""
        return self._inner.code(address)

    def revision(self) -> int:
        """Return the embedded chain's revision (``EmbeddedBackend.revision``)."""
        return self._inner.revision()

    def block_number(self) -> int:
        """Return the latest block number."""
        return self._inner.block_number()

    def timestamp(self) -> int:
        """Return the latest block's timestamp (seconds)."""
        return self._inner.timestamp()

    def block_timestamp(self, number: int) -> int:
        """Return the timestamp of block ``number``."""
        return self._inner.block_timestamp(number)

    def logs(self, address: bytes | None, from_block: int, to_block: int | None = None) -> list[RawLog]:
        """Return the logs of ``address`` (all if ``None``) in the block range, in order."""
        return self._inner.logs(address, from_block, to_block)

    def close(self) -> None:
        """Close the log (releasing its lock) and drop the in-memory chain; the file keeps the chain."""
        self._release()
        self._inner.close()

    # -- DevBackend -----------------------------------------------------------------------------

    def snapshot(self) -> int:
        """Record the whole chain and return an id for ``revert`` (logged: it survives a reopen)."""
        self._check()
        snapshot_id = self._inner.snapshot()
        self._append({"op": "snapshot", "id": snapshot_id})
        return snapshot_id

    def revert(self, snapshot_id: int) -> None:
        """Return the chain to ``snapshot_id`` (logged: a reopened chain is reverted too)."""
        self._check()
        self._inner.revert(snapshot_id)
        self._append({"op": "revert", "id": snapshot_id})

    def set_next_timestamp(self, timestamp: int) -> None:
        """Make the next block carry ``timestamp`` (logged, so a reopened chain keeps it pending)."""
        self._check()
        self._inner.set_next_timestamp(timestamp)
        self._append({"op": "next_timestamp", "timestamp": timestamp})

    def fund(self, address: bytes, wei: int) -> None:
        """Set ``address``'s native balance to ``wei`` (logged when it changes anything)."""
        self._check()
        if wei >= 0 and self._inner.native_balance(address) == wei:
            return  # already so: nothing to log (a restarted facade funds every wallet again)
        self._inner.fund(address, wei)
        self._append({"op": "fund", "address": address.hex(), "wei": wei})

    # -- extras (as ``EmbeddedBackend``) --------------------------------------------------------

    def nonce(self, address: bytes) -> int:
        """Return the number of mined transactions ``address`` has sent."""
        return self._inner.nonce(address)

    def native_balance(self, address: bytes) -> int:
        """Return ``address``'s native balance in wei."""
        return self._inner.native_balance(address)
