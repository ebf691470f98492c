"""Stable reason codes for transfer decisions, shared by the off-chain engine and the contracts.

A contract cannot return a string cheaply, so each code has a small number: the ``Compliance``
contract's ``check`` returns it, the token reverts with the code's *name* as its revert string, and
``canTransfer``-style views return the number. The table below is the single source of truth:
``equitoken contracts export`` writes it beside the ABIs, and a test compiles the contracts and checks
that every number they use means the same here. Numbers are never reused or renumbered.
"""

from __future__ import annotations

from enum import IntEnum


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

    @property
    def sentence(self) -> str:
        """Return the human sentence for this reason."""
        return SENTENCES[self]


SENTENCES: dict[Reason, str] = {
    Reason.OK: "allowed",
    Reason.PAUSED: "the token is paused",
    Reason.SENDER_FROZEN: "the sending wallet is frozen",
    Reason.RECIPIENT_FROZEN: "the receiving wallet is frozen",
    Reason.INSUFFICIENT_UNFROZEN_BALANCE: "the amount exceeds the sender's unfrozen balance",
    Reason.SENDER_NOT_VERIFIED: "the sending wallet is not bound to a verified investor",
    Reason.RECIPIENT_NOT_VERIFIED: "the receiving wallet is not bound to a verified investor",
    Reason.SENDER_SANCTIONED: "the sending wallet or its investor is on the sanctions list",
    Reason.RECIPIENT_SANCTIONED: "the receiving wallet or its investor is on the sanctions list",
    Reason.COUNTRY_NOT_ALLOWED: "the receiving investor's country may not hold this token",
    Reason.CATEGORY_NOT_ALLOWED: "the receiving investor's category may not hold this token",
    Reason.HOLDER_LIMIT_REACHED: "the token already has its maximum number of holders",
    Reason.LOCKUP_ACTIVE: "the sender's holding is still in its lockup period",
    Reason.MAX_BALANCE_EXCEEDED: "the receiving investor would exceed the maximum balance",
    Reason.RECIPIENT_NOT_WHITELISTED: "only whitelisted holders may receive this token",
    Reason.KYC_EXPIRED: "the investor's KYC has expired",
    Reason.INSUFFICIENT_BALANCE: "the sender's balance is too small",
    Reason.INSUFFICIENT_ALLOWANCE: "the spender's allowance is too small",
    Reason.ZERO_ADDRESS: "the zero address cannot send or receive",
    Reason.NOT_SAME_INVESTOR: "a recovery must move tokens between wallets of the same investor",
    Reason.FLOWBACK_RESTRICTED: "Reg S flowback: no transfer to a US person during distribution compliance",
    Reason.NOTIONAL_LIMIT_EXCEEDED: "the notional limit for this window would be exceeded",
    Reason.SAME_WALLET: "a forced transfer or recovery must move tokens to another wallet",
}
assert set(SENTENCES) == set(Reason), "every reason needs a sentence"
