"""The onboarding stream's event: a holding issued from an onboarding file, by its content identity.

Stream ``onboarding`` holds one ``HoldingOnboarded`` per holding a file issued, keyed by the holding's
identity (what the file says of it), so a file loaded again finds its holdings instead of issuing
twins. ``OnboardedHoldings`` folds them. Encoded by the one event codec (``domain.codec``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from equitoken.compliance.actions import Regulation
from equitoken.domain.ids import Symbol, WalletAddress
from equitoken.domain.values import Shares


@dataclass(frozen=True, slots=True)
class HoldingOnboarded:
    """``shares`` of ``instrument`` issued to ``wallet`` from a file, as its ``position``-th holding.

    ``acquired_at`` is kept as the file wrote it (empty when it gave none): it is part of the identity.
    """

    identity: str
    instrument: Symbol
    wallet: WalletAddress
    acquired_at: str
    occurrence: int
    position: int
    shares: Shares
    regulation: Regulation


ONBOARDING_EVENTS: tuple[type, ...] = (HoldingOnboarded,)


@dataclass
class OnboardedHoldings:
    """The fold of stream ``onboarding``: every holding issued from a file, by its identity."""

    holdings: dict[str, HoldingOnboarded] = field(default_factory=dict)

    def apply(self, event: object) -> None:
        """Evolve the state by one event."""
        match event:
            case HoldingOnboarded():
                self.holdings[event.identity] = event
