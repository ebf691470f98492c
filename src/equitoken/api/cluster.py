"""The HTTP front of one of several ``serve`` processes: the API itself when it leads, a proxy when not.

Any process answers any request. The leader (the one holding the engine's lease, ``app.leadership``)
serves the API over its engine; a follower sends each request on to the leader's advertised URL,
headers unchanged (``Authorization``, ``Idempotency-Key``), and streams the answer back — reads too,
since what they show lives in the leader's engine. ``/health`` is answered by every process
itself: its role, the leader's URL and since when.

Without a leader to send to — none elected yet, or the elected one gone and not yet replaced — a
request is answered ``503 NO_LEADER`` with ``Retry-After`` and is not sent anywhere. If the leader
goes away after the request was sent, the write may or may not have run: ``503 LEADER_LOST``, and
the client's retry under the same ``Idempotency-Key`` finds it done or does it, once.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import httpx
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from equitoken import __version__
from equitoken.api.problems import MAX_BODY, TOO_LARGE, from_error, problem
from equitoken.app.leadership import Leadership, Role
from equitoken.app.service import Service
from equitoken.domain.errors import DomainError

HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "host",
        "content-length",
    }
)
"""Headers that belong to one connection (RFC 9110 §7.6.1), not to the request: never forwarded."""
FORWARDED = b"x-equitoken-forwarded-by"
"""Marks a request a follower sent on (its value: that follower's URL): a follower never sends it on again."""
STREAMS = ("/v1/events",)
"""Paths whose answers are open-ended streams (SSE): proxied without a read timeout."""


class ClusterApp:
    """Serve the API over the engine while this process leads; proxy to the leader while it follows."""

    def __init__(
        self,
        leadership: Leadership[Service],
        build: Callable[[Service], ASGIApp],
        *,
        timeout: float = 120.0,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self.leadership = leadership
        self._build = build
        self._api: ASGIApp | None = None
        self._timeout = timeout
        self._client = client
        """The client requests go on to the leader with (made on first use, in the server's loop)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Dispatch one ASGI call: to the API when leading, else to the follower's own answers."""
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        service = self.leadership.service if self.leadership.role is Role.LEADER else None
        if service is not None:
            if self._api is None:
                self._api = self._build(service)
            await self._api(scope, receive, send)
            return
        if scope["type"] != "http":
            return  # no websockets here
        if scope["path"] == "/health":
            await self._health()(scope, receive, send)
            return
        await self._proxy(scope, receive, send)

    def _health(self) -> JSONResponse:
        """Return a follower's health: alive, following, and whom."""
        leader = self.leadership.refresh()
        return JSONResponse(
            {
                "status": "ok",
                "version": __version__,
                "role": self.leadership.role.value,
                "leader_url": None if leader is None else leader.url,
                "leader_since": None if leader is None else leader.at.isoformat(),
                "lease": self.leadership.lease.name,
            }
        )

    def _unavailable(self, refused: DomainError, path: str) -> JSONResponse:
        response = from_error(refused, path)
        response.headers["Retry-After"] = str(max(1, math.ceil(self.leadership.retry)))
        return response

    async def _proxy(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Send the request on to the leader and stream its answer back (a problem if it cannot)."""
        path: str = scope["path"]
        leader = self.leadership.leader
        ours = leader is not None and (
            leader.process == self.leadership.process or leader.url == self.leadership.url
        )
        forwarded = any(name.lower() == FORWARDED for name, _ in scope["headers"])
        if leader is None or ours or forwarded:
            # Never forward to ourselves, nor forward again what another follower forwarded: both are a
            # stale record of a leader (one that died, maybe at this very address), and would loop.
            detail = "no server runs the engine now; retry shortly"
            await self._unavailable(DomainError("NO_LEADER", detail), path)(scope, receive, send)
            return
        body = await _read_body(receive)
        if body is None:
            detail = f"the request body is over {MAX_BODY} bytes"
            await problem(TOO_LARGE, detail, status=413, instance=path)(scope, receive, send)
            return
        query = scope.get("query_string", b"")
        target = leader.url + scope.get("raw_path", path.encode()).decode("latin-1")
        if query:
            target += "?" + query.decode("latin-1")
        headers = [
            (name.decode("latin-1"), value.decode("latin-1"))
            for name, value in scope["headers"]
            if name.decode("latin-1").lower() not in HOP_BY_HOP
        ]
        headers.append((FORWARDED.decode("latin-1"), self.leadership.url))
        client = self._client_now()
        timeout = httpx.Timeout(self._timeout, connect=2.0, read=None if path in STREAMS else self._timeout)
        request = client.build_request(
            scope["method"], target, headers=headers, content=body, timeout=timeout
        )
        try:
            response = await client.send(request, stream=True)
        except (httpx.ConnectError, httpx.ConnectTimeout):
            self.leadership.refresh()  # a successor may already be on the journal
            detail = f"the server running the engine ({leader.url}) cannot be reached; retry shortly"
            await self._unavailable(DomainError("NO_LEADER", detail), path)(scope, receive, send)
            return
        except httpx.TransportError:
            detail = (
                f"the server running the engine ({leader.url}) went away while answering: the request may"
                " or may not have run; retry it with the same Idempotency-Key"
            )
            await self._unavailable(DomainError("LEADER_LOST", detail), path)(scope, receive, send)
            return
        try:
            await send(
                {
                    "type": "http.response.start",
                    "status": response.status_code,
                    "headers": [
                        (name.encode("latin-1"), value.encode("latin-1"))
                        for name, value in response.headers.multi_items()
                        if name.lower() not in HOP_BY_HOP - {"content-length"}
                    ],
                }
            )
            try:
                async for chunk in response.aiter_raw():
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
            except httpx.TransportError:
                pass  # the leader died mid-answer: end what was sent; the client sees it cut and retries
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            await response.aclose()

    def _client_now(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient()
        return self._client

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message: Message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self._client is not None:
                    await self._client.aclose()
                await send({"type": "lifespan.shutdown.complete"})
                return


async def _read_body(receive: Receive) -> bytes | None:
    """Return the whole request body, or ``None`` once it passes ``MAX_BODY`` (the rest is not read)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks)  # the client went away: what came is all there is
        chunk: bytes = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)
