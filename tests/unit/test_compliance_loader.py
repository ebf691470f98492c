"""Policy files: the shipped ones load; a malformed one is refused naming the file, the line and the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from equitoken.app.compliance import POLICIES, load_policy, shipped_policies
from equitoken.compliance.loader import parse_policy
from equitoken.compliance.rules import Lockup
from equitoken.domain.errors import DomainError

GOOD = """\
schema = 1
name = "test-policy"
title = "A test policy"
model = "direct"
description = \"\"\"
Two lines of
description = "not a key"
\"\"\"

[[rules]]
name = "sanctions"
kind = "sanctions"
actions = ["transfer"]
description = "No sanctioned parties."

[[rules]]
name = "lockup"
kind = "lockup"
actions = ["transfer"]
months = 12
regulations = ["reg_d"]
description = "Twelve months."
when = { us_person = true }
"""


def test_the_shipped_policies_load() -> None:
    policies = shipped_policies()
    assert sorted(policies) == ["direct-ownership", "instant-execution", "tracker-certificate"]
    lockup = policies["direct-ownership"].rule("reg-d-lockup")
    assert isinstance(lockup.params, Lockup) and lockup.params.months == 12


def test_a_good_policy_parses() -> None:
    policy = parse_policy(GOOD, "p.toml")
    assert [r.name for r in policy.rules] == ["sanctions", "lockup"]
    assert policy.rules[1].when.us_person is True


BAD: list[tuple[str, str, str, int, str]] = [
    # (what to change, from, to, expected line, expected field)
    ("unknown top field", 'model = "direct"', 'model = "direct"\nmodle = "x"', 5, "modle"),
    ("schema version", "schema = 1", "schema = 2", 1, "schema"),
    ("schema type", "schema = 1", 'schema = "1"', 1, "schema"),
    ("bad name", 'name = "test-policy"', 'name = "Test Policy"', 2, "name"),
    ("bad model", 'model = "direct"', 'model = "hybrid"', 4, "model"),
    ("missing title", 'title = "A test policy"\n', "", 1, "title"),
    ("bad kind", 'kind = "lockup"', 'kind = "lock"', 18, "rules[2].kind"),
    (
        "bad action",
        'actions = ["transfer"]\nmonths',
        'actions = ["transfer", "swap"]\nmonths',
        19,
        "rules[2].actions",
    ),
    (
        "action out of scope",
        'actions = ["transfer"]\nmonths',
        'actions = ["buy"]\nmonths',
        19,
        "rules[2].actions",
    ),
    ("months type", "months = 12", 'months = "12"', 20, "rules[2].months"),
    ("months sign", "months = 12", "months = 0", 20, "rules[2].months"),
    ("missing months", "months = 12\n", "", 16, "rules[2].months"),
    ("bad regulation", '["reg_d"]', '["reg_x"]', 21, "rules[2].regulations"),
    ("unknown rule field", "months = 12", "months = 12\ndays = 3", 21, "rules[2].days"),
    ("bad condition", "us_person = true", "us_persons = true", 23, "rules[2].when.us_persons"),
    ("duplicate rule", 'name = "lockup"', 'name = "sanctions"', 17, "rules[2].name"),
    ("empty description", 'description = "Twelve months."', 'description = " "', 22, "rules[2].description"),
]


@pytest.mark.parametrize(("what", "old", "new", "line", "field"), BAD, ids=[b[0] for b in BAD])
def test_a_malformed_policy_names_file_line_and_field(
    what: str, old: str, new: str, line: int, field: str
) -> None:
    assert old in GOOD, what
    with pytest.raises(DomainError) as refused:
        parse_policy(GOOD.replace(old, new, 1), "policies/test-policy.toml")
    assert refused.value.code == "INVALID_POLICY"
    assert refused.value.message.startswith(f"policies/test-policy.toml, line {line}, field {field}:"), (
        refused.value.message
    )


@pytest.mark.parametrize(
    ("rule", "line", "field"),
    [
        ('kind = "country"\nactions = ["buy"]\nallow = ["EEA", "XX"]', 12, "rules[1].allow"),
        ('kind = "country"\nactions = ["buy"]', 7, "rules[1].allow"),
        ('kind = "category"\nactions = ["buy"]\nallow = ["retial"]', 12, "rules[1].allow"),
        ('kind = "max_balance"\nactions = ["buy"]\nmax_shares = "1.5e"', 12, "rules[1].max_shares"),
        ('kind = "notional_limit"\nactions = ["buy"]\nmax_per_window = "10"', 7, "rules[1].window_hours"),
        ('kind = "notional_limit"\nactions = ["buy"]\nmax_per_order = "-1"', 12, "rules[1].max_per_order"),
        (
            'kind = "holder_cap"\nactions = ["buy"]\nmax_holders = 10\nmax_non_accredited = 0',
            13,
            "rules[1].max_non_accredited",
        ),
    ],
)
def test_kind_parameters_are_validated(rule: str, line: int, field: str) -> None:
    text = (
        f'schema = 1\nname = "p"\ntitle = "t"\nmodel = "instant"\ndescription = "d"\n\n'
        f'[[rules]]\nname = "r"\ndescription = "d"\n{rule}\n'
    )
    with pytest.raises(DomainError) as refused:
        parse_policy(text, "p.toml")
    assert refused.value.message.startswith(f"p.toml, line {line}, field {field}:"), refused.value.message


def test_invalid_toml_is_refused_with_its_position() -> None:
    with pytest.raises(DomainError, match=r"INVALID_POLICY: p.toml: not valid TOML: .*line 1"):
        parse_policy("schema = = 1", "p.toml")


def test_a_file_name_must_match_the_policy_name(tmp_path: Path) -> None:
    path = tmp_path / "other.toml"
    path.write_text(GOOD)
    with pytest.raises(DomainError, match="field name: 'test-policy' must match the file name 'other'"):
        load_policy(path)
    with pytest.raises(DomainError, match="FILE_UNREADABLE"):
        load_policy(tmp_path / "missing.toml")
    assert (POLICIES / "direct-ownership.toml").is_file()
