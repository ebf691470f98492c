"""Chain adapters: Vyper contracts, an in-process EVM and any JSON-RPC node behind one facade."""
