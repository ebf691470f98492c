"""Clients of the platform's service: the CLI's operator commands run through one of them.

A ``Channel`` takes one request of the REST API (method, path, query, body) and returns its JSON
answer, or raises the refusal as a ``DomainError`` with the problem's code and detail. Two kinds:

- ``client.remote.RemoteChannel``: HTTP to a running ``equitoken serve`` (``--url``), with an API key
  and an ``Idempotency-Key`` on every write;
- ``client.local.LocalChannel``: the same application in process over the local store, as the local
  operator (``app.access.LOCAL``) — the same route, the same service-layer call, the same answer.

So a command is written once, as a request, and prints the same whichever way it ran.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

Query = Mapping[str, str | int | bool | None]
Body = Mapping[str, Any]


class Channel(Protocol):
    """Send one API request and return its JSON answer (refusals raised as ``DomainError``)."""

    def call(self, method: str, path: str, *, query: Query | None = None, body: Body | None = None) -> Any:
        """Send ``method path`` and return the decoded JSON answer."""
        ...

    def close(self) -> None:
        """Release what the channel holds (a connection pool, the local service)."""
        ...
