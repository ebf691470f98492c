"""Sending: calls built, sent in batches and checked; contracts deployed; role-bound writes.

``Sending`` is the base of the port mixins: it adds to ``ChainState`` and ``EventDecoding`` what turns a
call into a ``ChainTx`` or a raised refusal.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from equitoken.adapters.chain.backend import RawCall
from equitoken.adapters.chain.facade._abi import contract_abi
from equitoken.adapters.chain.facade._codec import GAS_ADMIN, GAS_DEPLOY, GAS_TRANSFER, PAD12, SEL_APPROVE
from equitoken.adapters.chain.facade._events import EventDecoding
from equitoken.adapters.chain.facade._reverts import decode_revert
from equitoken.ports.chain import ChainTx, Instrument


class Sending(EventDecoding):
    """Send calls and deploy contracts as the wallets whose keys the facade holds."""

    def _send_one(self, call: RawCall) -> ChainTx:
        receipt = self._backend.send([call])[0]
        if not receipt.success:
            raise decode_revert(receipt.output)
        return self._tx(receipt)

    def _send_all(self, calls: Sequence[RawCall]) -> list[ChainTx]:
        """Send ``calls`` in one batch; raise the first failure (the calls before it stay mined)."""
        receipts = self._backend.send(calls)
        for receipt in receipts:
            if not receipt.success:
                raise decode_revert(receipt.output)
        return [self._tx(r) for r in receipts]

    def _write(
        self, kind: str, sender: bytes, to: bytes, name: str, *args: Any, gas: int = GAS_ADMIN
    ) -> RawCall:
        return RawCall(sender, to, contract_abi(kind).encode(name, *args), 0, gas)

    def _deploy(self, kind: str, sender: bytes, *args: Any) -> bytes:
        receipt = self._backend.send(
            [RawCall(sender, None, contract_abi(kind).constructor_data(*args), 0, GAS_DEPLOY)]
        )[0]
        if not receipt.success or receipt.contract_address is None:
            raise decode_revert(receipt.output)
        self._kinds[receipt.contract_address] = kind
        return receipt.contract_address

    def _token_write(self, instrument: Instrument, role: str, name: str, *args: Any) -> ChainTx:
        sender = self._b(getattr(instrument.roles, role))
        return self._send_one(self._write("SecurityToken", sender, self._b(instrument.token), name, *args))

    def _agent_write(self, instrument: Instrument, kind: str, name: str, *args: Any) -> RawCall:
        target = instrument.registry if kind == "IdentityRegistry" else instrument.compliance
        return self._write(kind, self._b(instrument.roles.agent), self._b(target), name, *args)

    @staticmethod
    def _merged(txs: Sequence[ChainTx]) -> ChainTx:
        """Report several transactions sent together as one: the last one's hash, all gas and events."""
        last = txs[-1]
        return ChainTx(
            last.tx_hash, last.block, sum(t.gas_used for t in txs), tuple(e for t in txs for e in t.events)
        )

    def _approve_call(self, token: bytes, owner: bytes, spender: bytes, units: int) -> RawCall:
        return RawCall(
            owner, token, SEL_APPROVE + PAD12 + spender + units.to_bytes(32, "big"), 0, GAS_TRANSFER
        )
