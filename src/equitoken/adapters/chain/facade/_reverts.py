"""Revert decoding: a rule's NAME becomes ``ChainRefusal``, a contract error code its ``DomainError``.

Anything else (no data, a string in neither catalogue — which the contracts never send — or undecodable
data) is ``CHAIN_REVERT``.
"""

from __future__ import annotations

from typing import Final

from equitoken.domain.contract_errors import CONTRACT_ERRORS
from equitoken.domain.errors import DomainError
from equitoken.domain.reasons import Reason
from equitoken.ports.chain import ChainRefusal

ERROR_SELECTOR: Final = bytes.fromhex("08c379a0")
REASON_NAMES: Final = {r.name: r for r in Reason if r is not Reason.OK}


def decode_revert(data: bytes) -> DomainError:
    """Turn raw revert data into ``ChainRefusal`` (a reason NAME) or ``DomainError("CHAIN_REVERT")``."""
    if data[:4] == ERROR_SELECTOR and len(data) >= 68:
        try:
            length = int.from_bytes(data[36:68], "big")
            message = data[68 : 68 + length].decode("utf-8", "replace")
        except (ValueError, OverflowError):
            message = ""
        reason = REASON_NAMES.get(message)
        if reason is not None:
            return ChainRefusal(reason)
        sentence = CONTRACT_ERRORS.get(message)
        if sentence is not None:
            return DomainError(message, sentence)
        return DomainError("CHAIN_REVERT", message or "reverted with an empty message")
    if not data:
        return DomainError("CHAIN_REVERT", "reverted without a reason (out of gas, or a failed assertion)")
    return DomainError("CHAIN_REVERT", f"reverted with undecodable data 0x{data[:64].hex()}")
