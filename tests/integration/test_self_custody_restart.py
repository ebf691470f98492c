"""A firm quote settled on chain while nothing books it (a kill between the chain event and the booking)
is booked exactly once by the service that opens next — and never again by the ones after.

The service runs in process over a sandbox data directory (SQLite, the durable embedded chain, the
brokers' logs). The investor's wallet (eth-account) settles its quote straight on the chain port, the
way a wallet sends to a node: no engine command runs. Then the process "dies": the store and the
chain are closed without a tick. Each reopening folds the journals back and looks for the quote.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

from eth_abi import encode
from eth_account import Account
from eth_account.signers.local import LocalAccount

from equitoken.adapters.chain.keys import DeterministicKeyRing
from equitoken.app.issuance import investor_label
from equitoken.app.sandbox import SandboxSpec
from equitoken.app.service import Service
from equitoken.app.settings import load_settings
from equitoken.compliance.investors import InvestorCategory
from equitoken.domain.ids import InvestorId, Symbol, WalletAddress
from equitoken.domain.keccak import keccak256
from equitoken.domain.trading import Side
from equitoken.domain.values import Money, Shares
from equitoken.issuance.models.books import investor_tokens

SPEC = SandboxSpec(date(2012, 11, 19), 1)
MSFT = Symbol("MSFT")
INVESTOR = InvestorId("inv-restart")


def open_service(home: Path) -> Service:
    """Open the service over ``home`` as ``equitoken serve --sandbox`` would."""
    return Service.open(replace(load_settings({}), data_dir=home), SPEC)


def die(service: Service) -> None:
    """Drop the service as a killed process would: no tick, nothing more booked; locks released."""
    service.engine.chain.close()
    service.store.close()


def raw_tx(wallet: LocalAccount, to: WalletAddress, data: bytes, nonce: int, chain_id: int) -> bytes:
    """Return a legacy EIP-155 transaction ``wallet`` signed itself."""
    tx = {"to": to.value, "data": data, "nonce": nonce, "gas": 2_000_000, "gasPrice": 0, "chainId": chain_id}
    return bytes(wallet.sign_transaction(tx).raw_transaction)


def fills_booked(service: Service) -> list[str]:
    """Return the keys of the instant fills the ledger holds for the investor."""
    return [
        e.key
        for e in service.store.entries()
        if e.key.startswith("fill:") and e.draft.metadata.get("symbol") == "MSFT"
    ]


def test_a_settlement_made_while_nothing_books_is_booked_once_after_restart(tmp_path: Path) -> None:
    wallet: LocalAccount = Account.create()
    first = open_service(tmp_path)
    engine = first.engine
    engine.onboard(
        INVESTOR,
        name="Restart",
        residence="DE",
        category=InvestorCategory.PROFESSIONAL,
        wallet=WalletAddress(wallet.address),
    )
    holder = first.holder(INVESTOR)
    assert holder.wallet == WalletAddress(wallet.address) and not engine.chain.holds_key(holder.wallet)
    engine.deposit(holder, Money("5000"), key="fund")
    quote = first.self_custody.firm_quote("test", "restart-1", holder, MSFT, Side.BUY, Shares("7"))
    order_id = quote.order.order_id
    chain_id = engine.chain.chain_id
    approve = keccak256(b"approve(address,uint256)")[:4] + encode(
        ["address", "uint256"], [quote.quote.settlement.value, 10**30]
    )
    engine.chain.submit_transaction(raw_tx(wallet, engine.stablecoin, approve, 0, chain_id))
    settled = engine.chain.submit_transaction(
        raw_tx(wallet, quote.quote.settlement, quote.calldata, 1, chain_id)
    )
    assert any(e.name == "QuoteSettled" for e in settled.events)
    assert fills_booked(first) == []  # on chain, not in the books: the process dies here
    die(first)

    second = open_service(tmp_path)
    try:
        order = second.engine.orders.order(order_id)
        assert order.state.value == "settled" and len(order.fills) == 1
        assert fills_booked(second) == [f"fill:{order_id}:1"]
        symbol_token = second.engine.model(MSFT).listing.token
        assert second.store.balance(investor_tokens(INVESTOR, MSFT), symbol_token) == 7
        assert second.engine.token_balance(MSFT, holder.wallet).value == 7
        assert second.engine.halted() == {} and second.engine.invariants_ok
        second.tick()
        assert second.holder(INVESTOR).wallet == holder.wallet  # custody survived the restart
        # Nothing was derived for the investor, before or after the restart: no key, no label.
        ring = second.engine.chain.keyring
        assert isinstance(ring, DeterministicKeyRing) and investor_label(INVESTOR) not in ring.labels()
        assert holder.wallet.to_bytes() not in ring.addresses()
    finally:
        die(second)

    third = open_service(tmp_path)
    try:
        third.tick()
        assert fills_booked(third) == [f"fill:{order_id}:1"]  # exactly once
        assert len(third.engine.orders.order(order_id).fills) == 1
        assert third.engine.halted() == {}
    finally:
        third.close()
