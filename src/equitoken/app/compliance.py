"""The compliance engine's file edge: shipped policies, sanctions lists and what-if case files.

The core parses text; this module reads it — from the package (shipped policies, the sample sanctions
list) or from the paths an operator gives — and turns unreadable files into one-line refusals.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path

from equitoken.app.files import parse_json, read_text
from equitoken.compliance.cases import Case, parse_cases
from equitoken.compliance.loader import parse_policy
from equitoken.compliance.policy import Policy
from equitoken.compliance.sanctions import SanctionsList, parse_sanctions
from equitoken.domain.errors import DomainError

POLICIES: Traversable = files("equitoken.compliance") / "policies"
SAMPLE_SANCTIONS: Traversable = files("equitoken.compliance") / "data" / "sanctions-sample.csv"


def load_policy(path: Path | Traversable) -> Policy:
    """Read and validate one policy file; its ``name`` must equal the file name without ``.toml``."""
    policy = parse_policy(read_text(path, "policy file"), str(path))
    stem = path.name.removesuffix(".toml")
    if policy.name != stem:
        raise DomainError(
            "INVALID_POLICY", f"{path}, line 1, field name: {policy.name!r} must match the file name {stem!r}"
        )
    return policy


@cache
def shipped_policies() -> dict[str, Policy]:
    """Return the policies shipped in the package, by name."""
    found = sorted((p for p in POLICIES.iterdir() if p.name.endswith(".toml")), key=lambda p: p.name)
    return {policy.name: policy for policy in map(load_policy, found)}


def load_sanctions(path: Path | Traversable | None = None) -> SanctionsList:
    """Read an operator's sanctions CSV (the shipped sample when ``path`` is omitted)."""
    source = SAMPLE_SANCTIONS if path is None else path
    return parse_sanctions(read_text(source, "sanctions list"), str(source))


def load_cases(path: Path) -> tuple[Case, ...]:
    """Read a what-if cases file against the shipped policies."""
    data = parse_json(read_text(path, "cases file"), str(path), "INVALID_CASES")
    return parse_cases(data, shipped_policies())
