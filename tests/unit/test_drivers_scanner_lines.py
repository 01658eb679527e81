"""Scanner bytes to codes: CR, LF and CRLF lines, GS kept, control characters and overlong lines dropped."""

from __future__ import annotations

import pytest

from drivers.scanner import LineSplitter, SerialScanner, decode_scan


def test_lines_end_with_cr_lf_or_crlf():
    splitter = LineSplitter()
    assert splitter.feed(b"123\r456\n789\r\n") == [b"123", b"456", b"789"]
    assert splitter.feed(b"\r\n\r\n") == []
    assert splitter.feed(b"12") == [] and splitter.pending
    assert splitter.feed(b"34\r") == [b"1234"]


def test_extra_terminator_byte():
    splitter = LineSplitter(terminator=b"\t")
    assert splitter.feed(b"111\t222\r") == [b"111", b"222"]
    with pytest.raises(ValueError):
        LineSplitter(terminator=b"")


def test_overlong_line_is_dropped_whole_and_the_next_one_is_fine():
    splitter = LineSplitter(max_length=5)
    assert splitter.feed(b"1234567890") == []
    assert splitter.feed(b"123\r99\r") == [b"99"]  # the tail of the long line is not a scan


def test_flush_gives_an_unterminated_rest():
    splitter = LineSplitter()
    splitter.feed(b"555")
    assert splitter.flush() == b"555"
    assert splitter.flush() is None


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (b"8991234567891", "8991234567891"),
        (b"  8991234567891  ", "8991234567891"),
        (b"]C1010899123456789110LOT\x1d17270131", "]C1010899123456789110LOT\x1d17270131"),
        (b"\x1d0108991234567891", "\x1d0108991234567891"),  # leading FNC1 kept (str.strip would eat it)
        (b"10LOT\x1d", "10LOT\x1d"),
        (b"\x02123\x03", "123"),  # STX/ETX framing some scanners add
        (b"Caf\xe9", "Caf\u00e9"),
        (b"\x00\x00", None),
        (b"   ", None),
        (b"1" * 201, None),
    ],
)
def test_decode_scan(raw, code):
    assert decode_scan(raw) == code


def test_scanner_needs_a_handler_and_sane_retry():
    with pytest.raises(TypeError):
        SerialScanner("/dev/ttyACM0")
    with pytest.raises(ValueError):
        SerialScanner("/dev/ttyACM0", on_scan=print, retry_interval=0)
    scanner = SerialScanner("/dev/ttyACM0", on_scan=print)
    assert scanner.state == "stopped" and not scanner.running
    assert scanner.stop() is True  # stopping a scanner that never started is harmless
