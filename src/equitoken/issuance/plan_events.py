"""The plan outbox's events (stream ``effects``): a plan decided, being undone, and closed.

``PlanIntended`` records the whole plan (``issuance.plans.plan_to_dict``: its legs and events are
tagged and encoded by the one codec, and decoded once the plan's model is open and its event types
known) with the block it was decided at; ``PlanUndoing`` records that a later leg was refused and
the earlier ones are going back; ``PlanDone`` and ``PlanAbandoned`` close it. ``PlanOutboxState``
folds them into the plans still pending. Encoded by the one event codec (``domain.codec``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from equitoken.domain.errors import DomainError


@dataclass(frozen=True, slots=True)
class PlanIntended:
    """Plan ``key`` (the ``number``-th record of the stream) was decided at block ``after_block``."""

    key: str
    number: int
    after_block: int
    plan: Mapping[str, Any]
    """``plan_to_dict`` of the plan, decoded by ``plan_from_dict`` with its model's event types."""


@dataclass(frozen=True, slots=True)
class PlanUndoing:
    """Leg ``sent`` of plan ``key`` was refused; the earlier legs go back from block ``after_block``."""

    key: str
    sent: int
    after_block: int
    refusal: str
    """``CODE: message`` of the refusal, the plan's outcome once undone."""


@dataclass(frozen=True, slots=True)
class PlanDone:
    """Plan ``key`` was carried out and its records posted."""

    key: str
    failure: str


@dataclass(frozen=True, slots=True)
class PlanAbandoned:
    """Plan ``key`` could not be carried out (``failure``: ``CODE: message``)."""

    key: str
    failure: str


PLAN_EVENTS: tuple[type, ...] = (PlanIntended, PlanUndoing, PlanDone, PlanAbandoned)


@dataclass
class PendingPlan:
    """A plan recorded and not closed: its record, and the block its undoing began at, if it did."""

    intended: PlanIntended
    undoing: int | None = None
    refusal: str = ""


@dataclass
class PlanOutboxState:
    """The fold of stream ``effects``: how many records it holds, and the plans still pending."""

    recorded: int = 0
    pending: dict[str, PendingPlan] = field(default_factory=dict)

    def apply(self, event: object) -> None:
        """Evolve the state by one event; refuse (``STORE_CORRUPT``) one about a plan not pending."""
        match event:
            case PlanIntended():
                self.pending[event.key] = PendingPlan(event)
            case PlanUndoing():
                self._of(event.key).undoing = event.after_block
                self._of(event.key).refusal = event.refusal
            case PlanDone() | PlanAbandoned():
                self._of(event.key)
                del self.pending[event.key]
        self.recorded += 1

    def _of(self, key: str) -> PendingPlan:
        found = self.pending.get(key)
        if found is None:
            raise DomainError("STORE_CORRUPT", f"plan {key} is not pending")
        return found
