"""The node's JSON shapes: hex <-> bytes, receipts and logs as raw values, and error answers classified."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from equitoken.adapters.chain.backend import RawLog, RawReceipt
from equitoken.adapters.chain.rpc.transport import RpcError


def raw_receipt(raw: Mapping[str, Any], output: bytes) -> RawReceipt:
    """Return a node's JSON receipt as a ``RawReceipt`` carrying ``output`` (from the traces)."""
    success = raw.get("status") == "0x1"
    # anvil names the would-be address even when the creation failed; no contract exists there.
    contract = raw.get("contractAddress") if success else None
    return RawReceipt(
        tx_hash=from_hex(raw["transactionHash"]),
        block=int(raw["blockNumber"], 16),
        success=success,
        gas_used=int(raw["gasUsed"], 16),
        logs=tuple(raw_log(entry) for entry in raw.get("logs", ())),
        output=output,
        contract_address=from_hex(contract) if contract else None,
    )


def raw_log(entry: Mapping[str, Any]) -> RawLog:
    """Return a node's JSON log entry as a ``RawLog``."""
    return RawLog(
        address=from_hex(entry["address"]),
        topics=tuple(from_hex(topic) for topic in entry["topics"]),
        data=from_hex(entry["data"]),
        block=int(entry["blockNumber"], 16),
        tx_hash=from_hex(entry["transactionHash"]),
        log_index=int(entry["logIndex"], 16),
    )


def already_known(error: RpcError) -> bool:
    """Tell whether the node refused a transaction only because it already has it."""
    return "already known" in error.message.lower() or "already imported" in error.message.lower()


def out_of_range(error: RpcError) -> bool:
    """Tell whether the node refused a block range or number it does not hold."""
    return "outofrange" in error.message.lower().replace(" ", "")


def is_nonce_error(error: RpcError) -> bool:
    """Tell whether the node refused a transaction for its nonce."""
    return "nonce" in error.message.lower()


def is_fee_error(error: RpcError) -> bool:
    """Tell whether the node refused a transaction for its fees."""
    message = error.message.lower()
    return "fee" in message or "underpriced" in message


def to_hex(value: bytes) -> str:
    """Return ``value`` as 0x-prefixed hex."""
    return "0x" + value.hex()


def from_hex(value: str | None) -> bytes:
    """Return the bytes of a hex string (0x prefix optional; empty or ``None`` is no bytes)."""
    if not value:
        return b""
    return bytes.fromhex(value[2:] if value.startswith("0x") else value)


def block_tag(block: int | None) -> str:
    """Return the JSON-RPC block parameter of ``block`` (``latest`` when omitted)."""
    return "latest" if block is None else hex(block)
