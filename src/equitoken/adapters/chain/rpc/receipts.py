"""Receipts and traces: wait for (or mine) receipts, and recover each transaction's output from traces.

Receipts carry neither return nor revert data. After a batch the traces of its blocks are fetched in
one request (``trace_block``, which anvil records while mining; geth-style ``debug_traceBlockByNumber``
as a fallback) and each transaction's top-level output taken from them. A node with neither gets revert
data by an ``eth_call`` replay at the block before (an approximation) and empty return data.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from equitoken.adapters.chain.backend import RawCall, RawReceipt
from equitoken.adapters.chain.rpc.capabilities import NodeCapabilities
from equitoken.adapters.chain.rpc.transport import JsonRpcTransport, RpcError, checked_batch, checked_request
from equitoken.adapters.chain.rpc.wire import from_hex, raw_receipt, to_hex
from equitoken.domain.errors import DomainError

TraceMethod = Literal["trace_block", "debug_traceBlockByNumber", "eth_call"]


class ReceiptReader:
    """Settle transaction hashes into ``RawReceipt``s with their outputs, for one node."""

    def __init__(
        self, transport: JsonRpcTransport, capabilities: NodeCapabilities, receipt_timeout: float
    ) -> None:
        """Read from the node behind ``transport``, giving up on a receipt after ``receipt_timeout`` s."""
        self._transport = transport
        self.capabilities = capabilities
        self._receipt_timeout = receipt_timeout
        self._trace: TraceMethod | None = None

    def receipts(
        self, tx_hashes: Sequence[bytes], calls: Sequence[RawCall | None], *, mined: bool
    ) -> list[RawReceipt]:
        """Return the receipts of ``tx_hashes`` in order; ``calls`` (when known) help recover reverts.

        ``mined``: the caller already mined the transactions' block on a manual-mining node.
        """
        if not tx_hashes:
            return []
        found = self._await_receipts(tx_hashes, mined=mined)
        outputs = self._outputs(found, calls)
        return [raw_receipt(raw, output) for raw, output in zip(found, outputs, strict=True)]

    def _await_receipts(self, tx_hashes: Sequence[bytes], *, mined: bool) -> list[dict[str, Any]]:
        """Return the receipts of ``tx_hashes``, mining (manual node) or polling until all exist."""
        found: list[dict[str, Any] | None] = [None] * len(tx_hashes)
        deadline = time.monotonic() + self._receipt_timeout
        delay = 0.02
        mines = 0
        manual = self.capabilities.mining == "manual"
        while True:
            missing = [index for index, receipt in enumerate(found) if receipt is None]
            if manual and (mines or not mined):
                # A block takes the pending transactions that fit its gas limit; mine until all did.
                self._request("evm_mine")
            mines += 1
            replies = self._batch(
                [("eth_getTransactionReceipt", [to_hex(tx_hashes[index])]) for index in missing]
            )
            for index, reply in zip(missing, replies, strict=True):
                found[index] = reply
            if all(receipt is not None for receipt in found):
                return [receipt for receipt in found if receipt is not None]
            if time.monotonic() > deadline or mines > 1000:
                waiting = sum(receipt is None for receipt in found)
                raise DomainError(
                    "CHAIN_TIMEOUT",
                    f"{waiting} of {len(tx_hashes)} transactions got no receipt within"
                    f" {self._receipt_timeout:g} s.",
                )
            if not manual:
                time.sleep(delay)
                delay = min(delay * 2, 0.5)

    def _outputs(self, receipts: Sequence[Mapping[str, Any]], calls: Sequence[RawCall | None]) -> list[bytes]:
        """Return each transaction's top-level output: return data on success, revert data on failure."""
        blocks = sorted({receipt["blockNumber"] for receipt in receipts})
        by_hash: dict[str, bytes] = {}
        method = self._trace_method()
        if method == "trace_block":
            for traces in self._batch([("trace_block", [block]) for block in blocks]):
                for trace in traces or ():
                    if not trace.get("traceAddress") and trace.get("transactionHash"):
                        result = trace.get("result") or {}
                        # A creation reports its runtime code as "code", not "output": its output is
                        # empty, as on the embedded engine.
                        by_hash[str(trace["transactionHash"]).lower()] = from_hex(result.get("output", "0x"))
        elif method == "debug_traceBlockByNumber":
            tracer = {"tracer": "callTracer", "tracerConfig": {"onlyTopCall": True}}
            for traces in self._batch([("debug_traceBlockByNumber", [block, tracer]) for block in blocks]):
                for trace in traces or ():
                    if trace.get("txHash"):
                        frame = trace.get("result") or {}
                        by_hash[str(trace["txHash"]).lower()] = from_hex(frame.get("output", "0x"))
        outputs: list[bytes] = []
        replay: list[int] = []
        for index, receipt in enumerate(receipts):
            output = by_hash.get(str(receipt["transactionHash"]).lower())
            if output is None and receipt.get("status") == "0x0":
                replay.append(index)
            outputs.append(output or b"")
        if replay:
            self._replay_reverts(receipts, calls, replay, outputs)
        return outputs

    def _replay_reverts(
        self,
        receipts: Sequence[Mapping[str, Any]],
        calls: Sequence[RawCall | None],
        indices: Sequence[int],
        outputs: list[bytes],
    ) -> None:
        """Recover revert data by re-running failed transactions at the block before theirs.

        An approximation for nodes without traces: it misses state changed by earlier transactions
        of the same block.
        """
        requests: list[tuple[str, Sequence[Any]]] = []
        for index in indices:
            receipt, call = receipts[index], calls[index]
            request = {
                "from": receipt["from"],
                "data": to_hex(call.data) if call else "0x",
                "gas": receipt["gasUsed"],
            }
            if call is not None:
                request["gas"] = hex(call.gas)
                request["value"] = hex(call.value)
            if receipt.get("to"):
                request["to"] = receipt["to"]
            requests.append(("eth_call", [request, hex(int(receipt["blockNumber"], 16) - 1)]))
        for index, reply in zip(indices, self._transport.batch(requests), strict=True):
            if isinstance(reply, RpcError) and reply.revert_data is not None:
                outputs[index] = reply.revert_data

    def _trace_method(self) -> TraceMethod:
        """Pick, once, how this node reports each transaction's output (see the module docstring)."""
        if self._trace is None:
            found: TraceMethod = "eth_call"
            probes: tuple[tuple[TraceMethod, list[Any]], ...] = (
                ("trace_block", ["0x0"]),
                ("debug_traceBlockByNumber", ["0x0", {"tracer": "callTracer"}]),
            )
            for method, params in probes:
                if not isinstance(self._transport.batch([(method, params)])[0], RpcError):
                    found = method
                    break
            self._trace = found
        return self._trace

    def _request(self, method: str, *params: Any) -> Any:
        return checked_request(self._transport, method, *params)

    def _batch(self, requests: Sequence[tuple[str, Sequence[Any]]]) -> list[Any]:
        return checked_batch(self._transport, requests)
