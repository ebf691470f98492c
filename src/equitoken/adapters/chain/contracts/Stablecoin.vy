# pragma version ~=0.4.3
"""
@title Stablecoin
@custom:contract-name Stablecoin
@license Apache-2.0
@author equitoken contributors
@notice A plain 6-decimal USD ERC-20 for payments, the buffer pool, tests and simulations. The owner mints;
        any holder burns its own tokens.
@dev An allowance of max_value(uint256) is unlimited and never decreases. Errors reuse the reason NAMES
     ZERO_ADDRESS, INSUFFICIENT_BALANCE and INSUFFICIENT_ALLOWANCE; this token has no other rules.
"""

from ethereum.ercs import IERC20

implements: IERC20


# @notice `value` raw units moved from `sender` to `receiver` (sender 0: mint; receiver 0: burn).
# @param sender The sender.
# @param receiver The recipient.
# @param value Raw units (6 decimals).
event Transfer:
    sender: indexed(address)
    receiver: indexed(address)
    value: uint256


# @notice `owner` allowed `spender` to move `value` raw units.
# @param owner The owner.
# @param spender The spender.
# @param value The allowance.
event Approval:
    owner: indexed(address)
    spender: indexed(address)
    value: uint256


# @notice The owner proposed `newOwner` for the minting right (zero: the proposal was withdrawn).
# @param previousOwner The owner in force.
# @param newOwner The proposed owner.
event OwnershipTransferStarted:
    previousOwner: indexed(address)
    newOwner: indexed(address)


# @notice Ownership (the right to mint) moved.
# @param previousOwner The old owner.
# @param newOwner The new owner.
event OwnershipTransferred:
    previousOwner: indexed(address)
    newOwner: indexed(address)


name: public(String[64])
symbol: public(String[32])
decimals: public(constant(uint8)) = 6
totalSupply: public(uint256)
balanceOf: public(HashMap[address, uint256])
allowance: public(HashMap[address, HashMap[address, uint256]])
owner: public(address)
pendingOwner: public(address)


@deploy
def __init__(name_: String[64], symbol_: String[32], owner_: address):
    """
    @notice Create the stablecoin with no supply.
    @param name_ The name, e.g. "Test USD".
    @param symbol_ The symbol, e.g. "tUSD".
    @param owner_ The owner (minter); not the zero address.
    """
    assert owner_ != empty(address), "STABLECOIN_ZERO_OWNER"
    self.name = name_
    self.symbol = symbol_
    self.owner = owner_
    log OwnershipTransferred(previousOwner=empty(address), newOwner=owner_)


@internal
def _transfer(sender: address, receiver: address, amount: uint256):
    """
    @notice Move `amount` between two non-zero addresses.
    @param sender The sender.
    @param receiver The recipient.
    @param amount Raw units.
    """
    if receiver == empty(address):
        raise "ZERO_ADDRESS"
    balance: uint256 = self.balanceOf[sender]
    if balance < amount:
        raise "INSUFFICIENT_BALANCE"
    self.balanceOf[sender] = balance - amount
    self.balanceOf[receiver] += amount
    log Transfer(sender=sender, receiver=receiver, value=amount)


@external
def transfer(receiver: address, amount: uint256) -> bool:
    """
    @notice Send `amount` raw units to `receiver`.
    @param receiver The recipient; not the zero address.
    @param amount Raw units.
    @return True.
    """
    self._transfer(msg.sender, receiver, amount)
    return True


@external
def transferFrom(sender: address, receiver: address, amount: uint256) -> bool:
    """
    @notice Move `amount` from `sender` to `receiver` using the caller's allowance.
    @param sender The owner of the tokens; not the zero address.
    @param receiver The recipient; not the zero address.
    @param amount Raw units.
    @return True.
    """
    if sender == empty(address):
        raise "ZERO_ADDRESS"
    allowed: uint256 = self.allowance[sender][msg.sender]
    if allowed != max_value(uint256):
        if allowed < amount:
            raise "INSUFFICIENT_ALLOWANCE"
        self.allowance[sender][msg.sender] = allowed - amount
    self._transfer(sender, receiver, amount)
    return True


@external
def approve(spender: address, amount: uint256) -> bool:
    """
    @notice Allow `spender` to move up to `amount` of your tokens (max_value(uint256): unlimited).
    @param spender The spender; not the zero address.
    @param amount The allowance.
    @return True.
    """
    if spender == empty(address):
        raise "ZERO_ADDRESS"
    self.allowance[msg.sender][spender] = amount
    log Approval(owner=msg.sender, spender=spender, value=amount)
    return True


@external
def mint(receiver: address, amount: uint256):
    """
    @notice Create `amount` raw units for `receiver` (owner only).
    @param receiver The recipient; not the zero address.
    @param amount Raw units.
    """
    assert msg.sender == self.owner, "STABLECOIN_NOT_THE_OWNER"
    if receiver == empty(address):
        raise "ZERO_ADDRESS"
    self.totalSupply += amount
    self.balanceOf[receiver] += amount
    log Transfer(sender=empty(address), receiver=receiver, value=amount)


@external
def burn(amount: uint256):
    """
    @notice Destroy `amount` of your own tokens.
    @param amount Raw units.
    """
    balance: uint256 = self.balanceOf[msg.sender]
    if balance < amount:
        raise "INSUFFICIENT_BALANCE"
    self.balanceOf[msg.sender] = balance - amount
    self.totalSupply -= amount
    log Transfer(sender=msg.sender, receiver=empty(address), value=amount)


@external
def transferOwnership(newOwner: address):
    """
    @notice Propose `newOwner` for the minting right (owner only); it passes when `newOwner` accepts,
            so a mistyped address loses nothing. A new proposal replaces the last; zero withdraws it.
    @param newOwner The proposed owner (zero: withdraw the proposal).
    """
    assert msg.sender == self.owner, "STABLECOIN_NOT_THE_OWNER"
    self.pendingOwner = newOwner
    log OwnershipTransferStarted(previousOwner=self.owner, newOwner=newOwner)


@external
def acceptOwnership():
    """
    @notice Take the minting right as the proposed owner.
    """
    assert self.pendingOwner != empty(address), "STABLECOIN_NO_PENDING_OWNER"
    assert msg.sender == self.pendingOwner, "STABLECOIN_NOT_THE_PENDING_OWNER"
    previous: address = self.owner
    self.owner = msg.sender
    self.pendingOwner = empty(address)
    log OwnershipTransferred(previousOwner=previous, newOwner=msg.sender)
