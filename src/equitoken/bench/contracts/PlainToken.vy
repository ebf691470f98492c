# pragma version ~=0.4.3
"""
@title PlainToken
@notice A minimal ERC-20 with no compliance: the raw-EVM baseline for ``equitoken bench chain``.
@dev Benchmark and test fixture only; it is never deployed as an equitoken instrument.
"""

event Transfer:
    sender: indexed(address)
    receiver: indexed(address)
    value: uint256

event Approval:
    owner: indexed(address)
    spender: indexed(address)
    value: uint256

name: public(String[32])
symbol: public(String[8])
decimals: public(uint8)
totalSupply: public(uint256)
balanceOf: public(HashMap[address, uint256])
allowance: public(HashMap[address, HashMap[address, uint256]])


@deploy
def __init__(initial_supply: uint256):
    """
    @notice Mint ``initial_supply`` to the deployer.
    @param initial_supply Raw token units to mint.
    """
    self.name = "Plain"
    self.symbol = "PLN"
    self.decimals = 18
    self.totalSupply = initial_supply
    self.balanceOf[msg.sender] = initial_supply
    log Transfer(sender=empty(address), receiver=msg.sender, value=initial_supply)


@external
def transfer(receiver: address, amount: uint256) -> bool:
    """
    @notice Move ``amount`` from the caller to ``receiver``.
    @param receiver The recipient.
    @param amount Raw token units.
    @return Always true; reverts on insufficient balance.
    """
    self.balanceOf[msg.sender] -= amount
    self.balanceOf[receiver] += amount
    log Transfer(sender=msg.sender, receiver=receiver, value=amount)
    return True


@external
def approve(spender: address, amount: uint256) -> bool:
    """
    @notice Allow ``spender`` to move up to ``amount`` of the caller's tokens.
    @param spender The spender.
    @param amount Raw token units.
    @return Always true.
    """
    self.allowance[msg.sender][spender] = amount
    log Approval(owner=msg.sender, spender=spender, value=amount)
    return True


@external
def transferFrom(owner: address, receiver: address, amount: uint256) -> bool:
    """
    @notice Move ``amount`` from ``owner`` to ``receiver`` using the caller's allowance.
    @param owner The holder.
    @param receiver The recipient.
    @param amount Raw token units.
    @return Always true; reverts on insufficient balance or allowance.
    """
    self.allowance[owner][msg.sender] -= amount
    self.balanceOf[owner] -= amount
    self.balanceOf[receiver] += amount
    log Transfer(sender=owner, receiver=receiver, value=amount)
    return True
