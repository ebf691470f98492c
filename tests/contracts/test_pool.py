"""ConstantProductPool: an OPEN token trades from any wallet; a restricted token is refused with the
rule's reason unless the pool itself is made eligible."""

from __future__ import annotations

from equitoken.domain.keccak import keccak256

from .conftest import ONE, System
from .harness import Contract

MAX = 2**256 - 1
FAR = 2**64  # a deadline no test reaches


def _pool(s: System, lp: str) -> Contract:
    pool = s.chain.deploy(
        s.compiled["ConstantProductPool"], s.token.address, s.stable.address, 30, sender=s.admin
    )
    s.stable.transact("mint", lp, 1_000_000 * 10**6, sender=s.admin)
    s.token.transact("approve", pool.address, MAX, sender=lp)
    s.stable.transact("approve", pool.address, MAX, sender=lp)
    return pool


def test_open_token_trades_from_any_wallet(open_system: System) -> None:
    s = open_system
    lp, trader = s.chain.account("lp"), s.chain.account("anon-trader")
    s.mint(lp, 1000 * ONE)
    pool = _pool(s, lp)
    shares = pool.transact("addLiquidity", 1000 * ONE, 100_000 * 10**6, 0, sender=lp).output
    assert shares > 0
    assert pool.call("getReserves") == (1000 * ONE, 100_000 * 10**6)
    s.stable.transact("mint", trader, 1000 * 10**6, sender=s.admin)
    s.stable.transact("approve", pool.address, MAX, sender=trader)
    expected = pool.call("quote", s.stable.address, 1000 * 10**6)
    out = pool.transact("swap", s.stable.address, 1000 * 10**6, 1, trader, FAR, sender=trader).output
    assert out == expected == s.balance(trader)
    # 0.3% fee and price impact: less than 10 tokens for 1000 USD at 100 USD/token
    assert 9 * ONE < out < 10 * ONE
    s.token.transact("approve", pool.address, MAX, sender=trader)
    back = pool.transact("swap", s.token.address, out, 1, trader, FAR, sender=trader).output
    assert back < 1000 * 10**6
    r0, r1 = pool.call("getReserves")
    assert r0 * r1 >= 1000 * ONE * 100_000 * 10**6  # k never decreases
    total = pool.call("totalShares")
    assert total == shares + 1000  # MINIMUM_LIQUIDITY stays locked under the zero address
    pool.transact("removeLiquidity", shares, 0, 0, sender=lp)
    # only the locked shares' part remains: a dust of both reserves, never withdrawable
    assert pool.call("getReserves") == (r0 - r0 * shares // total, r1 - r1 * shares // total)
    assert pool.call("totalShares") == 1000 and pool.call("shares", "0x" + "00" * 20) == 1000


def test_restricted_token_is_refused_until_the_pool_is_eligible(system: System) -> None:
    s = system
    lp = s.investor("lp")
    trader = s.investor("trader")
    s.mint(lp, 1000 * ONE)
    pool = _pool(s, lp)
    assert pool.reason("addLiquidity", 1000 * ONE, 100_000 * 10**6, 0, sender=lp) == "RECIPIENT_NOT_VERIFIED"
    assert s.token.call("transferRestriction", lp, pool.address, 1) == 6
    # make the pool eligible: register it as a wallet of a venue investor
    venue = keccak256(b"investor:venue")
    s.registry.transact("setInvestor", venue, 756, 1, 2**40, sender=s.agent)
    s.registry.transact("bindWallet", pool.address, venue, sender=s.agent)
    pool.transact("addLiquidity", 1000 * ONE, 100_000 * 10**6, 0, sender=lp)
    s.stable.transact("mint", trader, 1000 * 10**6, sender=s.admin)
    s.stable.transact("approve", pool.address, MAX, sender=trader)
    out = pool.transact("swap", s.stable.address, 1000 * 10**6, 1, trader, FAR, sender=trader).output
    assert s.balance(trader) == out
    # an unverified wallet still cannot receive from the pool
    anon = s.chain.account("anon")
    s.stable.transact("mint", anon, 1000 * 10**6, sender=s.admin)
    s.stable.transact("approve", pool.address, MAX, sender=anon)
    assert (
        pool.reason("swap", s.stable.address, 1000 * 10**6, 1, anon, FAR, sender=anon)
        == "RECIPIENT_NOT_VERIFIED"
    )


def test_a_swap_after_its_deadline_reverts_and_moves_nothing(open_system: System) -> None:
    # Regression (issue 11, item 8): swaps took no deadline, so a held-back transaction could run later.
    s = open_system
    lp, trader = s.chain.account("lp"), s.chain.account("anon-trader")
    s.mint(lp, 1000 * ONE)
    pool = _pool(s, lp)
    pool.transact("addLiquidity", 1000 * ONE, 100_000 * 10**6, 0, sender=lp)
    s.stable.transact("mint", trader, 1000 * 10**6, sender=s.admin)
    s.stable.transact("approve", pool.address, MAX, sender=trader)
    before = pool.call("getReserves")
    now = s.chain.now
    late = pool.reason("swap", s.stable.address, 10 * 10**6, 1, trader, now - 1, sender=trader)
    assert late == "POOL_DEADLINE_PASSED"
    assert pool.call("getReserves") == before and s.balance(trader) == 0
    assert pool.transact("swap", s.stable.address, 10 * 10**6, 1, trader, now, sender=trader).output > 0
