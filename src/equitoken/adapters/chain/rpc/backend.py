"""``RpcBackend``: the ``EvmBackend`` (and ``DevBackend``) over a JSON-RPC node, with local nonces and fees.

Signing is in ``signing``, the HTTP transport in ``transport``, receipts and their outputs in
``receipts``; this module sends batches (one block per array on a manual-mining node) and recovers
from a node's refusals.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final, Self

from equitoken.adapters.chain.anvil import AnvilNode
from equitoken.adapters.chain.backend import ChainRevert, KeyRing, RawCall, RawLog, RawReceipt
from equitoken.adapters.chain.rpc.capabilities import probe_capabilities
from equitoken.adapters.chain.rpc.receipts import ReceiptReader
from equitoken.adapters.chain.rpc.signing import Fees, TransactionSigner
from equitoken.adapters.chain.rpc.transport import (
    JsonRpcTransport,
    RpcError,
    RpcFailure,
    checked_batch,
    checked_request,
    node_refused,
)
from equitoken.adapters.chain.rpc.wire import (
    already_known,
    block_tag,
    from_hex,
    is_fee_error,
    is_nonce_error,
    out_of_range,
    raw_log,
    to_hex,
)
from equitoken.domain.errors import DomainError
from equitoken.domain.keccak import keccak256

DEFAULT_BATCH = 200
"""Transactions per JSON-RPC array, and per block on a manual-mining node.

Measured on anvil 1.7.1 (2 cores, 3,000 ERC-20 transfers): posting is ~2-2.7k tx/s whatever the size,
but anvil's receipt lookups cost time proportional to the block's size (0.03 ms per receipt in a block
of 100, 0.16 ms at 500, 0.7 ms at 2,000), so settled throughput peaks around 100-300 per block."""

_SEND = "eth_sendRawTransaction"
_HALTS = ("out of gas", "invalid opcode", "invalidfeopcode", "stack underflow", "stack overflow", "halt")


@dataclass(slots=True)
class _Pending:
    call: RawCall
    raw: bytes
    tx_hash: bytes


class RpcBackend:
    """``EvmBackend`` (and ``DevBackend`` when ``capabilities.dev``) over a JSON-RPC node."""

    engine: Final[str] = "rpc"
    historical_state: Final[bool] = True
    """``call`` reads past blocks (on anvil: the last ``AnvilNode.history`` blocks)."""

    def __init__(
        self,
        url: str,
        keyring: KeyRing,
        *,
        chain_id: int | None = None,
        batch_size: int = DEFAULT_BATCH,
        timeout: float = 30.0,
        receipt_timeout: float = 120.0,
        node: AnvilNode | None = None,
    ) -> None:
        """Connect to the node at ``url`` and sign as the holders of ``keyring``'s keys.

        ``chain_id``, when given, must match the node's. ``node`` is an anvil node this backend then owns.
        """
        if batch_size < 1:
            raise DomainError("INVALID_SETTING", "The JSON-RPC batch size must be at least 1.")
        self._transport = JsonRpcTransport(url, timeout=timeout)
        self._keyring = keyring
        self._batch_size = batch_size
        self._node = node
        self._signers: dict[bytes, TransactionSigner] = {}
        self._nonces: dict[bytes, int] = {}
        self._fees: Fees | None = None
        self._closed = False
        try:
            self.capabilities = probe_capabilities(self._transport)
            node_chain = int(self._transport.request("eth_chainId"), 16)
        except BaseException:
            self._transport.close()
            raise
        if chain_id is not None and chain_id != node_chain:
            self._transport.close()
            raise DomainError(
                "CHAIN_MISMATCH", f"The node at {url} runs chain {node_chain}, not the configured {chain_id}."
            )
        self._chain_id = node_chain
        self._reader = ReceiptReader(self._transport, self.capabilities, receipt_timeout)

    @classmethod
    def start_anvil(cls, keyring: KeyRing, *, batch_size: int = DEFAULT_BATCH, **node_options: Any) -> Self:
        """Start a private anvil node and return a backend that owns it (``close`` stops the node)."""
        node = AnvilNode(**node_options).start()
        try:
            return cls(node.url, keyring, chain_id=node.chain_id, batch_size=batch_size, node=node)
        except BaseException:
            node.stop()
            raise

    # -- EvmBackend ------------------------------------------------------------------------------

    @property
    def chain_id(self) -> int:
        """Return the chain id (EIP-155)."""
        return self._chain_id

    @property
    def url(self) -> str:
        """Return the node's URL."""
        return self._transport.url

    @property
    def node(self) -> AnvilNode | None:
        """Return the anvil node this backend started and owns, if any."""
        return self._node

    def send(self, calls: Sequence[RawCall]) -> list[RawReceipt]:
        """Sign and send ``calls`` in order, in JSON-RPC arrays of ``batch_size``; return their receipts.

        On a manual-mining node each array becomes one block. A call the node refuses (not a revert)
        raises ``DomainError("TX_REJECTED")``.
        """
        if not calls:
            return []
        self._check_open()
        return self._send(calls)

    def send_raw(self, raw_transactions: Sequence[bytes]) -> list[bytes]:
        """Send already signed transactions in one array and return their hashes (no mining, no receipts).

        For benchmarks and tools that sign elsewhere; pair with ``settle``. Nonces of our senders are not
        tracked for these.
        """
        replies = self._transport.batch([(_SEND, ["0x" + raw.hex()]) for raw in raw_transactions])
        for index, reply in enumerate(replies):
            if isinstance(reply, RpcError) and not already_known(reply):
                raise DomainError(
                    "TX_REJECTED", f"The node refused raw transaction {index}: {reply.message}."
                )
        return [keccak256(raw) for raw in raw_transactions]

    def settle(self, tx_hashes: Sequence[bytes]) -> list[RawReceipt]:
        """Mine (on a manual-mining node) until every hash has a receipt, and return them in order."""
        self._check_open()
        return self._reader.receipts(tx_hashes, [None] * len(tx_hashes), mined=False)

    def call(self, to: bytes, data: bytes, block: int | None = None, sender: bytes | None = None) -> bytes:
        """Run a read-only call at ``block`` (latest if omitted); raise ``ChainRevert`` on revert."""
        self._check_open()
        request: dict[str, str] = {"to": to_hex(to), "data": to_hex(data)}
        if sender is not None:
            request["from"] = to_hex(sender)
        try:
            result = self._transport.request("eth_call", [request, block_tag(block)])
        except RpcFailure as failure:
            error = failure.error
            revert = error.revert_data
            if revert is not None:
                raise ChainRevert(revert, f"call reverted ({len(revert)} bytes of revert data)") from None
            lowered = error.message.lower()
            if any(halt in lowered for halt in _HALTS):
                raise ChainRevert(b"", f"call halted: {error.message}") from None
            if block is not None and (out_of_range(error) or "not found" in lowered):
                raise DomainError(
                    "HISTORICAL_STATE_UNAVAILABLE",
                    f"The node at {self.url} no longer holds the state of block {block}: {error.message}.",
                ) from None
            raise self._chain_error("a read-only call", error) from None
        return from_hex(result)

    def block_number(self) -> int:
        """Return the latest block number."""
        self._check_open()
        return int(self._request("eth_blockNumber"), 16)

    def timestamp(self) -> int:
        """Return the latest block's timestamp (seconds)."""
        self._check_open()
        block = self._request("eth_getBlockByNumber", "latest", False)
        return int(block["timestamp"], 16)

    def block_timestamp(self, number: int) -> int:
        """Return the timestamp (seconds) of block ``number`` (``UNKNOWN_BLOCK`` past the latest)."""
        self._check_open()
        if number < 0:
            raise DomainError("UNKNOWN_BLOCK", f"block {number} is not on this chain")
        block = self._request("eth_getBlockByNumber", hex(number), False)
        if block is None:
            raise DomainError("UNKNOWN_BLOCK", f"block {number} is not on this chain")
        return int(block["timestamp"], 16)

    def logs(self, address: bytes | None, from_block: int, to_block: int | None = None) -> list[RawLog]:
        """Return logs of ``address`` (all contracts if ``None``) in the block range, in order."""
        self._check_open()
        if from_block < 0 or (to_block is not None and to_block < 0):
            raise DomainError(
                "INVALID_BLOCK_RANGE", f"block numbers cannot be negative: {from_block}..{to_block}"
            )
        query: dict[str, Any] = {"fromBlock": hex(from_block), "toBlock": block_tag(to_block)}
        if address is not None:
            query["address"] = to_hex(address)
        try:
            found = self._transport.request("eth_getLogs", [query])
        except RpcFailure as failure:
            if not out_of_range(failure.error):
                raise self._chain_error("eth_getLogs", failure.error) from None
            # anvil refuses a range past its head; past the head there are no logs yet.
            head = self.block_number()
            if from_block > head:
                return []
            query["toBlock"] = hex(min(head, head if to_block is None else to_block))
            found = self._request("eth_getLogs", query)
        return [raw_log(entry) for entry in found]

    def close(self) -> None:
        """Close the connection, and stop the node if this backend started it; later calls fail."""
        self._closed = True
        self._transport.close()
        if self._node is not None:
            self._node.stop()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- DevBackend (when capabilities.dev) ------------------------------------------------------

    @property
    def supports_dev(self) -> bool:
        """Return whether snapshots, reverts, time travel and funding work on this node."""
        return self.capabilities.dev

    def snapshot(self) -> int:
        """Record the whole state; return an id for ``revert``."""
        self._require_dev("take a snapshot")
        return int(self._request("evm_snapshot"), 16)

    def revert(self, snapshot_id: int) -> None:
        """Return the state to ``snapshot_id`` (later snapshots become invalid)."""
        self._require_dev("revert to a snapshot")
        if not self._request("evm_revert", hex(snapshot_id)):
            raise DomainError("UNKNOWN_SNAPSHOT", f"The node has no snapshot {snapshot_id} (or it was used).")
        self._nonces.clear()  # nonces went back with the state

    def set_next_timestamp(self, timestamp: int) -> None:
        """Make the next block carry ``timestamp`` (seconds; never earlier than the latest block)."""
        self._require_dev("set the next block's timestamp")
        latest = self.timestamp()
        if timestamp < latest:
            raise DomainError(
                "TIMESTAMP_IN_PAST", f"next block timestamp {timestamp} is before the latest {latest}"
            )
        try:
            self._transport.request("evm_setNextBlockTimestamp", [timestamp])
        except RpcFailure as failure:
            raise DomainError(
                "TIMESTAMP_IN_PAST", f"The node refused timestamp {timestamp}: {failure.error.message}."
            ) from None

    def fund(self, address: bytes, wei: int) -> None:
        """Give ``address`` native balance for gas (sets the balance to ``wei``)."""
        self._require_dev("fund an address")
        if wei < 0:
            raise DomainError("INVALID_AMOUNT", "a balance cannot be negative")
        self._request(f"{self.capabilities.dev_prefix}_setBalance", to_hex(address), hex(wei))

    def mine(self) -> None:
        """Seal a block now (dev nodes); with ``set_next_timestamp``, moves the chain's clock."""
        self._require_dev("mine a block")
        self._request("evm_mine")

    # -- extras (not in the protocols; the embedded engine has them too) ------------------------------

    def nonce(self, address: bytes) -> int:
        """Return the number of mined transactions ``address`` has sent."""
        self._check_open()
        return int(self._request("eth_getTransactionCount", to_hex(address), "latest"), 16)

    def native_balance(self, address: bytes) -> int:
        """Return ``address``'s native balance in wei."""
        self._check_open()
        return int(self._request("eth_getBalance", to_hex(address), "latest"), 16)

    def code(self, address: bytes) -> bytes:
        """Return the runtime code at ``address`` (empty for an account without code)."""
        self._check_open()
        return from_hex(self._request("eth_getCode", to_hex(address), "latest"))

    # -- internals: sending ----------------------------------------------------------------------

    def _send(self, calls: Sequence[RawCall]) -> list[RawReceipt]:
        for sender in dict.fromkeys(call.sender for call in calls):
            self._signer(sender)  # an unknown signer fails the whole batch before any nonce is taken
        manual = self.capabilities.mining == "manual"
        hashes: list[bytes] = []
        for start in range(0, len(calls), self._batch_size):
            hashes.extend(
                self._submit(calls[start : start + self._batch_size], start, len(calls), retry=True)
            )
            if manual:
                # One block per array: anvil builds receipts in time quadratic in the block's size, so
                # blocks of a few hundred transactions settle fastest (see DEFAULT_BATCH).
                self._request("evm_mine")
        return self._reader.receipts(hashes, calls, mined=manual)

    def _submit(self, chunk: Sequence[RawCall], offset: int, total: int, *, retry: bool) -> list[bytes]:
        """Sign and post ``chunk`` as one JSON-RPC array; return the hashes, or recover from refusals."""
        self._load_nonces(dict.fromkeys(call.sender for call in chunk))
        fees = self._current_fees()
        pending = [self._sign(call, fees) for call in chunk]
        replies = self._transport.batch([(_SEND, ["0x" + item.raw.hex()]) for item in pending])
        rejected = {
            index: reply
            for index, reply in enumerate(replies)
            if isinstance(reply, RpcError) and not already_known(reply)
        }
        if not rejected:
            return [item.tx_hash for item in pending]
        accepted = [index for index in range(len(pending)) if index not in rejected]
        manual = self.capabilities.mining == "manual"
        if retry and manual and all(is_nonce_error(e) or is_fee_error(e) for e in rejected.values()):
            # A stale nonce or fee (someone else used the key, the base fee rose). Nothing of this
            # array is mined yet: drop what was accepted, refresh, and post it again, in its order.
            self._clear_pool({call.sender for call in chunk}, [pending[index].tx_hash for index in accepted])
            self._nonces.clear()
            if any(is_fee_error(e) for e in rejected.values()):
                self._fees = None
            return self._submit(chunk, offset, total, retry=False)
        # Fail closed. A refused sender's later transactions wait behind its nonce gap: drop them, or
        # they would run by surprise when a later batch fills the gap.
        first_refused: dict[bytes, int] = {}
        for index in sorted(rejected):
            first_refused.setdefault(chunk[index].sender, index)
        stuck = [
            index
            for index in accepted
            if chunk[index].sender in first_refused and index > first_refused[chunk[index].sender]
        ]
        if manual:
            self._request("evm_mine")  # what can run runs now, as it would on any other node
        dropped = self._clear_pool(set(first_refused), [pending[index].tx_hash for index in stuck])
        for sender in first_refused:
            self._nonces.pop(sender, None)
        index, error = min(rejected.items())
        executed = offset + len(accepted) - dropped
        raise DomainError(
            "TX_REJECTED",
            f"The node refused call {offset + index} of {total} (from {to_hex(chunk[index].sender)}):"
            f" {error.message}; {len(rejected)} refused, {executed} before or beside it were sent"
            f" and {dropped} dropped.",
        )

    def _signer(self, sender: bytes) -> TransactionSigner:
        signer = self._signers.get(sender)
        if signer is None:
            signer = self._signers[sender] = TransactionSigner(self._keyring.private_key(sender))
        return signer

    def _sign(self, call: RawCall, fees: Fees) -> _Pending:
        signer = self._signers[call.sender]
        nonce = self._nonces[call.sender]
        self._nonces[call.sender] = nonce + 1
        raw, tx_hash = signer.sign(
            chain_id=self._chain_id,
            nonce=nonce,
            fees=fees,
            gas=call.gas,
            to=call.to,
            value=call.value,
            data=call.data,
        )
        return _Pending(call, raw, tx_hash)

    def _load_nonces(self, senders: Iterable[bytes]) -> None:
        missing = [sender for sender in senders if sender not in self._nonces]
        if not missing:
            return
        counts = self._batch([("eth_getTransactionCount", [to_hex(s), "pending"]) for s in missing])
        for sender, count in zip(missing, counts, strict=True):
            self._nonces[sender] = int(count, 16)

    def _current_fees(self) -> Fees:
        if self._fees is None:
            block, tip = self._batch(
                [("eth_getBlockByNumber", ["latest", False]), ("eth_maxPriorityFeePerGas", [])]
            )
            base = int(block.get("baseFeePerGas", "0x0"), 16)
            priority = int(tip, 16)
            # Twice the base fee leaves room for six full blocks of base-fee growth before a refusal.
            self._fees = Fees(max_priority_fee=priority, max_fee=2 * base + priority)
        return self._fees

    def _clear_pool(self, senders: set[bytes], tx_hashes: Sequence[bytes]) -> int:
        """Remove ``tx_hashes`` (all of ``senders``' waiting transactions) from a dev node's pool.

        Return how many of ``tx_hashes`` were removed. anvil's ``anvil_dropTransaction`` ignores
        transactions queued behind a nonce gap, so on anvil the senders' whole pool entries go.
        """
        if not tx_hashes or not self.capabilities.dev:
            return 0
        if self.capabilities.dev_prefix == "anvil":
            self._batch([("anvil_removePoolTransactions", [to_hex(sender)]) for sender in sorted(senders)])
            return len(tx_hashes)
        replies = self._transport.batch([("hardhat_dropTransaction", [to_hex(h)]) for h in tx_hashes])
        return sum(reply is True for reply in replies)

    def _check_open(self) -> None:
        if self._closed:
            raise DomainError("CHAIN_CLOSED", f"this backend for {self.url} was closed")

    def _require_dev(self, what: str) -> None:
        self._check_open()
        if not self.capabilities.dev:
            raise DomainError(
                "NOT_SUPPORTED",
                f"The node at {self.url} ({self.capabilities.client}) cannot {what}: it is not a dev chain.",
            )

    def _request(self, method: str, *params: Any) -> Any:
        return checked_request(self._transport, method, *params)

    def _batch(self, requests: Sequence[tuple[str, Sequence[Any]]]) -> list[Any]:
        return checked_batch(self._transport, requests)

    def _chain_error(self, what: str, error: RpcError) -> DomainError:
        return node_refused(self.url, what, error)
