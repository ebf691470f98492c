"""Money leaving the platform: what may leave, and the ledger entry that records it leaving.

Two ways out, both through the executor's outbox exactly as a deposit comes in (``IssuanceEngine``'s
``redeem`` and ``withdraw``, sent like ``pay_out``):

- a **redemption** burns the investor's stablecoin in its platform wallet and books the USD paid to
  its bank (``investor_cash`` → ``external_bank``);
- a **withdrawal** transfers the stablecoin from that wallet to an address the investor names, outside
  the platform, and books it there (``investor_cash`` → ``external_chain:wallets``).

Either way the investor's ledger cash and its wallet's stablecoin fall by the same amount, so the
books keep cash = stablecoin per investor. This module holds the decisions taken before anything is
recorded — the refusals (a sanctioned investor or receiving address, more than the investor's cash, a
withdrawal to a wallet the platform keeps) and the check that a keyed cash-out was already made with the
same terms — and builds the entry whose key is the cash-out's (and so its plan's).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Literal

from equitoken.compliance.book import InvestorBook
from equitoken.compliance.sanctions import SanctionsList
from equitoken.domain.errors import DomainError
from equitoken.domain.ids import WalletAddress
from equitoken.domain.values import Money, canonical_decimal
from equitoken.issuance.models.base import Holder
from equitoken.issuance.models.books import BANK, investor_cash
from equitoken.ledger.accounts import Account, AccountKind, Asset
from equitoken.ledger.entries import EntryDraft, move
from equitoken.ports.store import Store

Way = Literal["redemption", "withdrawal"]

OUTSIDE_WALLETS = Account.of(AccountKind.EXTERNAL_CHAIN, "wallets")
"""Stablecoin withdrawn to wallets outside the platform: where it leaves the books."""

INSUFFICIENT_CASH = "INSUFFICIENT_CASH"
PLATFORM_WALLET = "WITHDRAWAL_TO_PLATFORM_WALLET"


def cash_out_entry(
    way: Way, holder: Holder, amount: Money, at: datetime, *, to: WalletAddress | None, key: str | None
) -> EntryDraft:
    """Return the entry of a cash-out; with ``key`` its entry key is the key's, so it is made once."""
    if amount.amount <= 0 or amount.currency != "USD":
        raise DomainError("INVALID_AMOUNT", f"a {way} must be a positive USD amount, not {amount}")
    # Without a client's key the cash-out is a new one each time: a random key cannot meet an old one.
    suffix = f"key:{key}" if key is not None else uuid.uuid4().hex
    receiver = BANK if to is None else OUTSIDE_WALLETS
    metadata = {"investor": holder.investor.value, "wallet": holder.wallet.value}
    if to is not None:
        metadata["to"] = to.value
    where = "its bank" if to is None else str(to)
    return EntryDraft(
        f"{way}:{holder.investor}:{suffix}",
        at,
        move(Asset.cash(), amount.amount, debit=receiver, credit=investor_cash(holder.investor)),
        f"{way} of {amount} by {holder.investor} to {where}",
        metadata,
    )


def made_before(store: Store, entry: EntryDraft) -> bool:
    """Tell whether ``entry``'s cash-out is already booked (the same key again: nothing moves twice).

    The same key with another amount, wallet or receiver is refused (``IDEMPOTENCY_CONFLICT``): it is
    another request, and answering it with the first one's result would hide that.
    """
    booked = store.entry(entry.key)
    if booked is None:
        return False
    if _paid(booked.draft) != _paid(entry) or booked.draft.metadata != entry.metadata:
        raise DomainError(
            "IDEMPOTENCY_CONFLICT",
            f"{entry.key} was made with another amount, wallet or receiver",
        )
    return True


def refuse_cash_out(
    investors: InvestorBook,
    sanctions: SanctionsList,
    store: Store,
    holder: Holder,
    amount: Money,
    to: WalletAddress | None,
) -> None:
    """Refuse a cash-out that may not happen, before anything is recorded.

    A sanctioned investor's money stays frozen where it is (``SENDER_SANCTIONED``); a withdrawal to a
    listed address is refused (``RECIPIENT_SANCTIONED``), as is one to the zero address or to a wallet
    the platform keeps for an investor (that is a payment between investors, booked nowhere as such).
    Then the amount must be covered by the investor's ledger cash (``INSUFFICIENT_CASH``).
    """
    investor = investors.get(holder.investor)
    if sanctions.screen(investor):
        raise DomainError("SENDER_SANCTIONED", f"{holder.investor} is on the sanctions list: its cash stays")
    if to is not None:
        if to.is_zero:
            raise DomainError("ZERO_ADDRESS", "a withdrawal cannot go to the zero address")
        if sanctions.screen_wallet(to):
            raise DomainError("RECIPIENT_SANCTIONED", f"{to} is on the sanctions list")
        owner = investors.owner_of(to)
        if owner is not None:
            raise DomainError(
                PLATFORM_WALLET,
                f"{to} is the platform's wallet of {owner.investor_id}: a withdrawal leaves the platform",
            )
    cash = store.balance(investor_cash(holder.investor), Asset.cash())
    if amount.amount > cash:
        raise DomainError(
            INSUFFICIENT_CASH, f"{holder.investor} holds {canonical_decimal(cash)} USD, less than {amount}"
        )


def _paid(entry: EntryDraft) -> Decimal:
    return sum((p.amount for p in entry.postings if p.amount > 0), Decimal(0))
