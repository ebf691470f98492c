# pragma version ~=0.4.3
"""
@title QuoteSettlement
@custom:contract-name QuoteSettlement
@license Apache-2.0
@author equitoken contributors
@notice Atomic delivery-versus-payment for the instant-execution model: an investor submits a quote the
        platform signed (EIP-712); in ONE transaction the contract checks it and moves the stablecoin and
        mints (buy) or burns (sell) the security token, within a notional limit per time window.
@dev EIP-712 domain: name "equitoken", version "1", chainId, verifyingContract = this contract. Type:
       Quote(address investor,bytes32 symbol,uint8 side,uint256 quantity,uint256 price,uint256 expiry,bytes32 quoteId)
     side 0 = BUY (investor pays, receives tokens), 1 = SELL (investor's tokens burned, investor is paid).
     quantity: token raw units; price: stablecoin raw units (6 decimals) per WHOLE token (10**decimals raw).
     notional = quantity * price / 10**tokenDecimals, rounded in the platform's favour: UP for a buy (the
     investor pays at least the exact amount), DOWN for a sell (the investor receives at most it).
     Checks, in order: caller is the quote's investor; symbol matches; side is 0 or 1; quantity and price
     non-zero; not expired (block.timestamp <= expiry); quoteId unused; signature (v 27/28, low s,
     signer = the platform signer); notional within the window cap (NOTIONAL_LIMIT_EXCEEDED).
     Windows are aligned: [k * windowLength, (k+1) * windowLength); buys and sells both count. The
     notional window is GLOBAL to this contract (one token), not per investor: it caps the platform's
     total flow per window (a circuit breaker), and one investor can use up the whole window for
     everyone; per-investor limits are the off-chain engine's (it decides which quotes to sign).
     This contract must hold the ISSUER role on the token; on a buy the investor must have approved it on
     the stablecoin; on a sell the treasury must have. Roles (module `access`): ADMIN only (signer,
     treasury, limit).
"""

from ethereum.ercs import IERC20

import access
import reasons

initializes: access

exports: access.__interface__


interface ISecurityToken:
    def mint(receiver: address, amount: uint256): nonpayable
    def burn(holder: address, amount: uint256): nonpayable
    def decimals() -> uint8: view


DOMAIN_TYPEHASH: constant(bytes32) = keccak256(
    "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
)
QUOTE_TYPEHASH: constant(bytes32) = keccak256(
    "Quote(address investor,bytes32 symbol,uint8 side,uint256 quantity,uint256 price,uint256 expiry,bytes32 quoteId)"
)
NAME_HASH: constant(bytes32) = keccak256("equitoken")
VERSION_HASH: constant(bytes32) = keccak256("1")
# secp256k1 group order n // 2 = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0 (EIP-2):
# the largest s accepted; (r, s, v) and (r, n - s, v ^ 1) recover the same key, only the low one is taken.
HALF_ORDER: constant(uint256) = 57896044618658097711785492504343953926418782139537452191302581570759080747168
SIDE_BUY: constant(uint8) = 0
SIDE_SELL: constant(uint8) = 1


# @notice A quote was settled.
# @param quoteId The quote id (now used).
# @param investor The investor.
# @param side 0 BUY, 1 SELL.
# @param quantity Token raw units minted or burned.
# @param price Stablecoin raw units per whole token.
# @param notional Stablecoin raw units paid (buy) or received (sell), rounded as documented.
event QuoteSettled:
    quoteId: indexed(bytes32)
    investor: indexed(address)
    side: uint8
    quantity: uint256
    price: uint256
    notional: uint256


# @notice The platform signer changed.
# @param signer The new signer.
event SignerSet:
    signer: indexed(address)


# @notice The treasury changed.
# @param treasury The new treasury.
event TreasurySet:
    treasury: indexed(address)


# @notice The notional limit changed.
# @param windowLength Window length in seconds.
# @param notionalCap Stablecoin raw units per window (max_value(uint256) = unlimited).
event NotionalLimitSet:
    windowLength: uint256
    notionalCap: uint256


token: public(immutable(address))
stablecoin: public(immutable(address))
symbol: public(immutable(bytes32))
tokenUnit: public(immutable(uint256))
_cached_chain_id: immutable(uint256)
_cached_domain_separator: immutable(bytes32)

signer: public(address)
treasury: public(address)
windowLength: public(uint256)
notionalCap: public(uint256)
windowStart: public(uint256)
windowUsed: public(uint256)
quoteUsed: public(HashMap[bytes32, bool])


@deploy
def __init__(
    token_: address,
    stablecoin_: address,
    symbol_: bytes32,
    treasury_: address,
    signer_: address,
    windowLength_: uint256,
    notionalCap_: uint256,
    admin: address,
):
    """
    @notice Create the settlement contract for one token.
    @param token_ The security token (grant this contract ISSUER on it).
    @param stablecoin_ The payment token (6 decimals).
    @param symbol_ The token symbol as bytes32 (ASCII, right-padded with zeros) quotes must name.
    @param treasury_ Receives buy payments and pays sell proceeds.
    @param signer_ The platform's quote-signing address.
    @param windowLength_ Rate-limit window in seconds (> 0).
    @param notionalCap_ Stablecoin raw units per window for ALL investors together (max_value(uint256) =
           unlimited).
    @param admin The first admin.
    """
    access.__init__(admin)
    assert token_ != empty(address) and stablecoin_ != empty(address), "SETTLEMENT_ZERO_TOKEN"
    assert treasury_ != empty(address) and signer_ != empty(address), "SETTLEMENT_ZERO_ADDRESS"
    assert windowLength_ != 0, "SETTLEMENT_ZERO_WINDOW"
    token = token_
    stablecoin = stablecoin_
    symbol = symbol_
    tokenUnit = 10 ** convert(staticcall ISecurityToken(token_).decimals(), uint256)
    _cached_chain_id = chain.id
    _cached_domain_separator = self._domain_separator()
    self.treasury = treasury_
    self.signer = signer_
    self.windowLength = windowLength_
    self.notionalCap = notionalCap_
    log TreasurySet(treasury=treasury_)
    log SignerSet(signer=signer_)
    log NotionalLimitSet(windowLength=windowLength_, notionalCap=notionalCap_)


@internal
@view
def _domain_separator() -> bytes32:
    """
    @notice Compute the EIP-712 domain separator for the current chain id.
    @return The separator.
    """
    return keccak256(abi_encode(DOMAIN_TYPEHASH, NAME_HASH, VERSION_HASH, chain.id, self))


@internal
@view
def _current_domain_separator() -> bytes32:
    """
    @notice The cached separator, recomputed if the chain id changed (a fork).
    @return The separator.
    """
    if chain.id == _cached_chain_id:
        return _cached_domain_separator
    return self._domain_separator()


@internal
@view
def _digest(
    investor: address, symbol_: bytes32, side: uint8, quantity: uint256, price: uint256, expiry: uint256, quoteId: bytes32
) -> bytes32:
    """
    @notice The EIP-712 digest of a quote.
    @param investor The investor.
    @param symbol_ The token symbol (bytes32).
    @param side 0 BUY, 1 SELL.
    @param quantity Token raw units.
    @param price Stablecoin raw units per whole token.
    @param expiry Last valid second (unix).
    @param quoteId Unique id.
    @return keccak256("\x19\x01" || domainSeparator || structHash).
    """
    struct_hash: bytes32 = keccak256(
        abi_encode(QUOTE_TYPEHASH, investor, symbol_, side, quantity, price, expiry, quoteId)
    )
    return keccak256(concat(b"\x19\x01", self._current_domain_separator(), struct_hash))


@external
@view
def DOMAIN_SEPARATOR() -> bytes32:
    """
    @notice The EIP-712 domain separator (name "equitoken", version "1", chain id, this contract).
    @return The separator.
    """
    return self._current_domain_separator()


@external
@view
def quoteDigest(
    investor: address, symbol_: bytes32, side: uint8, quantity: uint256, price: uint256, expiry: uint256, quoteId: bytes32
) -> bytes32:
    """
    @notice The EIP-712 digest the platform signs for a quote.
    @param investor The investor.
    @param symbol_ The token symbol (bytes32).
    @param side 0 BUY, 1 SELL.
    @param quantity Token raw units.
    @param price Stablecoin raw units per whole token.
    @param expiry Last valid second (unix).
    @param quoteId Unique id.
    @return The digest.
    """
    return self._digest(investor, symbol_, side, quantity, price, expiry, quoteId)


@external
@view
def notionalOf(side: uint8, quantity: uint256, price: uint256) -> uint256:
    """
    @notice The stablecoin amount of a quote: quantity * price / 10**decimals, up for buys, down for sells.
    @param side 0 BUY, 1 SELL.
    @param quantity Token raw units.
    @param price Stablecoin raw units per whole token.
    @return Stablecoin raw units.
    """
    return self._notional(side, quantity, price)


@internal
@view
def _notional(side: uint8, quantity: uint256, price: uint256) -> uint256:
    """
    @notice quantity * price / tokenUnit, rounded up for buys and down for sells.
    @param side 0 BUY, 1 SELL.
    @param quantity Token raw units.
    @param price Stablecoin raw units per whole token.
    @return Stablecoin raw units.
    """
    gross: uint256 = quantity * price
    if side == SIDE_BUY:
        return (gross + tokenUnit - 1) // tokenUnit
    return gross // tokenUnit


@external
def settle(
    investor: address,
    symbol_: bytes32,
    side: uint8,
    quantity: uint256,
    price: uint256,
    expiry: uint256,
    quoteId: bytes32,
    v: uint8,
    r: bytes32,
    s: bytes32,
) -> uint256:
    """
    @notice Settle a platform-signed quote: pay and mint (buy) or burn and get paid (sell), atomically.
    @param investor The quote's investor; must be the caller.
    @param symbol_ The token symbol (bytes32); must be this contract's.
    @param side 0 BUY, 1 SELL.
    @param quantity Token raw units (> 0).
    @param price Stablecoin raw units per whole token (> 0).
    @param expiry Last valid second (unix).
    @param quoteId Unique id; usable once.
    @param v Signature recovery id (27 or 28).
    @param r Signature r.
    @param s Signature s (lower half of the curve order).
    @return The notional in stablecoin raw units.
    """
    assert msg.sender == investor, "QUOTE_CALLER_IS_NOT_THE_INVESTOR"
    assert symbol_ == symbol, "QUOTE_WRONG_SYMBOL"
    assert side <= SIDE_SELL, "QUOTE_BAD_SIDE"
    assert quantity != 0 and price != 0, "QUOTE_ZERO_QUANTITY_OR_PRICE"
    assert block.timestamp <= expiry, "QUOTE_EXPIRED"
    assert not self.quoteUsed[quoteId], "QUOTE_ALREADY_USED"
    assert v == 27 or v == 28, "QUOTE_BAD_SIGNATURE"
    assert convert(s, uint256) <= HALF_ORDER, "QUOTE_BAD_SIGNATURE"
    digest: bytes32 = self._digest(investor, symbol_, side, quantity, price, expiry, quoteId)
    recovered: address = ecrecover(digest, v, r, s)
    assert recovered != empty(address) and recovered == self.signer, "QUOTE_BAD_SIGNATURE"

    notional: uint256 = self._notional(side, quantity, price)
    length: uint256 = self.windowLength
    start: uint256 = block.timestamp - block.timestamp % length
    used: uint256 = 0
    if start == self.windowStart:
        used = self.windowUsed
    else:
        self.windowStart = start
    cap: uint256 = self.notionalCap
    if cap != max_value(uint256) and (notional > cap or used > cap - notional):
        raise "NOTIONAL_LIMIT_EXCEEDED"
    if cap != max_value(uint256):
        self.windowUsed = used + notional
    self.quoteUsed[quoteId] = True

    if side == SIDE_BUY:
        assert extcall IERC20(stablecoin).transferFrom(investor, self.treasury, notional), "QUOTE_PAYMENT_FAILED"
        extcall ISecurityToken(token).mint(investor, quantity)
    else:
        extcall ISecurityToken(token).burn(investor, quantity)
        assert extcall IERC20(stablecoin).transferFrom(self.treasury, investor, notional), "QUOTE_PAYOUT_FAILED"
    log QuoteSettled(quoteId=quoteId, investor=investor, side=side, quantity=quantity, price=price, notional=notional)
    return notional


@external
def setSigner(signer_: address):
    """
    @notice Replace the platform signer (ADMIN); quotes signed by the old key stop settling.
    @param signer_ The new signer; not the zero address.
    """
    access._check_role(access.ADMIN)
    assert signer_ != empty(address), "SETTLEMENT_ZERO_ADDRESS"
    self.signer = signer_
    log SignerSet(signer=signer_)


@external
def setTreasury(treasury_: address):
    """
    @notice Replace the treasury (ADMIN).
    @param treasury_ The new treasury; not the zero address.
    """
    access._check_role(access.ADMIN)
    assert treasury_ != empty(address), "SETTLEMENT_ZERO_ADDRESS"
    self.treasury = treasury_
    log TreasurySet(treasury=treasury_)


@external
def setNotionalLimit(windowLength_: uint256, notionalCap_: uint256):
    """
    @notice Change the rate limit (ADMIN); the current window's usage restarts.
    @dev The limit is global: all investors' buys and sells share one window (see the contract @dev).
    @param windowLength_ Window length in seconds (> 0).
    @param notionalCap_ Stablecoin raw units per window (max_value(uint256) = unlimited).
    """
    access._check_role(access.ADMIN)
    assert windowLength_ != 0, "SETTLEMENT_ZERO_WINDOW"
    self.windowLength = windowLength_
    self.notionalCap = notionalCap_
    self.windowStart = 0
    self.windowUsed = 0
    log NotionalLimitSet(windowLength=windowLength_, notionalCap=notionalCap_)
