"""The proof-of-reserve feed on every engine (embedded, durable, anvil): AggregatorV3 answers, the mint gate.

A listing's ``ReserveFeed`` reports the collateral ratio of each attestation (18 decimals); the token
refuses new tokens while the latest round is older than the heartbeat (``RESERVES_STALE``) or the ratio
is below 1 (``RESERVES_INSUFFICIENT``), and a toy lending protocol (``fixtures/Lender.vy``) reading
``latestRoundData`` gets the posted figures.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal

import pytest

from equitoken.adapters.chain.backend import RawCall
from equitoken.adapters.chain.facade import contract_abi
from equitoken.domain.errors import DomainError
from equitoken.domain.reasons import Reason
from equitoken.ports.chain import ChainRefusal, ReserveGate
from tests.chain.conftest import compile_fixture
from tests.chain.token_world import (
    ENGINES,
    World,
    _close_worlds,  # noqa: F401 - session fixture: closes the worlds' backends
    world_fixture,
)

HEARTBEAT = timedelta(hours=26)
ONE = Decimal(1)


@pytest.fixture(params=sorted(ENGINES))
def w(request: pytest.FixtureRequest) -> Iterator[World]:
    """Yield the engine's world at a fresh snapshot."""
    yield from world_fixture(request.param)


def _post(w: World, feed: object, ratio: Decimal) -> None:
    w.dev.mine()  # each attestation is as of a later block than the last
    w.chain.post_reserve_round(feed, ratio, w.chain.block_number())  # type: ignore[arg-type]


def test_the_feed_answers_after_one_two_and_n_attestations(w: World) -> None:
    feed = w.chain.deploy_reserve_feed(w.chain.wallet("trustee"), "ACME collateral ratio")
    assert w.chain.latest_round(feed) is None
    abi = contract_abi("ReserveFeed")
    raw = bytes.fromhex(feed.value[2:])

    def view(name: str) -> object:
        (answer,) = abi.decode(name, w.chain.backend.call(raw, abi.encode(name)))
        return answer

    assert (view("decimals"), view("description"), view("version")) == (18, "ACME collateral ratio", 1)
    with pytest.raises(DomainError, match=r"^RESERVES_NO_SUCH_ROUND"):
        w.chain._view("ReserveFeed", raw, "latestRoundData")  # no round: a revert, never a zero answer
    ratios = [Decimal("1.000000000"), Decimal("0.987654321"), Decimal("1.5"), Decimal("1.000000001"), ONE]
    posted_at = []
    for n, ratio in enumerate(ratios, start=1):
        w.travel(timedelta(hours=1))
        w.chain.post_reserve_round(feed, ratio, w.chain.block_number())
        posted_at.append(w.now())
        latest = w.chain.latest_round(feed)
        assert latest is not None
        assert (latest.round_id, latest.ratio, latest.answered_in_round) == (n, ratio, n)
        assert latest.updated_at == latest.started_at == posted_at[-1]
    for n, ratio in enumerate(ratios, start=1):  # old rounds stay readable, as Chainlink's do
        old = w.chain.round_data(feed, n)
        assert (old.round_id, old.ratio, old.updated_at) == (n, ratio, posted_at[n - 1])
    with pytest.raises(DomainError, match=r"^RESERVES_NO_SUCH_ROUND"):
        w.chain.round_data(feed, len(ratios) + 1)
    with pytest.raises(DomainError, match=r"^RESERVES_NO_SUCH_ROUND"):
        w.chain.round_data(feed, 0)


def test_only_the_trustee_posts_and_rounds_move_forward(w: World) -> None:
    feed = w.chain.deploy_reserve_feed(w.chain.wallet("trustee"), "ACME collateral ratio")
    w.dev.mine()
    block = w.chain.block_number()
    w.chain.post_reserve_round(feed, ONE, block)
    with pytest.raises(DomainError, match=r"^RESERVES_NOT_NEWER"):
        w.chain.post_reserve_round(feed, ONE, block)  # the same attestation twice is one round
    with pytest.raises(DomainError, match=r"^RESERVES_BLOCK_IN_THE_FUTURE"):
        w.chain.post_reserve_round(feed, ONE, w.chain.block_number() + 10)
    stranger = w.chain.wallet("stranger")
    contract = w.chain.backend  # the feed's own check, not the facade's choice of sender
    data = contract_abi("ReserveFeed").encode("postRound", 10**18, w.chain.block_number())
    w.chain._ensure_funded(bytes.fromhex(stranger.value[2:]))
    (receipt,) = contract.send(
        [RawCall(bytes.fromhex(stranger.value[2:]), bytes.fromhex(feed.value[2:]), data, 0, 200_000)]
    )
    assert not receipt.success
    with pytest.raises(DomainError, match=r"^TOO_MANY_DECIMALS"):
        w.chain.post_reserve_round(feed, Decimal("1." + "0" * 18 + "1"), w.chain.block_number())


def _gated(w: World) -> object:
    feed = w.chain.deploy_reserve_feed(w.chain.wallet("trustee"), "ACME collateral ratio")
    w.chain.gate_mints(w.instrument, ReserveGate(feed, HEARTBEAT))
    assert w.chain.mint_gate(w.instrument) == ReserveGate(feed, HEARTBEAT)
    return feed


def test_a_gated_token_refuses_mints_until_the_first_round(w: World) -> None:
    feed = _gated(w)
    assert w.chain.can_mint(w.instrument, w.alice, w.amount(1)).reason is Reason.RESERVES_STALE
    with pytest.raises(ChainRefusal, match=r"^RESERVES_STALE:"):
        w.chain.mint(w.instrument, w.alice, w.amount(1))
    _post(w, feed, ONE)  # the bootstrap round: an empty supply owes nothing
    w.chain.mint(w.instrument, w.alice, w.amount(1))
    assert w.balance(w.alice) == w.amount(1)


def test_a_mint_is_refused_below_one_and_allowed_again_after_a_fresh_attestation(w: World) -> None:
    feed = _gated(w)
    _post(w, feed, ONE)
    w.chain.mint(w.instrument, w.alice, w.amount(10))
    _post(w, feed, Decimal("0.999999999"))
    assert w.chain.can_mint(w.instrument, w.bob, w.amount(1)).reason is Reason.RESERVES_INSUFFICIENT
    with pytest.raises(ChainRefusal, match=r"^RESERVES_INSUFFICIENT:"):
        w.chain.mint(w.instrument, w.bob, w.amount(1))
    with pytest.raises(ChainRefusal, match=r"^RESERVES_INSUFFICIENT:"):
        w.chain.batch_mint(w.instrument, [(w.bob, w.amount(1)), (w.carol, w.amount(1))])
    # Redemptions and transfers go on whatever the feed says.
    w.chain.transfer(w.token, w.alice, w.bob, w.amount(2))
    w.chain.burn(w.instrument, w.alice, w.amount(1))
    _post(w, feed, ONE)
    assert w.chain.can_mint(w.instrument, w.bob, w.amount(1)).reason is Reason.OK
    w.chain.batch_mint(w.instrument, [(w.bob, w.amount(1)), (w.carol, w.amount(1))])
    assert w.balance(w.carol) == w.amount(1)


def test_a_stale_feed_refuses_mints_until_a_fresh_attestation(w: World) -> None:
    feed = _gated(w)
    _post(w, feed, Decimal("1.25"))
    w.travel(HEARTBEAT)  # exactly one heartbeat old: still fresh
    assert w.chain.can_mint(w.instrument, w.alice, w.amount(1)).reason is Reason.OK
    w.travel(timedelta(seconds=1))
    assert w.chain.can_mint(w.instrument, w.alice, w.amount(1)).reason is Reason.RESERVES_STALE
    with pytest.raises(ChainRefusal, match=r"^RESERVES_STALE:"):
        w.chain.mint(w.instrument, w.alice, w.amount(1))
    _post(w, feed, ONE)
    w.chain.mint(w.instrument, w.alice, w.amount(1))
    assert w.balance(w.alice) == w.amount(1)


def test_removing_the_gate_and_bad_settings(w: World) -> None:
    feed = _gated(w)
    with pytest.raises(ChainRefusal, match=r"^RESERVES_STALE:"):
        w.chain.mint(w.instrument, w.alice, w.amount(1))
    with pytest.raises(DomainError, match=r"^TOKEN_FEED_HEARTBEAT_OUT_OF_RANGE"):
        w.chain.gate_mints(w.instrument, ReserveGate(feed, timedelta(0)))
    with pytest.raises(DomainError, match=r"^CHAIN_REVERT"):
        w.chain.gate_mints(w.instrument, ReserveGate(w.dave, HEARTBEAT))  # no contract there at all
    w.chain.gate_mints(w.instrument, None)
    assert w.chain.mint_gate(w.instrument) is None
    w.chain.mint(w.instrument, w.alice, w.amount(1))


def test_a_lending_protocol_reads_the_posted_figures(w: World) -> None:
    feed = w.chain.deploy_reserve_feed(w.chain.wallet("trustee"), "ACME collateral ratio")
    lender_code = compile_fixture("Lender")
    sender = bytes.fromhex(w.chain.wallet("lender").value[2:])
    w.chain._ensure_funded(sender)
    raw_feed = bytes.fromhex(feed.value[2:])
    init = lender_code.bytecode + bytes(12) + raw_feed + int(HEARTBEAT.total_seconds()).to_bytes(32, "big")
    (deployed,) = w.chain.backend.send([RawCall(sender, None, init, 0, 2_000_000)])
    assert deployed.success and deployed.contract_address is not None
    lender = deployed.contract_address

    def accept() -> bool:
        (receipt,) = w.chain.backend.send(
            [RawCall(sender, lender, lender_code.selector("accept()"), 0, 300_000)]
        )
        return receipt.success

    def word(name: str) -> int:
        return int.from_bytes(w.chain.backend.call(lender, lender_code.selector(name)), "big", signed=True)

    assert not accept()  # no round yet: the feed reverts, the protocol refuses
    for n, ratio in enumerate((Decimal("1.1"), Decimal("1.000000001"), Decimal("2")), start=1):
        _post(w, feed, ratio)
        out = w.chain.backend.call(lender, lender_code.selector("reserves()"))
        words = [int.from_bytes(out[i : i + 32], "big") for i in range(0, 160, 32)]
        latest = w.chain.latest_round(feed)
        assert latest is not None
        assert words == [
            n,
            int(ratio.scaleb(18)),
            int(latest.started_at.timestamp()),
            int(latest.updated_at.timestamp()),
            n,
        ]
        assert accept()
        assert (word("lastRound()"), word("lastAnswer()")) == (n, int(ratio.scaleb(18)))
        assert word("lastUpdatedAt()") == int(latest.updated_at.timestamp())
    _post(w, feed, Decimal("0.5"))
    assert not accept()  # under-collateralised: the protocol's own check refuses
    _post(w, feed, ONE)
    w.travel(HEARTBEAT + timedelta(seconds=1))
    assert not accept()  # stale
