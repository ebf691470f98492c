"""``HEAD`` for the public pages: answered as the ``GET`` would be, headers and all, without the body.

RFC 9110 §9.3.2: a server answers ``HEAD`` with the header fields it would send for ``GET`` — a link
checker, a cache or an uptime probe asks ``HEAD /transparency`` and must not see 405. Only the public,
keyless paths (the page, its assets, ``/public/*``) are answered so: they are reads, and their ``GET``
changes nothing. The request runs as the ``GET`` (its rate limit and problems included); the body is
dropped on the way out, the ``Content-Length`` of the ``GET`` kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class HeadAsGet:
    """ASGI middleware: a ``HEAD`` to a path under one of ``prefixes`` runs as ``GET``, body dropped."""

    def __init__(self, app: ASGIApp, prefixes: Sequence[str]) -> None:
        self.app = app
        self.prefixes = tuple(prefixes)

    def _applies(self, scope: Scope) -> bool:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            return False
        path: str = scope["path"]
        return any(path == p or path.startswith(p.rstrip("/") + "/") for p in self.prefixes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve the request; a public ``HEAD`` as its ``GET``, sending the headers and an empty body."""
        if not self._applies(scope):
            await self.app(scope, receive, send)
            return
        ended = False

        async def without_body(message: Message) -> None:
            nonlocal ended
            if message["type"] != "http.response.body":
                await send(message)
                return
            if not ended:  # one empty, final body message, whatever the GET streamed
                ended = True
                empty: dict[str, Any] = {"type": "http.response.body", "body": b"", "more_body": False}
                await send(empty)

        await self.app(dict(scope, method="GET"), receive, without_body)
