"""A product policy: the named set of rules one instrument's holders and transfers obey."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from equitoken.compliance.actions import ActionKind
from equitoken.compliance.rules import Rule
from equitoken.domain.errors import DomainError


class Model(StrEnum):
    """The issuance architecture a policy was written for."""

    INVENTORY = "inventory"
    INSTANT = "instant"
    DIRECT = "direct"


@dataclass(frozen=True, slots=True)
class Policy:
    """A named, versioned set of rules."""

    name: str
    title: str
    model: Model
    description: str
    rules: tuple[Rule, ...]

    def __post_init__(self) -> None:
        names = [rule.name for rule in self.rules]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise DomainError(
                "DUPLICATE_RULE", f"policy {self.name} names rule(s) twice: {', '.join(duplicates)}"
            )

    def rules_for(self, action: ActionKind) -> tuple[Rule, ...]:
        """Return the rules that govern ``action``."""
        return tuple(rule for rule in self.rules if rule.governs(action))

    def rule(self, name: str) -> Rule:
        """Return the rule called ``name``."""
        for rule in self.rules:
            if rule.name == name:
                return rule
        raise DomainError("UNKNOWN_RULE", f"policy {self.name} has no rule {name!r}")
