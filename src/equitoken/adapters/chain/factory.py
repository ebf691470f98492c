"""Build the chain facade from configuration: an empty URL is the embedded EVM, else a JSON-RPC node."""

from __future__ import annotations

from equitoken.adapters.chain.embedded import EmbeddedBackend
from equitoken.adapters.chain.facade import ChainFacade
from equitoken.adapters.chain.keys import DeterministicKeyRing
from equitoken.adapters.chain.rpc import RpcBackend
from equitoken.domain.errors import DomainError


def build_chain(url: str, seed: str) -> ChainFacade:
    """Return a ``ChainFacade`` on ``url`` (``""``: a fresh in-process chain) with keys derived from ``seed``.

    On a development node (anvil, Hardhat) the facade funds the wallets it derives; on a real network
    the derived wallets must be funded by their operator before they can send.
    """
    if not seed:
        raise DomainError("INVALID_SETTING", "chain_seed must not be empty")
    keyring = DeterministicKeyRing(seed)
    if not url:
        return ChainFacade(EmbeddedBackend(keyring), keyring)
    return ChainFacade(RpcBackend(url, keyring), keyring)
