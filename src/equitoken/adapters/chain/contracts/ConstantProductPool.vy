# pragma version ~=0.4.3
"""
@title ConstantProductPool
@custom:contract-name ConstantProductPool
@license Apache-2.0
@author equitoken contributors
@notice A minimal x*y=k pool of a security token (token0) against a stablecoin (token1), to measure DeFi
        composability: an OPEN token trades through it from any wallet; a restricted token is refused
        with the rule's reason (the token's revert string bubbles up) unless the pool itself is eligible.
@dev Reserves are tracked internally (donations are ignored). Liquidity shares are internal balances, not
     an ERC-20. Swap output for an exact input, with fee f in basis points:
       out = in*(10000-f)*reserveOut // (reserveIn*10000 + in*(10000-f))   (rounded down: the pool's favour)
     No roles: anyone may add liquidity or swap; the token's compliance decides who may hold.
     Liquidity (Uniswap v2 style): the first deposit mints isqrt(amount0 * amount1) shares, of which
     MINIMUM_LIQUIDITY are locked forever under the zero address (nobody can remove them), so the share
     price can never be inflated from a dust deposit. Later deposits take only what the minted shares
     are worth: shares = min(amount0 * S // r0, amount1 * S // r1), then exactly
     ceil(shares * r0 / S) and ceil(shares * r1 / S) are pulled (rounded up: the pool's favour, by at
     most one raw unit each); the rest of the offered amounts is never taken.
"""

from ethereum.ercs import IERC20


# @notice Liquidity was added.
# @param provider The provider.
# @param amount0 Token0 raw units.
# @param amount1 Token1 raw units.
# @param shares Liquidity shares minted.
event LiquidityAdded:
    provider: indexed(address)
    amount0: uint256
    amount1: uint256
    shares: uint256


# @notice Liquidity was removed.
# @param provider The provider.
# @param amount0 Token0 raw units returned.
# @param amount1 Token1 raw units returned.
# @param shares Liquidity shares burned.
event LiquidityRemoved:
    provider: indexed(address)
    amount0: uint256
    amount1: uint256
    shares: uint256


# @notice A swap happened.
# @param trader The caller (payer).
# @param tokenIn The token paid in.
# @param amountIn Raw units paid in.
# @param amountOut Raw units paid out.
# @param receiver Who received the output.
event Swap:
    trader: indexed(address)
    tokenIn: indexed(address)
    amountIn: uint256
    amountOut: uint256
    receiver: indexed(address)


# Shares locked forever under the zero address by the first deposit (Uniswap v2's value).
MINIMUM_LIQUIDITY: public(constant(uint256)) = 1000

token0: public(immutable(address))
token1: public(immutable(address))
feeBps: public(immutable(uint256))

reserve0: public(uint256)
reserve1: public(uint256)
totalShares: public(uint256)
shares: public(HashMap[address, uint256])


@deploy
def __init__(token0_: address, token1_: address, feeBps_: uint256):
    """
    @notice Create an empty pool.
    @param token0_ The security token.
    @param token1_ The stablecoin.
    @param feeBps_ The swap fee in basis points (0..100; 30 = 0.3%).
    """
    assert token0_ != empty(address) and token1_ != empty(address) and token0_ != token1_, "POOL_BAD_TOKENS"
    assert feeBps_ <= 100, "POOL_FEE_TOO_HIGH"
    token0 = token0_
    token1 = token1_
    feeBps = feeBps_


@external
@view
def getReserves() -> (uint256, uint256):
    """
    @notice Read the reserves.
    @return reserve0 (security token raw units), reserve1 (stablecoin raw units).
    """
    return self.reserve0, self.reserve1


@internal
@view
def _amount_out(amount_in: uint256, reserve_in: uint256, reserve_out: uint256) -> uint256:
    """
    @notice The exact-in output formula (see the contract @dev).
    @param amount_in Raw units in.
    @param reserve_in The input reserve.
    @param reserve_out The output reserve.
    @return Raw units out.
    """
    with_fee: uint256 = amount_in * (10000 - feeBps)
    return with_fee * reserve_out // (reserve_in * 10000 + with_fee)


@external
@view
def quote(tokenIn: address, amountIn: uint256) -> uint256:
    """
    @notice What `swap` would pay out now for `amountIn` of `tokenIn`.
    @param tokenIn token0 or token1.
    @param amountIn Raw units in.
    @return Raw units out.
    """
    if tokenIn == token0:
        return self._amount_out(amountIn, self.reserve0, self.reserve1)
    assert tokenIn == token1, "POOL_UNKNOWN_TOKEN"
    return self._amount_out(amountIn, self.reserve1, self.reserve0)


@external
def addLiquidity(amount0: uint256, amount1: uint256, minShares: uint256) -> uint256:
    """
    @notice Deposit both tokens (pulled with transferFrom) for liquidity shares; at most the offered
            amounts are pulled, and after the first deposit only the proportional pair.
    @dev First deposit: isqrt(amount0 * amount1) shares, MINIMUM_LIQUIDITY of them locked under the zero
         address (the first depositor gets the rest; it must exceed MINIMUM_LIQUIDITY). Later: shares =
         the smaller of the two proportional amounts, and only ceil(shares * reserve / totalShares) of
         each token is pulled, so no excess is left in the pool. LiquidityAdded reports the amounts pulled.
    @param amount0 Security token raw units offered (the most that may be pulled).
    @param amount1 Stablecoin raw units offered (the most that may be pulled).
    @param minShares Revert if fewer shares would be minted.
    @return Shares minted to the caller.
    """
    assert amount0 != 0 and amount1 != 0, "POOL_ZERO_AMOUNT"
    total: uint256 = self.totalShares
    minted: uint256 = 0
    used0: uint256 = amount0
    used1: uint256 = amount1
    if total == 0:
        liquidity: uint256 = isqrt(amount0 * amount1)
        assert liquidity > MINIMUM_LIQUIDITY, "POOL_TOO_LITTLE_LIQUIDITY"
        minted = liquidity - MINIMUM_LIQUIDITY
        self.shares[empty(address)] = MINIMUM_LIQUIDITY
        self.totalShares = liquidity
    else:
        r0: uint256 = self.reserve0
        r1: uint256 = self.reserve1
        minted = min(amount0 * total // r0, amount1 * total // r1)
        assert minted != 0, "POOL_TOO_FEW_SHARES"
        # what the minted shares are worth, rounded up; never more than offered since
        # minted <= amount * total / reserve
        used0 = (minted * r0 + total - 1) // total
        used1 = (minted * r1 + total - 1) // total
        self.totalShares = total + minted
    assert minted >= minShares, "POOL_TOO_FEW_SHARES"
    self.reserve0 += used0
    self.reserve1 += used1
    self.shares[msg.sender] += minted
    assert extcall IERC20(token0).transferFrom(msg.sender, self, used0), "POOL_TRANSFER_FAILED"
    assert extcall IERC20(token1).transferFrom(msg.sender, self, used1), "POOL_TRANSFER_FAILED"
    log LiquidityAdded(provider=msg.sender, amount0=used0, amount1=used1, shares=minted)
    return minted


@external
def removeLiquidity(amount: uint256, min0: uint256, min1: uint256) -> (uint256, uint256):
    """
    @notice Burn liquidity shares for a proportional part of both reserves (rounded down).
    @param amount Shares to burn.
    @param min0 Revert if less token0 would be returned.
    @param min1 Revert if less token1 would be returned.
    @return Token0 and token1 raw units returned.
    """
    total: uint256 = self.totalShares
    assert amount != 0 and amount <= self.shares[msg.sender], "POOL_NOT_ENOUGH_SHARES"
    out0: uint256 = self.reserve0 * amount // total
    out1: uint256 = self.reserve1 * amount // total
    assert out0 >= min0 and out1 >= min1, "POOL_SLIPPAGE"
    self.shares[msg.sender] -= amount
    self.totalShares = total - amount
    self.reserve0 -= out0
    self.reserve1 -= out1
    assert extcall IERC20(token0).transfer(msg.sender, out0), "POOL_TRANSFER_FAILED"
    assert extcall IERC20(token1).transfer(msg.sender, out1), "POOL_TRANSFER_FAILED"
    log LiquidityRemoved(provider=msg.sender, amount0=out0, amount1=out1, shares=amount)
    return out0, out1


@external
def swap(
    tokenIn: address, amountIn: uint256, minAmountOut: uint256, receiver: address, deadline: uint256
) -> uint256:
    """
    @notice Swap an exact `amountIn` of `tokenIn` (pulled with transferFrom) for the other token.
    @dev The token transfers run the security token's compliance: a refused transfer reverts the swap with
         the rule's reason NAME.
    @param tokenIn token0 or token1.
    @param amountIn Raw units in (> 0).
    @param minAmountOut Revert if less would be paid out.
    @param receiver Who receives the output.
    @param deadline The last block timestamp at which the swap may execute (a transaction held back by a
           node or a builder cannot be run later, at a worse price, against the trader's intent).
    @return Raw units paid out.
    """
    assert block.timestamp <= deadline, "POOL_DEADLINE_PASSED"
    assert amountIn != 0, "POOL_ZERO_AMOUNT"
    token_out: address = empty(address)
    amount_out: uint256 = 0
    if tokenIn == token0:
        token_out = token1
        amount_out = self._amount_out(amountIn, self.reserve0, self.reserve1)
        self.reserve0 += amountIn
        self.reserve1 -= amount_out
    else:
        assert tokenIn == token1, "POOL_UNKNOWN_TOKEN"
        token_out = token0
        amount_out = self._amount_out(amountIn, self.reserve1, self.reserve0)
        self.reserve1 += amountIn
        self.reserve0 -= amount_out
    assert amount_out != 0 and amount_out >= minAmountOut, "POOL_SLIPPAGE"
    assert extcall IERC20(tokenIn).transferFrom(msg.sender, self, amountIn), "POOL_TRANSFER_FAILED"
    assert extcall IERC20(token_out).transfer(receiver, amount_out), "POOL_TRANSFER_FAILED"
    log Swap(trader=msg.sender, tokenIn=tokenIn, amountIn=amountIn, amountOut=amount_out, receiver=receiver)
    return amount_out
