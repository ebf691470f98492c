"""Quantities and prices as exact decimal value types, validated at construction.

Money is never a float: every value here holds a ``Decimal``, refuses floats, NaN and infinities, and
refuses more fractional digits than its kind allows instead of rounding silently. Rounding happens
only where a rule asks for it, through an explicit ``quantize`` step with ``ROUND_HALF_EVEN``.
"""

from __future__ import annotations

import re
from contextlib import AbstractContextManager
from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Context, Decimal, Inexact, InvalidOperation, localcontext
from functools import total_ordering
from typing import Self

from equitoken.domain.errors import DomainError

Number = Decimal | int | str
"""What a value type accepts: exact inputs only (a float is refused, it is already inexact)."""

MONEY_DECIMALS = 6
"""Fractional digits of a money amount: micro-units, the precision of USD stablecoins."""
PRICE_DECIMALS = 8
SHARE_DECIMALS = 9
"""Fractional shares down to a billionth, the finest increment US brokers book."""
BPS_DECIMALS = 4
_CURRENCY = re.compile(r"^[A-Z]{3}$")

EXACT = Context(prec=120, traps=[InvalidOperation, Inexact])
"""Arithmetic that must never round (book sums, canonical forms): Python's default 28 digits would
silently round a token amount in base units; here anything inexact raises instead."""


ROUNDING = Context(prec=120, traps=[InvalidOperation])
"""Where a rule asks for rounding: wide enough that only the explicit ``quantize`` step rounds."""


def exact() -> AbstractContextManager[Context]:
    """Return a context manager in which decimal arithmetic is exact or raises."""
    return localcontext(EXACT)


def to_decimal(value: Number, what: str) -> Decimal:
    """Convert an exact input to a finite ``Decimal`` or raise a ``DomainError`` naming ``what``."""
    if isinstance(value, bool) or not isinstance(value, Decimal | int | str):
        raise DomainError(
            "NOT_A_DECIMAL",
            f"{what} must be a decimal string, an integer or a Decimal, not {type(value).__name__}",
        )
    try:
        number = Decimal(value.strip()) if isinstance(value, str) else Decimal(value)
    except InvalidOperation:
        raise DomainError("NOT_A_NUMBER", f"{what} {_brief(value)} is not a number") from None
    if not number.is_finite():
        raise DomainError("NOT_A_NUMBER", f"{what} must be a finite number, got {_brief(value)}")
    if number and not -MAGNITUDE_DIGITS <= number.adjusted() <= MAGNITUDE_DIGITS:
        # Far past any amount (uint256 is ~1.2e77): refusing here keeps 1e999999999 from reaching
        # exact arithmetic, where it raises Inexact or OverflowError instead of a reason.
        raise DomainError("NUMBER_OUT_OF_RANGE", f"{what} {_brief(value)} is out of range")
    return number


MAGNITUDE_DIGITS = 80
"""The largest decimal exponent (either way) any amount may have: beyond what a uint256 can hold."""


def _brief(value: object) -> str:
    """Return ``value``'s repr, cut short when it is long (a 5,000-digit input is not echoed whole)."""
    text = repr(value)
    return text if len(text) <= 60 else f"{text[:40]}… ({len(text)} characters)"


def decimals_of(number: Decimal) -> int:
    """Return how many fractional digits ``number`` really needs (trailing zeros do not count)."""
    exponent = number.as_tuple().exponent
    if isinstance(exponent, int) and exponent >= 0:
        return 0  # an integer as written: normalising cannot add fractional digits
    # The context as an argument, not a ``localcontext`` block: the same result at a fraction of the
    # cost, and this runs for every posting and value built.
    exponent = number.normalize(EXACT).as_tuple().exponent
    assert isinstance(exponent, int)  # finite numbers only reach here
    return max(0, -exponent)


def _check_places(number: Decimal, places: int, what: str) -> Decimal:
    if decimals_of(number) > places:
        raise DomainError("TOO_MANY_DECIMALS", f"{what} {number} has more than {places} decimal places")
    return number


def _check_non_negative(number: Decimal, what: str) -> Decimal:
    if number < 0:
        raise DomainError("NEGATIVE_QUANTITY", f"{what} must not be negative, got {number}")
    return number


def _check_currency(currency: str) -> str:
    if not isinstance(currency, str) or not _CURRENCY.match(currency):
        raise DomainError(
            "INVALID_CURRENCY", f"currency must be a three-letter ISO 4217 code, got {currency!r}"
        )
    return currency


def canonical_decimal(amount: Decimal) -> str:
    """Return one spelling per value (``1``, ``-0.5``): what hashes and the database store."""
    text = format(amount.normalize(EXACT), "f")
    return "0" if text in ("-0", "0") else text


def quantize(number: Decimal, places: int, rounding: str = ROUND_HALF_EVEN) -> Decimal:
    """Round ``number`` to ``places`` fractional digits (banker's rounding unless told otherwise)."""
    return number.quantize(Decimal(1).scaleb(-places), rounding=rounding, context=ROUNDING)


@total_ordering
@dataclass(frozen=True, slots=True)
class Money:
    """An amount of one currency, possibly negative (P&L, liabilities), at most 6 decimal places."""

    amount: Decimal
    currency: str = "USD"

    def __init__(self, amount: Number, currency: str = "USD") -> None:
        number = _check_places(to_decimal(amount, "money amount"), MONEY_DECIMALS, "money amount")
        object.__setattr__(self, "amount", number)
        object.__setattr__(self, "currency", _check_currency(currency))

    @classmethod
    def zero(cls, currency: str = "USD") -> Money:
        """Return zero of ``currency``."""
        return cls(0, currency)

    @classmethod
    def rounded(cls, amount: Decimal, currency: str = "USD", rounding: str = ROUND_HALF_EVEN) -> Money:
        """Build money from an exact result of arithmetic, rounding to the money precision."""
        return cls(quantize(amount, MONEY_DECIMALS, rounding), currency)

    def _same(self, other: Money) -> None:
        if not isinstance(other, Money):
            raise DomainError("NOT_MONEY", f"cannot combine money with {type(other).__name__}")
        if other.currency != self.currency:
            raise DomainError("CURRENCY_MISMATCH", f"cannot combine {self.currency} with {other.currency}")

    def __lt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount < other.amount

    def __add__(self, other: Money) -> Money:
        self._same(other)
        with exact():
            return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        with exact():
            return Money(self.amount - other.amount, self.currency)

    def __neg__(self) -> Money:
        return Money(self.amount.copy_negate(), self.currency)

    def scaled(self, factor: Decimal, rounding: str = ROUND_HALF_EVEN) -> Money:
        """Multiply by an exact factor and round back to the money precision."""
        with exact():
            product = self.amount * factor
        return Money.rounded(product, self.currency, rounding)

    def is_zero(self) -> bool:
        """Tell whether the amount is exactly zero."""
        return self.amount == 0

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"


@dataclass(frozen=True, slots=True, order=True)
class Shares:
    """A non-negative number of shares, whole or fractional down to 1e-9."""

    value: Decimal

    def __init__(self, value: Number) -> None:
        number = _check_non_negative(to_decimal(value, "share quantity"), "share quantity")
        object.__setattr__(self, "value", _check_places(number, SHARE_DECIMALS, "share quantity"))

    @classmethod
    def rounded_down(cls, value: Decimal) -> Shares:
        """Build shares from an exact result, truncating below the share precision (never over-deliver)."""
        return cls(quantize(value, SHARE_DECIMALS, ROUND_DOWN))

    def __add__(self, other: Shares) -> Shares:
        with exact():
            return Shares(self.value + other.value)

    def __sub__(self, other: Shares) -> Shares:
        with exact():
            return Shares(self.value - other.value)

    def is_whole(self) -> bool:
        """Tell whether this is a whole number of shares."""
        return self.value == self.value.to_integral_value()

    def is_zero(self) -> bool:
        """Tell whether this is exactly zero shares."""
        return self.value == 0

    def __str__(self) -> str:
        return f"{self.value} sh"


@total_ordering
@dataclass(frozen=True, slots=True)
class Price:
    """A strictly positive price per share in one currency, at most 8 decimal places."""

    amount: Decimal
    currency: str = "USD"

    def __init__(self, amount: Number, currency: str = "USD") -> None:
        number = _check_places(to_decimal(amount, "price"), PRICE_DECIMALS, "price")
        if number <= 0:
            raise DomainError("NON_POSITIVE_PRICE", f"price must be greater than zero, got {number}")
        object.__setattr__(self, "amount", number)
        object.__setattr__(self, "currency", _check_currency(currency))

    @classmethod
    def rounded(cls, amount: Decimal, currency: str = "USD") -> Price:
        """Build a price from an exact result, rounding to the price precision."""
        return cls(quantize(amount, PRICE_DECIMALS), currency)

    def __lt__(self, other: Price) -> bool:
        if not isinstance(other, Price) or other.currency != self.currency:
            raise DomainError("CURRENCY_MISMATCH", f"cannot compare a {self.currency} price with {other!r}")
        return self.amount < other.amount

    def notional(self, shares: Shares) -> Money:
        """Return the cost of ``shares`` at this price, rounded half-even to the money precision."""
        with exact():
            product = self.amount * shares.value
        return Money.rounded(product, self.currency)

    def adjusted(self, bps: Bps) -> Price:
        """Return this price moved by ``bps`` (positive: up, negative: down)."""
        with exact():
            moved = self.amount * (1 + bps.fraction)
        return Price.rounded(moved, self.currency)

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"


def canonical_money(value: Money | Price) -> str:
    """Return one spelling per amount of a currency (``"38.5 USD"``): what hashes and the journal store."""
    return f"{canonical_decimal(value.amount)} {value.currency}"


@dataclass(frozen=True, slots=True, order=True)
class TokenAmount:
    """A non-negative token quantity with the token's number of decimals (18 unless configured).

    On-chain integers appear only at the chain boundary, through ``to_units``/``from_units``.
    """

    value: Decimal
    decimals: int = 18

    def __init__(self, value: Number, decimals: int = 18) -> None:
        if isinstance(decimals, bool) or not isinstance(decimals, int) or not 0 <= decimals <= 36:
            raise DomainError("INVALID_DECIMALS", f"token decimals must be 0..36, got {decimals!r}")
        number = _check_non_negative(to_decimal(value, "token amount"), "token amount")
        object.__setattr__(self, "value", _check_places(number, decimals, "token amount"))
        object.__setattr__(self, "decimals", decimals)

    @classmethod
    def from_units(cls, units: int, decimals: int = 18) -> TokenAmount:
        """Build an amount from on-chain base units."""
        if isinstance(units, bool) or not isinstance(units, int):
            raise DomainError("NOT_AN_INTEGER", f"token units must be an integer, got {units!r}")
        with exact():
            return cls(Decimal(units).scaleb(-decimals), decimals)

    def to_units(self) -> int:
        """Return the amount in on-chain base units (exact: the constructor refused extra digits)."""
        with exact():
            return int(self.value.scaleb(self.decimals))

    def _same(self, other: TokenAmount) -> None:
        if other.decimals != self.decimals:
            raise DomainError(
                "DECIMALS_MISMATCH",
                f"cannot combine tokens of {self.decimals} and {other.decimals} decimals",
            )

    def __add__(self, other: TokenAmount) -> TokenAmount:
        self._same(other)
        with exact():
            return TokenAmount(self.value + other.value, self.decimals)

    def __sub__(self, other: TokenAmount) -> TokenAmount:
        self._same(other)
        with exact():
            return TokenAmount(self.value - other.value, self.decimals)

    def __str__(self) -> str:
        return f"{self.value} tok"


@dataclass(frozen=True, slots=True, order=True)
class Bps:
    """Basis points (1 bp = 0.01 %), within ±10,000, at most 4 decimal places."""

    value: Decimal

    def __init__(self, value: Number) -> None:
        number = _check_places(to_decimal(value, "basis points"), BPS_DECIMALS, "basis points")
        if abs(number) > 10_000:
            raise DomainError("OUT_OF_RANGE", f"basis points must be within ±10000, got {number}")
        object.__setattr__(self, "value", number)

    @property
    def fraction(self) -> Decimal:
        """Return the rate as a plain fraction (10 bps → 0.001)."""
        with exact():  # dividing by 10**4 only moves the decimal point
            return self.value.scaleb(-4)

    def of(self, money: Money) -> Money:
        """Return this rate applied to ``money``, rounded half-even."""
        return money.scaled(self.fraction)

    @classmethod
    def between(cls, reference: Decimal, observed: Decimal) -> Self:
        """Return how far ``observed`` sits from ``reference``, in bps rounded to the bps precision."""
        if reference <= 0:
            raise DomainError("NON_POSITIVE_PRICE", "the reference of a bps distance must be positive")
        with localcontext(ROUNDING):
            raw = (observed - reference) / reference * 10_000
        return cls(quantize(max(min(raw, Decimal(10_000)), Decimal(-10_000)), BPS_DECIMALS))

    def __str__(self) -> str:
        return f"{self.value} bps"
