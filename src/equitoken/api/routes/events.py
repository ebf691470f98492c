"""The event stream: order, fill, halt and corporate-action events as Server-Sent Events, as they happen.

``GET /v1/events`` answers ``text/event-stream``: each message is one journaled event (``app.event_feed``)
with ``id:`` its journal position, ``event:`` its type and ``data:`` its JSON. A client that
reconnects sends the last id it saw as ``Last-Event-ID`` (a browser's ``EventSource`` does so by
itself) and gets only what came after. The journal is polled every ``POLL_SECONDS``; a comment line
every ``HEARTBEAT_SECONDS`` of quiet keeps proxies from closing the connection. The stream ends when
the client goes, or after ``limit`` events if it asks for that.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import StreamingResponse

from equitoken.api.guard import actor, service_of
from equitoken.api.problems import RESPONSES
from equitoken.app.access import Actor
from equitoken.app.event_feed import EventFeed, FeedEvent
from equitoken.domain.errors import DomainError

router = APIRouter(responses=RESPONSES, tags=["events"])
Caller = Annotated[Actor, Depends(actor)]

MEDIA_TYPE = "text/event-stream"
POLL_SECONDS = 0.5
HEARTBEAT_SECONDS = 15.0
RETRY_MILLISECONDS = 2000
"""What a client waits before reconnecting (the SSE ``retry:`` field)."""
BATCH = 500
"""Events read from the journal at most per poll: a reader far behind catches up in steps."""
MAX_SEQ_DIGITS = 18

STREAM_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "Server-Sent Events: `id:` the journal position, `event:` the type, `data:` JSON",
        "content": {MEDIA_TYPE: {"schema": {"type": "string"}}},
    }
}


def message(event: FeedEvent) -> str:
    """Return one SSE message (JSON has no raw newline, so ``data:`` is one line)."""
    data = json.dumps(event.as_dict(), sort_keys=True, separators=(",", ":"))
    return f"id: {event.seq}\nevent: {event.type}\ndata: {data}\n\n"


def position(last_event_id: str | None, after: int | None) -> int:
    """Return where to start: after ``Last-Event-ID`` (a reconnect), else ``after``, else the beginning."""
    if last_event_id is None:
        return after or 0
    text = last_event_id.strip()
    if not text.isdigit() or len(text) > MAX_SEQ_DIGITS:
        raise DomainError("INVALID_REQUEST", "Last-Event-ID must be the id of an event this stream sent")
    return int(text)


@router.get("/v1/events", response_class=StreamingResponse, responses=STREAM_RESPONSE)
def events(
    request: Request,
    caller: Caller,
    after: Annotated[
        int | None, Query(ge=0, le=10**MAX_SEQ_DIGITS - 1, description="Start after this event id")
    ] = None,
    limit: Annotated[
        int | None, Query(ge=1, le=100_000, description="End the stream after this many events")
    ] = None,
    last_event_id: Annotated[
        str | None,
        Header(alias="Last-Event-ID", max_length=64, description="Resume after this event id (a reconnect)"),
    ] = None,
) -> StreamingResponse:
    """Stream order, fill, halt and corporate-action events (an investor key sees its own orders only)."""
    feed = EventFeed(service_of(request), caller)  # ACCESS_DENIED before the stream starts
    start = position(last_event_id, after)

    async def stream() -> AsyncIterator[str]:
        cursor, sent = start, 0
        yield f"retry: {RETRY_MILLISECONDS}\n\n"
        quiet_since = time.monotonic()
        while limit is None or sent < limit:
            wanted = BATCH if limit is None else min(BATCH, limit - sent)
            found, cursor = await anyio.to_thread.run_sync(feed.after, cursor, wanted)
            for event in found:
                yield message(event)
            sent += len(found)
            if found:
                quiet_since = time.monotonic()
                continue  # more may be waiting: read on before sleeping
            if await request.is_disconnected():
                return
            if time.monotonic() - quiet_since >= HEARTBEAT_SECONDS:
                yield ": keep-alive\n\n"
                quiet_since = time.monotonic()
            await anyio.sleep(POLL_SECONDS)

    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return StreamingResponse(stream(), media_type=MEDIA_TYPE, headers=headers)
