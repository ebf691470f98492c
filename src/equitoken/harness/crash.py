"""The crash harness: kill the engine with SIGKILL at random points of a seeded flow, restart it, compare.

``python -m equitoken.harness.crash --seeds 5 --kills 8`` (``make crash``) plays, for each seed, the
flow of ``simulation.crash`` twice: once in a child process that is never killed (the reference), and
once in children that are killed and restarted until the flow completes. Each child opens what
survives a kill — the SQLite file (or a PostgreSQL schema), the chain (the durable embedded chain's
block log, or an anvil node, a process of its own), the broker accounts (``adapters.broker.durable``)
and a progress file — and re-runs the flow from the first step it had not acknowledged: orders carry
their idempotency keys, so re-submitting one is a retry; a deposit, a redemption or a withdrawal
carries its step's index as its idempotency key, so making it again after a kill changes nothing.

How a child dies (one way per run, drawn from the seed; none during the setup — listings, investors,
first deposits — which the first child runs before it arms its kill):

- ``delay``: the parent kills it after a random wall-clock delay;
- ``send``: it kills itself right after its Nth chain send returned (receipts durable, nothing booked);
- ``commit``: it kills itself inside its Nth store commit (before the commit is durable);
- ``after-commit``: just after its Nth store commit (durable, the engine never heard back).

At the end both runs' ``Figures`` are checked (``simulation.crash.consistency``: ledger tokens =
chain balance per investor, ledger cash = stablecoin, supply = ledger, every backing holds, no halt)
and compared (``differences``: every order's state and fills, balances, cash, fees, custody). The
parent prints kills, restarts, orders and mismatches, writes a JSON report, and exits 1 on any
mismatch. Nothing here is a hook in production code: the faults are wrappers (``harness.faults``).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from equitoken.adapters.broker.durable import DurableSimulatedBroker
from equitoken.adapters.chain.facade import ChainFacade
from equitoken.adapters.chain.keys import DeterministicKeyRing
from equitoken.adapters.clock import ManualClock
from equitoken.adapters.market.bar_files import BUNDLED, data_file
from equitoken.adapters.market.calendar import ExchangeCalendar
from equitoken.adapters.market.history import HistoryPriceSource
from equitoken.adapters.store.sql import SqlStore
from equitoken.app.bootstrap import bootstrap
from equitoken.app.corporate_actions import CorporateActionService
from equitoken.app.issuance import IssuanceEngine, open_engine
from equitoken.app.settings import Settings
from equitoken.compliance.actions import Regulation
from equitoken.compliance.investors import InvestorCategory, PersonKind
from equitoken.domain.errors import DomainError, InfrastructureError
from equitoken.domain.ids import InvestorId, OrderId, Symbol, WalletAddress
from equitoken.domain.trading import OrderType, Side
from equitoken.domain.values import Money, Price, Shares
from equitoken.harness.faults import (
    CommitKiller,
    KillingDurableChain,
    KillingRpcChain,
    SendCounter,
)
from equitoken.issuance.models import ModelName
from equitoken.issuance.models.base import Holder
from equitoken.issuance.models.books import USD, fees, investor_cash, investor_tokens
from equitoken.issuance.orders import OrderRequest, TimeInForce
from equitoken.simulation.crash import (
    END,
    INVESTORS,
    LISTINGS,
    OUTSIDE_WALLET,
    SETTLED_BY,
    START,
    Flow,
    Step,
    StepKind,
    consistency,
    differences,
    make_flow,
    ny,
)
from equitoken.simulation.week import model_builders

CHAIN_SEED = "crash-harness"
CLIENT = "crash"
GENESIS = ny(START, 8, 0)
LEGACY_ACQUIRED = datetime(2010, 8, 2, tzinfo=UTC)
"""When the legacy KO holdings were acquired: two years back, so no lockup is left on them."""
BROKER_SYMBOLS = tuple(symbol for symbol, model, _ in LISTINGS if model != "direct")
"""The listings that trade at a broker, in listing order (the order the engine asks for accounts)."""
ARMED = "ARMED"
STOPPED = 75
REOPEN = 76
"""A child's exit when the engine failed under a step (not a refusal): the parent reopens it."""
MAX_REOPENS = 20
"""The exit code of a child that stopped cleanly (a ``stop`` plan)."""
OPEN = "OPEN"
MARKET_FROM, MARKET_TO = date(2012, 5, 1), date(2012, 12, 31)
"""The months of sessions and bars a child loads: the flow's, with room on either side."""


@dataclass(frozen=True, slots=True)
class Plan:
    """How one child run ends: ``none`` (it completes), ``delay`` (killed after seconds), ``send``,
    ``commit``, ``after-commit`` (killed at the Nth), or ``stop`` (a clean exit after its Nth step: the
    control, a restart with no kill)."""

    kind: str = "none"
    nth: int = 0
    seconds: float = 0.0
    reopening: bool = False
    """For a delay: count it from the start of the reopening (else from when the engine is open)."""

    def label(self) -> str:
        """Return the plan as the report shows it."""
        if self.kind == "stop":
            return f"clean stop after {self.nth} steps"
        if self.kind == "delay":
            return f"delay {self.seconds:.2f}s" + (" into the reopening" if self.reopening else "")
        return self.kind if self.kind == "none" else f"{self.kind} #{self.nth}"


def _market(settings: Settings) -> tuple[ExchangeCalendar, HistoryPriceSource]:
    """Return the XNYS calendar and the real prices over the flow's months only (a child starts fast).

    The same bars and sessions as the platform's defaults for every instant of the flow: only the
    years the flow never reaches are left out (they cost a restart seconds of parsing).
    """
    calendar = ExchangeCalendar(
        settings.calendar,
        pre_market_open=settings.pre_market_open,
        after_hours_close=settings.after_hours_close,
        early_close_after_hours_close=settings.early_close_after_hours_close,
        start=MARKET_FROM,
        end=MARKET_TO,
    )
    bars = {
        Symbol(entry.symbol): tuple(
            bar
            for bar in entry.reader(data_file(entry.filename), Symbol(entry.symbol))
            if MARKET_FROM <= bar.day <= MARKET_TO
        )
        for entry in BUNDLED
        if entry.symbol in {symbol for symbol, _, _ in LISTINGS}
    }
    return calendar, HistoryPriceSource(calendar, settings.price_max_age_days, bars=bars)


def _num(value: Decimal) -> str:
    """Return ``value`` in one spelling per number (``1.50``, ``1.5`` and ``1.500E0`` compare equal)."""
    return format(value.normalize(), "f") if value else "0"


# -- the child: one run of the engine over what survives ------------------------------------------


class Progress:
    """The steps acknowledged so far: one index per line, fsync'd after each step."""

    def __init__(self, path: Path) -> None:
        self.path = path
        done = 0
        if path.exists():
            # Only lines ended by their newline count: a line cut short was being written at a kill.
            for line in path.read_text().split("\n")[:-1]:
                if line.isdigit() and int(line) == done:
                    done += 1
        self.done = done
        with path.open("w") as out:  # drop a torn last line, if any
            out.write("".join(f"{i}\n" for i in range(done)))
            out.flush()
            os.fsync(out.fileno())
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND)

    def mark(self, index: int) -> None:
        """Record that step ``index`` is done."""
        os.write(self._fd, f"{index}\n".encode())
        os.fsync(self._fd)
        self.done = index + 1


class World:
    """The engine of one child run, over the store, chain and broker accounts a kill leaves behind."""

    def __init__(self, directory: Path, store_url: str, chain_url: str, at: datetime) -> None:
        self.clock = ManualClock(at)
        self.store = SqlStore.open(store_url)
        keyring = DeterministicKeyRing(CHAIN_SEED)
        if chain_url:
            backend: KillingDurableChain | KillingRpcChain = KillingRpcChain(chain_url, keyring)
        else:
            backend = KillingDurableChain(
                directory / "chain.log", keyring, start_timestamp=int(GENESIS.timestamp()), block_time=0
            )
        self.chain = ChainFacade(backend, keyring)
        settings = Settings(chain_seed=CHAIN_SEED, data_dir=directory)
        calendar, prices = _market(settings)
        platform = bootstrap(
            settings,
            self.clock,
            store=self.store,
            chain=self.chain,
            chain_kept=True,
            calendar=calendar,
            prices=prices,
        )
        self.brokers: list[DurableSimulatedBroker] = []

        def account(symbol: Symbol) -> DurableSimulatedBroker:
            broker = DurableSimulatedBroker(
                directory / f"broker-{symbol}.log",
                self.clock,
                platform.calendar,
                platform.prices,
                settings.broker_slippage_bps,
            )
            self.brokers.append(broker)
            return broker

        self.builders = model_builders()
        self.engine: IssuanceEngine = open_engine(platform, brokers=account, builders=self.builders)
        self.service = CorporateActionService(self.engine)
        self._fed = False

    def holder(self, key: str) -> Holder:
        """Return the holder of investor ``key`` (its wallet is derived, so it survives a restart)."""
        investor = InvestorId(f"inv-{key}")
        return Holder(investor, self.chain.wallet(f"investor:{investor}"))

    def run(self, step: Step, flow: Flow) -> None:
        """Carry out ``step`` at its instant; a refusal is the engine's answer, not a failure of the run."""
        self.clock.set(step.at)
        engine = self.engine
        if not self._fed and len(engine.models()) == len(LISTINGS):
            self.service.feed(START, END)  # announcing again is harmless; the blackouts are journaled
            self._fed = True
        try:
            match step.kind:
                case StepKind.TICK:
                    self.service.due()
                    engine.tick()
                case StepKind.ORDER:
                    engine.submit(self._request(step))
                case StepKind.CANCEL:
                    engine.cancel(OrderId.for_request(CLIENT, step.key))
                case StepKind.DEPOSIT:
                    self._deposit(step, flow)
                case StepKind.REDEEM | StepKind.WITHDRAW:
                    self._cash_out(step)
                case StepKind.LIST:
                    symbol, model, policy = next(item for item in LISTINGS if item[0] == step.symbol)
                    engine.list_stock(
                        Symbol(symbol), ModelName(model), policy, self.builders[ModelName(model)]
                    )
                case StepKind.ONBOARD:
                    investor = next(i for i in INVESTORS if i.key == step.investor)
                    engine.onboard(
                        InvestorId(f"inv-{investor.key}"),
                        name=investor.name,
                        residence=investor.residence,
                        category=InvestorCategory(investor.category),
                        kind=PersonKind(investor.kind),
                    )
                case StepKind.WHITELIST:
                    chosen = [InvestorId(f"inv-{i.key}") for i in INVESTORS if i.whitelisted]
                    engine.desk.whitelist(Symbol(step.symbol), chosen)
                case StepKind.PRIMARY:
                    issued = Symbol(step.symbol)
                    reference = engine.prices.reference_price(issued, self.clock.now()).price
                    price = Price.rounded(reference.amount * Decimal("0.995"))
                    engine.issue_primary(
                        issued,
                        self.holder(step.investor),
                        Shares(step.amount),
                        price,
                        acquired_at=LEGACY_ACQUIRED,
                        regulation=Regulation.REG_S,
                    )
        except InfrastructureError:
            raise  # not an answer: the machinery failed (or the engine must reopen), nothing is known
        except DomainError:
            pass  # refused: the same refusal as in the uninterrupted run (or a retry's answer)

    def _request(self, step: Step) -> OrderRequest:
        symbol = Symbol(step.symbol)
        limit = None
        if step.limit_bps is not None:
            reference = self.engine.prices.reference_price(symbol, self.clock.now()).price.amount
            limit = Price.rounded(reference * (1 + Decimal(step.limit_bps) / 10_000))
        holder = self.holder(step.investor)
        return OrderRequest(
            CLIENT,
            step.key,
            holder.investor,
            holder.wallet,
            symbol,
            Side(step.side),
            OrderType.MARKET if limit is None else OrderType.LIMIT,
            TimeInForce(step.tif),
            quantity=None if step.quantity is None else Shares(step.quantity),
            notional=None if step.notional is None else Money(step.notional),
            limit_price=limit,
        )

    def _deposit(self, step: Step, flow: Flow) -> None:
        """Deposit once: the step's index is the deposit's idempotency key, so a retry changes nothing."""
        self.engine.deposit(self.holder(step.investor), Money(step.amount), key=f"flow-step-{step.index}")

    def _cash_out(self, step: Step) -> None:
        """Redeem or withdraw once, under the step's index as its key (as a deposit)."""
        holder, amount, key = self.holder(step.investor), Money(step.amount), f"flow-step-{step.index}"
        if step.kind is StepKind.REDEEM:
            self.engine.redeem(holder, amount, key=key)
        else:
            self.engine.withdraw(holder, WalletAddress(OUTSIDE_WALLET), amount, key=key)

    def figures(self, *, custody: bool = True) -> dict[str, Any]:
        """Return the end state as JSON-able text (``simulation.crash.Figures``).

        ``custody`` asks the broker for its positions: only at the end, since every broker call is a
        check instant of the simulator (a call the uninterrupted run did not make could fill an order).
        """
        engine, store = self.engine, self.store
        models = engine.models()
        orders = {
            str(o.order_id): {
                "key": o.request.idempotency_key,
                "state": o.state.value,
                "fills": [[f.fill_id, _num(f.shares.value), _num(f.price.amount)] for f in o.fills],
                "rejection": None if o.rejection is None else o.rejection.code,
            }
            for o in engine.orders.desk.orders()
        }
        holders: dict[str, Any] = {}
        for investor in INVESTORS:
            holder = self.holder(investor.key)
            tokens = {
                str(symbol): {
                    "ledger": str(
                        store.balance(investor_tokens(holder.investor, symbol), model.listing.token)
                    ),
                    "chain": _num(engine.token_balance(symbol, holder.wallet).value),
                }
                for symbol, model in models.items()
            }
            cash = {
                "ledger": _num(store.balance(investor_cash(holder.investor), USD)),
                "chain": _num(self.chain.stablecoin_balance(engine.stablecoin, holder.wallet).amount),
            }
            holders[investor.key] = {"tokens": tokens, "cash": cash}
        listings: dict[str, Any] = {}
        halted = engine.halted()
        for symbol in models:
            backing = engine.backing(symbol)
            listings[str(symbol)] = {
                "supply": _num(backing.chain_supply),
                "ledger_tokens": _num(backing.tokens),
                "multiplier": _num(backing.multiplier),
                "custody": _num(backing.custody),
                "in_flight": _num(backing.in_flight),
                "breaks": list(backing.breaks),
                "halted": halted.get(symbol),
                "fees": _num(store.balance(fees(models[symbol].name), USD)),
            }
        positions: dict[str, Any] = {}
        for name in BROKER_SYMBOLS if custody else ():
            broker = engine.broker(Symbol(name))
            if broker is not None:
                positions[name] = {
                    str(s): [_num(p.settled.value), _num(p.pending_in.value), _num(p.pending_out.value)]
                    for s, p in broker.positions().items()
                }
        log = engine.log
        return {
            "orders": orders,
            "holders": holders,
            "listings": listings,
            "custody": positions,
            "engine_log": {
                "fills": len(log.fills),
                "failures": list(log.failures),
                "breaks": list(log.breaks),
                # A corporate action the service could not apply (its code and sentence): it is logged
                # and retried at the next tick, so without this the first cause would be invisible.
                "action_failures": list(self.service.failures),
            },
        }

    def close(self) -> None:
        """Release the store, the chain and the broker logs."""
        for broker in self.brokers:
            broker.close()
        self.chain.close()
        self.store.close()


def child(
    directory: Path, seed: str, size: tuple[int, int], store_url: str, chain_url: str, plan: Plan
) -> int:
    """Run the flow from its first unacknowledged step; die as ``plan`` says; write the figures at the end."""
    started = time.perf_counter()
    flow = make_flow(seed, *size)
    progress = Progress(directory / "progress")
    sends = KillingDurableChain.counter = KillingRpcChain.counter = SendCounter(
        plan.nth if plan.kind == "send" else 0
    )
    killer = CommitKiller(
        plan.nth if plan.kind in ("commit", "after-commit") else 0, inside=plan.kind == "commit"
    )
    killer.install()  # it counts commits in every run (the reference's count sizes the kill points)

    armed_at = [0.0]

    def arm() -> None:
        sends.armed = killer.armed = True
        armed_at[0] = time.perf_counter()
        print(ARMED, flush=True)  # the parent's delay runs from here

    if progress.done >= flow.setup:
        arm()  # a restart: the reopening itself is a place to die too
    at = flow.steps[progress.done].at if progress.done < len(flow.steps) else SETTLED_BY
    world = World(directory, store_url, chain_url, at)
    if progress.done >= flow.setup:
        print(OPEN, flush=True)  # the engine has reopened: a delay counted from here hits the flow
    if progress.done > flow.setup:
        # Right after a restart: is what the last kill left already inconsistent? (attributes a break)
        found = consistency(world.figures(custody=False))
        with (directory / "restarts.jsonl").open("a") as checks:
            checks.write(json.dumps({"step": progress.done, "found": found}) + "\n")
    ran = 0
    counters = (directory / "counters").open("a")  # what the flow cost so far: sizes the kill points
    for step in flow.steps[progress.done :]:
        if step.index == flow.setup:
            arm()
            print(OPEN, flush=True)
        try:
            world.run(step, flow)
        except InfrastructureError as failed:
            # The store or chain failed under the step (a lock timeout on a loaded machine, an engine
            # that rolled back and must reopen): the step is not done. Exit for the parent to reopen the
            # engine, as an operator would, instead of counting the step as done.
            print(f"reopening after {failed.code}: {failed.message}", file=sys.stderr, flush=True)
            counters.close()
            return REOPEN
        progress.mark(step.index)
        elapsed = time.perf_counter() - armed_at[0] if armed_at[0] else 0.0
        counters.write(f"{step.index} {sends.sends} {killer.commits} {elapsed:.3f}\n")
        counters.flush()
        ran += step.index >= flow.setup
        if plan.kind == "stop" and ran >= plan.nth:
            counters.close()
            world.close()
            return STOPPED
    counters.close()
    figures = world.figures()
    figures["meta"] = {
        "seconds": round(time.perf_counter() - started, 2),
        "sends": sends.sends,
        "commits": killer.commits,
        "steps": len(flow.steps),
        "orders": flow.orders,
    }
    world.close()
    target = directory / "figures.json"
    target.with_suffix(".tmp").write_text(json.dumps(figures, indent=1, sort_keys=True))
    target.with_suffix(".tmp").rename(target)
    return 0


# -- the parent: kill, restart, compare ----------------------------------------------------------


@dataclass
class Trial:
    """One seed's crash run against its uninterrupted reference."""

    seed: str
    mode: str
    orders: int = 0
    kills: int = 0
    restarts: int = 0
    reopens: int = 0
    """Restarts after the engine failed under a step (a store or chain failure, not a kill)."""
    plans: list[str] = field(default_factory=list)
    mismatches: list[str] = field(default_factory=list)
    reference_problems: list[str] = field(default_factory=list)
    first_break: str = ""
    """The first kill after which a restarted child found the state inconsistent, and what it found."""
    seconds: float = 0.0


@dataclass(frozen=True, slots=True)
class Mode:
    """Where a run keeps its state: a SQLite file and the durable embedded chain, or PostgreSQL and anvil."""

    name: str  # "sqlite" or "postgres"
    postgres_url: str = ""


def _spawn(
    directory: Path, seed: str, size: tuple[int, int], store_url: str, chain_url: str, plan: Plan
) -> subprocess.Popen[bytes]:
    command = [
        sys.executable,
        "-m",
        "equitoken.harness.crash",
        "child",
        "--dir",
        str(directory),
        "--seed",
        seed,
        "--orders",
        str(size[0]),
        "--tick-hours",
        str(size[1]),
        "--store-url",
        store_url,
        "--chain-url",
        chain_url,
        "--plan",
        json.dumps(asdict(plan)),
    ]
    # stderr goes to a file: a pipe nobody reads would block a child that logs a lot.
    with (directory / "child-stderr.log").open("ab") as errors:
        return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=errors)


def _wait(process: subprocess.Popen[bytes], plan: Plan, timeout: float) -> int:
    """Wait for the child (killed ``plan.seconds`` after its marker line, for a delay); return its code."""
    assert process.stdout is not None
    deadline = time.monotonic() + timeout
    kill_at: float | None = None
    start = (ARMED if plan.reopening else OPEN).encode()
    seen = b""
    fd = process.stdout.fileno()
    with selectors.DefaultSelector() as selector:
        selector.register(fd, selectors.EVENT_READ)
        while process.poll() is None:
            now = time.monotonic()
            if now > deadline:
                process.kill()
                break
            if kill_at is not None and now >= kill_at:
                process.send_signal(signal.SIGKILL)
                break
            wait = 0.05 if kill_at is None else max(0.0, min(0.05, kill_at - now))
            if selector.select(wait):
                seen += os.read(fd, 4096)  # raw reads: no buffer can hide a marker from select()
                if plan.kind == "delay" and kill_at is None and start in seen.split(b"\n"):
                    kill_at = time.monotonic() + plan.seconds
    return process.wait()


@contextlib.contextmanager
def _backing_services(mode: Mode, label: str) -> Iterator[tuple[str, str, Any]]:
    """Yield (store URL, chain URL, cleanup) for one run: a SQLite file, or a fresh schema and anvil."""
    if mode.name == "sqlite":
        yield "", "", None
        return
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    from equitoken.adapters.chain.anvil import AnvilNode

    schema = f"crash_{label}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(make_url(mode.postgres_url).set(drivername="postgresql+psycopg"))
    with admin.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    url = make_url(mode.postgres_url).set(drivername="postgresql+psycopg")
    url = url.update_query_dict({"options": f"-csearch_path={schema}"})
    # The node starts at the flow's genesis (2012): the engine moves block time up to its clock, never back.
    node = AnvilNode(extra_args=("--timestamp", str(int(GENESIS.timestamp())))).start()
    try:
        yield url.render_as_string(hide_password=False), node.url, node
    finally:
        node.stop()
        with admin.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        admin.dispose()


def _run_to_end(
    directory: Path,
    seed: str,
    size: tuple[int, int],
    mode: Mode,
    plans: Iterator[Plan],
    trial: Trial,
    timeout: float,
) -> dict[str, Any] | None:
    """Run children until the flow completes, each dying by the next plan; return the figures."""
    pending: list[str] = []  # kills whose restart has not been checked yet
    with _backing_services(mode, "run") as (store_url, chain_url, _):
        store_url = store_url or f"sqlite:///{directory / 'equitoken.db'}"
        while True:
            _attribute(directory, pending, trial)
            plan = next(plans)
            code = _wait(_spawn(directory, seed, size, store_url, chain_url, plan), plan, timeout)
            if code == 0:
                break
            if code == REOPEN:
                trial.restarts += 1
                trial.reopens += 1
                if trial.reopens > MAX_REOPENS:  # a failure that does not go away is not a crash test
                    trial.mismatches.append(f"the engine failed under a step {trial.reopens} times")
                    return None
                continue
            if code == STOPPED:
                trial.restarts += 1
                trial.plans.append(f"{plan.label()} at step {_done(directory)}")
                pending.append(trial.plans[-1])
                continue
            if code == -signal.SIGKILL:
                trial.kills += 1
                trial.restarts += 1
                trial.plans.append(f"{plan.label()} at step {_done(directory)}")
                pending.append(trial.plans[-1])
                continue
            errors = (directory / "child-stderr.log").read_text(errors="replace")
            tail = " | ".join(errors.strip().splitlines()[-4:])
            trial.mismatches.append(
                f"child failed (exit {code}) under {plan.label()} at step {_done(directory)}: {tail}"
            )
            return None
    _attribute(directory, pending, trial)
    return dict(json.loads((directory / "figures.json").read_text()))


def _attribute(directory: Path, pending: list[str], trial: Trial) -> None:
    """Name the kill after which the state was first found inconsistent (read from the restart checks)."""
    path = directory / "restarts.jsonl"
    if not pending or not path.exists() or trial.first_break:
        pending.clear()
        return
    lines = path.read_text().splitlines()
    if lines:
        found = json.loads(lines[-1])["found"]
        if found:
            trial.first_break = f"after kill '{pending[-1]}': {found[0]}" + (
                f" (+{len(found) - 1} more)" if len(found) > 1 else ""
            )
    pending.clear()


def _done(directory: Path) -> int:
    path = directory / "progress"
    return len(path.read_text().splitlines()) if path.exists() else 0


def run_trial(
    seed: str,
    size: tuple[int, int],
    kills: int,
    mode: Mode,
    root: Path,
    timeout: float = 600,
    *,
    clean: bool = False,
) -> Trial:
    """Play ``seed`` uninterrupted, then with ``kills`` kills; compare (see the module doc)."""
    started = time.perf_counter()
    trial = Trial(seed, mode.name, orders=make_flow(seed, *size).orders)
    reference_dir, crash_dir = root / f"{seed}-reference", root / f"{seed}-crash"
    for directory in (reference_dir, crash_dir):
        shutil.rmtree(directory, ignore_errors=True)
        directory.mkdir(parents=True)
    reference = _run_to_end(reference_dir, seed, size, mode, iter(lambda: Plan(), None), trial, timeout)
    if reference is None:
        trial.reference_problems = trial.mismatches
        trial.mismatches = []
        trial.seconds = round(time.perf_counter() - started, 2)
        return trial
    meta = reference.pop("meta")
    trial.reference_problems = consistency(reference)
    rng = random.Random(f"crash-kills:{seed}:{mode.name}")
    total_steps = int(meta["steps"])
    # What was left of the uninterrupted run after each step: the sends, commits and seconds a kill
    # point is drawn from, so that it falls inside what a restarted child still has to do.
    after: dict[int, tuple[int, int, float]] = {}
    for line in (reference_dir / "counters").read_text().splitlines():
        index, sends, commits, seconds = line.split()
        after[int(index)] = (int(sends), int(commits), float(seconds))
    total = after.get(total_steps - 1, (1, 1, 1.0))

    def remaining() -> tuple[int, int, float]:
        done = after.get(_done(crash_dir) - 1, (0, 0, 0.0))
        return (
            max(1, total[0] - done[0]),
            max(1, total[1] - done[1]),
            max(0.1, total[2] - done[2]),
        )

    def stops() -> Iterator[Plan]:
        # The control: ``kills`` clean restarts at random steps, no kill (a mismatch is a restart bug).
        for _ in range(kills):
            yield Plan("stop", nth=rng.randint(1, max(1, int((total_steps - _done(crash_dir)) * 0.8))))
        while True:
            yield Plan()

    def plans() -> Iterator[Plan]:
        # Draw kill points until ``kills`` runs died (one drawn past the end of the flow kills no one),
        # giving up after three times as many tries; then run to the end.
        tries = 0
        while trial.kills < kills and tries < 3 * kills:
            tries += 1
            # Spread the kills over the flow: each one aims within its share of what is left.
            share = 1.5 / max(1, kills - trial.kills)
            left_sends, left_commits, left_seconds = remaining()
            sends, commits = max(1, int(left_sends * share)), max(1, int(left_commits * share))
            seconds = left_seconds * share
            kind = rng.choice(["delay", "delay", "send", "send", "commit", "after-commit"])
            if kind == "delay" and rng.random() < 0.25:  # die while the engine reopens
                yield Plan(kind, seconds=rng.uniform(0.0, 1.5), reopening=True)
            elif kind == "delay":
                yield Plan(kind, seconds=rng.uniform(0.0, seconds))
            elif kind == "send":
                yield Plan(kind, nth=rng.randint(1, sends))
            else:
                yield Plan(kind, nth=rng.randint(1, commits))
        while True:
            yield Plan()

    crashed = _run_to_end(crash_dir, seed, size, mode, stops() if clean else plans(), trial, timeout)
    if crashed is not None:
        crashed.pop("meta")
        # The breaks the engine logged are of the instants its checks ran, and kills move those
        # instants: a transient break (a reinvestment's shares in flight one check before its
        # multiplier applies) may be logged by one run and not the other. What lasts is compared — the
        # end state's consistency, and the restart checks after every kill.
        for figures in (reference, crashed):
            figures["engine_log"].pop("breaks", None)
            figures["engine_log"].pop("action_failures", None)  # per process: a restart starts afresh
        trial.mismatches.extend(f"consistency: {m}" for m in consistency(crashed))
        trial.mismatches.extend(f"vs uninterrupted: {m}" for m in differences(reference, crashed))
    trial.seconds = round(time.perf_counter() - started, 2)
    return trial


def summary(trials: Sequence[Trial]) -> dict[str, Any]:
    """Return the figures over all trials."""
    return {
        "trials": len(trials),
        "kills": sum(t.kills for t in trials),
        "restarts": sum(t.restarts for t in trials),
        "reopens": sum(t.reopens for t in trials),
        "orders": sum(t.orders for t in trials),
        "mismatches": sum(len(t.mismatches) for t in trials),
        "trials_with_mismatches": sum(1 for t in trials if t.mismatches),
        "reference_problems": sum(len(t.reference_problems) for t in trials),
        "seconds": round(sum(t.seconds for t in trials), 2),
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Run the harness (or, with ``child``, one child run); see the module doc."""
    parser = argparse.ArgumentParser(
        prog="python -m equitoken.harness.crash", description=__doc__.split("\n")[0]
    )
    sub = parser.add_subparsers(dest="command")
    one = sub.add_parser("child", help="one run of the engine (used by the parent)")
    one.add_argument("--dir", type=Path, required=True)
    one.add_argument("--seed", required=True)
    one.add_argument("--orders", type=int, required=True)
    one.add_argument("--tick-hours", type=int, default=3)
    one.add_argument("--store-url", default="")
    one.add_argument("--chain-url", default="")
    one.add_argument("--plan", default="{}")
    parser.add_argument("--seeds", type=int, default=5, help="how many seeds (flows) to play")
    parser.add_argument("--first-seed", type=int, default=1)
    parser.add_argument("--kills", type=int, default=8, help="kills per seed")
    parser.add_argument("--orders", type=int, default=40, help="random orders per flow")
    parser.add_argument("--tick-hours", type=int, default=3, help="hours between two ticks of the clock")
    parser.add_argument("--mode", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("EQUITOKEN_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"),
    )
    parser.add_argument(
        "--clean-restarts",
        action="store_true",
        help="the control: stop and restart the engine cleanly between steps instead of killing it",
    )
    parser.add_argument(
        "--work", type=Path, default=None, help="where runs keep their files (default: a temp dir)"
    )
    parser.add_argument("--report", type=Path, default=None, help="write the JSON report here")
    args = parser.parse_args(argv)
    if args.command == "child":
        plan = Plan(**json.loads(args.plan))
        return child(
            args.dir, args.seed, (args.orders, args.tick_hours), args.store_url, args.chain_url, plan
        )
    root = args.work or Path(tempfile.mkdtemp(prefix="eqt-crash-"))
    mode = Mode(args.mode, args.postgres_url)
    trials: list[Trial] = []
    for number in range(args.first_seed, args.first_seed + args.seeds):
        trial = run_trial(
            f"s{number}", (args.orders, args.tick_hours), args.kills, mode, root, clean=args.clean_restarts
        )
        trials.append(trial)
        print(
            f"[{mode.name}] seed {trial.seed}: {trial.orders} orders, {trial.kills} kills, "
            f"{trial.restarts} restarts ({trial.reopens} reopens), {len(trial.mismatches)} mismatches, "
            f"{trial.seconds}s",
            flush=True,
        )
        for problem in trial.reference_problems:
            print(f"    reference: {problem}", flush=True)
        for mismatch in trial.mismatches[:20]:
            print(f"    {mismatch}", flush=True)
        if trial.mismatches:
            print(f"    kill points: {'; '.join(trial.plans)}", flush=True)
            if trial.first_break:
                print(f"    first break: {trial.first_break}", flush=True)
    figures = summary(trials)
    print(f"[{mode.name}] " + ", ".join(f"{k} {v}" for k, v in figures.items()), flush=True)
    if args.report is not None:
        args.report.write_text(
            json.dumps({"summary": figures, "trials": [asdict(t) for t in trials]}, indent=1)
        )
    if args.work is None:
        shutil.rmtree(root, ignore_errors=True)
    return 1 if figures["mismatches"] or figures["reference_problems"] else 0


if __name__ == "__main__":
    sys.exit(main())
