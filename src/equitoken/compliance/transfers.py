"""Turn "wallet A sends N shares of X to wallet B" into an ``Action``, from the books alone.

Each side's profile comes from the investor book (a wallet bound to nobody has none), its screening
from the sanctions list, its whitelisting and position from the instrument's book, and the sender's
holding (lockup, flowback) from the latest holding issued to that wallet. Holder counts are per holder
key, as the contract counts them: an investor, or a holding wallet bound to nobody.
"""

from __future__ import annotations

from datetime import datetime

from equitoken.compliance.actions import Action, ActionKind, Context, Party, Profile
from equitoken.compliance.book import InvestorBook
from equitoken.compliance.instruments import InstrumentState
from equitoken.compliance.investors import ACCREDITED_CATEGORIES
from equitoken.compliance.sanctions import SanctionsList
from equitoken.domain.ids import InvestorId, WalletAddress
from equitoken.domain.values import Shares


def party(
    wallet: WalletAddress,
    book: InvestorBook,
    instrument: InstrumentState,
    sanctions: SanctionsList,
    *,
    sending: bool,
    balance: Shares | None = None,
) -> Party:
    """Return what the rules know of ``wallet``'s side of a transfer of ``instrument``.

    ``balance`` is the sending wallet's own balance where the caller knows it (checked first, as the
    token does); omitted, the sender's balance is not checked here.
    """
    owner = book.owner_of(wallet)
    screened = bool(sanctions.screen_wallet(wallet)) or (owner is not None and bool(sanctions.screen(owner)))
    return Party(
        profile=None if owner is None else Profile.of(owner),
        sanctioned=screened,
        whitelisted=owner is not None and owner.investor_id in instrument.whitelist,
        holding=instrument.wallet_holding(wallet) if sending else None,
        holds=instrument.position(owner.wallets if owner is not None else {wallet}),
        balance=balance if sending else None,
    )


def holder_context(book: InvestorBook, instrument: InstrumentState) -> Context:
    """Return the holder counts of ``instrument`` (investors, and of those the non-accredited ones)."""
    positions: dict[InvestorId | WalletAddress, Shares] = {}
    for h in instrument.holdings:
        owner = book.owner_of(h.wallet)
        key: InvestorId | WalletAddress = h.wallet if owner is None else owner.investor_id
        positions[key] = positions.get(key, Shares(0)) + h.shares
    holders = [k for k, v in positions.items() if not v.is_zero()]
    non_accredited = 0
    for key in holders:
        investor = book.find(key) if isinstance(key, InvestorId) else None
        if investor is None or investor.category not in ACCREDITED_CATEGORIES:
            non_accredited += 1
    return Context(holder_count=len(holders), non_accredited_holder_count=non_accredited)


def transfer_action(
    sender: WalletAddress,
    receiver: WalletAddress,
    shares: Shares,
    *,
    book: InvestorBook,
    instrument: InstrumentState,
    sanctions: SanctionsList,
    at: datetime,
    sender_balance: Shares | None = None,
) -> Action:
    """Return the transfer of ``shares`` from ``sender`` to ``receiver`` at ``at``, as the engine sees it."""
    return Action(
        ActionKind.TRANSFER,
        at,
        shares,
        sender=party(sender, book, instrument, sanctions, sending=True, balance=sender_balance),
        receiver=party(receiver, book, instrument, sanctions, sending=False),
        context=holder_context(book, instrument),
    )
