"""Regression tests for the security review: each proof of concept, now asserting the FIXED behaviour.

1. split investor books after OPEN -> ELIGIBLE or a rebind (Compliance rebooking);
2. QuoteSettlement's low-s bound is exactly secp256k1 n // 2;
3. a mistaken multiplier schedule can be cancelled, and schedules are bounded;
4. forcedTransfer(x, x, amount) is refused (it used to release x's partial freeze);
5. the pool takes only the proportional pair and locks MINIMUM_LIQUIDITY on the first deposit.
"""

from __future__ import annotations

import re
from pathlib import Path

import coincurve
import eth_keys.constants

from equitoken.adapters.chain.eip712 import SECP256K1_N, SIDE_BUY, Quote, quote_digest, symbol_bytes32
from equitoken.domain.keccak import keccak256
from equitoken.domain.reasons import Reason

from .conftest import ELIGIBLE, FAR_FUTURE, GERMANY, ISSUER, ONE, OPEN, System, deploy_system, investor_id
from .harness import Contract

MAX = 2**256 - 1
ZERO = "0x" + "00" * 20
CONTRACTS = Path(__file__).resolve().parents[2] / "src/equitoken/adapters/chain/contracts"
MISSING = "ACCESS_MISSING_ROLE"


def _key_of(wallet: str) -> bytes:
    """The holder key of an unbound wallet: its address as bytes32."""
    return bytes(12) + bytes.fromhex(wallet[2:])


# ------------------------------------------------------------------ 1. split investor books


def _open_then_eligible(s: System) -> tuple[str, str]:
    """The PoC's set-up: 60 minted to an unbound wallet in OPEN mode, then ELIGIBLE, two wallets bound."""
    w0 = s.chain.account("alice/wallet0")
    s.mint(w0, 60 * ONE)
    assert s.compliance.call("holderKey", w0) == _key_of(w0)
    s.compliance.transact("setTransferMode", ELIGIBLE, sender=s.agent)
    s.registry.transact("setInvestor", investor_id("alice"), GERMANY, 0, FAR_FUTURE, sender=s.agent)
    s.registry.transact("bindWallet", w0, investor_id("alice"), sender=s.agent)
    w1 = s.chain.account("alice/wallet1")
    s.registry.transact("bindWallet", w1, investor_id("alice"), sender=s.agent)
    s.compliance.transact("setMaxBalance", 100 * ONE, sender=s.agent)
    return w0, w1


def test_poc_mode_switch_rebook_keeps_one_book_per_investor(compiled) -> None:  # type: ignore[no-untyped-def]
    s = deploy_system(compiled, mode=OPEN)
    w0, w1 = _open_then_eligible(s)
    assert s.compliance.call("needsRebook", w0) is True
    assert s.compliance.call("needsRebook", w1) is False
    receipt = s.compliance.transact("rebook", w0, sender=s.agent)
    assert receipt.output is True
    assert receipt.named("HolderRebooked")[0].args == {
        "wallet": w0,
        "fromKey": _key_of(w0),
        "toKey": investor_id("alice"),
        "amount": 60 * ONE,
    }
    assert s.compliance.call("needsRebook", w0) is False
    assert s.compliance.call("investorBalance", investor_id("alice")) == 60 * ONE
    assert s.compliance.call("investorBalance", _key_of(w0)) == 0
    assert s.compliance.call("holderCount") == 1
    # the PoC's 100 to the second wallet now exceeds alice's cap: view and transaction agree
    assert s.token.call("mintRestriction", w1, 100 * ONE) == Reason.MAX_BALANCE_EXCEEDED
    assert s.token.reason("mint", w1, 100 * ONE, sender=s.issuer) == "MAX_BALANCE_EXCEEDED"
    s.mint(w1, 40 * ONE)
    assert s.token.reason("mint", w0, 1, sender=s.issuer) == "MAX_BALANCE_EXCEEDED"
    assert s.compliance.call("investorBalance", investor_id("alice")) == 100 * ONE
    assert s.compliance.call("holderCount") == 1
    # a second rebook is a no-op
    assert s.compliance.transact("rebook", w0, sender=s.agent).output is False


def test_poc_mode_switch_stale_wallet_is_rebooked_by_its_next_transaction(compiled) -> None:  # type: ignore[no-untyped-def]
    s = deploy_system(compiled, mode=OPEN)
    w0, w1 = _open_then_eligible(s)
    # no explicit rebook: the decision on w0 already counts w0's 60 for alice (view = transaction)
    assert s.token.call("mintRestriction", w0, 41 * ONE) == Reason.MAX_BALANCE_EXCEEDED
    assert s.token.reason("mint", w0, 41 * ONE, sender=s.issuer) == "MAX_BALANCE_EXCEEDED"
    assert s.token.call("mintRestriction", w0, 40 * ONE) == 0
    receipt = s.token.transact("mint", w0, 40 * ONE, sender=s.issuer)
    assert [e.name for e in receipt.events] == ["HolderRebooked", "Transfer"]
    assert s.compliance.call("holderKey", w0) == investor_id("alice")
    assert s.compliance.call("investorBalance", investor_id("alice")) == 100 * ONE
    assert s.compliance.call("holderCount") == 1
    assert s.token.reason("mint", w1, 1, sender=s.issuer) == "MAX_BALANCE_EXCEEDED"
    # moving between alice's own wallets is not capped and keeps one book
    s.token.transact("transfer", w1, 30 * ONE, sender=w0)
    assert s.compliance.call("investorBalance", investor_id("alice")) == 100 * ONE
    assert s.compliance.call("holderCount") == 1


def test_stale_sender_counts_in_the_holder_limit(system: System) -> None:
    s = system
    alice = s.investor("alice")
    bob = s.investor("bob")
    carol = s.investor("carol")
    s.mint(alice, 100)
    s.mint(bob, 100)
    s.compliance.transact("setMaxHolders", 2, sender=s.agent)
    # alice's wallet is rebound to carol: books still say {alice, bob}; after rebooking {carol, bob}
    s.registry.transact("unbindWallet", alice, sender=s.agent)
    s.registry.transact("bindWallet", alice, investor_id("carol"), sender=s.agent)
    # carol's own wallet sending everything to dave: carol leaves as dave arrives -> allowed
    dave = s.investor("dave")
    assert s.token.call("transferRestriction", alice, dave, 100) == 0
    s.token.transact("transfer", dave, 100, sender=alice)
    assert s.compliance.call("investorBalance", investor_id("alice")) == 0
    assert s.compliance.call("investorBalance", investor_id("carol")) == 0
    assert s.compliance.call("investorBalance", investor_id("dave")) == 100
    assert s.compliance.call("holderCount") == 2
    # and nobody new may join now: view and transaction agree
    assert s.token.call("transferRestriction", dave, carol, 1) == Reason.HOLDER_LIMIT_REACHED
    assert s.token.reason("transfer", carol, 1, sender=dave) == "HOLDER_LIMIT_REACHED"


def test_rebind_and_unbind_are_rebooked_by_the_agent(system: System) -> None:
    s = system
    alice = s.investor("alice", wallets=2)
    s.investor("bob")
    s.mint(alice, 70)
    s.mint(s.wallet("alice", 1), 30)
    # rebind alice's first wallet to bob
    s.registry.transact("unbindWallet", alice, sender=s.agent)
    s.registry.transact("bindWallet", alice, investor_id("bob"), sender=s.agent)
    assert s.compliance.call("needsRebook", alice) is True
    assert s.compliance.call("holderCount") == 1  # stale: both wallets still booked for alice
    assert s.compliance.transact("batchRebook", [alice, s.wallet("alice", 1)], sender=s.agent).output == 1
    assert s.compliance.call("investorBalance", investor_id("alice")) == 30
    assert s.compliance.call("investorBalance", investor_id("bob")) == 70
    assert s.compliance.call("holderCount") == 2
    # unbind it: it becomes its own holder, keyed by its address
    s.registry.transact("unbindWallet", alice, sender=s.agent)
    s.compliance.transact("rebook", alice, sender=s.agent)
    assert s.compliance.call("investorBalance", investor_id("bob")) == 0
    assert s.compliance.call("investorBalance", _key_of(alice)) == 70
    assert s.compliance.call("holderCount") == 2
    # an unbound wallet cannot send in ELIGIBLE mode, but an agent can force its tokens out
    s.token.transact("forcedTransfer", alice, s.wallet("alice", 1), 70, sender=s.agent)
    assert s.compliance.call("investorBalance", _key_of(alice)) == 0
    assert s.compliance.call("investorBalance", investor_id("alice")) == 100
    assert s.compliance.call("holderCount") == 1
    assert s.compliance.call("holderKey", alice) == b"\0" * 32


def test_rebook_is_agent_only(system: System) -> None:
    alice = system.investor("alice")
    assert system.compliance.reason("rebook", alice, sender=alice) == MISSING
    assert system.compliance.reason("batchRebook", [alice], sender=system.issuer) == MISSING
    assert system.compliance.transact("rebook", alice, sender=system.agent).output is False


def test_open_mode_ignores_caps_but_keeps_the_books(open_system: System) -> None:
    s = open_system
    s.compliance.transact("setMaxBalance", 10, sender=s.agent)
    s.compliance.transact("setMaxHolders", 1, sender=s.agent)
    a, b = s.chain.account("anon-a"), s.chain.account("anon-b")
    s.mint(a, 100)
    s.mint(b, 100)  # documented: caps are not enforced in mode OPEN
    assert s.compliance.call("holderCount") == 2
    assert s.compliance.call("investorBalance", _key_of(a)) == 100


# ------------------------------------------------------------------ 2. HALF_ORDER


def _signature_with_s(digest: bytes, sig_s: int, recovery: int) -> tuple[int, str]:
    """Return an r for which (r, sig_s, recovery) is a valid signature of `digest`, and its signer."""
    r = 5
    while True:
        try:
            pub = coincurve.PublicKey.from_signature_and_message(
                r.to_bytes(32, "big") + sig_s.to_bytes(32, "big") + bytes([recovery]), digest, hasher=None
            )
            return r, "0x" + keccak256(pub.format(compressed=False)[1:])[12:].hex()
        except Exception:
            r += 1


def _settlement(s: System) -> tuple[Contract, str]:
    inv = s.investor("ivan")
    treasury = s.chain.account("treasury")
    st = s.chain.deploy(
        s.compiled["QuoteSettlement"], s.token.address, s.stable.address, symbol_bytes32("ACMEx"),
        treasury, inv, 3600, MAX, s.admin, sender=s.admin,
    )  # fmt: skip
    s.token.transact("grantRole", ISSUER, st.address, sender=s.admin)
    s.stable.transact("mint", inv, 10**12, sender=s.admin)
    s.stable.transact("approve", st.address, MAX, sender=inv)
    return st, inv


def test_half_order_is_secp256k1_n_over_two() -> None:
    source = (CONTRACTS / "QuoteSettlement.vy").read_text()
    match = re.search(r"HALF_ORDER: constant\(uint256\) = (\d+)", source)
    assert match is not None
    half = int(match.group(1))
    assert half == SECP256K1_N // 2 == eth_keys.constants.SECPK1_N // 2
    assert half == 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0


def test_s_equal_half_order_is_accepted_and_one_more_is_refused(system: System) -> None:
    s = system
    st, inv = _settlement(s)
    quote = Quote(bytes.fromhex(inv[2:]), symbol_bytes32("ACMEx"), SIDE_BUY, ONE, 100 * 10**6,
                  s.chain.now + 60, keccak256(b"q"))  # fmt: skip
    digest = quote_digest(quote, s.chain.chain_id, bytes.fromhex(st.address[2:]))
    half = SECP256K1_N // 2
    r, signer = _signature_with_s(digest, half, 0)
    st.transact("setSigner", signer, sender=s.admin)
    head = (inv, quote.symbol, quote.side, quote.quantity, quote.price, quote.expiry, quote.quote_id)
    # the malleable twin (r, n - s, v ^ 1) = (r, n//2 + 1, 28) recovers the same signer: refused as high-s
    twin = coincurve.PublicKey.from_signature_and_message(
        r.to_bytes(32, "big") + (half + 1).to_bytes(32, "big") + b"\1", digest, hasher=None
    )
    assert "0x" + keccak256(twin.format(compressed=False)[1:])[12:].hex() == signer
    high = (*head, 28, r.to_bytes(32, "big"), (half + 1).to_bytes(32, "big"))
    assert st.reason("settle", *high, sender=inv) == "QUOTE_BAD_SIGNATURE"
    low = (*head, 27, r.to_bytes(32, "big"), half.to_bytes(32, "big"))
    assert st.transact("settle", *low, sender=inv).output == 100 * 10**6
    assert s.balance(inv) == ONE


# ------------------------------------------------------------------ 3. multiplier cancel and bounds


def test_far_future_and_huge_nonce_schedules_are_refused(system: System) -> None:
    s = system
    typo = s.chain.now + 300 * 365 * 86400
    assert s.token.reason("scheduleMultiplier", 2 * ONE, typo, 1, sender=s.corporate) == (
        "MULTIPLIER_EFFECTIVE_TIME_TOO_FAR_AHEAD"
    )
    limit = s.chain.now + 10 * 366 * 86400
    assert s.token.reason("scheduleMultiplier", 2 * ONE, limit + 1, 1, sender=s.corporate) == (
        "MULTIPLIER_EFFECTIVE_TIME_TOO_FAR_AHEAD"
    )
    assert s.token.reason("scheduleMultiplier", 2 * ONE, s.chain.now, MAX, sender=s.corporate) == (
        "MULTIPLIER_NONCE_OUT_OF_RANGE"
    )
    assert s.token.reason("scheduleMultiplier", 2 * ONE, s.chain.now, 2**64, sender=s.corporate) == (
        "MULTIPLIER_NONCE_OUT_OF_RANGE"
    )
    s.token.transact("scheduleMultiplier", 2 * ONE, limit, 2**64 - 1, sender=s.corporate)
    assert s.token.call("multiplierUpdateCount") == 2


def test_cancel_the_last_pending_multiplier_and_reschedule(system: System) -> None:
    s = system
    now = s.chain.now
    s.token.transact("scheduleMultiplier", 2 * ONE, now + 100, 1, sender=s.corporate)
    wrong = now + 9 * 365 * 86400  # a year typo, within the bound
    s.token.transact("scheduleMultiplier", 3 * ONE, wrong, 2**64 - 1, sender=s.corporate)
    # the typo would block the next action...
    assert s.token.reason("scheduleMultiplier", 3 * ONE, now + 200, 2**64 - 1, sender=s.corporate) == (
        "MULTIPLIER_NONCE_ALREADY_USED"
    )
    # ...so it is cancelled: only the last entry, only by its nonce, only by CORPORATE_ACTIONS
    assert (
        s.token.reason("cancelMultiplier", 1, sender=s.corporate)
        == "MULTIPLIER_NOT_THE_LAST_SCHEDULED_NONCE"
    )
    assert s.token.reason("cancelMultiplier", 2**64 - 1, sender=s.agent) == MISSING
    receipt = s.token.transact("cancelMultiplier", 2**64 - 1, sender=s.corporate)
    assert receipt.named("MultiplierCancelled")[0].args == {
        "index": 2,
        "multiplier": 3 * ONE,
        "effectiveAt": wrong,
        "nonce": 2**64 - 1,
    }
    assert s.token.call("multiplierUpdateCount") == 2
    assert s.token.call("lastMultiplierNonce") == 1
    assert s.token.reason("multiplierUpdate", 2, sender=s.corporate) == "MULTIPLIER_INDEX_OUT_OF_RANGE"
    assert s.token.call("multiplierAt", wrong) == 2 * ONE
    # the corrected action goes in (nonce 1 stays used: it is still in the history)
    assert s.token.reason("scheduleMultiplier", 3 * ONE, now + 200, 1, sender=s.corporate) == (
        "MULTIPLIER_NONCE_ALREADY_USED"
    )
    s.token.transact("scheduleMultiplier", 3 * ONE, now + 200, 2, sender=s.corporate)
    assert s.token.call("multiplierUpdate", 2) == (3 * ONE, now + 200, 2)
    # an entry in force can no longer be cancelled, nor the initial 1.0
    s.chain.set_time(now + 200)
    assert s.token.call("multiplier") == 3 * ONE
    assert s.token.reason("cancelMultiplier", 2, sender=s.corporate) == "MULTIPLIER_ALREADY_IN_EFFECT"
    fresh = deploy_system(s.compiled)
    assert (
        fresh.token.reason("cancelMultiplier", 0, sender=fresh.corporate) == "MULTIPLIER_NOTHING_TO_CANCEL"
    )


def test_cancel_one_second_before_it_takes_effect(system: System) -> None:
    s = system
    at = s.chain.now + 10
    s.token.transact("scheduleMultiplier", 2 * ONE, at, 7, sender=s.corporate)
    s.chain.set_time(at - 1)
    s.token.transact("cancelMultiplier", 7, sender=s.corporate)
    s.chain.set_time(at)
    assert s.token.call("multiplier") == ONE
    assert s.token.call("lastMultiplierNonce") == 0
    s.token.transact("scheduleMultiplier", 2 * ONE, at, 7, sender=s.corporate)
    assert s.token.call("multiplier") == 2 * ONE


# ------------------------------------------------------------------ 4. forced transfer to oneself


def test_forced_self_transfer_is_refused_and_keeps_the_freeze(system: System) -> None:
    s = system
    a = s.investor("alice", wallets=2)
    s.mint(a, 10 * ONE)
    s.token.transact("freezePartialTokens", a, 10 * ONE, sender=s.agent)
    assert s.token.call("forcedTransferRestriction", a, a, 10 * ONE) == Reason.SAME_WALLET.value == 22
    assert s.token.reason("forcedTransfer", a, a, 10 * ONE, sender=s.agent) == "SAME_WALLET"
    assert s.token.reason("forcedTransfer", a, a, 0, sender=s.agent) == "SAME_WALLET"
    # recovery to the same wallet is refused with the same reason
    assert s.token.reason("recoveryAddress", a, a, investor_id("alice"), sender=s.agent) == "SAME_WALLET"
    assert s.token.call("getFrozenTokens", a) == 10 * ONE
    # a forced transfer to another wallet still consumes the frozen tokens, as documented
    other = s.wallet("alice", 1)
    assert s.token.call("forcedTransferRestriction", a, other, 10 * ONE) == 0
    s.token.transact("forcedTransfer", a, other, 10 * ONE, sender=s.agent)
    assert s.token.call("getFrozenTokens", a) == 0


# ------------------------------------------------------------------ 5. pool deposits


def _pool_with(s: System, *people: tuple[str, int, int]) -> Contract:
    pool = s.chain.deploy(
        s.compiled["ConstantProductPool"], s.token.address, s.stable.address, 30, sender=s.admin
    )
    for who, tokens, cash in people:
        s.mint(who, tokens)
        s.stable.transact("mint", who, cash, sender=s.admin)
        s.token.transact("approve", pool.address, MAX, sender=who)
        s.stable.transact("approve", pool.address, MAX, sender=who)
    return pool


def test_poc_excess_donation_no_longer_skims_the_next_lp(open_system: System) -> None:
    s = open_system
    att, vic = s.chain.account("attacker"), s.chain.account("victim")
    pool = _pool_with(s, (att, 2002, 10**9 + 1001), (vic, 10**18, 10**9))
    # the PoC's dust first deposit is refused: the first deposit must exceed MINIMUM_LIQUIDITY
    assert pool.reason("addLiquidity", 1, 1, 0, sender=att) == "POOL_TOO_LITTLE_LIQUIDITY"
    assert pool.call("MINIMUM_LIQUIDITY") == 1000
    # the smallest possible first deposit: 1 share for the attacker, 1000 locked forever
    assert pool.transact("addLiquidity", 1001, 1001, 0, sender=att).output == 1
    assert pool.call("shares", ZERO) == 1000
    # the unbalanced "donation" takes only the proportional pair: nothing is left behind
    receipt = pool.transact("addLiquidity", 1, 10**9, 0, sender=att)
    assert receipt.named("LiquidityAdded")[0].args == {
        "provider": att,
        "amount0": 1,
        "amount1": 1,
        "shares": 1,
    }
    assert pool.call("getReserves") == (1002, 1002)
    # the victim's deposit is priced at the pool's ratio; the excess token stays in the victim's wallet
    minted = pool.transact("addLiquidity", 10**18, 10**9, 0, sender=vic).output
    assert minted == 10**9
    assert s.balance(vic) == 10**18 - 10**9
    # the attacker withdraws: no profit on either side
    before = (s.balance(att), s.stable.call("balanceOf", att))
    out0, out1 = pool.transact("removeLiquidity", 2, 0, 0, sender=att).output
    assert (out0, out1) == (2, 2)
    assert s.balance(att) == before[0] + 2 == 2002 - 1001 - 1 + 2
    assert s.stable.call("balanceOf", att) <= 10**9 + 1001  # at most what it started with
    # the victim gets everything back but rounding
    back0, back1 = pool.transact("removeLiquidity", minted, 0, 0, sender=vic).output
    assert back0 == back1 == 10**9


def test_unbalanced_deposit_takes_the_optimal_pair(open_system: System) -> None:
    s = open_system
    lp, other = s.chain.account("lp"), s.chain.account("lp2")
    pool = _pool_with(s, (lp, 1000 * ONE, 100_000 * 10**6), (other, 1000 * ONE, 100_000 * 10**6))
    pool.transact("addLiquidity", 100 * ONE, 10_000 * 10**6, 0, sender=lp)
    # stable-heavy offer: all the tokens, only 100 USD per token of the stablecoin
    receipt = pool.transact("addLiquidity", 10 * ONE, 50_000 * 10**6, 0, sender=other)
    added = receipt.named("LiquidityAdded")[0].args
    assert added["amount0"] == 10 * ONE and added["amount1"] == 1_000 * 10**6
    assert s.stable.call("balanceOf", other) == 99_000 * 10**6
    # token-heavy offer: all the stablecoin, only the matching tokens
    receipt = pool.transact("addLiquidity", 500 * ONE, 100 * 10**6, 0, sender=other)
    added = receipt.named("LiquidityAdded")[0].args
    assert added["amount1"] == 100 * 10**6 and ONE <= added["amount0"] <= ONE + 1
    assert pool.call("getReserves") == (100 * ONE + 10 * ONE + added["amount0"], 11_100 * 10**6)
    # minShares still guards the caller
    total = pool.call("totalShares")
    assert pool.reason("addLiquidity", ONE, 100 * 10**6, total, sender=other) == "POOL_TOO_FEW_SHARES"
