"""Whatever the order of firm quotes, settlements by the investors' own wallets, ticks, restarts and the
passing of time, every quote settled on chain is booked exactly once, every other ends unbooked, and
the books equal the chain (Hypothesis over the real engine, embedded chain and simulated broker)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from eth_abi import encode
from eth_account import Account
from eth_account.signers.local import LocalAccount
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from equitoken.app.self_custody import FirmQuote, SelfCustody
from equitoken.compliance.investors import InvestorCategory
from equitoken.domain.errors import DomainError
from equitoken.domain.ids import InvestorId, Symbol, WalletAddress
from equitoken.domain.keccak import keccak256
from equitoken.domain.trading import Side
from equitoken.domain.values import Money, Shares
from equitoken.issuance.models.base import Holder
from equitoken.issuance.models.books import investor_tokens
from equitoken.issuance.orders import OrderState
from tests.issuance.test_restart import restart, start
from tests.issuance.world import World

MSFT = Symbol("MSFT")
APPROVE = keccak256(b"approve(address,uint256)")[:4]

_action = st.one_of(
    st.tuples(st.just("quote"), st.integers(0, 1), st.integers(1, 40)),
    st.tuples(st.just("settle"), st.integers(0, 7), st.just(0)),
    st.tuples(st.just("tick"), st.just(0), st.just(0)),
    st.tuples(st.just("restart"), st.just(0), st.just(0)),
    st.tuples(st.just("wait"), st.integers(1, 40), st.just(0)),
)


@dataclass
class Wallet:
    holder: Holder
    key: LocalAccount
    nonce: int = 0


def send(world: World, wallet: Wallet, to: WalletAddress, data: bytes) -> bool:
    """Sign with the wallet's own key and submit; return whether the chain took it (a revert: False)."""
    tx = {"to": to.value, "data": data, "nonce": wallet.nonce, "gas": 2_000_000, "gasPrice": 0}
    raw = wallet.key.sign_transaction(tx | {"chainId": world.engine.chain.chain_id}).raw_transaction
    wallet.nonce += 1  # mined either way: a revert uses its nonce too
    try:
        world.engine.chain.submit_transaction(bytes(raw))
    except DomainError as reverted:
        assert reverted.code == "QUOTE_EXPIRED", reverted
        return False
    return True


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_action, min_size=1, max_size=14))
def test_settled_quotes_are_booked_once_and_the_rest_end_unbooked(
    actions: list[tuple[str, int, int]],
) -> None:
    world, _ = start()
    wallets: list[Wallet] = []
    for n in range(2):
        key: LocalAccount = Account.create()
        holder = world.engine.onboard(
            InvestorId(f"inv-own-{n}"),
            name=f"Own {n}",
            residence="DE",
            category=InvestorCategory.PROFESSIONAL,
            wallet=WalletAddress(key.address),
        )
        world.engine.deposit(holder, Money("100000"))
        wallets.append(Wallet(holder, key))
    quotes: list[tuple[FirmQuote, Wallet]] = []
    settled: set[str] = set()
    tried: set[str] = set()
    for kind, a, b in actions:
        if kind == "quote":
            wallet = wallets[a]
            made = SelfCustody(world.engine).firm_quote(
                "prop", f"q{len(quotes)}", wallet.holder, MSFT, Side.BUY, Shares(b)
            )
            if wallet.nonce == 0:
                approve = APPROVE + encode(["address", "uint256"], [made.quote.settlement.value, 10**30])
                assert send(world, wallet, world.engine.stablecoin, approve)
            quotes.append((made, wallet))
        elif kind == "settle" and quotes:
            made, wallet = quotes[a % len(quotes)]
            if made.quote.quote_id in tried:
                continue
            tried.add(made.quote.quote_id)
            if send(world, wallet, made.quote.settlement, made.calldata):
                settled.add(made.quote.quote_id)
        elif kind == "tick":
            world.engine.tick()
        elif kind == "restart":
            restart(world)
        elif kind == "wait":
            world.clock.advance(timedelta(seconds=a))
    world.clock.advance(timedelta(seconds=31))  # every quote's time is up
    world.engine.tick()
    world.engine.tick()
    event(f"settled {min(len(settled), 3)}+, quoted {min(len(quotes), 3)}+")
    entries = {e.key for e in world.store.entries()}
    for made, _wallet in quotes:
        order = world.engine.orders.order(made.order.order_id)
        booked = f"fill:{made.quote.quote_id}" in entries
        if made.quote.quote_id in settled:
            assert booked and order.state is OrderState.SETTLED and len(order.fills) == 1
        else:
            assert not booked and order.state is OrderState.CANCELLED and order.fills == ()
    token = world.engine.model(MSFT).listing.token
    for wallet in wallets:
        on_chain = world.engine.token_balance(MSFT, wallet.holder.wallet).value
        assert world.store.balance(investor_tokens(wallet.holder.investor, MSFT), token) == on_chain
    assert world.engine.halted() == {} and world.backed()
