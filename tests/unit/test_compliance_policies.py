"""Each shipped policy, rule by rule: one case that passes the rule and one that breaks it.

Every case is decided by the one evaluation point; a deny case must name exactly the rule under test
(every other rule passes), so each row proves one rule's allow and deny path.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from equitoken.app.compliance import shipped_policies
from equitoken.compliance.actions import Action
from equitoken.compliance.engine import evaluate
from equitoken.compliance.kyc import Kyc, KycState
from equitoken.domain.reasons import Reason
from tests.unit.compliance_builders import action, party

R = Reason
EXPIRED = Kyc(KycState.VERIFIED, date(2026, 1, 1))
PENDING = Kyc(KycState.PENDING)
LATER = datetime(2027, 6, 1, 15, tzinfo=UTC)

# (policy, rule, allowed action, denied action, the denied action's codes)
Row = tuple[str, str, Action, Action, tuple[Reason, ...]]

TRACKER: list[Row] = [
    (
        "tracker-certificate",
        "sanctions",
        action("transfer", sender=party(None), receiver=party(None)),
        action("transfer", sender=party(None), receiver=party(None, sanctioned=True)),
        (R.RECIPIENT_SANCTIONED,),
    ),
    (
        "tracker-certificate",
        "sanctions",
        action("redeem", sender=party("FR")),
        action("redeem", sender=party("FR", sanctioned=True)),
        (R.SENDER_SANCTIONED,),
    ),
    (
        "tracker-certificate",
        "onboarded-at-issuer",
        action("buy", receiver=party("FR")),
        action("buy", receiver=party("FR", kyc=PENDING)),
        (R.RECIPIENT_NOT_VERIFIED,),
    ),
    (
        "tracker-certificate",
        "onboarded-at-issuer",
        action("redeem", sender=party("FR")),
        action("redeem", sender=party("FR", kyc=EXPIRED)),
        (R.KYC_EXPIRED,),
    ),
    (
        "tracker-certificate",
        "no-us-persons-at-primary-sale",
        action("buy", receiver=party("FR", us=False)),
        action("buy", receiver=party("FR", us=True)),
        (R.COUNTRY_NOT_ALLOWED,),
    ),
    (
        "tracker-certificate",
        "sanctioned-jurisdictions",
        action("buy", receiver=party("CH", "professional")),
        action("buy", receiver=party("IR", "professional")),
        (R.COUNTRY_NOT_ALLOWED,),
    ),
    (
        "tracker-certificate",
        "retail-only-where-passported",
        action("buy", receiver=party("NO", "retail")),
        action("buy", receiver=party("SG", "retail")),
        (R.CATEGORY_NOT_ALLOWED,),
    ),
    (
        "tracker-certificate",
        "retail-only-where-passported",
        action("buy", receiver=party("SG", "elective_professional")),
        action("buy", receiver=party("JP", "retail")),
        (R.CATEGORY_NOT_ALLOWED,),
    ),
]

INSTANT: list[Row] = [
    (
        "instant-execution",
        "sanctions",
        action("transfer", sender=party("SG"), receiver=party("BR")),
        action("transfer", sender=party("SG", sanctioned=True), receiver=party("BR")),
        (R.SENDER_SANCTIONED,),
    ),
    (
        "instant-execution",
        "kyc-verified-wallets",
        action("transfer", sender=party("SG"), receiver=party("BR")),
        action("transfer", sender=party("SG", kyc=PENDING), receiver=party("BR")),
        (R.SENDER_NOT_VERIFIED,),
    ),
    (
        "instant-execution",
        "kyc-verified-wallets",
        action("mint", receiver=party("SG")),
        action("mint", receiver=party("SG", kyc=EXPIRED)),
        (R.KYC_EXPIRED,),
    ),
    (
        "instant-execution",
        "eligible-non-us-only",
        action("buy", receiver=party("GB", us=False), notional="100"),
        action("buy", receiver=party("GB", us=True), notional="100"),
        (R.COUNTRY_NOT_ALLOWED,),
    ),
    (
        "instant-execution",
        "restricted-jurisdictions",
        action("transfer", sender=party("SG"), receiver=party("BR")),
        action("transfer", sender=party("SG"), receiver=party("KP")),
        (R.COUNTRY_NOT_ALLOWED,),
    ),
    (
        "instant-execution",
        "per-order-notional-limit",
        action("buy", receiver=party("SG"), notional="250000"),
        action("buy", receiver=party("SG"), notional="250000.01"),
        (R.NOTIONAL_LIMIT_EXCEEDED,),
    ),
    (
        "instant-execution",
        "per-window-notional-limit",
        action("redeem", sender=party("SG"), notional="100000", used="900000"),
        action("redeem", sender=party("SG"), notional="100000", used="900000.01"),
        (R.NOTIONAL_LIMIT_EXCEEDED,),
    ),
]

REG_D = {"acquired": "2026-06-01T00:00:00", "regulation": "reg_d"}
REG_S = {"acquired": "2026-06-01T00:00:00", "regulation": "reg_s"}
DIRECT: list[Row] = [
    (
        "direct-ownership",
        "sanctions",
        action("burn", sender=party("US", "accredited")),
        action("burn", sender=party("US", "accredited", sanctioned=True)),
        (R.SENDER_SANCTIONED,),
    ),
    (
        "direct-ownership",
        "verified-holders",
        action("buy", receiver=party("US", "accredited")),
        action("buy", receiver=party("US", "accredited", kyc=PENDING)),
        (R.RECIPIENT_NOT_VERIFIED,),
    ),
    (
        "direct-ownership",
        "reg-d-accredited-only",
        action("buy", receiver=party("US", "qualified_purchaser")),
        action("buy", receiver=party("US", "retail")),
        (R.CATEGORY_NOT_ALLOWED,),
    ),
    (
        "direct-ownership",
        "reg-d-accredited-only",
        action("transfer", sender=party("DE"), receiver=party("DE", "retail")),
        action("transfer", sender=party("DE"), receiver=party("DE", "retail", us=True)),
        (R.CATEGORY_NOT_ALLOWED,),
    ),
    (
        "direct-ownership",
        "restricted-jurisdictions",
        action("mint", receiver=party("JP")),
        action("mint", receiver=party("CU")),
        (R.COUNTRY_NOT_ALLOWED,),
    ),
    (
        "direct-ownership",
        "whitelisted-holders-only",
        action("transfer", sender=party("JP"), receiver=party("JP", whitelisted=True)),
        action("transfer", sender=party("JP"), receiver=party("JP", whitelisted=False)),
        (R.RECIPIENT_NOT_WHITELISTED,),
    ),
    (
        "direct-ownership",
        "reg-d-lockup",
        action(
            "transfer",
            sender=party("US", "accredited", **REG_D),
            receiver=party("US", "accredited"),
            at=LATER,
        ),
        action("transfer", sender=party("US", "accredited", **REG_D), receiver=party("US", "accredited")),
        (R.LOCKUP_ACTIVE,),
    ),
    (
        "direct-ownership",
        "reg-d-lockup",
        action(
            "transfer",
            sender=party("US", "accredited", investor="inv-1", **REG_D),
            receiver=party("US", "accredited", investor="inv-1"),
        ),
        action(
            "transfer",
            sender=party("US", "accredited", investor="inv-1", **REG_D),
            receiver=party("US", "accredited", investor="inv-2"),
        ),
        (R.LOCKUP_ACTIVE,),
    ),
    (
        "direct-ownership",
        "reg-s-flowback",
        action("transfer", sender=party("DE", **REG_S), receiver=party("FR")),
        action("transfer", sender=party("DE", **REG_S), receiver=party("US", "accredited")),
        (R.FLOWBACK_RESTRICTED,),
    ),
    (
        "direct-ownership",
        "reg-s-flowback",
        action("transfer", sender=party("DE", **REG_S), receiver=party("US", "accredited"), at=LATER),
        action(
            "transfer",
            sender=party("DE", **REG_S),
            receiver=party("US", "accredited"),
            at=LATER.replace(month=5),
        ),
        (R.FLOWBACK_RESTRICTED,),
    ),
    (
        "direct-ownership",
        "max-holding",
        action("buy", receiver=party("US", "accredited", holds="999990")),
        action("buy", receiver=party("US", "accredited", holds="999991")),
        (R.MAX_BALANCE_EXCEEDED,),
    ),
    (
        "direct-ownership",
        "holder-cap",
        action("mint", receiver=party("US", "accredited"), holder_count=1998),
        action("mint", receiver=party("US", "accredited"), holder_count=1999),
        (R.HOLDER_LIMIT_REACHED,),
    ),
    (
        "direct-ownership",
        "holder-cap",
        action("buy", receiver=party("JP", "retail"), holder_count=1000, non_accredited_holder_count=498),
        action("buy", receiver=party("JP", "retail"), holder_count=1000, non_accredited_holder_count=499),
        (R.HOLDER_LIMIT_REACHED,),
    ),
    (
        "direct-ownership",
        "holder-cap",
        action(
            "transfer",
            sender=party("US", "accredited", holds="10"),
            receiver=party("US", "accredited"),
            holder_count=1999,
        ),
        action(
            "transfer",
            sender=party("US", "accredited", holds="11"),
            receiver=party("US", "accredited"),
            holder_count=1999,
        ),
        (R.HOLDER_LIMIT_REACHED,),
    ),
]


@pytest.mark.parametrize(
    ("policy", "rule", "allowed", "denied", "codes"),
    TRACKER + INSTANT + DIRECT,
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_each_rule_allows_and_denies(
    policy: str, rule: str, allowed: Action, denied: Action, codes: tuple[Reason, ...]
) -> None:
    rules = shipped_policies()[policy]
    assert evaluate(rules, allowed).allowed, evaluate(rules, allowed).violations
    decision = evaluate(rules, denied)
    assert not decision.allowed
    assert [(v.code, v.rule) for v in decision.violations] == [(code, rule) for code in codes]


def test_every_shipped_rule_has_a_row() -> None:
    covered = {(row[0], row[1]) for row in TRACKER + INSTANT + DIRECT}
    shipped = {(p.name, r.name) for p in shipped_policies().values() for r in p.rules}
    assert shipped == covered


def test_all_violations_come_back_in_the_contract_order() -> None:
    policy = shipped_policies()["direct-ownership"]
    decision = evaluate(
        policy,
        action(
            "transfer",
            sender=party("US", "accredited", sanctioned=True, kyc=EXPIRED, **REG_D),
            receiver=party("CU", "retail", us=True, whitelisted=False, sanctioned=True, kyc=PENDING),
            holder_count=5000,
        ),
    )
    assert [v.code for v in decision.violations] == [
        R.SENDER_SANCTIONED,
        R.RECIPIENT_SANCTIONED,
        R.KYC_EXPIRED,
        R.RECIPIENT_NOT_VERIFIED,
        R.LOCKUP_ACTIVE,
        R.COUNTRY_NOT_ALLOWED,
        R.CATEGORY_NOT_ALLOWED,
        R.RECIPIENT_NOT_WHITELISTED,
        R.HOLDER_LIMIT_REACHED,
    ]
    assert decision.reason is R.SENDER_SANCTIONED


def test_a_forced_transfer_waives_a_lockup_only_with_a_reason() -> None:
    policy = shipped_policies()["direct-ownership"]
    args = {"sender": party("US", "accredited", **REG_D), "receiver": party("US", "accredited")}
    without = evaluate(policy, action("forced_transfer", **args))
    assert [v.code for v in without.violations] == [R.LOCKUP_ACTIVE]
    with_reason = evaluate(policy, action("forced_transfer", override="court order 42", **args))
    assert with_reason.allowed
    assert [(o.code, o.rule, o.reason) for o in with_reason.overrides] == [
        (R.LOCKUP_ACTIVE, "reg-d-lockup", "court order 42")
    ]


def test_a_forced_transfer_skips_the_sender_but_never_an_unsafe_receiver() -> None:
    tracker = shipped_policies()["tracker-certificate"]  # open transfers: no verified rule at all
    seized = evaluate(
        tracker, action("forced_transfer", sender=party(None, sanctioned=True), receiver=party("CH"))
    )
    assert seized.allowed
    for receiver, code, rule in [
        (party("CH", sanctioned=True), R.RECIPIENT_SANCTIONED, "sanctions"),
        (party(None), R.RECIPIENT_NOT_VERIFIED, "forced-transfer-receiver-verified"),
        (party("CH", kyc=EXPIRED), R.KYC_EXPIRED, "forced-transfer-receiver-verified"),
    ]:
        decision = evaluate(
            tracker, action("forced_transfer", sender=party(None), receiver=receiver, override="x")
        )
        assert [(v.code, v.rule) for v in decision.violations] == [(code, rule)]


def test_a_missing_notional_fails_closed() -> None:
    decision = evaluate(shipped_policies()["instant-execution"], action("buy", receiver=party("SG")))
    assert {v.code for v in decision.violations} == {R.NOTIONAL_LIMIT_EXCEEDED}
    assert "unknown" in decision.violations[0].message
