"""The signing port: a trustee key that signs 32-byte digests, and how a signature is checked."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from equitoken.domain.ids import WalletAddress

Recover = Callable[[bytes, int, int, int], bytes]
"""``(digest, v, r, s) -> 20-byte address``: what ``ecrecover`` does, supplied by an adapter."""


class Signer(Protocol):
    """Sign digests with one secp256k1 key (``personal_sign`` and EIP-712 both end in a digest)."""

    @property
    def address(self) -> WalletAddress:
        """Return the address of the key."""
        ...

    def sign_digest(self, digest: bytes) -> tuple[int, int, int]:
        """Sign the 32-byte ``digest`` as given and return ``(v, r, s)``: ``v`` in {27, 28}, low ``s``."""
        ...
