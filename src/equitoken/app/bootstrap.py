"""The composition root: the one place that picks adapters for ports, from settings.

Everything is built lazily, so ``equitoken market status`` never opens a database, and a test can
swap any part by assigning the attribute before first use.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from equitoken.app.settings import Settings, load_settings
from equitoken.domain.errors import DomainError
from equitoken.domain.ids import Symbol
from equitoken.ports import Broker, Clock, MarketCalendar, PriceSource, Store
from equitoken.ports.lease import Lease

if TYPE_CHECKING:
    from equitoken.adapters.chain.facade import ChainFacade
    from equitoken.app.sandbox import SandboxSpec
    from equitoken.compliance.sanctions import SanctionsList


@dataclass
class Platform:
    """The wired application: settings plus one adapter per port."""

    settings: Settings
    clock: Clock
    chain_kept: bool | None = None
    """Whether the chain keeps its state across engine restarts; ``None``: only a node does (a chain URL
    is set). A test or the scripted week that hands the same in-process EVM to a new engine sets it."""
    broker_logs: Path | None = None
    """Where each listing's broker account keeps its log so it outlives the process (``serve``);
    ``None``: accounts are in memory, as in a scripted run."""

    def seal(self) -> None:
        """Refuse any later assignment: parts are chosen through ``bootstrap``, never patched in."""
        object.__setattr__(self, "_sealed", True)

    def __setattr__(self, name: str, value: object) -> None:
        if self.__dict__.get("_sealed"):
            raise AttributeError(
                f"the platform is sealed: pass {name} to bootstrap() instead of assigning it"
            )
        object.__setattr__(self, name, value)

    def keeps_chain(self) -> bool:
        """Tell whether contracts deployed before a restart are still on this platform's chain."""
        return bool(self.settings.chain_url) if self.chain_kept is None else self.chain_kept

    @cached_property
    def calendar(self) -> MarketCalendar:
        """Return the exchange calendar."""
        from equitoken.adapters.market.calendar import ExchangeCalendar

        s = self.settings
        return ExchangeCalendar(
            s.calendar,
            pre_market_open=s.pre_market_open,
            after_hours_close=s.after_hours_close,
            early_close_after_hours_close=s.early_close_after_hours_close,
        )

    @cached_property
    def prices(self) -> PriceSource:
        """Return the reference price source over the bundled real history."""
        from equitoken.adapters.market.history import HistoryPriceSource

        return HistoryPriceSource(self.calendar, max_age_days=self.settings.price_max_age_days)

    @cached_property
    def store(self) -> Store:
        """Return the durable store (SQLite under the data dir unless a database URL is set)."""
        from equitoken.adapters.store.sql import SqlStore

        if not self.settings.database_url:
            ensure_data_dir(self.settings.data_dir)
        return SqlStore.open(self.settings.effective_database_url, group_commit=self.settings.group_commit)

    @cached_property
    def sanctions(self) -> SanctionsList:
        """Return the sanctions list every entry point screens with: the operator's file, else the sample.

        The one source of the list: a command may screen against more (``--sanctions``), never less.
        """
        from equitoken.app.compliance import load_sanctions

        return load_sanctions(self.settings.sanctions_file)

    @cached_property
    def chain(self) -> ChainFacade:
        """Return the chain facade: the in-process EVM unless a JSON-RPC URL is configured."""
        from equitoken.adapters.chain.factory import build_chain

        return build_chain(self.settings.chain_url, self.settings.chain_seed)

    @cached_property
    def broker(self) -> Broker:
        """Return the simulated broker over the reference prices."""
        from equitoken.adapters.broker.simulated import SimulatedBroker

        return SimulatedBroker(
            clock=self.clock,
            calendar=self.calendar,
            prices=self.prices,
            slippage=self.settings.broker_slippage_bps,
        )

    def broker_account(self, symbol: Symbol) -> Broker:
        """Return a new broker account for ``symbol``'s listing: one account per listing.

        With ``broker_logs``, the account is the simulated broker kept in ``SYMBOL.log`` there, so its
        orders, fills and custody survive a restart as a real broker's would.
        """
        from equitoken.adapters.broker.simulated import SimulatedBroker

        s = self.settings
        if self.broker_logs is None:
            return SimulatedBroker(self.clock, self.calendar, self.prices, s.broker_slippage_bps)
        from equitoken.adapters.broker.durable import DurableSimulatedBroker

        ensure_data_dir(self.broker_logs)
        log = self.broker_logs / f"{symbol}.log"
        return DurableSimulatedBroker(log, self.clock, self.calendar, self.prices, s.broker_slippage_bps)


def ensure_data_dir(path: Path) -> None:
    """Create the data directory, or refuse with ``STORE_UNAVAILABLE`` when the system will not."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise DomainError(
            "STORE_UNAVAILABLE", f"cannot create the data directory {path}: {error.strerror or error}"
        ) from None


def bootstrap(
    settings: Settings | None = None,
    clock: Clock | None = None,
    *,
    store: Store | None = None,
    chain: ChainFacade | None = None,
    prices: PriceSource | None = None,
    calendar: MarketCalendar | None = None,
    broker: Broker | None = None,
    chain_kept: bool | None = None,
    broker_logs: Path | None = None,
) -> Platform:
    """Return the platform wired from ``settings`` (loaded from file and environment if omitted).

    A simulation, a benchmark or a test passes the parts it chooses itself (a store, a chain, a timed
    price source…) here; the platform is sealed once built, so nothing swaps a part afterwards.
    """
    from equitoken.adapters.clock import SystemClock

    platform = Platform(
        settings=settings or load_settings(),
        clock=clock or SystemClock(),
        chain_kept=chain_kept,
        broker_logs=broker_logs,
    )
    chosen = {"store": store, "chain": chain, "prices": prices, "calendar": calendar, "broker": broker}
    for name, part in chosen.items():
        if part is not None:
            platform.__dict__[name] = part  # what the cached property would hold: chosen before first use
    platform.seal()
    return platform


def open_lease(settings: Settings) -> Lease:
    """Return the lease that decides which ``serve`` process runs the engine over these settings' store.

    On PostgreSQL, the advisory lock of the store's schema; on SQLite, a file lock beside the database
    file (``equitoken.db.lease``), so a second server on one file waits as a follower.
    """
    from sqlalchemy.engine import make_url

    url = settings.effective_database_url
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql":
        from equitoken.adapters.lease.postgres import PostgresLease

        return PostgresLease(url)
    from equitoken.adapters.lease.file import FileLease

    database = Path(parsed.database or str(settings.data_dir / "equitoken.db"))
    return FileLease(database.with_name(database.name + ".lease"))


def bootstrap_service(settings: Settings, sandbox: SandboxSpec | None = None) -> Platform:
    """Return the platform ``equitoken serve`` runs: every part outlives the process.

    The store is the configured database; the chain the configured node, else the embedded chain kept
    in ``data_dir/chain.log``; each listing's broker account is kept in ``data_dir/brokers/``. The
    clock is the wall clock, or, for a sandbox, the wall clock moved onto its period of history (its
    mapping journaled on first open, ``app.sandbox``). Outside a sandbox the public development seed is
    refused: anything its keys sign could be signed by anyone.
    """
    from equitoken.adapters.chain.durable import chain_log_path
    from equitoken.adapters.chain.factory import build_chain
    from equitoken.adapters.clock import SandboxClock, SystemClock
    from equitoken.app.price_feed import PostedPrices, PriceFeed
    from equitoken.app.sandbox import anchor
    from equitoken.domain.chains import DEVELOPMENT_SEED

    if sandbox is None and settings.chain_seed == DEVELOPMENT_SEED:
        raise DomainError(
            "DEV_KEY_ON_REAL_CHAIN",
            "a live service signs with the operator's own keys: set EQUITOKEN_CHAIN_SEED (the keys of the "
            "public development seed are public), or run a sandbox (--sandbox)",
        )
    probe = bootstrap(settings)  # the market parts do not depend on the clock
    store = probe.store
    wall = SystemClock()
    clock: Clock = wall
    if sandbox is not None:
        opened = anchor(store, sandbox, probe.calendar, wall.now())
        clock = SandboxClock(opened.origin, opened.wall_origin, opened.speed, wall)
    url = settings.chain_url or f"embedded://{(settings.data_dir / 'chain.log').resolve()}"
    log = chain_log_path(url)
    fresh = log is not None and (not log.exists() or log.stat().st_size == 0)
    chain = build_chain(url, settings.chain_seed, genesis=clock.now() if fresh else None)
    # Posted prices (the operator's signed feed) before the bundled history: no price, no trade.
    feed = PriceFeed(store, settings, clock)
    prices = PostedPrices(feed, probe.calendar, probe.prices)
    return bootstrap(
        settings,
        clock,
        store=store,
        chain=chain,
        calendar=probe.calendar,
        prices=prices,
        chain_kept=True,
        broker_logs=settings.data_dir / "brokers",
    )
