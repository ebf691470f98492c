"""The one error type the core raises: a stable reason code and a sentence for people."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from equitoken.domain.catalogue import CATALOGUE, INFRASTRUCTURE_CODES, Kind

__all__ = [
    "INFRASTRUCTURE_CODES",
    "DomainError",
    "InfrastructureError",
    "UncataloguedCode",
    "require_catalogued_codes",
]

_REQUIRE_CATALOGUED = False


def require_catalogued_codes(required: bool = True) -> None:
    """Make every later ``DomainError`` with a code missing from the catalogue raise ``UncataloguedCode``.

    The test suite turns this on, so a new code cannot ship without its entry. It stays off in a running
    platform: a third-party adapter's own code then still reaches the caller as a refusal with its
    message, instead of the answer being lost to a crash while the error is built.
    """
    global _REQUIRE_CATALOGUED
    _REQUIRE_CATALOGUED = required


class UncataloguedCode(AssertionError):
    """A ``DomainError`` was built with a code ``domain.catalogue`` does not list (a programming error)."""


class DomainError(ValueError):
    """Refuse bad input with a stable, machine-readable reason code and a human sentence.

    The code is part of the public contract (CLI output, API answers, on-chain reverts use the same
    vocabulary, listed in ``domain.catalogue``); the message may be reworded freely.
    """

    def __new__(cls, *args: Any, **kwargs: Any) -> DomainError:
        # The code decides the type, from the catalogue: an adapter that says STORE_UNAVAILABLE raises
        # an InfrastructureError without every raise site having to know the distinction.
        if cls is DomainError and args and args[0] in INFRASTRUCTURE_CODES:
            cls = InfrastructureError
        return super().__new__(cls, *args, **kwargs)

    def __init__(self, code: str, message: str, details: Mapping[str, str] | None = None) -> None:
        if _REQUIRE_CATALOGUED and code not in CATALOGUE:
            raise UncataloguedCode(f"{code} is not in domain.catalogue (message: {message})")
        super().__init__(f"{code}: {message}")
        # A code given as a member of one of the catalogue's enums is kept as its text: it is journaled
        # (the audit's Answered outcome) and serialised, and an enum member is neither.
        self.code = str(code)
        self.message = message
        self.details: dict[str, str] = dict(details or {})
        """Facts a caller can act on besides the sentence (the order a refusal is recorded as, the
        seconds to wait): the API adds them to the problem as extension members."""

    def __reduce__(self) -> tuple[type[DomainError], tuple[str, str]]:
        return type(self), (self.code, self.message)  # so it survives pickling (worker processes)

    @property
    def kind(self) -> Kind:
        """Return the code's kind; an uncatalogued code counts by its type (a refusal, or infrastructure)."""
        entry = CATALOGUE.get(self.code)
        if entry is not None:
            return entry.kind
        return Kind.INFRASTRUCTURE if isinstance(self, InfrastructureError) else Kind.REFUSED

    def as_dict(self) -> dict[str, str]:
        """Return the error as a JSON-ready mapping."""
        return {"code": self.code, "message": self.message}


class InfrastructureError(DomainError):
    """A failure of the machinery (store, node, broker link), not a refusal of the request.

    It is still one line and a stable code for whoever asked, but a caller that already moved something
    outside the store (a settled quote, a mint) must not treat it as a clean "no": what happened is
    then unknown, so the listing halts until reconciliation says what is true.
    """
