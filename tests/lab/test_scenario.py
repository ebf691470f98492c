"""Scenario files: the bundled ones load, series expand, and a malformed file is refused by field."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from equitoken.domain.errors import DomainError
from equitoken.lab.orders import PeriodKind
from equitoken.lab.scenario import bundled, find, load, parse

MINIMAL = """
name = "mine"
symbol = "ko"
start = 2013-03-04
end = 2013-03-08
[flow.rates]
session = 2
"""


def test_every_bundled_scenario_loads_and_the_series_expand_week_by_week_and_year_by_year() -> None:
    scenarios = bundled()
    names = [s.name for s in scenarios]
    assert len(names) == len(set(names))
    weekly = [s for s in scenarios if s.name.startswith("weekly-2012-2014/")]
    assert {s.symbol for s in weekly} == {"AAPL", "IBM", "KO", "MSFT"}
    assert len(weekly) == 4 * 156  # every Monday from 2012-01-02 to 2014-12-22
    week = find("weekly-2012-2014/AAPL-2012-W47")
    assert (week.start, week.end) == (date(2012, 11, 19), date(2012, 11, 25))
    assert week.seed == "weekly/weekly-2012-2014/AAPL-2012-W47"  # each week its own seeded flow
    year = find("yearly-2012-2014/KO-2013")
    assert (year.start, year.end, year.symbol) == (date(2013, 1, 1), date(2013, 12, 31), "KO")
    gme = find("gme-2021q1")
    assert gme.symbol == "GME" and gme.flow.momentum == Decimal("3.0")


def test_a_minimal_file_takes_the_documented_defaults() -> None:
    [s] = parse(MINIMAL, "mine.toml")
    assert s.symbol == "KO" and s.seed == "mine" and s.between_prices == "hold"
    assert s.flow.rates[PeriodKind.SESSION] == 2 and s.flow.rates[PeriodKind.WEEKEND] == 0
    assert s.sizing.target_unserved == Decimal("0.01") and s.sizing.window_seconds == 60
    assert len(s.flow.population) == 5 and any(seg.us_person for seg in s.flow.population)


def test_a_toml_float_is_read_as_its_decimal_text_never_its_binary_expansion() -> None:
    [s] = parse(MINIMAL.replace("session = 2", "session = 0.1"), "f.toml")
    assert s.flow.rates[PeriodKind.SESSION] == Decimal("0.1")


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (("session = 2", "session = 2\nsesion = 1"), "flow.rates: unknown field(s) sesion"),
        (("session = 2", "session = -1"), "flow.rates.session: must be at least 0"),
        (("session = 2", "session = 0"), "flow.rates: at least one kind"),
        (("end = 2013-03-08", "end = 2013-03-01"), "end: 2013-03-01 is before the start"),
        (("start = 2013-03-04", "start = 'monday'"), "start: must be a date"),
        (('name = "mine"', 'name = "a b"'), "name: may hold letters"),
        (("[flow.rates]", 'between_prices = "invent"\n[flow.rates]'), "between_prices: must be one of"),
        (("[flow.rates]", "[flow]\nsize_median = 100\nsize_max = 50\n[flow.rates]"), "flow.size_max"),
        (
            ("[flow.rates]", '[[flow.population]]\nresidence = "DE"\ncategory = "whale"\n[flow.rates]'),
            "flow.population[0].category: must be one of",
        ),
        (("[flow.rates]", "[sizing]\ntarget_unserved = 0.9\n[flow.rates]"), "sizing.target_unserved"),
        (
            ("[flow.rates]", "[inventory]\ninventory_share = 0.8\nfloat_share = 0.5\n[flow.rates]"),
            "inventory:",
        ),
        (("name =", "name = 1\nx ="), "top level: unknown field(s) x"),
    ],
)
def test_a_malformed_field_is_refused_naming_the_file_and_the_field(
    change: tuple[str, str], where: str
) -> None:
    text = MINIMAL.replace(*change, 1)
    with pytest.raises(DomainError) as refused:
        parse(text, "bad.toml")
    assert refused.value.code == "SCENARIO_INVALID"
    assert refused.value.message.startswith("bad.toml: ")
    assert where in refused.value.message


def test_not_toml_is_refused_with_the_parser_s_reason() -> None:
    with pytest.raises(DomainError) as refused:
        parse("name = [", "x.toml")
    assert refused.value.code == "SCENARIO_INVALID" and "not valid TOML" in refused.value.message


def test_a_user_file_is_found_by_path_and_an_unknown_name_lists_the_bundled_families(tmp_path: Path) -> None:
    path = tmp_path / "mine.toml"
    path.write_text(MINIMAL, encoding="utf-8")
    assert find(str(path)).name == "mine"
    assert load(path)[0].source == str(path)
    with pytest.raises(DomainError) as unknown:
        find("nope")
    assert unknown.value.code == "UNKNOWN_SCENARIO"
    assert "gme-2021q1" in unknown.value.message and "weekly-2012-2014" in unknown.value.message
    with pytest.raises(DomainError) as missing:
        find(str(tmp_path / "absent.toml"))
    assert missing.value.code == "UNKNOWN_SCENARIO"


def test_a_series_file_given_by_path_must_name_one_of_its_scenarios() -> None:
    import equitoken.lab

    folder = Path(equitoken.lab.__file__).parent / "scenarios"
    with pytest.raises(DomainError) as refused:
        find(str(folder / "weekly-2012-2014.toml"))
    assert refused.value.code == "SCENARIO_INVALID" and "series of 624" in refused.value.message


def test_every_bundled_scenario_lies_within_the_bundled_history() -> None:
    from equitoken.lab.study import check_history

    refused = []
    for scenario in bundled():
        try:
            check_history(scenario)
        except DomainError as error:  # SCENARIO_INVALID: a session without a real bar
            refused.append(f"{scenario.name}: {error.message}")
    assert len(bundled()) >= 638 and refused == []
