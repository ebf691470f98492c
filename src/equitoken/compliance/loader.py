"""Read a policy from TOML text (already read by the caller), validating it against the schema.

Every refusal names the source, the line and the field (``rules[3].allow``). ``tomllib`` reports no
line numbers for well-formed TOML, so ``_Lines`` scans the text for where each key was written.

Schema (version 1)::

    schema = 1
    name = "direct-ownership"          # lower-case slug, the policy's stable name
    title = "..."                      # one line for listings
    model = "direct"                   # inventory | instant | direct
    description = "..."

    [[rules]]
    name = "reg-d-lockup"              # slug, unique in the policy
    kind = "lockup"                    # see KINDS: sanctions, verified, no_us_persons, country, category,
                                       # whitelist, lockup, flowback, holder_cap, max_balance, notional_limit
    actions = ["transfer"]             # buy, redeem, transfer, mint, burn, forced_transfer
    description = "..."
    cite = "17 CFR 230.144(d)(1)(ii)"  # optional
    when = { us_person = true }        # optional: us_person, countries_in, countries_not_in
    months = 12                        # the kind's own parameters
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any

from equitoken.compliance.actions import ActionKind, Regulation
from equitoken.compliance.countries import expand
from equitoken.compliance.investors import category
from equitoken.compliance.policy import Model, Policy
from equitoken.compliance.rules import (
    KINDS,
    Categories,
    Condition,
    Countries,
    Flowback,
    HolderCap,
    Lockup,
    MaxBalance,
    NotionalLimit,
    NoUsPersons,
    Rule,
    RuleParams,
    Sanctions,
    Verified,
    Whitelist,
)
from equitoken.domain.errors import DomainError
from equitoken.domain.values import Money, Shares

SCHEMA_VERSION = 1
_SLUG = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
_KEY = re.compile(r'^\s*("?)([A-Za-z0-9_\-]+)\1\s*=')
_TABLE = re.compile(r"^\s*(\[\[?)\s*([A-Za-z0-9_\-.]+)\s*\]\]?")
_TOP = {"schema", "name", "title", "model", "description", "rules"}
_COMMON = {"name", "kind", "actions", "description", "cite", "when"}
_PARAMS: dict[str, set[str]] = {
    "sanctions": set(),
    "verified": set(),
    "no_us_persons": set(),
    "whitelist": set(),
    "country": {"allow", "deny"},
    "category": {"allow"},
    "lockup": {"months", "regulations"},
    "flowback": {"days", "regulations"},
    "holder_cap": {"max_holders", "max_non_accredited"},
    "max_balance": {"max_shares"},
    "notional_limit": {"max_per_order", "max_per_window", "window_hours", "currency"},
}
_WHEN = {"us_person", "countries_in", "countries_not_in"}

Path = tuple[str | int, ...]


class _Lines:
    """Where each key of a TOML text was written: ``("rules", 2, "allow") -> 41``."""

    def __init__(self, text: str) -> None:
        self.at: dict[Path, int] = {}
        table: Path = ()
        arrays: dict[str, int] = {}
        in_string = False
        for number, line in enumerate(text.splitlines(), start=1):
            if in_string:
                in_string = line.count('"""') % 2 == 0
                continue
            header = _TABLE.match(line)
            if header:
                name = header.group(2)
                if header.group(1) == "[[":
                    arrays[name] = arrays.get(name, -1) + 1
                    table = (name, arrays[name])
                else:
                    table = (name,)
                self.at.setdefault(table, number)
                continue
            key = _KEY.match(line)
            if key:
                self.at.setdefault((*table, key.group(2)), number)
            in_string = line.count('"""') % 2 == 1

    def line(self, path: Path) -> int:
        """Return the line of ``path``, else of its nearest written parent, else 1."""
        while path:
            if path in self.at:
                return self.at[path]
            path = path[:-1]
        return 1


def _dotted(path: Path) -> str:
    text = ""
    for part in path:
        text += f"[{part + 1}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text or "(top)"


class _Reader:
    """Validate one policy's data, refusing with source, line and field."""

    def __init__(self, source: str, lines: _Lines) -> None:
        self.source = source
        self.lines = lines

    def fail(self, path: Path, why: str) -> DomainError:
        line = self.lines.line(path)
        return DomainError("INVALID_POLICY", f"{self.source}, line {line}, field {_dotted(path)}: {why}")

    def keys(self, data: Mapping[str, Any], allowed: set[str], path: Path) -> None:
        for key in sorted(set(data) - allowed):
            raise self.fail((*path, key), f"unknown field (expected one of: {', '.join(sorted(allowed))})")

    def get(self, data: Mapping[str, Any], key: str, kind: type, path: Path, *, required: bool = True) -> Any:
        if key not in data:
            if required:
                raise self.fail((*path, key), "missing")
            return None
        value = data[key]
        if kind is int and (isinstance(value, bool) or not isinstance(value, int)):
            raise self.fail((*path, key), f"expected an integer, got {value!r}")
        if not isinstance(value, kind):
            raise self.fail((*path, key), f"expected {_NAMES[kind]}, got {value!r}")
        return value

    def text(self, data: Mapping[str, Any], key: str, path: Path, *, required: bool = True) -> str:
        value = self.get(data, key, str, path, required=required)
        if value is not None and not value.strip() and required:
            raise self.fail((*path, key), "must not be empty")
        return "" if value is None else str(value).strip()

    def words(
        self, data: Mapping[str, Any], key: str, path: Path, *, required: bool = True
    ) -> list[str] | None:
        value = self.get(data, key, list, path, required=required)
        if value is None:
            return None
        if not value or not all(isinstance(v, str) for v in value):
            raise self.fail((*path, key), "expected a non-empty list of strings")
        return list(value)

    def each(self, values: list[str], convert: Callable[[str], Any], path: Path) -> list[Any]:
        out = []
        for value in values:
            try:
                out.append(convert(value))
            except (DomainError, ValueError) as error:
                why = error.message if isinstance(error, DomainError) else f"{value!r} is not valid"
                raise self.fail(path, why) from None
        return out

    def positive(self, data: Mapping[str, Any], key: str, path: Path, *, required: bool = True) -> int | None:
        value = self.get(data, key, int, path, required=required)
        if value is not None and value <= 0:
            raise self.fail((*path, key), f"must be positive, got {value}")
        return None if value is None else int(value)

    def decimal(self, data: Mapping[str, Any], key: str, path: Path, make: Callable[[str], Any]) -> Any:
        value = self.get(data, key, str, path, required=False)
        if value is None:
            return None
        try:
            made = make(value)
        except DomainError as error:
            raise self.fail((*path, key), error.message) from None
        return made


_NAMES: dict[type, str] = {
    str: "a string",
    list: "a list",
    dict: "a table",
    bool: "true or false",
    int: "an integer",
}


def parse_policy(text: str, source: str) -> Policy:
    """Return the policy written in TOML ``text``, or refuse it naming ``source``, the line and the field."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise DomainError("INVALID_POLICY", f"{source}: not valid TOML: {error}") from None
    reader = _Reader(source, _Lines(text))
    reader.keys(data, _TOP, ())
    version = reader.get(data, "schema", int, ())
    if version != SCHEMA_VERSION:
        raise reader.fail(
            ("schema",), f"unsupported schema version {version} (this release reads {SCHEMA_VERSION})"
        )
    name = reader.text(data, "name", ())
    if not _SLUG.match(name):
        raise reader.fail(("name",), f"{name!r} is not a lower-case slug like direct-ownership")
    model_text = reader.text(data, "model", ())
    try:
        model = Model(model_text)
    except ValueError:
        raise reader.fail(
            ("model",), f"{model_text!r} is not one of {', '.join(m.value for m in Model)}"
        ) from None
    raw_rules = reader.get(data, "rules", list, ())
    if not raw_rules:
        raise reader.fail(("rules",), "a policy needs at least one rule")
    rules: list[Rule] = []
    for index, raw in enumerate(raw_rules):
        path: Path = ("rules", index)
        if not isinstance(raw, dict):
            raise reader.fail(path, "expected a [[rules]] table")
        rule = _rule(reader, raw, path)
        if any(r.name == rule.name for r in rules):
            raise reader.fail((*path, "name"), f"rule {rule.name!r} is named twice")
        rules.append(rule)
    return Policy(
        name, reader.text(data, "title", ()), model, reader.text(data, "description", ()), tuple(rules)
    )


def _rule(reader: _Reader, raw: Mapping[str, Any], path: Path) -> Rule:
    name = reader.text(raw, "name", path)
    if not _SLUG.match(name):
        raise reader.fail((*path, "name"), f"{name!r} is not a lower-case slug like reg-d-lockup")
    kind_name = reader.text(raw, "kind", path)
    kind = KINDS.get(kind_name)
    if kind is None:
        raise reader.fail((*path, "kind"), f"{kind_name!r} is not a rule kind ({', '.join(sorted(KINDS))})")
    reader.keys(raw, _COMMON | _PARAMS[kind_name], path)
    action_names = reader.words(raw, "actions", path) or []
    actions = frozenset(reader.each(action_names, ActionKind, (*path, "actions")))
    for action in sorted(actions - kind.actions):
        raise reader.fail(
            (*path, "actions"),
            f"a {kind_name} rule cannot govern {action} (it can: {', '.join(sorted(kind.actions))})",
        )
    return Rule(
        name,
        _params(reader, kind_name, raw, path),
        actions,
        reader.text(raw, "description", path),
        _when(reader, raw, path),
        reader.text(raw, "cite", path, required=False),
    )


def _when(reader: _Reader, raw: Mapping[str, Any], path: Path) -> Condition:
    when = reader.get(raw, "when", dict, path, required=False)
    if when is None:
        return Condition()
    where: Path = (*path, "when")
    reader.keys(when, _WHEN, where)
    us_person = reader.get(when, "us_person", bool, where, required=False)
    lists = {}
    for key in ("countries_in", "countries_not_in"):
        words = reader.words(when, key, where, required=False)
        lists[key] = None if words is None else _countries(reader, words, (*where, key))
    condition = Condition(us_person, lists["countries_in"], lists["countries_not_in"])
    if condition.always:
        raise reader.fail(
            where, "an empty condition: drop `when` or give us_person / countries_in / countries_not_in"
        )
    return condition


def _countries(reader: _Reader, words: list[str], path: Path) -> frozenset[str]:
    try:
        return expand(words)
    except DomainError as error:
        raise reader.fail(path, error.message) from None


def _params(reader: _Reader, kind: str, raw: Mapping[str, Any], path: Path) -> RuleParams:
    match kind:
        case "sanctions":
            return Sanctions()
        case "verified":
            return Verified()
        case "no_us_persons":
            return NoUsPersons()
        case "whitelist":
            return Whitelist()
        case "country":
            allow = reader.words(raw, "allow", path, required=False)
            deny = reader.words(raw, "deny", path, required=False)
            if allow is None and deny is None:
                raise reader.fail((*path, "allow"), "a country rule needs allow, deny or both")
            return Countries(
                None if allow is None else _countries(reader, allow, (*path, "allow")),
                frozenset() if deny is None else _countries(reader, deny, (*path, "deny")),
            )
        case "category":
            names = reader.words(raw, "allow", path) or []
            return Categories(frozenset(reader.each(names, category, (*path, "allow"))))
        case "lockup" | "flowback":
            unit = "months" if kind == "lockup" else "days"
            length = reader.positive(raw, unit, path)
            assert length is not None
            regs = frozenset(
                reader.each(reader.words(raw, "regulations", path) or [], Regulation, (*path, "regulations"))
            )
            return Lockup(length, regs) if kind == "lockup" else Flowback(length, regs)
        case "holder_cap":
            cap = reader.positive(raw, "max_holders", path)
            assert cap is not None
            return HolderCap(cap, reader.positive(raw, "max_non_accredited", path, required=False))
        case "max_balance":
            shares = reader.decimal(raw, "max_shares", path, Shares)
            if shares is None:
                raise reader.fail((*path, "max_shares"), 'missing (a decimal string, e.g. "1000000")')
            return MaxBalance(shares)
        case _:
            return _notional(reader, raw, path)


def _notional(reader: _Reader, raw: Mapping[str, Any], path: Path) -> NotionalLimit:
    currency = reader.text(raw, "currency", path, required=False) or "USD"
    try:
        Money(0, currency)
    except DomainError as error:
        raise reader.fail((*path, "currency"), error.message) from None

    def money(text: str) -> Money:
        amount = Money(text, currency)
        if amount.amount <= 0:
            raise DomainError("NON_POSITIVE", f"a limit must be positive, got {text}")
        return amount

    per_order = reader.decimal(raw, "max_per_order", path, money)
    per_window = reader.decimal(raw, "max_per_window", path, money)
    hours = reader.positive(raw, "window_hours", path, required=False)
    if per_order is None and per_window is None:
        raise reader.fail(
            (*path, "max_per_order"), "a notional limit needs max_per_order, max_per_window or both"
        )
    if (per_window is None) != (hours is None):
        raise reader.fail((*path, "window_hours"), "max_per_window and window_hours go together")
    return NotionalLimit(per_order, per_window, None if hours is None else timedelta(hours=hours))
