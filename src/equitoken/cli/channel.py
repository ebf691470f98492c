"""What every operator command shares: where it runs (local store or ``--url``), and how it prints.

A command is one API request. Without ``--url`` it runs in process over the local store, as the local
operator; with ``--url`` it is sent to that server with the API key of ``--key``, else
``EQUITOKEN_API_KEY``, else the file ``--key-file``. Writes carry an ``Idempotency-Key`` — a new one,
or ``--idempotency-key`` to retry a command without doing it twice. The answer is printed from the
API's JSON either way, so the output is the same whichever way the command ran.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer

from equitoken.app.settings import load_settings
from equitoken.cli.output import emit_json, emit_pairs, emit_table
from equitoken.client import Body, Channel, Query
from equitoken.domain.errors import DomainError

KEY_VARIABLE = "EQUITOKEN_API_KEY"

UrlOption = Annotated[
    str | None,
    typer.Option("--url", help="Send the command to the server at this URL instead of the local store."),
]
KeyOption = Annotated[
    str | None, typer.Option("--key", help=f"API key for --url (default: ${KEY_VARIABLE}, then --key-file).")
]
KeyFileOption = Annotated[
    Path | None, typer.Option("--key-file", help="File holding the API key for --url (e.g. operator.key).")
]
IdempotencyOption = Annotated[
    str | None,
    typer.Option("--idempotency-key", help="Retry a write safely: the same key is answered once."),
]


@dataclass(frozen=True, slots=True)
class Target:
    """Where a command runs: the local store, or the server at ``url`` with a key."""

    url: str | None = None
    key: str | None = None
    key_file: Path | None = None
    idempotency: str | None = None

    def channel(self) -> Channel:
        """Open the channel the command runs through."""
        if self.url is None:
            if self.key is not None or self.key_file is not None:
                raise DomainError("USAGE", "--key and --key-file are for --url; a local command needs none")
            from equitoken.client.local import LocalChannel

            return LocalChannel(load_settings(), self.idempotency)
        from equitoken.client.remote import RemoteChannel

        return RemoteChannel(self.url, self._secret(), self.idempotency)

    def _secret(self) -> str | None:
        if self.key is not None:
            return self.key.strip()
        if os.environ.get(KEY_VARIABLE):
            return os.environ[KEY_VARIABLE].strip()
        if self.key_file is not None:
            try:
                return self.key_file.read_text().strip()
            except OSError as error:
                raise DomainError(
                    "INVALID_PATH", f"cannot read the key file {self.key_file}: {error.strerror or error}"
                ) from None
        return None  # the server answers API_KEY_MISSING


def target(url: str | None, key: str | None, key_file: Path | None, idempotency: str | None = None) -> Target:
    """Return the target the common options name."""
    return Target(url, key, key_file, idempotency)


def call(
    where: Target, method: str, path: str, *, query: Query | None = None, body: Body | None = None
) -> Any:
    """Run one request where the command runs and return its JSON answer."""
    channel = where.channel()
    try:
        return channel.call(method, path, query=query, body=body)
    finally:
        channel.close()


def show(data: Any, json_out: bool, columns: Sequence[str] | None = None) -> None:
    """Print an answer: JSON as the API gave it, else a table (a list) or key-value lines (an object)."""
    if json_out:
        emit_json(data)
    elif isinstance(data, list):
        emit_table([_flat(row) for row in data], columns)
    elif isinstance(data, Mapping):
        emit_pairs(_flat(data))
    else:
        typer.echo(str(data))


def _flat(row: Mapping[str, Any]) -> dict[str, Any]:
    """Return a row with nested lists and objects as compact JSON, so each fits in a cell."""
    return {
        k: json.dumps(v, separators=(",", ":")) if isinstance(v, list | dict) else v for k, v in row.items()
    }


def body(**fields: Any) -> dict[str, Any]:
    """Return a request body of the fields given (``None`` left out: the API's default applies)."""
    return {k: v for k, v in fields.items() if v is not None}
