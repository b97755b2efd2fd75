"""A kernel client for nbgrader (and nbclient) that does not stall on a missed ZMQ wake-up.

nbclient waits for a cell's ``execute_reply`` with one poll of the shell socket for the
whole cell timeout, and for the cell's outputs with an unbounded poll of the IOPub
socket. pyzmq's asyncio poll learns that a message arrived from an edge-triggered file
descriptor; when that edge is missed (we saw it under CPU load, on cells that open
ipywidgets and send a burst of comm messages) the message sits in the socket until the
poll times out, and only the final non-blocking check at the timeout finds it. The cell
has finished, but nbgrader waits the full ``Execute.timeout`` (180 s) before going on.
Measured on 2 busy cores: 4 of 6 runs of the source notebook stalled 90 s (the limit then)
on a widget cell; see ``bench/bench_notebook.py --stock-client``.

:class:`SteadyKernelClient` polls in slices of :data:`SLICE` seconds instead: each slice
ends with that non-blocking check, so a missed wake-up costs at most one slice. Timeouts
keep their meaning (the deadline is the same). ``course/nbgrader_config.py`` installs it
with ``c.AsyncKernelManager.client_factory``.
"""

from __future__ import annotations

import time
from queue import Empty
from typing import Any

from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.channels import AsyncZMQSocketChannel
from traitlets import Type

#: Longest wait of one poll, seconds: the most a missed wake-up can delay a message.
SLICE = 0.25


class SlicedChannel(AsyncZMQSocketChannel):
    """``get_msg`` that polls in short slices up to the same deadline."""

    async def get_msg(self, timeout: float | None = None) -> dict[str, Any]:  # type: ignore[override]
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            try:
                return await super().get_msg(timeout=SLICE if left is None else min(SLICE, left))
            except Empty:
                if left is not None and left <= SLICE:
                    raise


class SteadyKernelClient(AsyncKernelClient):
    """nbclient's asynchronous client with :class:`SlicedChannel` for shell and IOPub."""

    shell_channel_class = Type(SlicedChannel)  # type: ignore[assignment]
    iopub_channel_class = Type(SlicedChannel)  # type: ignore[assignment]
