"""``RelayChain``: transactions a self-custody wallet signed itself, decoded and submitted for it.

The platform never holds such a wallet's key. The wallet signs an ordinary EIP-155 transaction (legacy,
EIP-2930 or EIP-1559); this decodes it (RLP), recovers its sender from the signature, and submits it:
to a JSON-RPC node as the raw bytes (``eth_sendRawTransaction``, the node checks everything again),
to the embedded engine — which has no transaction layer — as a call from the recovered sender at the
signed nonce (``send_external``). On the embedded engine the receipt's hash is the engine's own
(``embedded`` module doc), not ``keccak(raw)``: events name that hash.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

import rlp

from equitoken.adapters.chain.backend import RawCall, RawReceipt
from equitoken.adapters.chain.facade._reverts import decode_revert
from equitoken.adapters.chain.facade._sending import Sending
from equitoken.domain.errors import DomainError
from equitoken.domain.ids import WalletAddress
from equitoken.ports.chain import ChainTx, SignedTransaction
from equitoken.signing import Account

_LEGACY_FIELDS = 9
_TYPED_FIELDS = {1: 11, 2: 12}
"""Fields of a signed transaction per EIP-2718 type (legacy: nonce … s)."""


@runtime_checkable
class _RawSubmitting(Protocol):
    def send_raw(self, raw_transactions: Sequence[bytes]) -> list[bytes]: ...
    def settle(self, tx_hashes: Sequence[bytes]) -> list[RawReceipt]: ...


@runtime_checkable
class _ExternalSending(Protocol):
    def send_external(self, call: RawCall, nonce: int) -> RawReceipt: ...


@runtime_checkable
class _Nonces(Protocol):
    def nonce(self, address: bytes) -> int: ...


def _malformed(why: str) -> DomainError:
    return DomainError("TX_MALFORMED", f"not a well-formed signed transaction: {why}")


def _int(item: Any) -> int:
    if not isinstance(item, bytes):
        raise _malformed("a numeric field is a list")
    if item[:1] == b"\0":
        raise _malformed("a numeric field has a leading zero byte")
    return int.from_bytes(item, "big")


def _fields(raw: bytes) -> tuple[int | None, list[Any]]:
    """Return (EIP-2718 type or None for legacy, the decoded RLP list)."""
    if not raw:
        raise _malformed("it is empty")
    kind: int | None = None
    body = raw
    if raw[0] < 0x7F:
        kind = raw[0]
        if kind not in _TYPED_FIELDS:
            raise _malformed(f"type {kind} is not a transaction type this relay knows")
        body = raw[1:]
    try:
        decoded = rlp.decode(body, strict=True)
    except Exception as bad:  # rlp raises its own hierarchy; any of it means "not a transaction"
        raise _malformed(f"its RLP does not decode ({type(bad).__name__})") from None
    expected = _LEGACY_FIELDS if kind is None else _TYPED_FIELDS[kind]
    if not isinstance(decoded, list) or len(decoded) != expected:
        raise _malformed(f"it has {len(decoded) if isinstance(decoded, list) else 0} fields, not {expected}")
    return kind, decoded


class Relay(Sending):
    """Decode, check and submit transactions signed by wallets whose keys the platform does not hold."""

    def holds_key(self, wallet: WalletAddress) -> bool:
        """Tell whether the platform's key ring holds ``wallet``'s key (a self-custody wallet must not)."""
        return self._b(wallet) in set(self._keyring.addresses())

    def decode_transaction(self, raw: bytes) -> SignedTransaction:
        """Return what ``raw`` asks, with the sender recovered from its signature (``TX_MALFORMED``)."""
        kind, fields = _fields(raw)
        if kind is None:
            nonce, _price, gas, to, value, data, v = (_int(fields[0]), *fields[1:7])
            v_number = _int(v)
            if v_number < 35:
                raise DomainError(
                    "TX_WRONG_CHAIN", "the transaction is not replay-protected (EIP-155): it names no chain"
                )
            chain_id = (v_number - 35) // 2
            gas_number = _int(gas)
        else:
            chain_id, nonce = _int(fields[0]), _int(fields[1])
            gas_at = 3 if kind == 1 else 4
            gas_number = _int(fields[gas_at])
            to, value, data = fields[gas_at + 1 : gas_at + 4]
        if not isinstance(to, bytes) or len(to) not in (0, 20):
            raise _malformed("its receiver is not an address")
        if not isinstance(data, bytes):
            raise _malformed("its data is not bytes")
        try:
            sender = Account.recover_transaction(raw)
        except Exception as bad:  # eth-account raises several types for a bad signature
            raise _malformed(f"its signature does not recover a sender ({type(bad).__name__})") from None
        return SignedTransaction(
            WalletAddress(sender),
            self._wallet(to) if to else None,
            nonce,
            chain_id,
            _int(value),
            gas_number,
            bytes(data),
        )

    def nonce_of(self, wallet: WalletAddress) -> int:
        """Return the nonce the wallet's next transaction must carry (mined transactions so far)."""
        backend = self._backend
        if not isinstance(backend, _Nonces):
            raise DomainError("RELAY_UNSUPPORTED", "this chain engine cannot tell a sender's nonce")
        return backend.nonce(self._b(wallet))

    def submit_transaction(self, raw: bytes) -> ChainTx:
        """Submit ``raw`` and wait for its receipt; a revert raises its code with the ``tx_hash``."""
        signed = self.decode_transaction(raw)
        backend = self._backend
        if isinstance(backend, _RawSubmitting):
            receipt = backend.settle(backend.send_raw([raw]))[0]
        elif isinstance(backend, _ExternalSending):
            to = None if signed.to is None else self._b(signed.to)
            call = RawCall(self._b(signed.sender), to, signed.data, signed.value, signed.gas)
            receipt = backend.send_external(call, signed.nonce)
        else:
            raise DomainError("RELAY_UNSUPPORTED", "this chain engine cannot take signed transactions")
        if not receipt.success:
            reverted = decode_revert(receipt.output)
            raise DomainError(reverted.code, reverted.message, {"tx_hash": "0x" + receipt.tx_hash.hex()})
        return self._tx(receipt)
