"""The channel to a running ``equitoken serve``: HTTP with an API key, every write with an idempotency key."""

from __future__ import annotations

from typing import Any

import httpx

from equitoken.client import Body, Query
from equitoken.client.answers import IDEMPOTENCY_HEADER, WRITES, decoded, idempotency_key
from equitoken.domain.errors import DomainError

TIMEOUT_SECONDS = 60.0
"""How long one request may take: a write waits for its chain transactions behind the service's lock."""


class RemoteChannel:
    """Requests to the API at ``url`` as the holder of ``key``."""

    def __init__(self, url: str, key: str | None, idempotency: str | None = None) -> None:
        parsed = httpx.URL(url) if url.strip() else None
        if parsed is None or parsed.scheme not in ("http", "https") or not parsed.host:
            raise DomainError(
                "USAGE", f"--url must be an http(s) URL such as http://127.0.0.1:8000, not {url!r}"
            )
        self.url = url.rstrip("/")
        headers = {} if key is None else {"Authorization": f"Bearer {key}"}
        self._http = httpx.Client(base_url=self.url, headers=headers, timeout=TIMEOUT_SECONDS)
        self._idempotency = idempotency

    def call(self, method: str, path: str, *, query: Query | None = None, body: Body | None = None) -> Any:
        """Send one request; a refused connection or a timeout is ``SERVICE_UNREACHABLE``."""
        headers = {}
        if method in WRITES:
            # One key per command: the same command retried with --idempotency-key is answered once.
            headers[IDEMPOTENCY_HEADER] = idempotency_key(self._idempotency)
        params = {k: v for k, v in (query or {}).items() if v is not None}
        try:
            response = self._http.request(method, path, params=params, json=body, headers=headers)
        except httpx.TransportError as error:
            raise DomainError(
                "SERVICE_UNREACHABLE",
                f"cannot reach the service at {self.url}: {error or type(error).__name__}",
            ) from None
        return decoded(response)

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()
