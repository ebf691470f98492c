"""ERC-20 behaviour of the security token (OPEN mode, so only ERC-20 rules apply) and the stablecoin."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from .conftest import OPEN, System
from .harness import Contract

ZERO = "0x" + "00" * 20
MAX = 2**256 - 1


@pytest.fixture(params=["SecurityToken", "Stablecoin"])
def erc20(
    request: pytest.FixtureRequest, make_system: Callable[..., System]
) -> tuple[System, Contract, Callable[[str, int], None]]:
    """Return (system, token under test, mint function) for both ERC-20s."""
    s = make_system(mode=OPEN)
    if request.param == "SecurityToken":
        return s, s.token, s.mint
    return s, s.stable, lambda to, amount: s.stable.transact("mint", to, amount, sender=s.admin) and None


def test_metadata(system: System) -> None:
    assert system.token.call("name") == "Acme Corp Tokenized"
    assert system.token.call("symbol") == "ACMEx"
    assert system.token.call("decimals") == 18
    assert system.stable.call("decimals") == 6


def test_decimals_are_configurable(system: System) -> None:
    token = system.chain.deploy(
        system.compiled["SecurityToken"],
        "Six",
        "SIX",
        6,
        system.admin,
        system.compliance.address,
        sender=system.admin,
    )
    assert token.call("decimals") == 6


def test_transfer_moves_balance_and_emits(erc20: tuple[System, Contract, Callable[[str, int], None]]) -> None:
    s, token, mint = erc20
    alice, bob = s.chain.account("alice"), s.chain.account("bob")
    mint(alice, 1000)
    receipt = token.transact("transfer", bob, 300, sender=alice)
    assert receipt.output is True
    assert token.call("balanceOf", alice) == 700
    assert token.call("balanceOf", bob) == 300
    assert token.call("totalSupply") == 1000
    assert [(e.name, e.args) for e in receipt.events] == [
        ("Transfer", {"sender": alice, "receiver": bob, "value": 300})
    ]


def test_transfer_more_than_balance_reverts(
    erc20: tuple[System, Contract, Callable[[str, int], None]],
) -> None:
    s, token, mint = erc20
    alice, bob = s.chain.account("alice"), s.chain.account("bob")
    mint(alice, 10)
    assert token.reason("transfer", bob, 11, sender=alice) == "INSUFFICIENT_BALANCE"
    assert token.call("balanceOf", alice) == 10


def test_zero_address_is_refused(erc20: tuple[System, Contract, Callable[[str, int], None]]) -> None:
    s, token, mint = erc20
    alice = s.chain.account("alice")
    mint(alice, 10)
    assert token.reason("transfer", ZERO, 1, sender=alice) == "ZERO_ADDRESS"
    assert token.reason("approve", ZERO, 1, sender=alice) == "ZERO_ADDRESS"
    assert token.reason("transferFrom", ZERO, alice, 0, sender=alice) == "ZERO_ADDRESS"
    assert token.reason("transferFrom", alice, ZERO, 0, sender=alice) == "ZERO_ADDRESS"


def test_zero_address_mint_is_refused(system: System) -> None:
    assert system.token.reason("mint", ZERO, 1, sender=system.issuer) == "ZERO_ADDRESS"
    assert system.token.reason("burn", ZERO, 1, sender=system.issuer) == "ZERO_ADDRESS"
    assert system.stable.reason("mint", ZERO, 1, sender=system.admin) == "ZERO_ADDRESS"


def test_allowance_is_spent(erc20: tuple[System, Contract, Callable[[str, int], None]]) -> None:
    s, token, mint = erc20
    alice, bob, spender = (s.chain.account(n) for n in ("alice", "bob", "spender"))
    mint(alice, 100)
    receipt = token.transact("approve", spender, 60, sender=alice)
    assert receipt.named("Approval")[0].args == {"owner": alice, "spender": spender, "value": 60}
    assert token.call("allowance", alice, spender) == 60
    token.transact("transferFrom", alice, bob, 40, sender=spender)
    assert token.call("allowance", alice, spender) == 20
    assert token.call("balanceOf", bob) == 40


def test_allowance_exceeded_reverts(erc20: tuple[System, Contract, Callable[[str, int], None]]) -> None:
    s, token, mint = erc20
    alice, bob, spender = (s.chain.account(n) for n in ("alice", "bob", "spender"))
    mint(alice, 100)
    token.transact("approve", spender, 10, sender=alice)
    assert token.reason("transferFrom", alice, bob, 11, sender=spender) == "INSUFFICIENT_ALLOWANCE"
    assert token.call("allowance", alice, spender) == 10


def test_unlimited_allowance_does_not_decrease(
    erc20: tuple[System, Contract, Callable[[str, int], None]],
) -> None:
    s, token, mint = erc20
    alice, bob, spender = (s.chain.account(n) for n in ("alice", "bob", "spender"))
    mint(alice, 100)
    token.transact("approve", spender, MAX, sender=alice)
    receipt = token.transact("transferFrom", alice, bob, 100, sender=spender)
    assert token.call("allowance", alice, spender) == MAX
    assert receipt.named("Approval") == []


def test_allowance_with_insufficient_balance_reverts(
    erc20: tuple[System, Contract, Callable[[str, int], None]],
) -> None:
    s, token, mint = erc20
    alice, bob, spender = (s.chain.account(n) for n in ("alice", "bob", "spender"))
    mint(alice, 5)
    token.transact("approve", spender, MAX, sender=alice)
    assert token.reason("transferFrom", alice, bob, 6, sender=spender) == "INSUFFICIENT_BALANCE"


def test_mint_and_burn_change_supply(system: System) -> None:
    alice = system.investor("alice")
    system.mint(alice, 500)
    receipt = system.token.transact("burn", alice, 200, sender=system.issuer)
    assert receipt.named("Transfer")[0].args == {"sender": alice, "receiver": ZERO, "value": 200}
    assert system.token.call("totalSupply") == 300
    assert system.token.reason("burn", alice, 301, sender=system.issuer) == "INSUFFICIENT_BALANCE"


def test_stablecoin_owner_mints_and_hands_over(system: System) -> None:
    other = system.chain.account("other")
    assert system.stable.reason("mint", other, 1, sender=other) == "STABLECOIN_NOT_THE_OWNER"
    system.stable.transact("transferOwnership", other, sender=system.admin)
    # Two steps (issue 11, item 8): the owner stays in force until the proposed owner accepts.
    assert system.stable.reason("mint", other, 1, sender=other) == "STABLECOIN_NOT_THE_OWNER"
    assert system.stable.reason("acceptOwnership", sender=system.chain.account("typo")) == (
        "STABLECOIN_NOT_THE_PENDING_OWNER"
    )
    system.stable.transact("acceptOwnership", sender=other)
    assert system.stable.reason("mint", other, 1, sender=system.admin) == "STABLECOIN_NOT_THE_OWNER"
    system.stable.transact("mint", other, 7, sender=other)
    system.stable.transact("burn", 2, sender=other)
    assert system.stable.call("balanceOf", other) == 5
    assert system.stable.call("totalSupply") == 5
