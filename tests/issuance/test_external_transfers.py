"""Tokens holders move themselves, outside the platform, are booked as they happened."""

from __future__ import annotations

from decimal import Decimal

from equitoken.domain.ids import Symbol
from equitoken.issuance.models import ModelName
from equitoken.issuance.models.books import investor_tokens
from equitoken.issuance.orders import OrderState
from equitoken.ledger.accounts import Account, AccountKind
from equitoken.simulation.week import model_builders
from tests.issuance.world import World, ny

AAPL = Symbol("AAPL")


def test_a_holders_own_transfer_is_mirrored_and_a_later_sale_books_cleanly() -> None:
    world = World.start(ny(2012, 11, 19, 10, 0))
    world.list("AAPL", ModelName.INVENTORY, "tracker-certificate", model_builders()[ModelName.INVENTORY])
    alice, bob = world.investor("alice", residence="DE"), world.investor("bob", residence="DE")
    engine = world.engine
    assert engine.submit(world.buy(alice, "AAPL", "10")).order.state is OrderState.SETTLED
    listing = engine.model(AAPL).listing
    stranger = engine.chain.wallet("a wallet no investor owns")
    # The tracker token is open: alice sends tokens herself, to bob and to a stranger.
    engine.chain.transfer(listing.instrument.token, alice.wallet, bob.wallet, listing.instrument.amount(4))
    engine.chain.transfer(listing.instrument.token, alice.wallet, stranger, listing.instrument.amount(1))
    world.at(ny(2012, 11, 19, 11, 0))

    def ledger(account: Account) -> Decimal:
        return world.balance(account, listing.token)

    assert ledger(investor_tokens(alice.investor, AAPL)) == 5 == world.tokens("AAPL", alice)
    assert ledger(investor_tokens(bob.investor, AAPL)) == 4
    assert ledger(Account.of(AccountKind.EXTERNAL_CHAIN, "holders", AAPL)) == 1
    assert engine.mirror_transfers() == 0  # seen once, booked once
    sold = engine.submit(world.sell(bob, "AAPL", "4")).order
    assert sold.state is OrderState.SETTLED
    assert ledger(investor_tokens(bob.investor, AAPL)) == 0 == world.tokens("AAPL", bob)
    assert world.backed()


def test_the_platforms_own_deliveries_are_never_mirrored_twice() -> None:
    world = World.start(ny(2012, 11, 19, 10, 0))
    world.list("AAPL", ModelName.INVENTORY, "tracker-certificate", model_builders()[ModelName.INVENTORY])
    alice = world.investor("alice", residence="DE")
    for _ in range(3):
        world.engine.submit(world.buy(alice, "AAPL", "2"))
    world.at(ny(2012, 11, 19, 12, 0))
    assert not [e for e in world.store.entries() if e.key.startswith("external-transfer:")]
    assert world.balance(investor_tokens(alice.investor, AAPL), world.engine.model(AAPL).listing.token) == 6
