"""When an investor's holding of a listing is locked up (Regulation D after a primary issue).

The compliance desk journals every holding it issues with its acquisition instant and exemption; the
listing's policy says how long each exemption locks a holding (``compliance.chain_config.lockup_until``).
The investor's lockup is the latest of its holdings' — the one the desk sets on chain, where the
contract refuses any transfer from the investor before it — so while it runs, all of the investor's
tokens in the listing are locked.
"""

from __future__ import annotations

from datetime import datetime

from equitoken.app.compliance_desk import ComplianceDesk
from equitoken.compliance.chain_config import lockup_until
from equitoken.domain.errors import DomainError
from equitoken.domain.ids import InvestorId, Symbol
from equitoken.domain.instants import utc


def locked_until(desk: ComplianceDesk, symbol: Symbol, investor: InvestorId, at: datetime) -> datetime | None:
    """Return when ``investor``'s lockup in ``symbol`` ends if it still runs at ``at`` (``None``: free)."""
    try:
        state = desk.instruments.book.get(symbol)
        policy = desk.policy(symbol)
    except DomainError:  # not an instrument of the desk: nothing it issued can be locked
        return None
    ends = [lockup_until(policy, holding) for holding in state.lockup_holdings(investor)]
    latest = max((end for end in ends if end is not None), default=None)
    return latest if latest is not None and utc(latest) > utc(at) else None
