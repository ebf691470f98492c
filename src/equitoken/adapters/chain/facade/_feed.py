"""``ReserveFeedChain``: one proof-of-reserve feed per listing (AggregatorV3 shape), and the token's gate.

The answer is the collateral ratio with 18 decimals; the conversion between ``Decimal`` and the
integer the contract holds happens here and nowhere else, and refuses a ratio it cannot state exactly.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from equitoken.adapters.chain.facade._codec import SECOND, from_seconds
from equitoken.adapters.chain.facade._sending import Sending
from equitoken.domain.errors import DomainError
from equitoken.domain.ids import WalletAddress
from equitoken.ports.chain import ChainTx, FeedRound, Instrument, ReserveGate

KIND = "ReserveFeed"
FEED_DECIMALS = 18
ONE = 10**FEED_DECIMALS
ZERO_ADDRESS = b"\x00" * 20
MAX_HEARTBEAT = timedelta(days=366)


def ratio_units(ratio: Decimal) -> int:
    """Return ``ratio`` as the feed's 18-decimal integer; refuse a negative, inexact or non-Decimal one."""
    if not isinstance(ratio, Decimal) or not ratio.is_finite() or ratio < 0:
        raise DomainError(
            "INVALID_AMOUNT", f"a collateral ratio must be a non-negative Decimal, not {ratio!r}"
        )
    scaled = ratio.scaleb(FEED_DECIMALS)
    if scaled != scaled.to_integral_value():
        raise DomainError(
            "TOO_MANY_DECIMALS", f"the feed states ratios to {FEED_DECIMALS} places; {ratio} has more"
        )
    return int(scaled)


def _address(value: Any) -> bytes:
    try:
        raw = bytes.fromhex(value.removeprefix("0x")) if isinstance(value, str) else bytes(value)
    except (TypeError, ValueError):
        raw = b""
    if len(raw) != 20:
        raise DomainError("CHAIN_BAD_RESPONSE", "the chain answered something that is not an address")
    return raw


class ReserveFeeds(Sending):
    """Deploy feeds, post their rounds as the trustee, read them back, and gate a token's mints on one."""

    def deploy_reserve_feed(self, trustee: WalletAddress, description: str) -> WalletAddress:
        """Deploy a feed whose only poster is ``trustee`` (a wallet whose key this facade holds)."""
        if not description or len(description.encode()) > 64:
            raise DomainError("INVALID_SETTING", "a feed's description must be 1 to 64 bytes")
        raw = self._b(trustee)
        self._ensure_funded(raw)
        return self._wallet(self._deploy(KIND, raw, raw, description))

    def post_reserve_round(self, feed: WalletAddress, ratio: Decimal, as_of_block: int) -> ChainTx:
        """Post the next round as the feed's trustee (as of a later block than the previous round)."""
        units = ratio_units(ratio)
        contract = self._b(feed)
        (trustee,) = self._view(KIND, contract, "trustee")
        return self._send_one(self._write(KIND, _address(trustee), contract, "postRound", units, as_of_block))

    def _round(self, answer: tuple[Any, ...], asked: int) -> FeedRound:
        round_id, units, started, updated, answered = (int(v) for v in answer)
        if round_id != asked or answered != round_id or units < 0 or updated < started:
            raise DomainError("CHAIN_BAD_RESPONSE", f"the feed's answer for round {asked} is not well-formed")
        return FeedRound(
            round_id,
            Decimal(units).scaleb(-FEED_DECIMALS),
            from_seconds(started),
            from_seconds(updated),
            answered,
        )

    def latest_round(self, feed: WalletAddress) -> FeedRound | None:
        """Return the latest round of ``feed`` (``None`` before the first; a missing contract refused)."""
        contract = self._b(feed)
        (latest,) = self._view(KIND, contract, "latestRound")
        if int(latest) == 0:
            return None
        return self._round(self._view(KIND, contract, "latestRoundData"), int(latest))

    def round_data(self, feed: WalletAddress, round_id: int) -> FeedRound:
        """Return round ``round_id`` of ``feed`` (``RESERVES_NO_SUCH_ROUND`` for one never posted)."""
        if isinstance(round_id, bool) or not isinstance(round_id, int) or not 0 < round_id < 2**80:
            raise DomainError("RESERVES_NO_SUCH_ROUND", f"round {round_id!r} is not a round id")
        return self._round(self._view(KIND, self._b(feed), "getRoundData", round_id), round_id)

    def gate_mints(self, instrument: Instrument, gate: ReserveGate | None) -> ChainTx:
        """Set (or, with ``None``, remove) the feed and heartbeat the token's mints consult (as its admin)."""
        if gate is None:
            return self._token_write(instrument, "admin", "setReserveFeed", ZERO_ADDRESS, 0)
        seconds = gate.heartbeat // SECOND
        if gate.heartbeat % SECOND or not 0 < seconds <= MAX_HEARTBEAT // SECOND:
            raise DomainError(
                "TOKEN_FEED_HEARTBEAT_OUT_OF_RANGE", "a heartbeat is whole seconds, at most 366 days"
            )
        return self._token_write(instrument, "admin", "setReserveFeed", self._b(gate.feed), seconds)

    def mint_gate(self, instrument: Instrument) -> ReserveGate | None:
        """Return the feed and heartbeat the token's mints consult now (``None``: not gated)."""
        token = self._b(instrument.token)
        (feed,) = self._view("SecurityToken", token, "reserveFeed")
        raw = _address(feed)
        if raw == ZERO_ADDRESS:
            return None
        (heartbeat,) = self._view("SecurityToken", token, "reserveHeartbeat")
        return ReserveGate(self._wallet(raw), timedelta(seconds=int(heartbeat)))
