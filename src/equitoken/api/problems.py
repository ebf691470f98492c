"""RFC 9457 problem details: every refusal over HTTP is ``application/problem+json`` with its reason code.

The body carries what the CLI prints — the stable ``code`` and the raise site's sentence (``detail``) —
plus the catalogue's sentence for the code as ``title`` and the HTTP ``status`` its kind maps to
(``domain.catalogue.Kind.status``). Bad input is a 4xx, never a 5xx: validation failures of the
framework are ``INVALID_REQUEST`` (400), unknown paths ``NO_SUCH_RESOURCE`` (404), a body over
``MAX_BODY`` bytes ``BODY_TOO_LARGE`` (413, refused before it is read: ``BodyLimit``). Only a failure of
the machinery is a 5xx (503, ``Retry-After`` set), or a bug (500, with no internals in the body).
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from equitoken.domain.catalogue import CATALOGUE, Kind
from equitoken.domain.errors import DomainError

log = logging.getLogger(__name__)

MEDIA_TYPE = "application/problem+json"
MAX_BODY = 1024 * 1024
"""The largest request body read, in bytes: a request here is a few hundred bytes, so a megabyte is
generous, and a body never grows the server's memory beyond it."""
TOO_LARGE = "BODY_TOO_LARGE"


class Problem(BaseModel):
    """An RFC 9457 problem, with the platform's reason code (and members a refusal adds, e.g. an order id)."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    detail: str
    code: str
    instance: str | None = None


def problem_type(code: str) -> str:
    """Return the problem ``type`` URI of ``code`` (a reference into the catalogue's documentation)."""
    return f"https://equitoken.dev/reasons#{code.lower()}"


def problem(
    code: str,
    detail: str,
    *,
    status: int | None = None,
    instance: str | None = None,
    extensions: dict[str, str] | None = None,
) -> JSONResponse:
    """Return the problem response for ``code`` (status from the code's kind unless given)."""
    entry = CATALOGUE.get(code)
    title = entry.sentence if entry is not None else code.replace("_", " ").lower()
    chosen = status if status is not None else (entry.status if entry is not None else Kind.REFUSED.status)
    body = Problem(
        type=problem_type(code),
        title=title,
        status=chosen,
        detail=detail,
        code=code,
        instance=instance,
        **(extensions or {}),
    )
    headers = {"Retry-After": "5"} if chosen in (429, 503) else None
    return JSONResponse(body.model_dump(exclude_none=True), chosen, headers=headers, media_type=MEDIA_TYPE)


def from_error(error: DomainError, instance: str | None = None) -> JSONResponse:
    """Return the problem response for a refusal raised by the platform."""
    response = problem(
        error.code,
        error.message,
        status=error.kind.status,
        instance=instance,
        extensions=error.details,
    )
    if "retry_after" in error.details:
        response.headers["Retry-After"] = error.details["retry_after"]
    return response


def install(app: FastAPI) -> None:
    """Answer every error with a problem: refusals, framework validation, unknown paths, bugs."""

    async def refused(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, DomainError)
        return from_error(error, request.url.path)

    async def invalid(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, RequestValidationError)
        return problem("INVALID_REQUEST", _first_error(error.errors()), instance=request.url.path)

    async def http(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, HTTPException)
        if error.status_code == 404:
            return problem("NO_SUCH_RESOURCE", f"there is no resource at {request.url.path}", status=404)
        if error.status_code == 413:
            return problem(TOO_LARGE, str(error.detail), status=413, instance=request.url.path)
        if error.status_code == 405:
            return problem(
                "METHOD_NOT_ALLOWED", f"{request.url.path} does not take {request.method}", status=405
            )
        return problem("INVALID_REQUEST", str(error.detail), status=error.status_code)

    async def bug(request: Request, error: Exception) -> JSONResponse:
        log.exception("unhandled error", extra={"path": request.url.path})
        return problem("INTERNAL_ERROR", "the platform failed on this request; its log says why", status=500)

    app.add_middleware(BodyLimit)
    app.add_exception_handler(DomainError, refused)
    app.add_exception_handler(RequestValidationError, invalid)
    app.add_exception_handler(HTTPException, http)
    app.add_exception_handler(Exception, bug)


class BodyLimit:
    """Refuse a request body over ``limit`` bytes (413): by its Content-Length at once, else as it arrives.

    A body sent without a length (chunked) is counted as it is read; once past the limit, the read
    fails with a 413 that the route's body parsing passes on, so nothing past it is buffered.
    """

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer the request, refusing its body if it is too large."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            path = str(scope.get("path", ""))
            await problem(TOO_LARGE, self._sentence(), status=413, instance=path)(scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise HTTPException(413, self._sentence())
            return message

        await self.app(scope, counted, send)

    def _sentence(self) -> str:
        return f"the request body is larger than {self.limit} bytes"


def _first_error(errors: Any) -> str:
    """Return the first validation error as one sentence: where, and what is wrong."""
    for error in errors:
        where = ".".join(str(part) for part in error.get("loc", ()) if part != "body")
        return f"{where or 'the request'}: {error.get('msg', 'is not valid')}"
    return "the request is not valid"


RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": Problem, "content": {MEDIA_TYPE: {}}, "description": description}
    for status, description in (
        (400, "Bad input (INVALID_REQUEST and the catalogue's invalid codes)"),
        (401, "No API key, or an unknown or revoked one"),
        (403, "The key's role or investor may not do this"),
        (404, "No such resource"),
        (409, "A conflict with what is recorded (IDEMPOTENCY_CONFLICT, states)"),
        (422, "Refused by a rule, a policy or the market"),
        (413, "The request body is larger than the platform reads (BODY_TOO_LARGE)"),
        (429, "Rate limited: retry after the Retry-After seconds"),
        (503, "The machinery failed: retry after the Retry-After seconds"),
    )
}
"""The problem answers every route documents (OpenAPI ``responses``)."""
