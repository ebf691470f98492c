"""Attestations over the running engine: signed, verifiable, posted on chain, with holder proofs."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import cast

import pytest

from equitoken.adapters.chain.keys import derive_private_key
from equitoken.adapters.chain.signing import KeySigner, recover
from equitoken.app.attestation import Package, attest, feed_ratio, prove, read_holders
from equitoken.app.issuance import IssuanceEngine
from equitoken.app.reserves import ReservesService
from equitoken.compliance.actions import Regulation
from equitoken.domain.chains import DEVELOPMENT_SEED, TRUSTEE_LABEL
from equitoken.domain.errors import DomainError
from equitoken.domain.ids import Symbol
from equitoken.domain.values import Price, Shares
from equitoken.issuance.models import ModelName
from equitoken.reserves.attestation import verify_document
from equitoken.reserves.merkle import verify
from equitoken.simulation.week import model_builders
from tests.issuance.world import World, ny

START = ny(2012, 11, 19, 10, 0)
KO, MSFT, AAPL = Symbol("KO"), Symbol("MSFT"), Symbol("AAPL")


@pytest.fixture(scope="module")
def attested() -> tuple[World, Package]:
    world = World.start(START)
    builders = model_builders()
    world.list("AAPL", ModelName.INVENTORY, "tracker-certificate", builders[ModelName.INVENTORY])
    world.list("MSFT", ModelName.INSTANT, "instant-execution", builders[ModelName.INSTANT])
    world.list("KO", ModelName.DIRECT, "direct-ownership", builders[ModelName.DIRECT])
    anna, dev = world.investor("anna", residence="DE"), world.investor("dev", residence="SG")
    world.engine.desk.whitelist(KO, [anna.investor, dev.investor])
    for holder in (anna, dev):
        world.engine.issue_primary(
            KO,
            holder,
            Shares(40),
            Price("37"),
            acquired_at=START - timedelta(days=800),
            regulation=Regulation.REG_S,
        )
        world.engine.submit(world.buy(holder, "AAPL", "3"))
        world.engine.submit(world.buy(holder, "MSFT", "11"))
    world.at(ny(2012, 11, 19, 19, 0))
    world.engine.submit(world.buy(anna, "MSFT", "4"))  # off-hours: backed by the buffer's commitment
    chain = world.engine.chain
    trustee = KeySigner(chain.keyring.private_key(chain.wallet("trustee").to_bytes()))
    registry = chain.deploy_reserve_registry(trustee.address)
    package = attest(world.engine, ReservesService(world.engine), trustee, registry=registry)
    return world, package


def test_the_document_verifies_and_states_what_shares_back(attested: tuple[World, Package]) -> None:
    world, package = attested
    checked = verify_document(package.signed.to_json(), recover)
    assert checked.signer == package.signed.signer
    lines = {line.symbol.value: line for line in checked.attestation.lines}
    assert set(lines) == {"AAPL", "MSFT", "KO"}
    assert lines["AAPL"].collateral_ratio == lines["KO"].collateral_ratio == 1
    # 22 MSFT hedged in session are in flight at the broker; 4 fronted off-hours are only committed
    # (backed by the buffer's cash until the next open): shares back 22 of 26 tokens.
    assert lines["MSFT"].in_flight.value == 22 and lines["MSFT"].supply.value == 26
    assert lines["MSFT"].collateral_ratio == Decimal("0.846153846")
    assert checked.attestation.chain_id == world.engine.chain.chain_id
    assert checked.attestation.registry == package.registry
    assert lines["KO"].holder_count == 2 and lines["KO"].model == "direct"


def test_every_holder_proof_verifies_off_chain_and_on_chain(attested: tuple[World, Package]) -> None:
    world, package = attested
    chain = world.engine.chain
    assert package.registry is not None
    for line in package.signed.attestation.lines:
        posted = chain.latest_attestation(package.registry, line.symbol)
        assert posted is not None and posted.holders_root == "0x" + line.holders_root.hex()
        assert posted.document_hash == package.document_hash
        holders = package.holders[line.symbol]
        assert sum(units for _, units in holders.entries) == line.supply.to_units()
        for wallet, _ in holders.entries:
            proof = prove(holders, wallet)
            nodes = [bytes.fromhex(n[2:]) for n in proof.proof]
            assert verify(line.holders_root, wallet.to_bytes(), proof.balance, nodes)
            assert chain.verify_holder_on_chain(
                package.registry, line.symbol, wallet, proof.balance, proof.proof
            )
            assert not chain.verify_holder_on_chain(
                package.registry, line.symbol, wallet, proof.balance + 1, proof.proof
            )


def test_a_tampered_document_or_signature_is_refused(attested: tuple[World, Package]) -> None:
    _, package = attested
    document = json.loads(package.signed.to_json())
    document["attestation"]["lines"][0]["custody_shares"] = "1"
    with pytest.raises(DomainError) as changed_figure:
        verify_document(json.dumps(document), recover)
    assert changed_figure.value.code == "INVALID_ATTESTATION"  # the stated ratio no longer follows
    document = json.loads(package.signed.to_json())
    document["attestation"]["lines"][0]["holders_root"] = "0x" + "11" * 32
    with pytest.raises(DomainError) as changed_root:
        verify_document(json.dumps(document, sort_keys=True, separators=(",", ":")), recover)
    assert changed_root.value.code == "BAD_SIGNATURE"
    document = json.loads(package.signed.to_json())
    signature = bytearray.fromhex(document["signature"][2:])
    signature[5] ^= 1
    document["signature"] = "0x" + signature.hex()
    with pytest.raises(DomainError) as forged:
        verify_document(json.dumps(document, sort_keys=True, separators=(",", ":")), recover)
    assert forged.value.code in {"BAD_SIGNATURE", "INVALID_SIGNATURE"}


def test_the_registry_accepts_only_newer_attestations_from_its_trustee(
    attested: tuple[World, Package],
) -> None:
    world, package = attested
    chain = world.engine.chain
    assert package.registry is not None
    line = package.signed.attestation.lines[0]
    root = "0x" + line.holders_root.hex()
    with pytest.raises(DomainError):
        chain.post_attestation(
            package.registry, line.symbol, package.signed.attestation.as_of_block, root, root
        )


def test_a_proof_is_refused_for_a_wallet_that_holds_nothing(attested: tuple[World, Package]) -> None:
    world, package = attested
    with pytest.raises(DomainError) as refused:
        prove(package.holders[KO], world.engine.chain.wallet("nobody"))
    assert refused.value.code == "NOT_A_HOLDER"


def test_the_holder_list_round_trips_through_its_csv(attested: tuple[World, Package]) -> None:
    _, package = attested
    holders = package.holders[MSFT]
    assert read_holders(MSFT, holders.to_csv(), "holders-MSFT.csv") == holders
    with pytest.raises(DomainError) as bad:
        read_holders(MSFT, "holder,balance\n0x123,5\n", "bad.csv")
    assert bad.value.code == "INVALID_ADDRESS" and bad.value.message.startswith("bad.csv, line 2")


def test_nothing_is_attested_while_a_listing_is_halted(attested: tuple[World, Package]) -> None:
    world, _ = attested
    engine = world.engine
    engine.halt_minting(MSFT, "test: a custodian report is missing")
    chain = engine.chain
    trustee = KeySigner(chain.keyring.private_key(chain.wallet("trustee").to_bytes()))
    try:
        with pytest.raises(DomainError) as refused:
            attest(engine, ReservesService(engine), trustee)
        assert refused.value.code == "RESERVES_BROKEN" and "custodian report" in refused.value.message
    finally:
        ReservesService(engine).resume(MSFT, "test", "restored for the other tests")


def test_a_package_written_over_another_is_replaced_whole_or_not_at_all(
    attested: tuple[World, Package], tmp_path: Path
) -> None:
    _, package = attested
    target = tmp_path / "reserves"
    target.mkdir()
    old = {"attestation.json": b"old document", "holders-IBM.csv": b"holder,balance\n"}
    for name, data in old.items():
        (target / name).write_bytes(data)
    written: list[Path] = []

    def full_disk_after_two(path: Path, data: bytes) -> None:
        if len(written) == 2:  # a kill here once left a new attestation.json beside old holder lists
            raise OSError(28, "No space left on device")
        path.write_bytes(data)
        written.append(path)

    with pytest.raises(DomainError) as refused:
        package.write(target, write=full_disk_after_two)
    assert refused.value.code == "FILE_UNWRITABLE"
    assert {p.name: p.read_bytes() for p in target.iterdir()} == old
    paths = package.write(target)
    assert paths[0] == target / "attestation.json"
    assert {p.name for p in target.iterdir()} == {"attestation.json"} | {
        f"holders-{s.value}.csv" for s in package.holders
    }
    assert verify_document((target / "attestation.json").read_bytes(), recover) == package.signed


class _ChainOf:
    """An engine stand-in with only a chain id: the refusal must come before anything is read."""

    def __init__(self, chain_id: int) -> None:
        self.chain = self
        self.chain_id = chain_id
        self.reads = 0

    def block_number(self) -> int:
        self.reads += 1
        return 1


def test_the_public_development_key_signs_for_the_embedded_chain_only() -> None:
    public = KeySigner(derive_private_key(DEVELOPMENT_SEED, TRUSTEE_LABEL))
    for chain_id in (31337, 1337, 1):
        engine = _ChainOf(chain_id)
        with pytest.raises(DomainError) as refused:
            attest(cast(IssuanceEngine, engine), cast(ReservesService, None), public)
        assert refused.value.code == "DEV_KEY_ON_REAL_CHAIN" and engine.reads == 0


def test_each_attestation_posts_its_ratio_to_the_listings_feed_and_gated_mints_follow_it() -> None:
    from equitoken.ports.chain import ReserveGate

    world = World.start(START)
    builders = model_builders()
    world.list("AAPL", ModelName.INVENTORY, "tracker-certificate", builders[ModelName.INVENTORY])
    world.list("MSFT", ModelName.INSTANT, "instant-execution", builders[ModelName.INSTANT])
    anna = world.investor("anna", residence="DE")
    chain = world.engine.chain
    trustee = KeySigner(chain.keyring.private_key(chain.wallet("trustee").to_bytes()))
    registry = chain.deploy_reserve_registry(trustee.address)
    feeds = {s: chain.deploy_reserve_feed(trustee.address, f"{s.value} ratio") for s in (AAPL, MSFT)}
    heartbeat = timedelta(hours=26)
    reserves = ReservesService(world.engine)
    # Bootstrapping: the first attestation (empty supplies owe nothing: ratio 1) opens the gate.
    attest(world.engine, reserves, trustee, registry=registry, feeds=feeds)
    for symbol, feed in feeds.items():
        chain.gate_mints(world.engine.model(symbol).listing.instrument, ReserveGate(feed, heartbeat))
        first = chain.latest_round(feed)
        assert first is not None and (first.round_id, first.ratio) == (1, 1)
    assert world.engine.submit(world.buy(anna, "AAPL", "3")).order.state.value == "settled"
    world.at(ny(2012, 11, 19, 19, 0))
    assert world.engine.submit(world.buy(anna, "MSFT", "4")).order.state.value == "settled"  # fronted
    package = attest(world.engine, reserves, trustee, registry=registry)  # the feeds read from the tokens
    lines = {line.symbol: line for line in package.signed.attestation.lines}
    # Off-hours the instant listing's shares are the buffer's commitments for the next open: the
    # document counts custody and in flight only (0), the feed the backing the ledger counts (1), so
    # the gate does not stop the listing every evening.
    msft = chain.latest_round(feeds[MSFT])
    assert lines[MSFT].collateral_ratio == 0 and lines[MSFT].in_flight == Shares(0)
    assert msft is not None and msft.round_id == 2 and msft.ratio == 1
    aapl = chain.latest_round(feeds[AAPL])
    assert aapl is not None and aapl.ratio == lines[AAPL].collateral_ratio == 1
    assert world.engine.submit(world.buy(anna, "MSFT", "1")).order.state.value == "settled"  # off-hours
    # Truly short — the commitments not counted, as if the buffer had promised nothing — the feed
    # reads below 1 and, on chain, whatever the engine thinks, the next mint is refused.
    short = feed_ratio(lines[MSFT], Decimal(0))
    assert short == 0
    chain.post_reserve_round(feeds[MSFT], short, chain.block_number())
    refused = world.engine.submit(world.buy(anna, "MSFT", "1"))
    assert refused.order.state.value == "cancelled"
    (cancelled,) = [e for e in refused.events if type(e).__name__ == "OrderCancelled"]
    assert str(getattr(cancelled, "reason", "")).startswith("RESERVES_INSUFFICIENT: ")
    # A day and more without an attestation: the feed is stale, and the inventory listing's mint refused.
    instrument = world.engine.model(AAPL).listing.instrument
    world.at(ny(2012, 11, 21, 10, 0))
    decision = chain.can_mint(instrument, chain.wallet("anyone"), instrument.amount(1))
    assert decision.reason.name == "RESERVES_STALE"
