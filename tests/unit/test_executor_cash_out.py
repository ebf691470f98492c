"""The executor's stablecoin burn leg over a fake chain: sent once, found after a kill, never burned twice."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from equitoken.adapters.clock import ManualClock
from equitoken.adapters.store.memory import MemoryStore
from equitoken.app.executor import Executor
from equitoken.domain.errors import DomainError
from equitoken.domain.ids import ZERO_ADDRESS_TEXT, WalletAddress
from equitoken.domain.values import Money, TokenAmount
from equitoken.issuance.plans import BurnStablecoin, Plan, Transfer, plan_from_dict, plan_to_dict
from equitoken.ports.chain import ChainEvent, ChainTx

AT = datetime(2013, 3, 4, 15, 0, tzinfo=UTC)
COIN = WalletAddress("0x" + "22" * 20)
ANNA, OUTSIDE = WalletAddress("0x" + "a" * 40), WalletAddress("0x" + "e" * 40)
ZERO = WalletAddress(ZERO_ADDRESS_TEXT)


class Killed(BaseException):
    """The process died right after the chain accepted the call."""


@dataclass
class CoinChain:
    """A stablecoin as balances and Transfer logs, one block per call; ``kill_after`` dies after a burn."""

    balances: dict[WalletAddress, Decimal] = field(default_factory=dict)
    logs: list[ChainEvent] = field(default_factory=list)
    burns: int = 0
    kill_after_burn: bool = False

    def block_number(self) -> int:
        return len(self.logs)

    def _log(self, sender: WalletAddress, receiver: WalletAddress, amount: Decimal) -> ChainTx:
        block = len(self.logs) + 1
        args = {"sender": sender, "receiver": receiver, "value": TokenAmount(amount, 6)}
        self.logs.append(ChainEvent(COIN, "Transfer", block, f"0x{block:064x}", 0, args))
        return ChainTx(f"0x{block:064x}", block, 0, ())

    def burn_stablecoin(self, stablecoin: WalletAddress, holder: WalletAddress, amount: Money) -> ChainTx:
        held = self.balances.get(holder, Decimal(0))
        if held < amount.amount:
            raise DomainError("INSUFFICIENT_BALANCE", f"{holder} holds {held}")
        self.balances[holder] = held - amount.amount
        self.burns += 1
        tx = self._log(holder, ZERO, amount.amount)
        if self.kill_after_burn:
            raise Killed("killed after the burn")
        return tx

    def transfer(
        self, token: WalletAddress, sender: WalletAddress, receiver: WalletAddress, amount: TokenAmount
    ) -> ChainTx:
        self.balances[sender] = self.balances.get(sender, Decimal(0)) - amount.value
        self.balances[receiver] = self.balances.get(receiver, Decimal(0)) + amount.value
        return self._log(sender, receiver, amount.value)

    def events(
        self, contract: WalletAddress, from_block: int, to_block: int | None = None
    ) -> list[ChainEvent]:
        return [e for e in self.logs if e.contract == contract and e.block >= from_block]


def executor(store: MemoryStore, chain: CoinChain) -> Executor:
    unused: Any = None
    return Executor(store, chain, ManualClock(AT), lambda s: unused, lambda s: ())  # type: ignore[arg-type]


def redemption(key: str = "r1", amount: str = "250") -> Plan:
    return Plan(key, None, (BurnStablecoin(COIN, ANNA, TokenAmount(amount, 6)),), note="a redemption")


def intend(ex: Executor, store: MemoryStore, plan: Plan) -> None:
    with store.transaction():
        ex.intend(plan, AT)
    ex.committed()


def test_a_burn_leg_is_sent_once_and_the_plan_is_done() -> None:
    store, chain = MemoryStore(), CoinChain({ANNA: Decimal(1000)})
    ex = executor(store, chain)
    intend(ex, store, redemption())
    outcome = ex.send(redemption())
    assert outcome.done and chain.burns == 1 and chain.balances[ANNA] == 750


def test_a_burn_the_chain_refuses_abandons_the_plan_and_moves_nothing() -> None:
    store, chain = MemoryStore(), CoinChain({ANNA: Decimal(100)})
    ex = executor(store, chain)
    intend(ex, store, redemption())
    outcome = ex.send(redemption())
    assert not outcome.done and outcome.failure is not None
    assert outcome.failure.code == "INSUFFICIENT_BALANCE" and chain.balances[ANNA] == 100


def test_a_burn_killed_before_its_commit_is_found_on_chain_not_burned_again() -> None:
    store, chain = MemoryStore(), CoinChain({ANNA: Decimal(1000)}, kill_after_burn=True)
    intend(executor(store, chain), store, redemption())
    try:
        executor(store, chain).send(redemption())
        raise AssertionError("the kill did not happen")
    except Killed:
        pass
    chain.kill_after_burn = False
    after = executor(store, chain)  # a new process: the outbox folded again from the store
    (pending,) = after.pending()
    outcome = after.recover(pending)
    assert outcome.done and outcome.found
    assert chain.burns == 1 and chain.balances[ANNA] == 750


def test_a_burn_before_the_plan_was_recorded_is_not_taken_for_the_plans() -> None:
    # The same burn (same wallet, same amount) made before the intent's block belongs to someone else.
    store, chain = MemoryStore(), CoinChain({ANNA: Decimal(1000)})
    chain.burn_stablecoin(COIN, ANNA, Money("250"))
    intend(executor(store, chain), store, redemption())
    after = executor(store, chain)
    (pending,) = after.pending()
    outcome = after.recover(pending)
    assert outcome.done and not outcome.found and chain.burns == 2 and chain.balances[ANNA] == 500


def test_two_identical_pending_burns_each_claim_their_own_log() -> None:
    store, chain = MemoryStore(), CoinChain({ANNA: Decimal(1000)})
    ex = executor(store, chain)
    intend(ex, store, redemption("r1"))
    intend(ex, store, redemption("r2"))
    chain.burn_stablecoin(COIN, ANNA, Money("250"))  # only the first was sent before the kill
    after = executor(store, chain)
    outcomes = [after.recover(p) for p in after.pending()]
    assert [o.found for o in outcomes] == [True, False]
    assert chain.burns == 2 and chain.balances[ANNA] == 500


@given(amount=st.decimals(min_value=Decimal("0.000001"), max_value=Decimal(10**9), places=6))
def test_a_burn_and_a_withdrawal_survive_the_plan_record(amount: Decimal) -> None:
    coins = TokenAmount(amount, 6)
    plan = Plan("w1", None, (BurnStablecoin(COIN, ANNA, coins), Transfer(COIN, ANNA, OUTSIDE, coins)))
    assert plan_from_dict(plan_to_dict(plan), ()) == plan
