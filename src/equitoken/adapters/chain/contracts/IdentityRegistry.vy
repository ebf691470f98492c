# pragma version ~=0.4.3
"""
@title IdentityRegistry
@custom:contract-name IdentityRegistry
@license Apache-2.0
@author equitoken contributors
@notice Who is behind a wallet: wallet -> investor id (several wallets per investor), and per investor a
        country (ISO 3166-1 numeric), a category, a KYC expiry and a sanctions flag; plus a wallet-level
        sanctions blocklist that also covers wallets bound to nobody. One registry can serve many tokens.
@dev Roles (module `access`): ADMIN grants roles; AGENT (the registrar) writes investors, bindings and
     sanctions. An investor record is packed into ONE storage word so that a compliance check reads at
     most three words per wallet (investor id, wallet sanction flag, investor record). `profile` returns
     the packed word with this layout (bit 0 = least significant):
       bits   0..63  KYC expiry (unix seconds; KYC is valid while block.timestamp < expiry)
       bits  64..79  country (ISO 3166-1 numeric, 0..999)
       bits  80..87  category (0..255; the meaning is the platform's: e.g. 0 retail, 1 professional...)
       bit   88      investor sanctioned
       bit   89      wallet sanctioned (merged in by `profile`, never stored in the investor word)
       bit   90      investor exists
     A wallet is verified when it is bound to an existing investor, the KYC has not expired and neither the
     wallet nor the investor is sanctioned.
"""

import access

initializes: access

exports: access.__interface__

EXPIRY_MASK: constant(uint256) = 2**64 - 1
COUNTRY_SHIFT: constant(uint256) = 64
CATEGORY_SHIFT: constant(uint256) = 80
INVESTOR_SANCTIONED_BIT: constant(uint256) = 2**88
WALLET_SANCTIONED_BIT: constant(uint256) = 2**89
EXISTS_BIT: constant(uint256) = 2**90
MAX_COUNTRY: constant(uint16) = 999
MAX_BATCH: constant(uint256) = 256


# @notice An investor record was created or updated.
# @param investorId The investor.
# @param country ISO 3166-1 numeric country code.
# @param category The investor category.
# @param kycExpiry KYC expiry (unix seconds).
event InvestorSet:
    investorId: indexed(bytes32)
    country: uint16
    category: uint8
    kycExpiry: uint64


# @notice An investor record (with no wallets left) was deleted.
# @param investorId The investor.
event InvestorRemoved:
    investorId: indexed(bytes32)


# @notice The investor-level sanctions flag changed.
# @param investorId The investor.
# @param sanctioned The new flag.
event InvestorSanctioned:
    investorId: indexed(bytes32)
    sanctioned: bool


# @notice `wallet` now belongs to `investorId`.
# @param wallet The wallet.
# @param investorId The investor.
event WalletBound:
    wallet: indexed(address)
    investorId: indexed(bytes32)


# @notice `wallet` no longer belongs to `investorId`.
# @param wallet The wallet.
# @param investorId The investor it belonged to.
event WalletUnbound:
    wallet: indexed(address)
    investorId: indexed(bytes32)


# @notice The wallet-level sanctions flag changed.
# @param wallet The wallet.
# @param sanctioned The new flag.
event WalletSanctioned:
    wallet: indexed(address)
    sanctioned: bool


investorOf: public(HashMap[address, bytes32])
walletSanctioned: public(HashMap[address, bool])
walletCount: public(HashMap[bytes32, uint256])
investorCount: public(uint256)
_investor: HashMap[bytes32, uint256]


@deploy
def __init__(admin: address):
    """
    @notice Create an empty registry.
    @param admin The first admin (grants AGENT to the registrar).
    """
    access.__init__(admin)


@internal
def _bind(wallet: address, investorId: bytes32):
    """
    @notice Bind an unbound `wallet` to an existing investor.
    @param wallet The wallet.
    @param investorId The investor.
    """
    assert wallet != empty(address), "REGISTRY_ZERO_WALLET"
    assert self._investor[investorId] & EXISTS_BIT != 0, "REGISTRY_UNKNOWN_INVESTOR"
    current: bytes32 = self.investorOf[wallet]
    if current == investorId:
        return
    assert current == empty(bytes32), "REGISTRY_WALLET_BOUND_TO_ANOTHER_INVESTOR"
    self.investorOf[wallet] = investorId
    self.walletCount[investorId] += 1
    log WalletBound(wallet=wallet, investorId=investorId)


@external
def setInvestor(investorId: bytes32, country: uint16, category: uint8, kycExpiry: uint64):
    """
    @notice Create or update an investor record (AGENT). The sanctions flag is kept as it was.
    @param investorId The investor id; not zero.
    @param country ISO 3166-1 numeric code, 1..999.
    @param category The investor category (0..255).
    @param kycExpiry When the KYC expires (unix seconds).
    """
    access._check_role(access.AGENT)
    assert investorId != empty(bytes32), "REGISTRY_ZERO_INVESTOR_ID"
    assert country != 0 and country <= MAX_COUNTRY, "REGISTRY_BAD_COUNTRY"
    current: uint256 = self._investor[investorId]
    if current & EXISTS_BIT == 0:
        self.investorCount += 1
    self._investor[investorId] = (
        convert(kycExpiry, uint256)
        | (convert(country, uint256) << COUNTRY_SHIFT)
        | (convert(category, uint256) << CATEGORY_SHIFT)
        | (current & INVESTOR_SANCTIONED_BIT)
        | EXISTS_BIT
    )
    log InvestorSet(investorId=investorId, country=country, category=category, kycExpiry=kycExpiry)


@external
def removeInvestor(investorId: bytes32):
    """
    @notice Delete an investor record that no wallet is bound to any more (AGENT).
    @param investorId The investor.
    """
    access._check_role(access.AGENT)
    assert self._investor[investorId] & EXISTS_BIT != 0, "REGISTRY_UNKNOWN_INVESTOR"
    assert self.walletCount[investorId] == 0, "REGISTRY_INVESTOR_STILL_HAS_WALLETS"
    self._investor[investorId] = 0
    self.investorCount -= 1
    log InvestorRemoved(investorId=investorId)


@external
def setInvestorSanctioned(investorId: bytes32, sanctioned: bool):
    """
    @notice Put an investor on, or take it off, the sanctions list (AGENT); covers all its wallets.
    @param investorId The investor (must exist).
    @param sanctioned The new flag.
    """
    access._check_role(access.AGENT)
    current: uint256 = self._investor[investorId]
    assert current & EXISTS_BIT != 0, "REGISTRY_UNKNOWN_INVESTOR"
    if sanctioned:
        self._investor[investorId] = current | INVESTOR_SANCTIONED_BIT
    else:
        self._investor[investorId] = current & (max_value(uint256) ^ INVESTOR_SANCTIONED_BIT)
    log InvestorSanctioned(investorId=investorId, sanctioned=sanctioned)


@external
def bindWallet(wallet: address, investorId: bytes32):
    """
    @notice Bind `wallet` to the existing investor `investorId` (AGENT). A wallet bound to another
            investor must be unbound first; binding it again to the same investor does nothing.
    @dev Compliance books a wallet's holding under the key the wallet had when the holding was last
         touched; after binding (or rebinding) a wallet that holds tokens, have each token's compliance
         `rebook` it (the WalletBound event says which), or its holding counts for the new investor only
         from its next balance change on.
    @param wallet The wallet; not the zero address.
    @param investorId The investor.
    """
    access._check_role(access.AGENT)
    self._bind(wallet, investorId)


@external
def batchBindWallets(wallets: DynArray[address, MAX_BATCH], investorIds: DynArray[bytes32, MAX_BATCH]):
    """
    @notice Bind many wallets in one transaction (AGENT); same rules as `bindWallet`.
    @param wallets The wallets.
    @param investorIds The investor of each wallet (same length).
    """
    access._check_role(access.AGENT)
    assert len(wallets) == len(investorIds), "REGISTRY_LENGTH_MISMATCH"
    for i: uint256 in range(len(wallets), bound=MAX_BATCH):
        self._bind(wallets[i], investorIds[i])


@external
def unbindWallet(wallet: address):
    """
    @notice Detach `wallet` from its investor (AGENT).
    @dev If the wallet holds tokens, have each token's compliance `rebook` it afterwards (it is then
         booked as its own holder), as for `bindWallet`.
    @param wallet A bound wallet.
    """
    access._check_role(access.AGENT)
    investorId: bytes32 = self.investorOf[wallet]
    assert investorId != empty(bytes32), "REGISTRY_WALLET_NOT_BOUND"
    self.investorOf[wallet] = empty(bytes32)
    self.walletCount[investorId] -= 1
    log WalletUnbound(wallet=wallet, investorId=investorId)


@external
def setWalletSanctioned(wallet: address, sanctioned: bool):
    """
    @notice Put a wallet on, or take it off, the wallet-level sanctions blocklist (AGENT).
    @param wallet Any wallet, bound or not.
    @param sanctioned The new flag.
    """
    access._check_role(access.AGENT)
    assert wallet != empty(address), "REGISTRY_ZERO_WALLET"
    self.walletSanctioned[wallet] = sanctioned
    log WalletSanctioned(wallet=wallet, sanctioned=sanctioned)


@internal
@view
def _profile(wallet: address) -> (bytes32, uint256):
    """
    @notice Read a wallet's investor id and packed record (with the wallet sanction bit merged in).
    @param wallet Any address (the zero address yields zeros).
    @return The investor id (zero if unbound) and the packed record.
    """
    if wallet == empty(address):
        return empty(bytes32), 0
    investorId: bytes32 = self.investorOf[wallet]
    packed: uint256 = 0
    if investorId != empty(bytes32):
        packed = self._investor[investorId]
    if self.walletSanctioned[wallet]:
        packed |= WALLET_SANCTIONED_BIT
    return investorId, packed


@external
@view
def profile(wallet: address) -> (bytes32, uint256):
    """
    @notice Read a wallet's investor id and packed record (layout in the contract @dev).
    @param wallet Any address.
    @return The investor id (zero if unbound) and the packed record.
    """
    return self._profile(wallet)


@external
@view
def profiles(a: address, b: address) -> (bytes32, uint256, bytes32, uint256):
    """
    @notice Read two wallets' profiles in one call (what a compliance check needs).
    @param a The first wallet (a sender; the zero address for a mint).
    @param b The second wallet (a recipient; the zero address for a burn).
    @return a's investor id, a's packed record, b's investor id, b's packed record.
    """
    ida: bytes32 = empty(bytes32)
    pa: uint256 = 0
    idb: bytes32 = empty(bytes32)
    pb: uint256 = 0
    ida, pa = self._profile(a)
    idb, pb = self._profile(b)
    return ida, pa, idb, pb


@external
@view
def investor(investorId: bytes32) -> (bool, uint16, uint8, uint64, bool):
    """
    @notice Read an investor record.
    @param investorId The investor.
    @return exists, country, category, kycExpiry, sanctioned.
    """
    p: uint256 = self._investor[investorId]
    return (
        p & EXISTS_BIT != 0,
        convert((p >> COUNTRY_SHIFT) & 65535, uint16),
        convert((p >> CATEGORY_SHIFT) & 255, uint8),
        convert(p & EXPIRY_MASK, uint64),
        p & INVESTOR_SANCTIONED_BIT != 0,
    )


@external
@view
def isSanctioned(wallet: address) -> bool:
    """
    @notice Tell whether the wallet or its investor is sanctioned.
    @param wallet Any wallet.
    @return True if the wallet or its investor is on the sanctions list.
    """
    investorId: bytes32 = empty(bytes32)
    packed: uint256 = 0
    investorId, packed = self._profile(wallet)
    return packed & (INVESTOR_SANCTIONED_BIT | WALLET_SANCTIONED_BIT) != 0


@external
@view
def isVerified(wallet: address) -> bool:
    """
    @notice Tell whether `wallet` is bound to an existing investor whose KYC is valid now and neither the
            wallet nor the investor is sanctioned.
    @param wallet Any wallet.
    @return True if verified.
    """
    investorId: bytes32 = empty(bytes32)
    packed: uint256 = 0
    investorId, packed = self._profile(wallet)
    if investorId == empty(bytes32) or packed & EXISTS_BIT == 0:
        return False
    if packed & (INVESTOR_SANCTIONED_BIT | WALLET_SANCTIONED_BIT) != 0:
        return False
    return block.timestamp < packed & EXPIRY_MASK
