"""Settings are validated when they are loaded: what ``config show`` prints as in force, a command can use.

Regressions (issue 11): ``EQUITOKEN_CALENDAR=XXXX``, a garbage database URL, a fixed fee of ``1e999``
USD, an empty data dir (meaning the working directory) and an unparsable IPv6 chain URL were all accepted
and shown as in force; a config file that is a directory, is not UTF-8 or whose ``[equitoken]`` is not a
table raised a traceback.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from equitoken.app.settings import load_settings
from equitoken.domain.errors import DomainError

BAD = [
    ("EQUITOKEN_CALENDAR", "XXXX"),
    ("EQUITOKEN_CALENDAR", ""),
    ("EQUITOKEN_DATABASE_URL", "garbage"),
    ("EQUITOKEN_DATABASE_URL", "mysql://user@host/db"),
    ("EQUITOKEN_DATABASE_URL", "://"),
    ("EQUITOKEN_FEE_FIXED_USD", "1e999"),
    ("EQUITOKEN_FEE_FIXED_USD", "1e60"),
    ("EQUITOKEN_FEE_FIXED_USD", "9" * 5000),
    ("EQUITOKEN_FEE_FIXED_USD", "1e999999999"),
    ("EQUITOKEN_RISK_GLOBAL_USD", "1e16"),
    ("EQUITOKEN_RISK_PER_INVESTOR_USD", "1e999"),
    ("EQUITOKEN_DATA_DIR", ""),
    ("EQUITOKEN_DATA_DIR", "   "),
    ("EQUITOKEN_CHAIN_URL", "http://[::1"),
    ("EQUITOKEN_CHAIN_URL", "http://[::1]:notaport"),
    ("EQUITOKEN_CHAIN_URL", "http://host:99999"),
    ("EQUITOKEN_SANCTIONS_FILE", "/nonexistent/sanctions.csv"),
    ("EQUITOKEN_SANCTIONS_FILE", "/"),
]


@pytest.mark.parametrize(("variable", "value"), BAD)
def test_a_bad_setting_is_refused_at_load_naming_the_variable(variable: str, value: str) -> None:
    with pytest.raises(DomainError) as refused:
        load_settings(environ={variable: value})
    assert refused.value.code == "INVALID_SETTING"
    assert variable in refused.value.message
    assert len(refused.value.message) < 400  # a 5,000-digit value is not echoed whole


GOOD = [
    ("EQUITOKEN_CALENDAR", "xlon", "calendar", "XLON"),
    ("EQUITOKEN_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test", "database_url", None),
    ("EQUITOKEN_DATABASE_URL", "sqlite:////tmp/x.db", "database_url", None),
    ("EQUITOKEN_CHAIN_URL", "http://[::1]:8545", "chain_url", None),
    ("EQUITOKEN_FEE_FIXED_USD", "1000000000000000", "fee_fixed_usd", None),
]


@pytest.mark.parametrize(("variable", "value", "field", "expected"), GOOD)
def test_good_settings_still_load(variable: str, value: str, field: str, expected: str | None) -> None:
    settings = load_settings(environ={variable: value})
    shown = str(getattr(settings, field))
    assert shown == (expected or value) or str(getattr(settings, field).amount) == value


@given(st.decimals(min_value=0, max_value=10**15, places=6, allow_nan=False, allow_infinity=False))
def test_every_fee_within_the_bound_loads_exactly(amount: object) -> None:
    settings = load_settings(environ={"EQUITOKEN_FEE_FIXED_USD": str(amount)})
    assert settings.fee_fixed_usd.amount == amount


def test_a_config_file_that_is_a_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DomainError) as refused:
        load_settings(environ={"EQUITOKEN_CONFIG": str(tmp_path)})
    assert refused.value.code == "INVALID_CONFIG" and "directory" in refused.value.message


def test_a_config_file_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "equitoken.toml"
    path.write_bytes(b"\xff\xfe[equitoken]\n")
    with pytest.raises(DomainError) as refused:
        load_settings(environ={"EQUITOKEN_CONFIG": str(path)})
    assert refused.value.code == "INVALID_CONFIG" and "UTF-8" in refused.value.message


def test_a_config_whose_equitoken_key_is_not_a_table_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "equitoken.toml"
    path.write_text("equitoken = 5\n")
    with pytest.raises(DomainError) as refused:
        load_settings(environ={"EQUITOKEN_CONFIG": str(path)})
    assert refused.value.code == "INVALID_CONFIG" and "table" in refused.value.message
