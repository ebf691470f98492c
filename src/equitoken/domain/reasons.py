"""Stable reason codes for transfer decisions, shared by the off-chain engine and the contracts.

A contract cannot return a string cheaply, so each code has a small number: the ``Compliance``
contract's ``check`` returns it, the token reverts with the code's *name* as its revert string, and
``canTransfer``-style views return the number. The table below is the single source of truth:
``equitoken contracts export`` writes it beside the ABIs, and a test compiles the contracts and checks
that every number they use means the same here. Numbers are never reused or renumbered. The
sentence of each is its entry in ``domain.catalogue``.
"""

from __future__ import annotations

from enum import IntEnum

from equitoken.domain.catalogue import sentence


class Reason(IntEnum):
    """Why a mint, burn or transfer is refused (``OK``: it is not)."""

    OK = 0
    PAUSED = 1
    SENDER_FROZEN = 2
    RECIPIENT_FROZEN = 3
    INSUFFICIENT_UNFROZEN_BALANCE = 4
    SENDER_NOT_VERIFIED = 5
    RECIPIENT_NOT_VERIFIED = 6
    SENDER_SANCTIONED = 7
    RECIPIENT_SANCTIONED = 8
    COUNTRY_NOT_ALLOWED = 9
    CATEGORY_NOT_ALLOWED = 10
    HOLDER_LIMIT_REACHED = 11
    LOCKUP_ACTIVE = 12
    MAX_BALANCE_EXCEEDED = 13
    RECIPIENT_NOT_WHITELISTED = 14
    KYC_EXPIRED = 15
    INSUFFICIENT_BALANCE = 16
    INSUFFICIENT_ALLOWANCE = 17
    ZERO_ADDRESS = 18
    NOT_SAME_INVESTOR = 19
    FLOWBACK_RESTRICTED = 20
    NOTIONAL_LIMIT_EXCEEDED = 21
    SAME_WALLET = 22
    RESERVES_STALE = 23
    RESERVES_INSUFFICIENT = 24

    @property
    def sentence(self) -> str:
        """Return the human sentence for this reason."""
        return SENTENCES[self]


SENTENCES: dict[Reason, str] = {Reason.OK: "allowed"} | {
    reason: sentence(reason.name) for reason in Reason if reason is not Reason.OK
}
"""Reason → sentence; the sentences (and kinds) live in ``domain.catalogue`` with every other code."""
