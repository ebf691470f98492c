"""Domain values and rules: pure, no I/O, no framework imports."""

from equitoken.domain.errors import DomainError
from equitoken.domain.ids import InvestorId, Isin, OrderId, Symbol, WalletAddress, deterministic_id
from equitoken.domain.values import Bps, Money, Price, Shares, TokenAmount

__all__ = [
    "Bps",
    "DomainError",
    "InvestorId",
    "Isin",
    "Money",
    "OrderId",
    "Price",
    "Shares",
    "Symbol",
    "TokenAmount",
    "WalletAddress",
    "deterministic_id",
]
