# pragma version ~=0.4.3
"""
@title Compliance
@custom:contract-name Compliance
@license Apache-2.0
@author equitoken contributors
@notice The transfer rules of ONE security token, keyed by investor (not wallet), each refusal naming its
        stable reason code: transfer mode, sanctions, verification and KYC expiry, lockups, country
        allow/deny lists, Reg S flowback, investor categories, a whitelist, a maximum balance per investor
        and a maximum number of holders (counted per investor).
@dev Roles (module `access`): ADMIN binds the token and the registry and grants roles; AGENT (the
     compliance officer, or the off-chain engine that compiles policies) writes the configuration. Every
     setting is readable back (see the views) so the engine can detect drift.

     The bound token calls `transferred` once per balance change (mint: sender = 0; burn: recipient = 0);
     it checks and, on success, records the per-investor balances and the holder count. `check` and
     `checkForced` are the same decision as a view (one shared `_check`).

     Check order (the first failing rule wins):
        1 SENDER_SANCTIONED          sender wallet or its investor is sanctioned     (transfer, burn)
        2 RECIPIENT_SANCTIONED       recipient wallet or its investor is sanctioned  (transfer, mint)
          -- mode OPEN and every burn stop here: OK --
        3 SENDER_NOT_VERIFIED        sender wallet not bound to an existing investor, or the investor
                                     was never verified (KYC expiry 0) (transfer)
        4 KYC_EXPIRED                sender investor's KYC expired                   (transfer)
        5 RECIPIENT_NOT_VERIFIED     recipient wallet not bound to an existing investor, or never verified
        6 KYC_EXPIRED                recipient investor's KYC expired
        7 LOCKUP_ACTIVE              sender investor locked up (not between wallets of one investor)
        8 COUNTRY_NOT_ALLOWED        recipient country denied, or allowlist on and country not in it
        9 FLOWBACK_RESTRICTED        recipient country = flowback country before flowbackUntil (Reg S;
                                     transfers only: a mint is primary issuance, not flowback)
       10 CATEGORY_NOT_ALLOWED       recipient category bit not set in allowedCategories
       11 RECIPIENT_NOT_WHITELISTED  mode WHITELISTED and recipient investor not whitelisted
       12 MAX_BALANCE_EXCEEDED       recipient investor's holding would exceed maxBalance (0 = no cap)
       13 HOLDER_LIMIT_REACHED       recipient investor would be a new holder beyond maxHolders (0 = no cap)
     Sender-side rules (1, 3, 4, 7) are skipped for mints and for the agent's forced transfers and
     recoveries; recipient-side rules always apply. A burn checks only rule 1: redeeming a sanctioned
     holder pays value to a sanctioned party, while an expired KYC or a lockup must not trap an issuer
     redemption. Rules 12/13 compare the books of the sender's and recipient's CURRENT holder keys
     (after rebooking them, see below), and are skipped when both keys are the same investor. Mode OPEN
     stops before them: caps are not enforced there (the books are still kept).

     Holder keys and the books: every holding is booked under a holder KEY, `investorBalance[key]`, and
     `holderCount` is the number of keys with a non-zero balance. A wallet's CURRENT key is the investor it
     is bound to in the identity registry, or, for an unbound wallet (possible in mode OPEN, or after an
     unbind), the wallet's own address as bytes32, so such a wallet counts as its own holder.
     `holderKey[wallet]` is the key the wallet's whole balance is booked under (zero while it holds
     nothing). Invariants: investorBalance[k] == the sum of the token balances of the wallets whose
     holderKey is k; sum(investorBalance) == totalSupply; holderCount == #{k : investorBalance[k] > 0}.
     The registry does not tell this contract when a wallet is bound, unbound or rebound (and one registry
     serves many tokens), so a holding wallet's booked key can go STALE (booked key != current key), e.g.
     a wallet filled while unbound in mode OPEN and bound to an investor later. Stale books are rebooked:
       - automatically, by every balance change that touches the wallet: `transferred` first moves the
         sender's and the recipient's whole balance (read from the token's `balanceOf`) from the booked
         key to the current key, then records the change; and the decision (`_check`, shared by `check`,
         `checkForced` and `transferred`) evaluates the caps (rules 12, 13) on the books AS IF those two
         rebookings had happened, so a view and a transaction in the same state always agree;
       - explicitly, by the agent: `rebook(wallet)` / `batchRebook(wallets)`, to be called after binding,
         unbinding or rebinding a wallet that holds tokens (the registry's WalletBound / WalletUnbound
         events say which) and after switching the identity registry, so that the caps see the investor's
         whole holding even through wallets that do not take part in the next transfer (`needsRebook`
         tells which wallets are stale).
     A rebooking never refuses: it records who holds what, which the caps then act on (an investor
     pushed over maxBalance by a rebooking can still send, but cannot receive from another investor).
"""

import access
import reasons

initializes: access

exports: access.__interface__


interface IIdentityRegistry:
    def profiles(a: address, b: address) -> (bytes32, uint256, bytes32, uint256): view


interface IToken:
    def balanceOf(account: address) -> uint256: view


MODE_OPEN: constant(uint8) = 0
MODE_ELIGIBLE: constant(uint8) = 1
MODE_WHITELISTED: constant(uint8) = 2

EXPIRY_MASK: constant(uint256) = 2**64 - 1
COUNTRY_SHIFT: constant(uint256) = 64
CATEGORY_SHIFT: constant(uint256) = 80
SANCTIONED_BITS: constant(uint256) = 2**88 | 2**89
EXISTS_BIT: constant(uint256) = 2**90
MAX_COUNTRY: constant(uint16) = 1023
MAX_BATCH: constant(uint256) = 256


# @notice The token whose transfers this contract decides.
# @param token The token.
event TokenBound:
    token: indexed(address)


# @notice The identity registry this contract reads.
# @param registry The registry.
event IdentityRegistrySet:
    registry: indexed(address)


# @notice The transfer mode changed.
# @param mode 0 OPEN (sanctions only), 1 ELIGIBLE (verified parties), 2 WHITELISTED.
event TransferModeSet:
    mode: uint8


# @notice The country allowlist was switched on or off (the denylist always applies).
# @param enabled The new state.
event CountryAllowlistEnabledSet:
    enabled: bool


# @notice A country was added to or removed from the allowlist.
# @param country ISO 3166-1 numeric code.
# @param allowed The new state.
event CountryAllowedSet:
    country: indexed(uint16)
    allowed: bool


# @notice A country was added to or removed from the denylist.
# @param country ISO 3166-1 numeric code.
# @param denied The new state.
event CountryDeniedSet:
    country: indexed(uint16)
    denied: bool


# @notice The allowed-category bitmask changed.
# @param mask Bit i set = category i may receive.
event AllowedCategoriesSet:
    mask: uint256


# @notice The maximum number of holders (investors) changed.
# @param maxHolders The new cap (0 = none).
event MaxHoldersSet:
    maxHolders: uint256


# @notice The maximum holding per investor changed.
# @param maxBalance The new cap in raw token units (0 = none).
event MaxBalanceSet:
    maxBalance: uint256


# @notice The Reg S flowback restriction changed.
# @param country The country that may not receive (e.g. 840 United States).
# @param until The end of the distribution compliance period (unix seconds; 0 = off).
event FlowbackSet:
    country: uint16
    until: uint64


# @notice An investor's lockup changed.
# @param investorId The investor.
# @param until The investor may not send before this time (unix seconds; 0 = no lockup).
event LockupSet:
    investorId: indexed(bytes32)
    until: uint64


# @notice A wallet's whole balance was moved in the books from the key it was booked under to its current
#         key (after a bind, unbind or rebind of a holding wallet; see the contract @dev).
# @param wallet The wallet.
# @param fromKey The key it was booked under (an investor id, or an unbound wallet's address as bytes32).
# @param toKey Its current key.
# @param amount The wallet's balance, raw token units.
event HolderRebooked:
    wallet: indexed(address)
    fromKey: indexed(bytes32)
    toKey: indexed(bytes32)
    amount: uint256


# @notice An investor was added to or removed from the holder whitelist.
# @param investorId The investor.
# @param whitelisted The new state.
event WhitelistSet:
    investorId: indexed(bytes32)
    whitelisted: bool


identityRegistry: public(address)
token: public(address)
transferMode: public(uint8)
countryAllowlistEnabled: public(bool)
allowedCategories: public(uint256)
maxHolders: public(uint256)
maxBalance: public(uint256)
flowbackCountry: public(uint16)
flowbackUntil: public(uint64)

holderCount: public(uint256)
investorBalance: public(HashMap[bytes32, uint256])
holderKey: public(HashMap[address, bytes32])

_country_allowed: uint256[4]
_country_denied: uint256[4]

_lockup: HashMap[bytes32, uint64]
lockupCount: public(uint256)
_lockup_at: HashMap[uint256, bytes32]
_lockup_pos: HashMap[bytes32, uint256]

_whitelisted_pos: HashMap[bytes32, uint256]
whitelistCount: public(uint256)
_whitelist_at: HashMap[uint256, bytes32]


@deploy
def __init__(registry: address, admin: address, mode: uint8):
    """
    @notice Create the rules for one token: all categories allowed, no caps, no country lists.
    @param registry The identity registry to read.
    @param admin The first admin.
    @param mode The initial transfer mode (0 OPEN, 1 ELIGIBLE, 2 WHITELISTED).
    """
    access.__init__(admin)
    assert registry != empty(address), "COMPLIANCE_ZERO_REGISTRY"
    assert mode <= MODE_WHITELISTED, "COMPLIANCE_BAD_MODE"
    self.identityRegistry = registry
    self.transferMode = mode
    self.allowedCategories = max_value(uint256)
    log IdentityRegistrySet(registry=registry)
    log TransferModeSet(mode=mode)
    log AllowedCategoriesSet(mask=max_value(uint256))


# ------------------------------------------------------------------ the decision


@internal
@pure
def _key(wallet: address, investorId: bytes32) -> bytes32:
    """
    @notice The CURRENT holder key of a wallet: its investor if bound, else the wallet itself.
    @param wallet The wallet.
    @param investorId Its current investor id (zero if unbound).
    @return The investor id, or the wallet address as bytes32 if `investorId` is zero.
    """
    if investorId != empty(bytes32):
        return investorId
    return convert(wallet, bytes32)


@internal
@view
def _stale(wallet: address, key: bytes32) -> (bytes32, uint256):
    """
    @notice Tell whether a wallet's holding is booked under a key other than its current one.
    @param wallet The wallet (zero address: none).
    @param key Its current key.
    @return The stale key it is booked under and its balance (read from the token), or (0, 0) if the
            books are up to date for this wallet.
    """
    if wallet == empty(address):
        return empty(bytes32), 0
    booked: bytes32 = self.holderKey[wallet]
    if booked == empty(bytes32) or booked == key:
        return empty(bytes32), 0
    return booked, staticcall IToken(self.token).balanceOf(wallet)


@internal
@view
def _after(key: bytes32, src0: bytes32, dst0: bytes32, amt0: uint256, src1: bytes32, dst1: bytes32, amt1: uint256) -> uint256:
    """
    @notice A key's booked balance after up to two pending rebookings (amount 0 = no rebooking).
    @param key The key.
    @param src0 First rebooking: from this key.
    @param dst0 First rebooking: to this key.
    @param amt0 First rebooking: the amount.
    @param src1 Second rebooking: from this key.
    @param dst1 Second rebooking: to this key.
    @param amt1 Second rebooking: the amount.
    @return The balance.
    """
    balance: uint256 = self.investorBalance[key]
    if key == dst0:
        balance += amt0
    if key == dst1:
        balance += amt1
    if key == src0:
        balance -= amt0
    if key == src1:
        balance -= amt1
    return balance


@internal
@view
def _books(sender: address, from_key: bytes32, receiver: address, to_key: bytes32) -> (uint256, uint256, uint256):
    """
    @notice The books as `transferred` will see them after rebooking a stale sender, then a stale
            recipient (exactly what `_rebook` does), without writing anything.
    @param sender The sender (zero address: mint).
    @param from_key The sender's current key.
    @param receiver The recipient (zero address: burn).
    @param to_key The recipient's current key.
    @return The recipient key's balance, the sender key's balance and the holder count.
    """
    a_src: bytes32 = empty(bytes32)
    a_amt: uint256 = 0
    b_src: bytes32 = empty(bytes32)
    b_amt: uint256 = 0
    a_src, a_amt = self._stale(sender, from_key)
    if receiver != sender:
        b_src, b_amt = self._stale(receiver, to_key)
    holders: uint256 = self.holderCount
    if a_amt != 0:
        if self.investorBalance[from_key] == 0:
            holders += 1
        if self.investorBalance[a_src] == a_amt:
            holders -= 1
    if b_amt != 0:
        if self._after(to_key, a_src, from_key, a_amt, empty(bytes32), empty(bytes32), 0) == 0:
            holders += 1
        if self._after(b_src, a_src, from_key, a_amt, empty(bytes32), empty(bytes32), 0) == b_amt:
            holders -= 1
    to_balance: uint256 = self._after(to_key, a_src, from_key, a_amt, b_src, to_key, b_amt)
    from_balance: uint256 = 0
    if sender != empty(address):
        from_balance = self._after(from_key, a_src, from_key, a_amt, b_src, to_key, b_amt)
    return to_balance, from_balance, holders


@internal
def _rebook(wallet: address, key: bytes32) -> bool:
    """
    @notice Move a stale wallet's whole balance from the key it is booked under to `key`, keeping
            holderCount exact on both sides (see the contract @dev); nothing if it is up to date.
    @param wallet The wallet.
    @param key Its current key.
    @return True if something was rebooked.
    """
    booked: bytes32 = self.holderKey[wallet]
    if booked == empty(bytes32) or booked == key:
        return False
    amount: uint256 = staticcall IToken(self.token).balanceOf(wallet)
    if amount == 0:
        self.holderKey[wallet] = empty(bytes32)
        return False
    left: uint256 = self.investorBalance[booked] - amount
    self.investorBalance[booked] = left
    if left == 0:
        self.holderCount -= 1
    had: uint256 = self.investorBalance[key]
    if had == 0:
        self.holderCount += 1
    self.investorBalance[key] = had + amount
    self.holderKey[wallet] = key
    log HolderRebooked(wallet=wallet, fromKey=booked, toKey=key, amount=amount)
    return True


@internal
@view
def _country_bit(words: uint256[4], country: uint256) -> bool:
    """
    @notice Read one country's bit from a 1024-bit set.
    @param words The set.
    @param country The country code (< 1024).
    @return The bit.
    """
    return (words[country >> 8] >> (country & 255)) & 1 == 1


@internal
@view
def _check(sender: address, receiver: address, amount: uint256, forced: bool) -> (uint8, bytes32, bytes32):
    """
    @notice Decide a balance change; the order is documented in the contract @dev.
    @param sender The sender (zero address: mint).
    @param receiver The recipient (zero address: burn).
    @param amount Raw token units.
    @param forced True for the agent's forced transfers and recoveries (sender-side rules skipped).
    @return The reason code (0 = OK), the sender's and the recipient's CURRENT holder keys (zero for
            the zero address).
    """
    from_id: bytes32 = empty(bytes32)
    from_p: uint256 = 0
    to_id: bytes32 = empty(bytes32)
    to_p: uint256 = 0
    from_id, from_p, to_id, to_p = staticcall IIdentityRegistry(self.identityRegistry).profiles(sender, receiver)
    is_mint: bool = sender == empty(address)
    is_burn: bool = receiver == empty(address)
    check_sender: bool = not is_mint and not forced
    from_key: bytes32 = empty(bytes32)
    to_key: bytes32 = empty(bytes32)
    if not is_mint:
        from_key = self._key(sender, from_id)
    if not is_burn:
        to_key = self._key(receiver, to_id)

    if check_sender and from_p & SANCTIONED_BITS != 0:
        return reasons.SENDER_SANCTIONED, from_key, to_key
    if is_burn:
        return reasons.OK, from_key, to_key
    if to_p & SANCTIONED_BITS != 0:
        return reasons.RECIPIENT_SANCTIONED, from_key, to_key
    mode: uint8 = self.transferMode
    if mode == MODE_OPEN:
        return reasons.OK, from_key, to_key

    now: uint256 = block.timestamp
    if check_sender:
        if from_id == empty(bytes32) or from_p & EXISTS_BIT == 0 or from_p & EXPIRY_MASK == 0:
            return reasons.SENDER_NOT_VERIFIED, from_key, to_key
        if from_p & EXPIRY_MASK <= now:
            return reasons.KYC_EXPIRED, from_key, to_key
    if to_id == empty(bytes32) or to_p & EXISTS_BIT == 0 or to_p & EXPIRY_MASK == 0:
        return reasons.RECIPIENT_NOT_VERIFIED, from_key, to_key
    if to_p & EXPIRY_MASK <= now:
        return reasons.KYC_EXPIRED, from_key, to_key
    if check_sender and from_id != to_id and convert(self._lockup[from_id], uint256) > now:
        return reasons.LOCKUP_ACTIVE, from_key, to_key

    country: uint256 = (to_p >> COUNTRY_SHIFT) & 65535
    if self._country_bit(self._country_denied, country):
        return reasons.COUNTRY_NOT_ALLOWED, from_key, to_key
    if self.countryAllowlistEnabled and not self._country_bit(self._country_allowed, country):
        return reasons.COUNTRY_NOT_ALLOWED, from_key, to_key
    # Flowback restricts resales into the flowback country, not the issuer's own primary issuance
    # (a Reg D offering to US investors runs alongside a Reg S distribution period).
    if (
        not is_mint
        and now < convert(self.flowbackUntil, uint256)
        and country == convert(self.flowbackCountry, uint256)
    ):
        return reasons.FLOWBACK_RESTRICTED, from_key, to_key
    if (self.allowedCategories >> ((to_p >> CATEGORY_SHIFT) & 255)) & 1 == 0:
        return reasons.CATEGORY_NOT_ALLOWED, from_key, to_key
    if mode == MODE_WHITELISTED and self._whitelisted_pos[to_id] == 0:
        return reasons.RECIPIENT_NOT_WHITELISTED, from_key, to_key

    cap: uint256 = self.maxBalance
    limit: uint256 = self.maxHolders
    if from_key != to_key and (cap != 0 or limit != 0):
        # the books as `transferred` sees them, after rebooking a stale sender and recipient
        to_balance: uint256 = 0
        from_balance: uint256 = 0
        holders: uint256 = 0
        to_balance, from_balance, holders = self._books(sender, from_key, receiver, to_key)
        if cap != 0 and to_balance + amount > cap:
            return reasons.MAX_BALANCE_EXCEEDED, from_key, to_key
        if limit != 0 and to_balance == 0 and amount != 0:
            if not is_mint and holders != 0 and from_balance == amount:
                holders -= 1  # the sender's investor leaves as the recipient's arrives
            if holders >= limit:
                return reasons.HOLDER_LIMIT_REACHED, from_key, to_key
    return reasons.OK, from_key, to_key


@external
def transferred(sender: address, receiver: address, amount: uint256, forced: bool, senderEmptied: bool) -> uint8:
    """
    @notice Decide a balance change of the bound token and, if allowed, record it (bound token only).
    @dev The token reverts with the reason's NAME on a non-zero result, so nothing is recorded then. On
         success, a stale sender and recipient are rebooked to their current keys first (HolderRebooked),
         then the change is booked under those keys (see the contract @dev).
    @param sender The sender (zero address: mint).
    @param receiver The recipient (zero address: burn).
    @param amount Raw token units.
    @param forced True for forced transfers and recoveries by the token's agent.
    @param senderEmptied True if the sender's wallet balance becomes zero.
    @return The reason code (0 = OK).
    """
    assert msg.sender == self.token, "COMPLIANCE_CALLER_IS_NOT_THE_BOUND_TOKEN"
    code: uint8 = reasons.OK
    from_key: bytes32 = empty(bytes32)
    to_key: bytes32 = empty(bytes32)
    code, from_key, to_key = self._check(sender, receiver, amount, forced)
    if code != reasons.OK:
        return code
    if sender != empty(address):
        self._rebook(sender, from_key)
    if receiver != empty(address) and receiver != sender:
        self._rebook(receiver, to_key)
    if amount == 0 or sender == receiver:
        return code
    if from_key != to_key:
        if sender != empty(address):
            left: uint256 = self.investorBalance[from_key] - amount
            self.investorBalance[from_key] = left
            if left == 0:
                self.holderCount -= 1
        if receiver != empty(address):
            had: uint256 = self.investorBalance[to_key]
            if had == 0:
                self.holderCount += 1
            self.investorBalance[to_key] = had + amount
    if sender != empty(address) and senderEmptied:
        self.holderKey[sender] = empty(bytes32)
    if receiver != empty(address) and self.holderKey[receiver] == empty(bytes32):
        self.holderKey[receiver] = to_key
    return code


@external
@view
def check(sender: address, receiver: address, amount: uint256) -> uint8:
    """
    @notice Decide a transfer (or a mint: sender = 0, or a burn: recipient = 0) without recording it.
    @param sender The sender.
    @param receiver The recipient.
    @param amount Raw token units.
    @return The first failing reason code (0 = OK).
    """
    code: uint8 = reasons.OK
    a: bytes32 = empty(bytes32)
    b: bytes32 = empty(bytes32)
    code, a, b = self._check(sender, receiver, amount, False)
    return code


@external
@view
def checkForced(sender: address, receiver: address, amount: uint256) -> uint8:
    """
    @notice Decide an agent's forced transfer: recipient-side rules only.
    @param sender The wallet tokens are taken from.
    @param receiver The recipient.
    @param amount Raw token units.
    @return The first failing reason code (0 = OK).
    """
    code: uint8 = reasons.OK
    a: bytes32 = empty(bytes32)
    b: bytes32 = empty(bytes32)
    code, a, b = self._check(sender, receiver, amount, True)
    return code


@external
@view
def accountRestriction(account: address) -> uint8:
    """
    @notice Decide whether `account` may transact at all (ERC-7943 `canTransact`), as a sender.
    @param account Any wallet.
    @return SENDER_SANCTIONED, or (unless mode OPEN) SENDER_NOT_VERIFIED or KYC_EXPIRED; 0 if fine.
    """
    id_: bytes32 = empty(bytes32)
    p: uint256 = 0
    x: bytes32 = empty(bytes32)
    q: uint256 = 0
    id_, p, x, q = staticcall IIdentityRegistry(self.identityRegistry).profiles(account, empty(address))
    if account == empty(address):
        return reasons.ZERO_ADDR
    if p & SANCTIONED_BITS != 0:
        return reasons.SENDER_SANCTIONED
    if self.transferMode == MODE_OPEN:
        return reasons.OK
    if id_ == empty(bytes32) or p & EXISTS_BIT == 0 or p & EXPIRY_MASK == 0:
        return reasons.SENDER_NOT_VERIFIED
    if p & EXPIRY_MASK <= block.timestamp:
        return reasons.KYC_EXPIRED
    return reasons.OK


# ------------------------------------------------------------------ holder books (AGENT)


@internal
@view
def _current_key(wallet: address) -> bytes32:
    """
    @notice A wallet's current holder key, read from the identity registry.
    @param wallet The wallet.
    @return Its investor id if bound, else the wallet address as bytes32.
    """
    id_: bytes32 = empty(bytes32)
    p: uint256 = 0
    x: bytes32 = empty(bytes32)
    q: uint256 = 0
    id_, p, x, q = staticcall IIdentityRegistry(self.identityRegistry).profiles(wallet, empty(address))
    return self._key(wallet, id_)


@external
def rebook(wallet: address) -> bool:
    """
    @notice Move a wallet's whole holding in the books to its current holder key (AGENT): call it after
            binding, unbinding or rebinding a wallet that holds tokens, and after switching the identity
            registry, so the caps count the investor's whole holding (see the contract @dev).
    @dev Never refuses on a rule: it records who holds what. Nothing happens (and False is returned) if
         the wallet holds nothing or is already booked under its current key. Emits HolderRebooked.
    @param wallet Any wallet.
    @return True if the wallet was rebooked.
    """
    access._check_role(access.AGENT)
    return self._rebook(wallet, self._current_key(wallet))


@external
def batchRebook(wallets: DynArray[address, MAX_BATCH]) -> uint256:
    """
    @notice `rebook` many wallets in one transaction (AGENT), e.g. after `batchBindWallets`.
    @param wallets The wallets (up to 256).
    @return How many were rebooked.
    """
    access._check_role(access.AGENT)
    moved: uint256 = 0
    for wallet: address in wallets:
        if self._rebook(wallet, self._current_key(wallet)):
            moved += 1
    return moved


@external
@view
def needsRebook(wallet: address) -> bool:
    """
    @notice Tell whether a wallet's holding is booked under a key other than its current one (stale
            after a bind, unbind or rebind); `rebook` fixes it, and so does its next balance change.
    @param wallet Any wallet.
    @return True if stale.
    """
    booked: bytes32 = self.holderKey[wallet]
    return booked != empty(bytes32) and booked != self._current_key(wallet)


# ------------------------------------------------------------------ configuration (AGENT) and binding (ADMIN)


@external
def bindToken(token: address):
    """
    @notice Bind the token whose transfers this contract decides (ADMIN). Rebinding is allowed only
            while no investor holds any token, so the per-investor books always match the token.
    @param token The token.
    """
    access._check_role(access.ADMIN)
    assert token != empty(address), "COMPLIANCE_ZERO_TOKEN"
    assert self.holderCount == 0, "COMPLIANCE_TOKEN_HAS_HOLDERS"
    self.token = token
    log TokenBound(token=token)


@external
def setIdentityRegistry(registry: address):
    """
    @notice Read identities from another registry (ADMIN).
    @dev Holding wallets whose investor differs in the new registry become stale in the books: `rebook`
         them (they are also rebooked on their next balance change).
    @param registry The registry.
    """
    access._check_role(access.ADMIN)
    assert registry != empty(address), "COMPLIANCE_ZERO_REGISTRY"
    self.identityRegistry = registry
    log IdentityRegistrySet(registry=registry)


@external
def setTransferMode(mode: uint8):
    """
    @notice Set the transfer mode (AGENT).
    @dev In mode OPEN only the sanctions rules apply: maxBalance, maxHolders, lockups, country, category,
         flowback and whitelist settings are kept but NOT enforced (the off-chain compliance engine knows
         this). The holder books are kept in every mode. Switching from OPEN to a restricted mode does not
         re-examine existing holdings; wallets filled while unbound are booked under their own address
         until rebooked (`rebook` after binding them; see the contract @dev).
    @param mode 0 OPEN (sanctions only), 1 ELIGIBLE (both parties verified), 2 WHITELISTED (also the
           recipient investor must be whitelisted).
    """
    access._check_role(access.AGENT)
    assert mode <= MODE_WHITELISTED, "COMPLIANCE_BAD_MODE"
    self.transferMode = mode
    log TransferModeSet(mode=mode)


@external
def setCountryAllowlistEnabled(enabled: bool):
    """
    @notice Switch the country allowlist on or off (AGENT); when on, only listed countries may receive.
    @param enabled The new state.
    """
    access._check_role(access.AGENT)
    self.countryAllowlistEnabled = enabled
    log CountryAllowlistEnabledSet(enabled=enabled)


@external
def setCountriesAllowed(countries: DynArray[uint16, MAX_BATCH], allowed: bool):
    """
    @notice Add countries to, or remove them from, the allowlist (AGENT).
    @param countries ISO 3166-1 numeric codes (< 1024).
    @param allowed True to add, False to remove.
    """
    access._check_role(access.AGENT)
    for c: uint16 in countries:
        assert c <= MAX_COUNTRY, "COMPLIANCE_BAD_COUNTRY"
        word: uint256 = convert(c, uint256) >> 8
        bit: uint256 = 1 << (convert(c, uint256) & 255)
        if allowed:
            self._country_allowed[word] |= bit
        else:
            self._country_allowed[word] &= max_value(uint256) ^ bit
        log CountryAllowedSet(country=c, allowed=allowed)


@external
def setCountriesDenied(countries: DynArray[uint16, MAX_BATCH], denied: bool):
    """
    @notice Add countries to, or remove them from, the denylist (AGENT); the denylist always applies.
    @param countries ISO 3166-1 numeric codes (< 1024).
    @param denied True to add, False to remove.
    """
    access._check_role(access.AGENT)
    for c: uint16 in countries:
        assert c <= MAX_COUNTRY, "COMPLIANCE_BAD_COUNTRY"
        word: uint256 = convert(c, uint256) >> 8
        bit: uint256 = 1 << (convert(c, uint256) & 255)
        if denied:
            self._country_denied[word] |= bit
        else:
            self._country_denied[word] &= max_value(uint256) ^ bit
        log CountryDeniedSet(country=c, denied=denied)


@external
def setAllowedCategories(mask: uint256):
    """
    @notice Set which investor categories may receive (AGENT).
    @param mask Bit i set = category i allowed (max_value(uint256) = all).
    """
    access._check_role(access.AGENT)
    self.allowedCategories = mask
    log AllowedCategoriesSet(mask=mask)


@external
def setMaxHolders(maxHolders: uint256):
    """
    @notice Cap the number of investors holding the token (AGENT). Lowering it below the current count
            blocks new holders only; nobody is forced out.
    @dev NOT enforced in transfer mode OPEN (only sanctions apply there; the value is kept and applies
         again once the mode is ELIGIBLE or WHITELISTED), nor on burns. Holders are counted per holder
         key: an investor, or an unbound wallet (mode OPEN) as its own holder.
    @param maxHolders The cap (0 = none).
    """
    access._check_role(access.AGENT)
    self.maxHolders = maxHolders
    log MaxHoldersSet(maxHolders=maxHolders)


@external
def setMaxBalance(maxBalance: uint256):
    """
    @notice Cap each investor's holding, in raw token units (AGENT).
    @dev NOT enforced in transfer mode OPEN (only sanctions apply there; the value is kept and applies
         again once the mode is ELIGIBLE or WHITELISTED). Not enforced between wallets of one investor.
         Lowering it below an investor's holding forces nothing out; that investor just cannot receive.
         The cap is checked on the investor's BOOKED holding: `rebook` wallets after binding them so that
         a holding acquired while unbound (or under another investor) counts.
    @param maxBalance The cap (0 = none).
    """
    access._check_role(access.AGENT)
    self.maxBalance = maxBalance
    log MaxBalanceSet(maxBalance=maxBalance)


@external
def setFlowback(country: uint16, until: uint64):
    """
    @notice Forbid receipt by investors of `country` until `until` (Reg S distribution compliance; AGENT).
    @param country ISO 3166-1 numeric code, e.g. 840.
    @param until End of the period (unix seconds; 0 = off).
    """
    access._check_role(access.AGENT)
    assert country <= MAX_COUNTRY, "COMPLIANCE_BAD_COUNTRY"
    self.flowbackCountry = country
    self.flowbackUntil = until
    log FlowbackSet(country=country, until=until)


@external
def setLockup(investorId: bytes32, until: uint64):
    """
    @notice Forbid `investorId` from sending to other investors before `until` (AGENT).
    @param investorId The investor.
    @param until Unix seconds; 0 removes the lockup (and the entry from the enumerable list).
    """
    access._check_role(access.AGENT)
    assert investorId != empty(bytes32), "COMPLIANCE_ZERO_INVESTOR_ID"
    pos: uint256 = self._lockup_pos[investorId]
    if until == 0:
        if pos != 0:
            last: uint256 = self.lockupCount
            moved: bytes32 = self._lockup_at[last]
            self._lockup_at[pos] = moved
            self._lockup_pos[moved] = pos
            self._lockup_at[last] = empty(bytes32)
            self._lockup_pos[investorId] = 0
            self.lockupCount = last - 1
    elif pos == 0:
        count: uint256 = self.lockupCount + 1
        self.lockupCount = count
        self._lockup_at[count] = investorId
        self._lockup_pos[investorId] = count
    self._lockup[investorId] = until
    log LockupSet(investorId=investorId, until=until)


@external
def setWhitelisted(investorIds: DynArray[bytes32, MAX_BATCH], whitelisted: bool):
    """
    @notice Add investors to, or remove them from, the holder whitelist used in mode WHITELISTED (AGENT).
    @param investorIds The investors.
    @param whitelisted True to add, False to remove.
    """
    access._check_role(access.AGENT)
    for investorId: bytes32 in investorIds:
        assert investorId != empty(bytes32), "COMPLIANCE_ZERO_INVESTOR_ID"
        pos: uint256 = self._whitelisted_pos[investorId]
        if whitelisted and pos == 0:
            count: uint256 = self.whitelistCount + 1
            self.whitelistCount = count
            self._whitelist_at[count] = investorId
            self._whitelisted_pos[investorId] = count
        elif not whitelisted and pos != 0:
            last: uint256 = self.whitelistCount
            moved: bytes32 = self._whitelist_at[last]
            self._whitelist_at[pos] = moved
            self._whitelisted_pos[moved] = pos
            self._whitelist_at[last] = empty(bytes32)
            self._whitelisted_pos[investorId] = 0
            self.whitelistCount = last - 1
        log WhitelistSet(investorId=investorId, whitelisted=whitelisted)


# ------------------------------------------------------------------ read-back views


@internal
@view
def _country_list(words: uint256[4]) -> DynArray[uint16, 1024]:
    """
    @notice Expand a 1024-bit country set into a sorted list.
    @param words The set.
    @return The country codes whose bit is set, ascending.
    """
    out: DynArray[uint16, 1024] = []
    for w: uint256 in range(4):
        word: uint256 = words[w]
        if word == 0:
            continue
        for b: uint256 in range(256):
            if (word >> b) & 1 == 1:
                out.append(convert(w * 256 + b, uint16))
    return out


@external
@view
def isCountryAllowed(country: uint16) -> bool:
    """
    @notice Tell whether `country` is on the allowlist.
    @param country ISO 3166-1 numeric code.
    @return True if listed.
    """
    return country <= MAX_COUNTRY and self._country_bit(self._country_allowed, convert(country, uint256))


@external
@view
def isCountryDenied(country: uint16) -> bool:
    """
    @notice Tell whether `country` is on the denylist.
    @param country ISO 3166-1 numeric code.
    @return True if listed.
    """
    return country <= MAX_COUNTRY and self._country_bit(self._country_denied, convert(country, uint256))


@external
@view
def allowedCountries() -> DynArray[uint16, 1024]:
    """
    @notice Read the whole country allowlist.
    @return The allowed country codes, ascending.
    """
    return self._country_list(self._country_allowed)


@external
@view
def deniedCountries() -> DynArray[uint16, 1024]:
    """
    @notice Read the whole country denylist.
    @return The denied country codes, ascending.
    """
    return self._country_list(self._country_denied)


@external
@view
def lockupUntil(investorId: bytes32) -> uint64:
    """
    @notice Read an investor's lockup.
    @param investorId The investor.
    @return The time before which it may not send (0 = none).
    """
    return self._lockup[investorId]


@external
@view
def lockupAt(index: uint256) -> (bytes32, uint64):
    """
    @notice Enumerate the investors with a lockup (order changes on removal).
    @param index 0 .. lockupCount - 1.
    @return The investor and its lockup end.
    """
    assert index < self.lockupCount, "COMPLIANCE_INDEX_OUT_OF_RANGE"
    investorId: bytes32 = self._lockup_at[index + 1]
    return investorId, self._lockup[investorId]


@external
@view
def isWhitelisted(investorId: bytes32) -> bool:
    """
    @notice Tell whether an investor is on the holder whitelist.
    @param investorId The investor.
    @return True if whitelisted.
    """
    return self._whitelisted_pos[investorId] != 0


@external
@view
def whitelistAt(index: uint256) -> bytes32:
    """
    @notice Enumerate the whitelist (order changes on removal).
    @param index 0 .. whitelistCount - 1.
    @return The investor.
    """
    assert index < self.whitelistCount, "COMPLIANCE_INDEX_OUT_OF_RANGE"
    return self._whitelist_at[index + 1]


@external
@view
def config() -> (uint8, bool, uint256, uint256, uint256, uint16, uint64):
    """
    @notice Read the scalar configuration in one call.
    @return transferMode, countryAllowlistEnabled, allowedCategories, maxHolders, maxBalance,
            flowbackCountry, flowbackUntil.
    """
    return (
        self.transferMode,
        self.countryAllowlistEnabled,
        self.allowedCategories,
        self.maxHolders,
        self.maxBalance,
        self.flowbackCountry,
        self.flowbackUntil,
    )
