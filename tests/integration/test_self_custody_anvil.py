"""With a JSON-RPC node, a self-custody wallet sends its settlement to the node itself — no relay — and
the engine books it the same way, from the chain's log, at its next tick.

A private anvil node starts at the engine's clock (2012, where the bundled prices are), so the quote's
expiry means the same to the contract as to the engine. Skipped without anvil (failed under CI=true).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from eth_abi import encode
from eth_account import Account
from eth_account.signers.local import LocalAccount

from equitoken.adapters.chain.anvil import AnvilNode
from equitoken.adapters.chain.facade import ChainFacade
from equitoken.adapters.chain.keys import DeterministicKeyRing
from equitoken.adapters.chain.rpc import RpcBackend
from equitoken.adapters.clock import ManualClock
from equitoken.app.bootstrap import bootstrap
from equitoken.app.issuance import open_engine
from equitoken.app.programmes import default_builders
from equitoken.app.self_custody import SelfCustody
from equitoken.app.settings import load_settings
from equitoken.compliance.investors import InvestorCategory
from equitoken.domain.ids import InvestorId, Symbol, WalletAddress
from equitoken.domain.keccak import keccak256
from equitoken.domain.trading import Side
from equitoken.domain.values import Money, Shares
from equitoken.issuance.models import ModelName
from equitoken.issuance.models.base import Holder
from equitoken.issuance.models.books import investor_tokens
from tests.chain.anvil_support import anvil_binary

AT = datetime(2012, 11, 19, 15, 0, tzinfo=UTC)
MSFT = Symbol("MSFT")
GAS_PRICE = 100 * 10**9


def rpc(url: str, method: str, *params: Any) -> Any:
    """Ask the node directly, as the investor's own wallet software would."""
    answer = httpx.post(
        url, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}
    ).json()
    assert "error" not in answer, answer
    return answer["result"]


def send_direct(url: str, wallet: LocalAccount, to: str, data: bytes, nonce: int, chain_id: int) -> None:
    """Sign with the wallet's own key and send to the node; the node mines it (manual mining here)."""
    tx = {
        "to": to,
        "data": data,
        "nonce": nonce,
        "gas": 2_000_000,
        "gasPrice": GAS_PRICE,
        "chainId": chain_id,
    }
    rpc(url, "eth_sendRawTransaction", "0x" + bytes(wallet.sign_transaction(tx).raw_transaction).hex())
    rpc(url, "evm_mine")


def test_a_settlement_sent_straight_to_the_node_is_booked_once(tmp_path: Path) -> None:
    node = AnvilNode(binary=anvil_binary(), extra_args=("--timestamp", str(int(AT.timestamp())))).start()
    ring = DeterministicKeyRing("self-custody-anvil")
    backend = RpcBackend(node.url, ring, chain_id=node.chain_id, node=node)
    try:
        settings = replace(load_settings({}), data_dir=tmp_path)
        platform = bootstrap(settings, ManualClock(AT), chain=ChainFacade(backend, ring), chain_kept=True)
        engine = open_engine(platform)
        builders = default_builders()
        engine.list_stock(MSFT, ModelName.INSTANT, "instant-execution", builders[ModelName.INSTANT])
        wallet: LocalAccount = Account.create()
        own = WalletAddress(wallet.address)
        investor = InvestorId("inv-node")
        engine.onboard(
            investor, name="Node", residence="DE", category=InvestorCategory.PROFESSIONAL, wallet=own
        )
        holder = Holder(investor, own)
        engine.deposit(holder, Money("5000"), key="fund")
        backend.fund(own.to_bytes(), 10**21)  # gas: a node charges for it
        made = SelfCustody(engine).firm_quote("test", "node-1", holder, MSFT, Side.BUY, Shares("4"))
        approve = keccak256(b"approve(address,uint256)")[:4] + encode(
            ["address", "uint256"], [made.quote.settlement.value, 10**30]
        )
        send_direct(node.url, wallet, engine.stablecoin.value, approve, 0, engine.chain.chain_id)
        send_direct(node.url, wallet, made.quote.settlement.value, made.calldata, 1, engine.chain.chain_id)
        assert engine.orders.order(made.order.order_id).fills == ()  # on chain, not yet seen

        engine.tick()
        order = engine.orders.order(made.order.order_id)
        assert order.state.value == "settled" and len(order.fills) == 1
        token = engine.model(MSFT).listing.token
        assert platform.store.balance(investor_tokens(investor, MSFT), token) == 4
        assert engine.token_balance(MSFT, own).value == 4
        engine.tick()
        assert len([e for e in platform.store.entries() if e.key == f"fill:{order.order_id}:1"]) == 1
        assert engine.halted() == {} and engine.invariants_ok
        platform.store.close()
    finally:
        backend.close()
