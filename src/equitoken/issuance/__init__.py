"""Issuance: the three architectures (inventory, instant execution, direct ownership) behind one protocol."""
