"""Who may call the platform: API keys (kept as digests only), their roles, and what each role may do.

A key is issued once, to one role — ``operator`` (runs the platform), ``compliance`` (investors, KYC,
enforcement), ``investor`` (bound to one investor id: sees and acts on its own data only) or
``auditor`` (reads everything, writes nothing) — and is shown once: the journal (stream ``access``)
keeps its id, role, binding and the SHA-256 of its secret, never the secret. A key's secret is 32
random bytes, so a fast digest is as strong as a slow one here; it is compared in constant time.

``Permission`` names what a request does; ``allowed`` is the one table of which role may do it. An
investor key passes only for its own investor (``Actor.may_act_for``).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from equitoken.domain.errors import DomainError
from equitoken.domain.ids import InvestorId
from equitoken.issuance import journal
from equitoken.ports.store import Store

STREAM = "access"
PREFIX = "eqk"


class Role(StrEnum):
    """What a key's holder is to the platform."""

    OPERATOR = "operator"
    COMPLIANCE = "compliance"
    INVESTOR = "investor"
    AUDITOR = "auditor"


def role(text: str) -> Role:
    """Return the role ``text`` names (``INVALID_ROLE`` otherwise)."""
    try:
        return Role(text)
    except ValueError:
        names = ", ".join(r.value for r in Role)
        raise DomainError("INVALID_ROLE", f"{text!r} is not a role: one of {names}") from None


class Permission(StrEnum):
    """What a request does, for the access table."""

    READ = "read"
    """Read platform-wide data (listings, halts, attestations, every investor)."""
    READ_OWN = "read-own"
    """Read one investor's data (its holdings, orders, cash)."""
    TRADE = "trade"
    """Quote, order, cancel, redeem for one investor."""
    ONBOARD = "onboard"
    """Onboard investors, change KYC, bind wallets, whitelist."""
    ENFORCE = "enforce"
    """Freeze, unfreeze, forced transfer, recovery, pause."""
    CASH = "cash"
    """Record deposits (money that arrived at the bank) and pay out."""
    OPERATE = "operate"
    """List stocks, corporate actions, halts, reconciliation, attestations, prices, keys."""
    VOTE = "vote"
    """Cast a ballot for one investor."""


_TABLE: dict[Role, frozenset[Permission]] = {
    Role.OPERATOR: frozenset(Permission),
    Role.COMPLIANCE: frozenset(
        {Permission.READ, Permission.READ_OWN, Permission.ONBOARD, Permission.ENFORCE}
    ),
    Role.INVESTOR: frozenset({Permission.READ_OWN, Permission.TRADE, Permission.VOTE}),
    Role.AUDITOR: frozenset({Permission.READ, Permission.READ_OWN}),
}
"""Which role may do what. An operator may do everything; an investor only for itself."""


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is asking: the key's id, its role and, for an investor key, the investor it is bound to."""

    key_id: str
    role: Role
    investor: InvestorId | None = None
    name: str = ""

    def require(self, permission: Permission, investor: InvestorId | None = None) -> None:
        """Refuse (``ACCESS_DENIED``) unless this actor may do ``permission`` (for ``investor``)."""
        if permission not in _TABLE[self.role]:
            raise DomainError("ACCESS_DENIED", f"a {self.role} key may not {permission.value}")
        if investor is not None and not self.may_act_for(investor):
            raise DomainError("ACCESS_DENIED", f"this key is bound to {self.investor}, not {investor}")

    def may_act_for(self, investor: InvestorId) -> bool:
        """Tell whether this actor may read or act on ``investor``'s data."""
        return self.role is not Role.INVESTOR or self.investor == investor


LOCAL = Actor("local", Role.OPERATOR, name="the local command line")
"""The operator at the machine (the CLI on the local store): journaled as such."""


@dataclass(frozen=True, slots=True)
class KeyIssued:
    """A key was issued: its id, role, binding and the digest of its secret."""

    at: datetime
    key_id: str
    role: Role
    investor: InvestorId | None
    name: str
    digest: str


@dataclass(frozen=True, slots=True)
class KeyRevoked:
    """A key was revoked; it authenticates nothing from now on."""

    at: datetime
    key_id: str
    reason: str


EVENTS = (KeyIssued, KeyRevoked)


@dataclass(frozen=True, slots=True)
class IssuedKey:
    """A key just issued: the secret is here once, and never again."""

    actor: Actor
    secret: str


def digest(secret: str) -> str:
    """Return the stored digest of a key's secret."""
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass
class KeyBook:
    """The issued keys, folded from stream ``access``; authenticate a secret, issue and revoke keys."""

    store: Store
    _keys: dict[str, KeyIssued] = field(default_factory=dict)
    _revoked: set[str] = field(default_factory=set)
    _seen: int = 0

    def refresh(self) -> None:
        """Fold what the journal gained since the last read (another process may issue keys)."""
        for stored in self.store.events(STREAM, after_seq=self._seen):
            event = journal.decode(stored, EVENTS)
            self._seen = stored.seq
            if isinstance(event, KeyIssued):
                self._keys[event.key_id] = event
            else:
                self._revoked.add(event.key_id)

    def issue(
        self, at: datetime, role: Role, *, investor: InvestorId | None = None, name: str = ""
    ) -> IssuedKey:
        """Issue a key for ``role`` (an investor key must name its investor, no other may)."""
        if (role is Role.INVESTOR) != (investor is not None):
            raise DomainError(
                "INVALID_ROLE",
                "an investor key is bound to exactly one investor, and only an investor key is",
            )
        key_id = secrets.token_hex(6)
        secret = f"{PREFIX}_{key_id}_{secrets.token_urlsafe(32)}"
        event = KeyIssued(at, key_id, role, investor, name, digest(secret))
        journal.append(self.store, STREAM, f"key:{key_id}", at, event)
        self.refresh()
        return IssuedKey(Actor(key_id, role, investor, name), secret)

    def revoke(self, at: datetime, key_id: str, reason: str) -> None:
        """Revoke key ``key_id`` (``NOT_FOUND`` if it was never issued)."""
        self.refresh()
        if key_id not in self._keys:
            raise DomainError("NO_SUCH_RESOURCE", f"no API key {key_id!r} was issued")
        journal.append(self.store, STREAM, f"revoke:{key_id}", at, KeyRevoked(at, key_id, reason))
        self.refresh()

    def authenticate(self, secret: str) -> Actor:
        """Return the actor ``secret`` belongs to (``API_KEY_INVALID`` if none, or revoked)."""
        parts = secret.split("_", 2)
        if len(parts) != 3 or parts[0] != PREFIX:
            raise DomainError("API_KEY_INVALID", "the API key is not in this platform's format")
        key_id = parts[1]
        self.refresh()  # another process may have issued or revoked keys since
        issued = self._keys.get(key_id)
        if issued is None or not hmac.compare_digest(issued.digest, digest(secret)):
            raise DomainError("API_KEY_INVALID", "the API key is not one this platform issued")
        if key_id in self._revoked:
            raise DomainError("API_KEY_INVALID", f"the API key {key_id} was revoked")
        return Actor(key_id, issued.role, issued.investor, issued.name)

    def actors(self) -> Iterator[tuple[Actor, bool]]:
        """Yield every key ever issued (as its actor) and whether it is still valid."""
        self.refresh()
        for key in self._keys.values():
            yield Actor(key.key_id, key.role, key.investor, key.name), key.key_id not in self._revoked
