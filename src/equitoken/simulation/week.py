"""The scripted week: three stocks, three models, one engine, Thanksgiving week 2012 on real prices.

``make demo`` runs this on the embedded defaults: its own SQLite file, the in-process EVM, the
simulated broker over the bundled real history, and the real XNYS calendar — the production engine on
a manual clock, not a second implementation. The week has everything the models differ on:

- Monday 2012-11-19 and Tuesday: regular sessions, and a Monday evening;
- Wednesday night, then Thanksgiving Thursday (the exchange is closed all day);
- Friday 2012-11-23: an early close at 13:00 ET, then an afternoon and evening off-hours;
- the weekend, and Monday 2012-11-26's open, where the weekend's price gap meets the hedges;
- then time runs on to Thursday so every broker trade settles (T+3 in 2012).

The script fixes *when* things happen and who may trade; a seeded random generator picks the flow
(who orders what, how much, when in each period). A different seed changes the flow and the figures,
never the invariants: every command is followed by the engine's reserve check, and every close by a
reconciliation of the chain, the ledger and the custodian (a break would halt minting for that listing).

Every figure in the report comes from the engine: orders and fills from the order desk, capital and
P&L from the models over the ledger, fees from the ledger, the AMM answer from a real swap attempt on
a snapshot of the chain (reverted afterwards, so the probe leaves no trace).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from equitoken.adapters.chain.factory import build_chain
from equitoken.adapters.chain.keys import DeterministicKeyRing
from equitoken.adapters.clock import ManualClock
from equitoken.adapters.store.sql import SqlStore
from equitoken.app.attestation import attest
from equitoken.app.bootstrap import bootstrap, ensure_data_dir
from equitoken.app.issuance import IssuanceEngine, ModelBuilder, open_engine
from equitoken.app.package_dir import check_target
from equitoken.app.programmes import default_builders
from equitoken.app.reserves import ReservesService
from equitoken.app.settings import Settings
from equitoken.app.trustee import Trustee, load_trustee
from equitoken.compliance.actions import Regulation
from equitoken.compliance.investors import InvestorCategory, PersonKind
from equitoken.compliance.kyc import KycState
from equitoken.domain.chains import TRUSTEE_LABEL
from equitoken.domain.errors import DomainError
from equitoken.domain.ids import InvestorId, Symbol
from equitoken.domain.trading import OrderType, Side
from equitoken.domain.values import Money, Price, Shares
from equitoken.issuance.models import ModelName
from equitoken.issuance.models.base import Holder
from equitoken.issuance.models.books import USD, fees
from equitoken.issuance.orders import OrderRequest, OrderState, TimeInForce
from equitoken.issuance.scorecard import ModelScore, score
from equitoken.reserves.reconciliation import Reconciliation

NEW_YORK = ZoneInfo("America/New_York")
DEFAULT_SEED = "equitoken"
ISSUER_PRICE_DISCOUNT = Decimal("0.995")
"""Direct primary issuance is priced at the reference less 0.5 % (an issuer's placement discount)."""


def ny(day: date, hour: int, minute: int = 0) -> datetime:
    """Return a New York wall-clock instant on ``day`` in UTC."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=NEW_YORK).astimezone(UTC)


MON, TUE, WED, THU, FRI = (date(2012, 11, d) for d in (19, 20, 21, 22, 23))
SAT, SUN, NEXT_MON = date(2012, 11, 24), date(2012, 11, 25), date(2012, 11, 26)
SETTLED_BY = ny(date(2012, 11, 29), 10, 0)
"""Thursday after: Monday 26's trades have settled (T+3), so every share is in custody."""


@dataclass(frozen=True, slots=True)
class Period:
    """A stretch of the week and how many random orders fall in it."""

    label: str
    start: datetime
    end: datetime
    orders: int


PERIODS: tuple[Period, ...] = (
    Period("Mon 11-19 session", ny(MON, 9, 45), ny(MON, 15, 45), 20),
    Period("Mon 11-19 evening", ny(MON, 17, 0), ny(MON, 21, 0), 12),
    Period("Tue 11-20 session", ny(TUE, 9, 45), ny(TUE, 15, 45), 16),
    Period("Wed 11-21 night", ny(WED, 20, 0), ny(WED, 23, 30), 10),
    Period("Thu 11-22 Thanksgiving (closed)", ny(THU, 10, 0), ny(THU, 16, 0), 10),
    Period("Fri 11-23 early-close session", ny(FRI, 9, 45), ny(FRI, 12, 45), 12),
    Period("Fri 11-23 after the early close", ny(FRI, 13, 30), ny(FRI, 19, 0), 10),
    Period("weekend 11-24/25", ny(SAT, 10, 0), ny(SUN, 20, 0), 16),
    Period("Mon 11-26 open after the gap", ny(NEXT_MON, 9, 31), ny(NEXT_MON, 11, 0), 12),
)

LISTINGS: tuple[tuple[str, ModelName, str], ...] = (
    ("AAPL", ModelName.INVENTORY, "tracker-certificate"),
    ("MSFT", ModelName.INSTANT, "instant-execution"),
    ("KO", ModelName.DIRECT, "direct-ownership"),
)


@dataclass(frozen=True, slots=True)
class Prospect:
    """An investor the script tries to onboard."""

    key: str
    name: str
    residence: str
    category: InvestorCategory
    us_person: bool = False
    kind: PersonKind = PersonKind.NATURAL_PERSON
    kyc: KycState = KycState.VERIFIED
    nationality: str | None = None
    cash: str = "250000"
    kyc_reason: str = ""
    whitelist: bool = False
    """Whitelisted by the transfer agent for the direct-ownership listing."""
    legacy_ko: str | None = None
    """KO shares already on the register from an earlier offering (acquired two years back)."""


PROSPECTS: tuple[Prospect, ...] = (
    Prospect("anna", "Anna Becker", "DE", InvestorCategory.PROFESSIONAL, whitelist=True, legacy_ko="400"),
    Prospect("chloe", "Chloe Martin", "CH", InvestorCategory.RETAIL),
    Prospect(
        "dev",
        "Dev Capital Pte Ltd",
        "SG",
        InvestorCategory.INSTITUTIONAL,
        kind=PersonKind.ENTITY,
        whitelist=True,
        legacy_ko="600",
    ),
    Prospect("emma", "Emma Rossi", "IT", InvestorCategory.ELECTIVE_PROFESSIONAL, whitelist=True),
    Prospect(
        "ben",
        "Ben Carter",
        "US",
        InvestorCategory.ACCREDITED,
        us_person=True,
        whitelist=True,
        legacy_ko="300",
    ),
    Prospect("kenji", "Kenji Sato", "JP", InvestorCategory.RETAIL),
    Prospect("omid", "Omid Karimi", "IR", InvestorCategory.PROFESSIONAL),
    Prospect("pat", "Pat Moreau", "FR", InvestorCategory.PROFESSIONAL, kyc=KycState.PENDING),
    Prospect("sam", "Sam Doyle", "US", InvestorCategory.RETAIL, us_person=False),
    Prospect(
        "rita",
        "Rita Okafor",
        "NG",
        InvestorCategory.PROFESSIONAL,
        kyc=KycState.REJECTED,
        kyc_reason="proof of address does not match the declared residence",
    ),
)
"""Several jurisdictions, and some who cannot trade: a US resident declared non-US (refused at
onboarding, Regulation S Rule 902(k)), a rejected KYC, a pending KYC, a resident of a sanctioned
country (refused at order time). A US accredited investor may hold only the direct-ownership share."""


@dataclass(frozen=True, slots=True)
class OnboardingRow:
    """How one prospect's onboarding went."""

    investor: str
    residence: str
    category: str
    onboarded: bool
    detail: str


@dataclass(frozen=True, slots=True)
class WeekReport:
    """What the week did, per model, with the checks that ran."""

    seed: str
    start: datetime
    end: datetime
    timezone: str
    listings: dict[str, str]
    investors: list[OnboardingRow]
    models: dict[str, ModelScore]
    rejections: dict[str, int]
    orders: int
    invariant_checks: int
    invariant_breaks: list[str]
    failures: list[str]
    gap: dict[str, str]
    reconciliations: int
    reconciliation_breaks: list[str]
    collateral: dict[str, str]
    """Final collateral ratio per symbol: (custody + in flight) ÷ (supply × multiplier)."""
    attestation: dict[str, str] | None
    elapsed_seconds: Decimal
    periods: list[str] = field(default_factory=list)


def demo_week_database(settings: Settings) -> Path:
    """Return the week's own SQLite file: the demo never writes to the configured database."""
    return settings.data_dir / "demo-week.db"


def _reset(database: Path) -> None:
    ensure_data_dir(database.parent)
    for leftover in (database, Path(f"{database}-wal"), Path(f"{database}-shm")):
        leftover.unlink(missing_ok=True)


def model_builders() -> dict[ModelName, ModelBuilder]:
    """Return the week's model settings: the default programme's (``app.programmes``)."""
    return default_builders()


class Week:
    """One run of the script over a fresh engine (restarted at every period's end if asked)."""

    def __init__(
        self,
        settings: Settings,
        seed: str,
        attest_to: Path | None = None,
        trustee: Trustee | None = None,
        *,
        restart_at_periods: bool = False,
    ) -> None:
        # Where the package goes and the key that signs it are checked before the week is played,
        # not after: a wrong --out or a bad key file must not cost a whole run.
        if attest_to is not None:
            check_target(attest_to)
            trustee = trustee or load_trustee(settings)
        self.trustee = trustee
        self.restart_at_periods = restart_at_periods
        self.restarts = 0
        self._checks_before = 0
        """Invariant checks the engines before the last restart made (the count is not journaled)."""
        self.database = demo_week_database(settings)
        self.seed = seed
        self.attest_to = attest_to
        self.settings = settings
        self.rng = random.Random(seed)
        self.clock = ManualClock(ny(MON, 8, 0))
        _reset(self.database)
        self.store = SqlStore.open(f"sqlite:///{self.database}")
        platform = bootstrap(
            settings,
            self.clock,
            store=self.store,
            chain=build_chain("", settings.chain_seed, genesis=self.clock.now()),  # always embedded
            # the one in-process EVM outlives each engine, as a node would
            chain_kept=True if restart_at_periods else None,
        )
        self.platform = platform
        self.engine = open_engine(platform)
        self.desk = self.engine.desk
        self.reserves = ReservesService(self.engine)
        self.reconciliations: list[Reconciliation] = []
        self.holders: dict[str, Holder] = {}
        self.onboarding: list[OnboardingRow] = []
        self._keys = 0

    # -- the script ----------------------------------------------------------------------------

    def run(self) -> WeekReport:
        """Play the week and return the report."""
        started = time.perf_counter()
        builders = model_builders()
        for symbol, model, policy in LISTINGS:
            self.engine.list_stock(Symbol(symbol), model, policy, builders[model])
        for prospect in PROSPECTS:
            self._onboard(prospect)
        self._register_legacy_ko()
        events = self._timeline()
        for at, action in events:
            self.clock.set(at)
            action()
        self.clock.set(SETTLED_BY)
        self.engine.tick()
        self.engine.check()
        self._reconcile()
        self.attestation = None if self.attest_to is None else self._attest(self.attest_to)
        report = self._report(started)
        self.store.close()
        return report

    def _timeline(self) -> list[tuple[datetime, Callable[[], None]]]:
        """Return every tick and scripted or random step of the week, in time order.

        A tick runs at each open and close (one minute after, so the session has turned) and every
        three hours around the clock; every other step is preceded by a tick at its own instant, so
        the engine always acts on a world brought up to date.
        """
        events: list[tuple[datetime, int, Callable[[], None]]] = []
        calendar = self.platform.calendar
        for day in calendar.trading_days(MON, NEXT_MON):
            open_, close = calendar.session_bounds(day)
            for moment in (open_ + timedelta(minutes=1), close + timedelta(minutes=1)):
                events.append((moment, 0, self._tick))
            events.append((close + timedelta(minutes=2), 1, self._after_tick(self._reconcile)))
        for hour in range(0, 24 * 8, 3):  # the platform's clock never stops
            events.append((ny(MON, 9, 0) + timedelta(hours=hour), 0, self._tick))
        scripted: list[tuple[datetime, Callable[[], None]]] = [
            (ny(MON, 9, 40), self._post_resting_ko_sells),
            (ny(WED, 11, 0), self._primary_ko_issue),
            (ny(FRI, 9, 40), self._post_resting_ko_sells),
        ]
        if self.restart_at_periods:
            events.extend((period.end, 2, self._restart) for period in PERIODS)
        for period in PERIODS:
            span = (period.end - period.start).total_seconds()
            for _ in range(period.orders):
                at = period.start + timedelta(seconds=int(self.rng.uniform(0, span)))
                scripted.append((at, self._random_order))
        for at, step in scripted:
            events.append((at, 1, self._after_tick(step)))
        events.sort(key=lambda e: (e[0], e[1]))
        return [(at, action) for at, _, action in events]

    def _tick(self) -> None:
        self.engine.tick()

    def _restart(self) -> None:
        """Stop the engine and start a new one as the app would: same database file, chain and broker.

        Only what a process keeps outside itself survives: the SQLite file (reopened), the chain (a
        node; here the one in-process EVM) and the broker accounts (the simulated broker's own
        state, as a real broker keeps its orders). Market data adapters are reused (they hold none).
        """
        old, platform = self.engine, self.platform
        accounts = iter([b for b in (old.broker(s) for s in old.models()) if b is not None])
        self._checks_before += old.log.checks
        self.store.close()
        self.store = SqlStore.open(f"sqlite:///{self.database}")
        fresh = bootstrap(
            self.settings,
            self.clock,
            store=self.store,
            chain=old.chain,
            chain_kept=True,
            calendar=platform.calendar,
            prices=platform.prices,
        )
        self.platform = fresh
        self.engine = open_engine(fresh, brokers=lambda _symbol: next(accounts), builders=model_builders())
        self.desk = self.engine.desk
        self.reserves = ReservesService(self.engine)
        self.restarts += 1

    def _attest(self, directory: Path) -> dict[str, str]:
        """Publish the end-of-week attestation: signed, roots posted on chain, files written."""
        chain = self.engine.chain
        assert self.trustee is not None  # loaded with attest_to, before the week
        trustee = self.trustee.for_chain(chain.chain_id)
        if trustee.address != chain.wallet(TRUSTEE_LABEL):
            # The operator's key posts the roots too: the chain adapter must be able to sign with it.
            ring = chain.keyring
            if not isinstance(ring, DeterministicKeyRing):
                raise DomainError("UNSUPPORTED", "this key ring cannot hold the operator's trustee key")
            ring.import_key("operator:trustee", trustee.private_key)
        registry = chain.deploy_reserve_registry(trustee.address)
        package = attest(self.engine, self.reserves, trustee, registry=registry)
        written = package.write(directory)
        return {
            "document": str(written[0]),
            "chain_id": str(chain.chain_id),
            "as_of_block": str(package.signed.attestation.as_of_block),
            "signer": package.signed.signer.value,
            "registry": registry.value,
            "document_hash": package.document_hash,
            "trustee_key": self.trustee.origin,
        }

    def _reconcile(self) -> None:
        """The daily reconciliation after the close: chain, ledger and custodian, per listing."""
        self.reconciliations.extend(self.reserves.reconcile_all())

    def _after_tick(self, step: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            self.engine.tick()
            step()

        return run

    # -- investors -----------------------------------------------------------------------------

    def _onboard(self, prospect: Prospect) -> None:
        try:
            holder = self.engine.onboard(
                InvestorId(f"inv-{prospect.key}"),
                name=prospect.name,
                residence=prospect.residence,
                nationality=prospect.nationality,
                category=prospect.category,
                us_person=prospect.us_person,
                kind=prospect.kind,
                kyc=prospect.kyc,
                kyc_reason=prospect.kyc_reason,
            )
        except DomainError as refused:
            self.onboarding.append(
                OnboardingRow(prospect.key, prospect.residence, prospect.category.value, False, str(refused))
            )
            return
        self.engine.deposit(holder, Money(prospect.cash))
        self.holders[prospect.key] = holder
        if prospect.whitelist:
            self.desk.whitelist(Symbol("KO"), [holder.investor])
        state = "verified" if prospect.kyc is KycState.VERIFIED else f"KYC {prospect.kyc.value}"
        if prospect.kyc_reason:
            state += f": {prospect.kyc_reason}"
        self.onboarding.append(
            OnboardingRow(prospect.key, prospect.residence, prospect.category.value, True, state)
        )

    def _register_legacy_ko(self) -> None:
        """Put the earlier offering's KO holders on the register (two years back: lockups have passed)."""
        acquired = datetime(2010, 11, 1, tzinfo=UTC)
        price = self._reference("KO")
        for prospect in PROSPECTS:
            holder = self.holders.get(prospect.key)
            if holder is None or prospect.legacy_ko is None:
                continue
            regulation = Regulation.REG_D if prospect.us_person else Regulation.REG_S
            self.engine.issue_primary(
                Symbol("KO"),
                holder,
                Shares(prospect.legacy_ko),
                price,
                acquired_at=acquired,
                regulation=regulation,
            )

    def _primary_ko_issue(self) -> None:
        """The issuer places new KO shares with a whitelisted investor mid-week (Regulation S)."""
        holder = self.holders.get("emma")
        if holder is None:
            return
        price = Price.rounded(self._reference("KO").amount * ISSUER_PRICE_DISCOUNT)
        self.engine.issue_primary(Symbol("KO"), holder, Shares("200"), price, regulation=Regulation.REG_S)

    def _post_resting_ko_sells(self) -> None:
        """Existing KO holders offer part of their position on the ATS, a little above the reference."""
        reference = self._reference("KO").amount
        for key, premium, shares in (("dev", "1.002", "60"), ("anna", "1.004", "40"), ("ben", "1.003", "25")):
            holder = self.holders.get(key)
            if holder is None:
                continue
            limit = Price.rounded(reference * Decimal(premium))
            self._submit(holder, "KO", Side.SELL, Shares(shares), None, limit, TimeInForce.GTC)

    # -- random flow ---------------------------------------------------------------------------

    def _random_order(self) -> None:
        rng = self.rng
        # Most flow comes from investors who can trade something; the rest shows the refusals.
        keys = sorted(self.holders)
        weights = [1 if self._blocked(key) else 4 for key in keys]
        key = rng.choices(keys, weights)[0]
        holder = self.holders[key]
        symbol = rng.choice(["AAPL", "MSFT", "KO"])
        held = self.engine.token_balance(Symbol(symbol), holder.wallet).value
        side = Side.SELL if held > 0 and rng.random() < 0.35 else Side.BUY
        reference = self._reference(symbol).amount
        if symbol == "KO":  # the ATS: limit orders around the reference, or a market order
            shares = Shares(rng.randint(5, 40))
            if side is Side.SELL:
                shares = Shares(min(shares.value, held))
            if rng.random() < 0.25:
                self._submit(holder, symbol, side, shares, None, None, TimeInForce.IOC)
                return
            move = Decimal(rng.randint(-4, 8)) / Decimal(1000)
            limit = Price.rounded(reference * (1 + move if side is Side.BUY else 1 - move))
            self._submit(holder, symbol, side, shares, None, limit, TimeInForce.DAY)
            return
        if side is Side.SELL:
            part = Decimal(rng.randint(30, 100)) / Decimal(100)
            shares = Shares.rounded_down(held * part)
            if shares.is_zero():
                return
            self._submit(holder, symbol, side, shares, None, None, TimeInForce.DAY)
        elif rng.random() < 0.4:
            self._submit(holder, symbol, side, None, Money(rng.randint(500, 6000)), None, TimeInForce.DAY)
        else:
            self._submit(holder, symbol, side, Shares(rng.randint(1, 40)), None, None, TimeInForce.DAY)

    def _blocked(self, key: str) -> bool:
        prospect = next(p for p in PROSPECTS if p.key == key)
        return prospect.kyc is not KycState.VERIFIED or prospect.residence in {"IR", "KP", "CU", "SY"}

    def _submit(
        self,
        holder: Holder,
        symbol: str,
        side: Side,
        shares: Shares | None,
        notional: Money | None,
        limit: Price | None,
        tif: TimeInForce,
    ) -> None:
        if shares is not None and shares.is_zero():
            return
        self._keys += 1
        request = OrderRequest(
            "demo-week",
            f"{self.seed}-{self._keys}",
            holder.investor,
            holder.wallet,
            Symbol(symbol),
            side,
            OrderType.MARKET if limit is None else OrderType.LIMIT,
            tif,
            quantity=shares,
            notional=notional,
            limit_price=limit,
        )
        self.engine.submit(request)

    def _reference(self, symbol: str) -> Price:
        return self.platform.prices.reference_price(Symbol(symbol), self.clock.now()).price

    # -- report --------------------------------------------------------------------------------

    def _report(self, started: float) -> WeekReport:
        orders = list(self.engine.orders.desk.orders())
        log = self.engine.log
        scores: dict[str, ModelScore] = {}
        for symbol, model in self.engine.models().items():
            mine = [o for o in orders if o.request.symbol == symbol]
            fills = [r.fill for r in log.fills if r.symbol == symbol]
            failed = frozenset(o.order_id for o in mine if o.order_id in log.failed_orders)
            scores[model.name.value] = score(
                model.name,
                symbol.value,
                mine,
                fills,
                failed=failed,
                capital_locked=model.capital_locked(),
                pnl=model.pnl(),
                fees=Money(self.store.balance(fees(model.name), USD)),
                amm=amm_probe(self.engine, symbol, self.holders),
                invariants_ok=self.engine.invariants_ok and all(b.holds for b in self.engine.check()),
            )
        rejections: dict[str, int] = {}
        for order in orders:
            if order.state is OrderState.REJECTED and order.rejection is not None:
                rejections[order.rejection.code] = rejections.get(order.rejection.code, 0) + 1
        return WeekReport(
            seed=self.seed,
            start=ny(MON, 8, 0),
            end=SETTLED_BY,
            timezone="America/New_York",
            listings={symbol: model.value for symbol, model, _ in LISTINGS},
            investors=self.onboarding,
            models=scores,
            rejections=dict(sorted(rejections.items())),
            orders=len(orders),
            invariant_checks=self._checks_before + log.checks,
            invariant_breaks=list(log.breaks),
            failures=list(log.failures),
            gap=self._gap(),
            reconciliations=len(self.reconciliations),
            reconciliation_breaks=[
                f"{r.sources.at.isoformat()} {r.sources.symbol}: {b}"
                for r in self.reconciliations
                for b in r.breaks
            ],
            collateral={
                r.sources.symbol: "n/a" if r.collateral_ratio is None else str(r.collateral_ratio)
                for r in self.reconciliations[-len(LISTINGS) :]
            },
            attestation=self.attestation,
            elapsed_seconds=Decimal(f"{time.perf_counter() - started:.2f}"),
            periods=[p.label for p in PERIODS],
        )

    def _gap(self) -> dict[str, str]:
        """Return each symbol's Friday close and Monday open: the weekend gap the hedges met."""
        prices = self.platform.prices
        found: dict[str, str] = {}
        for symbol, _, _ in LISTINGS:
            friday = prices.bars(Symbol(symbol), FRI, FRI)[0]
            monday = prices.bars(Symbol(symbol), NEXT_MON, NEXT_MON)[0]
            found[symbol] = f"{friday.close} → {monday.open}"
        return found


def amm_probe(engine: IssuanceEngine, symbol: Symbol, holders: dict[str, Holder]) -> tuple[bool, str]:
    """Try the composability test on a chain snapshot: can a non-KYC wallet swap the token in an AMM pool?

    The largest holder seeds a constant-product pool with one token and its cash value; a fresh wallet
    that no investor owns buys a little through the pool. Everything is reverted afterwards.
    """
    chain = engine.chain
    dev = chain.dev
    if dev is None:
        return False, "not probed: the chain is not a development chain (no snapshot to revert)"
    listing = engine.model(symbol).listing
    instrument = listing.instrument
    balances = chain.balances_at(instrument.token, chain.block_number())
    if not balances:
        return False, "no holder to seed a pool"
    provider, held = max(balances.items(), key=lambda item: (item[1].value, item[0].value))
    seed_tokens = instrument.amount(min(held.value, Decimal(1)))
    price = engine.prices.reference_price(symbol, engine.clock.now()).price
    snapshot = dev.snapshot()
    try:
        pool = chain.deploy_pool(instrument, listing.stablecoin)
        cash = Money.rounded(price.amount * seed_tokens.value)
        chain.mint_stablecoin(listing.stablecoin, provider, cash)
        try:
            chain.add_liquidity(pool, provider, seed_tokens, cash)
        except DomainError as refused:
            return False, f"the pool cannot hold the token: {refused.code}"
        outsider = chain.wallet("amm-probe:outsider")
        chain.mint_stablecoin(listing.stablecoin, outsider, Money("10"))
        try:
            chain.swap(pool, outsider, Money("10"), deadline=chain.block_time() + timedelta(minutes=5))
        except DomainError as refused:
            return False, f"a non-KYC wallet cannot buy through the pool: {refused.code}"
        bought = chain.balance_of(instrument.token, outsider).value
        return bought > 0, f"a non-KYC wallet bought {bought.normalize()} tokens for 10 USD through the pool"
    finally:
        dev.revert(snapshot)


def run_week(
    settings: Settings,
    seed: str = DEFAULT_SEED,
    attest_to: Path | None = None,
    trustee: Trustee | None = None,
    *,
    restart_at_periods: bool = False,
) -> WeekReport:
    """Run the scripted week with ``seed`` and return its report; attest at the end into ``attest_to``.

    With ``attest_to``, the directory and the trustee key (``trustee``, else the configured one) are
    checked before the week is played. ``restart_at_periods`` stops the engine at the end of every
    period and starts a new one over the same database, chain and broker accounts: the report must come
    out the same.
    """
    if not seed.strip():
        raise DomainError("INVALID_SEED", "the seed must not be empty")
    return Week(settings, seed, attest_to, trustee, restart_at_periods=restart_at_periods).run()


def attestation_dir(settings: Settings) -> Path:
    """Return where the week publishes its end-of-week attestation (under the data directory)."""
    return settings.data_dir / "reserves"
