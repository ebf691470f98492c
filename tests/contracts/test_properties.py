"""Property tests: random mints, transfers, burns and freezes keep supply = sum of balances, the
per-investor books consistent, and no transfer succeeds that `canTransfer` denied just before."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from equitoken.adapters.chain.compiler import compile_all
from equitoken.domain.reasons import Reason

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


# ------------------------------------------------------------------ books across bind/unbind/rebind/mode


BOOK_INVESTORS = ("a", "b")
BOOK_WALLETS = 4  # wallets 0 and 1 start bound to a and b; 2 and 3 start unbound
BOOK_CAP, BOOK_LIMIT = 1200, 2
ZERO_KEY = b"\0" * 32

w_ = st.integers(0, BOOK_WALLETS - 1)
amount_ = st.integers(0, 800)
book_action = st.one_of(
    st.tuples(st.just("mint"), w_, st.integers(1, 800)),
    st.tuples(st.just("burn"), w_, amount_),
    st.tuples(st.just("transfer"), w_, w_, amount_),
    st.tuples(st.just("forced"), w_, w_, amount_),
    st.tuples(st.just("bind"), w_, st.integers(0, 1)),  # bind, or REbind if bound elsewhere
    st.tuples(st.just("unbind"), w_),
    st.tuples(st.just("mode"), st.integers(0, 2)),
    st.tuples(st.just("rebook"), w_),
)


class Books:
    """A system with three investors and six wallets, and the reads the book invariants need."""

    def __init__(self, mode: int) -> None:
        self.s = deploy_system(compile_all(), mode=mode)
        s = self.s
        self.ids = [investor_id(i) for i in BOOK_INVESTORS]
        for iid in self.ids:
            s.registry.transact("setInvestor", iid, 276, 0, 2**40, sender=s.agent)
        self.wallets = [s.chain.account(f"books/wallet{n}") for n in range(BOOK_WALLETS)]
        for n, inv in ((0, 0), (1, 1)):
            s.registry.transact("bindWallet", self.wallets[n], self.ids[inv], sender=s.agent)
        s.compliance.transact("setWhitelisted", self.ids, True, sender=s.agent)
        s.compliance.transact("setMaxHolders", BOOK_LIMIT, sender=s.agent)
        s.compliance.transact("setMaxBalance", BOOK_CAP, sender=s.agent)
        self.keys = self.ids + [bytes(12) + bytes.fromhex(w[2:]) for w in self.wallets]

    def current_key(self, wallet: str) -> bytes:
        bound = self.s.registry.call("investorOf", wallet)
        return bound if bound != ZERO_KEY else bytes(12) + bytes.fromhex(wallet[2:])

    def booked(self, key: bytes) -> int:
        return int(self.s.compliance.call("investorBalance", key))

    def expected_caps(self, sender: str, receiver: str, amount: int) -> int:
        """A reference model of rules 12/13: rebook the parties in Python, then apply the caps."""
        s = self.s
        if s.compliance.call("transferMode") == 0:
            return 0
        from_key = self.current_key(sender) if sender else ZERO_KEY
        to_key = self.current_key(receiver)
        if from_key == to_key:
            return 0
        books = {k: self.booked(k) for k in self.keys}
        for wallet, key in dict.fromkeys(((sender, from_key), (receiver, to_key))):
            if not wallet:
                continue
            booked = s.compliance.call("holderKey", wallet)
            if booked not in (ZERO_KEY, key):
                books[booked] -= s.balance(wallet)
                books[key] += s.balance(wallet)
        to_balance = books[to_key]
        if to_balance + amount > BOOK_CAP:
            return Reason.MAX_BALANCE_EXCEEDED.value
        if to_balance == 0 and amount:
            holders = sum(1 for v in books.values() if v)
            if sender and holders and books.get(from_key) == amount:
                holders -= 1
            if holders >= BOOK_LIMIT:
                return Reason.HOLDER_LIMIT_REACHED.value
        return 0

    def balance_change(self, kind: str, parties: list[str], amount: int) -> list[str]:
        """Run a mint/burn/transfer/forced transfer; check it against its view, the model and the caps.

        Return the wallets it touched (none if it was refused).
        """
        s = self.s
        sender, receiver = {
            "mint": ("", parties[0]),
            "burn": (parties[0], ""),
        }.get(kind, (parties[0], parties[-1]))
        if kind == "mint":
            code = s.token.call("mintRestriction", receiver, amount)
            call: tuple[str, tuple[object, ...], str] = ("mint", (receiver, amount), s.issuer)
        elif kind == "burn":
            code = s.token.call("burnRestriction", sender, amount)
            call = ("burn", (sender, amount), s.issuer)
        elif kind == "transfer":
            code = s.token.call("transferRestriction", sender, receiver, amount)
            call = ("transfer", (receiver, amount), sender)
        else:
            code = s.token.call("forcedTransferRestriction", sender, receiver, amount)
            call = ("forcedTransfer", (sender, receiver, amount), s.agent)
        if receiver and code in (0, Reason.MAX_BALANCE_EXCEEDED, Reason.HOLDER_LIMIT_REACHED):
            # every earlier rule passed: the caps decide, on the books as rebooked
            assert code == self.expected_caps(sender, receiver, amount), "caps disagree with the model"
        to_before = self.booked(self.current_key(receiver)) if receiver else 0
        fn, args, caller = call
        try:
            s.token.transact(fn, *args, sender=caller)
        except Reverted as error:
            assert code != 0, f"the view allowed a {kind} that reverted: {error.reason}"
            return []
        assert code == 0, f"{kind} succeeded although the view said {code}"
        if receiver and amount and s.compliance.call("transferMode") != 0:
            to_key = self.current_key(receiver)
            if not sender or self.current_key(sender) != to_key:
                assert self.booked(to_key) <= BOOK_CAP, "a receipt exceeded maxBalance"
                if self.booked(to_key) == amount and to_before == 0:
                    assert s.compliance.call("holderCount") <= BOOK_LIMIT, "a new holder beyond maxHolders"
        return [w for w in (sender, receiver) if w]

    def check_books(self, touched: list[str]) -> None:
        s = self.s
        balances = {w: s.balance(w) for w in self.wallets}
        assert s.token.call("totalSupply") == sum(balances.values())
        per_key = {k: 0 for k in self.keys}
        for w, bal in balances.items():
            key = s.compliance.call("holderKey", w)
            assert (key == ZERO_KEY) == (bal == 0), "a wallet is booked iff it holds tokens"
            if bal:
                per_key[key] += bal
        booked = {k: self.booked(k) for k in self.keys}
        assert booked == per_key, "each key's book is the sum of the wallets booked under it"
        assert sum(booked.values()) == s.token.call("totalSupply")
        assert s.compliance.call("holderCount") == sum(1 for v in booked.values() if v)
        for w in touched:
            if balances[w]:
                assert s.compliance.call("holderKey", w) == self.current_key(w), "touched wallet is stale"
            assert s.compliance.call("needsRebook", w) is False

    def check_exact(self) -> None:
        """After rebooking every wallet, each investor's book is exactly what its bound wallets hold."""
        for iid in self.ids:
            held = sum(
                self.s.balance(w) for w in self.wallets if self.s.registry.call("investorOf", w) == iid
            )
            assert self.booked(iid) == held
        for w in self.wallets:
            if self.s.registry.call("investorOf", w) == ZERO_KEY:
                assert self.booked(bytes(12) + bytes.fromhex(w[2:])) == self.s.balance(w)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2), st.lists(book_action, min_size=10, max_size=40))
def test_books_stay_exact_across_bind_unbind_rebind_and_mode_switch(
    mode: int, actions: list[tuple[Any, ...]]
) -> None:
    b = Books(mode)
    s, wallets = b.s, b.wallets
    for act in actions:
        kind = act[0]
        touched: list[str] = []
        if kind in ("mint", "burn", "transfer", "forced"):
            touched = b.balance_change(str(kind), [wallets[int(i)] for i in act[1:-1]], int(act[-1]))
        elif kind == "bind":
            wallet, iid = wallets[act[1]], b.ids[act[2]]
            if s.registry.call("investorOf", wallet) not in (ZERO_KEY, iid):
                s.registry.transact("unbindWallet", wallet, sender=s.agent)  # a rebind
            s.registry.transact("bindWallet", wallet, iid, sender=s.agent)
        elif kind == "unbind":
            wallet = wallets[act[1]]
            if s.registry.call("investorOf", wallet) != ZERO_KEY:
                s.registry.transact("unbindWallet", wallet, sender=s.agent)
        elif kind == "mode":
            s.compliance.transact("setTransferMode", act[1], sender=s.agent)
        else:
            wallet = wallets[act[1]]
            s.compliance.transact("rebook", wallet, sender=s.agent)
            touched = [wallet]
        b.check_books(touched)
    s.compliance.transact("batchRebook", wallets, sender=s.agent)
    b.check_books(list(wallets))
    b.check_exact()
