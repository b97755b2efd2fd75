"""The wire between a grading child and the grader: length-prefixed codec frames, both ends.

A frame is a 4-byte big-endian length and a :mod:`grader.codec` payload. The child
writes with :class:`Channel`; the grader reads with :class:`FrameReader`, which refuses an
oversized frame by its header and never holds more than one frame at a time.
"""

from __future__ import annotations

import os
import select
import stat
import struct
import time
from collections.abc import Callable
from typing import Any

from grader.probe_side import probe_side

__all__ = ["EOF", "MAX_FRAME", "NOTHING", "Channel", "FrameReader", "ProtocolError"]


@probe_side  # the child's end; the reader below stays out of the child's copy
class Channel:
    """Length-prefixed frames to the grader over the inherited pipe."""

    def __init__(self, fd: int, encode) -> None:
        self.fd = fd
        self.encode = encode
        self.write = os.write  # kept: student code may replace os.write later

    def send(self, message: dict) -> None:
        payload = self.encode(message)
        data = struct.pack(">I", len(payload)) + payload
        view = memoryview(data)
        while view:
            written = self.write(self.fd, view)
            view = view[written:]


class ProtocolError(Exception):
    """The child broke the protocol; ``reason`` is the message key and values that say how."""

    def __init__(self, key: str, **values: Any) -> None:
        super().__init__(key)
        self.reason = {"key": key, **values}


EOF = object()
NOTHING = object()
#: Largest frame a child may send. The largest result frame of the reference is 7.3 MB
#: (section 7's MNIST sweep: copies of three runs' weights every 8 steps, for the replay of
#: grader/checks/replay.py; ``bench/frame_sizes.py``), float32 whatever the student's dtype
#: (the spy converts); the largest with weights a student reports is 1.72 MB (init_schemes,
#: 2 nets of up to 16 layers), doubled in float64. 16 MiB leaves a margin of 2.2x over the
#: reference and bounds what one hostile frame costs the grader: with the codec's caps on containers and values, decoding
#: the worst 16 MiB frame measured adds under 100 MB (a 64 MiB frame took 3.8 GB before).
MAX_FRAME = 16 * 1024 * 1024


class FrameReader:
    """Reads length-prefixed codec frames from a non-blocking pipe or FIFO with a timeout.

    The stream ends at end-of-file, or once the child has exited and the channel is drained
    (a FIFO that the grader itself keeps open for writing never reports end-of-file).
    """

    def __init__(self, fd: int, alive: Callable[[], bool]) -> None:
        self.fd = fd
        self.alive = alive
        self.buffer = bytearray()
        self.eof = False
        self._keepalive: int | None = None
        if stat.S_ISFIFO(os.fstat(fd).st_mode):
            try:  # without a writer, a FIFO reads as end-of-file until the child opens it
                self._keepalive = os.open(f"/proc/self/fd/{fd}", os.O_WRONLY | os.O_NONBLOCK)
            except OSError:
                self._keepalive = None

    def close(self) -> None:
        for fd in (self.fd, self._keepalive):
            if fd is not None:
                os.close(fd)
        self._keepalive = None

    def _drain(self) -> None:
        # Reads only until one whole frame is buffered: a child that keeps writing cannot
        # make the grader hold more than one frame (plus one chunk) at a time.
        while not self._frame_ready():
            try:
                chunk = os.read(self.fd, 1 << 20)
            except BlockingIOError:
                return
            if not chunk:
                self.eof = True
                return
            self.buffer.extend(chunk)
            # Refuse an oversized frame by its header, before reading (and holding) it.
            self._check_header()

    def _check_header(self) -> None:
        if len(self.buffer) >= 4:
            (size,) = struct.unpack(">I", self.buffer[:4])
            if size > MAX_FRAME:
                raise ProtocolError("reason_frame_too_big", size=size, limit=MAX_FRAME)

    def _frame_ready(self) -> bool:
        if len(self.buffer) < 4:
            return False
        return len(self.buffer) >= 4 + struct.unpack(">I", self.buffer[:4])[0]

    def _frame(self) -> Any:
        """The next decoded frame, or ``NOTHING`` while none is complete (a frame may well
        decode to ``None``: that is a malformed event, not the absence of one)."""
        if len(self.buffer) < 4:
            return NOTHING
        self._check_header()
        (size,) = struct.unpack(">I", self.buffer[:4])
        if len(self.buffer) < 4 + size:
            return NOTHING
        with memoryview(self.buffer) as view, view[4 : 4 + size] as part:
            payload = bytes(part)  # one copy, not two
        del self.buffer[: 4 + size]
        from grader import codec  # imports torch: see grader.sandbox.supervisor

        try:
            return codec.decode(payload)
        except codec.CodecError:
            raise ProtocolError("reason_frame_undecodable") from None

    def next(self, timeout: float) -> Any:
        """A decoded frame, ``NOTHING`` after ``timeout`` seconds without one, or ``EOF``."""
        end = time.monotonic() + timeout
        while True:
            frame = self._frame()
            if frame is not NOTHING:
                return frame
            if self.eof:
                if self.buffer:
                    raise ProtocolError("reason_frame_truncated")
                return EOF
            left = end - time.monotonic()
            if left <= 0:
                return NOTHING
            ready, _, _ = select.select([self.fd], [], [], min(left, 0.2))
            if ready:
                self._drain()
            elif not self.alive():
                self._drain()
                if self._frame_ready():
                    continue
                self.eof = True
