"""Server-Sent Events responses for the till pages: a few at a time (each holds a server thread), about 25 s each
(the browser reconnects, with Last-Event-ID, so nothing is lost), the place given back when the response closes."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable

from flask import Response

ROUNDS = 5  # of 5 s: a stream lives about 25 s
ROUND_SECONDS = 5.0


def capped_stream(limit: threading.BoundedSemaphore, subscribe: Callable[[], object],
                  first: Iterable[str] = ()) -> Response:
    """Stream `subscribe()`'s events after the `first` messages; 503 with Retry-After when `limit` is taken."""
    from drivers.events import format_sse, format_sse_comment

    if not limit.acquire(blocking=False):
        return Response("", status=503, headers={"Retry-After": "5"})
    try:
        subscription = subscribe()
    except Exception:
        limit.release()
        raise
    opening = list(first) or [format_sse_comment("connected")]

    def stream():
        try:
            yield from opening
            for _ in range(ROUNDS):
                event = subscription.get(timeout=ROUND_SECONDS)
                yield format_sse(event) if event is not None else format_sse_comment()
        finally:
            subscription.close()

    released = threading.Event()

    def release() -> None:  # runs when the response closes, even if the stream never started
        if not released.is_set():
            released.set()
            subscription.close()
            limit.release()

    response = Response(stream(), mimetype="text/event-stream",
                        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
    response.call_on_close(release)
    return response
