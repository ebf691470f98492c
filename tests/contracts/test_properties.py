"""Property tests: random mints, transfers, burns and freezes keep supply = sum of balances, the
per-investor books consistent, and no transfer succeeds that `canTransfer` denied just before."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from equitoken.adapters.chain.compiler import compile_all

from .conftest import System, deploy_system, investor_id
from .harness import Reverted

INVESTORS = ("a", "b", "c", "d")
WALLETS = [(inv, n) for inv in INVESTORS for n in range(2)]  # two wallets per investor

action = st.one_of(
    st.tuples(st.just("mint"), st.integers(0, 7), st.integers(0, 1000)),
    st.tuples(st.just("burn"), st.integers(0, 7), st.integers(0, 1000)),
    st.tuples(st.just("transfer"), st.integers(0, 7), st.integers(0, 8), st.integers(0, 1000)),
    st.tuples(st.just("freeze"), st.integers(0, 7), st.booleans()),
    st.tuples(st.just("partial"), st.integers(0, 7), st.integers(0, 500)),
    st.tuples(st.just("forced"), st.integers(0, 7), st.integers(0, 8), st.integers(0, 1000)),
)


def _setup() -> tuple[System, list[str]]:
    s = deploy_system(compile_all())
    for inv in INVESTORS:
        s.investor(inv, wallets=2)
    s.compliance.transact("setMaxHolders", 3, sender=s.agent)
    s.compliance.transact("setMaxBalance", 1500, sender=s.agent)
    wallets = [s.wallet(inv, n) for inv, n in WALLETS]
    wallets.append(s.chain.account("unverified"))  # index 8: never eligible
    return s, wallets


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(action, min_size=1, max_size=25))
def test_random_operations_keep_the_books(actions: list[tuple[object, ...]]) -> None:
    s, wallets = _setup()
    for act in actions:
        kind = act[0]
        try:
            if kind == "mint":
                s.token.transact("mint", wallets[act[1]], act[2], sender=s.issuer)  # type: ignore[index]
            elif kind == "burn":
                s.token.transact("burn", wallets[act[1]], act[2], sender=s.issuer)  # type: ignore[index]
            elif kind == "transfer":
                sender, receiver, amount = wallets[act[1]], wallets[act[2]], act[3]  # type: ignore[index]
                allowed = s.token.call("canTransfer", sender, receiver, amount)
                code = s.token.call("transferRestriction", sender, receiver, amount)
                assert allowed == (code == 0)
                try:
                    s.token.transact("transfer", receiver, amount, sender=sender)
                    assert allowed, "a transfer succeeded that canTransfer denied"
                except Reverted as error:
                    assert not allowed, f"canTransfer allowed a transfer that reverted: {error.reason}"
            elif kind == "freeze":
                s.token.transact("setAddressFrozen", wallets[act[1]], act[2], sender=s.agent)  # type: ignore[index]
            elif kind == "partial":
                s.token.transact("freezePartialTokens", wallets[act[1]], act[2], sender=s.agent)  # type: ignore[index]
            elif kind == "forced":
                s.token.transact("forcedTransfer", wallets[act[1]], wallets[act[2]], act[3], sender=s.agent)  # type: ignore[index]
        except Reverted:
            pass
        balances = [s.balance(w) for w in wallets]
        assert s.token.call("totalSupply") == sum(balances)
        for w in wallets:
            assert s.token.call("getFrozenTokens", w) <= s.balance(w)
        per_investor = {inv: sum(s.balance(s.wallet(inv, n)) for n in range(2)) for inv in INVESTORS}
        for inv, total in per_investor.items():
            assert s.compliance.call("investorBalance", investor_id(inv)) == total
        assert s.compliance.call("holderCount") == sum(1 for t in per_investor.values() if t > 0)
        assert s.compliance.call("holderCount") <= 3
        assert max(per_investor.values()) <= 1500
