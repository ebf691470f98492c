"""The instrument's lifecycle: each corporate action moves it to a new version, exactly once.

The Daml Finance pattern: an instrument has a *version* (its terms now: here the multiplier, and the
actions already applied); an action applied to the version it was written against yields the next
version and the effects that bring the world in line. The rules:

- an action already applied returns the same version and no effects (applying twice changes
  nothing, however often it is retried);
- an action written against another version (``expected_version`` differs) is refused with
  ``WRONG_VERSION``, and one for another symbol with ``WRONG_INSTRUMENT``: nothing is applied;
- a split multiplies the multiplier by its ratio (exact, at most 18 decimals as on chain, else
  ``INEXACT_MULTIPLIER``) and its effects are, in order: cancel the symbol's open orders (their
  quantities and limits were stated in old shares), the broker's record of shares becomes ``ratio``
  times larger, and the multiplier is scheduled on chain from the ex-date open with the new
  version number as nonce (the chain refuses a used nonce: a second line of defence);
- a cash dividend keeps the multiplier; its effects snapshot the holders at the record instant and
  distribute on the pay date (paid, or reinvested — which raises the multiplier later, through
  ``reinvested``, once the shares are bought).

Pure: the service reads the version from the journal, applies, carries the effects out, records.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal

from equitoken.corporate_actions.actions import CashDividend, CorporateAction, Split
from equitoken.corporate_actions.effects import (
    AdjustCustody,
    CancelOpenOrders,
    Distribute,
    Effect,
    ScheduleMultiplier,
    SnapshotHolders,
    Treatment,
)
from equitoken.domain.errors import DomainError
from equitoken.domain.ids import Symbol
from equitoken.domain.values import Bps, canonical_decimal, decimals_of, exact

MULTIPLIER_DECIMALS = 18
"""The chain's fixed point (ERC-8056 style multipliers are 18-decimal)."""

NO_WITHHOLDING = Bps(0)
WRONG_VERSION = "WRONG_VERSION"
WRONG_INSTRUMENT = "WRONG_INSTRUMENT"
INEXACT_MULTIPLIER = "INEXACT_MULTIPLIER"


@dataclass(frozen=True, slots=True)
class InstrumentVersion:
    """A token's terms now: its version number, multiplier and the actions applied so far."""

    symbol: Symbol
    version: int = 1
    multiplier: Decimal = Decimal(1)
    applied: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Applied:
    """The outcome of applying an action: the next version and what must happen (none if a repeat)."""

    version: InstrumentVersion
    effects: tuple[Effect, ...]
    repeated: bool = False


def apply(
    version: InstrumentVersion,
    action: CorporateAction,
    expected_version: int,
    *,
    treatment: Treatment = Treatment.PAY,
    withholding: Bps = NO_WITHHOLDING,
) -> Applied:
    """Return the version after ``action`` and its effects; a repeat is a no-op (rules: module doc)."""
    if action.symbol != version.symbol:
        raise DomainError(
            WRONG_INSTRUMENT, f"{action.action_id} is for {action.symbol}, not {version.symbol}"
        )
    if action.action_id in version.applied:
        return Applied(version, (), repeated=True)
    if expected_version != version.version:
        raise DomainError(
            WRONG_VERSION,
            f"{action.action_id} was written against version {expected_version} of {version.symbol},"
            f" which is at version {version.version}",
        )
    applied = version.applied | {action.action_id}
    if isinstance(action, Split):
        multiplier = scaled_multiplier(version.multiplier, action.ratio)
        following = InstrumentVersion(version.symbol, version.version + 1, multiplier, applied)
        reason = (
            f"corporate action {action.action_id}: {action.label} split of {action.symbol} effective"
            f" {action.ex_date}; orders in old shares are cancelled"
        )
        effects: tuple[Effect, ...] = (
            CancelOpenOrders(action.symbol, reason),
            AdjustCustody(action.symbol, action.ratio),
            ScheduleMultiplier(action.symbol, multiplier, action.ex_date, following.version),
        )
        return Applied(following, effects)
    assert isinstance(action, CashDividend)
    following = replace(version, version=version.version + 1, applied=applied)
    effects = (
        SnapshotHolders(action.symbol, action.action_id, action.record_date),
        Distribute(
            action.symbol, action.action_id, action.per_share, withholding, treatment, action.pay_date
        ),
    )
    return Applied(following, effects)


def reinvested(version: InstrumentVersion, multiplier: Decimal) -> InstrumentVersion:
    """Return the version after a reinvestment raised the multiplier (one more version)."""
    _check_multiplier(multiplier)
    if multiplier < version.multiplier:
        raise DomainError(INEXACT_MULTIPLIER, f"a reinvestment cannot lower the multiplier to {multiplier}")
    return replace(version, version=version.version + 1, multiplier=multiplier)


def scaled_multiplier(multiplier: Decimal, ratio: Decimal) -> Decimal:
    """Return ``multiplier × ratio``, exact and within the chain's 18 decimals, or refuse."""
    with exact():
        result = multiplier * ratio
    _check_multiplier(result)
    return result


def _check_multiplier(multiplier: Decimal) -> None:
    if multiplier <= 0 or decimals_of(multiplier) > MULTIPLIER_DECIMALS:
        raise DomainError(
            INEXACT_MULTIPLIER,
            f"multiplier {canonical_decimal(multiplier)} is not positive with at most 18 decimals",
        )
