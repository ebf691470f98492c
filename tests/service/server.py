"""The real server for tests (``harness.server``), and the checks every HTTP test makes of an answer."""

from __future__ import annotations

from typing import Any

import httpx

from equitoken.harness.server import Server, free_port

__all__ = ["Server", "free_port", "ok", "refused"]


def ok(response: httpx.Response, status: int = 200) -> Any:
    """Return the JSON body of ``response``, failing the test with the body if the status differs."""
    assert response.status_code == status, f"{response.status_code}: {response.text}"
    return response.json()


def refused(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """Return the RFC 9457 problem of ``response``, checking its status, media type and code."""
    assert response.status_code == status, f"{response.status_code}: {response.text}"
    assert response.headers["content-type"].startswith("application/problem+json"), response.headers
    problem: dict[str, Any] = response.json()
    assert problem["code"] == code and problem["status"] == status, problem
    assert problem["detail"] and problem["title"] and problem["type"], problem
    return problem
