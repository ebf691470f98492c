"""Bench the embedded chain backend: raw ERC-20 transfers/s through ``EmbeddedBackend`` beside bare pyrevm.

The token is ``contracts/PlainToken.vy`` (no compliance), compiled with ``vyper.compile_code`` here so
the figure measures the backend, not the contracts. Calldata is encoded before the clock starts — the
facade pre-encodes too — and one extra figure includes eth-abi encoding per transfer for comparison.
Baselines timed in the same run: pyrevm ``message_call`` in a bare loop (the ceiling: no receipts, no
logs kept, no nonces) and the same transfers sent one per ``send`` (one block each).
"""

from __future__ import annotations

import importlib
import time
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pyrevm

from equitoken.adapters.chain.backend import RawCall
from equitoken.adapters.chain.embedded import EmbeddedBackend
from equitoken.adapters.chain.keys import DeterministicKeyRing
from equitoken.bench.core import BenchOptions, Measurement

PART = "chain-embedded"
PLAIN_TOKEN_SOURCE = Path(__file__).with_name("contracts") / "PlainToken.vy"
TRANSFER_SELECTOR = bytes.fromhex("a9059cbb")  # transfer(address,uint256)
_SUPPLY = 10**30
_RECIPIENTS = 1_000


@cache
def plain_token_bytecode() -> bytes:
    """Compile ``PlainToken.vy`` once per process and return its deployment bytecode."""
    # Imported when first needed (the compiler takes ~0.3 s to import); through importlib because
    # vyper ships no type information.
    vyper = importlib.import_module("vyper")
    compiled = vyper.compile_code(PLAIN_TOKEN_SOURCE.read_text(), output_formats=["bytecode"])
    return bytes.fromhex(compiled["bytecode"].removeprefix("0x"))


def transfer_calldata(recipient: bytes, amount: int) -> bytes:
    """Encode ``transfer(recipient, amount)`` by hand (two static words: no eth-abi on the hot path)."""
    return TRANSFER_SELECTOR + bytes(12) + recipient + amount.to_bytes(32, "big")


@dataclass(frozen=True, slots=True)
class RawTransferBench:
    """Transfers per second through the backend, beside bare pyrevm and other batchings."""

    transfers: int
    transfers_per_s: float
    """Batched ``send`` (``batch`` calls per block), pre-encoded calldata: the headline figure."""
    single_send_per_s: float
    """One transfer per ``send`` (one block each), pre-encoded."""
    abi_encoded_per_s: float
    """Batched, with eth-abi encoding each transfer inside the timed loop."""
    bare_pyrevm_per_s: float
    """pyrevm ``message_call`` in a loop, pre-encoded: the ceiling."""
    gas_per_transfer: int
    batch: int

    @property
    def overhead_ratio(self) -> float:
        """Return backend/bare throughput (1.0 means the transaction layer costs nothing)."""
        return self.transfers_per_s / self.bare_pyrevm_per_s


def _deploy(backend: EmbeddedBackend, sender: bytes) -> bytes:
    supply = _SUPPLY.to_bytes(32, "big")
    receipt = backend.send([RawCall(sender, None, plain_token_bytecode() + supply, gas=5_000_000)])[0]
    if not receipt.success or receipt.contract_address is None:
        raise RuntimeError("PlainToken failed to deploy")
    return receipt.contract_address


def _rate(count: int, seconds: float) -> float:
    return count / seconds if seconds > 0 else float("inf")


def bench_raw_transfers(n: int = 50_000, batch: int = 500) -> RawTransferBench:
    """Measure ``n`` plain ERC-20 transfers through ``EmbeddedBackend`` and the baselines."""
    ring = DeterministicKeyRing("bench-chain-embedded", ["holder"])
    holder = ring.label_address("holder")
    recipients = [(i + 0x1000).to_bytes(20, "big") for i in range(_RECIPIENTS)]
    datas = [transfer_calldata(recipients[i % _RECIPIENTS], 1 + i % 7) for i in range(n)]

    backend = EmbeddedBackend(ring)
    token = _deploy(backend, holder)
    calls = [RawCall(holder, token, data, gas=100_000) for data in datas]
    backend.send(calls[:batch])  # warm up: the first transfer to each slot is the cold, costly one
    start = time.perf_counter()
    gas = 0
    for i in range(0, n, batch):
        receipts = backend.send(calls[i : i + batch])
        gas = receipts[-1].gas_used
    batched = _rate(n, time.perf_counter() - start)
    backend.close()

    backend = EmbeddedBackend(ring)
    token = _deploy(backend, holder)
    single_n = max(1, n // 5)
    single_calls = [RawCall(holder, token, data, gas=100_000) for data in datas[:single_n]]
    send = backend.send
    start = time.perf_counter()
    for call in single_calls:
        send([call])
    single = _rate(single_n, time.perf_counter() - start)
    backend.close()

    from eth_abi.abi import encode  # imported lazily: only the comparison figure needs it

    backend = EmbeddedBackend(ring)
    token = _deploy(backend, holder)
    start = time.perf_counter()
    for i in range(0, n, batch):
        chunk = [
            RawCall(
                holder,
                token,
                TRANSFER_SELECTOR + encode(["address", "uint256"], [recipients[j % _RECIPIENTS], 1 + j % 7]),
                gas=100_000,
            )
            for j in range(i, min(n, i + batch))
        ]
        backend.send(chunk)
    encoded = _rate(n, time.perf_counter() - start)
    backend.close()

    evm = pyrevm.EVM()
    holder_hex = "0x" + holder.hex()
    token_hex = evm.deploy(holder_hex, plain_token_bytecode() + _SUPPLY.to_bytes(32, "big"))
    message_call = evm.message_call
    start = time.perf_counter()
    for data in datas:
        message_call(holder_hex, token_hex, data)
    bare = _rate(n, time.perf_counter() - start)

    return RawTransferBench(n, batched, single, encoded, bare, gas, batch)


def run(options: BenchOptions) -> list[Measurement]:
    """Return the embedded backend's raw-transfer figures, each beside bare pyrevm."""
    result = bench_raw_transfers(options.size(100_000, 5_000))
    bare = "pyrevm message_call loop (pre-encoded)"
    rate = "transfers/s"
    top = result.bare_pyrevm_per_s
    return [
        Measurement(
            PART,
            "raw ERC-20 transfers (batched send)",
            result.transfers_per_s,
            rate,
            bare,
            top,
            f"{result.batch} per block, pre-encoded calldata",
        ),
        Measurement(
            PART,
            "raw ERC-20 transfers (one per send)",
            result.single_send_per_s,
            rate,
            bare,
            top,
            "one block per transfer",
        ),
        Measurement(
            PART,
            "raw ERC-20 transfers (eth-abi encoded)",
            result.abi_encoded_per_s,
            rate,
            bare,
            top,
            "encoding inside the timed loop",
        ),
        Measurement(
            PART,
            "gas per raw transfer",
            float(result.gas_per_transfer),
            "gas",
            note="approximate: pyrevm keeps slots warm across transactions",
        ),
    ]


if __name__ == "__main__":
    figures = bench_raw_transfers()
    print(figures, f"overhead ratio {figures.overhead_ratio:.2f}")
