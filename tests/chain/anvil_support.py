"""Anvil for the chain tests: find the binary or skip (fail under CI), and hand out clean backends.

One node serves the whole session (per xdist worker): a new node costs ~50 ms, a snapshot ~0.1 ms. Each
test gets its own ``RpcBackend`` that takes a snapshot when it is made and reverts to it on ``close``,
so tests never see each other's state. ``stop_shared_node`` (a session finalizer in ``conftest.py``)
stops the node by its process id; ``AnvilNode``'s exit hook and parent-death signal are the backstops.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from equitoken.adapters.chain.anvil import AnvilNode, find_anvil
from equitoken.adapters.chain.backend import KeyRing
from equitoken.adapters.chain.rpc import DEFAULT_BATCH, RpcBackend
from equitoken.domain.errors import DomainError
from tests.conftest import service_missing

FUNDING = 10**24
"""Native balance (wei) given to every key of a test key ring: plenty for gas at any batch size."""

_shared: AnvilNode | None = None


def anvil_binary() -> Path:
    """Return the anvil binary, or skip the calling test (fail it under CI=true)."""
    try:
        return find_anvil()
    except DomainError as missing:
        service_missing("anvil", f"{missing.message} Run scripts/install-anvil.sh.")
        raise  # unreachable: service_missing skips or fails


def shared_node() -> AnvilNode:
    """Return the session's node, starting it on first use."""
    global _shared
    if _shared is None or not _shared.running:
        _shared = AnvilNode(binary=anvil_binary()).start()
    return _shared


def stop_shared_node() -> None:
    """Stop the session's node if one was started."""
    global _shared
    if _shared is not None:
        _shared.stop()
        _shared = None


class IsolatedRpcBackend(RpcBackend):
    """An ``RpcBackend`` that undoes everything done through it when it is closed."""

    def __init__(self, node: AnvilNode, keyring: KeyRing, *, batch_size: int = DEFAULT_BATCH) -> None:
        super().__init__(node.url, keyring, chain_id=node.chain_id, batch_size=batch_size)
        self._base = self.snapshot()
        for address in keyring.addresses():
            self.fund(address, FUNDING)

    def close(self) -> None:
        """Revert the node to the state this backend found, then close the connection."""
        if not self._closed:
            self.revert(self._base)
        super().close()


def anvil_engine(keyring: KeyRing) -> RpcBackend:
    """Return a backend on the session's node with ``keyring`` funded (the ``anvil`` engine)."""
    return IsolatedRpcBackend(shared_node(), keyring)


def node_fixture() -> Iterator[AnvilNode]:
    """Yield a private node and stop it afterwards (the body of a fixture)."""
    node = AnvilNode(binary=anvil_binary()).start()
    try:
        yield node
    finally:
        node.stop()
