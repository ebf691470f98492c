"""Reconciliation: the chain, the ledger and the custodian compared, per listing, with causes.

Three sources must tell one story for a listing:

- **the chain** at a block: raw token supply and the multiplier in force;
- **the ledger**: tokens outstanding (minus the ``token_supply`` balance), shares in custody, shares in
  flight at the broker, and the buffer's commitments for the next open (``in_flight:SYM:pending``);
- **the custodian**: the broker's settled shares and its pending deliveries in and out — or, for a
  direct-ownership share, the transfer agent's register total.

Checks, each a ``Break`` when it fails beyond the tolerance (in shares; tokens are compared after the
multiplier so one tolerance serves both):

1. ``CHAIN_VS_LEDGER``: chain supply × multiplier = ledger tokens × multiplier;
2. ``BACKING``: tokens × multiplier = custody + in flight + commitments (the reserve invariant);
3. ``CUSTODY_SETTLED``: ledger custody = the custodian's settled shares (or the register total);
4. ``CUSTODY_PENDING``: ledger in flight = the custodian's pending in − pending out;
5. ``HOLDERS``: for a register, every wallet's shares = its tokens on chain (counted in wallets).

A break beyond the tolerance means the listing is not provably backed: the caller halts minting.
Pure: the caller reads the sources and passes them in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_DOWN, Context, Decimal, localcontext
from enum import StrEnum

from equitoken.domain.errors import DomainError
from equitoken.domain.values import canonical_decimal, exact


class BreakKind(StrEnum):
    """Which comparison failed."""

    CHAIN_VS_LEDGER = "CHAIN_VS_LEDGER"
    BACKING = "BACKING"
    CUSTODY_SETTLED = "CUSTODY_SETTLED"
    CUSTODY_PENDING = "CUSTODY_PENDING"
    HOLDERS = "HOLDERS"


@dataclass(frozen=True, slots=True)
class Custodian:
    """What the custodian reports for one symbol (a register has no pending side)."""

    settled: Decimal
    pending_in: Decimal = Decimal(0)
    pending_out: Decimal = Decimal(0)
    register: bool = False
    """True when the figures are a transfer agent's register, not a broker's custody."""


@dataclass(frozen=True, slots=True)
class Sources:
    """Everything one reconciliation compares, read at one block and instant."""

    symbol: str
    model: str
    block: int
    at: datetime
    chain_supply: Decimal
    multiplier: Decimal
    ledger_tokens: Decimal
    ledger_custody: Decimal
    ledger_in_flight: Decimal
    """Shares traded at the broker and not settled, by the ledger."""
    ledger_commitments: Decimal
    """Shares the buffer committed to trade at the next open (zero outside instant execution)."""
    custodian: Custodian
    holder_mismatches: tuple[str, ...] = ()
    """Wallets where the register and the chain disagree (a register can add up with wrong owners)."""


@dataclass(frozen=True, slots=True)
class Break:
    """One comparison that failed: what was expected, what was found, and the likely cause."""

    kind: BreakKind
    expected: Decimal
    found: Decimal
    cause: str

    @property
    def difference(self) -> Decimal:
        """Return found − expected (in shares)."""
        with exact():
            return self.found - self.expected

    def __str__(self) -> str:
        return (
            f"{self.kind}: expected {canonical_decimal(self.expected)}, found "
            f"{canonical_decimal(self.found)} — {self.cause}"
        )


@dataclass(frozen=True, slots=True)
class Reconciliation:
    """The outcome for one listing: the sources, the breaks beyond tolerance, and the collateral ratio."""

    sources: Sources
    tolerance: Decimal
    breaks: tuple[Break, ...]

    @property
    def ok(self) -> bool:
        """Tell whether every comparison held within the tolerance."""
        return not self.breaks

    @property
    def required_shares(self) -> Decimal:
        """Return the shares the tokens stand for (chain supply × multiplier)."""
        with exact():
            return self.sources.chain_supply * self.sources.multiplier

    @property
    def held_shares(self) -> Decimal:
        """Return the shares backing them by the ledger (custody + in flight + commitments)."""
        s = self.sources
        with exact():
            return s.ledger_custody + s.ledger_in_flight + s.ledger_commitments

    @property
    def collateral_ratio(self) -> Decimal | None:
        """Return held ÷ required shares (``None`` when nothing is outstanding), to 6 decimal places."""
        required = self.required_shares
        if required == 0:
            return None
        with localcontext(Context(prec=40)):  # a ratio, not an amount; cut, so it never overstates
            return (self.held_shares / required).quantize(Decimal("0.000001"), rounding=ROUND_DOWN)


def reconcile(sources: Sources, tolerance: Decimal = Decimal(0)) -> Reconciliation:
    """Compare the three sources of one listing; return the breaks beyond ``tolerance`` (shares)."""
    if tolerance < 0:
        raise DomainError("INVALID_SETTING", f"a reconciliation tolerance cannot be negative ({tolerance})")
    s = sources
    found: list[Break] = []
    with exact():
        chain_shares = s.chain_supply * s.multiplier
        ledger_shares = s.ledger_tokens * s.multiplier
        held = s.ledger_custody + s.ledger_in_flight + s.ledger_commitments
        pending = s.custodian.pending_in - s.custodian.pending_out

    def check(kind: BreakKind, expected: Decimal, actual: Decimal, more: str, less: str) -> None:
        with exact():
            gap = actual - expected
        if abs(gap) > tolerance:
            found.append(Break(kind, expected, actual, more if gap > 0 else less))

    check(
        BreakKind.CHAIN_VS_LEDGER,
        ledger_shares,
        chain_shares,
        "the chain holds tokens the ledger never booked (a mint without its entry, or one made outside "
        "the platform)",
        "the ledger books tokens the chain does not have (a burn without its entry, or a booked mint "
        "that never landed)",
    )
    check(
        BreakKind.BACKING,
        ledger_shares,
        held,
        "more shares than the tokens need (shares bought and not yet minted, or a burn booked without "
        "the sale)",
        "tokens outstanding exceed the shares backing them (shares left custody without a burn, or "
        "tokens minted without shares)",
    )
    what = "register" if s.custodian.register else "custodian"
    check(
        BreakKind.CUSTODY_SETTLED,
        s.ledger_custody,
        s.custodian.settled,
        f"the {what} reports more settled shares than the ledger (a settlement or corporate action "
        "the ledger missed)",
        f"the {what} reports fewer settled shares than the ledger (a delivery out the ledger missed, or "
        "a settlement booked early)",
    )
    check(
        BreakKind.CUSTODY_PENDING,
        s.ledger_in_flight,
        pending,
        "the custodian expects more shares in than the ledger has in flight (a fill the ledger missed)",
        "the ledger has shares in flight the custodian does not expect (a fill booked twice, or a "
        "cancelled trade still booked)",
    )
    if s.holder_mismatches:
        count = Decimal(len(s.holder_mismatches))
        found.append(
            Break(
                BreakKind.HOLDERS,
                Decimal(0),
                count,
                "the register and the chain disagree on who holds what: " + "; ".join(s.holder_mismatches),
            )
        )
    return Reconciliation(sources, tolerance, tuple(found))
