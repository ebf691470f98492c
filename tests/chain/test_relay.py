"""``RelayChain``: a transaction a wallet outside the key ring signed itself, decoded and submitted, on
every engine (embedded, durable, anvil — where it goes to the node as raw bytes)."""

from __future__ import annotations

from pathlib import Path

import pytest
from eth_abi import encode
from eth_account import Account
from eth_account.signers.local import LocalAccount
from hypothesis import given, settings
from hypothesis import strategies as st

from equitoken.adapters.chain.backend import EvmBackend
from equitoken.adapters.chain.durable import DurableEmbeddedBackend
from equitoken.adapters.chain.embedded import EmbeddedBackend
from equitoken.adapters.chain.facade import ChainFacade
from equitoken.adapters.chain.keys import DeterministicKeyRing
from equitoken.domain.errors import DomainError
from equitoken.domain.ids import WalletAddress
from equitoken.domain.keccak import keccak256
from equitoken.domain.values import Money

TRANSFER = keccak256(b"transfer(address,uint256)")[:4]
GAS_PRICE = 100 * 10**9  # above any base fee anvil starts with; the embedded chain charges nothing


def transfer_tx(
    wallet: LocalAccount,
    coin: WalletAddress,
    to: WalletAddress,
    units: int,
    nonce: int,
    chain_id: int,
    kind: int,
) -> bytes:
    """Return a stablecoin transfer ``wallet`` signed, as a legacy (0), EIP-2930 (1) or EIP-1559 (2) tx."""
    tx: dict[str, object] = {
        "to": coin.value,
        "data": TRANSFER + encode(["address", "uint256"], [to.value, units]),
        "nonce": nonce,
        "gas": 200_000,
        "chainId": chain_id,
        "value": 0,
    }
    if kind == 2:
        tx |= {"type": 2, "maxFeePerGas": GAS_PRICE, "maxPriorityFeePerGas": 1}
    else:
        tx |= {"gasPrice": GAS_PRICE} | ({"type": 1, "accessList": []} if kind == 1 else {})
    return bytes(wallet.sign_transaction(tx).raw_transaction)


@pytest.mark.parametrize("kind", [0, 1, 2])
def test_a_wallet_outside_the_key_ring_moves_its_own_coins(
    backend: EvmBackend, keyring: DeterministicKeyRing, kind: int
) -> None:
    chain = ChainFacade(backend, keyring)
    wallet: LocalAccount = Account.create()
    own = WalletAddress(wallet.address)
    alice = WalletAddress("0x" + keyring.label_address("alice").hex())
    if hasattr(backend, "fund"):
        backend.fund(own.to_bytes(), 10**22)  # gas on a node; nothing on the embedded chain
    coin = chain.deploy_stablecoin()
    chain.mint_stablecoin(coin, own, Money("100"))
    assert not chain.holds_key(own) and chain.nonce_of(own) == 0
    raw = transfer_tx(wallet, coin, alice, 40_000_000, 0, chain.chain_id, kind)
    decoded = chain.decode_transaction(raw)
    assert (decoded.sender, decoded.to, decoded.nonce, decoded.chain_id) == (own, coin, 0, chain.chain_id)
    tx = chain.submit_transaction(raw)
    assert [e.name for e in tx.events] == ["Transfer"]
    assert chain.stablecoin_balance(coin, own) == Money("60") and chain.nonce_of(own) == 1
    with pytest.raises(DomainError) as replayed:  # the node or the engine refuses a used nonce
        chain.submit_transaction(raw)
    assert replayed.value.code in ("TX_NONCE_REFUSED", "TX_REJECTED")
    assert chain.stablecoin_balance(coin, own) == Money("60")


def test_a_relayed_transaction_is_in_the_durable_block_log(tmp_path: Path) -> None:
    ring = DeterministicKeyRing("relay-durable", ("alice",))
    path = tmp_path / "chain.log"
    chain = ChainFacade(DurableEmbeddedBackend(path, ring), ring)
    wallet: LocalAccount = Account.create()
    own, alice = WalletAddress(wallet.address), WalletAddress("0x" + ring.label_address("alice").hex())
    coin = chain.deploy_stablecoin()
    chain.mint_stablecoin(coin, own, Money("10"))
    chain.submit_transaction(transfer_tx(wallet, coin, alice, 3_000_000, 0, chain.chain_id, 2))
    chain.close()
    reopened = DurableEmbeddedBackend(path, ring)  # replays the relayed record and checks its digest
    try:
        assert reopened.nonce(own.to_bytes()) == 1
    finally:
        reopened.close()


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_any_bytes_are_a_transaction_or_refused_with_a_reason(raw: bytes) -> None:
    ring = DeterministicKeyRing("relay-fuzz")
    chain = ChainFacade(EmbeddedBackend(ring), ring)
    try:
        chain.decode_transaction(raw)
    except DomainError as refused:
        assert refused.code in ("TX_MALFORMED", "TX_WRONG_CHAIN")


def test_a_transaction_without_a_chain_id_is_refused() -> None:
    ring = DeterministicKeyRing("relay-155")
    chain = ChainFacade(EmbeddedBackend(ring), ring)
    wallet: LocalAccount = Account.create()
    unprotected = wallet.sign_transaction(
        {"to": wallet.address, "data": b"", "nonce": 0, "gas": 21_000, "gasPrice": 1, "value": 0}
    )
    with pytest.raises(DomainError) as refused:
        chain.decode_transaction(bytes(unprotected.raw_transaction))
    assert refused.value.code == "TX_WRONG_CHAIN"
