"""Who gets what of a cash dividend: entitlements, withholding, rounding, dust and unclaimed money.

The rule (every figure is money at the micro-dollar, 6 decimals; the identity below is exact):

- a holder's **entitlement** is their shares at the record instant — raw token balance × the
  multiplier in force — times the per-share amount, kept exact;
- the **withholding** on it is ``entitlement × rate`` rounded DOWN to the micro-dollar, and the
  **net** is ``entitlement × (1 − rate)`` rounded DOWN to the micro-dollar: neither is ever
  rounded up at anyone's expense;
- the **gross** is the sum of entitlements rounded DOWN to the micro-dollar (what the paying agent
  funds, or what the broker credits on the issuer's shares);
- the **dust** is ``gross − Σ net − Σ withheld``: never negative (each holder's two figures add up
  to at most their entitlement and the sum is a whole number of micro-dollars), below two
  micro-dollars per holder, and it stays with the issuer, posted to its cash — never paid out,
  never lost;
- a holder whose wallet cannot receive (frozen, sanctioned, or bound to no investor) is not paid:
  their net goes to the ``unclaimed`` list, is held in the issuer's unclaimed account and is paid
  when the wallet can receive again (or escheated): it is owed, not forfeited. Withholding on it
  is due all the same.

So ``gross == Σ paid + Σ unclaimed + withheld + dust`` for every distribution.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal

from equitoken.corporate_actions.effects import Payment
from equitoken.domain.errors import DomainError
from equitoken.domain.ids import WalletAddress
from equitoken.domain.values import Bps, Money, exact


@dataclass(frozen=True, slots=True)
class Distribution:
    """A dividend split between holders, the unclaimed account, the tax authority and the issuer."""

    gross: Money
    paid: tuple[Payment, ...]
    unclaimed: tuple[Payment, ...]
    withheld: Money
    dust: Money

    @property
    def paid_total(self) -> Money:
        """Return what is paid to holders now."""
        return _total(p.net for p in self.paid)

    @property
    def unclaimed_total(self) -> Money:
        """Return what is held for holders who cannot receive."""
        return _total(p.net for p in self.unclaimed)


@dataclass(frozen=True, slots=True)
class Entitlement:
    """One holding's dividend as money: gross, withheld, net and the rounding dust."""

    gross: Money
    withheld: Money
    net: Money
    dust: Money


def entitlement(shares: Decimal, per_share: Decimal, rate: Bps) -> Entitlement:
    """Return the dividend on one holding of ``shares`` (the issuer's custody, say), by the module rule."""
    _check_rate(rate)
    with exact():
        exact_gross = shares * per_share
    withheld, net = _split(exact_gross, rate)
    gross = _down(exact_gross)
    return Entitlement(gross, withheld, net, gross - withheld - net)


def distribute(
    holdings: Mapping[WalletAddress, Decimal],
    per_share: Decimal,
    rate: Bps,
    can_receive: Callable[[WalletAddress], bool],
) -> Distribution:
    """Return how a dividend of ``per_share`` on ``holdings`` (UI shares per wallet) is distributed."""
    _check_rate(rate)
    if per_share <= 0:
        raise DomainError("INVALID_DIVIDEND", f"a dividend per share is positive, got {per_share}")
    paid: list[Payment] = []
    unclaimed: list[Payment] = []
    total = Decimal(0)
    withheld = Money.zero()
    for wallet in sorted(holdings, key=str):
        shares = holdings[wallet]
        if shares < 0:
            raise DomainError("INVALID_HOLDING", f"{wallet} holds a negative {shares} shares")
        if shares == 0:
            continue
        with exact():
            owed = shares * per_share
            total += owed
        tax, net = _split(owed, rate)
        withheld = withheld + tax
        payment = Payment(wallet, shares, owed, net, tax)
        (paid if can_receive(wallet) else unclaimed).append(payment)
    gross = _down(total)
    dust = gross - withheld - _total(p.net for p in paid) - _total(p.net for p in unclaimed)
    return Distribution(gross, tuple(paid), tuple(unclaimed), withheld, dust)


def _split(owed: Decimal, rate: Bps) -> tuple[Money, Money]:
    """Return (withheld, net) on an exact entitlement, each rounded down to the micro-dollar."""
    with exact():
        tax = owed * rate.fraction
        net = owed - tax
    return _down(tax), _down(net)


def _down(amount: Decimal) -> Money:
    return Money.rounded(amount, "USD", ROUND_DOWN)


def _total(amounts: Iterable[Money]) -> Money:
    total = Money.zero()
    for amount in amounts:
        total = total + amount
    return total


def _check_rate(rate: Bps) -> None:
    if not 0 <= rate.value < 10_000:
        raise DomainError("INVALID_WITHHOLDING", f"a withholding rate is 0 to below 100 %, got {rate}")
