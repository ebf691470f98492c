"""Key rings for the chain backends, address derivation and low-s digest signing (secp256k1 via coincurve).

A ``KeyRing`` is the only place a private key exists. ``DeterministicKeyRing`` derives every key from a
seed and a label (``keccak256(seed || "/" || label)`` reduced into the curve order), so a simulation or a
test gets the same wallets on every run and on every engine; ``StaticKeyRing`` holds keys it is given
(a node's funded development accounts, an operator key). Neither is a wallet for real money: a
deterministic key is exactly as secret as its seed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import coincurve

from equitoken.domain.errors import DomainError
from equitoken.domain.keccak import keccak256

SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
"""The order of the secp256k1 group: a private key is an integer in ``[1, N - 1]``."""
_HALF_N = SECP256K1_N // 2


def private_key_to_address(private_key: bytes) -> bytes:
    """Return the 20-byte Ethereum address of ``private_key``: the last 20 bytes of keccak(pubkey)."""
    if len(private_key) != 32:
        raise DomainError("INVALID_PRIVATE_KEY", f"a private key is 32 bytes, got {len(private_key)}")
    try:
        public = coincurve.PublicKey.from_secret(private_key).format(compressed=False)
    except ValueError as error:  # zero or >= N: coincurve refuses it
        raise DomainError("INVALID_PRIVATE_KEY", str(error)) from None
    # The uncompressed encoding starts with the 0x04 tag, which is not part of the hashed key.
    return keccak256(public[1:])[12:]


def derive_private_key(seed: str, label: str) -> bytes:
    """Return the deterministic private key for ``label`` under ``seed`` (never zero, always < N)."""
    digest = int.from_bytes(keccak256(f"{seed}/{label}".encode()), "big")
    # Map the 256-bit digest onto [1, N-1]; the bias (2^256 mod N is tiny) is irrelevant for test keys.
    return (digest % (SECP256K1_N - 1) + 1).to_bytes(32, "big")


def sign_digest(private_key: bytes, digest: bytes) -> tuple[int, int, int]:
    """Sign a 32-byte ``digest`` and return ``(v, r, s)`` with low ``s`` and ``v`` in {27, 28}.

    This is the ``ecrecover`` convention (EIP-712 signatures, ``personal_sign``); a typed transaction's
    ``y_parity`` is ``v - 27``. The digest is signed as given, not hashed again.
    """
    if len(digest) != 32:
        raise DomainError("INVALID_DIGEST", f"a digest is 32 bytes, got {len(digest)}")
    signature = coincurve.PrivateKey(private_key).sign_recoverable(digest, hasher=None)
    r = int.from_bytes(signature[:32], "big")
    s = int.from_bytes(signature[32:64], "big")
    recovery = signature[64]
    # libsecp256k1 already normalises to low s; keep the guard so a future backend cannot break EIP-2.
    if s > _HALF_N:
        s = SECP256K1_N - s
        recovery ^= 1
    return 27 + recovery, r, s


def recover_address(digest: bytes, v: int, r: int, s: int) -> bytes:
    """Return the address that signed ``digest`` as ``(v, r, s)`` (``v`` in {0, 1, 27, 28})."""
    recovery = v - 27 if v >= 27 else v
    if recovery not in (0, 1) or not (0 < r < SECP256K1_N and 0 < s < SECP256K1_N):
        raise DomainError("INVALID_SIGNATURE", "signature values are out of range")
    signature = r.to_bytes(32, "big") + s.to_bytes(32, "big") + bytes([recovery])
    try:
        public = coincurve.PublicKey.from_signature_and_message(signature, digest, hasher=None)
    except ValueError as error:
        raise DomainError("INVALID_SIGNATURE", str(error)) from None
    return keccak256(public.format(compressed=False)[1:])[12:]


def to_checksum_address(address: bytes) -> str:
    """Return ``address`` as an EIP-55 mixed-case hex string."""
    if len(address) != 20:
        raise DomainError("INVALID_ADDRESS", f"an address is 20 bytes, got {len(address)}")
    lower = address.hex()
    hashed = keccak256(lower.encode()).hex()
    return "0x" + "".join(
        c.upper() if int(h, 16) >= 8 else c for c, h in zip(lower, hashed[:40], strict=True)
    )


def _unknown(address: bytes) -> DomainError:
    return DomainError("UNKNOWN_SIGNER", f"no key for {to_checksum_address(address)} in this key ring")


class StaticKeyRing:
    """Hold the private keys it is given, in the order given."""

    def __init__(self, private_keys: Iterable[bytes]) -> None:
        """Index ``private_keys`` by their addresses (a repeated key is kept once)."""
        self._keys: dict[bytes, bytes] = {}
        for key in private_keys:
            self._keys.setdefault(private_key_to_address(key), key)

    def addresses(self) -> Sequence[bytes]:
        """Return the 20-byte addresses this ring can sign for, in insertion order."""
        return tuple(self._keys)

    def private_key(self, address: bytes) -> bytes:
        """Return the 32-byte private key of ``address`` (``DomainError`` UNKNOWN_SIGNER otherwise)."""
        try:
            return self._keys[address]
        except KeyError:
            raise _unknown(address) from None

    def __contains__(self, address: object) -> bool:
        """Return whether the ring holds a key for ``address``."""
        return address in self._keys

    def __len__(self) -> int:
        """Return how many keys the ring holds."""
        return len(self._keys)


class DeterministicKeyRing:
    """Derive one key per label from a seed, so wallets are the same on every run and engine."""

    def __init__(self, seed: str, labels: Iterable[str] = ()) -> None:
        """Derive the keys for ``labels`` under ``seed`` (more can be added with ``add``)."""
        if not seed:
            raise DomainError("INVALID_SEED", "a key ring seed must not be empty")
        self._seed = seed
        self._by_label: dict[str, bytes] = {}
        self._keys: dict[bytes, bytes] = {}
        self._labels: dict[bytes, str] = {}
        for label in labels:
            self.add(label)

    def add(self, label: str) -> bytes:
        """Derive (or look up) the key for ``label`` and return its address."""
        known = self._by_label.get(label)
        if known is not None:
            return known
        key = derive_private_key(self._seed, label)
        address = private_key_to_address(key)
        self._by_label[label] = address
        self._keys[address] = key
        self._labels[address] = label
        return address

    def import_key(self, label: str, private_key: bytes) -> bytes:
        """Hold an operator's own key under ``label`` (e.g. the trustee's) and return its address.

        A label already derived or imported for another key is refused: one label, one key.
        """
        address = private_key_to_address(private_key)
        known = self._by_label.get(label)
        if known is not None and known != address:
            raise DomainError("KEY_LABEL_TAKEN", f"the label {label!r} already names another key")
        self._by_label[label] = address
        self._keys[address] = private_key
        self._labels[address] = label
        return address

    def addresses(self) -> Sequence[bytes]:
        """Return the 20-byte addresses this ring can sign for, in the order their labels were added."""
        return tuple(self._keys)

    def private_key(self, address: bytes) -> bytes:
        """Return the 32-byte private key of ``address`` (``DomainError`` UNKNOWN_SIGNER otherwise)."""
        try:
            return self._keys[address]
        except KeyError:
            raise _unknown(address) from None

    def label_address(self, label: str) -> bytes:
        """Return the address derived for ``label`` (``DomainError`` UNKNOWN_SIGNER if never added)."""
        try:
            return self._by_label[label]
        except KeyError:
            raise DomainError("UNKNOWN_SIGNER", f"no key labelled {label!r} in this key ring") from None

    def label_of(self, address: bytes) -> str:
        """Return the label ``address`` was derived from (``DomainError`` UNKNOWN_SIGNER otherwise)."""
        try:
            return self._labels[address]
        except KeyError:
            raise _unknown(address) from None

    def labels(self) -> Sequence[str]:
        """Return the labels in the order they were added."""
        return tuple(self._by_label)

    def __contains__(self, address: object) -> bool:
        """Return whether the ring holds a key for ``address``."""
        return address in self._keys

    def __len__(self) -> int:
        """Return how many keys the ring holds."""
        return len(self._keys)
