"""The mint gate's pure rules: what a listing's feed reports, when a round is fresh, when one is due."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from equitoken.domain.ids import Symbol, WalletAddress
from equitoken.domain.values import Shares, TokenAmount
from equitoken.reserves.attestation import ReserveLine
from equitoken.reserves.feed_gate import attestation_due, backing_ratio, is_fresh

T0 = datetime(2012, 11, 19, 21, 0, tzinfo=UTC)
HEARTBEAT = timedelta(hours=26)
EVERY = timedelta(hours=24)


def line(supply: str, custody: str, in_flight: str = "0", multiplier: str = "1") -> ReserveLine:
    return ReserveLine(
        symbol=Symbol("MSFT"),
        model="instant",
        supply=TokenAmount(supply),
        multiplier=Decimal(multiplier),
        custody=Shares(custody),
        in_flight=Shares(in_flight),
        holders_root=bytes(32),
        holder_count=1,
        token=WalletAddress("0x" + "7a" * 20),
    )


def test_an_off_hours_fill_committed_for_the_next_open_is_backed_on_the_feed() -> None:
    fronted = line("4", custody="0")
    assert fronted.collateral_ratio == 0  # the document counts custody and in flight only
    assert backing_ratio(fronted, Decimal(4)) == 1  # the feed counts the buffer's commitment too
    assert backing_ratio(fronted, Decimal(3)) == Decimal("0.75")  # commitments short of supply: below 1
    assert backing_ratio(line("10", custody="6", in_flight="2"), Decimal(2)) == 1


def test_no_supply_is_fully_backed_and_a_multiplier_scales_what_is_owed() -> None:
    assert backing_ratio(line("0", custody="0"), Decimal(0)) == 1
    assert backing_ratio(line("10", custody="10.5", multiplier="1.05"), Decimal(0)) == 1
    assert backing_ratio(line("10", custody="10", multiplier="1.05"), Decimal(0)) < 1


def test_a_round_is_fresh_for_exactly_one_heartbeat_and_due_after_the_interval() -> None:
    assert is_fresh(T0, T0 + HEARTBEAT, HEARTBEAT)
    assert not is_fresh(T0, T0 + HEARTBEAT + timedelta(seconds=1), HEARTBEAT)
    assert attestation_due(None, T0, EVERY)  # no round yet
    assert not attestation_due(T0, T0 + EVERY - timedelta(seconds=1), EVERY)
    assert attestation_due(T0, T0 + EVERY, EVERY)


amounts = st.decimals(min_value=0, max_value=10**6, places=6, allow_nan=False, allow_infinity=False)


@given(supply=amounts, custody=amounts, in_flight=amounts, committed=amounts)
def test_the_feed_reads_at_least_one_exactly_when_the_backing_covers_the_supply(
    supply: Decimal, custody: Decimal, in_flight: Decimal, committed: Decimal
) -> None:
    ratio = backing_ratio(line(str(supply), str(custody), str(in_flight)), committed)
    covered = custody + in_flight + committed >= supply
    assert (ratio >= 1) == covered


@given(age=st.integers(min_value=0, max_value=10**7))
def test_a_round_not_yet_due_for_attestation_is_always_still_fresh(age: int) -> None:
    # every < heartbeat: a scheduler that attests when due never lets a gated feed go stale first.
    now = T0 + timedelta(seconds=age)
    if not attestation_due(T0, now, EVERY):
        assert is_fresh(T0, now, HEARTBEAT)
