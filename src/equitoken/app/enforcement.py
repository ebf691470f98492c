"""Enforcement on a listing's token (ERC-3643): pause, freeze, forced transfer, recovery — each on the record.

``EnforcementService(engine)`` carries the agent's and pauser's tools of the chain out for a compliance
officer or an operator, and journals each one (stream ``enforcement``) with what was done, to whom, by
which key and why: ``EnforcementIntended`` before the transaction is sent, ``EnforcementTaken`` with its
hash after. Every action needs a reason (``REASON_REQUIRED``): a freeze or a forced transfer nobody can
explain afterwards is what enforcement must never be.

The ledger follows the chain: a forced transfer or a recovery is a ``Transfer`` in a block none of the
engine's commands mined, so ``IssuanceEngine.mirror_transfers`` books it from the sending investor's
token account to the receiving one's, at once (the service calls it after the transaction), and the
reserve check runs after it. A pause or a freeze moves nothing.

Crash safety: the intent is journaled before its transaction is sent, under a request id. Given the
request's idempotency key (``EnforcementService(engine, idempotency=…)``, as the API does with its
``Idempotency-Key``), the id is derived from it, so a retry after a crash finds its intent: an action
journaled as taken (or refused) is answered from the record; one left unfinished — the kill came
between the journal and the chain, or between the chain and the journal — is matched on the chain
first (the token's event of that action, for that wallet and amount, from the intent's block on, not
claimed by another action) and sent only if the chain has none: a forced transfer is never sent
twice. Without a key every call is a new action, and ``unfinished`` lists what a crash left for an
officer to check. The ledger side is safe either way: the mirror books the chain's ``Transfer`` once,
by its log, whenever it next looks.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from equitoken.app.issuance import IssuanceEngine, investor_label
from equitoken.compliance.book import BindWallet
from equitoken.domain.errors import DomainError
from equitoken.domain.ids import InvestorId, Symbol, WalletAddress, content_hash
from equitoken.domain.instants import utc
from equitoken.domain.values import TokenAmount
from equitoken.issuance import journal
from equitoken.ports.chain import ChainTx, Instrument

STREAM = "enforcement"


@dataclass(frozen=True, slots=True)
class EnforcementIntended:
    """An enforcement action is about to be sent to the chain (journaled first)."""

    at: datetime
    request: str
    action: str
    symbol: Symbol
    key_id: str
    reason: str
    wallet: WalletAddress | None = None
    investor: InvestorId | None = None
    to_wallet: WalletAddress | None = None
    to_investor: InvestorId | None = None
    tokens: Decimal | None = None


@dataclass(frozen=True, slots=True)
class EnforcementTaken:
    """The chain took the enforcement action ``request``: its transaction."""

    at: datetime
    request: str
    tx_hash: str
    block: int


@dataclass(frozen=True, slots=True)
class EnforcementRefused:
    """The chain refused the enforcement action ``request`` (nothing moved): its reason code."""

    at: datetime
    request: str
    code: str


EVENTS = (EnforcementIntended, EnforcementTaken, EnforcementRefused)


@dataclass(frozen=True, slots=True)
class Enforced:
    """One enforcement action as the record holds it: what was asked, and its transaction once taken."""

    intended: EnforcementIntended
    taken: EnforcementTaken | None
    refused: str | None = None
    """The reason code the chain refused it with, if it did."""


@dataclass(frozen=True, slots=True)
class Target:
    """Whom an action touches: a wallet (and its investor), a receiving wallet, an amount of tokens."""

    wallet: WalletAddress | None = None
    investor: InvestorId | None = None
    to_wallet: WalletAddress | None = None
    to_investor: InvestorId | None = None
    tokens: Decimal | None = None


@dataclass(frozen=True, slots=True)
class PartialFreeze:
    """Part of a wallet's balance that is frozen."""

    wallet: WalletAddress
    investor: InvestorId | None
    tokens: Decimal


@dataclass(frozen=True, slots=True)
class EnforcementStatus:
    """A listing's enforcement state now: paused, frozen wallets, partial freezes, unfinished actions."""

    symbol: Symbol
    paused: bool
    frozen: tuple[tuple[WalletAddress, InvestorId | None], ...]
    partial: tuple[PartialFreeze, ...]
    actions: tuple[Enforced, ...]


def reason_of(reason: str) -> str:
    """Return the reason stripped (``REASON_REQUIRED`` if there is none)."""
    kept = reason.strip()
    if not kept:
        raise DomainError("REASON_REQUIRED", "an enforcement action needs a reason on the record")
    return kept


def _refused_again(code: str, sentence: str) -> DomainError:
    """Return the refusal a retry answers: the code the chain refused the first try with."""
    return DomainError(code, sentence)


class EnforcementService:
    """The pauser's and agent's tools over the engine's chain, journaled (rules: module doc)."""

    def __init__(self, engine: IssuanceEngine, *, idempotency: str | None = None) -> None:
        """Serve one request over ``engine``; ``idempotency`` is its key, unique to its caller, if any."""
        self._engine = engine
        self._store = engine.store
        self._chain = engine.chain
        self._idempotency = idempotency

    # -- commands ------------------------------------------------------------------------------

    def pause(self, symbol: Symbol, key_id: str, reason: str) -> Enforced:
        """Stop every transfer, mint and burn of ``symbol``'s token."""
        instrument = self._instrument(symbol)
        return self._do("pause", symbol, key_id, reason, lambda: self._chain.pause(instrument), Target())

    def unpause(self, symbol: Symbol, key_id: str, reason: str) -> Enforced:
        """Let ``symbol``'s token move again."""
        instrument = self._instrument(symbol)
        return self._do("unpause", symbol, key_id, reason, lambda: self._chain.unpause(instrument), Target())

    def freeze(
        self, symbol: Symbol, wallet: WalletAddress, key_id: str, reason: str, tokens: Decimal | None = None
    ) -> Enforced:
        """Freeze ``wallet`` whole, or only ``tokens`` of its balance."""
        instrument = self._instrument(symbol)
        if tokens is None:
            return self._do(
                "freeze",
                symbol,
                key_id,
                reason,
                lambda: self._chain.set_address_frozen(instrument, wallet, True),
                Target(wallet=wallet),
            )
        amount = self._amount(instrument, tokens)
        return self._do(
            "freeze-partial",
            symbol,
            key_id,
            reason,
            lambda: self._chain.freeze_partial_tokens(instrument, wallet, amount),
            Target(wallet=wallet, tokens=tokens),
        )

    def unfreeze(
        self, symbol: Symbol, wallet: WalletAddress, key_id: str, reason: str, tokens: Decimal | None = None
    ) -> Enforced:
        """Unfreeze ``wallet`` whole, or release ``tokens`` of its frozen balance."""
        instrument = self._instrument(symbol)
        if tokens is None:
            return self._do(
                "unfreeze",
                symbol,
                key_id,
                reason,
                lambda: self._chain.set_address_frozen(instrument, wallet, False),
                Target(wallet=wallet),
            )
        amount = self._amount(instrument, tokens)
        return self._do(
            "unfreeze-partial",
            symbol,
            key_id,
            reason,
            lambda: self._chain.unfreeze_partial_tokens(instrument, wallet, amount),
            Target(wallet=wallet, tokens=tokens),
        )

    def forced_transfer(
        self,
        symbol: Symbol,
        sender: InvestorId,
        receiver: InvestorId,
        tokens: Decimal,
        key_id: str,
        reason: str,
    ) -> Enforced:
        """Move ``tokens`` from one investor's wallet to another's as the agent; book it in the ledger."""
        instrument = self._instrument(symbol)
        if sender == receiver:
            raise DomainError("INVALID_REQUEST", "a forced transfer moves tokens between two investors")
        source, target = self.wallet_of(sender), self.wallet_of(receiver)
        amount = self._amount(instrument, tokens)
        return self._do(
            "forced-transfer",
            symbol,
            key_id,
            reason,
            lambda: self._chain.forced_transfer(instrument, source, target, amount),
            Target(wallet=source, investor=sender, to_wallet=target, to_investor=receiver, tokens=tokens),
        )

    def recover(
        self,
        symbol: Symbol,
        investor: InvestorId,
        lost: WalletAddress,
        new: WalletAddress,
        key_id: str,
        reason: str,
    ) -> Enforced:
        """Move a lost wallet's whole position (frozen state included) to a new wallet of its investor.

        The lost wallet must be the investor's; the new one is bound to the investor first (on the
        book and the identity registry) unless it already is, and refused if another investor has it.
        """
        instrument = self._instrument(symbol)
        book = self._engine.desk.investors.book
        owner = book.owner_of(lost)
        if owner is None or owner.investor_id != investor:
            raise DomainError("WALLET_NOT_BOUND", f"{lost} is not a wallet of {investor}")
        if lost == new:
            raise DomainError("INVALID_REQUEST", "the new wallet must differ from the lost one")
        reason = reason_of(reason)
        holder = book.owner_of(new)
        if holder is not None and holder.investor_id != investor:
            raise DomainError("WALLET_BOUND_ELSEWHERE", f"{new} belongs to {holder.investor_id}")
        if holder is None:
            self._engine.desk.investors.execute(BindWallet(investor, self._engine.clock.now(), new))
            self._engine.desk.sync_all()  # the identity registry binds it before the recovery checks it
        tokens = self._engine.token_balance(symbol, lost).value
        done = self._do(
            "recovery",
            symbol,
            key_id,
            reason,
            lambda: self._chain.recovery_address(instrument, lost, new, investor),
            Target(wallet=lost, investor=investor, to_wallet=new, to_investor=investor, tokens=tokens),
        )
        if self._engine.custody_wallet(investor) != new:  # once, a retry included: it trades from new now
            self._engine.record_recovery(investor, lost, new)
        return done

    # -- reads ---------------------------------------------------------------------------------

    def wallet_of(self, investor: InvestorId) -> WalletAddress:
        """Return the wallet ``investor`` holds its tokens in (``UNKNOWN_INVESTOR`` if never onboarded).

        Its own (self-custody), the one its position was recovered to, or the one the platform keeps.
        """
        self._engine.desk.investors.book.get(investor)
        return self._engine.custody_wallet(investor) or self._chain.wallet(investor_label(investor))

    def actions(self, symbol: Symbol | None = None) -> list[Enforced]:
        """Return the journaled enforcement actions (of ``symbol``), in the order they were asked."""
        intended: dict[str, EnforcementIntended] = {}
        taken: dict[str, EnforcementTaken] = {}
        refused: dict[str, str] = {}
        for event in journal.read(self._store, STREAM, EVENTS):
            if isinstance(event, EnforcementIntended):
                intended[event.request] = event
            elif isinstance(event, EnforcementTaken):
                taken[event.request] = event
            else:
                refused[event.request] = event.code
        return [
            Enforced(i, taken.get(r), refused.get(r))
            for r, i in intended.items()
            if symbol is None or i.symbol == symbol
        ]

    def unfinished(self) -> list[Enforced]:
        """Return the actions journaled as intended whose transaction was never recorded (see module doc)."""
        return [a for a in self.actions() if a.taken is None and a.refused is None]

    def status(self, symbol: Symbol) -> EnforcementStatus:
        """Return whether ``symbol`` is paused, and which known wallets are frozen whole or in part."""
        instrument = self._instrument(symbol)
        chain = self._chain
        book = self._engine.desk.investors.book
        wallets: set[WalletAddress] = set(chain.balances_at(instrument.token, chain.block_number()))
        for investor in book.investors():
            wallets.update(investor.wallets)
        history = self.actions(symbol)
        wallets.update(w for a in history for w in (a.intended.wallet, a.intended.to_wallet) if w is not None)

        def owner(wallet: WalletAddress) -> InvestorId | None:
            found = book.owner_of(wallet)
            return None if found is None else found.investor_id

        ordered = sorted(wallets, key=lambda w: w.value)
        frozen = tuple((w, owner(w)) for w in ordered if chain.is_frozen(instrument, w))
        partial = []
        for wallet in ordered:
            part = chain.frozen_tokens(instrument, wallet).value
            if part > 0:
                partial.append(PartialFreeze(wallet, owner(wallet), part))
        return EnforcementStatus(symbol, chain.is_paused(instrument), frozen, tuple(partial), tuple(history))

    # -- internals -----------------------------------------------------------------------------

    def _instrument(self, symbol: Symbol) -> Instrument:
        return self._engine.model(symbol).listing.instrument

    @staticmethod
    def _amount(instrument: Instrument, tokens: Decimal) -> TokenAmount:
        if tokens <= 0:
            raise DomainError("INVALID_AMOUNT", f"an amount of tokens must be positive, not {tokens}")
        return instrument.amount(tokens)

    def _do(
        self,
        action: str,
        symbol: Symbol,
        key_id: str,
        reason: str,
        send: Callable[[], ChainTx],
        target: Target,
    ) -> Enforced:
        """Journal the intent, send the transaction, journal its hash; mirror what it moved; check."""
        engine = self._engine
        reason = reason_of(reason)
        if self._idempotency is None:
            request = uuid.uuid4().hex
        else:
            request = content_hash(f"enforcement:{self._idempotency}")[:32]
            prior = next((a for a in self.actions() if a.intended.request == request), None)
            if prior is not None:
                return self._resume(prior, action, symbol, target)
        engine.sync_chain_time()
        at = utc(engine.clock.now())
        intended = EnforcementIntended(
            at,
            request,
            action,
            symbol,
            key_id,
            reason,
            target.wallet,
            target.investor,
            target.to_wallet,
            target.to_investor,
            target.tokens,
        )
        journal.append(self._store, STREAM, f"intended:{request}", at, intended)
        try:
            tx = send()
        except DomainError as refused:
            if refused.kind.is_refusal:  # a clean "no" from the chain: nothing moved, on the record
                end = utc(engine.clock.now())
                journal.append(
                    self._store,
                    STREAM,
                    f"refused:{request}",
                    end,
                    EnforcementRefused(end, request, refused.code),
                )
            raise
        return self._taken(intended, tx)

    def _taken(self, intended: EnforcementIntended, tx: ChainTx) -> Enforced:
        """Journal the action's transaction; book what it moved and check the reserves."""
        engine = self._engine
        done = utc(engine.clock.now())
        taken = EnforcementTaken(done, intended.request, tx.tx_hash, tx.block)
        journal.append(self._store, STREAM, f"taken:{intended.request}", done, taken)
        # Not an engine command: its block is a holder's to the mirror, which books the move between
        # the investors' accounts now rather than at the next tick; then the reserves are checked.
        engine.mirror_transfers()
        engine.check()
        return Enforced(intended, taken)

    def _resume(self, prior: Enforced, action: str, symbol: Symbol, target: Target) -> Enforced:
        """Answer a retry of ``prior``: from the record, from the chain, or by sending it now."""
        asked = prior.intended
        same = (asked.action, asked.symbol, asked.wallet, asked.to_wallet) == (
            action,
            symbol,
            target.wallet,
            target.to_wallet,
        )
        if not same or (action != "recovery" and asked.tokens != target.tokens):
            raise DomainError(
                "IDEMPOTENCY_CONFLICT",
                f"this idempotency key was used for another enforcement action ({asked.action} of"
                f" {asked.symbol})",
            )
        if prior.taken is not None:
            return prior
        if prior.refused is not None:
            raise _refused_again(prior.refused, f"the chain refused {asked.action} of {asked.symbol} before")
        found = self._on_chain(asked)
        if found is not None:
            return self._taken(asked, found)
        # Journaled, never reached the chain: send it now, under the same request.
        send = self._sender(asked)
        self._engine.sync_chain_time()
        return self._taken(asked, send())

    def _on_chain(self, asked: EnforcementIntended) -> ChainTx | None:
        """Return the transaction that carried out ``asked``, if the chain holds one (module doc)."""
        instrument = self._instrument(asked.symbol)
        name, wanted = self._signature(asked, instrument)
        claimed = {a.taken.tx_hash for a in self.actions() if a.taken is not None}
        start = self._chain.block_at(asked.at)
        for event in self._chain.events(instrument.token, start):
            if event.name != name or event.tx_hash in claimed:
                continue
            if all(event.args.get(arg) == value for arg, value in wanted.items()):
                return ChainTx(event.tx_hash, event.block, 0, (event,))
        return None

    def _signature(self, asked: EnforcementIntended, instrument: Instrument) -> tuple[str, dict[str, object]]:
        """Return the token event ``asked`` emits when carried out, and the arguments that name it."""
        wallet, to_wallet = asked.wallet, asked.to_wallet
        amount = None if asked.tokens is None else self._amount(instrument, asked.tokens)
        match asked.action:
            case "pause":
                return "Paused", {}
            case "unpause":
                return "Unpaused", {}
            case "freeze":
                return "AddressFrozen", {"userAddress": wallet, "isFrozen": True}
            case "unfreeze":
                return "AddressFrozen", {"userAddress": wallet, "isFrozen": False}
            case "freeze-partial":
                return "TokensFrozen", {"userAddress": wallet, "amount": amount}
            case "unfreeze-partial":
                return "TokensUnfrozen", {"userAddress": wallet, "amount": amount}
            case "forced-transfer":
                return "ForcedTransfer", {"sender": wallet, "receiver": to_wallet, "amount": amount}
            case "recovery":
                return "RecoverySuccess", {"lostWallet": wallet, "newWallet": to_wallet}
        raise DomainError(
            "STORE_CORRUPT", f"enforcement request {asked.request}: unknown action {asked.action!r}"
        )

    def _sender(self, asked: EnforcementIntended) -> Callable[[], ChainTx]:
        """Return what sends ``asked`` to the chain again (after a crash left it unsent)."""
        chain, instrument = self._chain, self._instrument(asked.symbol)
        wallet, to_wallet, investor = asked.wallet, asked.to_wallet, asked.investor
        amount = None if asked.tokens is None else self._amount(instrument, asked.tokens)
        match asked.action:
            case "pause":
                return lambda: chain.pause(instrument)
            case "unpause":
                return lambda: chain.unpause(instrument)
            case "freeze" | "unfreeze" if wallet is not None:
                frozen = asked.action == "freeze"
                return lambda: chain.set_address_frozen(instrument, wallet, frozen)
            case "freeze-partial" if wallet is not None and amount is not None:
                return lambda: chain.freeze_partial_tokens(instrument, wallet, amount)
            case "unfreeze-partial" if wallet is not None and amount is not None:
                return lambda: chain.unfreeze_partial_tokens(instrument, wallet, amount)
            case "forced-transfer" if wallet is not None and to_wallet is not None and amount is not None:
                return lambda: chain.forced_transfer(instrument, wallet, to_wallet, amount)
            case "recovery" if wallet is not None and to_wallet is not None and investor is not None:
                return lambda: chain.recovery_address(instrument, wallet, to_wallet, investor)
        raise DomainError("STORE_CORRUPT", f"enforcement request {asked.request} cannot be sent as journaled")
