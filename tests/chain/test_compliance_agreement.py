"""For random investors, wallets, policies and transfers, the engine and the synced contracts agree.

Restricted to what compiles (``chain_gaps``): the random policies are made of unconditional transfer
rules only (no non-accredited holder cap, no conditional rule), US persons are exactly US residents
(the contract knows countries, not US-person status), every investor's holding sits in its first wallet
(the contract locks up an investor, the engine a holding), and a Reg S flowback is compared only where
the contract's one end date is the holding's (a Reg S holding acquired at the distribution start).
Each example syncs the books to the chain, then checks that ``Decision.reason`` equals the contracts'
``can_transfer`` reason, and that the transfer itself succeeds exactly when both allow it — so no
transfer succeeds on chain that the engine denies.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from equitoken.compliance.actions import ActionKind, Regulation
from equitoken.compliance.investors import InvestorCategory
from equitoken.compliance.policy import Model, Policy
from equitoken.compliance.rules import (
    Categories,
    Countries,
    Flowback,
    HolderCap,
    Lockup,
    MaxBalance,
    NoUsPersons,
    Rule,
    RuleParams,
    Sanctions,
    Verified,
    Whitelist,
)
from equitoken.domain.reasons import Reason
from equitoken.domain.values import Shares
from equitoken.ports.chain import ChainRefusal
from tests.chain.compliance_world import ComplianceWorld, Scenario, close_worlds, world_fixture

DAY = timedelta(days=1)
ON_CHAIN = frozenset({ActionKind.TRANSFER, ActionKind.MINT, ActionKind.FORCED_TRANSFER})
COUNTRIES = ["DE", "US", "CH", "IR", "SG"]
FLOWBACK_DAYS = 365


@pytest.fixture(scope="module", autouse=True)
def _close() -> Iterator[None]:
    yield
    close_worlds()


def _rule(name: str, params: RuleParams) -> Rule:
    return Rule(name, params, ON_CHAIN, name)


def _mostly(value: object, *others: object) -> st.SearchStrategy[object]:
    return st.sampled_from([value] * 6 + list(others))


@st.composite
def policies(draw: st.DrawFn) -> Policy:
    rules = [_rule("sanctions", Sanctions())]
    if draw(_mostly(True, False, False)):  # restricted: ELIGIBLE or WHITELISTED on chain
        rules.append(_rule("verified", Verified()))
        optional: list[RuleParams] = [
            NoUsPersons(),
            Countries(deny=frozenset(draw(st.sets(st.sampled_from(COUNTRIES), max_size=2)))),
            Countries(allow=frozenset(draw(st.sets(st.sampled_from(COUNTRIES), min_size=1, max_size=4)))),
            Categories(frozenset(draw(st.sets(st.sampled_from(InvestorCategory), min_size=1, max_size=5)))),
            Whitelist(),
            Lockup(draw(st.sampled_from([1, 6, 12])), frozenset({Regulation.REG_D})),
            Flowback(FLOWBACK_DAYS, frozenset({Regulation.REG_S})),
            MaxBalance(Shares(draw(st.integers(50, 250)))),
            HolderCap(draw(st.integers(1, 5))),
        ]
        chosen = [i for i in range(len(optional)) if draw(_mostly(False, True, True, True))]
        rules += [_rule(f"rule-{i}", optional[i]) for i in chosen]
    return Policy("random", "random", Model.DIRECT, "random", tuple(rules))


@dataclass(frozen=True)
class Person:
    where: str
    category: InvestorCategory
    kyc: str
    expires_days: int
    sanctioned: bool
    whitelisted: bool
    wallets: int
    shares: int
    regulation: str
    acquired_days: int


people = st.builds(
    Person,
    st.sampled_from(COUNTRIES),
    st.sampled_from(InvestorCategory),
    _mostly("verified", "pending", "suspended", "none", "rejected"),
    _mostly(400, -30, -2, 2, 30),  # days to expiry: a lapse now and then, never at the boundary
    _mostly(False, True),
    _mostly(True, False, False),
    st.integers(1, 2),
    st.integers(0, 120),
    st.sampled_from(["none", "reg_d", "reg_s"]),
    st.sampled_from([2, 20, 100, 200, 400]),  # days since a non-Reg S acquisition
)


@given(
    policy=policies(),
    crowd=st.lists(people, min_size=2, max_size=4),
    stray_shares=_mostly(0, 0, 20),
    picks=st.tuples(st.integers(0, 50), st.integers(0, 50), st.integers(1, 120)),
)
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_the_engine_and_the_contracts_agree(
    policy: Policy, crowd: list[Person], stray_shares: int, picks: tuple[int, int, int]
) -> None:
    with contextlib.contextmanager(world_fixture)("embedded") as world:
        _agree(world, policy, crowd, stray_shares, picks)


def _agree(
    world: ComplianceWorld,
    policy: Policy,
    crowd: list[Person],
    stray_shares: int,
    picks: tuple[int, int, int],
) -> None:
    s = Scenario(world, policy, distribution_start=world.now() - 100 * DAY)
    wallets = []
    holders: dict[object, tuple[int, str]] = {}
    for n, p in enumerate(crowd):
        name = f"inv{n}"
        labels = tuple(f"{name}-w{k}" for k in range(p.wallets))
        first = s.investor(
            name,
            p.where,
            p.category.value,
            kyc=p.kyc,
            # a suspension freezes a live verification: it cannot follow a lapse
            expires_in=(abs(p.expires_days) if p.kyc == "suspended" else p.expires_days) * DAY,
            whitelisted=p.whitelisted,
            wallets=labels,
        )
        if p.sanctioned:
            s.sanction("name", name.title())
        wallets += [s.wallet(label) for label in labels]
        if p.shares:
            # A Reg S holding is acquired at the distribution start: the contract's one flowback date.
            ago = 100 * DAY if p.regulation == "reg_s" else p.acquired_days * DAY
            s.hold(first, p.shares, ago=ago, regulation=p.regulation)
            holders[first] = (p.shares, p.regulation)
    stray = s.wallet("stray")
    wallets.append(stray)
    if stray_shares:
        s.hold(stray, stray_shares)
        holders[stray] = (stray_shares, "none")
    assume(holders)
    senders = sorted(holders, key=str)
    sender = senders[picks[0] % len(senders)]
    receivers = [w for w in wallets if w != sender]
    receiver = receivers[picks[1] % len(receivers)]
    balance, regulation = holders[sender]
    amount = 1 + picks[2] % balance
    flowback = any(isinstance(r.params, Flowback) for r in policy.rules)
    to_us = (owner := s.book.owner_of(receiver)) is not None and owner.residence.alpha2 == "US"
    assume(not (flowback and to_us and regulation != "reg_s"))  # one end date per country on chain
    s.setup()
    decision, on_chain = s.decide(sender, receiver, amount)
    event(decision.reason.name)
    assert decision.reason is on_chain.reason, (decision.violations, on_chain)
    try:
        world.chain.transfer(world.instrument.token, sender, receiver, world.instrument.amount(amount))
    except ChainRefusal as refusal:
        assert not decision.allowed and refusal.reason is decision.reason
    else:
        assert decision.allowed
        assert on_chain.reason is Reason.OK
