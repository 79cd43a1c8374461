"""Run a simulated node in the foreground until SIGINT, SIGTERM or SIGHUP, as ``lnconsole sim`` does.

Started by ``lnconsole --demo`` (:mod:`lnconsole.sim.child`), it also stops when its lifeline pipe reads
end-of-file: the console that started it has ended, however it ended.
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Callable
from pathlib import Path

from .node import SimNode
from .server import SimServer

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
"""SIGHUP too: the terminal went away (an SSH session dropped), and the socket must not be left behind."""


def _watch_lifeline(loop: asyncio.AbstractEventLoop, fd: int, server: SimServer) -> None:
    """Stop ``server`` once ``fd`` reads end-of-file (the other end's only holder has ended)."""

    def readable() -> None:
        try:
            data = os.read(fd, 64)
        except OSError:
            data = b""
        if not data:
            loop.remove_reader(fd)
            server.request_stop()

    loop.add_reader(fd, readable)


async def _serve(server: SimServer, on_ready: Callable[[], None] | None, lifeline_fd: int | None) -> None:
    loop = asyncio.get_running_loop()
    for signum in STOP_SIGNALS:
        loop.add_signal_handler(signum, server.request_stop)
    await server.start()
    if lifeline_fd is not None:
        _watch_lifeline(loop, lifeline_fd, server)
    if on_ready is not None:
        on_ready()
    await server.wait_stopped()


def serve_forever(
    node: SimNode,
    socket_path: Path,
    on_ready: Callable[[], None] | None = None,
    *,
    lifeline_fd: int | None = None,
) -> None:
    """Serve ``node`` on ``socket_path`` until a signal arrives (or ``lifeline_fd`` reads end-of-file); the socket
    file is removed on the way out."""
    server = SimServer(node, socket_path)
    asyncio.run(_serve(server, on_ready, lifeline_fd))
