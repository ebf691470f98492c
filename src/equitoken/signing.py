"""``eth_account``'s ``Account`` and ``encode_defunct``, imported without its side effect on the process.

``eth_account`` imports ``py_ecc``, which raises the process's recursion limit to 100,000 on import.
Under it a JSON document nested 100,000 deep — a request body, an onboarding file — overflows the C
stack in the parser and kills the process with SIGSEGV, where it must be refused as bad input. Nothing
equitoken does with it needs the deeper limit, so the limit is put back. Import them from here (outside
the pure core, which signs nothing).
"""

from __future__ import annotations

import sys

_limit = sys.getrecursionlimit()
from eth_account import Account  # noqa: E402  (the imports must sit between reading and restoring)
from eth_account.messages import encode_defunct  # noqa: E402

sys.setrecursionlimit(_limit)

__all__ = ["Account", "encode_defunct"]
