"""Investors: the KYC state machine, the investor record, wallet binding, events and the journal."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from equitoken.adapters.store.memory import MemoryStore
from equitoken.app.investors import STREAM, InvestorService
from equitoken.compliance.book import (
    BindWallet,
    ChangeKyc,
    ChangeProfile,
    InvestorBook,
    OnboardInvestor,
    UnbindWallet,
)
from equitoken.compliance.countries import EEA, country, country_by_numeric, expand
from equitoken.compliance.events import EVENT_TYPES, from_payload, to_payload
from equitoken.compliance.investors import Investor, InvestorCategory, PersonKind
from equitoken.compliance.kyc import ALLOWED_TRANSITIONS, Kyc, KycState
from equitoken.domain.errors import DomainError
from equitoken.domain.ids import InvestorId, WalletAddress

T0 = datetime(2026, 1, 5, 9, tzinfo=UTC)
EXPIRES = date(2027, 1, 5)
S = KycState
ALICE = InvestorId("alice")
BOB = InvestorId("bob")
W1 = WalletAddress("0x" + "11" * 20)
W2 = WalletAddress("0x" + "22" * 20)


def kyc_in(state: KycState) -> Kyc:
    """Return a KYC in ``state`` reached by allowed steps."""
    path = {
        S.NONE: [],
        S.PENDING: [S.PENDING],
        S.VERIFIED: [S.PENDING, S.VERIFIED],
        S.SUSPENDED: [S.PENDING, S.VERIFIED, S.SUSPENDED],
        S.REJECTED: [S.PENDING, S.REJECTED],
    }
    kyc = Kyc()
    if state is S.EXPIRED:
        kyc = kyc.to(S.PENDING, T0).to(S.VERIFIED, T0, EXPIRES)
        return kyc.to(S.EXPIRED, datetime(2027, 1, 5, tzinfo=UTC))
    for step in path[state]:
        kyc = kyc.to(step, T0, EXPIRES if step is S.VERIFIED else None)
    return kyc


TRANSITIONS = [(a, b) for a in S for b in S]


@pytest.mark.parametrize(("source", "target"), TRANSITIONS, ids=[f"{a}->{b}" for a, b in TRANSITIONS])
def test_kyc_transitions_are_exactly_the_table(source: KycState, target: KycState) -> None:
    kyc = kyc_in(source)
    at = datetime(2027, 2, 1, tzinfo=UTC) if source is S.EXPIRED else T0 + timedelta(days=1)
    expires = date(2028, 1, 1) if target is S.VERIFIED else None
    allowed = target in ALLOWED_TRANSITIONS[source]
    if source is S.VERIFIED and target is S.EXPIRED:
        allowed = False  # only once the expiry date has come (see the next test)
    if allowed:
        assert kyc.to(target, at, expires).state is target
    else:
        with pytest.raises(DomainError) as refused:
            kyc.to(target, at, expires)
        assert refused.value.code == "KYC_TRANSITION_REFUSED"


def test_a_verification_lapses_at_its_expiry_date_even_unrecorded() -> None:
    kyc = kyc_in(S.VERIFIED)
    assert kyc.is_valid(datetime(2027, 1, 4, 23, 59, tzinfo=UTC))
    lapse = datetime(2027, 1, 5, tzinfo=UTC)
    assert kyc.effective(lapse) is S.EXPIRED and not kyc.is_valid(lapse)
    assert kyc.to(S.EXPIRED, lapse).state is S.EXPIRED
    with pytest.raises(DomainError, match="KYC_TRANSITION_REFUSED"):
        kyc.to(S.VERIFIED, lapse, date(2028, 1, 1))  # a lapsed file is re-opened, not re-verified


@pytest.mark.parametrize(
    ("expires", "code"),
    [(None, "KYC_EXPIRY_REQUIRED"), (date(2026, 1, 5), "KYC_EXPIRY_PAST")],
)
def test_a_verification_needs_a_future_expiry(expires: date | None, code: str) -> None:
    with pytest.raises(DomainError) as refused:
        kyc_in(S.PENDING).to(S.VERIFIED, T0, expires)
    assert refused.value.code == code


def test_kyc_changes_cannot_go_back_in_time() -> None:
    with pytest.raises(DomainError, match="KYC_OUT_OF_ORDER"):
        kyc_in(S.PENDING).to(S.VERIFIED, T0 - timedelta(seconds=1), EXPIRES)


def test_countries_are_validated_against_the_iso_table() -> None:
    assert country("us").numeric == 840 and country_by_numeric(276).alpha2 == "DE"
    assert len(EEA) == 30 and expand(["EEA", "CH"]) == EEA | {"CH"}
    for bad in ("XX", "USA", "", "U1"):
        with pytest.raises(DomainError, match="INVALID_COUNTRY"):
            country(bad)


def onboard(book: InvestorBook, investor: InvestorId = ALICE, **changes: object) -> None:
    fields: dict[str, object] = {
        "investor_id": investor,
        "at": T0,
        "kind": PersonKind.NATURAL_PERSON,
        "name": "Alice Example",
        "residence": country("DE"),
        "nationality": country("DE"),
        "us_person": False,
        "category": InvestorCategory.RETAIL,
    }
    fields.update(changes)
    book.handle(OnboardInvestor(**fields))  # type: ignore[arg-type]


def test_a_us_resident_or_us_entity_must_be_a_us_person() -> None:
    book = InvestorBook()
    with pytest.raises(DomainError, match="US_PERSON_MISMATCH"):
        onboard(book, residence=country("US"))
    with pytest.raises(DomainError, match="US_PERSON_MISMATCH"):
        onboard(
            book, kind=PersonKind.ENTITY, nationality=country("US"), category=InvestorCategory.INSTITUTIONAL
        )
    onboard(book, nationality=country("US"), us_person=True)  # a US citizen abroad: the operator's call
    assert book.get(ALICE).us_person
    with pytest.raises(DomainError, match="INVESTOR_EXISTS"):
        onboard(book)


def test_a_wallet_belongs_to_one_investor() -> None:
    book = InvestorBook()
    onboard(book)
    onboard(book, BOB, name="Bob Example")
    book.handle(BindWallet(ALICE, T0, W1))
    book.handle(BindWallet(ALICE, T0, W2))  # several wallets per investor
    assert book.get(ALICE).wallets == {W1, W2}
    with pytest.raises(DomainError, match="WALLET_BOUND_ELSEWHERE"):
        book.decide(BindWallet(BOB, T0, W1))
    with pytest.raises(DomainError, match="WALLET_ALREADY_BOUND"):
        book.decide(BindWallet(ALICE, T0, W1))
    with pytest.raises(DomainError, match="WALLET_NOT_BOUND"):
        book.decide(UnbindWallet(BOB, T0, W1))
    book.handle(UnbindWallet(ALICE, T0, W1))
    book.handle(BindWallet(BOB, T0, W1))
    owner = book.owner_of(W1)
    assert owner is not None and owner.investor_id == BOB
    with pytest.raises(DomainError, match="UNKNOWN_INVESTOR"):
        book.decide(BindWallet(InvestorId("carol"), T0, W2))


def test_stopping_a_kyc_needs_a_reason_and_the_sweep_records_lapses() -> None:
    book = InvestorBook()
    onboard(book)
    book.handle(ChangeKyc(ALICE, T0, S.PENDING))
    book.handle(ChangeKyc(ALICE, T0, S.VERIFIED, EXPIRES))
    with pytest.raises(DomainError, match="REASON_REQUIRED"):
        book.decide(ChangeKyc(ALICE, T0, S.SUSPENDED))
    assert book.expiries_due(datetime(2027, 1, 4, tzinfo=UTC)) == ()
    (lapse,) = book.expiries_due(datetime(2027, 1, 5, tzinfo=UTC))
    book.apply(lapse)
    assert book.get(ALICE).kyc.state is S.EXPIRED


def test_events_survive_the_journal_round_trip() -> None:
    store = MemoryStore()
    service = InvestorService(store)
    service.execute(
        OnboardInvestor(
            ALICE,
            T0,
            PersonKind.ENTITY,
            "Acme Fund SA",
            country("LU"),
            country("LU"),
            False,
            InvestorCategory.INSTITUTIONAL,
        )
    )
    service.execute(ChangeKyc(ALICE, T0, S.PENDING))
    service.execute(ChangeKyc(ALICE, T0, S.VERIFIED, EXPIRES))
    service.execute(BindWallet(ALICE, T0, W1))
    service.execute(
        ChangeProfile(ALICE, T0, country("CH"), country("LU"), False, InvestorCategory.INSTITUTIONAL)
    )
    service.execute(ChangeKyc(ALICE, T0, S.SUSPENDED, reason="adverse media"))
    assert service.expire_due(datetime(2030, 1, 1, tzinfo=UTC)) == ()  # suspended, not verified
    types = [e.type for e in store.events(STREAM)]
    assert types == [
        "InvestorOnboarded",
        "KycSubmitted",
        "KycVerified",
        "WalletBound",
        "InvestorProfileChanged",
        "KycSuspended",
    ]
    rebuilt = InvestorService(store).book.get(ALICE)
    assert rebuilt == service.book.get(ALICE)
    assert rebuilt.residence.alpha2 == "CH" and rebuilt.kyc.state is S.SUSPENDED and rebuilt.wallets == {W1}
    for stored in store.events(STREAM):
        event = from_payload(stored.type, stored.payload)
        assert to_payload(event) == dict(stored.payload)
    assert set(EVENT_TYPES) >= set(types)


def test_a_corrupt_or_unknown_event_is_refused() -> None:
    with pytest.raises(DomainError, match="UNKNOWN_EVENT"):
        from_payload("InvestorVanished", {})
    with pytest.raises(DomainError, match="EVENT_MALFORMED"):
        from_payload("KycSubmitted", {"investor_id": "alice"})


def test_an_investor_record_validates_itself() -> None:
    with pytest.raises(DomainError, match="INVALID_INVESTOR"):
        Investor(
            ALICE,
            PersonKind.NATURAL_PERSON,
            " ",
            country("DE"),
            country("DE"),
            False,
            InvestorCategory.RETAIL,
        )
    with pytest.raises(DomainError, match="INVALID_CATEGORY"):
        Investor(
            ALICE,
            PersonKind.NATURAL_PERSON,
            "A",
            country("DE"),
            country("DE"),
            False,
            InvestorCategory.INSTITUTIONAL,
        )
