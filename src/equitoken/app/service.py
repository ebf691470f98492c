"""The platform as a long-running service: one engine and the services around it, one command at a time.

``Service.open(settings, sandbox)`` builds what ``equitoken serve`` runs: the durable platform
(``bootstrap_service``: the configured store, a chain that outlives the process, one broker account
per listing in its own log), the issuance engine reopened from the journal with the default
programme's model builders, and the corporate-action, reserves and voting services over it.

Every command and read runs under one lock: the engine is a single writer whose unit of work is one
command, so concurrent requests are served one after the other. The ticker (``start``) moves the
platform on between them — corporate actions that have come due, expiries, hedges at the open,
replenishment, fills of resting orders — as ``tick`` does in a scripted run.

Every write goes through ``write``: the actor's right to do it is checked (``app.access``), and what
was asked, by whom, and how it ended is journaled (stream ``audit``): ``Asked`` before the command
runs, ``Answered`` after, so even a command cut short by a crash is on the record with its actor.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from equitoken.app.access import Actor, KeyBook, Permission
from equitoken.app.attestation_log import AttestationLog, Published
from equitoken.app.bootstrap import Platform, bootstrap_service
from equitoken.app.corporate_actions import CorporateActionService
from equitoken.app.issuance import IssuanceEngine, ModelBuilder, investor_label, open_engine
from equitoken.app.programmes import default_builders
from equitoken.app.reserve_feeds import AttestationScheduler, ReserveFeeds
from equitoken.app.reserves import ReservesService
from equitoken.app.sandbox import SANDBOX_LISTINGS, SandboxSpec
from equitoken.app.self_custody import SelfCustody
from equitoken.app.settings import Settings
from equitoken.app.trustee import load_trustee
from equitoken.app.voting import VotingService
from equitoken.compliance.investors import InvestorCategory
from equitoken.domain.errors import DomainError
from equitoken.domain.ids import InvestorId, Symbol
from equitoken.domain.instants import utc
from equitoken.domain.values import Money
from equitoken.issuance import journal
from equitoken.issuance.models import ModelName
from equitoken.issuance.models.base import Holder

log = logging.getLogger(__name__)

AUDIT = "audit"
SAMPLE_INVESTOR = "inv-sandbox"
SAMPLE_CASH = "100000"
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Asked:
    """An actor asked for a write (journaled before it runs)."""

    at: datetime
    request: str
    key_id: str
    role: str
    action: str
    subject: str


@dataclass(frozen=True, slots=True)
class Answered:
    """How an asked write ended: ``ok``, or the reason code it was refused with."""

    at: datetime
    request: str
    outcome: str


AUDIT_EVENTS = (Asked, Answered)


class Service:
    """The running platform: the engine and its services behind one lock, with a ticker."""

    def __init__(
        self,
        platform: Platform,
        *,
        sandbox: SandboxSpec | None = None,
        builders: Mapping[ModelName, ModelBuilder] | None = None,
    ) -> None:
        self.platform = platform
        self.settings = platform.settings
        self.clock = platform.clock
        self.store = platform.store
        self.sandbox = sandbox
        self.builders = dict(builders or default_builders())
        self.lock = threading.RLock()
        self.engine: IssuanceEngine = open_engine(platform, builders=self.builders)
        self.actions = CorporateActionService(self.engine)
        self.reserves = ReservesService(self.engine)
        self.voting = VotingService(self.engine)
        self.self_custody = SelfCustody(self.engine)
        self.feeds = ReserveFeeds(
            self.engine,
            heartbeat=timedelta(hours=self.settings.reserve_heartbeat_hours),
            attest_every=timedelta(hours=self.settings.attest_every_hours),
        )
        settings = self.settings
        self.attestations = AttestationLog(
            self.engine, self.reserves, lambda: load_trustee(settings), self.feeds
        )
        self.scheduler = AttestationScheduler(self.feeds, self.attestations.publish)
        self.keys = KeyBook(self.store)
        self.keys.refresh()
        self._ticker: threading.Thread | None = None
        self._stopping = threading.Event()
        self.tick_failures = 0
        self.last_tick: datetime | None = None
        self.sample_investor: str | None = None
        """The sandbox's funded sample investor (``None`` outside a sandbox)."""
        if sandbox is not None:
            self._open_sandbox()
        self._settle_gates()

    @classmethod
    def open(cls, settings: Settings, sandbox: SandboxSpec | None = None) -> Service:
        """Open the service over the settings' store and chain (a sandbox on its period of history)."""
        return cls(bootstrap_service(settings, sandbox), sandbox=sandbox)

    def close(self) -> None:
        """Stop the ticker and release the store."""
        self.stop()
        with self.lock:
            self.store.close()

    # -- the sandbox ---------------------------------------------------------------------------

    def _open_sandbox(self) -> None:
        """List the sandbox's stocks that have history now (once), and announce the period's actions."""
        now = utc(self.clock.now())
        known = set(self.platform.prices.symbols())
        with self.lock:
            for symbol, model, policy in SANDBOX_LISTINGS:
                if Symbol(symbol) not in known or Symbol(symbol) in self.engine.models():
                    continue
                try:
                    self.engine.prices.reference_price(Symbol(symbol), now)
                except DomainError:
                    continue  # no history at this instant (GME in 2012, the others in 2021)
                self.engine.list_stock(Symbol(symbol), model, policy, self.builders[model])
            self._feed_history()
            self._onboard_sample()

    def _onboard_sample(self) -> None:
        """Onboard the sandbox's sample investor (verified, a German professional) with $100,000, once."""
        investor = InvestorId(SAMPLE_INVESTOR)
        if self.engine.desk.investors.book.find(investor) is None:
            self.engine.onboard(
                investor, name="Sandbox Sample", residence="DE", category=InvestorCategory.PROFESSIONAL
            )
        self.engine.deposit(self.holder(investor), Money(SAMPLE_CASH), key="sandbox-sample")
        self.sample_investor = SAMPLE_INVESTOR

    def _feed_history(self) -> None:
        """Announce the real splits and dividends of the sandbox's period (announcing again is harmless)."""
        if self.sandbox is None:
            return
        start = self.clock.now().date()
        end = start.replace(year=start.year + 3)
        listed = set(self.engine.models())
        self.actions.announce(a for a in self.actions.actions(start, end) if a.symbol in listed)

    # -- time ----------------------------------------------------------------------------------

    def tick(self) -> None:
        """Move the platform on to now: due corporate actions, the engine's tick, voting snapshots, and
        the attestation a gated listing's feed is due (``attest_due``)."""
        with self.lock:
            self.actions.due()
            self.engine.tick()
            self.voting.tick()
            self._settle_gates()
            self.attest_due()
            self.last_tick = utc(self.clock.now())

    def _settle_gates(self) -> None:
        """Finish the mint-gate switches a crash left unfinished (``app.reserve_feeds``)."""
        with self.lock:
            try:
                self.feeds.settle()
            except DomainError as failed:  # the chain is down: the next tick tries again
                log.error("mint gates not settled", extra={"code": failed.code, "reason": failed.message})

    def attest_due(self) -> Published | None:
        """Attest now if a gated listing's feed is ``attest_every_hours`` old (``AttestationScheduler``)."""
        with self.lock:
            return self.scheduler.run()

    def start(self, every: float = 1.0) -> None:
        """Tick every ``every`` wall-clock seconds on a thread of its own, until ``stop``."""
        if self._ticker is not None:
            return
        self._stopping.clear()

        def run() -> None:
            while not self._stopping.wait(every):
                try:
                    self.tick()
                except DomainError as failed:  # a tick that fails is retried at the next one
                    self.tick_failures += 1
                    log.error("tick failed", extra={"code": failed.code, "reason": failed.message})

        self._ticker = threading.Thread(target=run, name="equitoken-ticker", daemon=True)
        self._ticker.start()

    def stop(self) -> None:
        """Stop the ticker (a tick in progress finishes first)."""
        if self._ticker is None:
            return
        self._stopping.set()
        self._ticker.join()
        self._ticker = None

    # -- commands and reads --------------------------------------------------------------------

    @contextmanager
    def read(
        self, actor: Actor, permission: Permission, investor: InvestorId | None = None
    ) -> Iterator[None]:
        """Hold the lock for a read the actor may make."""
        actor.require(permission, investor)
        with self.lock:
            yield

    def write(
        self,
        actor: Actor,
        permission: Permission,
        action: str,
        run: Callable[[], T],
        *,
        investor: InvestorId | None = None,
        subject: str = "",
    ) -> T:
        """Run one write for ``actor``: check the right, journal what was asked, run it, journal the end."""
        actor.require(permission, investor)
        with self.lock:
            request = uuid.uuid4().hex  # unique across processes sharing one database
            at = utc(self.clock.now())
            what = subject or (str(investor) if investor is not None else "")
            journal.append(
                self.store,
                AUDIT,
                f"asked:{request}",
                at,
                Asked(at, request, actor.key_id, actor.role.value, action, what),
            )
            outcome = "ok"
            try:
                return run()
            except DomainError as refused:
                outcome = str(refused.code)  # an enum member of one of the code vocabularies, as text
                raise
            finally:
                end = utc(self.clock.now())
                journal.append(self.store, AUDIT, f"answered:{request}", end, Answered(end, request, outcome))

    def holder(self, investor: InvestorId) -> Holder:
        """Return the onboarded investor ``investor`` with its wallet: its own (self-custody), or the one
        the platform keeps for it."""
        self.engine.desk.investors.book.get(investor)  # UNKNOWN_INVESTOR if never onboarded
        own = self.engine.custody_wallet(investor)
        if own is not None:  # never derive a key for a wallet whose key the investor holds
            return Holder(investor, own)
        return Holder(investor, self.engine.chain.wallet(investor_label(investor)))
