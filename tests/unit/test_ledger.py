"""The in-memory journal: balanced entries, idempotent keys, balances at any instant."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from equitoken.domain import DomainError, InvestorId, Symbol
from equitoken.ledger import Account, AccountKind, Asset, EntryDraft, Journal, Posting, move

AAPL = Symbol("AAPL")
T0 = datetime(2014, 6, 9, 14, 30, tzinfo=UTC)
CUSTODY = Account.of(AccountKind.CUSTODY, AAPL)
MARKET = Account.of(AccountKind.EXTERNAL_MARKET)
CASH = Account.of(AccountKind.ISSUER_CASH)
SHARE = Asset.share(AAPL)
USD = Asset.cash()


def buy(key: str, qty: str, cost: str, at: datetime = T0) -> EntryDraft:
    return EntryDraft(
        key,
        at,
        [*move(SHARE, qty, debit=CUSTODY, credit=MARKET), *move(USD, cost, debit=MARKET, credit=CASH)],
    )


def test_balances_follow_postings() -> None:
    journal = Journal()
    journal.post(buy("b1", "10", "6455.70"))
    journal.post(buy("b2", "0.5", "322.785"))
    assert journal.balance(CUSTODY, SHARE) == Decimal("10.5")
    assert journal.balance(CASH, USD) == Decimal("-6778.485")
    assert journal.balance(MARKET, USD) == Decimal("6778.485")
    assert journal.balance(CUSTODY, USD) == 0


def test_reposting_a_key_returns_the_original() -> None:
    journal = Journal()
    first = journal.post(buy("b1", "10", "100"))
    again = journal.post(buy("b1", "10", "100"))
    assert first.created and not again.created
    assert again.entry == first.entry
    assert len(journal.entries()) == 1
    assert journal.balance(CUSTODY, SHARE) == 10


def test_a_different_body_under_a_used_key_is_refused_and_changes_nothing() -> None:
    journal = Journal()
    journal.post(buy("b1", "10", "100"))
    with pytest.raises(DomainError) as caught:
        journal.post(buy("b1", "11", "110"))
    assert caught.value.code == "IDEMPOTENCY_CONFLICT"
    assert journal.balance(CUSTODY, SHARE) == 10
    assert len(journal.entries()) == 1


def test_balances_at_an_instant_include_only_effective_entries() -> None:
    journal = Journal()
    journal.post(buy("b1", "10", "100", T0))
    journal.post(buy("b2", "5", "50", T0 + timedelta(days=1)))
    assert journal.balance(CUSTODY, SHARE, at=T0 - timedelta(seconds=1)) == 0
    assert journal.balance(CUSTODY, SHARE, at=T0) == 10
    assert journal.balance(CUSTODY, SHARE, at=T0 + timedelta(days=2)) == 15


@pytest.mark.parametrize(
    ("build", "code"),
    [
        (
            lambda: EntryDraft("k", T0, [Posting(CUSTODY, SHARE, 1), Posting(MARKET, SHARE, -2)]),
            "UNBALANCED_ENTRY",
        ),
        (lambda: EntryDraft("k", T0, [Posting(CUSTODY, SHARE, 1)]), "UNBALANCED_ENTRY"),
        (lambda: EntryDraft("", T0, move(SHARE, 1, debit=CUSTODY, credit=MARKET)), "MISSING_IDEMPOTENCY_KEY"),
        (
            lambda: EntryDraft("k", T0.replace(tzinfo=None), move(SHARE, 1, debit=CUSTODY, credit=MARKET)),
            "NAIVE_DATETIME",
        ),
        (lambda: Posting(CUSTODY, USD, 1), "WRONG_ASSET"),
        (lambda: Posting(CUSTODY, SHARE, 0), "ZERO_POSTING"),
        (lambda: Posting(CUSTODY, SHARE, "1e-19"), "TOO_MANY_DECIMALS"),
        (lambda: Account("nowhere:AAPL"), "INVALID_ACCOUNT"),
        (lambda: Account("custody:AA PL"), "INVALID_ACCOUNT"),
        (lambda: Asset("BOND:X"), "INVALID_ASSET"),
        (lambda: Asset("usd"), "INVALID_ASSET"),
    ],
)
def test_malformed_entries_are_refused(build: object, code: str) -> None:
    assert callable(build)
    with pytest.raises(DomainError) as caught:
        build()
    assert caught.value.code == code


def test_balance_is_per_asset_so_cash_and_shares_never_net() -> None:
    # One entry, two assets, each balanced on its own.
    draft = buy("b1", "3", "3")
    journal = Journal()
    journal.post(draft)
    assert journal.balance(MARKET, SHARE) == -3 and journal.balance(MARKET, USD) == 3


def test_entry_ids_depend_only_on_the_key() -> None:
    assert buy("b1", "1", "1").entry_id == buy("b1", "1", "1").entry_id
    assert buy("b1", "1", "1").entry_id != buy("b2", "1", "1").entry_id


def test_account_helpers() -> None:
    account = Account.of(AccountKind.INVESTOR_CASH, InvestorId("inv-7"))
    assert account.path == "investor_cash:inv-7" and account.kind is AccountKind.INVESTOR_CASH
    assert Asset.token(AAPL, "evm-31337").family.value == "token"
    assert Account.of(AccountKind.EXTERNAL_CHAIN).accepts(Asset.token(AAPL, "c"))


def test_sums_never_round_even_past_28_digits() -> None:
    # Python's default context keeps 28 digits: 10**30 + 1e-18 − 10**30 would "balance" there.
    token = Asset.token(AAPL, "evm")
    chain, market = Account.of(AccountKind.EXTERNAL_CHAIN), Account.of(AccountKind.EXTERNAL_MARKET)
    lopsided = [
        Posting(chain, token, 10**30),
        Posting(chain, token, "1e-18"),
        Posting(market, token, -(10**30)),
    ]
    with pytest.raises(DomainError) as caught:
        EntryDraft("k", T0, lopsided)
    assert caught.value.code == "UNBALANCED_ENTRY"
    huge = "12345678901234567890123456789012345.000000000000000001"  # 53 significant digits
    journal = Journal()
    journal.post(EntryDraft("big", T0, move(token, huge, debit=chain, credit=market)))
    assert journal.balance(chain, token) == Decimal(huge)
    assert journal.balance(market, token) == Decimal("-" + huge)


def test_amounts_beyond_sixty_integer_digits_are_refused() -> None:
    with pytest.raises(DomainError) as caught:
        Posting(CUSTODY, SHARE, 10**60)
    assert caught.value.code == "AMOUNT_OUT_OF_RANGE"
    assert Posting(CUSTODY, SHARE, 10**60 - 1).amount == 10**60 - 1
