"""The one error type the core raises: a stable reason code and a sentence for people."""

from __future__ import annotations


class DomainError(ValueError):
    """Refuse bad input with a stable, machine-readable reason code and a human sentence.

    The code is part of the public contract (CLI output, API answers, on-chain reverts use the same
    vocabulary); the message may be reworded freely.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message

    def as_dict(self) -> dict[str, str]:
        """Return the error as a JSON-ready mapping."""
        return {"code": self.code, "message": self.message}
