"""The stablecoin's burn through the facade, on every backend (embedded, durable, anvil over JSON-RPC).

A holder burns its own coins: the balance and the supply fall, and the log the executor matches a
redemption by is a ``Transfer`` from the holder to the zero address.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest

from equitoken.domain.errors import DomainError
from equitoken.domain.ids import WalletAddress
from equitoken.domain.values import Money
from tests.chain.token_world import (
    ENGINES,
    World,
    _close_worlds,  # noqa: F401 - session fixture: closes the worlds' backends
    world_fixture,
)

ZERO = WalletAddress("0x" + "0" * 40)


@pytest.fixture(params=sorted(ENGINES))
def w(request: pytest.FixtureRequest) -> Iterator[World]:
    """Yield the engine's world at a fresh snapshot."""
    yield from world_fixture(request.param)


def test_a_holder_burns_its_own_stablecoin_and_the_log_shows_it(w: World) -> None:
    coin = w.chain.deploy_stablecoin()
    w.chain.mint_stablecoin(coin, w.alice, Money("500"))
    before = w.chain.block_number()
    tx = w.chain.burn_stablecoin(coin, w.alice, Money("120.5"))
    assert w.chain.stablecoin_balance(coin, w.alice) == Money("379.5")
    assert w.chain.total_supply(coin).value == Decimal("379.5")
    (log,) = [e for e in w.chain.events(coin, before + 1) if e.name == "Transfer"]
    assert (log.args["sender"], log.args["receiver"]) == (w.alice, ZERO)
    assert log.args["value"] == Money("120.5") and log.tx_hash == tx.tx_hash


def test_a_burn_past_the_balance_is_refused_and_burns_nothing(w: World) -> None:
    coin = w.chain.deploy_stablecoin()
    w.chain.mint_stablecoin(coin, w.alice, Money("10"))
    with pytest.raises(DomainError) as refused:
        w.chain.burn_stablecoin(coin, w.alice, Money("10.000001"))
    assert refused.value.code == "INSUFFICIENT_BALANCE"
    assert w.chain.stablecoin_balance(coin, w.alice) == Money("10")
