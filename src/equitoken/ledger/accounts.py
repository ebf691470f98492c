"""Accounts and assets of the book of record.

An account is a typed path such as ``custody:AAPL`` or ``investor_cash:inv-7``; an asset is what an
amount counts (``USD``, ``SHARE:AAPL``, ``TOKEN:AAPL@evm-1162957899``). Each account kind states which
asset family it may hold, so a posting of US dollars to a share account is refused at the door.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from equitoken.domain.errors import DomainError
from equitoken.domain.ids import InvestorId, Symbol

_PART = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-@]{0,63}$")


class AssetFamily(StrEnum):
    """What kind of thing an amount counts."""

    CASH = "cash"
    SHARE = "share"
    TOKEN = "token"


class AccountKind(StrEnum):
    """Every account the platform books to, with the asset family it holds.

    Accounts named ``external_*`` stand for the world outside the books (the broker's market, the
    chain's mint/burn source, investors' own bank accounts): they are where value enters and leaves,
    so the whole journal still sums to zero per asset.
    """

    CUSTODY = "custody"  # shares settled in custody, per symbol
    IN_FLIGHT = "in_flight"  # shares bought/sold at the broker, not yet settled (T+1), per symbol
    TOKEN_SUPPLY = "token_supply"  # tokens outstanding, per symbol and chain
    INVENTORY = "inventory"  # tokens the issuer holds in its inventory wallet, per symbol
    INVESTOR_CASH = "investor_cash"  # cash an investor holds with the platform
    INVESTOR_TOKENS = "investor_tokens"  # tokens held by an investor, per symbol
    BUFFER_POOL = "buffer_pool"  # stablecoin buffer that fronts off-hours fills and the T+1 gap
    FEES = "fees"  # fee revenue, per model
    ISSUER_CASH = "issuer_cash"  # the issuer's operating cash
    CASH_IN_FLIGHT = "cash_in_flight"  # cash owed to/by the broker until settlement
    EXTERNAL_MARKET = "external_market"  # the broker's market: shares come from and go to it
    EXTERNAL_CHAIN = "external_chain"  # where minted tokens come from and burned tokens go
    EXTERNAL_BANK = "external_bank"  # cash deposited or withdrawn by investors and the issuer

    @property
    def family(self) -> AssetFamily | None:
        """Return the asset family this kind holds (``None``: any, for external accounts)."""
        return _FAMILY.get(self)


_FAMILY: dict[AccountKind, AssetFamily] = {
    AccountKind.CUSTODY: AssetFamily.SHARE,
    AccountKind.IN_FLIGHT: AssetFamily.SHARE,
    AccountKind.TOKEN_SUPPLY: AssetFamily.TOKEN,
    AccountKind.INVENTORY: AssetFamily.TOKEN,
    AccountKind.INVESTOR_TOKENS: AssetFamily.TOKEN,
    AccountKind.INVESTOR_CASH: AssetFamily.CASH,
    AccountKind.BUFFER_POOL: AssetFamily.CASH,
    AccountKind.FEES: AssetFamily.CASH,
    AccountKind.ISSUER_CASH: AssetFamily.CASH,
    AccountKind.CASH_IN_FLIGHT: AssetFamily.CASH,
}


def _part(value: str, what: str) -> str:
    if not _PART.match(value):
        raise DomainError("INVALID_ACCOUNT", f"{what} {value!r} is not a valid account path segment")
    return value


@dataclass(frozen=True, slots=True, order=True)
class Asset:
    """What an amount counts: a currency (``USD``), a share (``SHARE:AAPL``) or a token."""

    code: str

    def __init__(self, code: str) -> None:
        family, _, rest = code.partition(":")
        if not rest:
            if not re.match(r"^[A-Z]{3}$", code):
                raise DomainError("INVALID_ASSET", f"{code!r} is neither a currency nor FAMILY:NAME")
        elif family not in ("SHARE", "TOKEN"):
            raise DomainError("INVALID_ASSET", f"asset family {family!r} is not SHARE or TOKEN")
        else:
            _part(rest, "asset name")
        object.__setattr__(self, "code", code)

    @classmethod
    def cash(cls, currency: str = "USD") -> Asset:
        """Return the asset of a currency."""
        return cls(currency)

    @classmethod
    def share(cls, symbol: Symbol) -> Asset:
        """Return the asset of one share of ``symbol`` held in custody."""
        return cls(f"SHARE:{symbol}")

    @classmethod
    def token(cls, symbol: Symbol, chain: str) -> Asset:
        """Return the asset of ``symbol``'s token on ``chain``."""
        return cls(f"TOKEN:{symbol}@{chain}")

    @property
    def family(self) -> AssetFamily:
        """Return whether this counts cash, shares or tokens."""
        if ":" not in self.code:
            return AssetFamily.CASH
        return AssetFamily.SHARE if self.code.startswith("SHARE:") else AssetFamily.TOKEN

    def __str__(self) -> str:
        return self.code


@dataclass(frozen=True, slots=True, order=True)
class Account:
    """A place amounts are booked: a kind plus qualifiers, written ``kind:q1:q2``."""

    path: str

    def __init__(self, path: str) -> None:
        kind, *parts = path.split(":")
        try:
            AccountKind(kind)
        except ValueError:
            raise DomainError("INVALID_ACCOUNT", f"{kind!r} is not an account kind") from None
        for part in parts:
            _part(part, "account qualifier")
        object.__setattr__(self, "path", path)

    @classmethod
    def of(cls, kind: AccountKind, *qualifiers: str | Symbol | InvestorId) -> Account:
        """Return the account of ``kind`` qualified by symbol, investor, chain or model."""
        return cls(":".join([kind.value, *(str(q) for q in qualifiers)]))

    @property
    def kind(self) -> AccountKind:
        """Return the account's kind."""
        return AccountKind(self.path.split(":", 1)[0])

    def accepts(self, asset: Asset) -> bool:
        """Tell whether this account may hold ``asset``."""
        family = self.kind.family
        return family is None or family is asset.family

    def __str__(self) -> str:
        return self.path
