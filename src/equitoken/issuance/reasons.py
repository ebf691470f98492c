"""Reason codes of the order desk that never reach the chain.

``domain.reasons.Reason`` is numbered in step with the contracts, so risk and lifecycle refusals that
only the off-chain desk gives live here, as plain text codes carried by ``DomainError`` and
``OrderRejected``. Where a chain reason already says it (``NOTIONAL_LIMIT_EXCEEDED``), its name is
reused, so one code means one thing everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from equitoken.domain.reasons import Reason


class OrderReason(StrEnum):
    """Why the desk refuses a request, a transition or a fill."""

    STALE_PRICE = "STALE_PRICE"
    PRICE_OUTSIDE_BAND = "PRICE_OUTSIDE_BAND"
    NOTIONAL_LIMIT_EXCEEDED = Reason.NOTIONAL_LIMIT_EXCEEDED.name
    SYMBOL_MISMATCH = "SYMBOL_MISMATCH"
    ORDER_EXPIRED = "ORDER_EXPIRED"
    QUOTE_EXPIRED = "QUOTE_EXPIRED"
    IDEMPOTENCY_CONFLICT = "IDEMPOTENCY_CONFLICT"
    ILLEGAL_TRANSITION = "ILLEGAL_TRANSITION"
    OVERFILL = "OVERFILL"
    DUPLICATE_FILL = "DUPLICATE_FILL"
    FILL_THROUGH_LIMIT = "FILL_THROUGH_LIMIT"
    INVALID_ORDER = "INVALID_ORDER"
    UNKNOWN_ORDER = "UNKNOWN_ORDER"
    FEE_EXCEEDS_PROCEEDS = "FEE_EXCEEDS_PROCEEDS"
    NOTIONAL_WITH_FIXED_FEE = "NOTIONAL_WITH_FIXED_FEE"


@dataclass(frozen=True, slots=True)
class Refusal:
    """A refusal as data (what goes into ``OrderRejected``): a stable code and a sentence."""

    code: str
    message: str
