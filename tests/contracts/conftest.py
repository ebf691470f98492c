"""Fixtures: the compiled contracts (once per session, cached on disk) and a freshly deployed system."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from equitoken.adapters.chain.compiler import CompiledContract, compile_all
from equitoken.domain.keccak import keccak256

from .harness import Chain, Contract

ADMIN, ISSUER, AGENT, PAUSER, CORPORATE_ACTIONS = 1, 2, 4, 8, 16
OPEN, ELIGIBLE, WHITELISTED = 0, 1, 2
GERMANY, UNITED_STATES, SWITZERLAND, NORTH_KOREA = 276, 840, 756, 408
ONE = 10**18
FAR_FUTURE = 2**40


def investor_id(label: str) -> bytes:
    """Return the deterministic investor id for ``label``."""
    return keccak256(b"investor:" + label.encode())


@pytest.fixture(scope="session")
def compiled() -> dict[str, CompiledContract]:
    """Compile every contract once per session (and once per machine through the disk cache)."""
    return compile_all()


@dataclass
class System:
    """A deployed instrument: registry, compliance, token and stablecoin, with one holder of each role."""

    chain: Chain
    compiled: dict[str, CompiledContract]
    registry: Contract
    compliance: Contract
    token: Contract
    stable: Contract
    admin: str
    issuer: str
    agent: str
    pauser: str
    corporate: str

    def investor(
        self,
        label: str,
        *,
        country: int = GERMANY,
        category: int = 0,
        kyc_expiry: int = FAR_FUTURE,
        wallets: int = 1,
    ) -> str:
        """Register investor ``label`` with ``wallets`` bound wallets; return the first wallet."""
        iid = investor_id(label)
        self.registry.transact("setInvestor", iid, country, category, kyc_expiry, sender=self.agent)
        first = ""
        for n in range(wallets):
            wallet = self.chain.account(f"{label}/wallet{n}")
            self.registry.transact("bindWallet", wallet, iid, sender=self.agent)
            first = first or wallet
        return first

    def wallet(self, label: str, n: int = 0) -> str:
        """Return wallet ``n`` of investor ``label`` (or an unbound wallet's address)."""
        return self.chain.account(f"{label}/wallet{n}")

    def mint(self, to: str, amount: int) -> None:
        """Mint as the issuer."""
        self.token.transact("mint", to, amount, sender=self.issuer)

    def balance(self, who: str) -> int:
        """Return the raw token balance of ``who``."""
        return int(self.token.call("balanceOf", who))


def deploy_system(
    compiled: dict[str, CompiledContract], *, mode: int = ELIGIBLE, chain_id: int = 31337
) -> System:
    """Deploy registry, compliance (in ``mode``), an 18-decimal token and a stablecoin; grant the roles."""
    chain = Chain(chain_id=chain_id)
    admin, issuer, agent, pauser, corporate = (
        chain.account(n) for n in ("admin", "issuer", "agent", "pauser", "corporate")
    )
    registry = chain.deploy(compiled["IdentityRegistry"], admin, sender=admin)
    compliance = chain.deploy(compiled["Compliance"], registry.address, admin, mode, sender=admin)
    token = chain.deploy(
        compiled["SecurityToken"], "Acme Corp Tokenized", "ACMEx", 18, admin, compliance.address, sender=admin
    )
    compliance.transact("bindToken", token.address, sender=admin)
    for contract, grants in (
        (registry, ((AGENT, agent),)),
        (compliance, ((AGENT, agent),)),
        (token, ((ISSUER, issuer), (AGENT, agent), (PAUSER, pauser), (CORPORATE_ACTIONS, corporate))),
    ):
        for role, account in grants:
            contract.transact("grantRole", role, account, sender=admin)
    stable = chain.deploy(compiled["Stablecoin"], "Test USD", "tUSD", admin, sender=admin)
    return System(
        chain, compiled, registry, compliance, token, stable, admin, issuer, agent, pauser, corporate
    )


@pytest.fixture
def make_system(compiled: dict[str, CompiledContract]) -> Callable[..., System]:
    """Return a factory deploying a fresh system (keyword ``mode``, ``chain_id``)."""

    def factory(**kwargs: int) -> System:
        return deploy_system(compiled, **kwargs)

    return factory


@pytest.fixture
def system(compiled: dict[str, CompiledContract]) -> System:
    """Return a fresh system in ELIGIBLE mode."""
    return deploy_system(compiled)


@pytest.fixture
def open_system(compiled: dict[str, CompiledContract]) -> System:
    """Return a fresh system in OPEN mode (sanctions blocklist only)."""
    return deploy_system(compiled, mode=OPEN)
