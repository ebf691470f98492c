"""``TokenChain`` without deployment: mint and burn (single and batched), ERC-20 moves and reads, history.

``transfer``, ``mint``, ``balance_of`` and ``transfer_many`` are the hot paths: calldata is
hand-encoded and the receipt is checked inline, with no helper call in between.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

from equitoken.adapters.chain.backend import ChainRevert, RawCall
from equitoken.adapters.chain.facade._abi import contract_abi
from equitoken.adapters.chain.facade._codec import (
    GAS_BATCH_BASE,
    GAS_CAP,
    GAS_PER_BATCH_ITEM,
    GAS_TRANSFER,
    MAX_BATCH,
    PAD12,
    SEL_APPROVE,
    SEL_BALANCE_OF,
    SEL_BURN,
    SEL_MINT,
    SEL_RESTRICTION,
    SEL_TOTAL_SUPPLY,
    SEL_TRANSFER,
    SEL_TRANSFER_FROM,
    TRANSFER_TOPIC,
    ZERO20,
    from_seconds,
    to_seconds,
)
from equitoken.adapters.chain.facade._reverts import decode_revert
from equitoken.adapters.chain.facade._sending import Sending
from equitoken.domain.errors import DomainError
from equitoken.domain.ids import WalletAddress
from equitoken.domain.reasons import Reason
from equitoken.domain.values import TokenAmount
from equitoken.ports.chain import ChainEvent, ChainRefusal, ChainTx, Instrument, TransferDecision


class Tokens(Sending):
    """Security tokens as ERC-20s: issuance, transfers, allowances, balances and their history."""

    def mint(self, instrument: Instrument, to: WalletAddress, amount: TokenAmount) -> ChainTx:
        """Mint ``amount`` to ``to`` as the issuer (compliance checked)."""
        token = self._b(instrument.token)
        data = SEL_MINT + PAD12 + self._b(to) + self._units(token, amount).to_bytes(32, "big")
        return self._send_one(RawCall(self._b(instrument.roles.issuer), token, data, 0, GAS_TRANSFER))

    def _batch_call(
        self, instrument: Instrument, name: str, allocations: Sequence[tuple[WalletAddress, TokenAmount]]
    ) -> RawCall:
        if not allocations:
            raise DomainError("EMPTY_BATCH", "a batch needs at least one allocation")
        if len(allocations) > MAX_BATCH:
            raise DomainError(
                "BATCH_TOO_LARGE", f"at most {MAX_BATCH} allocations per batch, got {len(allocations)}"
            )
        token = self._b(instrument.token)
        wallets = [self._b(w) for w, _ in allocations]
        units = [self._units(token, a) for _, a in allocations]
        data = contract_abi("SecurityToken").encode(name, wallets, units)
        gas = min(GAS_CAP, GAS_BATCH_BASE + GAS_PER_BATCH_ITEM * len(allocations))
        return RawCall(self._b(instrument.roles.issuer), token, data, 0, gas)

    def batch_mint(
        self, instrument: Instrument, allocations: Sequence[tuple[WalletAddress, TokenAmount]]
    ) -> ChainTx:
        """Mint to up to 256 holders in one transaction (all or nothing)."""
        return self._send_one(self._batch_call(instrument, "batchMint", allocations))

    def batch_mint_many(
        self, instrument: Instrument, batches: Sequence[Sequence[tuple[WalletAddress, TokenAmount]]]
    ) -> list[ChainTx | DomainError]:
        """Send many ``batchMint`` transactions in one backend batch; each is all-or-nothing on its own."""
        receipts = self._backend.send([self._batch_call(instrument, "batchMint", b) for b in batches])
        return [self._tx(r) if r.success else decode_revert(r.output) for r in receipts]

    def burn(self, instrument: Instrument, holder: WalletAddress, amount: TokenAmount) -> ChainTx:
        """Burn ``amount`` from ``holder`` as the issuer."""
        token = self._b(instrument.token)
        data = SEL_BURN + PAD12 + self._b(holder) + self._units(token, amount).to_bytes(32, "big")
        return self._send_one(RawCall(self._b(instrument.roles.issuer), token, data, 0, GAS_TRANSFER))

    def batch_burn(
        self, instrument: Instrument, allocations: Sequence[tuple[WalletAddress, TokenAmount]]
    ) -> ChainTx:
        """Burn from up to 256 holders in one transaction (all or nothing)."""
        return self._send_one(self._batch_call(instrument, "batchBurn", allocations))

    def transfer(
        self, token: WalletAddress, sender: WalletAddress, to: WalletAddress, amount: TokenAmount
    ) -> ChainTx:
        """Move tokens from a wallet whose key the adapter holds."""
        raw_token = self._b(token)
        data = SEL_TRANSFER + PAD12 + self._b(to) + self._units(raw_token, amount).to_bytes(32, "big")
        receipt = self._backend.send([RawCall(self._b(sender), raw_token, data, 0, GAS_TRANSFER)])[0]
        if not receipt.success:
            raise decode_revert(receipt.output)
        return self._tx(receipt)

    def transfer_many(
        self, token: WalletAddress, transfers: Iterable[tuple[WalletAddress, WalletAddress, TokenAmount]]
    ) -> list[ChainTx | DomainError]:
        """Send many transfers in one backend batch (one block); return each one's tx or refusal, in order.

        A rule's refusal is a ``ChainRefusal``; any other revert a ``DomainError`` with its contract
        error code.
        Refused transfers change nothing; the others stand.
        """
        raw_token = self._b(token)
        to_bytes = self._b
        units = self._units
        calls = [
            RawCall(
                to_bytes(sender),
                raw_token,
                SEL_TRANSFER + PAD12 + to_bytes(to) + units(raw_token, amount).to_bytes(32, "big"),
                0,
                GAS_TRANSFER,
            )
            for sender, to, amount in transfers
        ]
        receipts = self._backend.send(calls)
        return [self._tx(r) if r.success else decode_revert(r.output) for r in receipts]

    def approve(
        self, token: WalletAddress, owner: WalletAddress, spender: WalletAddress, amount: TokenAmount
    ) -> ChainTx:
        """Let ``spender`` move up to ``amount`` of ``owner``'s tokens (``unlimited()``: no limit)."""
        raw_token = self._b(token)
        data = SEL_APPROVE + PAD12 + self._b(spender) + self._units(raw_token, amount).to_bytes(32, "big")
        return self._send_one(RawCall(self._b(owner), raw_token, data, 0, GAS_TRANSFER))

    def transfer_from(
        self,
        token: WalletAddress,
        spender: WalletAddress,
        owner: WalletAddress,
        to: WalletAddress,
        amount: TokenAmount,
    ) -> ChainTx:
        """Move ``owner``'s tokens as ``spender`` under an allowance."""
        raw_token = self._b(token)
        data = (
            SEL_TRANSFER_FROM
            + PAD12
            + self._b(owner)
            + PAD12
            + self._b(to)
            + self._units(raw_token, amount).to_bytes(32, "big")
        )
        return self._send_one(RawCall(self._b(spender), raw_token, data, 0, GAS_TRANSFER))

    def allowance(self, token: WalletAddress, owner: WalletAddress, spender: WalletAddress) -> TokenAmount:
        """Return how much ``spender`` may still move of ``owner``'s tokens."""
        raw_token = self._b(token)
        (units,) = self._view("SecurityToken", raw_token, "allowance", self._b(owner), self._b(spender))
        return self._amount(int(units), self._token_decimals(raw_token))

    def balance_of(self, token: WalletAddress, wallet: WalletAddress) -> TokenAmount:
        """Return a wallet's raw balance (not multiplied)."""
        raw_token = self._b(token)
        units = self._word(raw_token, SEL_BALANCE_OF + PAD12 + self._b(wallet))
        return self._amount(units, self._token_decimals(raw_token))

    def total_supply(self, token: WalletAddress) -> TokenAmount:
        """Return the raw token supply."""
        raw_token = self._b(token)
        units = self._word(raw_token, SEL_TOTAL_SUPPLY)
        return self._amount(units, self._token_decimals(raw_token))

    def can_mint(self, instrument: Instrument, to: WalletAddress, amount: TokenAmount) -> TransferDecision:
        """Return the contracts' decision on minting ``amount`` to ``to``, by running the mint read-only.

        The very call ``mint`` would send, simulated as the issuer at the latest block: a rule's refusal
        comes back as its reason; any other revert is raised, as ``mint`` would raise it.
        """
        token = self._b(instrument.token)
        data = SEL_MINT + PAD12 + self._b(to) + self._units(token, amount).to_bytes(32, "big")
        try:
            self._backend.call(token, data, None, self._b(instrument.roles.issuer))
        except ChainRevert as revert:
            refusal = decode_revert(revert.data)
            if isinstance(refusal, ChainRefusal):
                return TransferDecision(False, refusal.reason)
            raise refusal from None
        return TransferDecision(True, Reason.OK)

    def can_transfer(
        self, instrument: Instrument, sender: WalletAddress, to: WalletAddress, amount: TokenAmount
    ) -> TransferDecision:
        """Return the contracts' decision on a transfer, with its reason, without moving anything."""
        token = self._b(instrument.token)
        data = (
            SEL_RESTRICTION
            + PAD12
            + self._b(sender)
            + PAD12
            + self._b(to)
            + self._units(token, amount).to_bytes(32, "big")
        )
        code = self._word(token, data)
        try:
            reason = Reason(code)
        except ValueError:
            raise DomainError("UNKNOWN_REASON", f"the contracts returned reason code {code}") from None
        return TransferDecision(reason is Reason.OK, reason)

    def events(
        self, contract: WalletAddress, from_block: int, to_block: int | None = None
    ) -> list[ChainEvent]:
        """Return the decoded events of ``contract`` in a block range."""
        return [self._event(log) for log in self._backend.logs(self._b(contract), from_block, to_block)]

    def balances_at(self, token: WalletAddress, block: int) -> Mapping[WalletAddress, TokenAmount]:
        """Return every non-zero holder balance at the end of ``block``, by replaying ``Transfer`` logs.

        Replaying works on every engine (the embedded one keeps no state history; a node prunes it).
        A backend that folds the transfers as they are mined (``transfer_balances``: the embedded
        one) answers from its fold instead, so the cost is the holders, not the history.
        """
        raw_token = self._b(token)
        folded = getattr(self._backend, "transfer_balances", None)
        balances: dict[bytes, int] = {} if folded is None else folded(raw_token, block)
        for log in () if folded is not None else self._backend.logs(raw_token, 0, block):
            if not log.topics or log.topics[0] != TRANSFER_TOPIC:
                continue
            value = int.from_bytes(log.data[:32], "big")
            source = log.topics[1][12:]
            target = log.topics[2][12:]
            if source != ZERO20:
                balances[source] = balances.get(source, 0) - value
            if target != ZERO20:
                balances[target] = balances.get(target, 0) + value
        decimals = self._token_decimals(raw_token)
        return {self._wallet(a): self._amount(v, decimals) for a, v in balances.items() if v}

    def block_number(self) -> int:
        """Return the latest block number."""
        return self._backend.block_number()

    def block_time(self) -> datetime:
        """Return the latest block's time."""
        return from_seconds(self._backend.timestamp())

    def block_at(self, moment: datetime) -> int:
        """Return the last block whose time is at or before ``moment`` (a record date's block).

        Block times never go back, so this is a binary search over block numbers; a moment before the
        first block is refused (``BEFORE_GENESIS``).
        """
        target = to_seconds(moment)
        backend = self._backend
        low, high = 0, backend.block_number()
        if backend.block_timestamp(low) > target:
            raise DomainError("BEFORE_GENESIS", f"the chain did not exist yet at {moment.isoformat()}")
        while low < high:  # invariant: block `low` is at or before the moment
            middle = (low + high + 1) // 2
            if backend.block_timestamp(middle) <= target:
                low = middle
            else:
                high = middle - 1
        return low
