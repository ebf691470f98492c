"""``ReservesChain``: the trustee's registry of attestations, read back and checked on chain."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from equitoken.adapters.chain import eip712
from equitoken.adapters.chain.facade._sending import Sending
from equitoken.domain.errors import DomainError
from equitoken.domain.ids import Symbol, WalletAddress
from equitoken.ports.chain import ChainTx, PostedAttestation

KIND = "ReserveRegistry"


def _hash32(value: str, what: str) -> bytes:
    raw = bytes.fromhex(value.removeprefix("0x")) if value.startswith("0x") else b""
    if len(raw) != 32:
        raise DomainError("INVALID_HASH", f"{what} must be 0x followed by 64 hex digits, not {value!r}")
    return raw


@dataclass(frozen=True, slots=True)
class _Registry:
    trustee: bytes


class Reserves(Sending):
    """Deploy the registry once per trustee; post and read attestations; check proofs by the contract."""

    def deploy_reserve_registry(self, trustee: WalletAddress) -> WalletAddress:
        """Deploy a registry whose only publisher is ``trustee`` (a wallet whose key this facade holds)."""
        raw = self._b(trustee)
        self._ensure_funded(raw)
        return self._wallet(self._deploy(KIND, raw, raw))

    def post_attestation(
        self, registry: WalletAddress, symbol: Symbol, as_of_block: int, holders_root: str, document_hash: str
    ) -> ChainTx:
        """Publish an attestation as the registry's trustee (a later one must be as of a later block)."""
        contract = self._b(registry)
        (trustee,) = self._view(KIND, contract, "trustee")
        return self._send_one(
            self._write(
                KIND,
                bytes.fromhex(str(trustee).removeprefix("0x")) if isinstance(trustee, str) else trustee,
                contract,
                "post",
                eip712.symbol_bytes32(symbol.value),
                as_of_block,
                _hash32(holders_root, "the holders root"),
                _hash32(document_hash, "the document hash"),
            )
        )

    def registry_trustee(self, registry: WalletAddress) -> WalletAddress:
        """Return the trustee ``registry`` holds now; a missing contract is refused, never read as zero.

        ``NO_CONTRACT`` when there is no code at ``registry`` (a wrong address, a node reset since the
        deploy), ``CHAIN_BAD_RESPONSE`` when the answer is not one address.
        """
        contract = self._b(registry)
        if not self._backend.code(contract):
            raise DomainError(
                "NO_CONTRACT",
                f"there is no contract at {registry} on chain {self._chain_id}: not a registry of this "
                "chain, or the node was reset since it was deployed",
            )
        try:
            (trustee,) = self._view(KIND, contract, "trustee")
        except DomainError:
            raise
        except Exception as error:  # eth_abi raises several unrelated types for a malformed answer
            raise DomainError(
                "CHAIN_BAD_RESPONSE",
                f"the answer of ReserveRegistry.trustee at {registry} is not an address "
                f"({type(error).__name__})",
            ) from None
        try:
            raw = bytes.fromhex(trustee.removeprefix("0x")) if isinstance(trustee, str) else bytes(trustee)
        except (TypeError, ValueError):
            raw = b""
        if len(raw) != 20:
            raise DomainError("CHAIN_BAD_RESPONSE", f"the trustee of {registry} is not an address")
        return self._wallet(raw)

    def latest_attestation(self, registry: WalletAddress, symbol: Symbol) -> PostedAttestation | None:
        """Return the latest attestation posted for ``symbol`` (``None`` when there is none)."""
        ((block, root, document, posted),) = self._view(
            KIND, self._b(registry), "latest", eip712.symbol_bytes32(symbol.value)
        )
        if int(posted) == 0:
            return None
        return PostedAttestation(symbol, int(block), "0x" + bytes(root).hex(), "0x" + bytes(document).hex())

    def verify_holder_on_chain(
        self, registry: WalletAddress, symbol: Symbol, holder: WalletAddress, units: int, proof: Sequence[str]
    ) -> bool:
        """Ask the registry whether (holder, balance in base units) is in the latest attested root."""
        if units < 0:
            raise DomainError("INVALID_AMOUNT", "a balance cannot be negative")
        siblings = [_hash32(node, "a proof node") for node in proof]
        (answer,) = self._view(
            KIND,
            self._b(registry),
            "verifyHolder",
            eip712.symbol_bytes32(symbol.value),
            self._b(holder),
            units,
            siblings,
        )
        return bool(answer)
