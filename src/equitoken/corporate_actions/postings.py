"""Posting rules of corporate actions, as pure functions (signs debit-positive, as everywhere).

- **split** of ``ratio`` on ``c`` shares in custody: ``custody:SYM`` gains ``c × (ratio − 1)`` from
  ``external_market`` (a reverse split gives ``c × (1 − ratio)`` back to it). Shares in flight are
  refused before (the broker fails closed), so custody is the whole position;
- **dividend received** (inventory, instant: the broker credits the gross on the issuer's shares):
  the model's funding account ← ``external_market`` gross; ``external_bank:withholding`` ← funding
  the withheld amount; the rounding dust moves to ``issuer_cash:MODEL`` (where it already is for
  the inventory model, whose funding account that is);
- **dividend paid** (direct ownership: the paying agent funds the gross): ``issuer_cash:direct`` ←
  ``external_bank:paying-agent`` gross; ``external_bank:withholding`` ← it the withheld amount;
  ``issuer_cash:direct:unclaimed`` ← it what wallets that cannot receive are owed; each holder's
  ``investor_cash:INV`` ← it their net (one entry per holder, posted with the stablecoin payment);
  the dust stays in ``issuer_cash:direct``; a held dividend is paid out of the unclaimed account
  once its wallet can receive (``unclaimed_released``).
"""

from __future__ import annotations

from decimal import Decimal

from equitoken.domain.errors import DomainError
from equitoken.domain.ids import InvestorId, Symbol
from equitoken.domain.values import Money, exact
from equitoken.ledger.accounts import Account, AccountKind, Asset
from equitoken.ledger.entries import Posting, move

USD = Asset.cash("USD")
MARKET = Account.of(AccountKind.EXTERNAL_MARKET)
WITHHOLDING = Account.of(AccountKind.EXTERNAL_BANK, "withholding")
"""The tax authority: withheld dividend tax leaves the books here."""
PAYING_AGENT = Account.of(AccountKind.EXTERNAL_BANK, "paying-agent")
"""The issuing company's paying agent: the gross of a direct-ownership dividend comes from here."""


def issuer_cash(model: str) -> Account:
    """Return the issuer's cash of ``model`` (where dividend dust stays)."""
    return Account.of(AccountKind.ISSUER_CASH, model)


def unclaimed(model: str) -> Account:
    """Return the account holding dividends owed to wallets that cannot receive them yet."""
    return Account.of(AccountKind.ISSUER_CASH, model, "unclaimed")


def custody(symbol: Symbol) -> Account:
    """Return shares settled in custody (the register, for direct ownership)."""
    return Account.of(AccountKind.CUSTODY, symbol)


def _cash(amount: Money, *, debit: Account, credit: Account) -> tuple[Posting, ...]:
    if amount.amount < 0:
        raise DomainError("NEGATIVE_AMOUNT", f"a dividend leg of {amount} must not be negative")
    return () if amount.is_zero() or debit == credit else move(USD, amount.amount, debit=debit, credit=credit)


def split(symbol: Symbol, custody_shares: Decimal, ratio: Decimal) -> tuple[Posting, ...]:
    """Return the postings that make ``custody_shares`` of ``symbol`` ``custody_shares × ratio``."""
    with exact():
        change = custody_shares * ratio - custody_shares
    share = Asset.share(symbol)
    if change == 0:
        return ()
    if change > 0:
        return move(share, change, debit=custody(symbol), credit=MARKET)
    return move(share, -change, debit=MARKET, credit=custody(symbol))


def dividend_received(
    funding: Account, model: str, gross: Money, withheld: Money, dust: Money
) -> tuple[Posting, ...]:
    """Return the broker's credit of ``gross`` to ``funding``, the tax withheld and the dust to the issuer."""
    return (
        *_cash(gross, debit=funding, credit=MARKET),
        *_cash(withheld, debit=WITHHOLDING, credit=funding),
        *_cash(dust, debit=issuer_cash(model), credit=funding),
    )


def dividend_funded(model: str, gross: Money, withheld: Money, held: Money) -> tuple[Posting, ...]:
    """Return the paying agent's gross in, the tax out and the unclaimed amount set aside."""
    cash = issuer_cash(model)
    return (
        *_cash(gross, debit=cash, credit=PAYING_AGENT),
        *_cash(withheld, debit=WITHHOLDING, credit=cash),
        *_cash(held, debit=unclaimed(model), credit=cash),
    )


def dividend_paid(model: str, investor: InvestorId, net: Money) -> tuple[Posting, ...]:
    """Return one holder's payment out of the issuer's cash."""
    return _cash(net, debit=Account.of(AccountKind.INVESTOR_CASH, investor), credit=issuer_cash(model))


def unclaimed_released(model: str, investor: InvestorId, net: Money) -> tuple[Posting, ...]:
    """Return the payment of a held dividend, once its wallet can receive, out of the unclaimed account."""
    return _cash(net, debit=Account.of(AccountKind.INVESTOR_CASH, investor), credit=unclaimed(model))
