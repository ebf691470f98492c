# pragma version ~=0.4.3
"""
@title Role-based access control (bitmask roles)
@custom:contract-name access
@license Apache-2.0
@author equitoken contributors
@notice Separate roles for separate duties: ADMIN grants and revokes roles; ISSUER mints and burns;
        AGENT enforces (freezes, forced transfers, recovery, registry and compliance configuration);
        PAUSER pauses; CORPORATE_ACTIONS schedules multipliers. A role is one bit; an account may hold
        several. No role implies another: an admin who wants to mint must grant itself ISSUER.
@dev A module: a contract does `initializes: access` and `exports: access.__interface__`. All roles of
     an account live in one storage word, so a role check is one SLOAD. The last admin cannot be removed
     (revoke or renounce), so a contract can never be left without anyone able to grant roles.
"""

ADMIN: constant(uint256) = 1
ISSUER: constant(uint256) = 2
AGENT: constant(uint256) = 4
PAUSER: constant(uint256) = 8
CORPORATE_ACTIONS: constant(uint256) = 16
ALL_ROLES: constant(uint256) = 31


# @notice `account` was given `role` by `sender`.
# @param role The role bit (1 ADMIN, 2 ISSUER, 4 AGENT, 8 PAUSER, 16 CORPORATE_ACTIONS).
# @param account The account that now holds the role.
# @param sender The admin who granted it.
event RoleGranted:
    role: indexed(uint256)
    account: indexed(address)
    sender: indexed(address)


# @notice `account` lost `role`, revoked (or renounced) by `sender`.
# @param role The role bit.
# @param account The account that no longer holds the role.
# @param sender The admin who revoked it, or the account itself when renouncing.
event RoleRevoked:
    role: indexed(uint256)
    account: indexed(address)
    sender: indexed(address)


roles: public(HashMap[address, uint256])
adminCount: public(uint256)


@deploy
def __init__(admin: address):
    """
    @notice Make `admin` the first admin.
    @param admin The first admin; must not be the zero address.
    """
    assert admin != empty(address), "ACCESS_ZERO_ADMIN"
    self.roles[admin] = ADMIN
    self.adminCount = 1
    log RoleGranted(role=ADMIN, account=admin, sender=msg.sender)


@internal
@view
def _check_role(role: uint256):
    """
    @notice Revert with "ACCESS_MISSING_ROLE" unless msg.sender holds `role`.
    @param role The role bit required.
    """
    assert self.roles[msg.sender] & role != 0, "ACCESS_MISSING_ROLE"


@internal
@pure
def _check_role_bit(role: uint256):
    """
    @notice Revert unless `role` is exactly one known role bit.
    @param role The value to validate.
    """
    assert role != 0 and role & ALL_ROLES == role and role & (role - 1) == 0, "ACCESS_UNKNOWN_ROLE"


@internal
def _revoke(role: uint256, account: address):
    """
    @notice Remove `role` from `account`, keeping at least one admin.
    @param role The role bit.
    @param account The account losing the role.
    """
    current: uint256 = self.roles[account]
    if current & role == 0:
        return
    if role == ADMIN:
        assert self.adminCount > 1, "ACCESS_LAST_ADMIN"
        self.adminCount -= 1
    self.roles[account] = current & (ALL_ROLES ^ role)
    log RoleRevoked(role=role, account=account, sender=msg.sender)


@external
def grantRole(role: uint256, account: address):
    """
    @notice Give `account` the role `role` (admin only). Granting a role already held does nothing.
    @param role One role bit: 1 ADMIN, 2 ISSUER, 4 AGENT, 8 PAUSER, 16 CORPORATE_ACTIONS.
    @param account The account to receive the role; not the zero address.
    """
    self._check_role(ADMIN)
    self._check_role_bit(role)
    assert account != empty(address), "ACCESS_ZERO_ACCOUNT"
    current: uint256 = self.roles[account]
    if current & role != 0:
        return
    if role == ADMIN:
        self.adminCount += 1
    self.roles[account] = current | role
    log RoleGranted(role=role, account=account, sender=msg.sender)


@external
def revokeRole(role: uint256, account: address):
    """
    @notice Take the role `role` from `account` (admin only); the last admin cannot be revoked.
    @param role One role bit.
    @param account The account losing the role.
    """
    self._check_role(ADMIN)
    self._check_role_bit(role)
    self._revoke(role, account)


@external
def renounceRole(role: uint256):
    """
    @notice Give up one of your own roles; the last admin cannot renounce.
    @param role One role bit.
    """
    self._check_role_bit(role)
    self._revoke(role, msg.sender)


@external
@view
def hasRole(role: uint256, account: address) -> bool:
    """
    @notice Tell whether `account` holds every bit of `role`.
    @param role A role bit (or several OR-ed together).
    @param account The account to test.
    @return True if `account` holds `role`.
    """
    return role != 0 and self.roles[account] & role == role
