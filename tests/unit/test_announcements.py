"""Announced corporate actions on the record: every term survives the journal, and a repeat is one record."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from equitoken.adapters.store.memory import MemoryStore
from equitoken.app import announcements
from equitoken.corporate_actions.actions import CashDividend, CorporateAction, Split, dividend_id, split_id
from equitoken.domain.ids import Symbol

AT = datetime(2012, 11, 19, 14, 30, tzinfo=UTC)
days = st.dates(min_value=date(2000, 1, 3), max_value=date(2040, 12, 31))
symbols = st.sampled_from([Symbol("KO"), Symbol("MSFT"), Symbol("BRK.B")])
ratios = st.decimals(min_value=Decimal("0.001"), max_value=Decimal(1000), places=3).filter(lambda r: r != 1)
amounts = st.decimals(min_value=Decimal("0.0001"), max_value=Decimal(100), places=4)


@st.composite
def actions(draw: st.DrawFn) -> CorporateAction:
    symbol, ex = draw(symbols), draw(days)
    if draw(st.booleans()):
        return Split(split_id(symbol, ex), symbol, draw(ratios), ex)
    record = ex + timedelta(days=draw(st.integers(0, 5)))
    pay = record + timedelta(days=draw(st.integers(0, 40)))
    return CashDividend(dividend_id(symbol, ex), symbol, draw(amounts), ex, record, pay)


@given(st.lists(actions(), max_size=6, unique_by=lambda a: a.action_id))
def test_every_announced_action_comes_back_from_the_journal_term_for_term(
    found: list[CorporateAction],
) -> None:
    store = MemoryStore()
    for action in found:
        announcements.record(store, AT, action)
        announcements.record(store, AT, action)  # a repeat (a retried request) records nothing more
    assert list(announcements.recorded(store)) == found
    assert len(store.events(announcements.STREAM)) == len(found)
