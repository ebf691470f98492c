"""One frozen, validated settings object, read from defaults, a TOML file and ``EQUITOKEN_*`` variables.

Precedence, lowest first: built-in defaults (which run offline: SQLite, embedded chain, simulated
broker) → the TOML file (``EQUITOKEN_CONFIG``, else ``./equitoken.toml`` if present) → environment.
Every field is listed in ``FIELDS`` with its variable name, so the README table and ``equitoken config
show`` cannot drift from the code.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields, replace
from datetime import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.engine import make_url

from equitoken.domain.chains import DEVELOPMENT_SEED
from equitoken.domain.errors import DomainError
from equitoken.domain.ids import to_checksum_address
from equitoken.domain.values import Bps, Money

_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything an operator can configure. Build with ``load_settings``; never mutate."""

    data_dir: Path = Path(".equitoken")
    """Where the SQLite database and other local state live."""
    database_url: str = ""
    """SQLAlchemy URL; empty means SQLite in WAL mode at ``data_dir/equitoken.db``."""
    group_commit: bool = False
    """Let a batch of orders (``IssuanceEngine.submit_many``) share the store's durable commits: an
    order's closing unit of work rides on the next one's fsync, and every order of the batch is
    answered only after the batch's last fsync. Off: every unit of work waits for its own."""
    calendar: str = "XNYS"
    """Exchange calendar code (exchange_calendars)."""
    pre_market_open: time = time(4, 0)
    """Start of the pre-market session, exchange local time (NYSE Arca early session)."""
    after_hours_close: time = time(20, 0)
    """End of the after-hours session, exchange local time."""
    early_close_after_hours_close: time = time(17, 0)
    """End of the after-hours session on early-close days, exchange local time."""
    broker_slippage_bps: Bps = Bps(5)
    """Simulated broker: fill price = reference price moved against the order by this much."""
    price_max_age_days: int = 5
    """A price whose bar is older than this many calendar days is stale, even if no session was missed."""
    chain_url: str = ""
    """JSON-RPC URL of an EVM node; ``embedded:///abs/path/chain.log`` means the in-process EVM with its
    blocks kept in that file (it survives restarts, like a node); empty means a fresh in-process EVM."""
    chain_seed: str = DEVELOPMENT_SEED
    """Seed the development key ring derives role and investor keys from (never for real funds)."""
    fee_spread_bps: Bps = Bps(10)
    """Spread charged against the investor in the regular session (the instant-model leader's 10 bps)."""
    fee_off_hours_spread_bps: Bps = Bps(30)
    """Spread off-hours, when the price can gap before a hedge can be placed."""
    fee_fixed_usd: Money = Money(0)
    """A fixed fee per trade on top of the spread (zero unless configured)."""
    risk_window_hours: int = 24
    """The rolling window the notional limits count over."""
    risk_per_investor_usd: Money | None = None
    """Notional one investor may commit per window (empty: no limit)."""
    risk_per_symbol_usd: Money | None = None
    """Notional the desk may commit in one symbol per window (empty: no limit)."""
    risk_global_usd: Money | None = None
    """Notional the desk may commit in all symbols per window (empty: no limit)."""
    price_band_bps: Bps = Bps(500)
    """A limit price further than this from the reference is refused (a fat finger)."""
    sanctions_file: Path | None = None
    """The operator's sanctions CSV; empty means the shipped illustrative sample."""
    trustee_key_file: Path | None = None
    """A file holding the trustee's secp256k1 private key (64 hex digits) that signs attestations;
    empty means a development key derived from ``chain_seed`` — public, never for real attestations."""
    log_level: str = "WARNING"
    log_format: str = "json"
    """``json`` (one object per line, for machines) or ``text``."""
    api_rate_limit: int = 100
    """Requests per second each API key may make (bursts up to twice that); beyond it, 429."""
    serve_url: str = ""
    """The URL other ``serve`` processes reach this one at when it runs the engine; empty means
    ``http://HOST:PORT`` from ``--host`` and ``--port``."""
    lease_retry_ms: int = 500
    """How often a follower tries to take the engine's lease, and the leader checks it still holds it."""
    public_chain_url: str = ""
    """The JSON-RPC URL the public transparency page gives browsers to read ``ReserveRegistry`` with;
    empty means none (the page then checks proofs against the attestation and says so). Never taken
    from ``chain_url`` by itself: a node URL often carries an API key, and this one is published."""
    price_signer: str = ""
    """The address (EIP-55) whose EIP-191 signature an operator-posted price must carry; empty: the
    service takes no posted prices (``POST /v1/prices`` is refused)."""
    price_feed_max_age_seconds: int = 300
    """During a regular session, a posted price older than this is stale (outside one, the last price
    stands until the next open, within ``price_max_age_days``)."""
    reserve_heartbeat_hours: int = 26
    """How old a listing's latest reserve-feed round may be before its token refuses mints
    (``RESERVES_STALE``); set on the token when an operator switches the listing's mint gate on."""
    attest_every_hours: int = 24
    """Where a listing's mint gate is on, the service attests once the feed's latest round is this old
    (less than ``reserve_heartbeat_hours``, so a round is posted before the token calls it stale)."""

    @property
    def effective_database_url(self) -> str:
        """Return the database URL to use, defaulting to SQLite under ``data_dir``."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'equitoken.db').resolve()}"


def _time(value: Any) -> time:
    if isinstance(value, time):
        return value
    if isinstance(value, str) and re.match(r"^\d{2}:\d{2}$", value):
        hours, minutes = (int(part) for part in value.split(":"))
        if hours < 24 and minutes < 60:
            return time(hours, minutes)
    raise ValueError("expected HH:MM")


def _slippage(value: Any) -> Bps:
    if isinstance(value, float):  # TOML numbers with a point arrive as float: take their text
        value = repr(value)
    bps = Bps(value)
    if not 0 <= bps.value < 1000:  # 10 % is already absurd; at 100 % a sell would fill at zero
        raise ValueError("expected 0 to 999.9999 bps")
    return bps


def _spread(value: Any) -> Bps:
    if isinstance(value, float):
        value = repr(value)
    bps = Bps(value)
    if not 0 <= bps.value < 1000:
        raise ValueError("expected 0 to 999.9999 bps")
    return bps


_MAX_USD = Money(10**15)
"""No configured amount is larger (a quadrillion dollars): a bound, so ``1e999`` is refused here rather
than overflowing the first fee or limit computed with it."""


def _usd(value: Any) -> Money:
    if isinstance(value, float):
        value = repr(value)
    money = Money(str(value).strip())  # past any range: NUMBER_OUT_OF_RANGE from the value type
    if money.amount < 0:
        raise ValueError("expected a non-negative USD amount")
    if money.amount > _MAX_USD.amount:
        raise ValueError(f"expected at most {_MAX_USD.amount:,} USD")
    return money


def _limit(value: Any) -> Money | None:
    if str(value).strip() == "":
        return None
    money = _usd(value)
    if money.is_zero():
        raise ValueError("expected a positive USD amount, or empty for no limit")
    return money


def _hours(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError("expected a whole number of hours")
    number = int(value)
    if not 1 <= number <= 24 * 366:
        raise ValueError("expected 1 to 8784 hours")
    return number


def _optional_path(value: Any) -> Path | None:
    text = str(value).strip()
    return Path(text).expanduser() if text else None


def _existing_file(value: Any) -> Path | None:
    """Parse an optional path that must name a readable file when given (checked when settings load)."""
    path = _optional_path(value)
    if path is not None and not path.is_file():
        raise ValueError("no such file" if not path.exists() else "not a regular file")
    return path


def _rate(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError("expected a whole number of requests per second")
    number = int(value)
    if not 1 <= number <= 100_000:
        raise ValueError("expected 1 to 100000 requests per second")
    return number


def _days(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError("expected a whole number of days")
    number = int(value)
    if not 0 <= number <= 3650:
        raise ValueError("expected 0 to 3650 days")
    return number


def _public_chain_url(value: Any) -> str:
    text = _chain_url(value)
    if text.startswith("embedded:"):
        raise ValueError("a browser reads a chain over http(s) JSON-RPC: not an embedded chain")
    if text and (urlsplit(text).username is not None or urlsplit(text).password is not None):
        raise ValueError("the URL is published to every visitor: it must not carry a user or password")
    return text


def _address(value: Any) -> str:
    text = str(value).strip()
    if not text:
        return ""
    if not re.fullmatch(r"0x[0-9a-fA-F]{40}", text):
        raise ValueError("expected an address: 0x and 40 hex digits")
    return to_checksum_address(text)


def _seconds(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).strip().isdigit():
        raise ValueError("expected a whole number of seconds")
    number = int(value)
    if not 1 <= number <= 86400:
        raise ValueError("expected 1 to 86400 seconds")
    return number


def _chain_url(value: Any) -> str:
    text = str(value).strip()
    if not text:
        return text
    if text.startswith("embedded:"):
        # The durable embedded chain's block log (``adapters.chain.durable.chain_log_path`` reads it).
        parts = urlsplit(text)
        if parts.netloc or parts.query or parts.fragment or not parts.path.startswith("/"):
            raise ValueError("expected embedded:///abs/path/chain.log: three slashes, an absolute path")
        if parts.path.endswith("/"):
            raise ValueError("expected embedded:///abs/path/chain.log: the path names a file")
        return text
    if not re.match(r"^https?://[^\s/]+", text):
        raise ValueError(
            "expected an http(s):// JSON-RPC URL, embedded:///abs/path/chain.log for a durable embedded"
            " chain, or empty for a fresh embedded chain"
        )
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - reading it validates it (a bad port or IPv6 bracket raises)
    except ValueError as error:
        raise ValueError(f"not a URL ({error})") from None
    if not parts.hostname:
        raise ValueError("the URL names no host")
    return text


def _serve_url(value: Any) -> str:
    text = str(value).strip().rstrip("/")
    if not text:
        return text
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("expected an http(s):// URL this server is reached at, e.g. http://10.0.0.5:8000")
    try:
        parts.port  # noqa: B018 - reading it validates it
    except ValueError as error:
        raise ValueError(f"not a URL ({error})") from None
    if parts.query or parts.fragment or parts.path not in ("", "/"):
        raise ValueError("expected scheme, host and port only: no path, query or fragment")
    return text


def _interval_ms(value: Any) -> int:
    if isinstance(value, bool) or not str(value).strip().isdigit():
        raise ValueError("expected a whole number of milliseconds")
    number = int(str(value).strip())
    if not 50 <= number <= 60_000:
        raise ValueError("expected 50 to 60000 ms")
    return number


def _database_url(value: Any) -> str:
    text = str(value).strip()
    if not text:
        return text
    try:
        url = make_url(text)
    except Exception as error:  # sqlalchemy raises ArgumentError and ValueError for different faults
        raise ValueError(f"not a database URL ({type(error).__name__})") from None
    if url.get_backend_name() not in ("sqlite", "postgresql"):
        raise ValueError("expected a sqlite:// or postgresql:// URL, or empty for SQLite under data_dir")
    return text


def _data_dir(value: Any) -> Path:
    text = str(value).strip()
    if not text:  # Path("") is the working directory: state would land wherever the command ran
        raise ValueError("expected a directory; leave the setting out for the default .equitoken")
    return Path(text).expanduser()


def _calendar(value: Any) -> str:
    code = str(value).strip().upper()
    if code == "XNYS":
        return code  # the default; checking it would cost importing the calendar library on every command
    import exchange_calendars  # only when another calendar is configured

    names = {name.upper(): name for name in exchange_calendars.get_calendar_names(include_aliases=True)}
    if code not in names:
        raise ValueError("not an exchange_calendars code (e.g. XNYS, XNAS, XLON)")
    return str(names[code])


def _seed(value: Any) -> str:
    text = str(value)
    if not 1 <= len(text) <= 200:
        raise ValueError("expected 1 to 200 characters")
    return text


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off", ""):
        return False
    raise ValueError("expected true or false")


def _choice(*options: str) -> Callable[[Any], str]:
    def parse(value: Any) -> str:
        text = str(value).strip()
        if text.upper() in options:
            return text.upper()
        if text.lower() in options:
            return text.lower()
        raise ValueError(f"expected one of {', '.join(options)}")

    return parse


FIELDS: dict[str, tuple[str, Callable[[Any], Any]]] = {
    "data_dir": ("EQUITOKEN_DATA_DIR", _data_dir),
    "database_url": ("EQUITOKEN_DATABASE_URL", _database_url),
    "group_commit": ("EQUITOKEN_GROUP_COMMIT", _flag),
    "calendar": ("EQUITOKEN_CALENDAR", _calendar),
    "pre_market_open": ("EQUITOKEN_PRE_MARKET_OPEN", _time),
    "after_hours_close": ("EQUITOKEN_AFTER_HOURS_CLOSE", _time),
    "early_close_after_hours_close": ("EQUITOKEN_EARLY_CLOSE_AFTER_HOURS_CLOSE", _time),
    "broker_slippage_bps": ("EQUITOKEN_BROKER_SLIPPAGE_BPS", _slippage),
    "price_max_age_days": ("EQUITOKEN_PRICE_MAX_AGE_DAYS", _days),
    "chain_url": ("EQUITOKEN_CHAIN_URL", _chain_url),
    "chain_seed": ("EQUITOKEN_CHAIN_SEED", _seed),
    "fee_spread_bps": ("EQUITOKEN_FEE_SPREAD_BPS", _spread),
    "fee_off_hours_spread_bps": ("EQUITOKEN_FEE_OFF_HOURS_SPREAD_BPS", _spread),
    "fee_fixed_usd": ("EQUITOKEN_FEE_FIXED_USD", _usd),
    "risk_window_hours": ("EQUITOKEN_RISK_WINDOW_HOURS", _hours),
    "risk_per_investor_usd": ("EQUITOKEN_RISK_PER_INVESTOR_USD", _limit),
    "risk_per_symbol_usd": ("EQUITOKEN_RISK_PER_SYMBOL_USD", _limit),
    "risk_global_usd": ("EQUITOKEN_RISK_GLOBAL_USD", _limit),
    "price_band_bps": ("EQUITOKEN_PRICE_BAND_BPS", _spread),
    "sanctions_file": ("EQUITOKEN_SANCTIONS_FILE", _existing_file),
    "trustee_key_file": ("EQUITOKEN_TRUSTEE_KEY_FILE", _existing_file),
    "log_level": ("EQUITOKEN_LOG_LEVEL", _choice(*_LOG_LEVELS)),
    "log_format": ("EQUITOKEN_LOG_FORMAT", _choice("json", "text")),
    "api_rate_limit": ("EQUITOKEN_API_RATE_LIMIT", _rate),
    "serve_url": ("EQUITOKEN_SERVE_URL", _serve_url),
    "lease_retry_ms": ("EQUITOKEN_LEASE_RETRY_MS", _interval_ms),
    "public_chain_url": ("EQUITOKEN_PUBLIC_CHAIN_URL", _public_chain_url),
    "price_signer": ("EQUITOKEN_PRICE_SIGNER", _address),
    "price_feed_max_age_seconds": ("EQUITOKEN_PRICE_FEED_MAX_AGE_SECONDS", _seconds),
    "reserve_heartbeat_hours": ("EQUITOKEN_RESERVE_HEARTBEAT_HOURS", _hours),
    "attest_every_hours": ("EQUITOKEN_ATTEST_EVERY_HOURS", _hours),
}
assert set(FIELDS) == {f.name for f in fields(Settings)}, "every setting needs a variable and a parser"


def _parse(name: str, raw: Any, origin: str) -> Any:
    try:
        return FIELDS[name][1](raw)
    except (ValueError, TypeError, DomainError) as error:
        detail = error.message if isinstance(error, DomainError) else str(error)
        shown = repr(raw) if len(repr(raw)) <= 80 else f"{repr(raw)[:60]}… ({len(str(raw))} characters)"
        raise DomainError("INVALID_SETTING", f"{name} from {origin}: {shown} is invalid ({detail})") from None


def with_setting(settings: Settings, name: str, raw: Any, origin: str) -> Settings:
    """Return ``settings`` with ``name`` set from ``raw`` (a command-line option), validated as if loaded."""
    return replace(settings, **{name: _parse(name, raw, origin)})


def load_settings(environ: Mapping[str, str] | None = None, config_file: Path | None = None) -> Settings:
    """Return validated settings from defaults, the TOML file and the environment."""
    env = os.environ if environ is None else environ
    path = config_file or (Path(env["EQUITOKEN_CONFIG"]) if env.get("EQUITOKEN_CONFIG") else None)
    values: dict[str, Any] = {}
    if path is None and Path("equitoken.toml").is_file():
        path = Path("equitoken.toml")
    if path is not None:
        try:
            table = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise DomainError("CONFIG_NOT_FOUND", f"config file {path} does not exist") from None
        except IsADirectoryError:
            raise DomainError("INVALID_CONFIG", f"config file {path} is a directory, not a file") from None
        except UnicodeDecodeError:
            raise DomainError("INVALID_CONFIG", f"config file {path} is not UTF-8 text") from None
        except OSError as error:
            reason = error.strerror or type(error).__name__
            raise DomainError("INVALID_CONFIG", f"config file {path} cannot be read ({reason})") from None
        except (tomllib.TOMLDecodeError, RecursionError) as error:
            raise DomainError("INVALID_CONFIG", f"{path}: {error}") from None
        section = table.get("equitoken", table)
        if not isinstance(section, dict):
            raise DomainError("INVALID_CONFIG", f"{path}: [equitoken] must be a table of settings")
        for name, raw in section.items():
            if name not in FIELDS:
                raise DomainError("UNKNOWN_SETTING", f"{path}: {name!r} is not a setting")
            values[name] = _parse(name, raw, str(path))
    for name, (variable, _) in FIELDS.items():
        if variable in env:
            values[name] = _parse(name, env[variable], variable)
    settings = Settings(**values)
    # Only the order of the extended-hours bounds is checked here: the regular session comes from the
    # calendar day by day, and the calendar clips these bounds to it (no market hour is written here).
    if not settings.pre_market_open < settings.early_close_after_hours_close <= settings.after_hours_close:
        raise DomainError(
            "INVALID_SETTING",
            "pre_market_open must precede early_close_after_hours_close,"
            " which may not follow after_hours_close",
        )
    if not settings.attest_every_hours < settings.reserve_heartbeat_hours:
        raise DomainError(
            "INVALID_SETTING",
            f"attest_every_hours ({settings.attest_every_hours}) must be less than reserve_heartbeat_hours"
            f" ({settings.reserve_heartbeat_hours}): a gated listing's feed would go stale between two"
            " attestations and its mints stop",
        )
    return settings


def describe(settings: Settings) -> dict[str, str]:
    """Return each setting's current value as text, for ``equitoken config show`` (passwords masked)."""
    shown = {name: _shown(getattr(settings, name)) for name in FIELDS}
    shown["database_url"] = mask_password(settings.database_url)
    return shown | {"effective_database_url": mask_password(settings.effective_database_url)}


def mask_password(url: str) -> str:
    """Return ``url`` with any password replaced by ``***`` (``scheme://user:***@host/db``)."""
    return re.sub(r"^([a-z0-9+.\-]+://[^:/@]*:)[^@]*@", r"\1***@", url, flags=re.IGNORECASE)


def _shown(value: Any) -> str:
    return "" if value is None else str(value)
