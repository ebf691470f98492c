"""Sanctions lists: the sample parses, bad lines are refused by line and field, screening finds hits."""

from __future__ import annotations

from datetime import date

import pytest

from equitoken.app.compliance import load_sanctions
from equitoken.compliance.countries import country
from equitoken.compliance.investors import Investor, InvestorCategory, PersonKind
from equitoken.compliance.sanctions import EntryType, normalise_name, parse_sanctions
from equitoken.domain.errors import DomainError
from equitoken.domain.ids import InvestorId, WalletAddress

HEADER = "type,value,list,listed_on\n"
LISTED = WalletAddress("0x5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a")


def test_the_sample_list_loads() -> None:
    sample = load_sanctions()
    assert len(sample) == 8
    assert {e.type for e in sample.entries} == set(EntryType)
    assert sample.entries[0].line == 5 and sample.entries[0].listed_on == date(2024, 3, 1)


def investor(
    name: str = "Alice Example", residence: str = "DE", nationality: str = "DE", *wallets: str
) -> Investor:
    return Investor(
        InvestorId("i1"),
        PersonKind.NATURAL_PERSON,
        name,
        country(residence),
        country(nationality),
        False,
        InvestorCategory.RETAIL,
        wallets=frozenset(WalletAddress(w) for w in wallets),
    )


def test_screening_matches_names_countries_and_wallets() -> None:
    sample = load_sanctions()
    assert sample.screen(investor()) == ()
    assert [h.matched for h in sample.screen(investor("  IVAN   sampleov"))] == ["name   IVAN   sampleov"]
    assert [h.entry.value for h in sample.screen(investor("Alice", "DE", "IR"))] == ["IR"]
    hits = sample.screen(investor("Alice", "DE", "DE", "0x" + "5a" * 20, "0x" + "11" * 20))
    assert [h.entry.type for h in hits] == [EntryType.WALLET]
    assert sample.screen_wallet(LISTED) and not sample.screen_wallet(WalletAddress("0x" + "11" * 20))
    assert (
        normalise_name("Shell Holdings, Ltd.")
        == normalise_name("SHELL  holdings ltd")
        == "shell holdings ltd"
    )
    assert normalise_name("José Núñez") == "jose nunez"


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("", "line 1, field header"),
        ("kind,value,list,listed_on\n", "line 1, field header"),
        ("# comment\n\n" + HEADER + "wallet,0x12,OFAC,2024-01-01\n", "line 4, field value"),
        (HEADER + "person,Bob,OFAC,2024-01-01\n", "line 2, field type"),
        (HEADER + "name,Bob,OFAC\n", "line 2, field row"),
        (HEADER + "name,Bob,,2024-01-01\n", "line 2, field list"),
        (HEADER + "name,Bob,OFAC,01/02/2024\n", "line 2, field listed_on"),
        (HEADER + "country,XX,OFAC,2024-01-01\n", "line 2, field value"),
        (HEADER + "name,...,OFAC,2024-01-01\n", "line 2, field value"),
    ],
)
def test_a_malformed_list_is_refused_with_line_and_field(text: str, where: str) -> None:
    with pytest.raises(DomainError) as refused:
        parse_sanctions(text, "ops/list.csv")
    assert refused.value.code == "INVALID_SANCTIONS_FILE"
    assert refused.value.message.startswith(f"ops/list.csv, {where}:")


def test_a_quoted_value_may_hold_a_comma() -> None:
    parsed = parse_sanctions(HEADER + 'name,"Doe, Jane",UN-SC,2020-01-01\n', "x.csv")
    assert parsed.entries[0].value == "doe jane"
