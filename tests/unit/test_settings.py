"""Settings: defaults run offline; file and environment override; bad values are refused by name."""

from __future__ import annotations

from datetime import time
from pathlib import Path

import pytest

from equitoken.app.settings import Settings, load_settings
from equitoken.domain import Bps, DomainError


def test_defaults_are_offline_sqlite(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings(environ={})
    assert settings == Settings()
    assert settings.effective_database_url == f"sqlite:///{tmp_path / '.equitoken' / 'equitoken.db'}"


def test_file_then_environment(tmp_path: Path) -> None:
    config = tmp_path / "eq.toml"
    config.write_text(
        '[equitoken]\nbroker_slippage_bps = 2.5\ncalendar = "xnys"\nafter_hours_close = "19:30"\n'
    )
    settings = load_settings(environ={"EQUITOKEN_CONFIG": str(config), "EQUITOKEN_CALENDAR": "XLON"})
    assert settings.broker_slippage_bps == Bps("2.5")
    assert settings.after_hours_close == time(19, 30)
    assert settings.calendar == "XLON"  # the environment wins over the file


def test_database_url_overrides_sqlite() -> None:
    url = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    assert load_settings(environ={"EQUITOKEN_DATABASE_URL": url}).effective_database_url == url


@pytest.mark.parametrize(
    ("environ", "code", "names"),
    [
        ({"EQUITOKEN_BROKER_SLIPPAGE_BPS": "lots"}, "INVALID_SETTING", "broker_slippage_bps"),
        ({"EQUITOKEN_PRE_MARKET_OPEN": "25:00"}, "INVALID_SETTING", "pre_market_open"),
        ({"EQUITOKEN_PRE_MARKET_OPEN": "18:00"}, "INVALID_SETTING", "pre_market_open"),
        ({"EQUITOKEN_EARLY_CLOSE_AFTER_HOURS_CLOSE": "21:00"}, "INVALID_SETTING", "after_hours_close"),
        ({"EQUITOKEN_LOG_FORMAT": "xml"}, "INVALID_SETTING", "log_format"),
        ({"EQUITOKEN_PRICE_MAX_AGE_DAYS": "-1"}, "INVALID_SETTING", "price_max_age_days"),
        ({"EQUITOKEN_CONFIG": "/nonexistent/eq.toml"}, "CONFIG_NOT_FOUND", "/nonexistent/eq.toml"),
    ],
)
def test_bad_values_are_named(environ: dict[str, str], code: str, names: str) -> None:
    with pytest.raises(DomainError) as caught:
        load_settings(environ=environ)
    assert caught.value.code == code
    assert names in caught.value.message


def test_unknown_keys_and_broken_toml_are_refused(tmp_path: Path) -> None:
    unknown = tmp_path / "a.toml"
    unknown.write_text("slipage = 3\n")
    with pytest.raises(DomainError) as caught:
        load_settings(environ={}, config_file=unknown)
    assert caught.value.code == "UNKNOWN_SETTING"
    broken = tmp_path / "b.toml"
    broken.write_text("calendar = \n")
    with pytest.raises(DomainError) as caught:
        load_settings(environ={}, config_file=broken)
    assert caught.value.code == "INVALID_CONFIG"


def test_settings_are_frozen() -> None:
    with pytest.raises(AttributeError):
        Settings().calendar = "XLON"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("EQUITOKEN_PRICE_MAX_AGE_DAYS", "99999999999999999999"),
        ("EQUITOKEN_PRICE_MAX_AGE_DAYS", "3651"),
        ("EQUITOKEN_BROKER_SLIPPAGE_BPS", "10000"),
        ("EQUITOKEN_BROKER_SLIPPAGE_BPS", "-1"),
    ],
)
def test_out_of_range_values_are_refused(variable: str, value: str) -> None:
    with pytest.raises(DomainError) as caught:
        load_settings(environ={variable: value})
    assert caught.value.code == "INVALID_SETTING"


def test_a_boolean_is_not_a_number_of_days(tmp_path: Path) -> None:
    config = tmp_path / "eq.toml"
    config.write_text("price_max_age_days = true\n")
    with pytest.raises(DomainError) as caught:
        load_settings(environ={}, config_file=config)
    assert caught.value.code == "INVALID_SETTING"


def test_passwords_are_masked_when_shown() -> None:
    from equitoken.app.settings import describe

    shown = describe(Settings(database_url="postgresql+psycopg://app:s3cret@db:5432/prod"))
    assert "s3cret" not in str(shown)
    assert shown["database_url"] == "postgresql+psycopg://app:***@db:5432/prod"


def test_chain_settings() -> None:
    assert load_settings(environ={}).chain_url == ""  # embedded by default
    url = "http://127.0.0.1:8545"
    assert load_settings(environ={"EQUITOKEN_CHAIN_URL": url}).chain_url == url
    with pytest.raises(DomainError) as caught:
        load_settings(environ={"EQUITOKEN_CHAIN_SEED": ""})
    assert caught.value.code == "INVALID_SETTING"
