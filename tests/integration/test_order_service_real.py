"""The order service over real parts: the compliance desk on the embedded chain, and the SQL store.

Compliance: the example onboarding file is loaded through ``open_desk`` (SQLite under a temporary data
dir, the embedded chain, the shipped policies and the sample sanctions list) and ``EngineCompliance``
decides the buys. Restart: the journal is written to SQLite, the store closed and reopened, and a new
service rebuilt from it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest

from equitoken.adapters.clock import ManualClock
from equitoken.adapters.store.sql import SqlStore
from equitoken.app.bootstrap import bootstrap
from equitoken.app.compliance_desk import ComplianceDesk, open_desk
from equitoken.app.onboarding import onboard, read_onboarding
from equitoken.app.orders import STREAM, ComplianceCheck, EngineCompliance, OrderService
from equitoken.app.settings import Settings
from equitoken.compliance.decision import Decision
from equitoken.domain.ids import InvestorId, Symbol, WalletAddress
from equitoken.domain.market import ReferencePrice
from equitoken.domain.trading import OrderType, Side
from equitoken.domain.values import Money, Shares
from equitoken.issuance.orders import OrderDesk, OrderRequest, OrderState, RiskLimits, TimeInForce
from equitoken.ports.store import Store
from tests.fakes.market import FakeCalendar, FakePriceSource, ny

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "compliance-onboard.json"
ACME = Symbol("ACME")
ANNA = (InvestorId("inv-anna"), WalletAddress("0x00000000000000000000000000000000000a0001"))
CHLOE = (InvestorId("inv-chloe"), WalletAddress("0x00000000000000000000000000000000000c0001"))  # KYC pending
IVAN = (InvestorId("inv-ivan"), WalletAddress("0x00000000000000000000000000000000000e0001"))  # sample SDN
START = ny(2026, 11, 17, 10, 0)  # a Tuesday, in the regular session; every KYC in the file still valid


def buy(key: str, who: tuple[InvestorId, WalletAddress], qty: str = "10") -> OrderRequest:
    investor, wallet = who
    return OrderRequest(
        "app", key, investor, wallet, ACME, Side.BUY, OrderType.MARKET, TimeInForce.DAY, Shares(qty)
    )


def service(
    store: Store, clock: ManualClock, compliance: ComplianceCheck, limits: RiskLimits | None = None
) -> OrderService:
    return OrderService(
        OrderDesk(limits=limits),
        store,
        clock,
        FakeCalendar(),
        FakePriceSource({"ACME": "100"}),
        compliance,
    )


# ------------------------------------------------------------------ EngineCompliance, real desk


@dataclass(frozen=True)
class Onboarded:
    desk: ComplianceDesk
    store: SqlStore
    clock: ManualClock


@pytest.fixture(scope="module")
def onboarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Onboarded]:
    clock = ManualClock(START)
    store = SqlStore.open(f"sqlite:///{tmp_path_factory.mktemp('data')}/equitoken.db")
    platform = bootstrap(Settings(), clock, store=store)  # the root takes the part the test chooses
    desk = open_desk(platform)
    onboard(desk, read_onboarding(EXAMPLE))
    yield Onboarded(desk, store, clock)
    store.close()


def test_engine_compliance_allows_an_eligible_investor(onboarded: Onboarded) -> None:
    orders = service(onboarded.store, onboarded.clock, EngineCompliance(onboarded.desk))
    order = orders.submit(buy("anna-1", ANNA)).order
    assert order.state is OrderState.ACCEPTED and order.rejection is None


@pytest.mark.parametrize(
    ("who", "code"),
    [(CHLOE, "RECIPIENT_NOT_VERIFIED"), (IVAN, "RECIPIENT_SANCTIONED")],
    ids=["unverified", "sanctioned"],
)
def test_engine_compliance_rejects_through_the_service_and_journals_the_code(
    onboarded: Onboarded, who: tuple[InvestorId, WalletAddress], code: str
) -> None:
    orders = service(onboarded.store, onboarded.clock, EngineCompliance(onboarded.desk))
    order = orders.submit(buy(f"{who[0]}-1", who)).order
    assert order.state is OrderState.REJECTED
    assert order.rejection is not None and order.rejection.code == code
    journal = {e.key: e for e in onboarded.store.events(STREAM)}
    received = journal[f"order:{order.order_id}:received"]
    rejected = journal[f"order:{order.order_id}:decided"]
    assert rejected.type == "OrderRejected" and rejected.payload["code"] == code
    assert received.payload["compliance"]["allowed"] is False
    assert received.payload["compliance"]["violations"][0]["code"] == code


# ------------------------------------------------------------------ restart over SQLite


class AllowAll:
    """Allow every order; count the questions (a retry after restart must ask none)."""

    def __init__(self) -> None:
        self.calls = 0

    def decide(self, request: OrderRequest, reference: ReferencePrice, at: datetime) -> Decision:
        self.calls += 1
        return Decision(True)


def test_restart_over_a_reopened_sqlite_store_keeps_orders_and_the_risk_book(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/orders.db"
    clock = ManualClock(START)
    limits = RiskLimits(per_investor=Money(1500))
    store = SqlStore.open(url)
    original = service(store, clock, AllowAll(), limits).submit(buy("k1", ANNA)).order
    assert original.state is OrderState.ACCEPTED
    store.close()

    reopened = SqlStore.open(url)
    try:
        compliance = AllowAll()
        restarted = service(reopened, clock, compliance, limits)
        assert restarted.replayed == 2 and restarted.repaired == 0
        retry = restarted.submit(buy("k1", ANNA))
        assert retry.replayed and retry.order == original
        assert compliance.calls == 0
        second = restarted.submit(buy("k2", ANNA)).order
        assert second.rejection is not None and second.rejection.code == "NOTIONAL_LIMIT_EXCEEDED"
        types = [e.type for e in reopened.events(STREAM)]
        assert types == ["OrderReceived", "OrderAccepted", "OrderReceived", "OrderRejected"]
    finally:
        reopened.close()
