"""``PoolChain`` without deployment: liquidity, swaps and reserves of x*y=k pools against the stablecoin."""

from __future__ import annotations

from datetime import datetime

from equitoken.adapters.chain.facade._codec import GAS_ADMIN, money_from_units, money_units, to_seconds
from equitoken.adapters.chain.facade._reverts import decode_revert
from equitoken.adapters.chain.facade._sending import Sending
from equitoken.adapters.chain.facade._state import PoolRecord
from equitoken.domain.errors import DomainError
from equitoken.domain.ids import WalletAddress
from equitoken.domain.values import Money, TokenAmount
from equitoken.ports.chain import ChainTx


class Pools(Sending):
    """Constant-product pools, driven as the provider or trader."""

    def _pool(self, address: WalletAddress) -> PoolRecord:
        found = self._pools.get(self._b(address))
        if found is None:
            raise DomainError("UNKNOWN_CONTRACT", f"{address} is not a pool deployed by this facade")
        return found

    def add_liquidity(
        self, pool: WalletAddress, provider: WalletAddress, tokens: TokenAmount, cash: Money
    ) -> ChainTx:
        """Deposit both sides as ``provider``; the approvals go in the same block."""
        info = self._pool(pool)
        raw_pool = self._b(pool)
        who = self._b(provider)
        token = self._b(info.instrument.token)
        token_units = self._units(token, tokens)
        cash_units = money_units(cash)
        calls = [
            self._approve_call(token, who, raw_pool, token_units),
            self._approve_call(info.stablecoin, who, raw_pool, cash_units),
            self._write(
                "ConstantProductPool",
                who,
                raw_pool,
                "addLiquidity",
                token_units,
                cash_units,
                0,
                gas=GAS_ADMIN,
            ),
        ]
        receipts = self._backend.send(calls)
        for receipt in receipts:
            if not receipt.success:
                raise decode_revert(receipt.output)
        return self._tx(receipts[-1])

    def swap(
        self,
        pool: WalletAddress,
        trader: WalletAddress,
        amount_in: TokenAmount | Money,
        min_out: TokenAmount | Money | None = None,
        *,
        deadline: datetime,
    ) -> ChainTx:
        """Sell ``amount_in`` (tokens or cash) into the pool as ``trader``; the output goes to ``trader``.

        The swap reverts (``POOL_DEADLINE_PASSED``) if it is mined after ``deadline``.
        """
        info = self._pool(pool)
        raw_pool = self._b(pool)
        who = self._b(trader)
        token = self._b(info.instrument.token)
        if isinstance(amount_in, TokenAmount):
            token_in, units_in = token, self._units(token, amount_in)
            minimum = 0 if min_out is None else money_units(_as_money(min_out))
        else:
            token_in, units_in = info.stablecoin, money_units(amount_in)
            minimum = 0 if min_out is None else self._units(token, _as_tokens(min_out))
        calls = [
            self._approve_call(token_in, who, raw_pool, units_in),
            self._write(
                "ConstantProductPool",
                who,
                raw_pool,
                "swap",
                token_in,
                units_in,
                minimum,
                who,
                to_seconds(deadline),
                gas=GAS_ADMIN,
            ),
        ]
        receipts = self._backend.send(calls)
        for receipt in receipts:
            if not receipt.success:
                raise decode_revert(receipt.output)
        return self._tx(receipts[-1])

    def pool_reserves(self, pool: WalletAddress) -> tuple[TokenAmount, Money]:
        """Return the pool's token and cash reserves."""
        info = self._pool(pool)
        reserve0, reserve1 = self._view("ConstantProductPool", self._b(pool), "getReserves")
        return self._amount(int(reserve0), info.instrument.decimals), money_from_units(int(reserve1))


def _as_money(value: TokenAmount | Money) -> Money:
    if not isinstance(value, Money):
        raise DomainError("INVALID_AMOUNT", "selling tokens pays out cash: give the minimum as Money")
    return value


def _as_tokens(value: TokenAmount | Money) -> TokenAmount:
    if not isinstance(value, TokenAmount):
        raise DomainError("INVALID_AMOUNT", "selling cash pays out tokens: give the minimum as a TokenAmount")
    return value
