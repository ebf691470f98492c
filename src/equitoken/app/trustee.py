"""The trustee: whose key signs attestations, and whose signature a reader accepts.

Signing. The trustee key is the operator's file (``EQUITOKEN_TRUSTEE_KEY_FILE``) or, without one, a
development key derived from ``chain_seed``. It is loaded and checked before a command does any work.
A development key — and above all the one derived from the public default seed, which anyone can
derive — signs for the embedded development chain only: on any other chain id it is refused
(``DEV_KEY_ON_REAL_CHAIN``), since a document it signs proves nothing.

Verifying. Anyone can sign a well-formed document, so a signature alone proves nothing: the signer must
be checked against a trustee the reader trusts — an address published by the issuer (``--trustee``), or
the trustee that a registry the reader names holds on chain. The registry a document names is not
enough by itself: anyone can deploy a registry naming themselves. Without either check the document is
refused (``TRUSTEE_UNCHECKED``), never passed with a warning.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Protocol

from equitoken.adapters.chain.keys import derive_private_key
from equitoken.adapters.chain.signing import KeySigner
from equitoken.app.settings import Settings
from equitoken.domain.chains import DEVELOPMENT_SEED, EMBEDDED_CHAIN_ID, TRUSTEE_LABEL
from equitoken.domain.errors import DomainError
from equitoken.domain.ids import WalletAddress
from equitoken.reserves.attestation import SignedAttestation


@cache
def public_development_trustee() -> WalletAddress:
    """Return the trustee address derived from the public default seed (anyone can sign as it)."""
    return KeySigner(derive_private_key(DEVELOPMENT_SEED, TRUSTEE_LABEL)).address


def refuse_public_key(signer: WalletAddress, chain_id: int) -> None:
    """Refuse the public development trustee key on any chain but the embedded development chain."""
    if signer == public_development_trustee() and chain_id != EMBEDDED_CHAIN_ID:
        raise DomainError(
            "DEV_KEY_ON_REAL_CHAIN",
            f"{signer} is the development trustee derived from the public seed {DEVELOPMENT_SEED!r}: "
            f"anyone can sign as it, so it signs for the embedded chain ({EMBEDDED_CHAIN_ID}) only, "
            f"never for chain {chain_id}; set EQUITOKEN_TRUSTEE_KEY_FILE to the trustee's own key",
        )


@dataclass(frozen=True, slots=True)
class Trustee:
    """The trustee's signer, where its key came from, and whether it is a development key."""

    signer: KeySigner
    origin: str
    development: bool
    """Derived from a seed (the configured ``chain_seed`` or the public default): not a secret key."""

    def for_chain(self, chain_id: int) -> KeySigner:
        """Return the signer for ``chain_id`` (``DEV_KEY_ON_REAL_CHAIN`` for a development key elsewhere)."""
        refuse_public_key(self.signer.address, chain_id)
        if self.development and chain_id != EMBEDDED_CHAIN_ID:
            raise DomainError(
                "DEV_KEY_ON_REAL_CHAIN",
                f"the trustee key is a development key derived from chain_seed ({self.origin}); it "
                f"signs for the embedded chain ({EMBEDDED_CHAIN_ID}) only, never for chain {chain_id}; "
                "set EQUITOKEN_TRUSTEE_KEY_FILE to the trustee's own key",
            )
        return self.signer


def load_trustee(settings: Settings) -> Trustee:
    """Return the trustee key from the operator's file, or the development key from ``chain_seed``.

    A missing or unreadable file is ``FILE_UNREADABLE``, anything but 64 hex digits ``INVALID_KEY``.
    """
    path = settings.trustee_key_file
    derived = KeySigner(derive_private_key(settings.chain_seed, TRUSTEE_LABEL))
    if path is None:
        return Trustee(derived, "development key from chain_seed (public: not for real use)", True)
    signer = KeySigner(_read_key(path))
    development = signer.address in (derived.address, public_development_trustee())
    return Trustee(signer, f"operator key file {path}", development)


def _read_key(path: Path) -> bytes:
    try:
        text = path.read_text(encoding="utf-8").strip().removeprefix("0x")
    except OSError as error:
        raise DomainError("FILE_UNREADABLE", f"cannot read {path}: {error.strerror or error}") from None
    except UnicodeDecodeError:
        raise DomainError("INVALID_KEY", f"{path} does not hold a hex private key") from None
    try:
        key = bytes.fromhex(text)
    except ValueError:
        raise DomainError("INVALID_KEY", f"{path} does not hold a hex private key") from None
    if len(key) != 32:
        raise DomainError("INVALID_KEY", f"{path} must hold 32 bytes (64 hex digits), not {len(key)}")
    return key


class TrusteeRegistry(Protocol):
    """A chain on which a ``ReserveRegistry``'s current trustee can be read."""

    @property
    def chain_id(self) -> int:
        """Return the chain id of the node read."""
        ...

    def registry_trustee(self, registry: WalletAddress) -> WalletAddress:
        """Return the trustee ``registry`` holds (``NO_CONTRACT`` when there is no contract there)."""
        ...


@dataclass(frozen=True, slots=True)
class TrusteeCheck:
    """Against what the signer was checked."""

    trustee: WalletAddress
    sources: tuple[str, ...]
    """``"--trustee"`` and/or ``"registry 0x… on chain N"``."""


def check_signer(
    signed: SignedAttestation,
    *,
    trustee: WalletAddress | None = None,
    registry: WalletAddress | None = None,
    chain: TrusteeRegistry | None = None,
) -> TrusteeCheck:
    """Check the document's signer against ``trustee`` and/or the trustee ``registry`` holds on ``chain``.

    Refused: the public development key on a chain other than the embedded one
    (``DEV_KEY_ON_REAL_CHAIN``); a signer that is not the trustee (``WRONG_TRUSTEE``); a document that
    names another registry (``WRONG_REGISTRY``); a node of another chain (``CHAIN_MISMATCH``); a
    registry without a chain to read it on (``CHAIN_NOT_CONFIGURED``); and neither check asked for
    (``TRUSTEE_UNCHECKED``).
    """
    attestation = signed.attestation
    refuse_public_key(signed.signer, attestation.chain_id)
    if trustee is None and registry is None:
        raise DomainError("TRUSTEE_UNCHECKED", _unchecked(signed))
    sources: list[str] = []
    if trustee is not None:
        if signed.signer != trustee:
            raise DomainError(
                "WRONG_TRUSTEE", f"the document was signed by {signed.signer}, not by {trustee}"
            )
        sources.append("--trustee")
    if registry is not None:
        named = attestation.registry
        if named != registry:
            raise DomainError(
                "WRONG_REGISTRY",
                f"the document names registry {named.value if named else 'none'}, not {registry}",
            )
        if chain is None:
            raise DomainError(
                "CHAIN_NOT_CONFIGURED",
                f"reading the trustee of registry {registry} needs a node of chain "
                f"{attestation.chain_id}: set EQUITOKEN_CHAIN_URL",
            )
        if chain.chain_id != attestation.chain_id:
            raise DomainError(
                "CHAIN_MISMATCH",
                f"the document is bound to chain {attestation.chain_id}, but EQUITOKEN_CHAIN_URL is a "
                f"node of chain {chain.chain_id}",
            )
        holder = chain.registry_trustee(registry)
        if signed.signer != holder:
            raise DomainError(
                "WRONG_TRUSTEE",
                f"the document was signed by {signed.signer}, but registry {registry} on chain "
                f"{chain.chain_id} names {holder} as its trustee",
            )
        sources.append(f"registry {registry.value} on chain {chain.chain_id}")
    return TrusteeCheck(signed.signer, tuple(sources))


def _unchecked(signed: SignedAttestation) -> str:
    attestation = signed.attestation
    advice = (
        f"the signer {signed.signer} was not checked against the trustee: pass --trustee ADDRESS "
        "(published by the issuer)"
    )
    if attestation.chain_id == EMBEDDED_CHAIN_ID:
        # The embedded chain's registry lived and died with the process that attested.
        return advice + (
            f" — the document is from the embedded development chain ({EMBEDDED_CHAIN_ID}), whose "
            "registry cannot be read afterwards"
        )
    if attestation.registry is not None:
        return advice + (
            f", or --registry {attestation.registry.value} with EQUITOKEN_CHAIN_URL set to a node of chain "
            f"{attestation.chain_id}, if that is the issuer's registry"
        )
    return advice
