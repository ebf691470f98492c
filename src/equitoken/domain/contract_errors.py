"""Stable codes for contract errors that are not transfer rules: the second, and last, revert vocabulary.

Rule refusals revert with a reason NAME from ``domain.reasons``; every other failed assertion in a
contract (a missing role, an expired or replayed quote, pool slippage, a malformed schedule…) reverts
with one of these codes. A test scans every contract and fails on any revert string found in neither
catalogue, so a contract can never again answer in free text. The sentence names the contract that
refuses; codes are never reused for another meaning.
"""

from __future__ import annotations

from typing import Final

from equitoken.domain.catalogue import CATALOGUE, CONTRACT_ERROR_CODES

CONTRACT_ERRORS: Final[dict[str, str]] = {
    code: CATALOGUE[code].sentence for code in sorted(CONTRACT_ERROR_CODES)
}
"""Code → sentence, for every non-rule revert of the contracts (the entries live in ``domain.catalogue``)."""
