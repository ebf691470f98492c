"""Keccak-256 as Ethereum uses it (not NIST SHA3-256, which pads differently)."""

from __future__ import annotations

import sha3  # safe-pysha3: C implementation, ~1M hashes/s


def keccak256(data: bytes) -> bytes:
    """Return the 32-byte Keccak-256 digest of ``data``."""
    return sha3.keccak_256(data).digest()  # type: ignore[no-any-return]
