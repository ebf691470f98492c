"""Reconciliation on the running engine: clean after real trading; a break halts minting until resolved."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from decimal import Decimal

import pytest

from equitoken.app.issuance import IssuanceEngine
from equitoken.app.reserves import ReservesService
from equitoken.compliance.actions import Regulation
from equitoken.domain.errors import DomainError
from equitoken.domain.ids import Symbol
from equitoken.domain.values import Price, Shares
from equitoken.issuance.models import ModelName
from equitoken.issuance.models.base import Holder
from equitoken.issuance.models.books import custody, token_supply
from equitoken.issuance.orders import OrderState
from equitoken.ledger.entries import Entry
from equitoken.reserves.reconciliation import BreakKind
from equitoken.simulation.week import model_builders
from tests.issuance.world import World, ny

START = ny(2012, 11, 19, 10, 0)
AAPL, MSFT, KO = Symbol("AAPL"), Symbol("MSFT"), Symbol("KO")


def three_listings() -> tuple[World, Holder]:
    world = World.start(START)
    builders = model_builders()
    world.list("AAPL", ModelName.INVENTORY, "tracker-certificate", builders[ModelName.INVENTORY])
    world.list("MSFT", ModelName.INSTANT, "instant-execution", builders[ModelName.INSTANT])
    world.list("KO", ModelName.DIRECT, "direct-ownership", builders[ModelName.DIRECT])
    anna = world.investor("anna", residence="DE")
    world.engine.desk.whitelist(KO, [anna.investor])
    world.engine.issue_primary(
        KO,
        anna,
        Shares(50),
        Price("37"),
        acquired_at=START - timedelta(days=800),
        regulation=Regulation.REG_S,
    )
    return world, anna


def test_every_listing_reconciles_after_trading_in_and_out_of_session() -> None:
    world, anna = three_listings()
    engine = world.engine
    for symbol in ("AAPL", "MSFT"):
        assert engine.submit(world.buy(anna, symbol, "5")).order.state is OrderState.SETTLED
    world.at(ny(2012, 11, 19, 18, 0))  # evening: the instant model fills from its buffer, hedge pending
    assert engine.submit(world.buy(anna, "MSFT", "7")).order.state is OrderState.SETTLED
    service = ReservesService(engine)
    results = {r.sources.symbol: r for r in service.reconcile_all()}
    assert all(r.ok for r in results.values()), [str(b) for r in results.values() for b in r.breaks]
    assert results["MSFT"].sources.ledger_commitments == 7  # the buffer's commitment counts as backing
    assert results["KO"].sources.custodian.register and results["KO"].collateral_ratio == 1
    world.at(ny(2012, 11, 26, 10, 0))  # past the hedge at the open and the T+3 settlement of the first buys
    assert all(r.ok for r in service.reconcile_all())


def test_a_stray_mint_halts_new_tokens_until_an_operator_resolves_it() -> None:
    world, anna = three_listings()
    engine = world.engine
    engine.submit(world.buy(anna, "AAPL", "5"))
    instrument = engine.model(AAPL).listing.instrument
    engine.chain.mint(instrument, anna.wallet, instrument.amount(3))  # outside the platform's books
    service = ReservesService(engine)
    result = service.reconcile(AAPL)
    assert [b.kind for b in result.breaks] == [BreakKind.CHAIN_VS_LEDGER]
    assert AAPL in service.halts() and AAPL in engine.halted()
    assert any(e.type == "MintingHalted" for e in world.store.events("reserves"))
    refused = engine.submit(world.buy(anna, "AAPL", "1")).order
    assert refused.rejection is not None and refused.rejection.code == "MINTING_HALTED"
    redeemed = engine.submit(world.sell(anna, "AAPL", "2")).order
    assert redeemed.state is OrderState.SETTLED  # redemptions go on
    with pytest.raises(DomainError) as still:
        service.resume(AAPL, "ops-1", "checked")
    assert still.value.code == "RESERVES_STILL_BROKEN"
    engine.chain.burn(instrument, anna.wallet, instrument.amount(3))  # the issuer reverses the stray mint
    service.resume(AAPL, "ops-1", "stray mint of 3 reversed by burn")
    assert engine.halted() == {}
    assert engine.submit(world.buy(anna, "AAPL", "1")).order.state is OrderState.SETTLED
    resumed = [e for e in world.store.events("reserves") if e.type == "MintingResumed"]
    assert resumed[0].payload["operator"] == "ops-1" and "reversed" in resumed[0].payload["reason"]


def test_a_halt_survives_a_restart_of_the_service() -> None:
    world, anna = three_listings()
    engine = world.engine
    instrument = engine.model(MSFT).listing.instrument
    engine.chain.mint(instrument, anna.wallet, instrument.amount(1))
    ReservesService(engine).reconcile(MSFT)
    restarted = IssuanceEngine(
        engine.desk,
        world.store,
        engine.chain,
        world.clock,
        engine.calendar,
        engine.prices,
        lambda: None,  # type: ignore[arg-type,return-value]
    )
    assert MSFT in restarted.halted()  # the journal remembers what the engine halted


def test_an_operator_may_accept_a_break_only_explicitly_and_on_the_record() -> None:
    world, anna = three_listings()
    engine = world.engine
    instrument = engine.model(KO).listing.instrument
    engine.chain.mint(instrument, anna.wallet, instrument.amount(1))
    service = ReservesService(engine)
    service.reconcile(KO)
    with pytest.raises(DomainError) as refused:
        engine.issue_primary(KO, anna, Shares(1), Price("37"))
    assert refused.value.code == "MINTING_HALTED"
    with pytest.raises(DomainError) as no_reason:
        service.resume(KO, "ops-2", " ")
    assert no_reason.value.code == "REASON_REQUIRED"
    service.resume(KO, "ops-2", "legal hold: investigating", accept_break=True)
    resumed = next(e for e in world.store.events("reserves") if e.type == "MintingResumed")
    assert resumed.payload["accepted_breaks"] and "CHAIN_VS_LEDGER" in resumed.payload["accepted_breaks"][0]


def test_a_halt_the_engine_raised_itself_is_lifted_through_reconciliation() -> None:
    world, _ = three_listings()
    engine = world.engine
    engine.halt_minting(AAPL, "the model failed on time: RuntimeError()")
    service = ReservesService(engine)
    assert AAPL in service.halts()
    service.resume(AAPL, "ops-3", "the model was fixed; reserves reconcile")
    assert engine.halted() == {}
    with pytest.raises(DomainError) as twice:
        service.resume(AAPL, "ops-3", "again")
    assert twice.value.code == "NOT_HALTED"


def test_a_register_that_adds_up_with_the_wrong_owners_is_a_break() -> None:
    world, anna = three_listings()
    engine = world.engine
    bob = world.investor("bob", residence="DE")
    engine.desk.whitelist(KO, [bob.investor])
    instrument = engine.model(KO).listing.instrument
    engine.chain.forced_transfer(instrument, anna.wallet, bob.wallet, instrument.amount(20))
    result = ReservesService(engine).reconcile(KO)
    assert [b.kind for b in result.breaks] == [BreakKind.HOLDERS]
    assert KO in engine.halted()


def test_a_reconciliation_reads_only_the_entries_posted_since_the_last(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The ledger side follows the journal: no balance summed over the history, the same figures."""
    world, anna = three_listings()
    engine, store = world.engine, world.engine.store
    service = ReservesService(engine)
    assert all(r.ok for r in service.reconcile_all())
    before = store.entries()[-1].seq
    assert engine.submit(world.buy(anna, "AAPL", "2")).order.state is OrderState.SETTLED
    posted = len(store.entries(after_seq=before))
    read: list[int] = []
    entries = store.entries

    def counting(after_seq: int = 0, limit: int | None = None) -> Sequence[Entry]:
        found = entries(after_seq, limit)
        read.extend(e.seq for e in found)
        return found

    def summed(*_: object, **__: object) -> Decimal:
        raise AssertionError("a reconciliation summed a balance over the whole history")

    monkeypatch.setattr(store, "entries", counting)
    monkeypatch.setattr(store, "balance", summed)
    results = {r.sources.symbol: r for r in service.reconcile_all()}
    assert len(read) == posted and min(read) > before  # only what the buy posted
    monkeypatch.undo()
    aapl = results["AAPL"].sources
    listing = engine.model(AAPL).listing
    assert aapl.ledger_custody == store.balance(custody(AAPL), listing.share)
    assert aapl.ledger_tokens == -store.balance(token_supply(AAPL), listing.token)
    assert all(r.ok for r in results.values())
