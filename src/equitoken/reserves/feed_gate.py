"""A listing's mint gate on its reserve feed: what the feed reports, when a round is fresh, when one is due.

Pure rules, no chain: the app layer reads the feed and the clock and asks these.

**What the feed reports** (``backing_ratio``) is the *backing* ratio — custody + in flight + the
instant buffer's commitments for the next open, over supply × multiplier — the same sum the ledger's
reserve invariant and the reconciliation count (``in_flight:SYM:pending``). The attested document's
``collateral_ratio`` counts custody and in flight only, so an instant listing that fronted a buy
off-hours shows below 1 there until its hedge trades at the next open. On the feed that would stop the
listing's mints every evening, by design of the model rather than for want of backing: the commitment
is a booked obligation of the buffer, reconciled against the custodian's pending side at the open. A
listing whose commitments do not cover the gap still reads below 1 and its mints are refused
(``RESERVES_INSUFFICIENT``); one that does not reconcile at all is halted, is not attested, and its
feed goes stale (``RESERVES_STALE``).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from equitoken.reserves.attestation import ReserveLine, collateral_ratio


def backing_ratio(line: ReserveLine, committed: Decimal) -> Decimal:
    """Return the ratio a listing's feed reports for ``line`` and its buffer's ``committed`` shares.

    1 with no supply: an empty supply owes no share, so it is fully backed (the first round a new
    listing's feed gets).
    """
    ratio = collateral_ratio(
        line.supply.value, line.multiplier, line.custody.value, line.in_flight.value + committed
    )
    return Decimal(1) if ratio is None else ratio


def is_fresh(updated_at: datetime, now: datetime, heartbeat: timedelta) -> bool:
    """Tell whether a round posted at ``updated_at`` is still one a mint may rely on at ``now``.

    The token's rule: a round exactly one heartbeat old is fresh, a second older is stale.
    """
    return now - updated_at <= heartbeat


def attestation_due(updated_at: datetime | None, now: datetime, every: timedelta) -> bool:
    """Tell whether a gated listing needs an attestation now: no round yet, or one ``every`` old."""
    return updated_at is None or now - updated_at >= every
