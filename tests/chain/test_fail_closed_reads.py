"""Every read of a contract refuses a missing contract or a malformed answer; none decodes to a default.

Regression (issue 11, item 1): after a node restart ``eth_call`` to the recorded token answered empty
bytes, ``int.from_bytes(b"")`` read that as reason 0 = OK, and ``compliance check`` said *on-chain allowed*
for a transfer to a sanctioned wallet; balances and supply read zero the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pytest

from equitoken.adapters.chain.backend import EvmBackend, RawCall, RawLog, RawReceipt
from equitoken.adapters.chain.facade import ChainFacade
from equitoken.adapters.chain.keys import DeterministicKeyRing
from equitoken.domain.errors import DomainError
from equitoken.domain.ids import Symbol, WalletAddress
from equitoken.ports.chain import Instrument

NOWHERE = [WalletAddress(f"0x{n:040x}") for n in (0xDEAD01, 0xDEAD02, 0xDEAD03)]
"""Addresses with no code on any fresh chain."""

READS: dict[str, Callable[[ChainFacade, Instrument, WalletAddress], Any]] = {
    "can_transfer": lambda c, i, w: c.can_transfer(i, w, w, i.amount(5_000_000)),
    "balance_of": lambda c, i, w: c.balance_of(i.token, w),
    "total_supply": lambda c, i, w: c.total_supply(i.token),
    "multiplier": lambda c, i, w: c.multiplier(i),
    "is_verified": lambda c, i, w: c.is_verified(i, w),
    "frozen_tokens": lambda c, i, w: c.frozen_tokens(i, w),
}


def _ghost(chain: ChainFacade) -> Instrument:
    """Return an instrument recorded at addresses where nothing is deployed (a restarted node)."""
    return chain.attach_instrument(Symbol("GONE"), *NOWHERE)


@pytest.mark.parametrize("read", sorted(READS))
def test_a_read_of_a_missing_contract_is_no_contract(
    backend: EvmBackend, keyring: DeterministicKeyRing, read: str
) -> None:
    chain = ChainFacade(backend, keyring)
    instrument = _ghost(chain)
    wallet = chain.wallet("alice")
    with pytest.raises(DomainError) as refused:
        READS[read](chain, instrument, wallet)
    assert refused.value.code == "NO_CONTRACT"
    assert "no contract at" in refused.value.message


def test_an_unknown_token_decimals_read_is_no_contract(
    backend: EvmBackend, keyring: DeterministicKeyRing
) -> None:
    chain = ChainFacade(backend, keyring)
    with pytest.raises(DomainError) as refused:
        chain.balance_of(NOWHERE[0], chain.wallet("alice"))  # decimals unknown: read from the chain first
    assert refused.value.code == "NO_CONTRACT"


class ForgingBackend:
    """A real backend whose read-only answers are replaced by ``answer(to, real_output)``.

    A fake of the ``EvmBackend`` port standing for a node that answers nonsense: sends, logs and code pass
    through, so contracts really are deployed and have code.
    """

    def __init__(self, inner: EvmBackend, answer: Callable[[bytes], bytes]) -> None:
        self._inner = inner
        self.answer = answer
        self.forging = False

    @property
    def chain_id(self) -> int:
        return self._inner.chain_id

    def send(self, calls: Sequence[RawCall]) -> list[RawReceipt]:
        return self._inner.send(calls)

    def call(self, to: bytes, data: bytes, block: int | None = None, sender: bytes | None = None) -> bytes:
        output = self._inner.call(to, data, block, sender)
        return self.answer(output) if self.forging else output

    def code(self, address: bytes) -> bytes:
        return self._inner.code(address)

    def block_number(self) -> int:
        return self._inner.block_number()

    def timestamp(self) -> int:
        return self._inner.timestamp()

    def block_timestamp(self, number: int) -> int:
        return self._inner.block_timestamp(number)

    def logs(self, address: bytes | None, from_block: int, to_block: int | None = None) -> list[RawLog]:
        return self._inner.logs(address, from_block, to_block)

    def close(self) -> None:
        self._inner.close()


ANSWERS: dict[str, Callable[[bytes], bytes]] = {
    "empty": lambda out: b"",
    "short": lambda out: out[:5],
    "long": lambda out: out + b"\x00" * 32,
    "ragged": lambda out: out + b"\x01",
}


MALFORMED = [
    (read, answer)
    for read in ("can_transfer", "balance_of", "total_supply", "multiplier")
    for answer in sorted(ANSWERS)
    # A whole extra word after a decoded tuple is tolerated by ABI decoders (the leading words decode
    # the same); the single-word reads refuse it.
    if not (read == "multiplier" and answer == "long")
]


@pytest.mark.parametrize(("read", "answer"), MALFORMED)
def test_a_malformed_answer_from_a_deployed_contract_is_chain_bad_response(
    keyring: DeterministicKeyRing, read: str, answer: str
) -> None:
    from equitoken.adapters.chain.embedded import EmbeddedBackend

    forging = ForgingBackend(EmbeddedBackend(keyring), ANSWERS[answer])
    chain = ChainFacade(forging, keyring)
    instrument = chain.deploy_instrument(Symbol("ACME"), "Acme Corp tokenized share")
    wallet = chain.wallet("alice")
    READS[read](chain, instrument, wallet)  # well-formed answers decode
    forging.forging = True
    with pytest.raises(DomainError) as refused:
        READS[read](chain, instrument, wallet)
    assert refused.value.code == "CHAIN_BAD_RESPONSE"
    chain.close()


def test_a_deployed_instrument_still_reads_normally(
    backend: EvmBackend, keyring: DeterministicKeyRing
) -> None:
    chain = ChainFacade(backend, keyring)
    instrument = chain.deploy_instrument(Symbol("ACME"), "Acme Corp tokenized share")
    alice = chain.wallet("alice")
    assert chain.total_supply(instrument.token) == instrument.amount(0)
    assert chain.balance_of(instrument.token, alice) == instrument.amount(0)
    decision = chain.can_transfer(instrument, alice, chain.wallet("bob"), instrument.amount(1))
    assert not decision.allowed  # unbound wallets: the contracts refuse, with a reason, not a default
