"""The three issuance architectures behind one protocol: inventory, instant execution, direct ownership.

Each model is a strategy the engine drives the same way (``IssuanceModel``); what they share — the
accounts they book to, the reserve invariant — lives beside the protocol and is tested once against
all three.
"""

from equitoken.issuance.models.base import (
    ComplianceGate,
    IssuanceModel,
    Listing,
    ModelContext,
    ModelFill,
    ModelName,
    ModelReason,
)

__all__ = [
    "ComplianceGate",
    "IssuanceModel",
    "Listing",
    "ModelContext",
    "ModelFill",
    "ModelName",
    "ModelReason",
]
