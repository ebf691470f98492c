"""The executor: carry out a model's plan on chain, once, and find what happened after a crash.

A plan's legs change the chain, its records change the store, and no transaction spans both. So the
executor works through an outbox (stream ``effects``):

1. ``intend`` records the whole plan (``PlanIntended``, with the block it was decided at) inside the
   caller's unit of work — the command that decided it commits it;
2. ``send`` sends the legs in order, after that commit;
3. the caller records the outcome (``close``: ``PlanDone`` or ``PlanAbandoned``) in the unit of work
   that also posts the plan's entries and applies its fills.

After a kill anywhere: before 1 commits, nothing was recorded and nothing sent; between 1 and 3 the
plan is pending, and ``recover`` matches each leg to the chain in order — a quote by its id in a
``QuoteSettled`` log, a transfer, mint or burn by its ``Transfer`` log (token, from, to, amount, in a
block after the plan's, in a transaction no earlier leg of the plan claimed) — and sends only the
legs it does not find. So every leg is sent once, never twice, never lost, and the plan's records are
posted exactly when its legs happened. The limit, said plainly: an identical transfer between the same
two wallets made by someone else after the plan was recorded, and before the restart, would be taken
for the plan's own; only the platform's keys sign from these wallets.

A quote to a wallet whose key the platform does not hold (self-custody) is the investor's to settle:
``send`` signs nothing and sends nothing, and the plan waits (``Outcome.waiting``). Every later look
(``recover``, at each command and tick) searches the settlement contract for the quote's
``QuoteSettled`` log: found, the plan is done and its records post; the latest block past the quote's
expiry (no later block can settle it: block times never go back), it is abandoned ``QUOTE_EXPIRED``;
else it waits on. Such a plan is one leg: a second leg (a fixed fee paid by transfer from that wallet)
could not be sent, so it is refused before anything is signed (``FIRM_QUOTE_UNSUPPORTED``).

A refused leg changes nothing on chain. The first leg refused: the plan is abandoned, nothing moved.
A later leg refused: a plan made of transfers sends the earlier ones back (``PlanUndoing`` is recorded
first, so a kill mid-undo finishes the undo instead of re-running the plan); any other plan cannot
complete and is closed ``SETTLEMENT_INCOMPLETE``, for the engine to halt the listing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from equitoken.domain.errors import DomainError, InfrastructureError
from equitoken.domain.ids import ZERO_ADDRESS_TEXT, OrderId, Symbol, WalletAddress
from equitoken.domain.instants import utc
from equitoken.domain.keccak import keccak256
from equitoken.domain.values import Money, TokenAmount
from equitoken.issuance import journal
from equitoken.issuance.plan_events import (
    PLAN_EVENTS,
    PlanAbandoned,
    PlanDone,
    PlanIntended,
    PlanOutboxState,
    PlanUndoing,
)
from equitoken.issuance.plans import (
    Burn,
    BurnStablecoin,
    Leg,
    Mint,
    MintStablecoin,
    Outcome,
    Plan,
    SettleQuote,
    Transfer,
    plan_from_dict,
    plan_to_dict,
)
from equitoken.ports.chain import ChainEvent, Instrument, IssuanceChain
from equitoken.ports.clock import Clock
from equitoken.ports.store import Store

STREAM = "effects"
INTENDED = PlanIntended.__name__
UNDOING = PlanUndoing.__name__
DONE = PlanDone.__name__
ABANDONED = PlanAbandoned.__name__
SETTLEMENT_INCOMPLETE = "SETTLEMENT_INCOMPLETE"
ZERO = WalletAddress(ZERO_ADDRESS_TEXT)


@dataclass
class _Pending:
    number: int
    raw: dict[str, Any]
    after_block: int
    plan: Plan | None = None
    """Decoded once its model is open (its event types known)."""
    undoing: int | None = None
    """The block at which sending the earlier legs back began (a later leg was refused)."""
    refusal: str = ""


class Executor:
    """Record plans before their legs are sent, send each leg once, and match the rest after a crash."""

    def __init__(
        self,
        store: Store,
        chain: IssuanceChain,
        clock: Clock,
        instrument: Callable[[Symbol | None], Instrument],
        event_kinds: Callable[[Symbol | None], Sequence[type] | None],
        *,
        settles_itself: Callable[[WalletAddress], bool] = lambda wallet: False,
        chain_time: Callable[[], datetime] | None = None,
    ) -> None:
        self._settles_itself = settles_itself
        self._chain_time = chain_time
        self._store = store
        self._clock = clock
        self._chain = chain
        self._instrument = instrument
        self._event_kinds = event_kinds
        self._pending: dict[str, _Pending] | None = None
        self._recorded = 0
        self._claims: dict[str, list[str]] = {}
        """Per plan, the logs its recovery took for its legs (``tx:log``): two pending plans with the same
        leg never both take the one log that was sent, and a plan recovered again (an earlier attempt
        failed) finds its own logs again."""
        self._changes: list[tuple[str, _Pending | None]] = []
        """(key, the entry before) for every change made in the open unit of work, oldest first."""
        self._recorded_before: int | None = None

    # -- the record ----------------------------------------------------------------------------

    def _load(self) -> dict[str, _Pending]:
        """Fold the outbox stream once (later calls keep it in memory: one writer per stream)."""
        if self._pending is not None:
            return self._pending
        state = PlanOutboxState()
        for stored in self._store.events(STREAM):
            try:
                state.apply(journal.decode(stored, PLAN_EVENTS))
            except DomainError as bad:
                raise DomainError(
                    "STORE_CORRUPT",
                    f"the journal's event at stream {stored.stream!r} position {stored.seq} is not a "
                    f"readable plan record ({bad.message}); refusing to act on it",
                ) from None
        self._recorded += state.recorded
        self._pending = {
            key: _Pending(
                p.intended.number, dict(p.intended.plan), p.intended.after_block, None, p.undoing, p.refusal
            )
            for key, p in state.pending.items()
        }
        return self._pending

    def _append(
        self, number: int, at: datetime, event: PlanIntended | PlanUndoing | PlanDone | PlanAbandoned
    ) -> None:
        kind = type(event).__name__
        journal.append(self._store, STREAM, f"{kind}:{number}", at, event)
        self._recorded += 1

    def pending(self) -> list[Plan]:
        """Return the plans recorded and not yet closed whose model is open, oldest first."""
        found: list[Plan] = []
        for entry in sorted(self._load().values(), key=lambda p: p.number):
            plan = self._decoded(entry)
            if plan is not None:  # else its listing is not open here yet
                found.append(plan)
        return found

    def _decoded(self, entry: _Pending) -> Plan | None:
        if entry.plan is None:
            raw = entry.raw.get("symbol")
            kinds = self._event_kinds(None if raw is None else Symbol(raw))
            if kinds is None:
                return None
            entry.plan = plan_from_dict(entry.raw, kinds)
        return entry.plan

    def intend(self, plan: Plan, at: datetime) -> None:
        """Record ``plan`` as decided (call inside the unit of work of the command that decided it)."""
        pending = self._load()
        if plan.key in pending:
            raise DomainError("PLAN_PENDING", f"plan {plan.key} is already recorded and not closed")
        self._change(plan.key)
        number = self._recorded + 1
        after_block = self._chain.block_number()
        self._append(number, at, PlanIntended(plan.key, number, after_block, plan_to_dict(plan)))
        pending[plan.key] = _Pending(number, {}, after_block, plan)

    def close(self, outcome: Outcome, at: datetime) -> None:
        """Record what became of a plan (in the unit of work that posts its records, when it is done)."""
        pending = self._load()
        entry = pending.get(outcome.plan.key)
        if entry is None:
            raise DomainError("PLAN_UNKNOWN", f"plan {outcome.plan.key} is not pending")
        self._change(outcome.plan.key)
        failure = "" if outcome.failure is None else f"{outcome.failure.code}: {outcome.failure.message}"
        closed = PlanDone if outcome.done else PlanAbandoned
        self._append(entry.number, at, closed(outcome.plan.key, failure))
        del pending[outcome.plan.key]

    def committed(self) -> None:
        """Tell the executor the unit of work its records were written in has committed."""
        self._changes.clear()
        self._recorded_before = None

    def rolled_back(self) -> None:
        """Tell the executor that unit of work rolled back: its intents and closes never happened."""
        pending = self._pending
        if pending is not None:
            for key, before in reversed(self._changes):
                if before is None:
                    pending.pop(key, None)
                else:
                    pending[key] = before
        if self._recorded_before is not None:
            self._recorded = self._recorded_before
        self.committed()

    def _change(self, key: str) -> None:
        if self._recorded_before is None:
            self._recorded_before = self._recorded
        assert self._pending is not None
        self._changes.append((key, self._pending.get(key)))

    # -- sending -------------------------------------------------------------------------------

    def send(self, plan: Plan) -> Outcome:
        """Send the legs of a recorded plan, in order (after the intent has committed)."""
        entry = self._entry(plan)
        firm = self.investor_leg(plan)
        if firm is not None:
            return self._look_for(entry, firm)
        return self._carry_on(entry, 0, None)

    def investor_leg(self, plan: Plan) -> SettleQuote | None:
        """Return the quote ``plan`` leaves to its investor (a self-custody wallet settles it), if any."""
        first = plan.legs[0] if plan.legs else None
        if isinstance(first, SettleQuote) and self._settles_itself(first.quote.investor):
            return first
        return None

    def awaiting(self) -> dict[OrderId, Plan]:
        """Return the orders whose fill waits for their investor to settle a firm quote, with its plan."""
        found: dict[OrderId, Plan] = {}
        for plan in self.pending():
            if self.investor_leg(plan) is not None:
                for fill in plan.fills:
                    found[fill.order_id] = plan
        return found

    def _look_for(self, entry: _Pending, leg: SettleQuote) -> Outcome:
        """Decide a firm quote's plan from the chain: settled (done), expired (abandoned), or waiting."""
        plan = entry.plan
        assert plan is not None
        if len(plan.legs) != 1:
            return Outcome(
                plan,
                False,
                DomainError(
                    "FIRM_QUOTE_UNSUPPORTED",
                    f"{plan.note or plan.key} needs {len(plan.legs) - 1} more leg(s) from the investor's "
                    "wallet (a fixed fee), which the platform cannot sign",
                ),
            )
        seen = self._find(plan.symbol, leg, entry.after_block, self._others(plan))
        if seen is not None:
            self._claims[plan.key] = [seen]
            return Outcome(plan, True, found=True)
        if self._chain_time is not None and utc(self._chain_time()) > utc(leg.quote.expiry):
            return Outcome(
                plan,
                False,
                DomainError(
                    "QUOTE_EXPIRED",
                    f"quote {leg.quote.quote_id} expired at {utc(leg.quote.expiry).isoformat()} unsettled",
                ),
            )
        return Outcome(plan, False, waiting=True)

    def recover(self, plan: Plan) -> Outcome:
        """Finish a plan recorded before a crash: find each leg on chain in order, send the rest."""
        entry = self._entry(plan)
        firm = self.investor_leg(plan)
        if firm is not None:
            return self._look_for(entry, firm)
        if entry.undoing is not None:
            return self._finish_undo(entry)
        assert entry.plan is not None
        claimed = self._others(plan)
        taken = len(claimed)
        done = 0
        try:
            for leg in plan.legs:
                seen = self._find(plan.symbol, leg, entry.after_block, claimed)
                if seen is None:
                    break
                claimed.append(seen)
                done += 1
            outcome = self._carry_on(entry, done, claimed)
        finally:
            self._claims[plan.key] = claimed[taken:]
        return Outcome(outcome.plan, outcome.done, outcome.failure, found=done > 0)

    def _others(self, plan: Plan) -> list[str]:
        """Return the logs other plans' recoveries took (this plan may not take them)."""
        return [log for key, logs in self._claims.items() if key != plan.key for log in logs]

    def _entry(self, plan: Plan) -> _Pending:
        entry = self._load().get(plan.key)
        if entry is None or self._decoded(entry) is None:
            raise DomainError("PLAN_UNKNOWN", f"plan {plan.key} must be recorded before it is sent")
        return entry

    def _carry_on(self, entry: _Pending, start: int, claimed: list[str] | None) -> Outcome:
        """Send the legs from ``start`` on; recovering (``claimed`` given), claim each log it makes."""
        plan = entry.plan
        assert plan is not None
        for index in range(start, len(plan.legs)):
            try:
                self._send(plan.symbol, plan.legs[index])
                if claimed is not None:
                    self._claim(plan.symbol, plan.legs[index], entry.after_block, claimed)
            except InfrastructureError:
                raise  # unknown whether it happened: the plan stays pending, recovery finds out
            except DomainError as refused:
                if index == 0:
                    return Outcome(plan, False, refused)
                if not plan.undo:
                    return Outcome(plan, False, _incomplete(plan, refused, "the earlier legs stand"))
                return self._undo(entry, index, refused)
        return Outcome(plan, True)

    def _undo(self, entry: _Pending, sent: int, refused: DomainError) -> Outcome:
        """Record that the first ``sent`` legs go back, then send them back (newest first)."""
        plan = entry.plan
        assert plan is not None
        entry.undoing = self._chain.block_number()
        entry.refusal = f"{refused.code}: {refused.message}"
        with self._store.transaction():
            self._append(
                entry.number,
                utc(self._clock.now()),
                PlanUndoing(plan.key, sent, entry.undoing, entry.refusal),
            )
        return self._send_back(entry, [leg for leg in plan.legs[:sent]], [])

    def _finish_undo(self, entry: _Pending) -> Outcome:
        """After a crash mid-undo: the legs that happened are the ones to send back, minus those sent."""
        plan = entry.plan
        assert plan is not None
        claimed = self._others(plan)
        taken = len(claimed)
        happened: list[Leg] = []
        try:
            for leg in plan.legs:
                seen = self._find(plan.symbol, leg, entry.after_block, claimed)
                if seen is None:
                    break
                claimed.append(seen)
                happened.append(leg)
            return self._send_back(entry, happened, claimed)
        finally:
            self._claims[plan.key] = claimed[taken:]

    def _send_back(self, entry: _Pending, legs: list[Leg], claimed: list[str]) -> Outcome:
        plan = entry.plan
        assert plan is not None and entry.undoing is not None
        # The refusal recorded when the undo began ("CODE: sentence"), handed on as it was raised.
        refusal = DomainError(*_code_and_sentence(entry.refusal)) if ": " in entry.refusal else None
        for leg in reversed(legs):
            assert isinstance(leg, Transfer)  # a plan that undoes is made of transfers (Plan checks)
            back = leg.back()
            found = self._find(plan.symbol, back, entry.undoing, claimed)
            if found is not None:
                claimed.append(found)  # sent back before the crash; an identical leg needs its own
                continue
            try:
                self._send(plan.symbol, back)
                self._claim(plan.symbol, back, entry.undoing, claimed)
            except InfrastructureError:
                raise
            except DomainError as failed:
                return Outcome(
                    plan, False, _incomplete(plan, failed, f"{back.amount.value} could not go back")
                )
        return Outcome(plan, False, refusal or DomainError(SETTLEMENT_INCOMPLETE, f"plan {plan.key} undone"))

    def _claim(self, symbol: Symbol | None, leg: Leg, after_block: int, claimed: list[str]) -> None:
        """Take the log of a leg just sent (the first unclaimed match: earlier ones are claimed)."""
        found = self._find(symbol, leg, after_block, claimed)
        if found is not None:
            claimed.append(found)

    def _send(self, symbol: Symbol | None, leg: Leg) -> None:
        chain = self._chain
        match leg:
            case Transfer():
                chain.transfer(leg.token, leg.sender, leg.receiver, leg.amount)
            case Mint():
                chain.mint(self._instrument(symbol), leg.wallet, leg.amount)
            case Burn():
                chain.burn(self._instrument(symbol), leg.wallet, leg.amount)
            case SettleQuote():
                chain.settle_quote(chain.sign_quote(leg.quote))
            case MintStablecoin():
                chain.mint_stablecoin(leg.stablecoin, leg.wallet, Money(leg.amount.value))
            case BurnStablecoin():
                chain.burn_stablecoin(leg.stablecoin, leg.wallet, Money(leg.amount.value))

    # -- matching ------------------------------------------------------------------------------

    def _find(self, symbol: Symbol | None, leg: Leg, after_block: int, claimed: list[str]) -> str | None:
        """Return ``tx_hash:log_index`` of the log that shows ``leg`` happened, or ``None``."""
        match leg:
            case Transfer():
                return _transfer(
                    self._events(leg.token, after_block), leg.sender, leg.receiver, leg.amount, claimed
                )
            case Mint():
                token = self._instrument(symbol).token
                return _transfer(self._events(token, after_block), ZERO, leg.wallet, leg.amount, claimed)
            case Burn():
                token = self._instrument(symbol).token
                return _transfer(self._events(token, after_block), leg.wallet, ZERO, leg.amount, claimed)
            case MintStablecoin():
                return _transfer(
                    self._events(leg.stablecoin, after_block), ZERO, leg.wallet, leg.amount, claimed
                )
            case BurnStablecoin():
                return _transfer(
                    self._events(leg.stablecoin, after_block), leg.wallet, ZERO, leg.amount, claimed
                )
            case SettleQuote():
                wanted = keccak256(b"quote:" + leg.quote.quote_id.encode())
                for event in self._events(leg.quote.settlement, after_block):
                    if event.name == "QuoteSettled" and _bytes(event.args.get("quoteId")) == wanted:
                        return f"{event.tx_hash}:{event.log_index}"
                return None
        return None

    def _events(self, contract: WalletAddress, after_block: int) -> list[ChainEvent]:
        return self._chain.events(contract, after_block + 1)


def _incomplete(plan: Plan, failed: DomainError, what: str) -> DomainError:
    return DomainError(
        SETTLEMENT_INCOMPLETE,
        f"{plan.note or plan.key}: a later leg was refused ({failed.code}: {failed.message}); {what}; "
        "reconcile by hand",
    )


def _code_and_sentence(refusal: str) -> tuple[str, str]:
    code, _, sentence = refusal.partition(": ")
    return code, sentence


def _amount(value: Any) -> Decimal | None:
    if isinstance(value, TokenAmount):
        return value.value
    if isinstance(value, Money):
        return value.amount
    return None


def _bytes(value: Any) -> bytes | None:
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    if isinstance(value, str):
        try:
            return bytes.fromhex(value.removeprefix("0x"))
        except ValueError:
            return None
    return None


def _transfer(
    events: Sequence[ChainEvent],
    sender: WalletAddress,
    receiver: WalletAddress,
    amount: TokenAmount,
    claimed: list[str],
) -> str | None:
    for event in events:
        args = event.args
        if (
            event.name == "Transfer"
            and args.get("sender") == sender
            and args.get("receiver") == receiver
            and _amount(args.get("value")) == amount.value
            and f"{event.tx_hash}:{event.log_index}" not in claimed
        ):
            return f"{event.tx_hash}:{event.log_index}"
    return None
