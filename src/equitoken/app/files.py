"""Operator files: text that must be UTF-8, JSON that must parse — refused with a reason, never a crash.

Every command that reads a file the user names goes through here, so a directory, a binary file, JSON
nested 100,000 deep or an integer of 5,000 digits gets the same one-line refusal everywhere.
"""

from __future__ import annotations

import json
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from equitoken.domain.errors import DomainError
from equitoken.domain.jsontext import nests_deeper_than

MAX_FILE_BYTES = 64 * 1024 * 1024
"""No file an operator hands a command is larger (a million-holder CSV is ~50 MB)."""


def read_text(path: Path | Traversable, what: str) -> str:
    """Return the UTF-8 text of ``path`` (``FILE_UNREADABLE``, ``FILE_NOT_UTF8``, ``FILE_TOO_LARGE``)."""
    try:
        if isinstance(path, Path) and path.is_file() and path.stat().st_size > MAX_FILE_BYTES:
            raise DomainError("FILE_TOO_LARGE", f"{what} {path} is larger than {MAX_FILE_BYTES >> 20} MiB")
        data = path.read_bytes()
    except IsADirectoryError:
        raise DomainError("FILE_UNREADABLE", f"{what} {path} is a directory, not a file") from None
    except OSError as error:
        raise DomainError(
            "FILE_UNREADABLE", f"cannot read {what} {path}: {error.strerror or error}"
        ) from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise DomainError(
            "FILE_NOT_UTF8", f"{what} {path} is not UTF-8 text (byte {error.start} cannot be decoded)"
        ) from None


MAX_JSON_NESTING = 64
"""Deeper JSON is refused before parsing: the C parser can exhaust the C stack first (a crash, not an
error) when the interpreter's recursion limit was raised."""

def parse_json(text: str, where: str, code: str) -> Any:
    """Parse JSON text, refusing what does not parse with ``code`` and where it went wrong.

    Python's parser raises ``RecursionError`` for deep nesting and ``ValueError`` for integers past its
    digit limit; both are bad input here, not crashes.
    """
    if nests_deeper_than(text, MAX_JSON_NESTING):
        raise DomainError(code, f"{where}: the JSON nests deeper than {MAX_JSON_NESTING} levels")
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise DomainError(
            code, f"{where}, line {error.lineno}, column {error.colno}: not valid JSON ({error.msg})"
        ) from None
    except RecursionError:
        raise DomainError(code, f"{where}: the JSON nests too deeply to be a real document") from None
    except ValueError as error:  # e.g. "Exceeds the limit (4300 digits) for integer string conversion"
        raise DomainError(code, f"{where}: {str(error).split(';')[0]}") from None
