"""The JSON-RPC transport: single requests and batch arrays over one keep-alive HTTP(S) connection.

A node that cannot be reached raises ``DomainError("CHAIN_UNAVAILABLE")``; an error answer is an
``RpcError`` in a batch's results, ``RpcFailure`` for a single request, or ``DomainError("CHAIN_ERROR")``
through ``checked_request``/``checked_batch``.
"""

from __future__ import annotations

import http.client
import itertools
import json
import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from equitoken.domain.errors import DomainError


@dataclass(frozen=True, slots=True)
class RpcError:
    """An error answer to one JSON-RPC request."""

    code: int
    message: str
    data: Any = None

    @property
    def revert_data(self) -> bytes | None:
        """Return the revert data when this error is an execution revert, else ``None``."""
        lowered = self.message.lower()
        if self.code != 3 and "revert" not in lowered:
            return None
        if isinstance(self.data, str) and self.data.startswith("0x"):
            return bytes.fromhex(self.data[2:])
        if isinstance(self.data, Mapping) and isinstance(self.data.get("data"), str):
            return bytes.fromhex(str(self.data["data"])[2:])
        return b""


class JsonRpcTransport:
    """Post JSON-RPC requests and arrays of them over one keep-alive HTTP(S) connection."""

    def __init__(self, url: str, *, timeout: float = 30.0) -> None:
        parsed = urllib.parse.urlsplit(url)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise DomainError("INVALID_SETTING", f"The chain URL {url!r} is not an http(s) URL.")
        self.url = url
        self._scheme = parsed.scheme
        self._host = parsed.hostname
        self._port = parsed.port
        self._path = parsed.path or "/"
        if parsed.query:
            self._path += "?" + parsed.query
        self._timeout = timeout
        self._connection: http.client.HTTPConnection | None = None
        self._used = False
        self._ids = itertools.count(1)

    def request(self, method: str, params: Sequence[Any] = ()) -> Any:
        """Send one request and return its result; raise ``RpcFailure`` on an error answer."""
        ident = next(self._ids)
        reply = self._post({"jsonrpc": "2.0", "id": ident, "method": method, "params": list(params)})
        if not isinstance(reply, Mapping):
            raise DomainError("CHAIN_ERROR", f"The node at {self.url} answered {method} with a non-object.")
        error = error_of(reply)
        if error is not None:
            raise RpcFailure(method, error)
        return reply.get("result")

    def batch(self, requests: Sequence[tuple[str, Sequence[Any]]]) -> list[Any]:
        """Send ``requests`` as one JSON-RPC array; return results in order, ``RpcError`` for failures."""
        if not requests:
            return []
        first = next(self._ids)
        self._ids = itertools.count(first + len(requests))
        payload = [
            {"jsonrpc": "2.0", "id": first + i, "method": method, "params": list(params)}
            for i, (method, params) in enumerate(requests)
        ]
        replies = self._post(payload)
        if isinstance(replies, Mapping):  # a node refusing the whole array answers with one error
            error: RpcError = error_of(replies) or RpcError(-32603, "malformed answer")
            raise DomainError(
                "CHAIN_ERROR", f"The node at {self.url} refused a batch of {len(requests)}: {error.message}."
            )
        by_id = {reply.get("id"): reply for reply in replies if isinstance(reply, Mapping)}
        results: list[Any] = []
        for i in range(len(requests)):
            reply = by_id.get(first + i)
            if reply is None:
                results.append(RpcError(-32603, "no answer in the batch"))
                continue
            failed = error_of(reply)
            results.append(failed if failed is not None else reply.get("result"))
        return results

    def close(self) -> None:
        """Close the connection (a later request opens a new one)."""
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def _connect(self) -> http.client.HTTPConnection:
        if self._connection is None:
            factory = http.client.HTTPSConnection if self._scheme == "https" else http.client.HTTPConnection
            self._connection = factory(self._host, self._port, timeout=self._timeout)
            self._used = False
        return self._connection

    def _post(self, payload: object) -> Any:
        body = json.dumps(payload, separators=(",", ":")).encode()
        headers = {"Content-Type": "application/json", "Connection": "keep-alive"}
        for attempt in (1, 2):
            connection = self._connect()
            reused = self._used
            try:
                connection.request("POST", self._path, body, headers)
                response = connection.getresponse()
                data = response.read()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as exc:
                self.close()
                # A keep-alive connection the server closed while idle: the request never arrived, so
                # sending it again is safe (a signed transaction resent is "already known" at worst).
                if reused and attempt == 1:
                    continue
                raise _unavailable(self.url, exc) from None
            except (OSError, http.client.HTTPException) as exc:
                self.close()
                raise _unavailable(self.url, exc) from None
            self._used = True
            if response.status != 200:
                raise DomainError(
                    "CHAIN_UNAVAILABLE",
                    f"The chain node at {self.url} answered HTTP {response.status} {response.reason}.",
                )
            try:
                return json.loads(data)
            except ValueError:
                raise DomainError(
                    "CHAIN_ERROR", f"The chain node at {self.url} answered with something that is not JSON."
                ) from None
        raise AssertionError("unreachable")  # pragma: no cover


class RpcFailure(Exception):
    """An error answer to a single request (kept internal: callers see ``DomainError`` or ``ChainRevert``)."""

    def __init__(self, method: str, error: RpcError) -> None:
        super().__init__(f"{method}: {error.message}")
        self.method = method
        self.error = error


def error_of(reply: Mapping[str, Any]) -> RpcError | None:
    error = reply.get("error")
    if error is None:
        return None
    if not isinstance(error, Mapping):
        return RpcError(-32603, str(error))
    return RpcError(int(error.get("code", -32603)), str(error.get("message", "")), error.get("data"))


def _unavailable(url: str, exc: BaseException) -> DomainError:
    reason = str(exc) or type(exc).__name__
    if isinstance(exc, TimeoutError):
        reason = "no answer before the timeout"
    elif isinstance(exc, ConnectionRefusedError):
        reason = "connection refused (is the node running?)"
    return DomainError("CHAIN_UNAVAILABLE", f"The chain node at {url} is unreachable: {reason}.")


def node_refused(url: str, what: str, error: RpcError) -> DomainError:
    """Return the ``CHAIN_ERROR`` for the node at ``url`` answering ``what`` with ``error``."""
    return DomainError("CHAIN_ERROR", f"The node at {url} refused {what}: {error.message}.")


def checked_request(transport: JsonRpcTransport, method: str, *params: Any) -> Any:
    """Send one request and return its result; raise ``CHAIN_ERROR`` on an error answer."""
    try:
        return transport.request(method, params)
    except RpcFailure as failure:
        raise node_refused(transport.url, method, failure.error) from None


def checked_batch(transport: JsonRpcTransport, requests: Sequence[tuple[str, Sequence[Any]]]) -> list[Any]:
    """Send ``requests`` as one array and return the results; raise ``CHAIN_ERROR`` on any error answer."""
    replies = transport.batch(requests)
    for (method, _), reply in zip(requests, replies, strict=True):
        if isinstance(reply, RpcError):
            raise node_refused(transport.url, method, reply)
    return replies
