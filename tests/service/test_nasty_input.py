"""Hand-written hostile requests the fuzzer is unlikely to send: each is a 4xx problem, never a 5xx or a hang.

Huge bodies (declared and streamed without a length), JSON nested far deeper than any request needs,
bytes that are not UTF-8, bodies under the wrong media type, and odd paths, queries and headers.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator

import httpx
import pytest

from tests.service.server import Server, ok, refused

ORDER = b'{"investor_id": "inv-sandbox", "symbol": "MSFT", "side": "buy", "quantity": "1"}'
TIMEOUT = 20.0
"""A refusal comes at once: a request still unanswered after this is a hang."""


def problem_status(response: httpx.Response) -> int:
    """Return the status of a problem answer, checking it is a 4xx RFC 9457 problem."""
    assert 400 <= response.status_code < 500, f"{response.status_code}: {response.text[:300]}"
    assert response.headers["content-type"].startswith("application/problem+json"), response.headers
    body = response.json()
    assert body["status"] == response.status_code and body["code"] and body["detail"], body
    return response.status_code


def test_a_body_larger_than_the_limit_is_refused_413_declared_or_streamed(server: Server) -> None:
    huge = b'{"investor_id": "' + b"a" * (8 * 1024 * 1024) + b'"}'
    with server.client(server.key("operator")) as operator:
        declared = operator.post(
            "/v1/orders", content=huge, headers={"content-type": "application/json"}, timeout=TIMEOUT
        )
        assert refused(declared, 413, "BODY_TOO_LARGE")

        def chunks() -> Iterator[bytes]:  # no Content-Length: the server must count what arrives
            for start in range(0, len(huge), 64 * 1024):
                yield huge[start : start + 64 * 1024]

        streamed = operator.post(
            "/v1/orders", content=chunks(), headers={"content-type": "application/json"}, timeout=TIMEOUT
        )
        assert refused(streamed, 413, "BODY_TOO_LARGE")
        # A length no client library would send: spoken over a bare socket.
        with socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT) as raw:
            raw.sendall(
                b"POST /v1/orders HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                b"Content-Length: 99999999999\r\n\r\n" + ORDER
            )
            answer = b""
            while b"\r\n\r\n{" not in answer or not answer.endswith(b"}"):  # headers, then the body
                chunk = raw.recv(4096)
                assert chunk, answer  # closed before the whole answer came
                answer += chunk
        assert answer.startswith(b"HTTP/1.1 413 ") and b"BODY_TOO_LARGE" in answer, answer
        ok(operator.get("/health"))  # still serving


@pytest.mark.parametrize("depth", [65, 1_000, 100_000])
def test_json_nested_deeper_than_a_request_needs_is_bad_input(server: Server, depth: int) -> None:
    nested = b'{"investor_id": ' + b"[" * depth + b"]" * depth + b"}"
    with server.client(server.key("operator")) as operator:
        answer = operator.post(
            "/v1/orders", content=nested, headers={"content-type": "application/json"}, timeout=TIMEOUT
        )
        refused(answer, 400, "INVALID_REQUEST")
        ok(operator.get("/health"))


@pytest.mark.parametrize(
    ("content", "media_type"),
    [
        (b'{"investor_id": "inv-\xff\xfe", "symbol": "MSFT"}', "application/json"),  # not UTF-8
        (b"\x00" * 64, "application/json"),
        (ORDER, "text/plain"),
        (ORDER, "application/x-www-form-urlencoded"),
        (
            b"--x\r\nContent-Disposition: form-data; name=a\r\n\r\n1\r\n--x--\r\n",
            "multipart/form-data; boundary=x",
        ),
        (b"[]", "application/json"),
        (b'"just a string"', "application/json"),
        (b"1e999999", "application/json"),
        (
            b'{"investor_id": "inv-sandbox", "symbol": "MSFT", "side": "buy", "quantity": NaN}',
            "application/json",
        ),
        (ORDER.replace(b'"1"', b'"1' + b"0" * 5000 + b'"'), "application/json"),
    ],
)
def test_bodies_that_are_not_an_order_are_refused_as_bad_input(
    server: Server, content: bytes, media_type: str
) -> None:
    with server.client(server.key("operator")) as operator:
        answer = operator.post(
            "/v1/orders", content=content, headers={"content-type": media_type}, timeout=TIMEOUT
        )
        assert problem_status(answer) in (400, 415, 422), answer.text


@pytest.mark.parametrize(
    ("method", "path", "params"),
    [
        ("GET", "/v1/investors/%FF%FE", None),
        ("GET", "/v1/investors/" + "a" * 5000, None),
        ("GET", "/v1/orders/%00", None),
        ("GET", "/v1/orders", {"limit": "1e309"}),
        ("GET", "/v1/orders", {"limit": "99999999999999999999999999"}),
        ("GET", "/v1/market/calendar", {"days": "-1"}),
        ("GET", "/v1/market/calendar", {"start": "9999-99-99"}),
        ("GET", "/v1/attestations/0", None),
        ("GET", "/v1/attestations/99999999999999999999", None),
        ("GET", "/v1/events", {"after": "-1"}),
        ("POST", "/v1/orders/..%2F..%2Fhealth/cancel", None),
    ],
)
def test_odd_paths_and_queries_are_refused_as_bad_input(
    server: Server, method: str, path: str, params: dict[str, str] | None
) -> None:
    with server.client(server.key("operator")) as operator:
        answer = operator.request(
            method, path, params=params, json={} if method == "POST" else None, timeout=TIMEOUT
        )
        problem_status(answer)


@pytest.mark.parametrize(
    "headers",
    [
        {"Idempotency-Key": "é".encode()},  # raw UTF-8 bytes in a header
        {"Idempotency-Key": "k" * 5000},
        {"Last-Event-ID": "9" * 40},
        {"Authorization": "Bearer " + "x" * 5000},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": "Bearer"},
    ],
)
def test_odd_headers_are_refused_as_bad_input(server: Server, headers: dict[str, str | bytes]) -> None:
    with server.client(server.key("operator")) as operator:
        path = "/v1/events" if "Last-Event-ID" in headers else "/v1/orders"
        method = "GET" if path == "/v1/events" else "POST"
        raw = {**operator.headers, **headers}
        sent = {k.encode(): v if isinstance(v, bytes) else v.encode() for k, v in raw.items()}
        answer = operator.request(method, path, content=ORDER, headers=sent, timeout=TIMEOUT)
        problem_status(answer)
