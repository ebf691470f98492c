"""A refusal raised with an enum member as its code carries the code as plain text (it is journaled)."""

from __future__ import annotations

import json

from equitoken.domain.errors import DomainError
from equitoken.issuance.models.base import ModelReason


def test_an_enum_code_is_kept_as_its_text() -> None:
    refused = DomainError(ModelReason.INSUFFICIENT_FUNDS, "the buy needs more")
    assert type(refused.code) is str and refused.code == "INSUFFICIENT_FUNDS"
    assert json.dumps({"outcome": refused.code}) == '{"outcome": "INSUFFICIENT_FUNDS"}'
