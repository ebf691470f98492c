"""Which chain is which: the embedded development chain's own id, and the public development seed.

The embedded EVM lives and dies with one process, so nothing it holds (a registry, a posted root) can
be looked up afterwards. It therefore takes a chain id of its own, distinct from the ids development
nodes default to (anvil and Hardhat 31337, Ganache and ``geth --dev`` 1337): a document or a signature
made on the embedded chain can never pass for one made on a node the user runs, and the other way round.
"""

from __future__ import annotations

from typing import Final

EMBEDDED_CHAIN_ID: Final = 0x4551544B
"""1162957899, ``"EQTK"`` in ASCII: the embedded development chain (not a public network's id we know of)."""

DEVELOPMENT_NODE_CHAIN_IDS: Final = {31337: "anvil / Hardhat", 1337: "Ganache / geth --dev"}
"""The ids development nodes use by default: the embedded chain must never share one of them."""

DEVELOPMENT_SEED: Final = "equitoken-dev"
"""The default ``chain_seed``. It is published with the source, so every key derived from it is public:
fit for the embedded development chain, never for signing anything another chain could act on."""

TRUSTEE_LABEL: Final = "trustee"
"""The key-ring label of the development trustee (its key is derived from the seed and this label)."""
