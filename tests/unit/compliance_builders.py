"""Small builders for compliance tests: profiles, parties and actions with sensible defaults."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from equitoken.compliance.actions import Action, ActionKind, Context, Holding, Party, Profile, Regulation
from equitoken.compliance.countries import country
from equitoken.compliance.investors import InvestorCategory
from equitoken.compliance.kyc import Kyc, KycState
from equitoken.domain.ids import InvestorId
from equitoken.domain.values import Money, Shares

AT = datetime(2026, 12, 1, 15, tzinfo=UTC)
VERIFIED = Kyc(KycState.VERIFIED, date(2027, 12, 31))


def profile(
    where: str = "DE",
    category: str = "retail",
    *,
    us: bool | None = None,
    kyc: Kyc = VERIFIED,
    investor: str | None = None,
) -> Profile:
    """Return a profile (a US person exactly when resident in the US unless told)."""
    return Profile(
        country(where),
        where == "US" if us is None else us,
        InvestorCategory(category),
        kyc,
        None if investor is None else InvestorId(investor),
    )


def party(
    where: str | None = "DE",
    category: str = "retail",
    *,
    us: bool | None = None,
    kyc: Kyc = VERIFIED,
    sanctioned: bool = False,
    whitelisted: bool = True,
    acquired: str | None = None,
    regulation: str = "none",
    holds: str = "0",
    investor: str | None = None,
) -> Party:
    """Return a party; ``where=None`` is a wallet bound to no investor."""
    holding = None
    if acquired is not None:
        holding = Holding(datetime.fromisoformat(acquired).replace(tzinfo=UTC), Regulation(regulation))
    return Party(
        None if where is None else profile(where, category, us=us, kyc=kyc, investor=investor),
        sanctioned,
        whitelisted,
        holding,
        Shares(holds),
    )


def action(
    kind: str,
    *,
    sender: Party | None = None,
    receiver: Party | None = None,
    at: datetime = AT,
    shares: str = "10",
    notional: str | None = None,
    override: str = "",
    **context: Any,
) -> Action:
    """Return an action; ``context`` keys go to ``Context``."""
    used = context.pop("used", "0")
    return Action(
        ActionKind(kind),
        at,
        Shares(shares),
        sender,
        receiver,
        None if notional is None else Money(notional),
        override,
        Context(notional_used_in_window=Money(used), **context),
    )
