"""Every role gate, positive and negative, and the role administration rules."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from .conftest import ADMIN, AGENT, CORPORATE_ACTIONS, ELIGIBLE, ISSUER, PAUSER, System, investor_id

MISSING = "ACCESS_MISSING_ROLE"

# (contract attribute, function, role required, argument builder)
GATES: list[tuple[str, str, int, Callable[[System], tuple[Any, ...]]]] = [
    ("token", "mint", ISSUER, lambda s: (s.wallet("alice"), 1)),
    ("token", "burn", ISSUER, lambda s: (s.wallet("alice"), 1)),
    ("token", "batchMint", ISSUER, lambda s: ([s.wallet("alice")], [1])),
    ("token", "batchBurn", ISSUER, lambda s: ([s.wallet("alice")], [1])),
    ("token", "pause", PAUSER, lambda s: ()),
    ("token", "setAddressFrozen", AGENT, lambda s: (s.wallet("alice"), True)),
    ("token", "freezePartialTokens", AGENT, lambda s: (s.wallet("alice"), 1)),
    ("token", "unfreezePartialTokens", AGENT, lambda s: (s.wallet("alice"), 0)),
    ("token", "forcedTransfer", AGENT, lambda s: (s.wallet("alice"), s.wallet("alice", 1), 1)),
    (
        "token",
        "recoveryAddress",
        AGENT,
        lambda s: (s.wallet("alice"), s.wallet("alice", 1), investor_id("alice")),
    ),
    ("token", "scheduleMultiplier", CORPORATE_ACTIONS, lambda s: (2 * 10**18, s.chain.now + 10, 1)),
    ("token", "bindCompliance", ADMIN, lambda s: (s.compliance.address,)),
    ("compliance", "setTransferMode", AGENT, lambda s: (ELIGIBLE,)),
    ("compliance", "setCountryAllowlistEnabled", AGENT, lambda s: (True,)),
    ("compliance", "setCountriesAllowed", AGENT, lambda s: ([276], True)),
    ("compliance", "setCountriesDenied", AGENT, lambda s: ([408], True)),
    ("compliance", "setAllowedCategories", AGENT, lambda s: (3,)),
    ("compliance", "setMaxHolders", AGENT, lambda s: (10,)),
    ("compliance", "setMaxBalance", AGENT, lambda s: (10,)),
    ("compliance", "setFlowback", AGENT, lambda s: (840, 5)),
    ("compliance", "setLockup", AGENT, lambda s: (investor_id("alice"), 5)),
    ("compliance", "setWhitelisted", AGENT, lambda s: ([investor_id("alice")], True)),
    ("compliance", "rebook", AGENT, lambda s: (s.wallet("alice"),)),
    ("compliance", "batchRebook", AGENT, lambda s: ([s.wallet("alice")],)),
    ("compliance", "bindToken", ADMIN, lambda s: (s.token.address,)),
    ("compliance", "setIdentityRegistry", ADMIN, lambda s: (s.registry.address,)),
    ("registry", "setInvestor", AGENT, lambda s: (investor_id("zed"), 276, 0, 2**40)),
    ("registry", "setInvestorSanctioned", AGENT, lambda s: (investor_id("alice"), True)),
    ("registry", "bindWallet", AGENT, lambda s: (s.wallet("alice", 2), investor_id("alice"))),
    ("registry", "batchBindWallets", AGENT, lambda s: ([s.wallet("alice", 2)], [investor_id("alice")])),
    ("registry", "unbindWallet", AGENT, lambda s: (s.wallet("alice", 1),)),
    ("registry", "setWalletSanctioned", AGENT, lambda s: (s.wallet("x"), True)),
    ("registry", "removeInvestor", AGENT, lambda s: (investor_id("bob"),)),
]


def _prepared(system: System) -> System:
    system.investor("alice", wallets=2)
    system.investor("bob")
    system.registry.transact("unbindWallet", system.wallet("bob"), sender=system.agent)
    system.mint(system.wallet("alice"), 10)
    return system


@pytest.mark.parametrize(("target", "fn", "role", "args"), GATES, ids=[f"{t}.{f}" for t, f, _, _ in GATES])
def test_gate_refuses_without_role(
    system: System, target: str, fn: str, role: int, args: Callable[[System], tuple[Any, ...]]
) -> None:
    s = _prepared(system)
    outsider = s.chain.account("outsider")
    contract = getattr(s, target)
    # every other non-admin role together is not enough
    for r in (ISSUER, AGENT, PAUSER, CORPORATE_ACTIONS):
        if r != role:
            contract.transact("grantRole", r, outsider, sender=s.admin)
    assert contract.reason(fn, *args(s), sender=outsider) == MISSING


@pytest.mark.parametrize(("target", "fn", "role", "args"), GATES, ids=[f"{t}.{f}" for t, f, _, _ in GATES])
def test_gate_allows_with_role(
    system: System, target: str, fn: str, role: int, args: Callable[[System], tuple[Any, ...]]
) -> None:
    s = _prepared(system)
    holder = s.chain.account("holder")
    contract = getattr(s, target)
    contract.transact("grantRole", role, holder, sender=s.admin)
    if (target, fn) in {("token", "bindCompliance")}:
        # only while the supply is zero
        assert contract.reason(fn, *args(s), sender=holder) == "TOKEN_SUPPLY_MUST_BE_ZERO_TO_REBIND"
        return
    if (target, fn) == ("compliance", "bindToken"):
        assert contract.reason(fn, *args(s), sender=holder) == "COMPLIANCE_TOKEN_HAS_HOLDERS"
        return
    contract.transact(fn, *args(s), sender=holder)


def test_unpause_is_gated(system: System) -> None:
    system.token.transact("pause", sender=system.pauser)
    assert system.token.reason("unpause", sender=system.agent) == MISSING
    system.token.transact("unpause", sender=system.pauser)
    assert system.token.call("paused") is False


def test_roles_do_not_imply_each_other(system: System) -> None:
    # the admin holds only ADMIN: it cannot mint until it grants itself ISSUER
    alice = system.investor("alice")
    assert system.token.reason("mint", alice, 1, sender=system.admin) == MISSING
    system.token.transact("grantRole", ISSUER, system.admin, sender=system.admin)
    system.token.transact("mint", alice, 1, sender=system.admin)


def test_grant_and_revoke_emit_events(system: System) -> None:
    other = system.chain.account("other")
    granted = system.token.transact("grantRole", PAUSER, other, sender=system.admin)
    assert granted.named("RoleGranted")[0].args == {"role": PAUSER, "account": other, "sender": system.admin}
    assert system.token.call("hasRole", PAUSER, other) is True
    revoked = system.token.transact("revokeRole", PAUSER, other, sender=system.admin)
    assert revoked.named("RoleRevoked")[0].args == {"role": PAUSER, "account": other, "sender": system.admin}
    assert system.token.call("hasRole", PAUSER, other) is False


def test_unknown_role_is_refused(system: System) -> None:
    other = system.chain.account("other")
    for bad in (0, 3, 32, 2**200):
        assert system.token.reason("grantRole", bad, other, sender=system.admin) == "ACCESS_UNKNOWN_ROLE"


def test_last_admin_cannot_leave(system: System) -> None:
    assert system.token.reason("renounceRole", ADMIN, sender=system.admin) == "ACCESS_LAST_ADMIN"
    assert system.token.reason("revokeRole", ADMIN, system.admin, sender=system.admin) == "ACCESS_LAST_ADMIN"
    second = system.chain.account("second-admin")
    system.token.transact("grantRole", ADMIN, second, sender=system.admin)
    system.token.transact("renounceRole", ADMIN, sender=system.admin)
    assert system.token.call("hasRole", ADMIN, system.admin) is False
    assert system.token.call("adminCount") == 1


def test_only_bound_token_may_record(system: System) -> None:
    alice = system.investor("alice")
    assert (
        system.compliance.reason("transferred", "0x" + "00" * 20, alice, 1, False, False, sender=alice)
        == "COMPLIANCE_CALLER_IS_NOT_THE_BOUND_TOKEN"
    )


def test_stablecoin_ownership_is_gated(system: System) -> None:
    other = system.chain.account("other")
    assert system.stable.reason("transferOwnership", other, sender=other) == "STABLECOIN_NOT_THE_OWNER"
