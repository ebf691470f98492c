"""Gas budgets of the hot paths, measured on revm (regression guards, not exact figures)."""

from __future__ import annotations

from .conftest import ONE, System


def measure(system: System) -> dict[str, int]:
    """Return gas per operation: plain ERC-20 transfer vs compliant transfer, mints, batch mints."""
    s = system
    alice, bob = s.investor("alice"), s.investor("bob")
    s.stable.transact("mint", alice, 10**12, sender=s.admin)
    s.stable.transact("mint", bob, 10**12, sender=s.admin)
    s.mint(alice, 10**6 * ONE)
    s.mint(bob, ONE)
    gas = {
        "plain_transfer": s.stable.transact("transfer", bob, 1, sender=alice).gas_used,
        "compliant_transfer": s.token.transact("transfer", bob, 1, sender=alice).gas_used,
        "mint_existing_holder": s.token.transact("mint", bob, 1, sender=s.issuer).gas_used,
        "mint_new_holder": s.token.transact("mint", s.investor("carol"), 1, sender=s.issuer).gas_used,
    }
    recipients = [s.investor(f"batch{i}") for i in range(100)]
    batch = s.token.transact("batchMint", recipients, [ONE] * 100, sender=s.issuer).gas_used
    gas["batch_mint_per_new_recipient"] = batch // 100
    again = s.token.transact("batchMint", recipients, [ONE] * 100, sender=s.issuer).gas_used
    gas["batch_mint_per_existing_recipient"] = again // 100
    return gas


def test_gas_budgets(system: System) -> None:
    gas = measure(system)
    print(gas)  # visible with -s; the report quotes these numbers
    assert gas["compliant_transfer"] < 3 * gas["plain_transfer"]
    assert gas["compliant_transfer"] < 70_000
    assert gas["batch_mint_per_new_recipient"] < 120_000
    assert gas["batch_mint_per_existing_recipient"] < 40_000
