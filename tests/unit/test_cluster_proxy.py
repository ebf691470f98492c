"""A follower's front: requests go on to the leader unchanged; with no leader to reach, 503, Retry-After."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request

from equitoken.adapters.clock import SystemClock
from equitoken.adapters.lease.file import FileLease
from equitoken.adapters.store.memory import MemoryStore
from equitoken.api.cluster import ClusterApp
from equitoken.app.leadership import STREAM, LeaderElected, Leadership
from equitoken.domain.errors import DomainError
from equitoken.issuance import journal

echo = FastAPI()


@echo.api_route("/{path:path}", methods=["GET", "POST"])
async def answer(request: Request, path: str) -> dict[str, Any]:
    """Answer what arrived: the path, the query, the headers and the body."""
    return {
        "path": path,
        "query": request.url.query,
        "authorization": request.headers.get("authorization"),
        "idempotency_key": request.headers.get("idempotency-key"),
        "host": request.headers.get("host"),
        "forwarded_by": request.headers.get("x-equitoken-forwarded-by"),
        "body": (await request.body()).decode(),
    }


class Opened:
    """A stand-in service."""

    def close(self) -> None:
        """Close nothing."""


def fatal(error: DomainError) -> None:
    raise AssertionError(error)


def follower(tmp_path: Path, store: MemoryStore) -> Leadership[Any]:
    return Leadership(
        FileLease(tmp_path / "x.lease"),
        lambda: store,
        SystemClock(),
        "http://me",
        Opened,
        retry=0.5,
        on_fatal=fatal,
    )


def elect(store: MemoryStore, url: str) -> None:
    at = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    journal.append(store, STREAM, f"elected:{url}", at, LeaderElected(at, f"other:{url}", url))


class Front:
    """A synchronous client of one ``ClusterApp``, in process (what a caller of the follower sees)."""

    def __init__(self, app: ClusterApp) -> None:
        self.app = app

    def __enter__(self) -> Front:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def request(self, method: str, path: str, **options: Any) -> httpx.Response:
        async def call() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://me") as client:
                response = await client.request(method, path, **options)
                await response.aread()
                return response

        return asyncio.run(call())

    def get(self, path: str, **options: Any) -> httpx.Response:
        return self.request("GET", path, **options)

    def post(self, path: str, **options: Any) -> httpx.Response:
        return self.request("POST", path, **options)


def front(leadership: Leadership[Any], client: httpx.AsyncClient | None = None) -> Front:
    return Front(ClusterApp(leadership, lambda _: echo, client=client))


def test_without_a_leader_a_request_is_answered_503_with_retry_after(tmp_path: Path) -> None:
    with front(follower(tmp_path, MemoryStore())) as client:
        response = client.post("/v1/orders", json={}, headers={"Idempotency-Key": "k1"})
    assert response.status_code == 503
    assert response.headers["retry-after"] == "1"
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "NO_LEADER" and "Traceback" not in response.text


def test_a_leader_that_cannot_be_reached_is_503_no_leader(tmp_path: Path) -> None:
    store = MemoryStore()
    leadership = follower(tmp_path, store)
    elect(store, "http://127.0.0.1:9")  # nothing listens on the discard port
    leadership.refresh()
    with front(leadership) as client:
        response = client.get("/v1/orders")
    assert response.status_code == 503 and response.json()["code"] == "NO_LEADER"
    assert "127.0.0.1:9" in response.json()["detail"]


def test_a_follower_forwards_the_request_unchanged_and_streams_the_answer_back(tmp_path: Path) -> None:
    store = MemoryStore()
    leadership = follower(tmp_path, store)
    elect(store, "http://leader.test")
    leadership.refresh()
    leader = httpx.AsyncClient(transport=httpx.ASGITransport(app=echo))
    headers = {"Authorization": "Bearer eqk_secret", "Idempotency-Key": "flow-1-7"}
    with front(leadership, leader) as client:
        response = client.post("/v1/orders?limit=3", content=b'{"side": "buy"}', headers=headers)
    assert response.status_code == 200
    assert response.json() == {
        "path": "v1/orders",
        "query": "limit=3",
        "authorization": "Bearer eqk_secret",
        "idempotency_key": "flow-1-7",
        "host": "leader.test",
        "forwarded_by": "http://me",
        "body": '{"side": "buy"}',
    }


def test_a_leader_lost_mid_request_is_503_leader_lost(tmp_path: Path) -> None:
    store = MemoryStore()
    leadership = follower(tmp_path, store)
    elect(store, "http://leader.test")
    leadership.refresh()

    def cut(request: httpx.Request) -> httpx.Response:
        raise httpx.RemoteProtocolError("Server disconnected without sending a response.", request=request)

    leader = httpx.AsyncClient(transport=httpx.MockTransport(cut))
    with front(leadership, leader) as client:
        response = client.post("/v1/orders", json={}, headers={"Idempotency-Key": "k"})
    assert response.status_code == 503 and response.headers["retry-after"] == "1"
    assert response.json()["code"] == "LEADER_LOST" and "Idempotency-Key" in response.json()["detail"]


def test_a_body_too_large_is_refused_before_it_is_sent_on(tmp_path: Path) -> None:
    store = MemoryStore()
    leadership = follower(tmp_path, store)
    elect(store, "http://leader.test")
    leadership.refresh()
    with front(leadership) as client:
        response = client.post("/v1/orders", content=b"x" * (1024 * 1024 + 1))
    assert response.status_code == 413 and response.json()["code"] == "BODY_TOO_LARGE"


def test_a_follower_says_whom_it_follows_on_health(tmp_path: Path) -> None:
    store = MemoryStore()
    leadership = follower(tmp_path, store)
    elect(store, "http://leader.test")
    with front(leadership) as client:
        health = client.get("/health").json()
    assert health["role"] == "follower" and health["status"] == "ok"
    assert health["leader_url"] == "http://leader.test"
    assert health["leader_since"] == "2026-01-02T03:04:05+00:00"


@pytest.mark.parametrize("path", ["/health", "/v1/anything"])
def test_the_leader_serves_the_api_itself(tmp_path: Path, path: str) -> None:
    leadership = follower(tmp_path, MemoryStore())
    assert leadership.campaign()
    with front(leadership) as client:
        assert client.get(path).json()["path"] == path.lstrip("/")


@pytest.mark.parametrize("url", ["http://me", "http://other"])
def test_a_follower_never_forwards_to_itself_nor_forwards_twice(tmp_path: Path, url: str) -> None:
    store = MemoryStore()
    leadership = follower(tmp_path, store)
    elect(store, url)  # "http://me": a stale record of a leader that died at this follower's own address
    leadership.refresh()
    leader = httpx.AsyncClient(transport=httpx.ASGITransport(app=echo))
    forwarded = {} if url == "http://me" else {"X-Equitoken-Forwarded-By": "http://third"}
    with front(leadership, leader) as client:
        response = client.get("/v1/orders", headers=forwarded)
    assert response.status_code == 503 and response.json()["code"] == "NO_LEADER"
