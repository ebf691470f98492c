"""What-if cases for compliance officers: hypothetical actions as JSON data, evaluated without state.

The file (``equitoken compliance evaluate CASES.json``)::

    {"cases": [{"id": "c1", "policy": "direct-ownership", "action": "transfer",
                "at": "2026-12-01T15:00:00Z", "shares": "10",
                "from": {PROFILE}, "to": {PROFILE}}]}

- ``action``: ``buy`` / ``redeem`` (with ``investor``), ``transfer`` / ``forced_transfer`` (with ``from``
  and ``to``), ``mint`` (with ``to``), ``burn`` (with ``from``);
- ``at``: an ISO-8601 instant with a zone; ``shares``: a positive decimal string;
- optional: ``notional`` (decimal string, USD; required where a notional limit applies),
  ``override_reason`` (forced transfers), ``context``: ``holder_count``, ``non_accredited_holder_count``,
  ``notional_used_in_window`` (decimal string);
- PROFILE: ``country`` (ISO 3166 alpha-2), ``us_person``, ``category``, ``kyc`` (``state``, and
  ``expires`` as an ISO date when verified), and optionally ``sanctioned`` (default false),
  ``whitelisted`` (default false), ``holds`` (shares held before, default 0), ``investor_id`` (to mark two
  wallets of one investor), ``holding`` (``acquired_at`` date or instant, ``regulation`` reg_d|reg_s|none).
  ``{"bound": false}`` describes a wallet bound to no investor (``sanctioned`` may still be given).

A malformed case is refused naming the case id and the field.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from equitoken.compliance.actions import Action, ActionKind, Context, Holding, Party, Profile, Regulation
from equitoken.compliance.countries import country
from equitoken.compliance.decision import Decision
from equitoken.compliance.engine import evaluate
from equitoken.compliance.investors import category
from equitoken.compliance.kyc import Kyc, KycState
from equitoken.compliance.policy import Policy
from equitoken.compliance.rules import NotionalLimit
from equitoken.domain.errors import DomainError
from equitoken.domain.ids import InvestorId
from equitoken.domain.values import Money, Shares

_CASE = {
    "id",
    "policy",
    "action",
    "at",
    "shares",
    "investor",
    "from",
    "to",
    "notional",
    "override_reason",
    "context",
}
_PROFILE = {
    "bound",
    "country",
    "us_person",
    "category",
    "kyc",
    "sanctioned",
    "whitelisted",
    "holds",
    "investor_id",
    "holding",
}
_CONTEXT = {"holder_count", "non_accredited_holder_count", "notional_used_in_window"}
_PARTIES: dict[ActionKind, tuple[str | None, str | None]] = {
    ActionKind.BUY: (None, "investor"),
    ActionKind.REDEEM: ("investor", None),
    ActionKind.TRANSFER: ("from", "to"),
    ActionKind.FORCED_TRANSFER: ("from", "to"),
    ActionKind.MINT: (None, "to"),
    ActionKind.BURN: ("from", None),
}


@dataclass(frozen=True, slots=True)
class Case:
    """One hypothetical action under a named policy."""

    id: str
    policy: Policy
    action: Action


@dataclass(frozen=True, slots=True)
class CaseResult:
    """A case and its decision."""

    case: Case
    decision: Decision

    def as_dict(self) -> dict[str, Any]:
        """Return ``{"id", "allowed", "violations", "overrides"}``."""
        return {"id": self.case.id, **self.decision.as_dict()}


_KINDS: dict[type, str] = {str: "a string", bool: "true or false", int: "an integer"}


class _Fields:
    """Read one case's fields, refusing with the case id and the field's path."""

    def __init__(self, case_id: str) -> None:
        self.case_id = case_id

    def fail(self, field: str, why: str) -> DomainError:
        return DomainError("INVALID_CASES", f"case {self.case_id}, field {field}: {why}")

    def table(self, value: object, field: str, allowed: set[str]) -> Mapping[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(field, "expected an object")
        for key in sorted(set(value) - allowed):
            raise self.fail(f"{field}.{key}" if field else key, "unknown field")
        return value

    def need(self, data: Mapping[str, Any], key: str, prefix: str) -> Any:
        if key not in data:
            raise self.fail(prefix + key, "missing")
        return data[key]

    def typed(self, data: Mapping[str, Any], key: str, prefix: str, kind: type, default: Any = ...) -> Any:
        if key not in data:
            if default is ...:
                raise self.fail(prefix + key, "missing")
            return default
        value = data[key]
        if isinstance(value, bool) != (kind is bool) or not isinstance(value, kind):
            raise self.fail(prefix + key, f"expected {_KINDS[kind]}, got {value!r}")
        return value

    def convert(self, field: str, make: Any, value: object) -> Any:
        try:
            return make(value)
        except DomainError as error:
            raise self.fail(field, error.message) from None
        except (ValueError, TypeError):
            raise self.fail(field, f"{value!r} is not valid") from None


def _instant(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("z", "Z"))
    if moment.tzinfo is None:
        raise DomainError("NAIVE_DATETIME", f"{text!r} has no time zone; add Z or an offset")
    return moment


def _day_or_instant(text: str) -> datetime:
    if len(text) == 10:
        return datetime.combine(date.fromisoformat(text), datetime.min.time(), tzinfo=UTC)
    return _instant(text)


def parse_cases(data: object, policies: Mapping[str, Policy]) -> tuple[Case, ...]:
    """Return the cases of a decoded what-if file, or refuse the first malformed one."""
    if not isinstance(data, dict) or set(data) != {"cases"} or not isinstance(data["cases"], list):
        raise DomainError("INVALID_CASES", 'field cases: expected {"cases": [...]} and nothing else')
    cases: list[Case] = []
    seen: set[str] = set()
    for number, raw in enumerate(data["cases"], start=1):
        case_id = raw.get("id") if isinstance(raw, dict) else None
        if not isinstance(case_id, str) or not case_id.strip():
            raise DomainError("INVALID_CASES", f"case #{number}, field id: missing (a non-empty string)")
        fields = _Fields(case_id)
        if case_id in seen:
            raise fields.fail("id", "used by an earlier case")
        seen.add(case_id)
        cases.append(_case(fields, fields.table(raw, "", _CASE), policies))
    return tuple(cases)


def _case(f: _Fields, raw: Mapping[str, Any], policies: Mapping[str, Policy]) -> Case:
    policy_name = f.typed(raw, "policy", "", str)
    policy = policies.get(policy_name)
    if policy is None:
        raise f.fail("policy", f"{policy_name!r} is not a shipped policy ({', '.join(sorted(policies))})")
    kind = f.convert("action", ActionKind, f.typed(raw, "action", "", str))
    at = f.convert("at", _instant, f.typed(raw, "at", "", str))
    shares = f.convert("shares", Shares, f.typed(raw, "shares", "", str))
    if shares.is_zero():
        raise f.fail("shares", "must be positive")
    sender_key, receiver_key = _PARTIES[kind]
    for key in ("investor", "from", "to"):
        if key in raw and key not in (sender_key, receiver_key):
            raise f.fail(
                key,
                f"not part of a {kind} (it takes {' and '.join(k for k in (sender_key, receiver_key) if k)})",
            )
    sender = None if sender_key is None else _party(f, f.need(raw, sender_key, ""), sender_key)
    receiver = None if receiver_key is None else _party(f, f.need(raw, receiver_key, ""), receiver_key)
    notional = None
    if "notional" in raw:
        notional = f.convert("notional", Money, f.typed(raw, "notional", "", str))
        if notional.amount < 0:
            raise f.fail("notional", "must not be negative (it is the order's cash value)")
    else:
        for rule in policy.rules_for(kind):
            if isinstance(rule.params, NotionalLimit):
                raise f.fail("notional", f"missing, and required by rule {rule.name} of policy {policy.name}")
    override = f.typed(raw, "override_reason", "", str, "")
    if override and kind is not ActionKind.FORCED_TRANSFER:
        raise f.fail("override_reason", "only a forced transfer may carry an override reason")
    context = _context(f, raw["context"]) if "context" in raw else Context()
    action = f.convert(
        "action", lambda _: Action(kind, at, shares, sender, receiver, notional, override, context), kind
    )
    return Case(f.case_id, policy, action)


def _context(f: _Fields, raw: object) -> Context:
    data = f.table(raw, "context", _CONTEXT)
    counts = [
        f.typed(data, key, "context.", int, 0) for key in ("holder_count", "non_accredited_holder_count")
    ]
    used_text = f.typed(data, "notional_used_in_window", "context.", str, "0")
    used = f.convert("context.notional_used_in_window", Money, used_text)
    context: Context = f.convert("context", lambda _: Context(counts[0], counts[1], used), None)
    return context


def _party(f: _Fields, raw: object, name: str) -> Party:
    data = f.table(raw, name, _PROFILE)
    p = name + "."
    bound = f.typed(data, "bound", p, bool, True)
    sanctioned = f.typed(data, "sanctioned", p, bool, False)
    whitelisted = f.typed(data, "whitelisted", p, bool, False)
    holds = f.convert(p + "holds", Shares, f.typed(data, "holds", p, str, "0"))
    holding = _holding(f, data["holding"], p + "holding") if "holding" in data else None
    if not bound:
        extra = sorted(set(data) & {"country", "us_person", "category", "kyc", "investor_id"})
        if extra:
            raise f.fail(p + extra[0], "a wallet bound to no investor has no investor profile")
        return Party(None, sanctioned, whitelisted, holding, holds)
    investor_id = None
    if "investor_id" in data:
        investor_id = f.convert(p + "investor_id", InvestorId, f.typed(data, "investor_id", p, str))
    profile = Profile(
        f.convert(p + "country", country, f.typed(data, "country", p, str)),
        f.typed(data, "us_person", p, bool),
        f.convert(p + "category", category, f.typed(data, "category", p, str)),
        _kyc(f, f.need(data, "kyc", p), p + "kyc"),
        investor_id,
    )
    return Party(profile, sanctioned, whitelisted, holding, holds)


def _kyc(f: _Fields, raw: object, field: str) -> Kyc:
    data = f.table(raw, field, {"state", "expires"})
    p = field + "."
    state = f.convert(p + "state", KycState, f.typed(data, "state", p, str))
    expires = None
    if "expires" in data:
        expires = f.convert(p + "expires", date.fromisoformat, f.typed(data, "expires", p, str))
    if state is KycState.VERIFIED and expires is None:
        raise f.fail(p + "expires", "missing (a verified KYC has an expiry date)")
    return Kyc(state, expires)


def _holding(f: _Fields, raw: object, field: str) -> Holding:
    data = f.table(raw, field, {"acquired_at", "regulation"})
    p = field + "."
    acquired = f.convert(p + "acquired_at", _day_or_instant, f.typed(data, "acquired_at", p, str))
    regulation = f.convert(p + "regulation", Regulation, f.typed(data, "regulation", p, str, "none"))
    return Holding(acquired, regulation)


def evaluate_cases(cases: tuple[Case, ...]) -> list[CaseResult]:
    """Evaluate every case on its own (no state carries from one to the next)."""
    return [CaseResult(case, evaluate(case.policy, case.action)) for case in cases]
