"""The answer to an action: allowed or not, every rule it breaks, and every rule an override waived."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from equitoken.domain.reasons import Reason


@dataclass(frozen=True, slots=True)
class Violation:
    """One broken rule: its stable reason code, the rule's name and a sentence about this case."""

    code: Reason
    rule: str
    message: str

    def as_dict(self) -> dict[str, str]:
        """Return the violation as JSON-ready text (the code by its NAME, as the contracts revert)."""
        return {"code": self.code.name, "rule": self.rule, "message": self.message}


@dataclass(frozen=True, slots=True)
class Override:
    """A violation a forced transfer waived, with the reason it was given (for the audit log)."""

    code: Reason
    rule: str
    reason: str

    def as_dict(self) -> dict[str, str]:
        """Return the override as JSON-ready text."""
        return {"code": self.code.name, "rule": self.rule, "reason": self.reason}


@dataclass(frozen=True, slots=True)
class Decision:
    """Allowed exactly when nothing is violated; violations in the contracts' check order."""

    allowed: bool
    violations: tuple[Violation, ...] = ()
    overrides: tuple[Override, ...] = ()

    @classmethod
    def of(cls, violations: Iterable[Violation], overrides: Iterable[Override] = ()) -> Decision:
        """Return the decision that follows from ``violations``."""
        found = tuple(violations)
        return cls(not found, found, tuple(overrides))

    def __post_init__(self) -> None:
        if self.allowed == bool(self.violations):
            raise ValueError("a decision is allowed exactly when it has no violations")

    @property
    def reason(self) -> Reason:
        """Return the first violation's code (``OK`` when allowed): what the contracts would answer."""
        return self.violations[0].code if self.violations else Reason.OK

    def as_dict(self) -> dict[str, Any]:
        """Return the decision as JSON-ready data."""
        return {
            "allowed": self.allowed,
            "violations": [v.as_dict() for v in self.violations],
            "overrides": [o.as_dict() for o in self.overrides],
        }
