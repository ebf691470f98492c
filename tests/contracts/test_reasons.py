"""The contracts speak the domain's reason table: every number and every revert NAME."""

from __future__ import annotations

import re
from pathlib import Path

from equitoken.adapters.chain.compiler import CONTRACTS_DIR
from equitoken.domain.contract_errors import CONTRACT_ERRORS
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


def test_every_raised_name_is_a_reason_or_a_contract_error() -> None:
    names: set[str] = set()
    for path in CONTRACTS_DIR.glob("*.vy"):
        for message in RAISE.findall(code_of(path)):
            assert UPPER.match(message), f"{path.name}: raise {message!r} is not a code"
            assert message in Reason.__members__ or message in CONTRACT_ERRORS, f"{path.name}: {message}"
            names.add(message)
    assert {"ZERO_ADDRESS", "INSUFFICIENT_ALLOWANCE", "NOT_SAME_INVESTOR", "NOTIONAL_LIMIT_EXCEEDED"} <= names


ASSERTION = re.compile(r'assert [^#]*?,\s*\(?\s*"([^"]*)"', re.DOTALL)


def test_every_assert_message_is_a_code_from_one_of_the_two_catalogues() -> None:
    # Regression (issue 11, item 8): contracts answered in free text ("token: already paused").
    seen: set[str] = set()
    for path in CONTRACTS_DIR.glob("*.vy"):
        for message in ASSERTION.findall(code_of(path)):
            assert UPPER.match(message), f"{path.name}: assert message {message!r} is free text, not a code"
            known = message in Reason.__members__ or message in CONTRACT_ERRORS
            assert known, f"{path.name}: {message} is in neither domain.reasons nor domain.contract_errors"
            seen.add(message)
    assert len(seen) >= 50  # the scan really reads the contracts' assertions


def test_the_two_catalogues_never_share_a_code() -> None:
    assert not set(CONTRACT_ERRORS) & set(Reason.__members__)
    assert all(UPPER.match(code) and sentence for code, sentence in CONTRACT_ERRORS.items())


def test_a_contract_error_decodes_to_its_code_and_sentence() -> None:
    from eth_abi import encode

    from equitoken.adapters.chain.facade._reverts import ERROR_SELECTOR, decode_revert

    for code, sentence in CONTRACT_ERRORS.items():
        error = decode_revert(ERROR_SELECTOR + encode(["string"], [code]))
        assert (error.code, error.message) == (code, sentence)
    assert decode_revert(ERROR_SELECTOR + encode(["string"], ["free text"])).code == "CHAIN_REVERT"


def test_reason_references_exist() -> None:
    source = (CONTRACTS_DIR / "reasons.vy").read_text()
    constants = set(dict(CONSTANT.findall(source)))
    for path in CONTRACTS_DIR.glob("*.vy"):
        for ref in REASON_REF.findall(code_of(path)):
            assert ref in constants or ref == "_raise", f"{path.name}: reasons.{ref}"
