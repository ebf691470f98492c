"""The rule vocabulary policies are written in: each kind, its parameters, its reason codes, its scope.

A rule is data — a name, a kind with parameters, the actions it governs, an optional condition on the
party it checks, and a sentence for people. What each kind *does* lives in ``engine``; what each kind
*may* govern lives here, so the policy loader refuses a rule that could never apply.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from equitoken.compliance.actions import ActionKind, Profile, Regulation
from equitoken.compliance.investors import InvestorCategory
from equitoken.domain.reasons import Reason
from equitoken.domain.values import Money, Shares

A = ActionKind
_RECEIVING = frozenset({A.BUY, A.MINT, A.TRANSFER, A.FORCED_TRANSFER})


@dataclass(frozen=True, slots=True)
class Sanctions:
    """No party — wallet or investor — on the sanctions list (a forced transfer's sender excepted)."""


@dataclass(frozen=True, slots=True)
class Verified:
    """Every party bound to an investor whose KYC is verified and unexpired (forced sender excepted)."""


@dataclass(frozen=True, slots=True)
class NoUsPersons:
    """The receiving investor is not a US person (Regulation S Rule 902(k))."""


@dataclass(frozen=True, slots=True)
class Countries:
    """The receiving investor's residence is on the allow-list (if any) and not on the deny-list."""

    allow: frozenset[str] | None = None
    deny: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Categories:
    """The receiving investor's category is one of ``allow``."""

    allow: frozenset[InvestorCategory]


@dataclass(frozen=True, slots=True)
class Whitelist:
    """The receiving investor is on the instrument's holder whitelist."""


@dataclass(frozen=True, slots=True)
class Lockup:
    """A holding acquired under one of ``regulations`` may not go to another investor for ``months``."""

    months: int
    regulations: frozenset[Regulation]


@dataclass(frozen=True, slots=True)
class Flowback:
    """A holding acquired under one of ``regulations`` may not go to a US person for ``days``."""

    days: int
    regulations: frozenset[Regulation]


@dataclass(frozen=True, slots=True)
class HolderCap:
    """A new holder may not take the count of investors (or of non-accredited ones) past the cap."""

    max_holders: int
    max_non_accredited: int | None = None


@dataclass(frozen=True, slots=True)
class MaxBalance:
    """The receiving investor's position may not exceed ``max_shares``."""

    max_shares: Shares


@dataclass(frozen=True, slots=True)
class NotionalLimit:
    """An order's notional, alone and added to the investor's window, stays within the limits."""

    max_per_order: Money | None = None
    max_per_window: Money | None = None
    window: timedelta | None = None


RuleParams = (
    Sanctions
    | Verified
    | NoUsPersons
    | Countries
    | Categories
    | Whitelist
    | Lockup
    | Flowback
    | HolderCap
    | MaxBalance
    | NotionalLimit
)


@dataclass(frozen=True, slots=True)
class Kind:
    """What a rule kind is called in policy files, which codes it gives and which actions it can govern."""

    name: str
    params: type[RuleParams]
    codes: tuple[Reason, ...]
    actions: frozenset[ActionKind]


KINDS: dict[str, Kind] = {
    k.name: k
    for k in (
        Kind("sanctions", Sanctions, (Reason.SENDER_SANCTIONED, Reason.RECIPIENT_SANCTIONED), frozenset(A)),
        Kind(
            "verified",
            Verified,
            (Reason.SENDER_NOT_VERIFIED, Reason.RECIPIENT_NOT_VERIFIED, Reason.KYC_EXPIRED),
            frozenset(A),
        ),
        Kind("no_us_persons", NoUsPersons, (Reason.COUNTRY_NOT_ALLOWED,), _RECEIVING),
        Kind("country", Countries, (Reason.COUNTRY_NOT_ALLOWED,), _RECEIVING),
        Kind("category", Categories, (Reason.CATEGORY_NOT_ALLOWED,), _RECEIVING),
        Kind("whitelist", Whitelist, (Reason.RECIPIENT_NOT_WHITELISTED,), _RECEIVING),
        Kind("lockup", Lockup, (Reason.LOCKUP_ACTIVE,), frozenset({A.TRANSFER, A.FORCED_TRANSFER, A.REDEEM})),
        Kind("flowback", Flowback, (Reason.FLOWBACK_RESTRICTED,), frozenset({A.TRANSFER, A.FORCED_TRANSFER})),
        Kind("holder_cap", HolderCap, (Reason.HOLDER_LIMIT_REACHED,), _RECEIVING),
        Kind("max_balance", MaxBalance, (Reason.MAX_BALANCE_EXCEEDED,), _RECEIVING),
        Kind(
            "notional_limit", NotionalLimit, (Reason.NOTIONAL_LIMIT_EXCEEDED,), frozenset({A.BUY, A.REDEEM})
        ),
    )
}
"""Every rule kind by its policy-file name."""
KIND_OF: dict[type[RuleParams], Kind] = {k.params: k for k in KINDS.values()}


@dataclass(frozen=True, slots=True)
class Condition:
    """Limit a rule to the parties it matches (unset fields match everyone)."""

    us_person: bool | None = None
    countries_in: frozenset[str] | None = None
    countries_not_in: frozenset[str] | None = None

    @property
    def always(self) -> bool:
        """Tell whether the condition matches every party."""
        return self.us_person is None and self.countries_in is None and self.countries_not_in is None

    def matches(self, profile: Profile | None) -> bool:
        """Tell whether the rule applies to ``profile`` (an unknown party always matches: fail closed)."""
        if profile is None:
            return True
        if self.us_person is not None and profile.us_person != self.us_person:
            return False
        if self.countries_in is not None and profile.country.alpha2 not in self.countries_in:
            return False
        return self.countries_not_in is None or profile.country.alpha2 not in self.countries_not_in


@dataclass(frozen=True, slots=True)
class Rule:
    """One rule of a policy."""

    name: str
    params: RuleParams
    actions: frozenset[ActionKind]
    description: str
    when: Condition = field(default_factory=Condition)
    cite: str = ""
    """The regulation the rule models (for people; not interpreted)."""

    @property
    def kind(self) -> Kind:
        """Return the rule's kind."""
        return KIND_OF[type(self.params)]

    def governs(self, action: ActionKind) -> bool:
        """Tell whether the rule applies to ``action``."""
        return action in self.actions
