"""The executor and its outbox over a fake chain: legs sent once, refusals undone, crashes matched."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from equitoken.adapters.clock import ManualClock
from equitoken.adapters.store.memory import MemoryStore
from equitoken.app.executor import Executor
from equitoken.domain.errors import DomainError, InfrastructureError
from equitoken.domain.ids import Symbol, WalletAddress
from equitoken.domain.values import TokenAmount
from equitoken.issuance.plans import Plan, Transfer, plan_from_dict, plan_to_dict
from equitoken.ports.chain import ChainEvent, ChainTx

AT = datetime(2013, 3, 4, 15, 0, tzinfo=UTC)
TOKEN, CASH = WalletAddress("0x" + "11" * 20), WalletAddress("0x" + "22" * 20)
A, B, C = (WalletAddress("0x" + c * 40) for c in "abc")
KO = Symbol("KO")


@dataclass
class FakeChain:
    """Transfers as logs, one block each; ``refuse`` names (token, receiver) pairs the chain refuses."""

    logs: list[ChainEvent] = field(default_factory=list)
    refuse: set[tuple[WalletAddress, WalletAddress]] = field(default_factory=set)
    sent: list[tuple[WalletAddress, WalletAddress, WalletAddress, Decimal]] = field(default_factory=list)

    def block_number(self) -> int:
        return len(self.logs)

    def transfer(
        self, token: WalletAddress, sender: WalletAddress, receiver: WalletAddress, amount: TokenAmount
    ) -> ChainTx:
        if (token, receiver) in self.refuse:
            raise DomainError("RECIPIENT_NOT_VERIFIED", f"{receiver} may not receive")
        self.sent.append((token, sender, receiver, amount.value))
        block = len(self.logs) + 1
        args = {"sender": sender, "receiver": receiver, "value": amount}
        self.logs.append(ChainEvent(token, "Transfer", block, f"0x{block:064x}", 0, args))
        return ChainTx(f"0x{block:064x}", block, 0, ())

    def events(
        self, contract: WalletAddress, from_block: int, to_block: int | None = None
    ) -> list[ChainEvent]:
        return [e for e in self.logs if e.contract == contract and e.block >= from_block]


def executor(store: MemoryStore, chain: FakeChain) -> Executor:
    clock = ManualClock(AT)
    unused: Any = None
    return Executor(store, chain, clock, lambda s: unused, lambda s: ())  # type: ignore[arg-type]


def dvp(key: str = "m1", *, undo: bool = True) -> Plan:
    """Cash A → B, then tokens B → A (the token leg is the one compliance may refuse)."""
    cash = Transfer(CASH, A, B, TokenAmount("370", 6))
    tokens = Transfer(TOKEN, B, A, TokenAmount("10"))
    return Plan(key, KO, (cash, tokens), undo=undo, note="a match")


def intend(ex: Executor, store: MemoryStore, plan: Plan) -> None:
    with store.transaction():
        ex.intend(plan, AT)
    ex.committed()


def test_a_plan_sends_its_legs_in_order_once() -> None:
    store, chain = MemoryStore(), FakeChain()
    ex = executor(store, chain)
    intend(ex, store, dvp())
    outcome = ex.send(dvp())
    assert outcome.done and outcome.failure is None
    assert [s[0] for s in chain.sent] == [CASH, TOKEN]


def test_a_plan_must_be_recorded_before_it_is_sent() -> None:
    ex = executor(MemoryStore(), FakeChain())
    with pytest.raises(DomainError) as refused:
        ex.send(dvp())
    assert refused.value.code == "PLAN_UNKNOWN"


def test_the_first_leg_refused_moves_nothing() -> None:
    store, chain = MemoryStore(), FakeChain(refuse={(CASH, B)})
    ex = executor(store, chain)
    intend(ex, store, dvp())
    outcome = ex.send(dvp())
    assert not outcome.done and outcome.failure is not None
    assert outcome.failure.code == "RECIPIENT_NOT_VERIFIED" and chain.sent == []


def test_a_later_leg_refused_sends_the_earlier_ones_back() -> None:
    store, chain = MemoryStore(), FakeChain(refuse={(TOKEN, A)})  # the tokens to A are refused
    ex = executor(store, chain)
    intend(ex, store, dvp())
    outcome = ex.send(dvp())
    assert not outcome.done and outcome.failure is not None
    assert outcome.failure.code == "RECIPIENT_NOT_VERIFIED"
    assert chain.sent == [(CASH, A, B, Decimal("370")), (CASH, B, A, Decimal("370"))]  # cash went back
    assert [e.type for e in store.events("effects")] == ["PlanIntended", "PlanUndoing"]


def test_a_later_leg_refused_without_undo_cannot_complete() -> None:
    store, chain = MemoryStore(), FakeChain(refuse={(TOKEN, A)})
    ex = executor(store, chain)
    plan = dvp(undo=False)
    intend(ex, store, plan)
    outcome = ex.send(plan)
    assert outcome.failure is not None and outcome.failure.code == "SETTLEMENT_INCOMPLETE"
    assert len(chain.sent) == 1


@pytest.mark.parametrize("sent_before_the_kill", [0, 1, 2])
def test_after_a_kill_each_leg_is_found_or_sent_never_both(sent_before_the_kill: int) -> None:
    store, chain = MemoryStore(), FakeChain()
    first = executor(store, chain)
    plan = dvp()
    intend(first, store, plan)
    for leg in plan.legs[:sent_before_the_kill]:  # the dead process got this far
        assert isinstance(leg, Transfer)
        chain.transfer(leg.token, leg.sender, leg.receiver, leg.amount)
    after = executor(store, chain)  # a new process: the plan is pending in the store
    (pending,) = after.pending()
    assert pending == plan
    outcome = after.recover(pending)
    assert outcome.done and outcome.found is (sent_before_the_kill > 0)
    assert [s[0] for s in chain.sent] == [CASH, TOKEN]  # each leg exactly once
    with store.transaction():
        after.close(outcome, AT)
    after.committed()
    assert executor(store, chain).pending() == []


def test_a_kill_mid_undo_finishes_the_undo_without_sending_anything_twice() -> None:
    store, chain = MemoryStore(), FakeChain()
    plan = Plan(
        "m2",
        KO,
        (
            Transfer(CASH, A, B, TokenAmount("5", 6)),
            Transfer(CASH, A, C, TokenAmount("1", 6)),
            Transfer(TOKEN, B, A, TokenAmount("1")),
        ),
        undo=True,
    )
    first = executor(store, chain)
    intend(first, store, plan)
    chain.refuse = {(TOKEN, A)}  # the token leg is refused, so both cash legs go back
    outcome = first.send(plan)
    assert chain.sent[-2:] == [(CASH, C, A, Decimal("1")), (CASH, B, A, Decimal("5"))]
    assert outcome.failure is not None
    # Now replay the kill: the same start, but the process dies after the first back-transfer.
    store2, chain2 = MemoryStore(), FakeChain()
    dying = executor(store2, chain2)
    intend(dying, store2, plan)
    chain2.refuse = {(TOKEN, A)}
    original = chain2.transfer

    def die_after_first_back(*args: Any) -> ChainTx:
        tx = original(*args)
        if args[1] == C:
            raise KeyboardInterrupt  # the process died right after this send
        return tx

    chain2.transfer = die_after_first_back  # type: ignore[method-assign]
    with pytest.raises(KeyboardInterrupt):
        dying.send(plan)
    chain2.transfer = original  # type: ignore[method-assign]
    chain2.refuse = set()
    again = executor(store2, chain2).recover(plan)
    assert not again.done
    assert chain2.sent == chain.sent  # the same transfers as the run without a kill, none twice


def test_a_rolled_back_intent_is_forgotten() -> None:
    store, chain = MemoryStore(), FakeChain()
    ex = executor(store, chain)
    with pytest.raises(RuntimeError), store.transaction():
        ex.intend(dvp(), AT)
        raise RuntimeError("the unit of work failed")
    ex.rolled_back()
    assert ex.pending() == [] and store.events("effects") == []
    intend(ex, store, dvp())  # the same plan can be decided again
    assert ex.pending() == [dvp()]


def test_a_plan_is_recorded_once() -> None:
    store, chain = MemoryStore(), FakeChain()
    ex = executor(store, chain)
    intend(ex, store, dvp())
    with pytest.raises(DomainError) as refused:
        ex.intend(dvp(), AT)
    assert refused.value.code == "PLAN_PENDING"


def test_an_unreadable_plan_record_is_refused_not_skipped() -> None:
    store = MemoryStore()
    store.append_event("effects", "PlanIntended", "PlanIntended:1", AT, {"key": "x"})
    with pytest.raises(DomainError) as refused:
        executor(store, FakeChain()).pending()
    assert refused.value.code == "STORE_CORRUPT" and "'effects'" in str(refused.value)


amounts = st.decimals(min_value=Decimal("0.000001"), max_value=Decimal("1e9"), places=6)
wallets = st.sampled_from([A, B, C])


@given(st.lists(st.tuples(wallets, wallets, amounts), min_size=1, max_size=5), st.booleans())
def test_a_plan_reads_back_as_written(
    legs: list[tuple[WalletAddress, WalletAddress, Decimal]], undo: bool
) -> None:
    plan = Plan("p", KO, tuple(Transfer(CASH, s, r, TokenAmount(a, 6)) for s, r, a in legs), undo=undo)
    assert plan_from_dict(plan_to_dict(plan), ()) == plan


def test_identical_legs_are_all_sent_back_when_a_later_leg_is_refused() -> None:
    # Review finding: the undo took the first back-transfer for both identical legs.
    store, chain = MemoryStore(), FakeChain()
    leg = Transfer(CASH, A, B, TokenAmount("5", 6))
    plan = Plan("dup", KO, (leg, leg, Transfer(TOKEN, B, A, TokenAmount("1"))), undo=True)
    ex = executor(store, chain)
    intend(ex, store, plan)
    chain.refuse = {(TOKEN, A)}
    assert not ex.send(plan).done
    assert len([s for s in chain.sent if s[1] == B and s[2] == A]) == 2


def test_two_pending_plans_with_the_same_leg_do_not_take_the_same_log() -> None:
    # Review finding: each recovery started with no claims, so both plans took the one log sent.
    store, chain = MemoryStore(), FakeChain()
    leg = Transfer(CASH, A, B, TokenAmount("5", 6))
    first_plan, second_plan = Plan("p1", KO, (leg,)), Plan("p2", KO, (leg,))
    first = executor(store, chain)
    intend(first, store, first_plan)
    intend(first, store, second_plan)
    first.send(second_plan)  # the kill: the second sent, the first not
    after = executor(store, chain)
    for plan in after.pending():
        outcome = after.recover(plan)
        assert outcome.done
        with store.transaction():
            after.close(outcome, AT)
        after.committed()
    assert len(chain.sent) == 2  # each plan has its own transfer on chain


@pytest.mark.parametrize(("field", "value"), [("undo", "false"), ("note", None), ("key", 7), ("symbol", 3)])
def test_a_plan_record_of_the_wrong_shape_is_refused_not_coerced(field: str, value: object) -> None:
    raw = plan_to_dict(dvp())
    raw[field] = value
    with pytest.raises(DomainError) as refused:
        plan_from_dict(raw, ())
    assert refused.value.code == "EVENT_MALFORMED"


def test_a_plan_recovered_twice_finds_its_own_legs_again() -> None:
    # A recovery that found its first leg, then failed sending the second (the node did not answer),
    # must find that first leg again next time, not send it once more.
    store, chain = MemoryStore(), FakeChain()
    plan = dvp()
    first = executor(store, chain)
    intend(first, store, plan)
    cash = plan.legs[0]
    assert isinstance(cash, Transfer)
    chain.transfer(cash.token, cash.sender, cash.receiver, cash.amount)  # the dead process got this far
    after = executor(store, chain)
    original = chain.transfer

    def down(*args: Any) -> ChainTx:
        raise InfrastructureError("CHAIN_UNAVAILABLE", "the node did not answer")

    chain.transfer = down  # type: ignore[method-assign]
    with pytest.raises(InfrastructureError):
        after.recover(plan)
    chain.transfer = original  # type: ignore[method-assign]
    outcome = after.recover(plan)
    assert outcome.done and [s[0] for s in chain.sent] == [CASH, TOKEN]  # each leg once
