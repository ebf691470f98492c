"""Turn an HTTP answer of the API back into what the CLI shows: the JSON body, or the refusal it was."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from equitoken.domain.errors import DomainError

IDEMPOTENCY_HEADER = "Idempotency-Key"
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def idempotency_key(given: str | None) -> str:
    """Return the key a write is sent with: the one given (to retry a command safely), else a new one."""
    return given if given is not None else f"cli-{uuid.uuid4().hex}"


def decoded(response: httpx.Response) -> Any:
    """Return the JSON body of a success; raise a problem as ``DomainError(code, detail)``."""
    try:
        body = response.json()
    except ValueError:
        raise DomainError(
            "SERVICE_BAD_ANSWER",
            f"the service answered {response.status_code} with a body that is not JSON",
        ) from None
    if response.is_success:
        return body
    if isinstance(body, dict) and isinstance(body.get("code"), str):
        detail = body.get("detail") if isinstance(body.get("detail"), str) else body.get("title", "")
        extra = {k: str(v) for k, v in body.items() if k in ("order_id", "retry_after")}
        raise DomainError(body["code"], str(detail), extra)
    raise DomainError(
        "SERVICE_BAD_ANSWER", f"the service answered {response.status_code} without a problem document"
    )
