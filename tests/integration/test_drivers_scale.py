"""Scales on a pty pair: a Toledo 8217 that answers W requests, a CAS scale that streams lines; only stable weights are
taken, and an unplugged scale is read again after replugging without a restart."""

from __future__ import annotations

import os
import select
import threading
import time
from decimal import Decimal

import pytest

from drivers.errors import DeviceError
from drivers.scale import (
    CAS_CONTINUOUS,
    TOLEDO_8217,
    Reading,
    ScaleOffline,
    ScaleOverload,
    ScaleTimeout,
    ScaleUnderZero,
    ScaleUnstable,
    SerialScale,
)

STX, CR = b"\x02", b"\r"
MOVING = STX + b"?A" + CR  # status byte 0x41: bit 0 motion
OVER = STX + b"?B" + CR  # bit 1 over capacity
UNDER = STX + b"?D" + CR  # bit 2 under zero


def weight(text: str) -> bytes:
    return STX + text.encode("ascii") + CR


class FakeScale:
    """The scale end of a pty. Toledo mode: answer each W with the next scripted answer (the last one repeats).
    Continuous mode: send `frame_at(elapsed)` every 20 ms."""

    def __init__(self, answers: list[bytes] | None = None, frame_at=None) -> None:
        self.master, slave = os.openpty()
        self.name = os.ttyname(slave)
        os.close(slave)
        self.answers = list(answers or [])
        self.frame_at = frame_at
        self.requests = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        started = time.monotonic()
        while not self._stop.is_set():
            if self.frame_at is not None:
                self._stop.wait(0.02)
                _, writable, _ = select.select([], [self.master], [], 0.05)
                if writable:
                    self._write(self.frame_at(time.monotonic() - started))
                continue
            ready, _, _ = select.select([self.master], [], [], 0.05)
            if not ready:
                continue
            try:
                data = os.read(self.master, 64)
            except OSError:  # nobody has the slave open
                self._stop.wait(0.01)
                continue
            for _ in range(data.count(b"W")):
                self.requests += 1
                if self.answers:
                    answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
                    self._write(answer)

    def _write(self, data: bytes) -> None:
        try:
            os.write(self.master, data)
        except OSError:
            pass

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        assert not self._thread.is_alive()
        if self.master >= 0:
            os.close(self.master)
            self.master = -1


@pytest.fixture
def fakes():
    made: list[FakeScale] = []

    def make(**kwargs) -> FakeScale:
        fake = FakeScale(**kwargs)
        made.append(fake)
        return fake

    yield make
    for fake in made:
        fake.close()


def test_toledo_stable_weight_is_taken(fakes):
    fake = fakes(answers=[weight("01.250")])
    with SerialScale(fake.name, TOLEDO_8217) as scale:
        got = scale.read_stable(timeout=2)
    assert got == Decimal("1.250") and str(got) == "1.250"
    assert fake.requests == 1


def test_toledo_moving_is_refused_until_it_settles(fakes):
    fake = fakes(answers=[MOVING, MOVING, MOVING, weight("00.735")])
    with SerialScale(fake.name, TOLEDO_8217) as scale:
        assert scale.read_stable(timeout=3) == Decimal("0.735")
    assert fake.requests == 4  # three moving answers were asked again, not taken


def test_toledo_always_moving_raises_unstable_in_time(fakes):
    fake = fakes(answers=[MOVING])
    with SerialScale(fake.name, TOLEDO_8217) as scale:
        started = time.monotonic()
        with pytest.raises(ScaleUnstable) as raised:
            scale.read_stable(timeout=0.5)
        assert 0.4 < time.monotonic() - started < 1.5
    assert raised.value.params == {"seconds": "0.5"}
    assert fake.requests >= 2


def test_toledo_over_capacity_raises_at_once(fakes):
    fake = fakes(answers=[OVER])
    with SerialScale(fake.name, TOLEDO_8217) as scale:
        started = time.monotonic()
        with pytest.raises(ScaleOverload):
            scale.read_stable(timeout=3)
        assert time.monotonic() - started < 1


def test_toledo_under_zero_is_refused(fakes):
    fake = fakes(answers=[UNDER])
    with SerialScale(fake.name, TOLEDO_8217) as scale, pytest.raises(ScaleUnderZero):
        scale.read_stable(timeout=0.4)


def test_silent_scale_times_out(fakes):
    fake = fakes(answers=[])
    with SerialScale(fake.name, TOLEDO_8217) as scale:
        started = time.monotonic()
        with pytest.raises(ScaleTimeout):
            scale.read_stable(timeout=0.6)
        assert time.monotonic() - started < 1.5
    assert fake.requests >= 1


def test_missing_port_is_offline_at_once(tmp_path):
    scale = SerialScale(str(tmp_path / "ttyUSB7"), TOLEDO_8217)
    started = time.monotonic()
    with pytest.raises(ScaleOffline) as raised:
        scale.read_stable(timeout=3)
    assert time.monotonic() - started < 0.5
    assert isinstance(raised.value, DeviceError)
    assert scale.state == "disconnected"


def test_toledo_unplug_and_replug(fakes, tmp_path):
    link = tmp_path / "scale"
    first = fakes(answers=[weight("02.000")])
    os.symlink(first.name, link)
    states: list[str] = []
    scale = SerialScale(str(link), TOLEDO_8217, on_state=states.append)
    try:
        assert scale.read_stable(timeout=2) == Decimal("2.000")
        link.unlink()  # cable out: the device and its stable link go
        first.close()
        with pytest.raises(ScaleOffline):  # the port is gone and cannot be reopened
            scale.read_stable(timeout=0.5)
        second = fakes(answers=[weight("03.500")])
        os.symlink(second.name, link)
        assert scale.read_stable(timeout=2) == Decimal("3.500")
        assert states[0] == "connected" and "disconnected" in states and states[-1] == "connected"
    finally:
        scale.close()


def test_cas_unstable_lines_then_stable(fakes):
    def frame_at(elapsed: float) -> bytes:
        return b"US,GS,+  1.240kg\r\n" if elapsed < 0.4 else b"ST,GS,+  1.250kg\r\n"

    fake = fakes(frame_at=frame_at)
    with SerialScale(fake.name, CAS_CONTINUOUS) as scale:
        first = scale.read(timeout=1)
        assert first == Reading(weight=Decimal("1.240"), stable=False, status="moving")
        assert scale.read_stable(timeout=3) == Decimal("1.250")


def test_cas_overload(fakes):
    fake = fakes(frame_at=lambda elapsed: b"OL,GS,+  0.000kg\r\n")
    with SerialScale(fake.name, CAS_CONTINUOUS) as scale, pytest.raises(ScaleOverload):
        scale.read_stable(timeout=2)


def test_cas_net_weight_and_garbage_between_frames(fakes):
    frames = iter([b"\xff\xfe garbage\r\n", b"ST,NT,+  0.500kg\r\n"])
    fake = fakes(frame_at=lambda elapsed: next(frames, b"ST,NT,+  0.500kg\r\n"))
    with SerialScale(fake.name, CAS_CONTINUOUS) as scale:
        assert scale.read_stable(timeout=2) == Decimal("0.500")
        reading = scale.read(timeout=1)
    assert reading.net is True and reading.stable is True
