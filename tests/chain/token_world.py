"""A deployed instrument with investors and wallets, on one engine, for the ``TokenChain`` conformance suite.

One world per engine per session (deploying costs a few blocks; on anvil tens of milliseconds): each test
gets it at a snapshot and the chain is reverted afterwards, so tests never see each other's state.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from equitoken.adapters.chain.backend import EvmBackend, KeyRing
from equitoken.adapters.chain.embedded import EmbeddedBackend
from equitoken.adapters.chain.facade import ChainFacade
from equitoken.adapters.chain.keys import DeterministicKeyRing
from equitoken.domain.ids import InvestorId, Symbol, WalletAddress
from equitoken.domain.values import TokenAmount
from equitoken.ports.chain import DevChain, Instrument, OnChainInvestor
from tests.chain.anvil_support import anvil_engine
from tests.chain.conftest import durable_engine

GERMANY, SWITZERLAND, UNITED_STATES, NORTH_KOREA = 276, 756, 840, 408
KYC_VALID_UNTIL = datetime(2100, 1, 1, tzinfo=UTC)
SEED = "equitoken-token-chain-tests"

INVESTOR_A = InvestorId("inv-a")  # Germany, retail (0): wallets alice, alice2
INVESTOR_B = InvestorId("inv-b")  # Germany, professional (1): wallet bob
INVESTOR_C = InvestorId("inv-c")  # Switzerland, retail (0): wallet carol
INVESTOR_U = InvestorId("inv-u")  # United States, accredited (2): wallet uma


def _embedded(keyring: KeyRing) -> EvmBackend:
    return EmbeddedBackend(keyring)


ENGINES: dict[str, Callable[[KeyRing], EvmBackend]] = {
    "embedded": _embedded,
    "durable": durable_engine,  # the embedded engine with its block log (adapters/chain/durable.py)
    "anvil": anvil_engine,
}


@dataclass
class World:
    """The engine's facade, one OPEN instrument, bound wallets (alice, alice2, bob, carol, uma) and dave."""

    engine: str
    chain: ChainFacade
    dev: DevChain
    instrument: Instrument
    alice: WalletAddress
    alice2: WalletAddress
    bob: WalletAddress
    carol: WalletAddress
    uma: WalletAddress
    dave: WalletAddress

    @property
    def token(self) -> WalletAddress:
        """Return the token address."""
        return self.instrument.token

    def amount(self, value: int | str) -> TokenAmount:
        """Return ``value`` whole tokens (or a decimal string) of the instrument."""
        return self.instrument.amount(value)

    def balance(self, wallet: WalletAddress) -> TokenAmount:
        """Return a wallet's raw balance."""
        return self.chain.balance_of(self.token, wallet)

    def now(self) -> datetime:
        """Return the latest block's time."""
        return self.chain.block_time()

    def travel(self, delta: timedelta) -> None:
        """Move the chain's clock forward by ``delta`` and seal a block there."""
        self.dev.set_next_block_time(self.now() + delta)
        self.dev.mine()


def build_world(engine: str) -> World:
    """Deploy the world on a fresh backend of ``engine``."""
    keyring = DeterministicKeyRing(SEED)
    chain = ChainFacade(ENGINES[engine](keyring), keyring)
    dev = chain.dev
    assert dev is not None, f"the {engine} engine must offer DevChain for the conformance suite"
    instrument = chain.deploy_instrument(Symbol("ACME"), "Acme Corp tokenized share")
    wallets = {label: chain.wallet(label) for label in ("alice", "alice2", "bob", "carol", "uma", "dave")}
    for investor, country, category, labels in (
        (INVESTOR_A, GERMANY, 0, ("alice", "alice2")),
        (INVESTOR_B, GERMANY, 1, ("bob",)),
        (INVESTOR_C, SWITZERLAND, 0, ("carol",)),
        (INVESTOR_U, UNITED_STATES, 2, ("uma",)),
    ):
        chain.set_investor(instrument, OnChainInvestor(investor, country, category, KYC_VALID_UNTIL))
        for label in labels:
            chain.bind_wallet(instrument, wallets[label], investor)
    return World(engine, chain, dev, instrument, **wallets)


_worlds: dict[str, World] = {}


def world_fixture(engine: str) -> Iterator[World]:
    """Yield the session's world for ``engine`` at a fresh snapshot, reverting it afterwards."""
    world = _worlds.get(engine)
    if world is None:
        world = _worlds[engine] = build_world(engine)
    snapshot = world.dev.snapshot()
    try:
        yield world
    finally:
        world.dev.revert(snapshot)


def close_worlds() -> None:
    """Close every world's backend (the anvil one reverts the shared node to where it found it)."""
    for world in _worlds.values():
        world.chain.close()
    _worlds.clear()


@pytest.fixture(scope="session", autouse=True)
def _close_worlds() -> Iterator[None]:
    yield
    close_worlds()
