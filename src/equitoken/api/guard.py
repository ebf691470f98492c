"""Who is calling, how often, and whether this write was already answered: the checks every route shares.

- ``actor``: the ``Authorization: Bearer <key>`` header, authenticated against the key book
  (``API_KEY_MISSING`` / ``API_KEY_INVALID``, 401).
- ``RateLimiter``: a token bucket per key (``api_rate_limit`` per second, bursts to twice that); an
  empty bucket answers 429 ``RATE_LIMITED`` with ``Retry-After``. Per process: several servers each
  allow the rate.
- ``Answers``: the ``Idempotency-Key`` of a write. The first answer to a key is journaled (stream
  ``api``: who, the method and path, the digest of the body, the status and the body); the same key
  and body again returns that answer, unchanged, without running anything; the same key with another
  body or path is ``IDEMPOTENCY_CONFLICT`` (409). The key also reaches the engine (an order's
  idempotency key, a deposit's key), so a retry after a crash — the command ran, its answer was never
  journaled — finds the order or the deposit already there instead of making a second one.
"""

from __future__ import annotations

import hashlib
import json
import math
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, Header, Request
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel

from equitoken.app.access import Actor
from equitoken.app.service import Service
from equitoken.domain.errors import DomainError
from equitoken.domain.instants import utc
from equitoken.issuance import journal

STREAM = "api"
IDEMPOTENCY_HEADER = "Idempotency-Key"
MAX_KEY = 128

bearer = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer eqk_…`")


def service_of(request: Request) -> Service:
    """Return the service the app was built over."""
    service: Service = request.app.state.service
    return service


Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


def actor(request: Request, credentials: Credentials) -> Actor:
    """Return who is calling (401 without a valid key), after charging its rate limit."""
    if credentials is None or not credentials.credentials:
        raise DomainError("API_KEY_MISSING", "send the API key as `Authorization: Bearer <key>`")
    service = service_of(request)
    with service.lock:
        caller = service.keys.authenticate(credentials.credentials)
    charge(request, caller.key_id, "this key")
    return caller


def charge(request: Request, bucket: str, who: str) -> None:
    """Spend one request of ``bucket``'s rate limit (429 ``RATE_LIMITED`` with ``Retry-After`` if empty)."""
    limiter: RateLimiter = request.app.state.limiter
    wait = limiter.take(bucket)
    if wait > 0:
        raise DomainError(
            "RATE_LIMITED",
            f"too many requests from {who}; retry in {wait:.1f} s",
            {"retry_after": str(max(1, math.ceil(wait)))},
        )


class RateLimiter:
    """A token bucket per key: ``rate`` requests per second, up to ``2 × rate`` at once."""

    def __init__(self, rate: int, clock: Callable[[], float] = time.monotonic) -> None:
        self._rate = float(rate)
        self._capacity = 2.0 * rate
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, key: str) -> float:
        """Spend one request of ``key``'s bucket; return 0, or how many seconds until one is left."""
        with self._lock:
            now = self._clock()
            tokens, then = self._buckets.get(key, (self._capacity, now))
            tokens = min(self._capacity, tokens + (now - then) * self._rate)
            if tokens < 1:
                self._buckets[key] = (tokens, now)
                return (1 - tokens) / self._rate
            self._buckets[key] = (tokens - 1, now)
            return 0.0


@dataclass(frozen=True, slots=True)
class Answer:
    """The journaled first answer to one idempotency key."""

    at: datetime
    key_id: str
    idempotency_key: str
    method: str
    path: str
    body_hash: str
    status: int
    body: Mapping[str, Any]


EVENTS = (Answer,)


def body_hash(method: str, path: str, body: Any) -> str:
    """Return the digest a retry must match: the method, the path and the body in canonical JSON."""
    text = json.dumps({"method": method, "path": path, "body": body}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


IdempotencyKey = Annotated[
    str | None,
    Header(
        alias=IDEMPOTENCY_HEADER,
        description="Makes the write safe to retry: the same key and body return the first answer.",
    ),
]


def checked_key(key: str | None) -> str | None:
    """Return the ``Idempotency-Key`` (refused when empty, too long or not printable ASCII)."""
    if key is None:
        return None
    if not key or len(key) > MAX_KEY or not key.isascii() or not key.isprintable():
        raise DomainError(
            "INVALID_REQUEST", f"{IDEMPOTENCY_HEADER} must be 1–{MAX_KEY} printable ASCII characters"
        )
    return key


class Answers:
    """The first answers to idempotency keys, folded from stream ``api`` (see the module doc)."""

    def __init__(self, service: Service) -> None:
        self._service = service
        self._answers: dict[tuple[str, str], Answer] = {}
        self._seen = 0

    def _refresh(self) -> None:
        for stored in self._service.store.events(STREAM, after_seq=self._seen):
            answer: Answer = journal.decode(stored, EVENTS)
            self._answers[(answer.key_id, answer.idempotency_key)] = answer
            self._seen = stored.seq

    def find(self, caller: Actor, key: str, method: str, path: str, digest: str) -> Answer | None:
        """Return the first answer to ``key`` (``IDEMPOTENCY_CONFLICT`` if it was for another request)."""
        self._refresh()
        answer = self._answers.get((caller.key_id, key))
        if answer is None:
            return None
        if (answer.method, answer.path, answer.body_hash) != (method, path, digest):
            raise DomainError(
                "IDEMPOTENCY_CONFLICT",
                f"{IDEMPOTENCY_HEADER} {key!r} was already used for another request "
                f"({answer.method} {answer.path})",
            )
        return answer

    def keep(
        self,
        caller: Actor,
        key: str,
        method: str,
        path: str,
        digest: str,
        status: int,
        body: Mapping[str, Any],
    ) -> None:
        """Journal the first answer to ``key``."""
        at = utc(self._service.clock.now())
        answer = Answer(at, caller.key_id, key, method, path, digest, status, dict(body))
        journal.append(self._service.store, STREAM, f"answer:{caller.key_id}:{key}", at, answer)
        self._answers[(caller.key_id, key)] = answer


def write(
    request: Request,
    caller: Actor,
    key: str | None,
    body: BaseModel | None,
    run: Callable[[], BaseModel],
    *,
    status: int = 200,
) -> JSONResponse:
    """Answer one write: the journaled first answer for a repeated key, else run it and keep its answer.

    Only a success is kept: a refusal moved nothing, so running the request again is safe and may
    succeed once what refused it has changed.
    """
    service = service_of(request)
    answers: Answers = request.app.state.answers
    key = checked_key(key)
    method, path = request.method, request.url.path
    digest = body_hash(method, path, None if body is None else body.model_dump(mode="json"))
    with service.lock:
        if key is not None:
            first = answers.find(caller, key, method, path, digest)
            if first is not None:
                return JSONResponse(dict(first.body), first.status, headers={"Idempotent-Replayed": "true"})
        result = run().model_dump(mode="json")
        if key is not None:
            answers.keep(caller, key, method, path, digest, status, result)
    return JSONResponse(result, status)
