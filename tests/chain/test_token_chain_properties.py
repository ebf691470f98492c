"""Property tests of the token through the facade, on the embedded engine (bounded examples).

- Supply equals the sum of balances after any sequence of mints, burns, transfers and forced transfers,
  refused or not; and the replayed record-date snapshot equals the live balances.
- No transfer succeeds that ``can_transfer`` denies, and a refusal names the reason the view gave.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from equitoken.domain.errors import DomainError
from equitoken.domain.ids import WalletAddress
from equitoken.domain.reasons import Reason
from equitoken.ports.chain import ChainRefusal, ComplianceConfig, TransferMode
from tests.chain.token_world import (
    INVESTOR_A,
    INVESTOR_C,
    World,
    _close_worlds,  # noqa: F401 - session fixture: closes the worlds' backends
    world_fixture,
)

PROPERTY_SETTINGS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
def world() -> Iterator[World]:
    """Yield the embedded world (each example below takes and reverts its own snapshot)."""
    yield from world_fixture("embedded")


def _wallets(w: World) -> list[WalletAddress]:
    return [w.alice, w.alice2, w.bob, w.carol, w.uma, w.dave]


operations = st.lists(
    st.tuples(
        st.sampled_from(["mint", "burn", "transfer", "forced", "batch"]),
        st.integers(0, 5),
        st.integers(0, 5),
        st.integers(0, 60),
    ),
    min_size=1,
    max_size=25,
)


@PROPERTY_SETTINGS
@given(ops=operations, eligible=st.booleans())
def test_supply_equals_the_sum_of_balances(
    world: World, ops: list[tuple[str, int, int, int]], eligible: bool
) -> None:
    w = world
    snapshot = w.dev.snapshot()
    try:
        if eligible:
            w.chain.configure(w.instrument, ComplianceConfig(transfer_mode=TransferMode.ELIGIBLE))
        wallets = _wallets(w)
        for kind, i, j, units in ops:
            a, b, amount = wallets[i], wallets[j], w.amount(units)
            try:
                if kind == "mint":
                    w.chain.mint(w.instrument, a, amount)
                elif kind == "burn":
                    w.chain.burn(w.instrument, a, amount)
                elif kind == "transfer":
                    w.chain.transfer(w.token, a, b, amount)
                elif kind == "forced":
                    w.chain.forced_transfer(w.instrument, a, b, amount)
                else:
                    w.chain.batch_mint(w.instrument, [(a, amount), (b, amount)])
            except ChainRefusal:
                pass
        balances = {x: w.balance(x) for x in wallets}
        total = w.amount(0)
        for value in balances.values():
            total = total + value
        assert w.chain.total_supply(w.token) == total
        snapshot_balances = w.chain.balances_at(w.token, w.chain.block_number())
        assert snapshot_balances == {x: v for x, v in balances.items() if v != w.amount(0)}
    finally:
        w.dev.revert(snapshot)


states = st.fixed_dictionaries(
    {
        "mode": st.sampled_from(list(TransferMode)),
        "denied": st.sets(st.sampled_from([276, 756, 840]), max_size=2),
        "categories": st.sets(st.integers(0, 2), max_size=2),
        "max_holders": st.integers(0, 3),
        "max_balance": st.sampled_from([0, 50, 120]),
        "frozen": st.sets(st.integers(0, 5), max_size=2),
        "partial": st.integers(0, 80),
        "paused": st.booleans(),
        "sanctioned": st.sets(st.integers(0, 5), max_size=1),
        "locked": st.booleans(),
        "whitelist_c": st.booleans(),
    }
)


@PROPERTY_SETTINGS
@given(state=states, sender=st.integers(0, 5), receiver=st.integers(0, 5), units=st.integers(0, 120))
def test_no_transfer_succeeds_that_can_transfer_denies(
    world: World, state: dict[str, Any], sender: int, receiver: int, units: int
) -> None:
    w = world
    snapshot = w.dev.snapshot()
    try:
        wallets = _wallets(w)
        for wallet in (w.alice, w.bob, w.dave):
            w.chain.mint(w.instrument, wallet, w.amount(100))
        chain, instrument = w.chain, w.instrument
        chain.configure(
            instrument,
            ComplianceConfig(
                transfer_mode=state["mode"],
                countries_denied=frozenset(state["denied"]),
                allowed_categories=frozenset(state["categories"]),
                max_holders=state["max_holders"],
                max_balance=w.amount(state["max_balance"]) if state["max_balance"] else None,
            ),
        )
        for index in state["frozen"]:
            chain.set_address_frozen(instrument, wallets[index], True)
        for index in state["sanctioned"]:
            chain.set_wallet_sanctioned(instrument, wallets[index], True)
        if state["partial"]:
            chain.freeze_partial_tokens(instrument, w.alice, w.amount(state["partial"]))
        if state["locked"]:
            chain.set_lockup(instrument, INVESTOR_A, w.now() + timedelta(days=1))
        if state["whitelist_c"]:
            chain.set_whitelisted(instrument, [INVESTOR_C], True)
        if state["paused"]:
            chain.pause(instrument)
        a, b, amount = wallets[sender], wallets[receiver], w.amount(units)
        decision = chain.can_transfer(instrument, a, b, amount)
        before = w.chain.total_supply(w.token), w.balance(a), w.balance(b)
        try:
            chain.transfer(w.token, a, b, amount)
        except ChainRefusal as refusal:
            assert not decision.allowed and refusal.reason is decision.reason
            assert (w.chain.total_supply(w.token), w.balance(a), w.balance(b)) == before
        except DomainError as other:  # pragma: no cover - would be a facade bug
            pytest.fail(f"a transfer failed without a reason code: {other}")
        else:
            assert decision.allowed and decision.reason is Reason.OK
    finally:
        w.dev.revert(snapshot)
