"""The operator's price feed: signed reference prices, journaled, and the price source that serves them.

``PriceFeed.post`` takes one price (symbol, decimal price, as-of instant, EIP-191 signature) and
journals it as ``PricePosted`` in stream ``prices`` — after checking, in this order: a signer is
configured (``PRICE_SIGNER_UNSET``), the price is positive (``NON_POSITIVE_PRICE``), the signature
recovers (``PRICE_SIGNATURE_INVALID``) to the configured signer (``PRICE_SIGNER_UNKNOWN``), the as-of
instant is not in the future (``PRICE_IN_FUTURE``, beyond ``CLOCK_SKEW``) and is later than the last
price posted for the symbol (``PRICE_OUT_OF_ORDER``). A refused price stores nothing.

``PostedPrices`` is the engine's price source for live use: a symbol with a posted price is priced by
its latest one at or before the instant; a symbol without one falls back to the bundled history (on
the wall clock of today that is stale, so it does not trade). A posted price is stale, like a bundled
one, when a regular session has opened since it was posted, or when it is older than
``price_feed_max_age_seconds`` inside a session (``price_max_age_days`` outside). It is folded from the
journal on every read, so a restart — or another process on the same database — sees the same prices.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from equitoken.app.settings import Settings
from equitoken.domain.errors import DomainError
from equitoken.domain.ids import Symbol, to_checksum_address
from equitoken.domain.instants import utc
from equitoken.domain.market import DailyBar, PriceBasis, ReferencePrice, Session
from equitoken.domain.price_posts import canonical_instant, checked_price, price_message
from equitoken.domain.values import Price
from equitoken.issuance import journal
from equitoken.ports.clock import Clock
from equitoken.ports.market import MarketCalendar, PriceSource
from equitoken.ports.store import Store
from equitoken.signing import Account, encode_defunct

STREAM = "prices"
CLOCK_SKEW = timedelta(seconds=5)
"""How far ahead of the service's clock a signer's as-of may be (two machines' clocks never agree)."""


@dataclass(frozen=True, slots=True)
class PricePosted:
    """An operator posted a signed reference price."""

    symbol: str
    price: Decimal
    as_of: datetime
    posted_at: datetime
    signer: str
    signature: str


EVENTS = (PricePosted,)


def sign_price(private_key: str, symbol: Symbol, price: Decimal, as_of: datetime) -> str:
    """Return the EIP-191 signature (0x, 65 bytes) of the canonical message, by ``private_key``."""
    message = encode_defunct(text=price_message(symbol, price, as_of))
    try:
        signed = Account.sign_message(message, private_key=private_key)
    except (ValueError, TypeError):
        raise DomainError(
            "INVALID_KEY", "the price signer's key is not 64 hex digits of a secp256k1 key"
        ) from None
    return "0x" + bytes(signed.signature).hex()


def signer_of(symbol: Symbol, price: Decimal, as_of: datetime, signature: str) -> str:
    """Return the address that signed this price (``PRICE_SIGNATURE_INVALID`` if it does not recover)."""
    message = encode_defunct(text=price_message(symbol, price, as_of))
    try:
        raw = bytes.fromhex(signature.removeprefix("0x"))
        if len(raw) != 65:
            raise ValueError("not 65 bytes")
        address: str = Account.recover_message(message, signature=raw)
    except Exception:  # eth_account raises several types for a malformed signature: all are one refusal
        raise DomainError(
            "PRICE_SIGNATURE_INVALID", "the signature is not an EIP-191 signature of this price's message"
        ) from None
    return to_checksum_address(address)


class PriceFeed:
    """The posted prices of one store, folded from its journal."""

    def __init__(self, store: Store, settings: Settings, clock: Clock) -> None:
        self._store = store
        self._settings = settings
        self._clock = clock
        self._lock = threading.Lock()
        self._seen = 0
        self._posted: dict[Symbol, list[PricePosted]] = {}

    def _refresh(self) -> None:
        with self._lock:
            for stored in self._store.events(STREAM, after_seq=self._seen):
                event: PricePosted = journal.decode(stored, EVENTS)
                self._posted.setdefault(Symbol(event.symbol), []).append(event)
                self._seen = stored.seq

    def latest(self, symbol: Symbol, at: datetime | None = None) -> PricePosted | None:
        """Return the last price posted for ``symbol`` (as of ``at`` or before, if given)."""
        self._refresh()
        found = self._posted.get(symbol, [])
        if at is not None:
            found = [p for p in found if p.as_of <= at]
        return found[-1] if found else None

    def symbols(self) -> list[Symbol]:
        """Return the symbols with a posted price."""
        self._refresh()
        return sorted(self._posted)

    def post(self, symbol: Symbol, price: Decimal, as_of: datetime, signature: str) -> PricePosted:
        """Check and journal one signed price (see the module doc for the refusals, in order)."""
        expected = self._settings.price_signer
        if not expected:
            raise DomainError(
                "PRICE_SIGNER_UNSET", "this service takes no posted prices: set EQUITOKEN_PRICE_SIGNER"
            )
        Price(checked_price(price))  # positive, and to the price precision
        as_of = utc(as_of)
        signer = signer_of(symbol, price, as_of, signature)
        if signer != expected:
            raise DomainError(
                "PRICE_SIGNER_UNKNOWN", f"the price is signed by {signer}, not the price signer"
            )
        now = utc(self._clock.now())
        if as_of > now + CLOCK_SKEW:
            raise DomainError(
                "PRICE_IN_FUTURE",
                f"the price is as of {canonical_instant(as_of)}, after now ({canonical_instant(now)})",
            )
        last = self.latest(symbol)
        if last is not None and as_of <= last.as_of:
            raise DomainError(
                "PRICE_OUT_OF_ORDER",
                f"{symbol} already has a price as of {canonical_instant(last.as_of)}; post a later one",
            )
        event = PricePosted(str(symbol), price, as_of, now, signer, signature)
        journal.append(self._store, STREAM, f"price:{symbol}:{canonical_instant(as_of)}", now, event)
        self._refresh()
        return event

    def stale_reason(self, posted: PricePosted, at: datetime, calendar: MarketCalendar) -> str | None:
        """Return why ``posted`` is too old to trade on at ``at`` (``None``: it is fresh)."""
        age = at - posted.as_of
        status = calendar.status(at)
        if status.session is Session.REGULAR and status.trading_day is not None:
            opened = calendar.session_bounds(status.trading_day)[0]
            if posted.as_of < opened:
                since = canonical_instant(opened)
                return f"no {posted.symbol} price has been posted since the session opened at {since}"
            limit = timedelta(seconds=self._settings.price_feed_max_age_seconds)
            if age > limit:
                seconds, most = int(age.total_seconds()), int(limit.total_seconds())
                return f"the last {posted.symbol} price is {seconds} s old (limit {most} s)"
            return None
        if calendar.next_open(posted.as_of) <= at:
            return (
                f"a session opened after the last {posted.symbol} price ({canonical_instant(posted.as_of)})"
            )
        if age > timedelta(days=self._settings.price_max_age_days):
            return f"the last {posted.symbol} price is older than {self._settings.price_max_age_days} days"
        return None


class PostedPrices:
    """The engine's price source for live use: posted prices first, the bundled history otherwise."""

    def __init__(self, feed: PriceFeed, calendar: MarketCalendar, fallback: PriceSource) -> None:
        self.feed = feed
        self._calendar = calendar
        self._fallback = fallback

    def symbols(self) -> Sequence[Symbol]:
        """Return the symbols the history or the feed can price."""
        return sorted({*self._fallback.symbols(), *self.feed.symbols()})

    def reference_price(self, symbol: Symbol, at: datetime) -> ReferencePrice:
        """Return the latest posted price at or before ``at``, flagged stale by the feed's rules."""
        at = utc(at)
        posted = self.feed.latest(symbol, at)
        if posted is None:
            if symbol in self.feed.symbols():
                raise DomainError(
                    "NO_PRICE", f"no {symbol} price was posted at or before {canonical_instant(at)}"
                )
            return self._fallback.reference_price(symbol, at)
        reason = self.feed.stale_reason(posted, at, self._calendar)
        return ReferencePrice(
            symbol=symbol,
            at=at,
            price=Price(posted.price),
            basis=PriceBasis.POSTED,
            bar_day=posted.as_of.date(),
            stale=reason is not None,
            stale_reason=reason,
        )

    def bars(self, symbol: Symbol, start: date, end: date) -> Sequence[DailyBar]:
        """Return the bundled daily bars (a feed posts prices, not bars)."""
        return self._fallback.bars(symbol, start, end)
