"""An in-process broker for Server-Sent Events: scans go to the till page that listens, or wait flagged as missed.

An event published while nobody listens on its channel is kept (the last `missed_limit` per channel) and handed to
the next subscriber with `missed: true`; so are events still queued for a subscriber when it closes, and events a
stalled subscriber could not take. Nothing is dropped without a trace: only the oldest missed events beyond the limit
are discarded, and that is logged.

Each event gets an id `<epoch>-<n>`. A page that reconnects with the last id it saw (EventSource sends it as
Last-Event-ID) gets every later event still in the channel's recent history, flagged missed, so an event lost in a
half-dead connection is shown again.
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import queue
import threading
from collections import deque
from collections.abc import Iterator
from typing import Any

log = logging.getLogger(__name__)

MAX_CHANNEL_LENGTH = 100
_CLOSED = object()


class Subscription:
    """A queue of events for one listener. Iterate it (yields None every `timeout` seconds so the caller can send a
    keep-alive) or call `get(timeout)`; `close()` ends the iteration and hands untaken events back to the broker."""

    def __init__(self, broker: ScanBroker, channel: str, maxsize: int, timeout: float | None) -> None:
        self.broker = broker
        self.channel = channel
        self.timeout = timeout
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=maxsize + 1)  # +1: room for the close marker
        self._maxsize = maxsize
        self.closed = False

    def _offer(self, event: dict) -> bool:
        """Called by the broker under its lock; False when this subscriber is full (it is then closed)."""
        if self.closed or self._queue.qsize() >= self._maxsize:
            return False
        self._queue.put_nowait(event)
        return True

    def get(self, timeout: float | None = None) -> dict | None:
        """The next event, or None when `timeout` seconds pass with none (or the subscription is closed)."""
        if self.closed and self._queue.empty():
            return None
        try:
            item = self._queue.get(timeout=timeout)
        except queue.Empty:
            return None
        if item is _CLOSED:
            self._queue.put_nowait(_CLOSED)  # keep later get() calls from blocking
            return None
        return item

    def __iter__(self) -> Iterator[dict | None]:
        while True:
            if self.closed and self._drained():
                return
            event = self.get(self.timeout)
            if event is None and self.closed:
                return
            yield event

    def _drained(self) -> bool:
        with self._queue.mutex:
            return all(item is _CLOSED for item in self._queue.queue)

    def close(self) -> None:
        self.broker._unsubscribe(self)

    def _take_pending(self) -> list[dict]:
        """Under the broker's lock: mark closed, wake any reader, return the events nobody took."""
        self.closed = True
        pending = []
        with self._queue.mutex:
            pending = [item for item in self._queue.queue if item is not _CLOSED]
            self._queue.queue.clear()
        self._queue.put_nowait(_CLOSED)
        return pending

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Channel:
    def __init__(self, missed_limit: int, history_limit: int) -> None:
        self.subscribers: list[Subscription] = []
        self.missed: deque[dict] = deque(maxlen=missed_limit)
        self.history: deque[dict] = deque(maxlen=history_limit)


class ScanBroker:
    """Thread-safe fan-out of events per channel (one channel per till). One broker per server process."""

    def __init__(self, missed_limit: int = 50, queue_limit: int = 100, history_limit: int = 50) -> None:
        if missed_limit < 1 or queue_limit < 1 or history_limit < 0:
            raise ValueError("limits must be positive")
        self.missed_limit = missed_limit
        self.queue_limit = queue_limit
        self.history_limit = history_limit
        self.epoch = os.urandom(4).hex()  # ids from an earlier process never match this one
        self._counter = itertools.count(1)
        self._lock = threading.Lock()
        self._channels: dict[str, _Channel] = {}

    def _channel(self, name: str) -> _Channel:
        if not isinstance(name, str) or not name or len(name) > MAX_CHANNEL_LENGTH:
            raise ValueError(f"a channel is a name of 1 to {MAX_CHANNEL_LENGTH} characters")
        channel = self._channels.get(name)
        if channel is None:
            channel = self._channels[name] = _Channel(self.missed_limit, self.history_limit)
        return channel

    def publish(self, channel: str, event: dict, keep_if_missed: bool = True) -> int:
        """Hand a copy of `event` (plus `id`) to every subscriber; returns how many took it (0: kept as missed).

        `keep_if_missed=False` is for passing news that is stale by the time anyone listens (a scanner's state):
        it still goes to the recent history, not to the missed list."""
        if not isinstance(event, dict):
            raise TypeError("an event is a dict")
        with self._lock:
            ch = self._channel(channel)
            stamped = {**event, "id": f"{self.epoch}-{next(self._counter)}"}
            json.dumps(stamped)  # refuse what format_sse could not send, now rather than in the response
            ch.history.append(stamped)
            delivered = 0
            for sub in list(ch.subscribers):
                if sub._offer(stamped):
                    delivered += 1
                else:  # a listener that stopped reading: close it; its page reconnects and gets the missed events
                    log.warning("subscriber on %s is not reading; closing it", channel)
                    self._remove(ch, sub)
            if not delivered and keep_if_missed:
                self._keep_missed(channel, ch, [stamped])
            return delivered

    def subscribe(self, channel: str, last_event_id: str | None = None, timeout: float | None = 15.0) -> Subscription:
        """A new listener. It first receives the channel's missed events (flagged `missed: true`), or, when the page
        says which event it saw last (Last-Event-ID), every later event from the recent history."""
        with self._lock:
            ch = self._channel(channel)
            replay = self._after(ch, last_event_id)
            if replay is None:
                replay = list(ch.missed)
            ch.missed.clear()
            sub = Subscription(self, channel, self.queue_limit + len(replay), timeout)  # the replay always fits
            for event in replay:
                sub._offer({**event, "missed": True})
            ch.subscribers.append(sub)
            return sub

    def _after(self, ch: _Channel, last_event_id: str | None) -> list[dict] | None:
        epoch, _, number = (last_event_id or "").strip().partition("-")
        if epoch != self.epoch or not number.isdigit():
            return None
        seen = int(number)
        later = [event for event in ch.history if int(event["id"].partition("-")[2]) > seen]
        missed_ids = {event["id"] for event in later}
        # missed events older than the history window still count
        return [event for event in ch.missed if event["id"] not in missed_ids] + later

    def missed(self, channel: str) -> list[dict]:
        """The events waiting for the next subscriber (a copy), oldest first."""
        with self._lock:
            return [dict(event) for event in self._channel(channel).missed]

    def recent(self, channel: str, limit: int = 5) -> list[dict]:
        """The channel's latest events (delivered or not), oldest first: for a devices page's "last scans"."""
        with self._lock:
            ch = self._channels.get(channel)
            return [dict(event) for event in list(ch.history)[-limit:]] if ch and limit > 0 else []

    def subscribers(self, channel: str) -> int:
        with self._lock:
            ch = self._channels.get(channel)
            return len(ch.subscribers) if ch else 0

    def _unsubscribe(self, sub: Subscription) -> None:
        with self._lock:
            ch = self._channels.get(sub.channel)
            if ch is not None and sub in ch.subscribers:
                self._remove(ch, sub)

    def _remove(self, ch: _Channel, sub: Subscription) -> None:
        ch.subscribers.remove(sub)
        pending = [{k: v for k, v in event.items() if k != "missed"} for event in sub._take_pending()]
        if pending and not ch.subscribers:
            self._keep_missed(sub.channel, ch, pending)

    def _keep_missed(self, name: str, ch: _Channel, events: list[dict]) -> None:
        known = {event["id"] for event in ch.missed}
        fresh = [event for event in events if event["id"] not in known]
        overflow = len(ch.missed) + len(fresh) - self.missed_limit
        if overflow > 0:
            log.warning("channel %s: %d missed event(s) beyond the last %d discarded", name, overflow,
                        self.missed_limit)
        merged = sorted([*ch.missed, *fresh], key=lambda event: int(event["id"].partition("-")[2]))
        ch.missed.clear()
        ch.missed.extend(merged)


def format_sse(event: dict, retry_ms: int | None = None) -> str:
    """One SSE message: `id:` from event["id"], `event:` from event["type"] (else "message"), `data:` the JSON."""
    lines = []
    event_id = event.get("id")
    if event_id is not None:
        lines.append(f"id: {_field(str(event_id))}")
    lines.append(f"event: {_field(str(event.get('type') or 'message'))}")
    if retry_ms is not None:
        if isinstance(retry_ms, bool) or not isinstance(retry_ms, int) or retry_ms < 0:
            raise ValueError("retry is a whole number of milliseconds")
        lines.append(f"retry: {retry_ms}")
    # JSON escapes every control character, so the data is always one line
    lines.append("data: " + json.dumps(event, ensure_ascii=False, separators=(",", ":"), sort_keys=True))
    return "\n".join(lines) + "\n\n"


def format_sse_comment(text: str = "keep-alive") -> str:
    """A comment line: keeps proxies from closing an idle stream and tells the server whether the page is gone."""
    return f": {_field(text)}\n\n"


def _field(text: str) -> str:
    if any(ch in text for ch in "\r\n\x00"):
        raise ValueError("SSE id, event and comment fields cannot contain line breaks or NUL")
    return text
