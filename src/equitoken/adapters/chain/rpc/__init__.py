"""The JSON-RPC engine: ``EvmBackend`` over any EVM node (anvil locally, a real network by URL).

Throughput is bounded by the node, not by round trips or Python:

- **Local signing, hand-rolled.** EIP-1559 (type 2) transactions are RLP-encoded here and signed with
  coincurve (libsecp256k1, RFC 6979) — about 14x faster than ``eth_account.sign_transaction``, byte for
  byte the same transaction (a test checks it). Gas is the ``RawCall``'s, so there is no
  ``eth_estimateGas`` round trip.
- **Local nonces.** Fetched once per sender (``pending``), then incremented; resynced on a rejection and
  after ``revert``.
- **Batches as raw JSON-RPC arrays** over one keep-alive HTTP connection: all ``eth_sendRawTransaction``
  requests of a batch in one POST (web3's batch helper refuses raw transactions), one ``evm_mine`` on a
  manual-mining dev node, then all receipts in one more POST.
- **Return and revert data from traces.** Receipts carry neither. After a batch the backend asks for the
  traces of its blocks in one request (``trace_block``, which anvil records while mining, so it costs no
  re-execution; geth-style ``debug_traceBlockByNumber`` as a fallback) and takes each transaction's
  top-level output — the return data on success, the exact revert data on failure, in the state the
  transaction really ran in (replaying with ``eth_call`` at the block before would miss the effects of
  earlier transactions in the same block). A node with neither gets revert data by that ``eth_call``
  replay (documented approximation) and empty return data.

A rejection by the node (bad nonce, fee too low, unfunded sender) is not a revert: it is retried once
when it is a stale nonce or fee on a manual-mining node, and otherwise raises
``DomainError("TX_REJECTED")`` — after dropping the sender's later transactions of the batch, which
would otherwise wait behind the nonce gap and run by surprise later. A node that cannot be reached
raises ``DomainError("CHAIN_UNAVAILABLE")``; an unexpected error answer ``DomainError("CHAIN_ERROR")``.

The package: ``transport`` (JSON-RPC over HTTP, batch arrays), ``signing`` (EIP-1559 encoding and
signing), ``wire`` (the node's JSON shapes), ``capabilities`` (what the node can do), ``receipts``
(receipts and traces) and ``backend`` (``RpcBackend``: nonces, fees, batches, refusals).
"""

from __future__ import annotations

from equitoken.adapters.chain.rpc.backend import DEFAULT_BATCH, RpcBackend
from equitoken.adapters.chain.rpc.capabilities import NodeCapabilities
from equitoken.adapters.chain.rpc.receipts import TraceMethod
from equitoken.adapters.chain.rpc.signing import Fees, TransactionSigner
from equitoken.adapters.chain.rpc.transport import JsonRpcTransport, RpcError, RpcFailure

__all__ = [
    "DEFAULT_BATCH",
    "Fees",
    "JsonRpcTransport",
    "NodeCapabilities",
    "RpcBackend",
    "RpcError",
    "RpcFailure",
    "TraceMethod",
    "TransactionSigner",
]
