"""The sender's balance, checked first as the token checks it (issue 11: the engine said *allowed* where
the chain said ``INSUFFICIENT_BALANCE``)."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from equitoken.app.compliance import shipped_policies
from equitoken.compliance.engine import SENDER_BALANCE, evaluate
from equitoken.domain.reasons import Reason
from equitoken.domain.values import Shares
from tests.unit.compliance_builders import action, party

amounts = st.decimals(min_value=Decimal("0.000000001"), max_value=10**9, places=9)


@pytest.mark.parametrize("policy", sorted(shipped_policies()))
@given(balance=st.one_of(st.just(Decimal(0)), amounts), sent=amounts)
def test_insufficient_balance_exactly_when_more_is_sent_than_held(
    policy: str, balance: Decimal, sent: Decimal
) -> None:
    sender = replace(party("DE", whitelisted=True), balance=Shares(balance))
    decision = evaluate(
        shipped_policies()[policy], action("transfer", sender=sender, receiver=party("DE"), shares=str(sent))
    )
    short = [v for v in decision.violations if v.code is Reason.INSUFFICIENT_BALANCE]
    assert bool(short) == (sent > balance)
    if short:  # the token checks it before any rule: it is the first reason, as on chain
        assert (
            decision.violations[0].rule == SENDER_BALANCE and decision.reason is Reason.INSUFFICIENT_BALANCE
        )


@pytest.mark.parametrize("policy", sorted(shipped_policies()))
def test_an_unknown_balance_is_not_checked(policy: str) -> None:
    decision = evaluate(
        shipped_policies()[policy],
        action("transfer", sender=party("DE"), receiver=party("DE"), shares="1000000"),
    )
    assert all(v.code is not Reason.INSUFFICIENT_BALANCE for v in decision.violations)
