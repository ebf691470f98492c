"""Bench the JSON-RPC chain backend on a private anvil node: ERC-20 transfers/s, batched and one by one.

The token is ``contracts/PlainToken.vy`` (no compliance; the embedded bench's baseline too). Figures,
all on the same node in one run:

- **pre-signed, batched** — transactions signed before the clock starts, posted as JSON-RPC arrays of
  ``batch`` with one ``evm_mine`` per array: what the node itself accepts and executes (the baseline);
- **RpcBackend.send, batched** — the backend's full path: local signing and nonces, arrays, mining,
  receipts and traces (return/revert data) — the ratio to the baseline is the backend's cost;
- **pre-signed, one at a time** and **RpcBackend.send, one per call** — one request, one block and one
  receipt per transfer: what batching saves.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from equitoken.adapters.chain.backend import RawCall
from equitoken.adapters.chain.keys import DeterministicKeyRing
from equitoken.adapters.chain.rpc import DEFAULT_BATCH, RpcBackend
from equitoken.bench.chain_embedded import plain_token_bytecode, transfer_calldata
from equitoken.bench.core import BenchOptions, Measurement
from equitoken.domain.errors import DomainError

PART = "chain-rpc"
_SUPPLY = 10**30
_RECIPIENTS = 1_000
_GAS = 100_000


@dataclass(frozen=True, slots=True)
class RpcTransferBench:
    """Transfers per second on one anvil node."""

    transfers: int
    batch: int
    presigned_batched_per_s: float
    send_batched_per_s: float
    presigned_single_per_s: float
    send_single_per_s: float
    signing_per_s: float
    gas_per_transfer: int
    client: str


def _rate(count: int, seconds: float) -> float:
    return count / seconds if seconds > 0 else float("inf")


def _calls(holder: bytes, token: bytes, count: int, first: int = 0) -> list[RawCall]:
    return [
        RawCall(
            holder,
            token,
            transfer_calldata((0x1000 + i % _RECIPIENTS).to_bytes(20, "big"), 1 + i % 7),
            gas=_GAS,
        )
        for i in range(first, first + count)
    ]


def _presign(backend: RpcBackend, calls: Sequence[RawCall], nonce: int) -> list[bytes]:
    """Sign ``calls`` from ``nonce`` on with the backend's own signer (outside any timed section)."""
    from equitoken.adapters.chain.rpc import Fees, TransactionSigner

    key = backend._keyring.private_key(calls[0].sender)
    signer = TransactionSigner(key)
    fees = Fees(max_priority_fee=10**9, max_fee=10**11)
    return [
        signer.sign(
            chain_id=backend.chain_id, nonce=nonce + i, fees=fees, gas=c.gas, to=c.to, value=0, data=c.data
        )[0]
        for i, c in enumerate(calls)
    ]


def bench_rpc_transfers(n: int = 10_000, batch: int = 500, single: int = 500) -> RpcTransferBench:
    """Measure ``n`` batched and ``single`` one-by-one plain ERC-20 transfers on a private anvil node."""
    ring = DeterministicKeyRing("bench-chain-rpc", ["holder"])
    holder = ring.label_address("holder")
    with RpcBackend.start_anvil(ring, batch_size=batch) as backend:
        backend.fund(holder, 10**27)
        deploy = RawCall(holder, None, plain_token_bytecode() + _SUPPLY.to_bytes(32, "big"), gas=5_000_000)
        token = backend.send([deploy])[0].contract_address
        assert token is not None
        backend.send(_calls(holder, token, _RECIPIENTS))  # first touch of each slot is the costly one

        calls = _calls(holder, token, n)
        start = time.perf_counter()
        raws = _presign(backend, calls, backend.nonce(holder))
        signing = _rate(n, time.perf_counter() - start)
        start = time.perf_counter()
        for i in range(0, n, batch):
            backend.send_raw(raws[i : i + batch])
            backend.mine()
        presigned_batched = _rate(n, time.perf_counter() - start)

        backend._nonces.clear()  # send_raw bypassed the nonce cache
        start = time.perf_counter()
        for i in range(0, n, batch):
            receipts = backend.send(calls[i : i + batch])
        send_batched = _rate(n, time.perf_counter() - start)
        assert all(r.success for r in receipts)
        gas = receipts[-1].gas_used

        backend._nonces.clear()
        raws = _presign(backend, calls[:single], backend.nonce(holder))
        start = time.perf_counter()
        for raw in raws:
            backend.send_raw([raw])
            backend.mine()
        presigned_single = _rate(single, time.perf_counter() - start)

        backend._nonces.clear()
        send = backend.send
        start = time.perf_counter()
        for call in calls[:single]:
            send([call])
        send_single = _rate(single, time.perf_counter() - start)
        client = backend.capabilities.client
    return RpcTransferBench(
        n, batch, presigned_batched, send_batched, presigned_single, send_single, signing, gas, client
    )


def run(options: BenchOptions) -> list[Measurement]:
    """Return the JSON-RPC backend's transfer figures on anvil, or one 'unavailable' row without it."""
    try:
        r = bench_rpc_transfers(options.size(10_000, 1_000), DEFAULT_BATCH, options.size(500, 100))
    except DomainError as missing:
        if missing.code != "NODE_UNAVAILABLE":
            raise
        return [Measurement(PART, "anvil transfers", None, "transfers/s", note=missing.message)]
    base = f"pre-signed arrays of {r.batch} + evm_mine ({r.client})"
    return [
        Measurement(
            PART,
            "raw ERC-20 transfers, pre-signed batched",
            r.presigned_batched_per_s,
            "transfers/s",
            note=f"{r.transfers} transfers, arrays of {r.batch}, one block each: the node's own rate",
        ),
        Measurement(
            PART,
            "raw ERC-20 transfers (RpcBackend.send batched)",
            r.send_batched_per_s,
            "transfers/s",
            base,
            r.presigned_batched_per_s,
            "signing, nonces, mining, receipts and traces included",
        ),
        Measurement(
            PART,
            "raw ERC-20 transfers, pre-signed one at a time",
            r.presigned_single_per_s,
            "transfers/s",
            base,
            r.presigned_batched_per_s,
            "one request and one block per transfer",
        ),
        Measurement(
            PART,
            "raw ERC-20 transfers (RpcBackend.send one per call)",
            r.send_single_per_s,
            "transfers/s",
            base,
            r.presigned_batched_per_s,
            "sign, send, mine, receipt, trace each",
        ),
        Measurement(
            PART,
            "transaction signing",
            r.signing_per_s,
            "signatures/s",
            note="EIP-1559, RLP + coincurve in Python",
        ),
        Measurement(
            PART, "gas per raw transfer", float(r.gas_per_transfer), "gas", note="warm recipient slot"
        ),
    ]


if __name__ == "__main__":
    print(bench_rpc_transfers())
