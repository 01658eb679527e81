"""The SSE broker: scans reach the page that listens; while none listens they wait, flagged missed; channels are
apart; nothing is dropped without a trace; the SSE wire format."""

from __future__ import annotations

import json
import threading

import pytest

from drivers.events import ScanBroker, format_sse, format_sse_comment


def scan(code: str) -> dict:
    return {"type": "scan", "code": code}


def test_published_while_nobody_listens_is_delivered_later_as_missed():
    broker = ScanBroker()
    assert broker.publish("till-1", scan("111")) == 0
    assert broker.publish("till-1", scan("222")) == 0
    assert [e["code"] for e in broker.missed("till-1")] == ["111", "222"]
    with broker.subscribe("till-1") as sub:
        got = [sub.get(timeout=1), sub.get(timeout=1)]
        assert [(e["code"], e["missed"]) for e in got] == [("111", True), ("222", True)]
        assert broker.missed("till-1") == []
        assert broker.publish("till-1", scan("333")) == 1
        live = sub.get(timeout=1)
        assert live["code"] == "333" and "missed" not in live
        assert sub.get(timeout=0.05) is None


def test_missed_events_go_to_one_page_only_once():
    broker = ScanBroker()
    broker.publish("till-1", scan("111"))
    with broker.subscribe("till-1") as first:
        assert first.get(timeout=1)["missed"] is True
    with broker.subscribe("till-1") as second:
        assert second.get(timeout=0.05) is None


def test_channels_are_isolated():
    broker = ScanBroker()
    with broker.subscribe("till-2") as other:
        broker.publish("till-1", scan("111"))
        assert other.get(timeout=0.05) is None
    assert [e["code"] for e in broker.missed("till-1")] == ["111"]
    assert broker.missed("till-2") == []


def test_every_listener_of_a_channel_gets_each_event():
    broker = ScanBroker()
    with broker.subscribe("till-1") as tab1, broker.subscribe("till-1") as tab2:
        assert broker.subscribers("till-1") == 2
        assert broker.publish("till-1", scan("111")) == 2
        assert tab1.get(timeout=1)["code"] == tab2.get(timeout=1)["code"] == "111"
    assert broker.subscribers("till-1") == 0


def test_events_a_closing_page_never_took_are_kept_as_missed():
    broker = ScanBroker()
    sub = broker.subscribe("till-1")
    broker.publish("till-1", scan("111"))
    sub.close()
    assert [e["code"] for e in broker.missed("till-1")] == ["111"]
    with broker.subscribe("till-1") as again:
        assert again.get(timeout=1)["missed"] is True


def test_a_stalled_listener_is_closed_and_its_events_kept():
    broker = ScanBroker(queue_limit=2)
    stalled = broker.subscribe("till-1")
    for code in ("1", "2", "3"):
        broker.publish("till-1", scan(code))
    assert stalled.closed
    assert [e["code"] for e in broker.missed("till-1")] == ["1", "2", "3"]
    assert list(stalled) == []  # its iteration ends


def test_missed_list_is_bounded_to_the_latest():
    broker = ScanBroker(missed_limit=3)
    for n in range(5):
        broker.publish("till-1", scan(str(n)))
    assert [e["code"] for e in broker.missed("till-1")] == ["2", "3", "4"]


def test_reconnect_with_last_event_id_replays_what_came_after():
    broker = ScanBroker()
    with broker.subscribe("till-1") as page:
        broker.publish("till-1", scan("111"))
        seen = page.get(timeout=1)
        broker.publish("till-1", scan("222"))  # queued for a connection that is already dead
    # the page closed with 222 untaken: it is missed; 111 was seen
    with broker.subscribe("till-1", last_event_id=seen["id"]) as back:
        replay = back.get(timeout=1)
        assert (replay["code"], replay["missed"]) == ("222", True)
        assert back.get(timeout=0.05) is None


def test_last_event_id_from_another_process_falls_back_to_missed():
    broker = ScanBroker()
    broker.publish("till-1", scan("111"))
    with broker.subscribe("till-1", last_event_id="deadbeef-99") as page:
        assert page.get(timeout=1)["code"] == "111"


def test_ids_are_unique_and_events_are_copies():
    broker = ScanBroker()
    original = scan("111")
    with broker.subscribe("till-1") as page:
        broker.publish("till-1", original)
        broker.publish("till-1", original)
        a, b = page.get(timeout=1), page.get(timeout=1)
    assert a["id"] != b["id"] and a["id"].startswith(broker.epoch + "-")
    assert "id" not in original


def test_iteration_yields_keepalives_and_ends_on_close():
    broker = ScanBroker()
    sub = broker.subscribe("till-1", timeout=0.02)
    got: list = []

    def read() -> None:
        for event in sub:
            got.append(event)
            if event is not None:
                sub.close()

    reader = threading.Thread(target=read)
    reader.start()
    threading.Event().wait(0.1)
    broker.publish("till-1", scan("111"))
    reader.join(2)
    assert not reader.is_alive()
    assert None in got  # keep-alive ticks while idle
    assert [e["code"] for e in got if e is not None] == ["111"]


def test_concurrent_publishers_lose_nothing():
    broker = ScanBroker(queue_limit=10_000)
    sub = broker.subscribe("till-1")
    threads = [threading.Thread(target=lambda t=t: [broker.publish("till-1", scan(f"{t}-{n}")) for n in range(200)])
               for t in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(5)
    codes = []
    while (event := sub.get(timeout=0.05)) is not None:
        codes.append(event["code"])
    sub.close()
    assert len(codes) == 800 and len(set(codes)) == 800


def test_bad_input_is_refused():
    broker = ScanBroker()
    with pytest.raises(ValueError):
        broker.publish("", scan("1"))
    with pytest.raises(ValueError):
        broker.subscribe("x" * 101)
    with pytest.raises(TypeError):
        broker.publish("till-1", "111")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        broker.publish("till-1", {"when": object()})
    assert broker.missed("till-1") == []


def test_format_sse():
    event = {"type": "scan", "code": "]d2010899\x1d21SN", "id": "ab12-7", "missed": True}
    text = format_sse(event, retry_ms=3000)
    assert text == (
        "id: ab12-7\n"
        "event: scan\n"
        "retry: 3000\n"
        'data: {"code":"]d2010899\\u001d21SN","id":"ab12-7","missed":true,"type":"scan"}\n'
        "\n"
    )
    assert json.loads(text.split("data: ", 1)[1]) == event


def test_format_sse_defaults_and_refusals():
    assert format_sse({"code": "a\nb"}) == 'event: message\ndata: {"code":"a\\nb"}\n\n'
    assert format_sse_comment() == ": keep-alive\n\n"
    with pytest.raises(ValueError):
        format_sse({"type": "scan\ndata: x"})
    with pytest.raises(ValueError):
        format_sse({"type": "scan"}, retry_ms=-1)


def test_a_long_missed_list_is_replayed_whole_even_past_the_queue_limit():
    broker = ScanBroker(queue_limit=2, missed_limit=10)
    for n in range(5):
        broker.publish("till-1", scan(str(n)))
    with broker.subscribe("till-1") as page:
        got = [page.get(timeout=1) for _ in range(5)]
    assert [(e["code"], e["missed"]) for e in got] == [(str(n), True) for n in range(5)]


def test_passing_news_is_not_kept_as_missed_but_shows_in_recent():
    broker = ScanBroker()
    broker.publish("till-1", {"type": "scanner", "state": "disconnected"}, keep_if_missed=False)
    broker.publish("till-1", scan("111"))
    assert [e["code"] for e in broker.missed("till-1")] == ["111"]
    assert [e["type"] for e in broker.recent("till-1")] == ["scanner", "scan"]
    assert [e["type"] for e in broker.recent("till-1", limit=1)] == ["scan"]
    assert broker.recent("till-9") == []
