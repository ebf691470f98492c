"""Fixtures for the chain backends: one ``backend`` fixture, parametrized over every engine in ``ENGINES``.

To run the conformance suite on another engine, add a factory to ``ENGINES``: it receives the test's key
ring (whose addresses the engine must be able to send from, funded if gas costs anything) and returns a
fresh ``EvmBackend`` (a ``DevBackend`` too if it can snapshot); the fixture closes it after the test.
A factory that needs a service which is not there calls ``tests.conftest.service_missing``.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

from equitoken.adapters.chain.backend import EvmBackend, KeyRing
from equitoken.adapters.chain.durable import DurableEmbeddedBackend
from equitoken.adapters.chain.embedded import EmbeddedBackend
from equitoken.adapters.chain.keys import DeterministicKeyRing
from tests.chain.anvil_support import anvil_engine, stop_shared_node

FIXTURES = Path(__file__).with_name("fixtures")
LABELS = ("deployer", "alice", "bob")


def _embedded(keyring: KeyRing) -> EvmBackend:
    return EmbeddedBackend(keyring)


class _TemporaryDurable(DurableEmbeddedBackend):
    """A durable chain on a block log of its own, removed with its directory when closed."""

    def close(self) -> None:
        super().close()
        shutil.rmtree(self.path.parent, ignore_errors=True)


def durable_engine(keyring: KeyRing) -> EvmBackend:
    # A fresh block log per backend: the durable engine must pass the suite as the in-memory one does.
    return _TemporaryDurable(Path(tempfile.mkdtemp(prefix="eqt-chain-")) / "chain.log", keyring)


ENGINES: dict[str, Callable[[KeyRing], EvmBackend]] = {
    "embedded": _embedded,
    "durable": durable_engine,
    "anvil": anvil_engine,  # one node per session; each backend reverts its snapshot on close
}


@pytest.fixture(scope="session", autouse=True)
def _stop_anvil() -> Iterator[None]:
    """Stop the session's anvil node, if a test started one, when the session ends."""
    yield
    stop_shared_node()


@pytest.fixture
def keyring() -> DeterministicKeyRing:
    """Return the test wallets: ``deployer``, ``alice`` and ``bob``."""
    return DeterministicKeyRing("equitoken-chain-tests", LABELS)


@pytest.fixture(params=sorted(ENGINES))
def backend(request: pytest.FixtureRequest, keyring: DeterministicKeyRing) -> Iterator[EvmBackend]:
    """Yield a fresh backend of each engine, closed afterwards."""
    engine = ENGINES[request.param](keyring)
    try:
        yield engine
    finally:
        engine.close()


@dataclass(frozen=True)
class Artifact:
    """A compiled fixture contract: deployment bytecode and 4-byte selectors by signature."""

    bytecode: bytes
    selectors: dict[str, bytes]

    def selector(self, signature: str) -> bytes:
        """Return the selector of ``signature`` (e.g. ``"store(uint256)"``)."""
        return self.selectors[signature]


@cache
def compile_fixture(name: str) -> Artifact:
    """Compile ``fixtures/NAME.vy`` once per test session."""
    import vyper

    source = (FIXTURES / f"{name}.vy").read_text()
    out = vyper.compile_code(source, output_formats=["bytecode", "method_identifiers"])
    selectors = {sig: bytes.fromhex(sel.removeprefix("0x")) for sig, sel in out["method_identifiers"].items()}
    return Artifact(bytes.fromhex(out["bytecode"].removeprefix("0x")), selectors)


@pytest.fixture
def probe() -> Artifact:
    """Return the compiled ``Probe.vy`` fixture contract."""
    return compile_fixture("Probe")
