"""Each shipped policy's rules, allow and deny, decided by the engine and by the contracts after a sync.

Same inputs, same reason codes: for every row the engine's first violation (``Decision.reason``) and the
contracts' ``can_transfer`` reason are the expected one. Rows marked ``gap`` cover rules ``chain_gaps``
lists as off-chain only: the engine refuses, the contracts allow, and the gap is documented.
The shipped holder cap (1,999) is exercised with the same rule at a cap of 2 (2,000 holders cost
seconds and prove nothing more).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest

from equitoken.app.compliance import shipped_policies
from equitoken.compliance.chain_config import chain_gaps
from equitoken.compliance.policy import Policy
from equitoken.compliance.rules import HolderCap
from equitoken.domain.ids import WalletAddress
from equitoken.domain.reasons import Reason
from tests.chain.compliance_world import ComplianceWorld, Scenario, close_worlds, world_fixture

R = Reason
DAY = timedelta(days=1)
Build = Callable[[Scenario], tuple[WalletAddress, WalletAddress, int]]


@pytest.fixture(params=["embedded", "anvil"])
def world(request: pytest.FixtureRequest) -> Iterator[ComplianceWorld]:
    yield from world_fixture(request.param)


@pytest.fixture(scope="module", autouse=True)
def _close() -> Iterator[None]:
    yield
    close_worlds()


@dataclass(frozen=True)
class Row:
    id: str
    build: Build
    expected: Reason
    gap: str = ""
    """The rule the contracts cannot enforce (the engine refuses with ``expected``, the chain allows)."""


def _pair(s: Scenario, **to: object) -> tuple[WalletAddress, WalletAddress, int]:
    alice = s.investor("alice")
    s.hold(alice, 100)
    bob = s.investor("bob", **to)  # type: ignore[arg-type]
    return alice, bob, 10


def _sanctioned_sender(s: Scenario) -> tuple[WalletAddress, WalletAddress, int]:
    alice, bob, n = _pair(s)
    s.sanction("wallet", alice.value)
    return alice, bob, n


def _sanctioned_receiver(s: Scenario) -> tuple[WalletAddress, WalletAddress, int]:
    alice, bob, n = _pair(s)
    s.sanction("name", "Bob")
    return alice, bob, n


def _to_unbound(s: Scenario) -> tuple[WalletAddress, WalletAddress, int]:
    alice = s.investor("alice")
    s.hold(alice, 100)
    return alice, s.wallet("nobody"), 10


def _sender_kyc(kyc: str, expires_in: timedelta = timedelta(days=400)) -> Build:
    def build(s: Scenario) -> tuple[WalletAddress, WalletAddress, int]:
        alice = s.investor("alice", kyc=kyc, expires_in=expires_in)
        s.hold(alice, 100)
        return alice, s.investor("bob"), 10

    return build


def _lockup(ago: timedelta, regulation: str = "reg_d", own_wallet: bool = False) -> Build:
    def build(s: Scenario) -> tuple[WalletAddress, WalletAddress, int]:
        alice = s.investor("alice", "US", "accredited", wallets=("alice", "alice2"))
        s.hold(alice, 100, ago=ago, regulation=regulation)
        to = s.wallet("alice2") if own_wallet else s.investor("bob")
        return alice, to, 10

    return build


def _flowback(to_country: str, started: timedelta) -> Build:
    def build(s: Scenario) -> tuple[WalletAddress, WalletAddress, int]:
        s.distribution_start = s.t0 - started
        alice = s.investor("alice")
        s.hold(alice, 100, ago=started, regulation="reg_s")
        return alice, s.investor("bob", to_country, "accredited"), 10

    return build


def _max_balance(extra: int) -> Build:
    def build(s: Scenario) -> tuple[WalletAddress, WalletAddress, int]:
        alice, bob, _ = _pair(s)
        s.hold(bob, 999_990)
        return alice, bob, extra

    return build


def _holder_cap(send_all: bool) -> Build:
    def build(s: Scenario) -> tuple[WalletAddress, WalletAddress, int]:
        alice = s.investor("alice")
        s.hold(alice, 100)
        s.hold(s.investor("carol"), 100)
        return alice, s.investor("bob"), 100 if send_all else 10

    return build


def _no_whitelist(s: Scenario) -> tuple[WalletAddress, WalletAddress, int]:
    return _pair(s, whitelisted=False)


def _unbound_sender(s: Scenario) -> tuple[WalletAddress, WalletAddress, int]:
    nobody = s.wallet("nobody")
    s.hold(nobody, 100)
    return nobody, s.wallet("other"), 10


COMMON = [
    Row("allowed", lambda s: _pair(s), R.OK),
    Row("sanctions: sender wallet listed", _sanctioned_sender, R.SENDER_SANCTIONED),
    Row("sanctions: receiver named on the list", _sanctioned_receiver, R.RECIPIENT_SANCTIONED),
]
VERIFIED = [
    Row("verified: receiver bound to nobody", _to_unbound, R.RECIPIENT_NOT_VERIFIED),
    Row("verified: receiver KYC lapsed", lambda s: _pair(s, expires_in=-10 * DAY), R.KYC_EXPIRED),
    Row("verified: receiver KYC pending", lambda s: _pair(s, kyc="pending"), R.RECIPIENT_NOT_VERIFIED),
    Row("verified: receiver KYC rejected", lambda s: _pair(s, kyc="rejected"), R.RECIPIENT_NOT_VERIFIED),
    Row("verified: sender KYC suspended", _sender_kyc("suspended"), R.SENDER_NOT_VERIFIED),
    Row("verified: sender KYC lapsed", _sender_kyc("verified", -5 * DAY), R.KYC_EXPIRED),
    Row("verified: sender bound to nobody", _unbound_sender, R.SENDER_NOT_VERIFIED),
]
TABLES: dict[str, list[Row]] = {
    "tracker-certificate": [
        *COMMON,
        Row("open: unbound wallets may trade", _unbound_sender, R.OK),
        Row("open: a lapsed KYC does not block a transfer", lambda s: _pair(s, expires_in=-10 * DAY), R.OK),
        Row("open: US persons may receive on-chain", lambda s: _pair(s, where="US", category="retail"), R.OK),
        Row("open: a sanctioned country receiver", lambda s: _pair(s, where="IR"), R.OK),
    ],
    "instant-execution": [
        *COMMON,
        *VERIFIED,
        Row(
            "country: a US resident",
            lambda s: _pair(s, where="US", category="accredited"),
            R.COUNTRY_NOT_ALLOWED,
        ),
        Row("country: a sanctioned jurisdiction", lambda s: _pair(s, where="KP"), R.COUNTRY_NOT_ALLOWED),
        Row("country: Singapore is fine", lambda s: _pair(s, where="SG", category="retail"), R.OK),
        Row(
            "no US persons: a US person living in France",
            lambda s: _pair(s, where="FR", us=True),
            R.COUNTRY_NOT_ALLOWED,
            gap="eligible-non-us-only",
        ),
    ],
    "direct-ownership": [
        *COMMON,
        *VERIFIED,
        Row("country: a sanctioned jurisdiction", lambda s: _pair(s, where="IR"), R.COUNTRY_NOT_ALLOWED),
        Row("country: a US accredited investor", lambda s: _pair(s, where="US", category="accredited"), R.OK),
        Row("whitelist: receiver not whitelisted", _no_whitelist, R.RECIPIENT_NOT_WHITELISTED),
        Row("lockup: Reg D bought 30 days ago", _lockup(30 * DAY), R.LOCKUP_ACTIVE),
        Row("lockup: Reg D bought 13 months ago", _lockup(400 * DAY), R.OK),
        Row("lockup: Reg D between own wallets", _lockup(30 * DAY, own_wallet=True), R.OK),
        Row("lockup: Reg S is not locked", _lockup(30 * DAY, "reg_s"), R.OK),
        Row(
            "flowback: Reg S to a US person in the period", _flowback("US", 100 * DAY), R.FLOWBACK_RESTRICTED
        ),
        Row("flowback: Reg S to a non-US person in the period", _flowback("CH", 100 * DAY), R.OK),
        Row("flowback: Reg S to a US person after the period", _flowback("US", 400 * DAY), R.OK),
        Row("max balance: one share over", _max_balance(11), R.MAX_BALANCE_EXCEEDED),
        Row("max balance: exactly at the cap", _max_balance(10), R.OK),
        Row("holder cap: a third holder", _holder_cap(send_all=False), R.HOLDER_LIMIT_REACHED),
        Row("holder cap: a holder leaves as one arrives", _holder_cap(send_all=True), R.OK),
        Row(
            "accredited only: a US retail investor",
            lambda s: _pair(s, where="US", category="retail"),
            R.CATEGORY_NOT_ALLOWED,
            gap="reg-d-accredited-only",
        ),
    ],
}


def _policy(name: str) -> Policy:
    policy = shipped_policies()[name]
    rules = tuple(
        dataclasses.replace(r, params=dataclasses.replace(r.params, max_holders=2))
        if isinstance(r.params, HolderCap)
        else r
        for r in policy.rules
    )
    return dataclasses.replace(policy, rules=rules)


CASES = [pytest.param(name, row, id=f"{name}: {row.id}") for name, rows in TABLES.items() for row in rows]


@pytest.mark.parametrize(("policy_name", "row"), CASES)
def test_engine_and_contracts_give_the_same_reason(
    world: ComplianceWorld, policy_name: str, row: Row
) -> None:
    scenario = Scenario(world, _policy(policy_name))
    sender, receiver, shares = row.build(scenario)
    scenario.setup()
    decision, on_chain = scenario.decide(sender, receiver, shares)
    assert decision.reason is row.expected, decision.violations
    if row.gap:
        assert on_chain.reason is Reason.OK
        assert row.gap in {g.rule for g in chain_gaps(scenario.policy)}
        assert {v.rule for v in decision.violations} == {row.gap} or row.gap in {
            v.rule for v in decision.violations
        }
    else:
        assert on_chain.reason is row.expected
