"""The one error type the core raises: a stable reason code and a sentence for people."""

from __future__ import annotations

from typing import Any


class DomainError(ValueError):
    """Refuse bad input with a stable, machine-readable reason code and a human sentence.

    The code is part of the public contract (CLI output, API answers, on-chain reverts use the same
    vocabulary); the message may be reworded freely.
    """

    def __new__(cls, *args: Any, **kwargs: Any) -> DomainError:
        # The code decides the type, from one catalogue: an adapter that says STORE_UNAVAILABLE raises
        # an InfrastructureError without every raise site having to know the distinction.
        if cls is DomainError and args and args[0] in INFRASTRUCTURE_CODES:
            cls = InfrastructureError
        return super().__new__(cls, *args, **kwargs)

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message

    def __reduce__(self) -> tuple[type[DomainError], tuple[str, str]]:
        return type(self), (self.code, self.message)  # so it survives pickling (worker processes)

    def as_dict(self) -> dict[str, str]:
        """Return the error as a JSON-ready mapping."""
        return {"code": self.code, "message": self.message}


class InfrastructureError(DomainError):
    """A failure of the machinery (store, node, broker link), not a refusal of the request.

    It is still one line and a stable code for whoever asked, but a caller that already moved something
    outside the store (a settled quote, a mint) must not treat it as a clean "no": what happened is
    then unknown, so the listing halts until reconciliation says what is true.
    """


INFRASTRUCTURE_CODES: frozenset[str] = frozenset(
    {
        "STORE_UNAVAILABLE",
        "STORE_CLOSED",
        "STORE_CORRUPT",
        "TRANSACTION_ABORTED",
        "CHAIN_UNAVAILABLE",
        "NODE_UNAVAILABLE",
        "CHAIN_BAD_RESPONSE",
        "NO_CONTRACT",
        "HISTORICAL_STATE_UNAVAILABLE",
        "BROKER_UNAVAILABLE",
    }
)
"""Codes that are infrastructure failures: ``DomainError(code, ...)`` with one of them is an
``InfrastructureError``."""
