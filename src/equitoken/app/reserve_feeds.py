"""Each listing's proof-of-reserve feed and its mint gate: journaled, switched by an operator, kept fresh.

A listing's ``ReserveFeed`` is deployed by the first attestation that finds the listing without one
(``deploy_missing``, called by ``AttestationLog.publish``) and journaled (stream ``reserve-feeds``,
``FeedDeployed``, per chain id): every later attestation posts the listing's backing ratio to it, whether
its gate is on or not, so a restart knows the feed and an operator can see its rounds before relying on
them.

The **gate** — the token refusing mints on a stale or under-collateralised feed — is switched on or off
by an operator (``switch``), on the record: ``GateIntended`` (who, on or off, the feed, the heartbeat)
before the token's ``setReserveFeed`` is sent, ``GateSet`` with its transaction after (``GateRefused``
when the chain says no). Switching on is refused while the feed has no round (``RESERVES_FEED_NO_ROUND``)
or its latest is older than the heartbeat (``RESERVES_FEED_STALE``): the first mint would be refused
anyway, so the operator attests first.

Crash safety: the gate is a state, not a count, so an intent left unfinished by a kill — between the
journal and the chain, or between the chain and the journal — is matched by reading the token's gate
(``settle``, run when the service opens, at every tick and before every switch): a token already as
intended is recorded as found, without sending again; one that is not is sent the intent now. Given an
idempotency key, a retried switch is answered from its first intent. A kill between a feed's deployment
and its journal leaves an orphan feed nobody gates on; the next attestation deploys another (the
registry's limit too).

**Scheduled attestations** (``due``): where a gate is on, the service attests once the feed's latest
round is ``attest_every`` old (24 h by default, below the 26 h heartbeat). The decision is keyed by the
chain itself — the latest round id of each due feed (``AttestationScheduled`` journals the key before
the attestation): after a kill -9 once the rounds were posted, the feeds are fresh and nothing is posted
again; before, the feeds are still due and the retry attests.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Generic, TypeVar

from equitoken.app.issuance import IssuanceEngine
from equitoken.domain.errors import DomainError
from equitoken.domain.ids import ZERO_ADDRESS_TEXT, Symbol, WalletAddress, content_hash
from equitoken.domain.instants import utc
from equitoken.issuance import journal
from equitoken.ports.chain import FeedRound, Instrument, ReserveGate
from equitoken.reserves.feed_gate import attestation_due, is_fresh

STREAM = "reserve-feeds"
RETRY_ATTEST = timedelta(minutes=15)
"""How long (clock time) the scheduler waits after a refused attestation before it tries again."""
log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class FeedDeployed:
    """A listing's reserve feed was deployed on chain ``chain_id``, posted to by ``trustee`` only."""

    at: datetime
    symbol: Symbol
    chain_id: int
    feed: WalletAddress
    trustee: WalletAddress


@dataclass(frozen=True, slots=True)
class GateIntended:
    """An operator asked for a listing's mint gate on (on ``feed``, with ``heartbeat_seconds``) or off."""

    at: datetime
    request: str
    symbol: Symbol
    chain_id: int
    on: bool
    feed: WalletAddress
    heartbeat_seconds: int
    key_id: str


@dataclass(frozen=True, slots=True)
class GateSet:
    """The token's gate is as ``request`` asked: sent now (``tx_hash``), or ``found`` so on the chain."""

    at: datetime
    request: str
    tx_hash: str
    block: int
    found: bool


@dataclass(frozen=True, slots=True)
class GateRefused:
    """The chain refused the gate change ``request`` (nothing changed): its reason code."""

    at: datetime
    request: str
    code: str


@dataclass(frozen=True, slots=True)
class AttestationScheduled:
    """The scheduler attests because these feeds' latest rounds (``0``: none yet) are due."""

    at: datetime
    key: str
    chain_id: int
    symbols: tuple[Symbol, ...]
    rounds: tuple[int, ...]


EVENTS = (FeedDeployed, GateIntended, GateSet, GateRefused, AttestationScheduled)


@dataclass(frozen=True, slots=True)
class FeedStatus:
    """A listing's feed and gate now: the journal's word, the token's, and the feed's latest round."""

    symbol: Symbol
    feed: WalletAddress | None
    on: bool
    """The gate as the journal holds it (the last operator switch that the chain took)."""
    chain_gate: ReserveGate | None
    """The gate as the token holds it now."""
    heartbeat: timedelta
    latest: FeedRound | None
    pending: bool
    """A switch is journaled whose outcome is not (a crash): ``settle`` finishes it."""
    attest_every: timedelta

    @property
    def in_step(self) -> bool:
        """Tell whether the token's gate is what the journal says (on this feed) or off as it says."""
        if not self.on:
            return self.chain_gate is None
        return self.chain_gate is not None and self.chain_gate.feed == self.feed

    def next_attestation(self) -> datetime | None:
        """Return when the scheduler next attests for this listing (``None`` while the gate is off)."""
        if not self.on:
            return None
        return None if self.latest is None else self.latest.updated_at + self.attest_every


@dataclass(slots=True)
class _State:
    feeds: dict[Symbol, FeedDeployed]
    intents: dict[str, GateIntended]
    done: set[str]
    on: dict[Symbol, bool]


class ReserveFeeds:
    """The feeds of an engine's listings and their mint gates, folded from stream ``reserve-feeds``."""

    def __init__(
        self,
        engine: IssuanceEngine,
        *,
        heartbeat: timedelta,
        attest_every: timedelta,
        idempotency: str | None = None,
    ) -> None:
        if not timedelta(0) < attest_every < heartbeat:
            raise DomainError(
                "INVALID_SETTING",
                f"attestations every {attest_every} would let a {heartbeat} heartbeat go stale",
            )
        self._engine = engine
        self._store = engine.store
        self.heartbeat = heartbeat
        self.attest_every = attest_every
        self._idempotency = idempotency

    @property
    def engine(self) -> IssuanceEngine:
        """Return the engine whose listings' feeds these are."""
        return self._engine

    def for_request(self, idempotency: str | None) -> ReserveFeeds:
        """Return the same feeds serving one request with ``idempotency`` as its key."""
        return ReserveFeeds(
            self._engine, heartbeat=self.heartbeat, attest_every=self.attest_every, idempotency=idempotency
        )

    # -- reading -------------------------------------------------------------------------------

    def _state(self) -> _State:
        chain_id = self._engine.chain.chain_id
        state = _State({}, {}, set(), {})
        for event in journal.read(self._store, STREAM, EVENTS):
            if isinstance(event, FeedDeployed):
                if event.chain_id == chain_id:
                    state.feeds[event.symbol] = event
            elif isinstance(event, GateIntended):
                if event.chain_id == chain_id:
                    state.intents[event.request] = event
            elif isinstance(event, GateSet):
                intent = state.intents.get(event.request)
                if intent is not None:
                    state.done.add(event.request)
                    state.on[intent.symbol] = intent.on
            elif isinstance(event, GateRefused):
                state.done.add(event.request)
        return state

    def feeds(self) -> dict[Symbol, WalletAddress]:
        """Return each listing's journaled feed on this chain."""
        return {symbol: deployed.feed for symbol, deployed in self._state().feeds.items()}

    def gated(self) -> list[Symbol]:
        """Return the listings whose gate the journal holds on."""
        return sorted(symbol for symbol, on in self._state().on.items() if on)

    def status(self, symbol: Symbol) -> FeedStatus:
        """Return ``symbol``'s feed, gate and latest round (``UNKNOWN_SYMBOL`` if not listed)."""
        instrument = self._instrument(symbol)
        state = self._state()
        deployed = state.feeds.get(symbol)
        chain = self._engine.chain
        latest = None if deployed is None else chain.latest_round(deployed.feed)
        pending = any(i.symbol == symbol and r not in state.done for r, i in state.intents.items())
        return FeedStatus(
            symbol=symbol,
            feed=None if deployed is None else deployed.feed,
            on=state.on.get(symbol, False),
            chain_gate=chain.mint_gate(instrument),
            heartbeat=self.heartbeat,
            latest=latest,
            pending=pending,
            attest_every=self.attest_every,
        )

    # -- commands ------------------------------------------------------------------------------

    def deploy_missing(self, trustee: WalletAddress) -> dict[Symbol, WalletAddress]:
        """Deploy a feed, posted to by ``trustee``, for each listing without one; return every feed."""
        engine = self._engine
        chain = engine.chain
        known = self.feeds()
        for symbol in sorted(engine.models()):
            if symbol in known:
                continue
            feed = chain.deploy_reserve_feed(trustee, f"{symbol.value} backing ratio")
            at = utc(engine.clock.now())
            deployed = FeedDeployed(at, symbol, chain.chain_id, feed, trustee)
            journal.append(self._store, STREAM, f"feed:{chain.chain_id}:{symbol.value}", at, deployed)
            known[symbol] = feed
        return known

    def switch(self, symbol: Symbol, on: bool, key_id: str) -> FeedStatus:
        """Switch ``symbol``'s mint gate on (on its feed, with the heartbeat) or off (module doc)."""
        instrument = self._instrument(symbol)
        self.settle()
        engine = self._engine
        chain = engine.chain
        state = self._state()
        if self._idempotency is not None:
            request = content_hash(f"reserve-gate:{self._idempotency}")[:32]
            prior = state.intents.get(request)
            if prior is not None:
                if (prior.symbol, prior.on) != (symbol, on):
                    raise DomainError(
                        "IDEMPOTENCY_CONFLICT",
                        f"this idempotency key switched the gate of {prior.symbol} {_word(prior.on)}",
                    )
                return self.status(symbol)
        else:
            request = uuid.uuid4().hex
        deployed = state.feeds.get(symbol)
        engine.sync_chain_time()
        if on:
            if deployed is None:
                raise DomainError(
                    "RESERVES_NO_FEED",
                    f"{symbol} has no reserve feed yet: attest once (the attestation deploys it and posts"
                    " its first round), then switch the gate on",
                )
            self._require_fresh(symbol, deployed.feed)
        seconds = int(self.heartbeat.total_seconds()) if on else 0
        if state.on.get(symbol, False) == on and chain.mint_gate(instrument) == self._wanted(on, deployed):
            return self.status(symbol)  # already so, on the record and on the chain: nothing to send
        at = utc(engine.clock.now())
        feed = deployed.feed if deployed is not None else _NO_FEED
        intent = GateIntended(at, request, symbol, chain.chain_id, on, feed, seconds, key_id)
        journal.append(self._store, STREAM, f"gate:{request}", at, intent)
        self._carry_out(intent)
        return self.status(symbol)

    def settle(self) -> int:
        """Finish every switch a crash left journaled without an outcome; return how many."""
        state = self._state()
        pending = [i for r, i in state.intents.items() if r not in state.done]
        for intent in pending:
            self._carry_out(intent)
        return len(pending)

    def due(self) -> list[tuple[Symbol, int]]:
        """Return the gated listings whose feed needs an attestation now, with their latest round id."""
        chain = self._engine.chain
        now = utc(self._engine.clock.now())
        found = []
        feeds = self.feeds()
        for symbol in self.gated():
            latest = chain.latest_round(feeds[symbol])
            if attestation_due(None if latest is None else latest.updated_at, now, self.attest_every):
                found.append((symbol, 0 if latest is None else latest.round_id))
        return found

    def schedule(self, due: list[tuple[Symbol, int]]) -> str:
        """Journal the scheduler's intent to attest for ``due`` (keyed by the feeds' rounds); return the key.

        The same rounds give the same key, so a retry after a crash journals nothing new.
        """
        chain_id = self._engine.chain.chain_id
        text = ",".join(f"{symbol.value}@{round_id}" for symbol, round_id in due)
        key = content_hash(f"attest:{chain_id}:{text}")[:32]
        if any(e.key == key for e in self.scheduled()):
            return key  # a retry of these rounds (a refusal, a crash): on the record already
        at = utc(self._engine.clock.now())
        symbols = tuple(symbol for symbol, _ in due)
        rounds = tuple(round_id for _, round_id in due)
        event = AttestationScheduled(at, key, chain_id, symbols, rounds)
        journal.append(self._store, STREAM, f"scheduled:{key}", at, event)
        return key

    def scheduled(self) -> list[AttestationScheduled]:
        """Return the scheduler's journaled attestations on this chain, oldest first."""
        chain_id = self._engine.chain.chain_id
        return [
            e
            for e in journal.read(self._store, STREAM, EVENTS)
            if isinstance(e, AttestationScheduled) and e.chain_id == chain_id
        ]

    # -- internals -----------------------------------------------------------------------------

    def _instrument(self, symbol: Symbol) -> Instrument:
        return self._engine.model(symbol).listing.instrument

    def _wanted(self, on: bool, deployed: FeedDeployed | None) -> ReserveGate | None:
        if not on or deployed is None:
            return None
        return ReserveGate(deployed.feed, self.heartbeat)

    def _require_fresh(self, symbol: Symbol, feed: WalletAddress) -> None:
        latest = self._engine.chain.latest_round(feed)
        if latest is None:
            raise DomainError(
                "RESERVES_FEED_NO_ROUND",
                f"no attestation has been posted to {symbol}'s feed {feed} yet, so its first mint would"
                " be refused anyway (RESERVES_STALE): attest, then switch the gate on",
            )
        now = utc(self._engine.clock.now())
        if not is_fresh(latest.updated_at, now, self.heartbeat):
            raise DomainError(
                "RESERVES_FEED_STALE",
                f"{symbol}'s feed was last posted at {latest.updated_at.isoformat()}, more than"
                f" {self.heartbeat} ago, so its first mint would be refused anyway (RESERVES_STALE):"
                " attest, then switch the gate on",
            )

    def _carry_out(self, intent: GateIntended) -> None:
        """Make the token's gate what ``intent`` asks: found already so, or sent now; journal the outcome."""
        engine = self._engine
        chain = engine.chain
        instrument = self._instrument(intent.symbol)
        wanted = ReserveGate(intent.feed, timedelta(seconds=intent.heartbeat_seconds)) if intent.on else None
        if chain.mint_gate(instrument) == wanted:
            at = utc(engine.clock.now())
            found = GateSet(at, intent.request, "", chain.block_number(), found=True)
            journal.append(self._store, STREAM, f"gate-set:{intent.request}", at, found)
            return
        try:
            tx = chain.gate_mints(instrument, wanted)
        except DomainError as refused:
            if refused.kind.is_refusal:  # a clean "no": nothing changed, on the record
                at = utc(engine.clock.now())
                event = GateRefused(at, intent.request, refused.code)
                journal.append(self._store, STREAM, f"gate-refused:{intent.request}", at, event)
            raise
        at = utc(engine.clock.now())
        sent = GateSet(at, intent.request, tx.tx_hash, tx.block, found=False)
        journal.append(self._store, STREAM, f"gate-set:{intent.request}", at, sent)


class AttestationScheduler(Generic[T]):
    """Attest when a gated listing's feed is due (module doc); retry a refused one after a pause."""

    def __init__(self, feeds: ReserveFeeds, publish: Callable[[], T]) -> None:
        self._feeds = feeds
        self._publish = publish
        self._engine = feeds.engine
        self._retry_after: datetime | None = None
        self.refused: DomainError | None = None
        """The last refusal of a scheduled attestation (``None`` once one is published)."""

    def run(self) -> T | None:
        """Attest now if a gated listing's feed is ``attest_every`` old; return what was published.

        Keyed by the due feeds' latest rounds (``ReserveFeeds.schedule``): after a crash the feeds are
        read again, so rounds already posted are never posted twice. A refused attestation (a listing
        halted, reserves that do not reconcile) is logged and retried after ``RETRY_ATTEST``: the
        token then refuses mints once its feed is stale, which is the gate doing its work.
        """
        now = utc(self._engine.clock.now())
        if self._retry_after is not None and now < self._retry_after:
            return None
        due = self._feeds.due()
        if not due:
            return None
        self._feeds.schedule(due)
        try:
            published = self._publish()
        except DomainError as refused:
            self._retry_after = now + RETRY_ATTEST
            self.refused = refused
            log.error(
                "scheduled attestation refused", extra={"code": refused.code, "reason": refused.message}
            )
            return None
        self._retry_after = None
        self.refused = None
        return published


_NO_FEED = WalletAddress(ZERO_ADDRESS_TEXT)


def _word(on: bool) -> str:
    return "on" if on else "off"
