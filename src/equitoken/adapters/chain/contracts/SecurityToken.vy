# pragma version ~=0.4.3
"""
@title SecurityToken
@custom:contract-name SecurityToken
@license Apache-2.0
@author equitoken contributors
@notice An ERC-20 security token (one token = one share, or a tracker of one) whose every balance change
        is decided by a bound `Compliance` contract and refused with a stable reason code; with the
        ERC-3643 enforcement tools (pause, wallet freeze, partial freeze, forced transfer, recovery), the
        ERC-7943 views `canTransfer` / `canTransact`, and an ERC-8056-style scheduled UI multiplier for
        splits and reinvested dividends (raw balances never change).
@dev Roles (module `access`, one bit each, none implies another):
       ADMIN              grants/revokes roles, binds the compliance contract, sets the reserve feed
       ISSUER             mint, burn, batchMint, batchBurn (e.g. the QuoteSettlement contract)
       AGENT              setAddressFrozen, freeze/unfreezePartialTokens, forcedTransfer, recoveryAddress
       PAUSER             pause, unpause
       CORPORATE_ACTIONS  scheduleMultiplier, cancelMultiplier
     ONE internal balance-update point, `_update(sender, receiver, amount, forced)`, carries every mint
     (sender = 0), burn (receiver = 0), transfer, forced transfer and recovery. It checks, in this order
     (the first failure reverts with the reason's NAME, e.g. "SENDER_FROZEN"):
        PAUSED                          (not for forced transfers / recoveries)
        SENDER_FROZEN                   (not for mints, forced transfers / recoveries)
        RECIPIENT_FROZEN                (not for burns)
        RESERVES_STALE / RESERVES_INSUFFICIENT  (mints only, when a ReserveFeed is set: see setReserveFeed)
        INSUFFICIENT_BALANCE            (not for mints)
        INSUFFICIENT_UNFROZEN_BALANCE   (not for mints, forced transfers / recoveries)
        then the compliance rules, in the order documented in Compliance.vy, through ONE external call
        (`Compliance.transferred`), which also keeps the per-investor holder books.
     ZERO_ADDRESS is checked first, by the entry points, then (forced transfers and recoveries only)
     SAME_WALLET: moving tokens from a wallet to itself would only release its partial freeze.
     `transferFrom` checks the allowance (INSUFFICIENT_ALLOWANCE) before `_update`. The views (`transferRestriction` & co.) run the very same
     token-side function and the very same compliance `_check`, so a view and a transaction in the same
     state always agree.
     A forced transfer bypasses pause, the sender's freeze and the partial freeze (consuming frozen tokens
     beyond the free balance, ERC-3643 style, with a TokensUnfrozen event) but NOT the recipient's checks.
     Multiplier: a fixed-point integer with 18 decimals (1e18 = 1.0). UI amount = raw * multiplier // 1e18
     (rounded down). The history is append-only, except that the LAST entry may be cancelled while it
     has not taken effect (`cancelMultiplier`); entry 0 is the initial 1.0 (effectiveAt 0, nonce 0).
     A schedule is bounded (effectiveAt <= now + MAX_SCHEDULE_AHEAD, nonce <= MAX_NONCE) so that one typo
     cannot block every later corporate action.
"""

from ethereum.ercs import IERC20

implements: IERC20

import access
import reasons

initializes: access

exports: access.__interface__


interface ICompliance:
    def transferred(sender: address, receiver: address, amount: uint256, forced: bool, senderEmptied: bool) -> uint8: nonpayable
    def check(sender: address, receiver: address, amount: uint256) -> uint8: view
    def checkForced(sender: address, receiver: address, amount: uint256) -> uint8: view
    def accountRestriction(account: address) -> uint8: view
    def identityRegistry() -> address: view


interface IIdentityRegistry:
    def investorOf(wallet: address) -> bytes32: view


interface IReserveFeed:
    def latestRound() -> uint256: view
    def latestRoundData() -> (uint80, int256, uint256, uint256, uint80): view
    def decimals() -> uint8: view


MAX_BATCH: constant(uint256) = 256
ONE: constant(uint256) = 10**18
MAX_MULTIPLIER: constant(uint256) = 10**36
MAX_SCHEDULE_AHEAD: constant(uint256) = 10 * 366 * 86400  # ten years, leap days included
MAX_NONCE: constant(uint256) = 2**64 - 1
FULLY_BACKED: constant(int256) = 10**18  # a ReserveFeed answer of 1.0 (18 decimals)
MAX_HEARTBEAT: constant(uint256) = 366 * 86400  # a year: a longer one would gate nothing


struct MultiplierUpdate:
    multiplier: uint256
    effectiveAt: uint64
    nonce: uint256


# @notice `value` raw units moved from `sender` to `receiver` (sender 0: mint; receiver 0: burn).
# @param sender The sender.
# @param receiver The recipient.
# @param value Raw token units.
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


# @notice The token was paused.
# @param account The pauser.
event Paused:
    account: address


# @notice The token was unpaused.
# @param account The pauser.
event Unpaused:
    account: address


# @notice A wallet was frozen or unfrozen (ERC-3643).
# @param userAddress The wallet.
# @param isFrozen The new state.
# @param owner The agent who did it.
event AddressFrozen:
    userAddress: indexed(address)
    isFrozen: indexed(bool)
    owner: indexed(address)


# @notice Part of a wallet's balance was frozen (ERC-3643).
# @param userAddress The wallet.
# @param amount Raw units newly frozen.
event TokensFrozen:
    userAddress: indexed(address)
    amount: uint256


# @notice Part of a wallet's frozen balance was released (ERC-3643).
# @param userAddress The wallet.
# @param amount Raw units released.
event TokensUnfrozen:
    userAddress: indexed(address)
    amount: uint256


# @notice An agent moved tokens without the sender's consent (a Transfer event precedes it).
# @param agent The agent.
# @param sender The wallet tokens were taken from.
# @param receiver The recipient.
# @param amount Raw units.
event ForcedTransfer:
    agent: indexed(address)
    sender: indexed(address)
    receiver: indexed(address)
    amount: uint256


# @notice A lost wallet's balance and freeze state moved to a new wallet of the same investor (ERC-3643).
# @param lostWallet The lost wallet.
# @param newWallet The new wallet.
# @param investorId The investor owning both.
event RecoverySuccess:
    lostWallet: indexed(address)
    newWallet: indexed(address)
    investorId: indexed(bytes32)


# @notice A new UI multiplier was scheduled (ERC-8056 style).
# @param index Its position in the history.
# @param multiplier The new multiplier (1e18 = 1.0), absolute, not relative to the previous one.
# @param effectiveAt When it takes effect (unix seconds).
# @param nonce The corporate action's nonce (strictly increasing).
event MultiplierScheduled:
    index: indexed(uint256)
    multiplier: uint256
    effectiveAt: uint64
    nonce: indexed(uint256)


# @notice The last scheduled UI multiplier was cancelled before it took effect.
# @param index Its former position in the history (now free again).
# @param multiplier The cancelled multiplier.
# @param effectiveAt When it would have taken effect.
# @param nonce Its nonce; `lastMultiplierNonce` falls back to the previous entry's nonce, so the
#        corrected action may be scheduled again under the same nonce (it was never applied).
event MultiplierCancelled:
    index: indexed(uint256)
    multiplier: uint256
    effectiveAt: uint64
    nonce: indexed(uint256)


# @notice The proof-of-reserve feed gating mints was set (zero: mints are no longer gated by a feed).
# @param feed The ReserveFeed (AggregatorV3Interface, collateral ratio with 18 decimals).
# @param heartbeat The oldest round, in seconds, a mint may rely on.
# @param admin The admin who set it.
event ReserveFeedSet:
    feed: indexed(address)
    heartbeat: uint256
    admin: indexed(address)


# @notice The compliance contract deciding every balance change was bound.
# @param compliance The compliance contract.
event ComplianceBound:
    compliance: indexed(address)


name: public(String[64])
symbol: public(String[32])
decimals: public(uint8)
totalSupply: public(uint256)
balanceOf: public(HashMap[address, uint256])
allowance: public(HashMap[address, HashMap[address, uint256]])

compliance: public(address)
paused: public(bool)
isFrozen: public(HashMap[address, bool])
_frozen_tokens: HashMap[address, uint256]

_multipliers: HashMap[uint256, MultiplierUpdate]
multiplierUpdateCount: public(uint256)
lastMultiplierNonce: public(uint256)

reserveFeed: public(address)
reserveHeartbeat: public(uint256)


@deploy
def __init__(name_: String[64], symbol_: String[32], decimals_: uint8, admin: address, compliance_: address):
    """
    @notice Create the token (no supply) with multiplier 1.0.
    @param name_ The token name.
    @param symbol_ The token symbol.
    @param decimals_ Decimals (18 is the platform default; at most 36).
    @param admin The first admin.
    @param compliance_ The compliance contract (zero: bind later with `bindCompliance`; until then every
           balance change reverts).
    """
    access.__init__(admin)
    assert decimals_ <= 36, "TOKEN_TOO_MANY_DECIMALS"
    self.name = name_
    self.symbol = symbol_
    self.decimals = decimals_
    self._multipliers[0] = MultiplierUpdate(multiplier=ONE, effectiveAt=0, nonce=0)
    self.multiplierUpdateCount = 1
    if compliance_ != empty(address):
        self.compliance = compliance_
        log ComplianceBound(compliance=compliance_)


# ------------------------------------------------------------------ the one balance-update point


@internal
@view
def _local_restriction(sender: address, receiver: address, amount: uint256, forced: bool) -> uint8:
    """
    @notice The token-side part of the decision (pause, freezes, balances), in the documented order.
    @param sender The sender (zero: mint).
    @param receiver The recipient (zero: burn).
    @param amount Raw units.
    @param forced True for forced transfers and recoveries.
    @return The reason code (0 = OK).
    """
    if not forced and self.paused:
        return reasons.PAUSED
    if sender != empty(address) and not forced and self.isFrozen[sender]:
        return reasons.SENDER_FROZEN
    if receiver != empty(address) and self.isFrozen[receiver]:
        return reasons.RECIPIENT_FROZEN
    if sender == empty(address):
        return self._reserve_restriction()
    if sender != empty(address):
        balance: uint256 = self.balanceOf[sender]
        if balance < amount:
            return reasons.INSUFFICIENT_BALANCE
        if not forced and self._frozen_tokens[sender] > balance - amount:
            return reasons.INSUFFICIENT_UNFROZEN_BALANCE
    return reasons.OK


@internal
@view
def _reserve_restriction() -> uint8:
    """
    @notice Whether the proof-of-reserve feed lets new tokens be created now.
    @dev No feed set: OK (a listing the admin has not gated). A feed with no round yet, or whose latest
         round is older than the heartbeat, is RESERVES_STALE (fail closed: no recent attestation, no
         mint); a collateral ratio below 1.0 is RESERVES_INSUFFICIENT. Burns and transfers never ask:
         redemptions go on whatever the feed says.
    @return The reason code (0 = OK).
    """
    feed: address = self.reserveFeed
    if feed == empty(address):
        return reasons.OK
    if staticcall IReserveFeed(feed).latestRound() == 0:
        return reasons.RESERVES_STALE
    answer: int256 = 0
    updated_at: uint256 = 0
    round_id: uint80 = 0
    started_at: uint256 = 0
    answered_in: uint80 = 0
    round_id, answer, started_at, updated_at, answered_in = staticcall IReserveFeed(feed).latestRoundData()
    if updated_at + self.reserveHeartbeat < block.timestamp:
        return reasons.RESERVES_STALE
    if answer < FULLY_BACKED:
        return reasons.RESERVES_INSUFFICIENT
    return reasons.OK


@internal
@view
def _restriction(sender: address, receiver: address, amount: uint256, forced: bool) -> uint8:
    """
    @notice The whole decision without effects: the token-side checks, then compliance's.
    @param sender The sender (zero: mint).
    @param receiver The recipient (zero: burn).
    @param amount Raw units.
    @param forced True for forced transfers and recoveries.
    @return The reason code (0 = OK).
    """
    code: uint8 = self._local_restriction(sender, receiver, amount, forced)
    if code != reasons.OK:
        return code
    if forced:
        return staticcall ICompliance(self.compliance).checkForced(sender, receiver, amount)
    return staticcall ICompliance(self.compliance).check(sender, receiver, amount)


@internal
def _update(sender: address, receiver: address, amount: uint256, forced: bool):
    """
    @notice Move `amount` from `sender` to `receiver` (mint if sender is 0, burn if receiver is 0) after
            the token-side checks and the compliance hook; revert with the reason NAME otherwise.
    @param sender The sender (zero: mint).
    @param receiver The recipient (zero: burn).
    @param amount Raw units.
    @param forced True for forced transfers and recoveries.
    """
    code: uint8 = self._local_restriction(sender, receiver, amount, forced)
    sender_balance: uint256 = 0
    if sender != empty(address):
        sender_balance = self.balanceOf[sender]
    if code == reasons.OK:
        code = extcall ICompliance(self.compliance).transferred(
            sender, receiver, amount, forced, sender != empty(address) and sender_balance == amount
        )
    reasons._raise(code)

    if sender == empty(address):
        self.totalSupply += amount
    else:
        if forced:
            frozen: uint256 = self._frozen_tokens[sender]
            if frozen > sender_balance - amount:
                released: uint256 = frozen - (sender_balance - amount)
                self._frozen_tokens[sender] = frozen - released
                log TokensUnfrozen(userAddress=sender, amount=released)
        self.balanceOf[sender] = sender_balance - amount
    if receiver == empty(address):
        self.totalSupply -= amount
    else:
        self.balanceOf[receiver] += amount
    log Transfer(sender=sender, receiver=receiver, value=amount)


# ------------------------------------------------------------------ ERC-20


@external
def transfer(receiver: address, amount: uint256) -> bool:
    """
    @notice Send `amount` raw units to `receiver`, if the rules allow.
    @dev Reverts with a reason NAME: ZERO_ADDRESS, PAUSED, SENDER_FROZEN, ... (see the contract @dev).
    @param receiver The recipient; not the zero address.
    @param amount Raw units.
    @return True.
    """
    if receiver == empty(address):
        raise "ZERO_ADDRESS"
    self._update(msg.sender, receiver, amount, False)
    return True


@external
def transferFrom(sender: address, receiver: address, amount: uint256) -> bool:
    """
    @notice Move `amount` from `sender` to `receiver` using the caller's allowance, if the rules allow.
    @dev An allowance of max_value(uint256) is unlimited and never decreases; the spend emits no Approval.
    @param sender The owner of the tokens; not the zero address.
    @param receiver The recipient; not the zero address.
    @param amount Raw units.
    @return True.
    """
    if sender == empty(address) or receiver == empty(address):
        raise "ZERO_ADDRESS"
    allowed: uint256 = self.allowance[sender][msg.sender]
    if allowed != max_value(uint256):
        if allowed < amount:
            raise "INSUFFICIENT_ALLOWANCE"
        self.allowance[sender][msg.sender] = allowed - amount
    self._update(sender, receiver, amount, False)
    return True


@external
def approve(spender: address, amount: uint256) -> bool:
    """
    @notice Allow `spender` to move up to `amount` of your tokens (max_value(uint256): unlimited).
    @param spender The spender; not the zero address.
    @param amount The allowance (replaces the previous one).
    @return True.
    """
    if spender == empty(address):
        raise "ZERO_ADDRESS"
    self.allowance[msg.sender][spender] = amount
    log Approval(owner=msg.sender, spender=spender, value=amount)
    return True


# ------------------------------------------------------------------ issuance (ISSUER)


@internal
def _mint(receiver: address, amount: uint256):
    """
    @notice Create `amount` for `receiver` through `_update`.
    @param receiver The recipient; not the zero address.
    @param amount Raw units.
    """
    if receiver == empty(address):
        raise "ZERO_ADDRESS"
    self._update(empty(address), receiver, amount, False)


@internal
def _burn(holder: address, amount: uint256):
    """
    @notice Destroy `amount` of `holder`'s free tokens through `_update`.
    @param holder The holder; not the zero address.
    @param amount Raw units.
    """
    if holder == empty(address):
        raise "ZERO_ADDRESS"
    self._update(holder, empty(address), amount, False)


@external
def mint(receiver: address, amount: uint256):
    """
    @notice Create `amount` raw units for `receiver` (ISSUER), subject to the recipient-side rules.
    @param receiver The recipient; not the zero address.
    @param amount Raw units.
    """
    access._check_role(access.ISSUER)
    self._mint(receiver, amount)


@external
def burn(holder: address, amount: uint256):
    """
    @notice Destroy `amount` raw units of `holder` (ISSUER; no allowance needed: an issuer redemption).
    @dev Subject to pause, the holder's freeze, the partial freeze and the sanctions rule. To burn frozen
         tokens, an agent unfreezes them (or force-transfers them to the issuer) first.
    @param holder The holder; not the zero address.
    @param amount Raw units.
    """
    access._check_role(access.ISSUER)
    self._burn(holder, amount)


@external
def batchMint(receivers: DynArray[address, MAX_BATCH], amounts: DynArray[uint256, MAX_BATCH]):
    """
    @notice Mint to up to 256 recipients in one transaction (ISSUER); all or nothing.
    @dev 256 keeps the worst case (every recipient a new holder: ~70k gas each) under ~18M gas, well below a
         30M block, while amortising the 21k transaction cost to under 100 gas per recipient.
    @param receivers The recipients.
    @param amounts The raw amount for each recipient (same length).
    """
    access._check_role(access.ISSUER)
    assert len(receivers) == len(amounts), "TOKEN_LENGTH_MISMATCH"
    for i: uint256 in range(len(receivers), bound=MAX_BATCH):
        self._mint(receivers[i], amounts[i])


@external
def batchBurn(holders: DynArray[address, MAX_BATCH], amounts: DynArray[uint256, MAX_BATCH]):
    """
    @notice Burn from up to 256 holders in one transaction (ISSUER); all or nothing.
    @param holders The holders.
    @param amounts The raw amount for each holder (same length).
    """
    access._check_role(access.ISSUER)
    assert len(holders) == len(amounts), "TOKEN_LENGTH_MISMATCH"
    for i: uint256 in range(len(holders), bound=MAX_BATCH):
        self._burn(holders[i], amounts[i])


# ------------------------------------------------------------------ enforcement (PAUSER, AGENT)


@external
def pause():
    """
    @notice Halt transfers, mints and burns (PAUSER); agents' forced transfers and recoveries still work.
    """
    access._check_role(access.PAUSER)
    assert not self.paused, "TOKEN_ALREADY_PAUSED"
    self.paused = True
    log Paused(account=msg.sender)


@external
def unpause():
    """
    @notice Resume transfers, mints and burns (PAUSER).
    """
    access._check_role(access.PAUSER)
    assert self.paused, "TOKEN_NOT_PAUSED"
    self.paused = False
    log Unpaused(account=msg.sender)


@external
def setAddressFrozen(account: address, freeze: bool):
    """
    @notice Freeze or unfreeze a wallet (AGENT): a frozen wallet can neither send nor receive, except by
            an agent's forced transfer out of it.
    @param account The wallet; not the zero address.
    @param freeze The new state.
    """
    access._check_role(access.AGENT)
    if account == empty(address):
        raise "ZERO_ADDRESS"
    self.isFrozen[account] = freeze
    log AddressFrozen(userAddress=account, isFrozen=freeze, owner=msg.sender)


@external
def freezePartialTokens(account: address, amount: uint256):
    """
    @notice Freeze `amount` more of `account`'s balance (AGENT); frozen tokens cannot be sent or burned.
    @param account The wallet.
    @param amount Raw units; at most the wallet's free balance.
    """
    access._check_role(access.AGENT)
    frozen: uint256 = self._frozen_tokens[account]
    if self.balanceOf[account] - frozen < amount:
        raise "INSUFFICIENT_UNFROZEN_BALANCE"
    self._frozen_tokens[account] = frozen + amount
    log TokensFrozen(userAddress=account, amount=amount)


@external
def unfreezePartialTokens(account: address, amount: uint256):
    """
    @notice Release `amount` of `account`'s frozen tokens (AGENT).
    @param account The wallet.
    @param amount Raw units; at most the frozen amount.
    """
    access._check_role(access.AGENT)
    frozen: uint256 = self._frozen_tokens[account]
    assert amount <= frozen, "TOKEN_AMOUNT_EXCEEDS_FROZEN_TOKENS"
    self._frozen_tokens[account] = frozen - amount
    log TokensUnfrozen(userAddress=account, amount=amount)


@external
def forcedTransfer(sender: address, receiver: address, amount: uint256) -> bool:
    """
    @notice Move `amount` from `sender` to `receiver` without the sender's consent (AGENT).
    @dev Bypasses pause, the sender's freeze, the partial freeze and the sender-side compliance rules;
         STILL refuses a frozen, unverified, sanctioned or otherwise ineligible recipient. Frozen tokens
         beyond the sender's free balance are consumed (TokensUnfrozen). A forced transfer to the sender
         itself is refused with SAME_WALLET: it would move nothing but release the partial freeze.
    @param sender The wallet to take from; not the zero address.
    @param receiver The recipient; not the zero address nor `sender`.
    @param amount Raw units; at most the sender's whole balance.
    @return True.
    """
    access._check_role(access.AGENT)
    if sender == empty(address) or receiver == empty(address):
        raise "ZERO_ADDRESS"
    if sender == receiver:
        raise "SAME_WALLET"
    self._update(sender, receiver, amount, True)
    log ForcedTransfer(agent=msg.sender, sender=sender, receiver=receiver, amount=amount)
    return True


@external
def recoveryAddress(lostWallet: address, newWallet: address, investorId: bytes32) -> bool:
    """
    @notice Move a lost wallet's whole balance to a new wallet of the same investor, carrying its frozen
            state and partially frozen amount over (AGENT).
    @dev The wallets must differ (SAME_WALLET) and both be bound to `investorId` in the identity
         registry, else NOT_SAME_INVESTOR.
         The move is a forced `_update`, so the new wallet must pass the recipient-side rules and must
         not itself be frozen (RECIPIENT_FROZEN). The lost wallet is left as it was otherwise.
    @param lostWallet The lost wallet.
    @param newWallet The investor's new wallet.
    @param investorId The investor owning both.
    @return True.
    """
    access._check_role(access.AGENT)
    if lostWallet == empty(address) or newWallet == empty(address):
        raise "ZERO_ADDRESS"
    if lostWallet == newWallet:
        raise "SAME_WALLET"
    registry: address = staticcall ICompliance(self.compliance).identityRegistry()
    if (
        investorId == empty(bytes32)
        or staticcall IIdentityRegistry(registry).investorOf(lostWallet) != investorId
        or staticcall IIdentityRegistry(registry).investorOf(newWallet) != investorId
    ):
        raise "NOT_SAME_INVESTOR"
    frozen: uint256 = self._frozen_tokens[lostWallet]
    if frozen != 0:
        self._frozen_tokens[lostWallet] = 0
        log TokensUnfrozen(userAddress=lostWallet, amount=frozen)
    self._update(lostWallet, newWallet, self.balanceOf[lostWallet], True)
    if frozen != 0:
        self._frozen_tokens[newWallet] += frozen
        log TokensFrozen(userAddress=newWallet, amount=frozen)
    if self.isFrozen[lostWallet] and not self.isFrozen[newWallet]:
        self.isFrozen[newWallet] = True
        log AddressFrozen(userAddress=newWallet, isFrozen=True, owner=msg.sender)
    log RecoverySuccess(lostWallet=lostWallet, newWallet=newWallet, investorId=investorId)
    return True


@external
def setReserveFeed(feed: address, heartbeat: uint256):
    """
    @notice Gate every mint on the listing's proof-of-reserve feed (ADMIN): refused while its latest
            round is older than `heartbeat` seconds (RESERVES_STALE) or its ratio is below 1.0
            (RESERVES_INSUFFICIENT). The zero address removes the gate.
    @dev The feed must answer with 18 decimals (a ReserveFeed does), so 1e18 means fully backed.
    @param feed The ReserveFeed of this listing (zero: no gate).
    @param heartbeat Seconds a round stays fresh, 1 .. 366 days (0 with the zero feed).
    """
    access._check_role(access.ADMIN)
    if feed == empty(address):
        assert heartbeat == 0, "TOKEN_FEED_HEARTBEAT_OUT_OF_RANGE"
    else:
        assert heartbeat != 0 and heartbeat <= MAX_HEARTBEAT, "TOKEN_FEED_HEARTBEAT_OUT_OF_RANGE"
        assert staticcall IReserveFeed(feed).decimals() == 18, "TOKEN_FEED_DECIMALS"
    self.reserveFeed = feed
    self.reserveHeartbeat = heartbeat
    log ReserveFeedSet(feed=feed, heartbeat=heartbeat, admin=msg.sender)


@external
def bindCompliance(compliance_: address):
    """
    @notice Bind the compliance contract (ADMIN). Only while the supply is zero: the compliance contract
            keeps per-investor books from the first mint on; change its rules in place instead.
    @param compliance_ The compliance contract (its `bindToken` must name this token).
    """
    access._check_role(access.ADMIN)
    assert compliance_ != empty(address), "TOKEN_ZERO_COMPLIANCE"
    assert self.totalSupply == 0, "TOKEN_SUPPLY_MUST_BE_ZERO_TO_REBIND"
    self.compliance = compliance_
    log ComplianceBound(compliance=compliance_)


# ------------------------------------------------------------------ decision views (ERC-7943 style)


@external
@view
def transferRestriction(sender: address, receiver: address, amount: uint256) -> uint8:
    """
    @notice The reason a `transfer` of `amount` from `sender` to `receiver` would be refused now.
    @param sender The sender.
    @param receiver The recipient.
    @param amount Raw units.
    @return The reason code (0 = OK), the same decision as the transaction.
    """
    if sender == empty(address) or receiver == empty(address):
        return reasons.ZERO_ADDR
    return self._restriction(sender, receiver, amount, False)


@external
@view
def canTransfer(sender: address, receiver: address, amount: uint256) -> bool:
    """
    @notice Tell whether a `transfer` of `amount` from `sender` to `receiver` would succeed now (ERC-7943).
    @param sender The sender.
    @param receiver The recipient.
    @param amount Raw units.
    @return True if `transferRestriction` is 0.
    """
    if sender == empty(address) or receiver == empty(address):
        return False
    return self._restriction(sender, receiver, amount, False) == reasons.OK


@external
@view
def forcedTransferRestriction(sender: address, receiver: address, amount: uint256) -> uint8:
    """
    @notice The reason an agent's `forcedTransfer` would be refused now.
    @dev SAME_WALLET if `sender` is `receiver`, as `forcedTransfer` refuses it.
    @param sender The wallet to take from.
    @param receiver The recipient.
    @param amount Raw units.
    @return The reason code (0 = OK).
    """
    if sender == empty(address) or receiver == empty(address):
        return reasons.ZERO_ADDR
    if sender == receiver:
        return reasons.SAME_WALLET
    return self._restriction(sender, receiver, amount, True)


@external
@view
def mintRestriction(receiver: address, amount: uint256) -> uint8:
    """
    @notice The reason a `mint` of `amount` to `receiver` would be refused now.
    @param receiver The recipient.
    @param amount Raw units.
    @return The reason code (0 = OK).
    """
    if receiver == empty(address):
        return reasons.ZERO_ADDR
    return self._restriction(empty(address), receiver, amount, False)


@external
@view
def burnRestriction(holder: address, amount: uint256) -> uint8:
    """
    @notice The reason a `burn` of `amount` from `holder` would be refused now.
    @param holder The holder.
    @param amount Raw units.
    @return The reason code (0 = OK).
    """
    if holder == empty(address):
        return reasons.ZERO_ADDR
    return self._restriction(holder, empty(address), amount, False)


@external
@view
def accountRestriction(account: address) -> uint8:
    """
    @notice The reason `account` may not transact at all now (frozen, sanctioned, not verified...).
    @param account The wallet.
    @return The reason code (0 = OK).
    """
    if account == empty(address):
        return reasons.ZERO_ADDR
    if self.isFrozen[account]:
        return reasons.SENDER_FROZEN
    return staticcall ICompliance(self.compliance).accountRestriction(account)


@external
@view
def canTransact(account: address) -> bool:
    """
    @notice Tell whether `account` may transact at all (ERC-7943): not frozen, not sanctioned, and
            verified unless the transfer mode is OPEN.
    @param account The wallet.
    @return True if `accountRestriction` is 0.
    """
    if account == empty(address) or self.isFrozen[account]:
        return False
    return staticcall ICompliance(self.compliance).accountRestriction(account) == reasons.OK


@external
@view
def getFrozenTokens(account: address) -> uint256:
    """
    @notice Read the partially frozen amount of `account` (ERC-3643).
    @param account The wallet.
    @return Raw units frozen.
    """
    return self._frozen_tokens[account]


@external
@view
def identityRegistry() -> address:
    """
    @notice The identity registry the bound compliance contract reads (ERC-3643).
    @return The registry address.
    """
    return staticcall ICompliance(self.compliance).identityRegistry()


# ------------------------------------------------------------------ corporate-action multiplier


@internal
@view
def _multiplier_at(timestamp: uint256) -> uint256:
    """
    @notice The multiplier in force at `timestamp`: the last history entry with effectiveAt <= timestamp.
    @dev The history is sorted by effectiveAt, so this is a binary search (at most 64 steps).
    @param timestamp Unix seconds.
    @return The multiplier (1e18 = 1.0).
    """
    hi: uint256 = self.multiplierUpdateCount - 1
    if convert(self._multipliers[hi].effectiveAt, uint256) <= timestamp:
        return self._multipliers[hi].multiplier
    lo: uint256 = 0
    for _: uint256 in range(64):
        if lo >= hi:
            break
        mid: uint256 = (lo + hi + 1) // 2
        if convert(self._multipliers[mid].effectiveAt, uint256) <= timestamp:
            lo = mid
        else:
            hi = mid - 1
    return self._multipliers[lo].multiplier


@external
def scheduleMultiplier(newMultiplier: uint256, effectiveAt: uint64, nonce: uint256):
    """
    @notice Schedule a new UI multiplier (CORPORATE_ACTIONS), e.g. 2e18 after a 2:1 split of a token at 1.0.
    @dev Raw balances never change. `newMultiplier` is absolute. `effectiveAt` may not be in the past,
         more than ten years ahead, nor before the last scheduled entry; `nonce` must exceed every nonce
         of the history (and be below 2**64), so one corporate action can never be applied twice. A
         mistaken entry is withdrawn with `cancelMultiplier` while it has not taken effect.
    @param newMultiplier The multiplier, 18 decimals (0 < m <= 1e36).
    @param effectiveAt When it takes effect (unix seconds, now <= effectiveAt <= now + 10 * 366 days).
    @param nonce The corporate action's nonce, lastMultiplierNonce < nonce <= 2**64 - 1.
    """
    access._check_role(access.CORPORATE_ACTIONS)
    assert nonce > self.lastMultiplierNonce, "MULTIPLIER_NONCE_ALREADY_USED"
    assert nonce <= MAX_NONCE, "MULTIPLIER_NONCE_OUT_OF_RANGE"
    assert newMultiplier != 0 and newMultiplier <= MAX_MULTIPLIER, "MULTIPLIER_OUT_OF_RANGE"
    assert convert(effectiveAt, uint256) >= block.timestamp, "MULTIPLIER_EFFECTIVE_TIME_IN_THE_PAST"
    assert convert(effectiveAt, uint256) <= block.timestamp + MAX_SCHEDULE_AHEAD, (
        "MULTIPLIER_EFFECTIVE_TIME_TOO_FAR_AHEAD"
    )
    index: uint256 = self.multiplierUpdateCount
    assert effectiveAt >= self._multipliers[index - 1].effectiveAt, "MULTIPLIER_BEFORE_THE_LAST_SCHEDULED"
    self._multipliers[index] = MultiplierUpdate(multiplier=newMultiplier, effectiveAt=effectiveAt, nonce=nonce)
    self.multiplierUpdateCount = index + 1
    self.lastMultiplierNonce = nonce
    log MultiplierScheduled(index=index, multiplier=newMultiplier, effectiveAt=effectiveAt, nonce=nonce)


@external
def cancelMultiplier(nonce: uint256):
    """
    @notice Withdraw the LAST scheduled multiplier while it has not taken effect (CORPORATE_ACTIONS),
            e.g. a wrong date or ratio; then schedule the corrected one.
    @dev Only the last entry can go, so the history stays sorted and every entry already in force stays
         untouched; cancel repeatedly to withdraw several pending entries, newest first. The initial
         entry 0 can never be cancelled. `lastMultiplierNonce` falls back to the nonce of the new last
         entry: the cancelled action was never applied, so it may be scheduled again under its nonce.
    @param nonce The nonce of the last entry (guards against cancelling another action than meant).
    """
    access._check_role(access.CORPORATE_ACTIONS)
    index: uint256 = self.multiplierUpdateCount - 1
    assert index != 0, "MULTIPLIER_NOTHING_TO_CANCEL"
    last: MultiplierUpdate = self._multipliers[index]
    assert last.nonce == nonce, "MULTIPLIER_NOT_THE_LAST_SCHEDULED_NONCE"
    assert block.timestamp < convert(last.effectiveAt, uint256), "MULTIPLIER_ALREADY_IN_EFFECT"
    self._multipliers[index] = empty(MultiplierUpdate)
    self.multiplierUpdateCount = index
    self.lastMultiplierNonce = self._multipliers[index - 1].nonce
    log MultiplierCancelled(index=index, multiplier=last.multiplier, effectiveAt=last.effectiveAt, nonce=nonce)


@external
@view
def multiplier() -> uint256:
    """
    @notice The multiplier in force now (at block.timestamp).
    @return The multiplier (1e18 = 1.0).
    """
    return self._multiplier_at(block.timestamp)


@external
@view
def multiplierAt(timestamp: uint256) -> uint256:
    """
    @notice The multiplier in force at `timestamp`, per the history as it stands now.
    @param timestamp Unix seconds.
    @return The multiplier (1e18 = 1.0).
    """
    return self._multiplier_at(timestamp)


@external
@view
def multiplierUpdate(index: uint256) -> (uint256, uint64, uint256):
    """
    @notice Read one history entry (entry 0 is the initial 1.0).
    @param index 0 .. multiplierUpdateCount - 1.
    @return multiplier, effectiveAt, nonce.
    """
    assert index < self.multiplierUpdateCount, "MULTIPLIER_INDEX_OUT_OF_RANGE"
    u: MultiplierUpdate = self._multipliers[index]
    return u.multiplier, u.effectiveAt, u.nonce


@external
@view
def uiBalanceOf(account: address) -> uint256:
    """
    @notice `account`'s balance in UI units: raw * multiplier // 1e18 (rounded down).
    @param account The wallet.
    @return The UI amount (same decimals as the token).
    """
    return self.balanceOf[account] * self._multiplier_at(block.timestamp) // ONE


@external
@view
def uiTotalSupply() -> uint256:
    """
    @notice The total supply in UI units: raw * multiplier // 1e18 (rounded down).
    @return The UI supply (same decimals as the token).
    """
    return self.totalSupply * self._multiplier_at(block.timestamp) // ONE
