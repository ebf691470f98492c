"""The evaluation point, for random investors, wallets, policies and actions.

- deterministic: the same action gives the same decision, and the order of a policy's rules (or of
  the cases in a batch) never changes any decision;
- a decision is allowed exactly when it has no violations, and violations come in the contract order;
- a forced transfer never lands in a sanctioned or unverified wallet, whatever the override reason.
"""

from __future__ import annotations

import dataclasses
import itertools
import random
from datetime import UTC, date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from equitoken.app.compliance import shipped_policies
from equitoken.compliance.actions import (
    RECEIVES,
    SENDS,
    Action,
    ActionKind,
    Context,
    Holding,
    Party,
    Profile,
    Regulation,
)
from equitoken.compliance.countries import country
from equitoken.compliance.engine import _STAGES, evaluate
from equitoken.compliance.investors import InvestorCategory
from equitoken.compliance.kyc import Kyc, KycState
from equitoken.compliance.policy import Model, Policy
from equitoken.domain.ids import InvestorId
from equitoken.domain.reasons import Reason
from equitoken.domain.values import Money, Shares

T0 = datetime(2026, 1, 1, tzinfo=UTC)
SHIPPED = list(shipped_policies().values())
ALL_RULES = [dataclasses.replace(r, name=f"{p.name}.{r.name}") for p in SHIPPED for r in p.rules]

instants = st.integers(0, 3 * 365 * 24).map(lambda h: T0 + timedelta(hours=h))
shares = st.integers(1, 3_000_000).map(lambda n: Shares(n))


@st.composite
def kycs(draw: st.DrawFn) -> Kyc:
    state = draw(st.sampled_from(KycState))
    expires = draw(st.dates(date(2025, 6, 1), date(2029, 1, 1)))
    return Kyc(state, expires if state in (KycState.VERIFIED, KycState.EXPIRED, KycState.SUSPENDED) else None)


profiles = st.builds(
    Profile,
    st.sampled_from(["US", "DE", "FR", "CH", "SG", "GB", "BR", "KP", "IR", "JP"]).map(country),
    st.booleans(),
    st.sampled_from(InvestorCategory),
    kycs(),
    st.sampled_from([None, "inv-a", "inv-b"]).map(lambda i: None if i is None else InvestorId(i)),
)
holdings = st.builds(Holding, instants, st.sampled_from(Regulation))
parties = st.builds(
    Party,
    st.one_of(st.none(), profiles),
    st.booleans(),
    st.booleans(),
    st.one_of(st.none(), holdings),
    st.integers(0, 1_000_000).map(lambda n: Shares(n)),
)


@st.composite
def actions(draw: st.DrawFn, kind: ActionKind | None = None) -> Action:
    kind = kind or draw(st.sampled_from(ActionKind))
    holders = draw(st.integers(0, 2500))
    context = Context(
        holders,
        draw(st.integers(0, holders)),
        Money(draw(st.integers(0, 1_500_000))),
    )
    notional = draw(st.one_of(st.none(), st.integers(1, 400_000).map(lambda n: Money(n))))
    reason = (
        draw(st.sampled_from(["", "court order 7", "lost key"])) if kind is ActionKind.FORCED_TRANSFER else ""
    )
    return Action(
        kind,
        draw(instants),
        draw(shares),
        draw(parties) if kind in SENDS else None,
        draw(parties) if kind in RECEIVES else None,
        notional,
        reason,
        context,
    )


@st.composite
def policies(draw: st.DrawFn) -> Policy:
    if draw(st.booleans()):
        return draw(st.sampled_from(SHIPPED))
    rules = draw(st.lists(st.sampled_from(ALL_RULES), min_size=1, max_size=8, unique_by=lambda r: r.name))
    return Policy("random", "Random", Model.DIRECT, "random rules", tuple(rules))


@settings(max_examples=300, deadline=None)
@given(policies(), actions(), st.randoms(use_true_random=False))
def test_evaluation_is_deterministic_and_rule_order_free(
    policy: Policy, action: Action, rnd: random.Random
) -> None:
    decision = evaluate(policy, action)
    assert evaluate(policy, action) == decision
    shuffled = list(policy.rules)
    rnd.shuffle(shuffled)
    assert evaluate(dataclasses.replace(policy, rules=tuple(shuffled)), action) == decision
    assert decision.allowed == (not decision.violations)
    assert decision.reason is (decision.violations[0].code if decision.violations else Reason.OK)
    spans = [[s for (code, _), s in _STAGES.items() if code is v.code] for v in decision.violations]
    assert all(max(later) >= min(earlier) for earlier, later in itertools.pairwise(spans))
    assert all(o.reason == action.override_reason for o in decision.overrides)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(policies(), actions()), min_size=2, max_size=6), st.randoms(use_true_random=False))
def test_a_batch_gives_the_same_answers_in_any_order(
    batch: list[tuple[Policy, Action]], rnd: random.Random
) -> None:
    answers = [evaluate(p, a) for p, a in batch]
    order = list(range(len(batch)))
    rnd.shuffle(order)
    for index in order:
        assert evaluate(*batch[index]) == answers[index]


@settings(max_examples=300, deadline=None)
@given(policies(), actions(ActionKind.FORCED_TRANSFER), st.text(max_size=20))
def test_a_forced_transfer_never_lands_in_a_sanctioned_or_unverified_wallet(
    policy: Policy, action: Action, override: str
) -> None:
    forced = dataclasses.replace(action, override_reason=override.strip())
    decision = evaluate(policy, forced)
    receiver = forced.receiver
    assert receiver is not None
    unsafe = receiver.sanctioned or receiver.profile is None or not receiver.profile.kyc.is_valid(forced.at)
    if unsafe:
        assert not decision.allowed
        assert {v.code for v in decision.violations} & {
            Reason.RECIPIENT_SANCTIONED,
            Reason.RECIPIENT_NOT_VERIFIED,
            Reason.KYC_EXPIRED,
        }
    assert all(o.code is Reason.LOCKUP_ACTIVE for o in decision.overrides)
    if not forced.override_reason:
        assert decision.overrides == ()
