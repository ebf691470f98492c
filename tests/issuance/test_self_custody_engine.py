"""The engine with self-custody investors, in process: firm quotes out count against the buffer's
off-hours exposure cap, an expired one releases what it held, and none is booked twice.

The investors' wallets are eth-account keys the platform never sees; they settle through the chain
port's relay (``submit_transaction``), as the API's relay does.
"""

from __future__ import annotations

from datetime import timedelta
from functools import partial

from eth_abi import encode
from eth_account import Account
from eth_account.signers.local import LocalAccount

from equitoken.app.self_custody import SelfCustody
from equitoken.compliance.investors import InvestorCategory
from equitoken.domain.errors import DomainError
from equitoken.domain.ids import InvestorId, Symbol, WalletAddress
from equitoken.domain.keccak import keccak256
from equitoken.domain.trading import Side
from equitoken.domain.values import Money, Shares
from equitoken.issuance.models import ModelName
from equitoken.issuance.models.base import Holder
from equitoken.issuance.models.books import hedge_pending, investor_tokens
from equitoken.issuance.models.instant import InstantModel, InstantSettings, build_instant_model
from equitoken.issuance.orders import OrderState
from equitoken.ledger.accounts import Asset
from equitoken.ports.chain import ChainQuote, QuoteSide
from tests.issuance.world import World, ny

MSFT = Symbol("MSFT")
FRIDAY_AFTER_CLOSE = ny(2012, 11, 23, 14, 0)  # off-hours: the cap applies
APPROVE = keccak256(b"approve(address,uint256)")[:4]


def own_investor(world: World, name: str) -> tuple[Holder, LocalAccount]:
    """Onboard a self-custody investor with a fresh key of its own, funded with $100,000."""
    wallet: LocalAccount = Account.create()
    holder = world.engine.onboard(
        InvestorId(f"inv-{name}"),
        name=name.title(),
        residence="CH",
        category=InvestorCategory.PROFESSIONAL,
        wallet=WalletAddress(wallet.address),
    )
    world.engine.deposit(holder, Money("100000"))
    return holder, wallet


def send(world: World, wallet: LocalAccount, to: WalletAddress, data: bytes, nonce: int) -> None:
    """Sign with the investor's own key and submit through the chain port."""
    tx = {"to": to.value, "data": data, "nonce": nonce, "gas": 2_000_000, "gasPrice": 0}
    raw = wallet.sign_transaction(tx | {"chainId": world.engine.chain.chain_id}).raw_transaction
    world.engine.chain.submit_transaction(bytes(raw))


def test_firm_quotes_out_count_against_the_cap_and_an_expired_one_releases_it() -> None:
    world = World.start(FRIDAY_AFTER_CLOSE)
    world.list(
        "MSFT",
        ModelName.INSTANT,
        "instant-execution",
        partial(build_instant_model, settings=InstantSettings()),
    )
    alice, alice_key = own_investor(world, "alice")
    bob, _ = own_investor(world, "bob")
    assert world.engine.custody_wallet(alice.investor) == alice.wallet
    desk = SelfCustody(world.engine)
    first = desk.firm_quote("t", "a1", alice, MSFT, Side.BUY, Shares("1000"))  # 27,700 of the 50,000 cap
    assert first.order.state is OrderState.ACCEPTED
    try:  # would be 55,400 if the first settles: refused now, although nothing is booked yet
        desk.firm_quote("t", "b1", bob, MSFT, Side.BUY, Shares("1000"))
        raise AssertionError("the second quote should be refused")
    except DomainError as refused:
        assert refused.code == "BUFFER_LIMIT"
    assert world.balance(hedge_pending(MSFT), Asset.share(MSFT)) == 0

    world.at(FRIDAY_AFTER_CLOSE + timedelta(seconds=31))  # the first quote's chain time is past
    assert world.engine.orders.order(first.order.order_id).state is OrderState.CANCELLED
    late = APPROVE + encode(["address", "uint256"], [first.quote.settlement.value, 10**30])
    send(world, alice_key, world.engine.stablecoin, late, 0)
    try:
        send(world, alice_key, first.quote.settlement, first.calldata, 1)
        raise AssertionError("an expired quote must not settle")
    except DomainError as refused:
        assert refused.code == "QUOTE_EXPIRED"

    second = desk.firm_quote("t", "b2", bob, MSFT, Side.BUY, Shares("1000"))  # the cap was released
    assert second.order.state is OrderState.ACCEPTED
    assert world.backed() and world.engine.halted() == {}


MONDAY = ny(2012, 11, 19, 10, 0)  # in session: every fill is hedged at once


def listed_in_session() -> World:
    world = World.start(MONDAY)
    world.list(
        "MSFT",
        ModelName.INSTANT,
        "instant-execution",
        partial(build_instant_model, settings=InstantSettings()),
    )
    return world


def test_a_self_custody_buy_then_sell_settle_from_the_wallet_and_book_as_any_instant_fill() -> None:
    world = listed_in_session()
    alice, key = own_investor(world, "alice")
    desk = SelfCustody(world.engine)
    buy = desk.firm_quote("t", "buy", alice, MSFT, Side.BUY, Shares("10"))
    approve = APPROVE + encode(["address", "uint256"], [buy.quote.settlement.value, 10**30])
    send(world, key, world.engine.stablecoin, approve, 0)
    send(world, key, buy.quote.settlement, buy.calldata, 1)
    assert world.engine.book_settlements() == (buy.order.order_id,)
    assert world.engine.book_settlements() == ()  # once
    sell = desk.firm_quote("t", "sell", alice, MSFT, Side.SELL, Shares("4"))
    cash = world.cash(alice)
    send(world, key, sell.quote.settlement, sell.calldata, 2)  # burns its tokens, the treasury pays
    assert world.engine.book_settlements() == (sell.order.order_id,)
    assert world.tokens("MSFT", alice) == 6 and world.cash(alice) == cash + sell.notional
    token = world.engine.model(MSFT).listing.token
    assert world.balance(investor_tokens(alice.investor, MSFT), token) == 6  # the ledger = the chain
    for made in (buy, sell):
        assert world.engine.orders.order(made.order.order_id).state is OrderState.SETTLED
    assert world.balance(hedge_pending(MSFT), Asset.share(MSFT)) == 0  # both hedged at the broker
    assert world.backed() and world.engine.halted() == {}


def test_a_settlement_of_a_quote_the_platform_never_journaled_halts_the_listing() -> None:
    world = listed_in_session()
    alice, key = own_investor(world, "alice")
    model = world.engine.model(MSFT)
    assert isinstance(model, InstantModel)
    settlement = model.settlement
    approve = APPROVE + encode(["address", "uint256"], [settlement.value, 10**30])
    send(world, key, world.engine.stablecoin, approve, 0)
    # A quote signed with the platform's key but recorded nowhere (a lost journal, a leaked key).
    stray = ChainQuote(
        settlement,
        alice.wallet,
        QuoteSide.BUY,
        model.listing.instrument.amount("1"),
        Money("30"),
        FRIDAY_AFTER_CLOSE,
        "never-journaled",
    )
    signed = world.engine.chain.sign_quote(stray)
    send(world, key, settlement, world.engine.chain.settle_calldata(signed), 1)
    world.engine.tick()
    halted = world.engine.halted()
    assert MSFT in halted and "SETTLEMENT_UNKNOWN_QUOTE" in halted[MSFT]
    assert any("SETTLEMENT_UNKNOWN_QUOTE" in f for f in world.engine.log.failures)
    world.engine.tick()  # reported once, not at every tick
    assert sum("SETTLEMENT_UNKNOWN_QUOTE" in f for f in world.engine.log.failures) == 1
