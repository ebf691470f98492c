# pragma version ~=0.4.3
"""
@title Reason codes
@custom:contract-name reasons
@license Apache-2.0
@author equitoken contributors
@notice The stable reason codes of equitoken's transfer decisions, as compile-time constants, and the
        one place that turns a code into the revert string carrying its NAME.
@dev A stateless module: import it (no `initializes:` needed) and use `reasons.PAUSED` etc.
     `ZERO_ADDRESS` is a reserved name in Vyper, so that one constant is spelled `ZERO_ADDR`; its revert
     string is still "ZERO_ADDRESS". The numbers
     MUST equal `equitoken.domain.reasons.Reason`; `tests/contracts/test_reasons.py` parses this file and
     checks every constant, and every `raise "..."` in every contract, against that table. Numbers are
     never reused or renumbered.
"""

OK: constant(uint8) = 0
PAUSED: constant(uint8) = 1
SENDER_FROZEN: constant(uint8) = 2
RECIPIENT_FROZEN: constant(uint8) = 3
INSUFFICIENT_UNFROZEN_BALANCE: constant(uint8) = 4
SENDER_NOT_VERIFIED: constant(uint8) = 5
RECIPIENT_NOT_VERIFIED: constant(uint8) = 6
SENDER_SANCTIONED: constant(uint8) = 7
RECIPIENT_SANCTIONED: constant(uint8) = 8
COUNTRY_NOT_ALLOWED: constant(uint8) = 9
CATEGORY_NOT_ALLOWED: constant(uint8) = 10
HOLDER_LIMIT_REACHED: constant(uint8) = 11
LOCKUP_ACTIVE: constant(uint8) = 12
MAX_BALANCE_EXCEEDED: constant(uint8) = 13
RECIPIENT_NOT_WHITELISTED: constant(uint8) = 14
KYC_EXPIRED: constant(uint8) = 15
INSUFFICIENT_BALANCE: constant(uint8) = 16
INSUFFICIENT_ALLOWANCE: constant(uint8) = 17
ZERO_ADDR: constant(uint8) = 18
NOT_SAME_INVESTOR: constant(uint8) = 19
FLOWBACK_RESTRICTED: constant(uint8) = 20
NOTIONAL_LIMIT_EXCEEDED: constant(uint8) = 21
SAME_WALLET: constant(uint8) = 22
RESERVES_STALE: constant(uint8) = 23
RESERVES_INSUFFICIENT: constant(uint8) = 24


@internal
@pure
def _raise(code: uint8):
    """
    @notice Revert with the NAME of reason `code` as the `Error(string)` message.
    @dev Only ever called on the failure path, so the chain of comparisons costs nothing on success.
         An unknown non-zero code reverts with "UNKNOWN_REASON" (fail closed); code 0 returns.
    @param code The reason number (0 = OK: no revert).
    """
    if code == OK:
        return
    if code == PAUSED:
        raise "PAUSED"
    if code == SENDER_FROZEN:
        raise "SENDER_FROZEN"
    if code == RECIPIENT_FROZEN:
        raise "RECIPIENT_FROZEN"
    if code == INSUFFICIENT_UNFROZEN_BALANCE:
        raise "INSUFFICIENT_UNFROZEN_BALANCE"
    if code == SENDER_NOT_VERIFIED:
        raise "SENDER_NOT_VERIFIED"
    if code == RECIPIENT_NOT_VERIFIED:
        raise "RECIPIENT_NOT_VERIFIED"
    if code == SENDER_SANCTIONED:
        raise "SENDER_SANCTIONED"
    if code == RECIPIENT_SANCTIONED:
        raise "RECIPIENT_SANCTIONED"
    if code == COUNTRY_NOT_ALLOWED:
        raise "COUNTRY_NOT_ALLOWED"
    if code == CATEGORY_NOT_ALLOWED:
        raise "CATEGORY_NOT_ALLOWED"
    if code == HOLDER_LIMIT_REACHED:
        raise "HOLDER_LIMIT_REACHED"
    if code == LOCKUP_ACTIVE:
        raise "LOCKUP_ACTIVE"
    if code == MAX_BALANCE_EXCEEDED:
        raise "MAX_BALANCE_EXCEEDED"
    if code == RECIPIENT_NOT_WHITELISTED:
        raise "RECIPIENT_NOT_WHITELISTED"
    if code == KYC_EXPIRED:
        raise "KYC_EXPIRED"
    if code == INSUFFICIENT_BALANCE:
        raise "INSUFFICIENT_BALANCE"
    if code == INSUFFICIENT_ALLOWANCE:
        raise "INSUFFICIENT_ALLOWANCE"
    if code == ZERO_ADDR:
        raise "ZERO_ADDRESS"
    if code == NOT_SAME_INVESTOR:
        raise "NOT_SAME_INVESTOR"
    if code == FLOWBACK_RESTRICTED:
        raise "FLOWBACK_RESTRICTED"
    if code == NOTIONAL_LIMIT_EXCEEDED:
        raise "NOTIONAL_LIMIT_EXCEEDED"
    if code == SAME_WALLET:
        raise "SAME_WALLET"
    if code == RESERVES_STALE:
        raise "RESERVES_STALE"
    if code == RESERVES_INSUFFICIENT:
        raise "RESERVES_INSUFFICIENT"
    raise "UNKNOWN_REASON"
