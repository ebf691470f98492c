"""The contracts speak the domain's reason table: every number and every revert NAME."""

from __future__ import annotations

import re
from pathlib import Path

from equitoken.adapters.chain.compiler import CONTRACTS_DIR
from equitoken.domain.reasons import Reason

CONSTANT = re.compile(r"^(\w+): constant\(uint8\) = (\d+)$", re.MULTILINE)
BRANCH = re.compile(r'if code == (\w+):\n\s+raise "(\w+)"')
RAISE = re.compile(r'raise "([^"]*)"')
UPPER = re.compile(r"^[A-Z][A-Z_]+$")
REASON_REF = re.compile(r"reasons\.(\w+)")
DOCSTRING = re.compile(r'""".*?"""', re.DOTALL)
COMMENT = re.compile(r"#[^\n]*")


def code_of(path: Path) -> str:
    """Return a Vyper source without docstrings and comments (they may quote code)."""
    return COMMENT.sub("", DOCSTRING.sub("", path.read_text()))


def test_reason_constants_match_the_domain_table() -> None:
    source = (CONTRACTS_DIR / "reasons.vy").read_text()
    constants = {name: int(value) for name, value in CONSTANT.findall(source)}
    branches = dict(BRANCH.findall(source))
    assert constants.pop("OK") == Reason.OK
    # every constant is raised with a NAME, and that NAME's number is the constant's value
    assert set(branches) == set(constants)
    for constant, name in branches.items():
        assert Reason[name].value == constants[constant], (constant, name)
    # and the table is covered in full
    assert {Reason[name] for name in branches.values()} == set(Reason) - {Reason.OK}


def test_every_raised_name_is_a_reason() -> None:
    names: set[str] = set()
    for path in CONTRACTS_DIR.glob("*.vy"):
        for message in RAISE.findall(code_of(path)):
            if message == "UNKNOWN_REASON":  # reasons._raise's fail-closed fallback, unreachable
                continue
            assert UPPER.match(message), f"{path.name}: raise {message!r} is not a reason NAME"
            assert message in Reason.__members__, f"{path.name}: {message} is not in domain.reasons"
            names.add(message)
    assert {"ZERO_ADDRESS", "INSUFFICIENT_ALLOWANCE", "NOT_SAME_INVESTOR", "NOTIONAL_LIMIT_EXCEEDED"} <= names


def test_assert_messages_are_not_disguised_reasons() -> None:
    # non-reason errors use lower-case "<contract>: message" strings, never an upper-case NAME
    for path in CONTRACTS_DIR.glob("*.vy"):
        for message in re.findall(r'assert [^\n]*, "([^"]*)"', code_of(path)):
            assert not UPPER.match(message), f"{path.name}: assert message {message!r} looks like a reason"


def test_reason_references_exist() -> None:
    source = (CONTRACTS_DIR / "reasons.vy").read_text()
    constants = set(dict(CONSTANT.findall(source)))
    for path in CONTRACTS_DIR.glob("*.vy"):
        for ref in REASON_REF.findall(code_of(path)):
            assert ref in constants or ref == "_raise", f"{path.name}: reasons.{ref}"
