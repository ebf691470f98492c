"""What a node can do beyond the standard methods (dev methods, mining mode), probed once."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from equitoken.adapters.chain.anvil import Mining
from equitoken.adapters.chain.rpc.transport import JsonRpcTransport


@dataclass(frozen=True, slots=True)
class NodeCapabilities:
    """What the node behind the URL can do beyond the standard methods."""

    client: str
    dev: bool
    """Snapshots, reverts, time travel and balance setting (anvil or Hardhat)."""
    dev_prefix: str
    """``anvil`` or ``hardhat``: the namespace of the node-specific methods."""
    mining: Mining | Literal["network"]
    """``manual``: we mine with ``evm_mine``; ``auto``: the node mines each transaction; ``network``: a real
    chain mines on its own schedule and we poll for receipts."""


def probe_capabilities(transport: JsonRpcTransport) -> NodeCapabilities:
    """Ask the node behind ``transport`` who it is and whether (and how) it mines on demand."""
    client, anvil_auto, hardhat_auto = transport.batch(
        [("web3_clientVersion", []), ("anvil_getAutomine", []), ("hardhat_getAutomine", [])]
    )
    name = client if isinstance(client, str) else "unknown"
    for prefix, automine in (("anvil", anvil_auto), ("hardhat", hardhat_auto)):
        if isinstance(automine, bool):
            return NodeCapabilities(name, True, prefix, "auto" if automine else "manual")
    return NodeCapabilities(name, False, "", "network")
