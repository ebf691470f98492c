"""DeFi composability, measured: real swaps through a constant-product pool of the token, on a chain snapshot.

The largest holder seeds an x·y=k pool with a tenth of its tokens (at most 100 shares' worth) and their
cash value at the reference; then two wallets try to buy through it with growing amounts — an
``outsider`` no investor owns (what a DeFi protocol's user is) and an onboarded ``investor``. Each
attempt is a real transaction on the lab's EVM: the token's transfer rules decide, not a flag. The
snapshot is reverted afterwards, so the probe changes nothing the measures read.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import ROUND_FLOOR, Decimal

from equitoken.app.issuance import IssuanceEngine
from equitoken.domain.errors import DomainError
from equitoken.domain.ids import Symbol, WalletAddress
from equitoken.domain.values import Money, quantize
from equitoken.lab.run import SwapSeen

SPENDS = (Decimal(10), Decimal(100), Decimal(1000))
"""The stablecoin each wallet tries to spend, one swap each, smallest first."""
SEED_SHARE = Decimal("0.1")
SEED_CAP_SHARES = Decimal(100)


def probe(engine: IssuanceEngine, symbol: Symbol, investor: WalletAddress | None) -> tuple[SwapSeen, ...]:
    """Return every attempted swap (see the module doc); nothing when there is no holder to seed a pool."""
    chain = engine.chain
    dev = chain.dev
    if dev is None:
        return ()
    listing = engine.model(symbol).listing
    instrument = listing.instrument
    balances = chain.balances_at(instrument.token, chain.block_number())
    if not balances:
        return ()
    provider, held = max(balances.items(), key=lambda item: (item[1].value, item[0].value))
    multiplier = chain.multiplier(instrument)
    price = engine.prices.reference_price(symbol, engine.clock.now()).price.amount
    # A multiplier moved by reinvested dividends makes the cap a non-terminating quotient: down to
    # the token's decimals, never more than the holder has.
    seed = min(held.value * SEED_SHARE, SEED_CAP_SHARES / multiplier)
    seed_tokens = instrument.amount(quantize(seed, instrument.decimals, ROUND_FLOOR))
    if seed_tokens.value <= 0:
        return ()
    snapshot = dev.snapshot()
    found: list[SwapSeen] = []
    try:
        pool = chain.deploy_pool(instrument, listing.stablecoin)
        cash = Money.rounded(price * multiplier * seed_tokens.value)
        chain.mint_stablecoin(listing.stablecoin, provider, cash)
        try:
            chain.add_liquidity(pool, provider, seed_tokens, cash)
        except DomainError as refused:
            return tuple(
                SwapSeen(who, spend, False, f"POOL_REFUSED:{refused.code}", None)
                for who in ("outsider", "investor")
                for spend in SPENDS
            )
        wallets = {"outsider": chain.wallet("lab-pool:outsider")}
        if investor is not None:
            wallets["investor"] = investor
        for who, wallet in wallets.items():
            for spend in SPENDS:
                found.append(_swap(engine, pool, wallet, who, spend, instrument.token, multiplier))
    finally:
        dev.revert(snapshot)
    return tuple(found)


def _swap(
    engine: IssuanceEngine,
    pool: WalletAddress,
    wallet: WalletAddress,
    who: str,
    spend: Decimal,
    token: WalletAddress,
    multiplier: Decimal,
) -> SwapSeen:
    chain = engine.chain
    tokens_before, cash_before = chain.pool_reserves(pool)
    if tokens_before.value <= 0:
        return SwapSeen(who, spend, False, "POOL_EMPTY", None)
    mid = cash_before.amount / (tokens_before.value * multiplier)
    stablecoin = engine.model(next(iter(engine.models()))).listing.stablecoin
    chain.mint_stablecoin(stablecoin, wallet, Money(spend))
    before = chain.balance_of(token, wallet).value
    try:
        chain.swap(pool, wallet, Money(spend), deadline=chain.block_time() + timedelta(minutes=5))
    except DomainError as refused:
        return SwapSeen(who, spend, False, refused.code, None)
    bought = (chain.balance_of(token, wallet).value - before) * multiplier
    if bought <= 0:
        return SwapSeen(who, spend, False, "NOTHING_BOUGHT", None)
    paid = spend / bought
    impact = ((paid / mid) - 1) * Decimal(10_000)
    return SwapSeen(who, spend, True, None, impact.quantize(Decimal("0.01")))
