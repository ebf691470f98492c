"""The mint outbox over a fake chain: every intent is minted once, whatever step a kill interrupts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from equitoken.adapters.store.memory import MemoryStore
from equitoken.app.outbox import STREAM, ZERO, MintOutbox, holding_key
from equitoken.domain import DomainError
from equitoken.domain.ids import Symbol, WalletAddress
from equitoken.domain.values import Shares, TokenAmount
from equitoken.ports.chain import ChainEvent, ChainTx, Instrument, Roles

T0 = datetime(2026, 2, 1, tzinfo=UTC)
ACME = Symbol("ACME")
TOKEN = WalletAddress("0x" + "7" * 40)
ANNA = WalletAddress("0x00000000000000000000000000000000000a0001")
BEN = WalletAddress("0x00000000000000000000000000000000000b0001")


class Killed(Exception):
    """The process died here."""


@dataclass
class FakeChain:
    """A chain that mints into a log of ``Transfer`` events, one block per transaction."""

    chain_id: int = 31337
    block: int = 1
    logs: list[ChainEvent] = field(default_factory=list)
    kill_before: int | None = None  # the n-th mint call (1-based) dies before sending
    kill_after: int | None = None  # ... or after it landed
    calls: int = 0

    def block_number(self) -> int:
        return self.block

    def mint(self, instrument: Instrument, to: WalletAddress, amount: TokenAmount) -> ChainTx:
        self.calls += 1
        if self.calls == self.kill_before:
            raise Killed("before the send")
        self.block += 1
        tx_hash = f"0x{self.block:064x}"
        args = {"sender": ZERO, "receiver": to, "value": amount}
        self.logs.append(ChainEvent(instrument.token, "Transfer", self.block, tx_hash, 0, args))
        if self.calls == self.kill_after:
            raise Killed("after the send")
        return ChainTx(tx_hash, self.block, 50_000)

    def events(
        self, contract: WalletAddress, from_block: int, to_block: int | None = None
    ) -> list[ChainEvent]:
        return [e for e in self.logs if e.contract == contract and e.block >= from_block]

    def minted(self, wallet: WalletAddress) -> int:
        return sum(1 for e in self.logs if e.args["receiver"] == wallet)


def instrument() -> Instrument:
    roles = Roles(*([WalletAddress("0x" + "1" * 40)] * len(Roles.__dataclass_fields__)))
    return Instrument(ACME, TOKEN, TOKEN, TOKEN, 18, roles)


LIVE = {ACME: instrument()}


def test_an_intent_is_sent_once_and_a_second_drain_sends_nothing() -> None:
    store, chain = MemoryStore(), FakeChain()
    outbox = MintOutbox(store, chain)
    assert outbox.intend(holding_key(ACME, 0), ACME, ANNA, Shares("500"), T0)
    assert not outbox.intend(holding_key(ACME, 0), ACME, ANNA, Shares("500"), T0)  # keyed: once
    (outcome,) = outbox.drain(LIVE, T0)
    assert not outcome.found and chain.minted(ANNA) == 1
    assert outbox.drain(LIVE, T0) == [] and outbox.pending() == []
    assert chain.minted(ANNA) == 1


def test_a_mint_that_landed_before_a_kill_is_found_not_sent_again() -> None:
    store, chain = MemoryStore(), FakeChain(kill_after=1)
    outbox = MintOutbox(store, chain)
    # Two identical holdings to one wallet: the log of the first must not count for the second.
    outbox.intend(holding_key(ACME, 0), ACME, ANNA, Shares("500"), T0)
    outbox.intend(holding_key(ACME, 1), ACME, ANNA, Shares("500"), T0)
    with pytest.raises(Killed):
        outbox.drain(LIVE, T0)
    outcomes = MintOutbox(store, chain).drain(LIVE, T0)  # the restarted process
    assert [o.found for o in outcomes] == [True, False]
    assert chain.minted(ANNA) == 2
    assert len({o.tx_hash for o in outcomes}) == 2


def test_a_mint_from_before_the_intent_is_not_taken_for_it() -> None:
    store, chain = MemoryStore(), FakeChain()
    chain.mint(instrument(), ANNA, TokenAmount("500", 18))  # an older, recorded mint of the same amount
    outbox = MintOutbox(store, chain)
    outbox.intend("k", ACME, ANNA, Shares("500"), T0)
    (outcome,) = outbox.drain(LIVE, T0)
    assert not outcome.found and chain.minted(ANNA) == 2


def test_an_intent_of_an_instrument_not_live_waits() -> None:
    store, chain = MemoryStore(), FakeChain()
    outbox = MintOutbox(store, chain)
    outbox.intend("k", ACME, ANNA, Shares("1"), T0)
    assert outbox.drain({}, T0) == [] and [i.key for i in outbox.pending()] == ["k"]
    other_chain = MintOutbox(store, FakeChain(chain_id=1))
    assert other_chain.pending() == []  # intents belong to one chain


def test_an_unreadable_intent_is_store_corrupt() -> None:
    store, chain = MemoryStore(), FakeChain()
    store.append_event(STREAM, "MintIntended", "mint:31337:k", T0, {"key": "k", "chain_id": 31337})
    with pytest.raises(DomainError) as caught:
        MintOutbox(store, chain).pending()
    assert caught.value.code == "STORE_CORRUPT" and "position 1" in caught.value.message


@settings(max_examples=60, deadline=None)
@given(
    holdings=st.lists(
        st.tuples(st.sampled_from([ANNA, BEN]), st.sampled_from(["1", "500"])), min_size=1, max_size=6
    ),
    kill=st.tuples(st.sampled_from(["before", "after"]), st.integers(min_value=1, max_value=6)),
)
def test_whatever_send_a_kill_interrupts_every_intent_is_minted_exactly_once(
    holdings: list[tuple[WalletAddress, str]], kill: tuple[str, int]
) -> None:
    store = MemoryStore()
    chain = FakeChain(**{f"kill_{kill[0]}": kill[1]})  # type: ignore[arg-type]
    outbox = MintOutbox(store, chain)
    with store.transaction():
        for position, (wallet, shares) in enumerate(holdings):
            outbox.intend(holding_key(ACME, position), ACME, wallet, Shares(shares), T0)
    try:
        outbox.drain(LIVE, T0)
    except Killed:
        MintOutbox(store, chain).drain(LIVE, T0)
    MintOutbox(store, chain).drain(LIVE, T0)  # and once more: nothing left to do
    for wallet in (ANNA, BEN):
        wanted = sorted(Decimal(s) for w, s in holdings if w == wallet)
        minted = sorted(e.args["value"].value for e in chain.logs if e.args["receiver"] == wallet)
        assert minted == wanted
    assert MintOutbox(store, chain).pending() == []
