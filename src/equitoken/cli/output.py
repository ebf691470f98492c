"""How every command prints: a table for people, JSON for machines, one-line errors with a reason code."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from equitoken.domain.errors import DomainError
from equitoken.domain.values import canonical_decimal

EXIT_BAD_INPUT = 2


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return canonical_decimal(value)
    if isinstance(value, datetime | date):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Path):
        return str(value)
    return str(value)


def emit_json(data: Any) -> None:
    """Print ``data`` as indented JSON (Decimals as strings, instants as ISO-8601 UTC with ``Z``)."""
    typer.echo(json.dumps(data, indent=2, default=_default))


def emit_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None) -> None:
    """Print ``rows`` as an aligned text table."""
    if not rows:
        typer.echo("(nothing)")
        return
    cols = list(columns or rows[0].keys())
    cells = [[_cell(row.get(col)) for col in cols] for row in rows]
    widths = [max(len(col), *(len(r[i]) for r in cells)) for i, col in enumerate(cols)]
    typer.echo("  ".join(col.ljust(w) for col, w in zip(cols, widths, strict=True)))
    typer.echo("  ".join("-" * w for w in widths))
    for r in cells:
        typer.echo("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)))


def emit_pairs(pairs: Mapping[str, Any]) -> None:
    """Print a mapping as ``key  value`` lines."""
    width = max((len(k) for k in pairs), default=0)
    for key, value in pairs.items():
        typer.echo(f"{key.ljust(width)}  {_cell(value)}")


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime | date | Decimal | Enum):
        return str(_default(value))
    return str(value)


def fail(code: str, message: str) -> NoReturn:
    """Print a one-line error with its reason code to stderr and exit with status 2."""
    typer.echo(f"equitoken: error {code}: {message}", err=True)
    raise typer.Exit(EXIT_BAD_INPUT)


def output_dir(text: str, what: str) -> Path:
    """Return ``text`` as a directory to write ``what`` into, refusing one that cannot be before any work.

    An empty path is refused (it would mean the working directory, which nobody asks for by typing
    nothing); so is a path that is, or lies under, a file.
    """
    if not text.strip():
        fail("INVALID_PATH", f"give a directory for {what}; an empty path is not one")
    path = Path(text)
    for candidate in (path, *path.parents):
        if candidate.exists():
            if not candidate.is_dir():
                fail("OUT_NOT_A_DIRECTORY", f"{candidate} is a file, so {what} cannot be written to {path}")
            break
    return path


def output_file(text: str, what: str) -> Path:
    """Return ``text`` as a file to write ``what`` to; refuse an empty path, a directory, a file parent."""
    if not text.strip():
        fail("INVALID_PATH", f"give a file for {what}; an empty path is not one")
    path = Path(text)
    if path.is_dir():
        fail("OUT_IS_A_DIRECTORY", f"{path} is a directory; give a file name for {what}")
    output_dir(str(path.parent), what)
    return path


def parse_instant(text: str | None, now: datetime) -> datetime:
    """Parse an ISO-8601 instant with a zone (``Z`` or an offset); ``None`` means ``now``.

    Refuses by raising ``DomainError`` (``INVALID_TIMESTAMP``, ``NAIVE_DATETIME``), which ``cli.main.run``
    turns into one line and exit status 2.
    """
    if text is None:
        return now
    try:
        moment = datetime.fromisoformat(text.strip().replace("z", "Z"))
    except ValueError:
        raise DomainError(
            "INVALID_TIMESTAMP", f"{text!r} is not an ISO-8601 instant (e.g. 2026-11-27T18:30:00Z)"
        ) from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise DomainError("NAIVE_DATETIME", f"{text!r} has no time zone; add Z or an offset like +00:00")
    return moment


JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
"""The ``--json`` option every data-printing command takes."""
