"""The accounts every model books to, and the postings they share.

Accounts (signs debit-positive, so a holder's balance is positive):

- tokens: ``token_supply:SYM`` is the counter-account of every mint and burn, so tokens outstanding
  are minus its balance; holders are ``inventory:SYM`` (the inventory wallet) and
  ``investor_tokens:INV:SYM``;
- shares: ``custody:SYM`` and ``in_flight:SYM`` as the broker posting rules book them
  (``trading.settlement``), plus ``in_flight:SYM:pending`` — shares the instant model's buffer has
  committed to buy (or sell) at the next open for tokens it already minted (or burned) off-hours.
  The commitment is booked when the buffer fills the investor and reversed when the hedge's own
  fill is booked, so in flight never counts the same share twice;
- cash: ``investor_cash:INV`` (the investor's stablecoin), ``fees:MODEL``, ``buffer_pool:MODEL``,
  ``issuer_cash:MODEL``, and ``external_bank`` where money enters and leaves.

One symbol is listed under one model, so the symbol alone keys its share and token accounts.
"""

from __future__ import annotations

from decimal import Decimal

from equitoken.domain.errors import DomainError
from equitoken.domain.ids import InvestorId, Symbol
from equitoken.domain.trading import Side
from equitoken.domain.values import Money
from equitoken.issuance.models.base import Listing, ModelName
from equitoken.ledger.accounts import Account, AccountKind, Asset
from equitoken.ledger.entries import Posting, move

USD = Asset.cash("USD")
BANK = Account.of(AccountKind.EXTERNAL_BANK)
MARKET = Account.of(AccountKind.EXTERNAL_MARKET)


def token_supply(symbol: Symbol) -> Account:
    """Return the counter-account of mints and burns (tokens outstanding = minus its balance)."""
    return Account.of(AccountKind.TOKEN_SUPPLY, symbol)


def inventory(symbol: Symbol) -> Account:
    """Return the inventory wallet's token account."""
    return Account.of(AccountKind.INVENTORY, symbol)


def investor_tokens(investor: InvestorId, symbol: Symbol) -> Account:
    """Return an investor's token account in ``symbol``."""
    return Account.of(AccountKind.INVESTOR_TOKENS, investor, symbol)


def investor_cash(investor: InvestorId) -> Account:
    """Return an investor's cash (stablecoin) account."""
    return Account.of(AccountKind.INVESTOR_CASH, investor)


def fees(model: ModelName) -> Account:
    """Return the fee revenue account of ``model``."""
    return Account.of(AccountKind.FEES, model.value)


def buffer_pool(model: ModelName) -> Account:
    """Return the stablecoin buffer of ``model``."""
    return Account.of(AccountKind.BUFFER_POOL, model.value)


def issuer_cash(model: ModelName) -> Account:
    """Return the issuer's operating cash for ``model`` (capital, inventory cash, realised buffer P&L)."""
    return Account.of(AccountKind.ISSUER_CASH, model.value)


def custody(symbol: Symbol) -> Account:
    """Return shares settled in custody (for direct ownership: shares on the register)."""
    return Account.of(AccountKind.CUSTODY, symbol)


def in_flight(symbol: Symbol) -> Account:
    """Return shares traded at the broker and not yet settled."""
    return Account.of(AccountKind.IN_FLIGHT, symbol)


def hedge_pending(symbol: Symbol) -> Account:
    """Return shares the buffer has committed to trade at the next open (see the module doc)."""
    return Account.of(AccountKind.IN_FLIGHT, symbol, "pending")


def mint(listing: Listing, to: Account, tokens: Decimal) -> tuple[Posting, ...]:
    """Return the postings of minting ``tokens`` into ``to``."""
    return move(listing.token, tokens, debit=to, credit=token_supply(listing.symbol))


def burn(listing: Listing, holder: Account, tokens: Decimal) -> tuple[Posting, ...]:
    """Return the postings of burning ``tokens`` out of ``holder``."""
    return move(listing.token, tokens, debit=token_supply(listing.symbol), credit=holder)


def deliver(listing: Listing, sender: Account, receiver: Account, tokens: Decimal) -> tuple[Posting, ...]:
    """Return the postings of moving ``tokens`` between two holders."""
    return move(listing.token, tokens, debit=receiver, credit=sender)


def cash(amount: Money, *, debit: Account, credit: Account) -> tuple[Posting, ...]:
    """Return the postings moving ``amount`` (none for zero: a zero posting is refused)."""
    if amount.amount < 0:
        raise DomainError("NEGATIVE_AMOUNT", f"cash move of {amount} must not be negative")
    return () if amount.is_zero() else move(USD, amount.amount, debit=debit, credit=credit)


def trade_cash(
    side: Side, investor: Account, counterparty: Account, fee_account: Account, paid: Money, fee: Money
) -> tuple[Posting, ...]:
    """Return the cash legs of an investor's trade with the platform (or another investor).

    ``paid`` is what the investor pays on a buy or receives on a sell (``Charge.investor_cash``);
    ``fee`` is the platform's whole fee on the trade. On a buy the counterparty receives
    ``paid - fee``; on a sell it pays ``paid + fee``: either way the fee lands in ``fee_account``.
    """
    if side is Side.BUY:
        return (
            *cash(paid - fee, debit=counterparty, credit=investor),
            *cash(fee, debit=fee_account, credit=investor),
        )
    return (
        *cash(paid, debit=investor, credit=counterparty),
        *cash(fee, debit=fee_account, credit=counterparty),
    )
