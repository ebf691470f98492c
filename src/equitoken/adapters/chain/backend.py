"""The raw EVM backend the chain facade runs on: bytes in, bytes out, one implementation per engine.

Two engines implement it — an in-process EVM (``embedded``, revm through pyrevm; the default, nothing
to start) and any JSON-RPC node (``rpc``, e.g. anvil or a real network). The ``TokenChain`` facade
speaks domain values on top of it, so both engines run the very same contract logic, ABI encoding and
conformance suite. Keys never leave the process: the backend signs with the ``KeyRing`` it was given.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class RawLog:
    """One log as the EVM emitted it."""

    address: bytes  # 20 bytes
    topics: tuple[bytes, ...]  # 32 bytes each; topics[0] is the event signature hash
    data: bytes
    block: int
    tx_hash: bytes
    log_index: int


@dataclass(frozen=True, slots=True)
class RawReceipt:
    """What a transaction did: success or revert (with the raw revert data), gas, logs."""

    tx_hash: bytes
    block: int
    success: bool
    gas_used: int
    logs: tuple[RawLog, ...]
    output: bytes
    """Return data on success; the raw revert data (e.g. ``Error(string)`` ABI-encoded) on failure."""
    contract_address: bytes | None = None


@dataclass(frozen=True, slots=True)
class RawCall:
    """A transaction to send: from a key the backend holds, to a contract (``None``: deploy)."""

    sender: bytes
    to: bytes | None
    data: bytes
    value: int = 0
    gas: int = 3_000_000


class KeyRing(Protocol):
    """Hold private keys by address; the only place a key exists."""

    def addresses(self) -> Sequence[bytes]:
        """Return the 20-byte addresses this ring can sign for."""
        ...

    def private_key(self, address: bytes) -> bytes:
        """Return the 32-byte private key of ``address`` (raises ``DomainError`` UNKNOWN_SIGNER)."""
        ...


class EvmBackend(Protocol):
    """Send transactions, read state, read logs — on one chain, as the holders of one key ring."""

    @property
    def chain_id(self) -> int:
        """Return the chain id (EIP-155)."""
        ...

    def send(self, calls: Sequence[RawCall]) -> list[RawReceipt]:
        """Execute ``calls`` in order, each as its own transaction, and return their receipts.

        A reverted call yields a receipt with ``success=False`` and the revert data; it does not stop
        the calls after it. Engines that can batch (JSON-RPC arrays) send all at once.
        """
        ...

    def call(self, to: bytes, data: bytes, block: int | None = None, sender: bytes | None = None) -> bytes:
        """Run a read-only call at ``block`` (latest if omitted); raise ``ChainRevert`` on revert."""
        ...

    def code(self, address: bytes) -> bytes:
        """Return the runtime code at ``address`` (empty: no contract there)."""
        ...

    def block_number(self) -> int:
        """Return the latest block number."""
        ...

    def timestamp(self) -> int:
        """Return the latest block's timestamp (seconds)."""
        ...

    def block_timestamp(self, number: int) -> int:
        """Return the timestamp (seconds) of block ``number`` (``UNKNOWN_BLOCK`` past the latest)."""
        ...

    def logs(self, address: bytes | None, from_block: int, to_block: int | None = None) -> list[RawLog]:
        """Return logs of ``address`` (all contracts if ``None``) in the block range, in order."""
        ...

    def close(self) -> None:
        """Release the engine (stop a node this backend started)."""
        ...


class DevBackend(EvmBackend, Protocol):
    """What only a development chain can do: snapshots, reverts and moving time."""

    def snapshot(self) -> int:
        """Record the whole state; return an id for ``revert``."""
        ...

    def revert(self, snapshot_id: int) -> None:
        """Return the state to ``snapshot_id`` (later snapshots become invalid)."""
        ...

    def set_next_timestamp(self, timestamp: int) -> None:
        """Make the next block carry ``timestamp`` (seconds; never earlier than the latest block)."""
        ...

    def fund(self, address: bytes, wei: int) -> None:
        """Give ``address`` native balance for gas."""
        ...


class ChainRevert(Exception):
    """A read-only call reverted; ``data`` holds the raw revert data for the facade to decode."""

    def __init__(self, data: bytes, message: str = "") -> None:
        super().__init__(message or f"call reverted ({len(data)} bytes of revert data)")
        self.data = data
