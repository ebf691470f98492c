"""The one evaluation point: ``evaluate(policy, action) -> Decision``, pure and deterministic.

Every rule governing the action is checked and *every* violation is returned, sorted in the order the
``Compliance`` contract checks (sanctions, verification and KYC, lockup, country, flowback, category,
whitelist, maximum balance, holder cap; then the off-chain-only notional limits), so the first
violation is the reason the contracts would give. The order of rules in the policy never matters.

Forced transfers follow the contract: the sender's sanctions and verification are not checked (that
is what a forced transfer is for: taking tokens out of a sanctioned, frozen or lost wallet), a lockup
is waived only when the action carries an override reason — recorded in the decision for the log —
and the receiver is always checked for sanctions and verification, whatever the policy says.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import NamedTuple

from equitoken.compliance.actions import Action, ActionKind, Party
from equitoken.compliance.decision import Decision, Override, Violation
from equitoken.compliance.investors import ACCREDITED_CATEGORIES
from equitoken.compliance.kyc import KycState
from equitoken.compliance.policy import Policy
from equitoken.compliance.rules import (
    Categories,
    Countries,
    Flowback,
    HolderCap,
    Lockup,
    MaxBalance,
    NotionalLimit,
    NoUsPersons,
    Rule,
    Sanctions,
    Verified,
    Whitelist,
)
from equitoken.domain.reasons import Reason

SENDER, RECEIVER = "sender", "receiver"

_STAGES: dict[tuple[Reason, str], int] = {
    (Reason.INSUFFICIENT_BALANCE, SENDER): 0,
    (Reason.SENDER_SANCTIONED, SENDER): 1,
    (Reason.RECIPIENT_SANCTIONED, RECEIVER): 2,
    (Reason.SENDER_NOT_VERIFIED, SENDER): 3,
    (Reason.KYC_EXPIRED, SENDER): 4,
    (Reason.RECIPIENT_NOT_VERIFIED, RECEIVER): 5,
    (Reason.KYC_EXPIRED, RECEIVER): 6,
    (Reason.LOCKUP_ACTIVE, SENDER): 7,
    (Reason.COUNTRY_NOT_ALLOWED, RECEIVER): 8,
    (Reason.FLOWBACK_RESTRICTED, RECEIVER): 9,
    (Reason.CATEGORY_NOT_ALLOWED, RECEIVER): 10,
    (Reason.RECIPIENT_NOT_WHITELISTED, RECEIVER): 11,
    (Reason.MAX_BALANCE_EXCEEDED, RECEIVER): 12,
    (Reason.HOLDER_LIMIT_REACHED, RECEIVER): 13,
    (Reason.NOTIONAL_LIMIT_EXCEEDED, SENDER): 14,
    (Reason.NOTIONAL_LIMIT_EXCEEDED, RECEIVER): 14,
}
"""The contract's check order (``Compliance.vy``), extended with the rules only the engine has."""

SENDER_BALANCE = "sender-balance"
"""The token's own precondition (not a policy rule): nobody sends more than its wallet holds. The
contract checks it before any compliance rule, so it comes first here too."""

SAFEGUARDS: tuple[Rule, ...] = (
    Rule(
        "forced-transfer-receiver-not-sanctioned",
        Sanctions(),
        frozenset({ActionKind.FORCED_TRANSFER}),
        "A forced transfer never lands in a sanctioned wallet, whatever the policy says.",
    ),
    Rule(
        "forced-transfer-receiver-verified",
        Verified(),
        frozenset({ActionKind.FORCED_TRANSFER}),
        "A forced transfer never lands in a wallet without a verified, unexpired investor.",
    ),
)
"""Built-in rules added to a forced transfer when the policy has no rule of their kind for it."""


class _Found(NamedTuple):
    stage: int
    violation: Violation


def evaluate(policy: Policy, action: Action) -> Decision:
    """Decide ``action`` under ``policy``: every violation, in a stable order, and any override used."""
    rules = list(policy.rules_for(action.kind))
    if action.kind is ActionKind.FORCED_TRANSFER:
        kinds = {type(rule.params) for rule in rules}
        rules += [guard for guard in SAFEGUARDS if type(guard.params) not in kinds]
    found: list[_Found] = []
    overrides: list[Override] = []
    for rule in rules:
        for hit in _check(rule, action):
            waivable = (
                hit.violation.code is Reason.LOCKUP_ACTIVE and action.kind is ActionKind.FORCED_TRANSFER
            )
            if waivable and action.override_reason:
                overrides.append(Override(hit.violation.code, rule.name, action.override_reason))
            else:
                found.append(hit)
    found += _balance(action)
    found.sort(key=lambda f: (f.stage, f.violation.rule, f.violation.message))
    overrides.sort(key=lambda o: o.rule)
    return Decision.of((f.violation for f in found), overrides)


def _balance(action: Action) -> list[_Found]:
    sender = action.sender
    if sender is None or sender.balance is None or action.shares <= sender.balance:
        return []
    message = (
        f"the {_who(action, SENDER)}'s wallet holds {sender.balance.value}, less than {action.shares.value}"
    )
    return [
        _Found(
            _STAGES[(Reason.INSUFFICIENT_BALANCE, SENDER)],
            Violation(Reason.INSUFFICIENT_BALANCE, SENDER_BALANCE, message),
        )
    ]


def _who(action: Action, side: str) -> str:
    if action.kind is ActionKind.BUY:
        return "buyer"
    if action.kind is ActionKind.REDEEM:
        return "redeeming holder"
    return side


def _sides(action: Action, *, sender: bool, receiver: bool) -> Iterator[tuple[str, Party]]:
    # A forced transfer's sender is exempt from the party checks: moving tokens out of a wallet that
    # cannot send (sanctioned, unverified, lost) is its purpose.
    if sender and action.sender is not None and action.kind is not ActionKind.FORCED_TRANSFER:
        yield SENDER, action.sender
    if receiver and action.receiver is not None:
        yield RECEIVER, action.receiver


def _found(rule: Rule, code: Reason, side: str, message: str) -> _Found:
    return _Found(_STAGES[(code, side)], Violation(code, rule.name, message))


def _check(rule: Rule, action: Action) -> list[_Found]:
    match rule.params:
        case Sanctions():
            return _sanctions(rule, action)
        case Verified():
            return _verified(rule, action)
        case Lockup():
            return _lockup(rule, rule.params, action)
        case NotionalLimit():
            return _notional(rule, rule.params, action)
    if action.receiver is None or not rule.when.matches(action.receiver.profile):
        return []
    message = _receiver_rule(rule, action, action.receiver)
    if message is None:
        return []
    return [_found(rule, rule.kind.codes[0], RECEIVER, message)]


def _sanctions(rule: Rule, action: Action) -> list[_Found]:
    out = []
    for side, party in _sides(action, sender=True, receiver=True):
        if party.sanctioned and rule.when.matches(party.profile):
            code = Reason.SENDER_SANCTIONED if side == SENDER else Reason.RECIPIENT_SANCTIONED
            out.append(
                _found(rule, code, side, f"the {_who(action, side)}'s wallet or investor is sanctioned")
            )
    return out


def _verified(rule: Rule, action: Action) -> list[_Found]:
    out = []
    for side, party in _sides(action, sender=True, receiver=True):
        if not rule.when.matches(party.profile):
            continue
        who = _who(action, side)
        missing = Reason.SENDER_NOT_VERIFIED if side == SENDER else Reason.RECIPIENT_NOT_VERIFIED
        if party.profile is None:
            out.append(_found(rule, missing, side, f"the {who}'s wallet is bound to no investor"))
            continue
        kyc = party.profile.kyc
        state = kyc.effective(action.at)
        if state is KycState.EXPIRED:
            out.append(_found(rule, Reason.KYC_EXPIRED, side, f"the {who}'s KYC expired on {kyc.expires}"))
        elif state is not KycState.VERIFIED:
            out.append(_found(rule, missing, side, f"the {who}'s KYC is {state}, not verified"))
    return out


def add_months(moment: datetime, months: int) -> datetime:
    """Return ``moment`` moved ``months`` calendar months on (the 31st becomes the month's last day)."""
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    return moment.replace(year=year, month=month, day=min(moment.day, calendar.monthrange(year, month)[1]))


def _lockup(rule: Rule, params: Lockup, action: Action) -> list[_Found]:
    sender = action.sender
    if sender is None or sender.holding is None or action.same_investor:
        return []
    if not rule.when.matches(sender.profile) or sender.holding.regulation not in params.regulations:
        return []
    holding = sender.holding
    until = add_months(holding.acquired_at, params.months)
    if action.at >= until:
        return []
    message = (
        f"the {_who(action, SENDER)}'s {holding.regulation} holding acquired {holding.acquired_at.date()} "
        f"is locked up until {until.date()}"
    )
    return [_found(rule, Reason.LOCKUP_ACTIVE, SENDER, message)]


def _notional(rule: Rule, params: NotionalLimit, action: Action) -> list[_Found]:
    side = RECEIVER if action.receiver is not None else SENDER
    party = action.receiver or action.sender
    if party is None or not rule.when.matches(party.profile):
        return []
    code = Reason.NOTIONAL_LIMIT_EXCEEDED
    if action.notional is None:
        return [_found(rule, code, side, "the order's notional is unknown, so its limit cannot be checked")]
    out = []
    if params.max_per_order is not None and action.notional > params.max_per_order:
        out.append(
            _found(
                rule,
                code,
                side,
                f"the order's {action.notional} exceeds the {params.max_per_order} per-order limit",
            )
        )
    if params.max_per_window is not None:
        total = action.context.notional_used_in_window + action.notional
        if total > params.max_per_window:
            hours = int((params.window or timedelta()).total_seconds() // 3600)
            out.append(
                _found(
                    rule,
                    code,
                    side,
                    f"{total} in {hours} h would exceed the {params.max_per_window} window limit",
                )
            )
    return out


def _receiver_rule(rule: Rule, action: Action, party: Party) -> str | None:
    """Return why ``party`` fails a receiver-side rule, or ``None`` if it passes."""
    who = _who(action, RECEIVER)
    profile = party.profile
    unknown = f"the {who}'s wallet is bound to no investor, so its"
    match rule.params:
        case NoUsPersons():
            if profile is None:
                return f"{unknown} US-person status is unknown"
            return f"the {who} is a US person, and US persons are excluded" if profile.us_person else None
        case Countries(allow=allow, deny=deny):
            if profile is None:
                return f"{unknown} country is unknown"
            where = f"{profile.country.alpha2} ({profile.country.name})"
            if profile.country.alpha2 in deny:
                return f"the {who}'s country {where} is on the deny-list"
            if allow is not None and profile.country.alpha2 not in allow:
                return f"the {who}'s country {where} is not on the allow-list"
            return None
        case Categories(allow=allow):
            if profile is None:
                return f"{unknown} category is unknown"
            if profile.category in allow:
                return None
            names = ", ".join(sorted(c.value for c in allow))
            return f"the {who} is {profile.category.value}; allowed: {names}"
        case Whitelist():
            return None if party.whitelisted else f"the {who} is not on the holder whitelist"
        case Flowback():
            return _flowback(rule.params, action, who)
        case MaxBalance(max_shares=cap):
            if action.same_investor:
                return None
            after = party.holds + action.shares
            return (
                f"the {who} would hold {after.value} shares, above the {cap.value} cap"
                if after > cap
                else None
            )
        case HolderCap():
            return _holder_cap(rule.params, action, party, who)
    return None  # pragma: no cover - every receiver-side kind is matched above


def _flowback(params: Flowback, action: Action, who: str) -> str | None:
    sender, receiver = action.sender, action.receiver
    if sender is None or receiver is None or sender.holding is None:
        return None
    holding = sender.holding
    if holding.regulation not in params.regulations:
        return None
    until = holding.acquired_at + timedelta(days=params.days)
    if action.at >= until:
        return None
    if receiver.profile is not None and not receiver.profile.us_person:
        return None
    status = "is a US person" if receiver.profile is not None else "may be a US person (bound to no investor)"
    return (
        f"the {who} {status}; the {holding.regulation} holding acquired {holding.acquired_at.date()} "
        f"is in its distribution compliance period until {until.date()}"
    )


def _holder_cap(params: HolderCap, action: Action, party: Party, who: str) -> str | None:
    if action.same_investor or not party.holds.is_zero():
        return None  # not a new holder
    ctx, sender = action.context, action.sender
    leaving = sender is not None and sender.holds == action.shares
    holders = ctx.holder_count - (1 if leaving and ctx.holder_count else 0)
    if holders >= params.max_holders:
        return f"the {who} would be holder {holders + 1}, beyond the cap of {params.max_holders}"
    if params.max_non_accredited is None or _accredited(party):
        return None
    sender_counted = leaving and sender is not None and not _accredited(sender)
    others = ctx.non_accredited_holder_count - (
        1 if sender_counted and ctx.non_accredited_holder_count else 0
    )
    if others >= params.max_non_accredited:
        return (
            f"the {who} would be non-accredited holder {others + 1}, "
            f"beyond the cap of {params.max_non_accredited}"
        )
    return None


def _accredited(party: Party) -> bool:
    return party.profile is not None and party.profile.category in ACCREDITED_CATEGORIES
