"""Every migrated stream's events round-trip through the one codec, and its fold is the same after a restart.

Families: corporate actions and voting (``corporate_actions.events``), the minting halts and
reconciliations (``reserves.events``), the mint outbox (``issuance.mint_events``), the plan outbox
(``issuance.plan_events``) and onboarding (``compliance.onboarding_events``). Events are drawn from
their field types, so a field added later is drawn too.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from equitoken.adapters.store.memory import MemoryStore
from equitoken.compliance.onboarding_events import ONBOARDING_EVENTS, OnboardedHoldings
from equitoken.corporate_actions.effects import Treatment
from equitoken.corporate_actions.events import (
    CORPORATE_ACTION_EVENTS,
    VOTING_EVENTS,
    ActionApplied,
    BallotCast,
    CashPaid,
    CorporateActionsState,
    DividendPaid,
    DividendRecord,
    ProposalMade,
    RecordTaken,
    Reinvested,
    SplitFigures,
    VotingState,
    WalletAmount,
)
from equitoken.corporate_actions.voting import Proposal
from equitoken.domain.codec import from_dict, to_dict
from equitoken.domain.errors import DomainError
from equitoken.domain.ids import InvestorId, Symbol, WalletAddress
from equitoken.domain.values import Money, Price, Shares
from equitoken.issuance import journal
from equitoken.issuance.mint_events import MINT_EVENTS, MintOutboxState
from equitoken.issuance.plan_events import PLAN_EVENTS, PlanDone, PlanIntended, PlanOutboxState
from equitoken.reserves.events import RESERVE_EVENTS, ReservesState

AT = datetime(2026, 3, 2, 14, 30, tzinfo=UTC)

_decimals = st.decimals(min_value=Decimal("-1e12"), max_value=Decimal("1e12"), places=6, allow_nan=False)
_wallets = st.sampled_from([WalletAddress("0x" + f"{n:040x}") for n in (1, 0xA0001, 0xB0002, 0xC0003)])
_json: st.SearchStrategy[Any] = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)
_BY_TYPE: Mapping[Any, st.SearchStrategy[Any]] = {
    str: st.text(max_size=12),
    int: st.integers(min_value=-(2**63), max_value=2**63),
    bool: st.booleans(),
    Decimal: _decimals,
    datetime: st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
    ),
    date: st.dates(),
    Symbol: st.sampled_from(["AAPL", "BRK.A", "KO", "MSFT"]).map(Symbol),
    WalletAddress: _wallets,
    InvestorId: st.sampled_from(["inv-anna", "inv_ben", "c:1"]).map(InvestorId),
    Money: st.decimals(min_value=Decimal("-1e9"), max_value=Decimal("1e9"), places=6).map(Money),
    Price: st.decimals(min_value=Decimal("0.01"), max_value=Decimal("1e6"), places=8).map(Price),
    Shares: st.decimals(min_value=Decimal(0), max_value=Decimal("1e9"), places=9).map(Shares),
    Mapping[str, Any]: st.dictionaries(st.text(max_size=6), _json, max_size=4),
}


def drawn(kind: Any) -> st.SearchStrategy[Any]:
    """Return a strategy for any value of ``kind`` (a field type the codec knows)."""
    if kind in _BY_TYPE:
        return _BY_TYPE[kind]
    args = typing.get_args(kind)
    if typing.get_origin(kind) is tuple:
        return st.lists(drawn(args[0]), max_size=3).map(tuple)
    if type(None) in args:
        return st.none() | drawn(next(a for a in args if a is not type(None)))
    if isinstance(kind, type) and issubclass(kind, Enum):
        return st.sampled_from(kind)
    if isinstance(kind, type) and dataclasses.is_dataclass(kind):
        return events(kind)
    raise AssertionError(f"no strategy for {kind}")


_positive = st.decimals(min_value=Decimal("0.000001"), max_value=Decimal("1e9"), places=6)
_proposal_ids = st.binary(min_size=32, max_size=32).map(lambda b: "0x" + b.hex())
_OVERRIDES: Mapping[type, Mapping[str, st.SearchStrategy[Any]]] = {
    BallotCast: {
        "proposal_id": _proposal_ids,
        "choice": st.integers(min_value=0, max_value=255),
        "nonce": st.integers(min_value=0, max_value=2**256 - 1).map(str),
        "signature": st.binary(max_size=65).map(lambda b: "0x" + b.hex()),
    },
    RecordTaken: {  # what a record snapshot accepts: a proposal id, positive balances and multiplier
        "proposal_id": _proposal_ids,
        "block": st.integers(min_value=0, max_value=2**40),
        "multiplier": _positive,
        "balances": st.lists(st.builds(WalletAmount, _wallets, _positive), max_size=3).map(tuple),
    },
}
_ONE_OF: Mapping[type, tuple[str, str]] = {
    ActionApplied: ("split", "dividend"),
    DividendPaid: ("cash", "reinvested"),
}


def events(cls: type) -> st.SearchStrategy[Any]:
    """Return a strategy for valid ``cls`` events, each field drawn from its declared type."""
    hints = typing.get_type_hints(cls)
    fields = {
        f.name: _OVERRIDES[cls][f.name] if f.name in _OVERRIDES.get(cls, {}) else drawn(hints[f.name])
        for f in dataclasses.fields(cls)
        if f.init
    }
    if cls in _ONE_OF:  # exactly one of the two parts is set
        first, second = _ONE_OF[cls]
        one = drawn(hints[first].__args__[0])
        other = drawn(hints[second].__args__[0])
        return st.one_of(
            st.builds(cls, **(fields | {first: one, second: st.none()})),
            st.builds(cls, **(fields | {first: st.none(), second: other})),
        )
    return st.builds(cls, **fields)


FAMILIES: Mapping[str, tuple[type, ...]] = {
    "corporate_actions": CORPORATE_ACTION_EVENTS,
    "voting": tuple(k for k in VOTING_EVENTS if k is not ProposalMade),  # ids are derived: below
    "reserves": RESERVE_EVENTS,
    "outbox": MINT_EVENTS,
    "effects": PLAN_EVENTS,
    "onboarding": ONBOARDING_EVENTS,
}


@pytest.mark.parametrize("family", sorted(FAMILIES))
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_every_event_round_trips_through_the_codec_and_the_journal(family: str, data: st.DataObject) -> None:
    kinds = FAMILIES[family]
    event = data.draw(st.sampled_from(kinds).flatmap(events))
    payload = to_dict(event)
    assert from_dict(type(event), payload) == event
    assert to_dict(from_dict(type(event), payload)) == payload  # digit for digit
    store = MemoryStore()
    journal.append(store, family, "k", AT, event)
    assert list(journal.read(store, family, kinds)) == [event]


proposals = st.builds(
    Proposal,
    symbol=_BY_TYPE[Symbol],
    token=_wallets,
    chain_id=st.integers(min_value=1, max_value=2**31),
    title=st.text(alphabet="abc XYZ", min_size=1, max_size=10).filter(str.strip),
    options=st.just(("for", "against", "abstain")),
    record_at=st.just(AT),
    opens_at=st.just(AT),
    closes_at=st.just(datetime(2026, 3, 9, tzinfo=UTC)),
    quorum=st.sampled_from([Decimal("0.5"), Decimal("0.25")]),
    threshold=st.sampled_from([Decimal("0.5"), Decimal("0.667")]),
)


@settings(max_examples=30, deadline=None)
@given(proposal=proposals)
def test_a_proposal_round_trips_and_still_hashes_to_its_id(proposal: Proposal) -> None:
    event = ProposalMade.of(proposal)
    assert from_dict(ProposalMade, to_dict(event)) == event
    assert event.proposal() == proposal


@settings(max_examples=5, deadline=None)
@given(proposal=proposals)
def test_a_proposal_whose_terms_do_not_hash_to_its_id_is_refused(proposal: Proposal) -> None:
    forged = dataclasses.replace(ProposalMade.of(proposal), title="another question")
    with pytest.raises(DomainError) as refused:
        VotingState().apply(forged)
    assert refused.value.code == "STORE_CORRUPT"


# -- folds: a restart (a fresh fold of the stored stream) is the same state ----------------------

STATES: Mapping[str, Callable[[], Any]] = {
    "corporate_actions": CorporateActionsState,
    "voting": VotingState,
    "reserves": ReservesState,
    "outbox": lambda: MintOutboxState(chain_id=31337),
    "onboarding": OnboardedHoldings,
}


@pytest.mark.parametrize("family", sorted(STATES))
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_a_restarted_fold_is_the_same_state(family: str, data: st.DataObject) -> None:
    kinds = FAMILIES[family]
    drawn_events = data.draw(st.lists(st.sampled_from(kinds).flatmap(events), max_size=8))
    store, live = MemoryStore(), STATES[family]()
    for number, event in enumerate(drawn_events):
        journal.append(store, family, f"k{number}", AT, event)
        live.apply(event)
    restarted = STATES[family]()
    for event in journal.read(store, family, kinds):
        restarted.apply(event)
    assert restarted == live


@settings(max_examples=10, deadline=None)
@given(intended=events(PlanIntended))
def test_the_plan_outbox_fold_keeps_what_is_pending_across_a_restart(intended: PlanIntended) -> None:
    if intended.key == "other":
        return
    store, live = MemoryStore(), PlanOutboxState()
    for number, event in enumerate([intended, dataclasses.replace(intended, key="other")]):
        journal.append(store, "effects", f"k{number}", AT, event)
        live.apply(event)
    restarted = PlanOutboxState()
    for event in journal.read(store, "effects", PLAN_EVENTS):
        restarted.apply(event)
    assert restarted == live and set(restarted.pending) == {intended.key, "other"}
    restarted.apply(PlanDone("other", ""))
    assert set(restarted.pending) == {intended.key}
    with pytest.raises(DomainError) as refused:
        restarted.apply(PlanDone("other", ""))  # closing a plan not pending: the record is damaged
    assert refused.value.code == "STORE_CORRUPT"


def test_the_corporate_actions_fold_gives_versions_and_carries() -> None:
    aapl = Symbol("AAPL")
    record = DividendRecord(
        Decimal("0.24"),
        Treatment.REINVEST,
        Decimal(3000),
        7,
        AT.date(),
        AT.date(),
        Decimal(1),
        Decimal(100),
        (),
    )
    state = CorporateActionsState()
    state.apply(ActionApplied("split-1", aapl, 2, Decimal(4), AT.date(), SplitFigures(Decimal(4), 0), None))
    state.apply(ActionApplied("div-1", aapl, 2, Decimal(4), AT.date(), None, record))
    one = Decimal(1)
    reinvested = Reinvested(one, one, one, one, one, one, one, Decimal("0.35"), Decimal("4.01"), one, one)
    state.apply(DividendPaid("div-1", aapl, 3, Decimal("4.01"), None, reinvested))
    version = state.version(aapl)
    assert (version.version, version.multiplier, version.applied) == (
        3,
        Decimal("4.01"),
        frozenset({"split-1", "div-1"}),
    )
    assert state.carries[aapl] == Money("0.35")
    zero = Decimal(0)
    cash = CashPaid(zero, zero, zero, zero, zero, (), ())
    with pytest.raises(DomainError):
        DividendPaid("div-2", aapl, 3, Decimal(1), cash, reinvested)  # cash or reinvested, not both


# -- refusals: corrupt, unknown and old-shaped records are refused naming where ----------------


@pytest.mark.parametrize("family", sorted(FAMILIES))
@settings(max_examples=5, deadline=None)
@given(data=st.data())
def test_an_old_shaped_or_damaged_record_is_refused_naming_stream_and_position(
    family: str, data: st.DataObject
) -> None:
    kinds = FAMILIES[family]
    event = data.draw(st.sampled_from(kinds).flatmap(events))
    payload = to_dict(event)
    cases = {
        "unversioned": payload,  # a record written before the stream was typed
        "missing": {k: v for k, v in payload.items() if k != next(iter(payload))} | {"_v": 1},
        "unknown": payload | {"surplus": 1, "_v": 1},
    }
    for name, body in cases.items():
        store = MemoryStore()
        store.append_event(family, type(event).__name__, name, AT, body)
        with pytest.raises(DomainError) as refused:
            list(journal.read(store, family, kinds))
        assert refused.value.code == "EVENT_MALFORMED", name
        assert f"stream {family!r} position 1" in refused.value.message, name
    store = MemoryStore()
    store.append_event(family, "SomethingElse", "k", AT, {"_v": 1})
    with pytest.raises(DomainError) as unknown:
        list(journal.read(store, family, kinds))
    assert unknown.value.code == "EVENT_MALFORMED" and "SomethingElse" in unknown.value.message
