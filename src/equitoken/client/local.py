"""The channel to the API application in process, over the local store, as the local operator.

The request runs through the same route, guard and service-layer call as one sent to a server, so it
is refused, journaled (the audit's actor is ``local``) and answered exactly the same; only the key
check is replaced by the local operator (``app.access.LOCAL``: the person at the machine, who holds
the store). An ``Idempotency-Key`` works as over HTTP: a retried command is answered from the journal.
"""

from __future__ import annotations

from typing import Any

import anyio
import httpx

from equitoken.api.app import create_app
from equitoken.api.guard import actor
from equitoken.app.access import LOCAL, Actor
from equitoken.app.local import open_local
from equitoken.app.settings import Settings
from equitoken.client import Body, Query
from equitoken.client.answers import IDEMPOTENCY_HEADER, WRITES, decoded, idempotency_key

BASE = "http://local"


def _local_operator() -> Actor:
    return LOCAL


class LocalChannel:
    """Requests to the API application over the local store (opened on the first request)."""

    def __init__(self, settings: Settings, idempotency: str | None = None) -> None:
        self._idempotency = idempotency
        self._service = open_local(settings)
        self._app = create_app(self._service)
        self._app.dependency_overrides[actor] = _local_operator

    def call(self, method: str, path: str, *, query: Query | None = None, body: Body | None = None) -> Any:
        """Run one request through the application and return its answer."""
        headers = {IDEMPOTENCY_HEADER: idempotency_key(self._idempotency)} if method in WRITES else {}
        params = {k: v for k, v in (query or {}).items() if v is not None}

        async def sent() -> httpx.Response:
            transport = httpx.ASGITransport(app=self._app, raise_app_exceptions=False)
            async with httpx.AsyncClient(transport=transport, base_url=BASE) as http:
                return await http.request(method, path, params=params, json=body, headers=headers)

        return decoded(anyio.run(sent))

    def close(self) -> None:
        """Release the local store and the chain's block log (its lock would outlive the command)."""
        try:
            self._service.close()
        finally:
            self._service.engine.chain.close()
