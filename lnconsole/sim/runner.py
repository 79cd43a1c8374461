"""Run a simulated node in the foreground until SIGINT or SIGTERM, as ``lnconsole sim`` does."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable
from pathlib import Path

from .node import SimNode
from .server import SimServer


async def _serve(server: SimServer, on_ready: Callable[[], None] | None) -> None:
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, server.request_stop)
    await server.start()
    if on_ready is not None:
        on_ready()
    await server.wait_stopped()


def serve_forever(node: SimNode, socket_path: Path, on_ready: Callable[[], None] | None = None) -> None:
    """Serve ``node`` on ``socket_path`` until a signal arrives; the socket file is removed on the way out."""
    server = SimServer(node, socket_path)
    asyncio.run(_serve(server, on_ready))
