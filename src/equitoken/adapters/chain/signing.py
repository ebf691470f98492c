"""A ``Signer`` over one private key, and the ``recover`` function that checks its signatures."""

from __future__ import annotations

from equitoken.adapters.chain.keys import private_key_to_address, recover_address, sign_digest
from equitoken.domain.ids import WalletAddress


class KeySigner:
    """Sign digests with a private key held in memory (a trustee key loaded by the operator)."""

    __slots__ = ("_address", "_key")

    def __init__(self, private_key: bytes) -> None:
        """Keep ``private_key`` (32 bytes) and derive its address (``DomainError`` if it is invalid)."""
        self._address = WalletAddress.from_bytes(private_key_to_address(private_key))
        self._key = private_key

    @property
    def address(self) -> WalletAddress:
        """Return the address of the key."""
        return self._address

    @property
    def private_key(self) -> bytes:
        """Return the key itself (for handing it to a key ring that must send as this address)."""
        return self._key

    def sign_digest(self, digest: bytes) -> tuple[int, int, int]:
        """Sign the 32-byte ``digest`` and return ``(v, r, s)`` (``v`` in {27, 28}, low ``s``)."""
        return sign_digest(self._key, digest)

    def __repr__(self) -> str:
        """Show the address only: the key must never reach a log."""
        return f"KeySigner({self._address})"


def recover(digest: bytes, v: int, r: int, s: int) -> bytes:
    """Return the 20-byte address that signed ``digest`` (the ``ports.signing.Recover`` shape)."""
    return recover_address(digest, v, r, s)
