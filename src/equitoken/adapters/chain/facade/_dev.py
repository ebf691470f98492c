"""``DevChain`` over a ``DevBackend``: snapshots, reverts, moving time and funding on development chains."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from equitoken.adapters.chain.backend import DevBackend, EvmBackend, RawCall
from equitoken.adapters.chain.facade._codec import DEV_FUNDING, from_seconds, to_seconds
from equitoken.domain.ids import WalletAddress

if TYPE_CHECKING:
    from equitoken.adapters.chain.facade._state import ChainState


class DevControls:
    """``DevChain`` over a ``DevBackend``: snapshots, reverts and moving time."""

    def __init__(self, facade: ChainState, backend: DevBackend) -> None:
        self._facade = facade
        self._backend = backend

    def snapshot(self) -> int:
        """Record the chain's whole state and return an id."""
        return self._backend.snapshot()

    def revert(self, snapshot_id: int) -> None:
        """Return to a recorded state (wallets funded since then are funded again on next use)."""
        self._backend.revert(snapshot_id)
        self._facade.forget_funding()

    def set_next_block_time(self, moment: datetime) -> None:
        """Make the next block carry ``moment`` (never earlier than the latest block)."""
        self._backend.set_next_timestamp(to_seconds(moment))

    def mine(self) -> None:
        """Seal a block now (a node mines an empty one; the embedded chain a no-op self-call)."""
        mine = getattr(self._backend, "mine", None)
        if callable(mine):
            mine()
            return
        sender = self._facade.platform_wallet_bytes()
        self._backend.send([RawCall(sender, sender, b"", 0, 21_000)])

    def fund(self, wallet: WalletAddress, wei: int = DEV_FUNDING) -> None:
        """Give ``wallet`` native balance for gas."""
        self._backend.fund(wallet.to_bytes(), wei)

    def time(self) -> datetime:
        """Return the latest block's time."""
        return from_seconds(self._backend.timestamp())


def supports_dev(backend: EvmBackend) -> bool:
    """Tell whether ``backend`` can snapshot, revert, move time and fund (a ``DevBackend``)."""
    flag = getattr(backend, "supports_dev", None)
    if flag is not None:
        return bool(flag)
    return all(
        callable(getattr(backend, m, None)) for m in ("snapshot", "revert", "set_next_timestamp", "fund")
    )
