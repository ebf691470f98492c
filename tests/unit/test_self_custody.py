"""The pure parts of self-custody, with no chain, store or broker of the real kind.

- the custody fold: a wallet belongs to one investor and an investor to one wallet, whatever the order
  of registrations (Hypothesis), and a refused registration changes nothing;
- the executor leaves a self-custody wallet's quote to its investor: it waits, is done once the chain
  shows its ``QuoteSettled``, is abandoned ``QUOTE_EXPIRED`` once the chain's time has passed it, and
  refuses a plan that would need a second leg from that wallet — all without ever sending;
- the settlement audit picks out exactly the settlements no known quote explains;
- every new event round-trips through the one codec.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from equitoken.adapters.clock import ManualClock
from equitoken.adapters.store.memory import MemoryStore
from equitoken.app.executor import Executor
from equitoken.app.self_custody import FIRM_QUOTE_EVENTS, FirmQuoteIssued
from equitoken.app.settlement_audit import AUDIT_EVENTS, SettlementsAudited, quote_key, unknown_settlements
from equitoken.domain.errors import DomainError
from equitoken.domain.ids import InvestorId, OrderId, Symbol, WalletAddress
from equitoken.domain.values import Money, TokenAmount
from equitoken.issuance import journal
from equitoken.issuance.custody_events import CUSTODY_EVENTS, CustodyState, SelfCustodyRegistered
from equitoken.issuance.plans import Plan, SettleQuote, Transfer
from equitoken.ports.chain import ChainEvent, ChainQuote, QuoteSide

AT = datetime(2012, 11, 19, 15, 0, tzinfo=UTC)
SETTLEMENT = WalletAddress("0x" + "5e" * 20)
STABLE = WalletAddress("0x" + "c0" * 20)
TREASURY = WalletAddress("0x" + "7e" * 20)
OWN = WalletAddress("0x" + "0a" * 20)
KEPT = WalletAddress("0x" + "0b" * 20)
MSFT = Symbol("MSFT")
ORDER = OrderId("27249853-0506-59dd-8643-58d0769976dd")

_investors = st.sampled_from([InvestorId(f"inv-{n}") for n in range(4)])
_wallets = st.sampled_from([WalletAddress("0x" + f"{n:040x}") for n in range(1, 5)])


@given(st.lists(st.tuples(_investors, _wallets), max_size=12))
def test_custody_is_one_wallet_per_investor_and_one_investor_per_wallet(pairs: list[Any]) -> None:
    state = CustodyState()
    for investor, wallet in pairs:
        before = (dict(state.wallets), dict(state.owners))
        try:
            state.apply(SelfCustodyRegistered(AT, investor, wallet))
        except DomainError as refused:
            assert refused.code == "WALLET_BOUND_ELSEWHERE"
            assert (state.wallets, state.owners) == before  # a refusal changes nothing
            continue
        assert state.wallets[investor] == wallet and state.owners[wallet] == investor
    assert {w: i for i, w in state.wallets.items()} == state.owners
    assert all(state.settles_itself(w) for w in state.owners)


def quote(investor: WalletAddress, quote_id: str = "o1:1", expiry: datetime = AT) -> ChainQuote:
    return ChainQuote(
        SETTLEMENT, investor, QuoteSide.BUY, TokenAmount("10"), Money("26.8268"), expiry, quote_id
    )


@dataclass
class QuoteLogChain:
    """Settlement logs appended by the test (the investor's wallet settles, not the executor)."""

    logs: list[ChainEvent] = field(default_factory=list)
    sent: list[Any] = field(default_factory=list)

    def block_number(self) -> int:
        return len(self.logs)

    def settle(self, quote_id: str) -> None:
        block = len(self.logs) + 1
        args = {"quoteId": "0x" + quote_key(quote_id).hex()}
        self.logs.append(ChainEvent(SETTLEMENT, "QuoteSettled", block, f"0x{block:064x}", 0, args))

    def events(
        self, contract: WalletAddress, from_block: int, to_block: int | None = None
    ) -> list[ChainEvent]:
        return [e for e in self.logs if e.contract == contract and e.block >= from_block]

    def __getattr__(self, name: str) -> Any:  # any send would be a bug here: record it, fail the test
        def sent(*args: Any) -> None:
            self.sent.append((name, args))
            raise AssertionError(f"the executor sent {name} for a self-custody wallet")

        return sent


def executor(store: MemoryStore, chain: QuoteLogChain, clock: ManualClock) -> Executor:
    unused: Any = None
    return Executor(
        store,
        chain,  # type: ignore[arg-type]
        clock,
        lambda s: unused,
        lambda s: (),
        settles_itself=lambda wallet: wallet == OWN,
        chain_time=clock.now,
    )


def intended(ex: Executor, store: MemoryStore, plan: Plan) -> None:
    with store.transaction():
        ex.intend(plan, AT)
    ex.committed()


def test_a_self_custody_quote_waits_then_is_done_once_the_chain_shows_it() -> None:
    store, chain, clock = MemoryStore(), QuoteLogChain(), ManualClock(AT - timedelta(seconds=10))
    ex = executor(store, chain, clock)
    plan = Plan("o1:1", MSFT, (SettleQuote(quote(OWN)),), note="firm")
    intended(ex, store, plan)
    assert ex.send(plan).waiting and ex.recover(plan).waiting
    assert ex.investor_leg(plan) is not None and list(ex.awaiting()) == []  # no fills in this plan
    chain.settle("o1:1")
    found = ex.recover(plan)
    assert found.done and found.found and not found.waiting and chain.sent == []


def test_an_unsettled_quote_is_abandoned_only_after_the_chain_passed_its_expiry() -> None:
    store, chain, clock = MemoryStore(), QuoteLogChain(), ManualClock(AT)
    ex = executor(store, chain, clock)
    plan = Plan("o2:1", MSFT, (SettleQuote(quote(OWN, "o2:1")),))
    intended(ex, store, plan)
    assert ex.recover(plan).waiting  # at the expiry second it may still settle
    clock.advance(timedelta(seconds=1))
    expired = ex.recover(plan)
    assert not expired.done and not expired.waiting
    assert expired.failure is not None and expired.failure.code == "QUOTE_EXPIRED"


def test_a_quote_of_a_kept_wallet_is_not_left_to_anyone() -> None:
    store, chain, clock = MemoryStore(), QuoteLogChain(), ManualClock(AT)
    ex = executor(store, chain, clock)
    assert ex.investor_leg(Plan("k:1", MSFT, (SettleQuote(quote(KEPT)),))) is None


def test_a_firm_quote_that_needs_a_second_leg_from_the_wallet_is_refused_before_anything() -> None:
    store, chain, clock = MemoryStore(), QuoteLogChain(), ManualClock(AT)
    ex = executor(store, chain, clock)
    fee = Transfer(STABLE, OWN, TREASURY, TokenAmount("1", 6))
    plan = Plan("o3:1", MSFT, (SettleQuote(quote(OWN, "o3:1")), fee))
    intended(ex, store, plan)
    refused = ex.send(plan)
    assert refused.failure is not None and refused.failure.code == "FIRM_QUOTE_UNSUPPORTED"
    assert chain.sent == []


@given(st.sets(st.integers(0, 9)), st.sets(st.integers(0, 9)))
def test_the_audit_finds_exactly_the_settlements_no_known_quote_explains(
    settled: set[int], known: set[int]
) -> None:
    keys = {quote_key(f"q{n}") for n in known}
    logs = [
        ChainEvent(
            SETTLEMENT, "QuoteSettled", n, f"0x{n:064x}", 0, {"quoteId": "0x" + quote_key(f"q{n}").hex()}
        )
        for n in sorted(settled)
    ]
    logs.append(ChainEvent(SETTLEMENT, "SignerSet", 99, "0x" + "0" * 64, 0, {}))  # not a settlement
    strangers = unknown_settlements(logs, keys.__contains__)
    assert sorted(e.block for e in strangers) == sorted(settled - known)


@pytest.mark.parametrize(
    ("stream", "kinds", "event"),
    [
        ("custody", CUSTODY_EVENTS, SelfCustodyRegistered(AT, InvestorId("inv-a"), OWN)),
        (
            "firm-quotes",
            FIRM_QUOTE_EVENTS,
            FirmQuoteIssued(AT, ORDER, InvestorId("inv-a"), MSFT, quote(OWN)),
        ),
        ("settlement-audit", AUDIT_EVENTS, SettlementsAudited(AT, MSFT, 12, 3)),
    ],
)
def test_the_new_events_round_trip_through_the_one_codec(
    stream: str, kinds: tuple[type, ...], event: Any
) -> None:
    store = MemoryStore()
    journal.append(store, stream, "k1", AT, event)
    assert list(journal.read(store, stream, kinds)) == [event]
