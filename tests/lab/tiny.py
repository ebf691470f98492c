"""Small scenarios for the lab's engine tests: a few dozen orders over real days of AAPL."""

from __future__ import annotations

from equitoken.lab.scenario import Scenario, parse


def tiny(
    *,
    seed: str = "tiny",
    start: str = "2012-11-21",
    end: str = "2012-11-26",
    session: str = "1.5",
    evening: str = "0.5",
    night: str = "0.2",
    weekend: str = "0.3",
    holiday: str = "0.5",
    investors: int = 20,
) -> Scenario:
    """Return a scenario over Thanksgiving 2012 (a holiday, an early close, a weekend) with a thin flow."""
    text = f"""
name = "tiny-{seed}"
symbol = "AAPL"
start = {start}
end = {end}
seed = "{seed}"
[flow]
investors = {investors}
size_median = 2000
size_max = 20000
momentum = 1
[flow.rates]
session = {session}
evening = {evening}
night = {night}
weekend = {weekend}
holiday = {holiday}
"""
    [scenario] = parse(text, f"tiny-{seed}.toml")
    return scenario
