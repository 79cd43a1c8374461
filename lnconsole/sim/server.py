"""lightningd's JSON-RPC protocol on a unix socket, served from an asyncio loop.

Requests are JSON objects sent back to back (pyln-client sends no separator); each response is one JSON object
followed by ``\\n\\n``, which is how lightningd ends responses and what pyln-client and lightning-cli read up to.
Every request runs as its own task, so a long ``waitsendpay`` never holds up other calls, on the same connection
or on others. A client that goes away does not stop what it started (as in lightningd, a command runs to its
end and its answer is dropped); the connection is closed once its last answer is written or dropped.

Right after it starts listening, the server builds the routing index of the node's graph (a few hundred
milliseconds on mainnet), so that the first ``getroute``/``getroutes`` does not pay for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import logging
import os
import threading
from typing import Any

from . import commands as _commands  # noqa: F401  (registers every command)
from .errors import JSONRPC2_METHOD_NOT_FOUND, LIGHTNINGD, RpcFault, invalid_params
from .filter import apply_filter, parse_filter
from .graph import RoutingGraph
from .node import SimNode
from .params import parse_params
from .registry import COMMANDS, CallContext, Connection

log = logging.getLogger(__name__)

MAX_REQUEST_BYTES = 64 * 1024 * 1024


def find_object_end(buffer: bytes | bytearray, start: int = 0) -> int | None:
    """Index just past the first complete top-level JSON value that starts at or after ``start``.

    Returns None when the buffer does not hold a whole one yet. Strings and escapes are honoured, so braces
    inside strings do not count.
    """
    depth = 0
    in_string = False
    escaped = False
    begun = False
    for index in range(start, len(buffer)):
        byte = buffer[index]
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
            continue
        if byte == 0x22:
            in_string = True
            begun = True
        elif byte in (0x7B, 0x5B):  # { [
            depth += 1
            begun = True
        elif byte in (0x7D, 0x5D):  # } ]
            depth -= 1
            if depth <= 0:
                return index + 1
        elif not begun and byte in b" \t\r\n":
            continue
        else:
            begun = True
    return None


def error_response(request_id: Any, fault: RpcFault) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request_id, "error": fault.to_json()}


class _ClientProtocol(asyncio.StreamReaderProtocol):
    """One client connection (a StreamReaderProtocol calling :meth:`SimServer._serve_connection`), counted by its
    server from the moment it is accepted until it is lost, so that stopping can close every one."""

    def __init__(self, server: SimServer, reader: asyncio.StreamReader) -> None:
        super().__init__(reader, server._serve_connection)
        self.server = server
        self.transport: asyncio.Transport | None = None
        server._open.add(self)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)  # a unix stream socket's
        self.transport = transport
        super().connection_made(transport)

    def connection_lost(self, exc: Exception | None) -> None:
        self.server._open.discard(self)
        super().connection_lost(exc)


class SimServer:
    """Serves a :class:`SimNode` on a unix socket, in the foreground or in a background thread."""

    def __init__(self, node: SimNode, socket_path: str | os.PathLike[str]) -> None:
        self.node = node
        self.socket_path = os.fspath(socket_path)
        self._server: asyncio.base_events.Server | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ready = threading.Event()
        self._stopped: asyncio.Event | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._open: set[_ClientProtocol] = set()
        """Client connections accepted and not yet lost: closed when the server stops."""
        self._serving: set[asyncio.Task[Any]] = set()
        """The tasks reading the connections (:meth:`_serve_connection`)."""
        self._closing = False

    # -----------------------------------------------------------------------------------------------------------
    # Running

    async def start(self) -> None:
        """Listen on the socket (removing a stale one first), on the running loop; the parts a state file kept in
        flight move on."""
        self.node.state.check_open()
        self._loop = asyncio.get_running_loop()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.socket_path)
        loop = self._loop

        def accepted() -> _ClientProtocol:  # what asyncio.start_unix_server does, plus keeping count
            return _ClientProtocol(self, asyncio.StreamReader(limit=MAX_REQUEST_BYTES, loop=loop))

        self._server = await loop.create_unix_server(accepted, path=self.socket_path)
        self._stopped = asyncio.Event()
        log.info("simulated lightningd listening on %s", self.socket_path)
        self.node.start_serving()
        self._loop.call_soon(self._warm_up)

    def _warm_up(self) -> None:
        """Build the routing index now (it runs on the loop, after ``start`` has returned)."""
        try:
            self.node.component(RoutingGraph).index()
        except Exception:  # a broken graph shows on the first routing call; serving goes on
            log.exception("could not build the routing index")

    async def serve_until_stopped(self) -> None:
        await self.start()
        self._ready.set()
        await self.wait_stopped()

    async def wait_stopped(self) -> None:
        """Wait until :meth:`request_stop`, then close the socket, cancel calls still running and stop the node.

        Stopping marks nothing: HTLCs in flight stay pending where they are, as when lightningd stops, and with a
        state file a node built from it again carries them on.
        """
        assert self._stopped is not None
        await self._stopped.wait()
        await self._shutdown()

    async def _shutdown(self) -> None:
        self._closing = True
        await self._stop_listening()
        for task in list(self._tasks):
            task.cancel()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.socket_path)
        await self._close_connections()
        await self.node.stop_serving()

    async def _stop_listening(self) -> None:
        """Accept no more connections, then close the listening socket.

        Connections already accepted need a turn of the loop to get their transport, and asyncio (3.11) drops one
        whose server has closed meanwhile without closing its socket: its client would wait for ever. So accepting
        stops first, those get their transports, and only then does the server close.
        """
        if self._server is None or self._loop is None:
            return
        for sock in self._server.sockets:
            self._loop.remove_reader(sock.fileno())
        for _ in range(2):
            await asyncio.sleep(0)
        self._server.close()

    async def _close_connections(self) -> None:
        """Close every client connection (as lightningd's close when it exits, so a client waiting for an answer
        sees the connection end), and wait until each is gone and the task reading it has ended."""
        assert self._loop is not None
        deadline = self._loop.time() + 5
        while any(protocol.transport is not None for protocol in self._open) and self._loop.time() < deadline:
            for protocol in list(self._open):
                if protocol.transport is not None:
                    protocol.transport.abort()
            await asyncio.sleep(0)
        if self._serving:
            await asyncio.wait(list(self._serving), timeout=5)

    def request_stop(self) -> None:
        """Ask a running server to stop (thread-safe; nothing to do once it has stopped)."""
        if self._loop is not None and self._stopped is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._stopped.set)

    def start_in_thread(self) -> SimServer:
        """Run the server on its own event loop in a daemon thread; returns once it accepts connections."""

        failed: list[BaseException] = []

        def run() -> None:
            try:
                asyncio.run(self.serve_until_stopped())
            except BaseException as error:  # e.g. a socket path too long: the caller raises it at once
                failed.append(error)
                self._ready.set()

        self._thread = threading.Thread(target=run, name="lnconsole-sim", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout=30) or failed:
            self._thread.join(timeout=1)
            self._thread = None
            cause = failed[0] if failed else None
            raise RuntimeError(f"simulated node did not start on {self.socket_path}: {cause}") from cause
        return self

    def stop(self) -> None:
        """Stop a server started with :meth:`start_in_thread` and wait for its thread."""
        self.request_stop()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def join(self) -> None:
        """Block until a server started with :meth:`start_in_thread` stops (Ctrl-C interrupts the wait)."""
        while self._thread is not None and self._thread.is_alive():
            self._thread.join(timeout=0.5)

    def run_on_loop(self, function: Any, *args: Any) -> Any:
        """Run ``function(*args)`` on the server's loop and return its result (for in-process callers)."""
        assert self._loop is not None

        async def call() -> Any:
            result = function(*args)
            if inspect.isawaitable(result):
                result = await result
            return result

        return asyncio.run_coroutine_threadsafe(call(), self._loop).result(timeout=60)

    def __enter__(self) -> SimServer:
        return self.start_in_thread()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -----------------------------------------------------------------------------------------------------------
    # Connections

    async def _serve_connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connection = Connection(deprecated_apis=self.node.config.deprecated_apis)
        answering: set[asyncio.Task[Any]] = set()
        buffer = bytearray()
        if self._closing:
            writer.close()
            return
        serving = asyncio.current_task()
        assert serving is not None
        self._serving.add(serving)
        try:
            while True:
                end = find_object_end(buffer)
                if end is None:
                    chunk = await reader.read(65536)
                    if not chunk or len(buffer) + len(chunk) > MAX_REQUEST_BYTES:
                        break
                    buffer += chunk
                    continue
                raw = bytes(buffer[:end])
                del buffer[:end]
                task = self._spawn(self._answer(raw, connection, writer))
                answering.add(task)
                task.add_done_callback(answering.discard)
        except (ConnectionResetError, BrokenPipeError):
            pass
        finally:
            # Close once the calls still running for this connection have answered (or been cancelled).
            try:
                if answering:
                    await asyncio.wait(answering)
            finally:
                writer.close()
                self._serving.discard(serving)

    def _spawn(self, coroutine: Any) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _answer(self, raw: bytes, connection: Connection, writer: asyncio.StreamWriter) -> None:
        try:
            request = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError):
            response = error_response(None, RpcFault(-32700, "Invalid token in json input"))
        else:
            response = await self.dispatch(request, connection)
        if writer.is_closing():
            return
        data = json.dumps(response, ensure_ascii=False, separators=(",", ":")).encode() + b"\n\n"
        try:
            writer.write(data)
            await writer.drain()
        except (ConnectionResetError, BrokenPipeError):
            pass

    async def dispatch(self, request: Any, connection: Connection) -> dict[str, Any]:
        """Answer one decoded request with a response object (result or error), as lightningd would."""
        if not isinstance(request, dict):
            return error_response(None, RpcFault(-32600, "Expected {} for json command"))
        request_id = request.get("id")
        method = request.get("method")
        if not isinstance(method, str):
            return error_response(request_id, RpcFault(-32600, "Expected string for method"))
        reply_filter = None
        try:
            if "filter" in request and self._known(method):  # lightningd reads it once the command is found
                reply_filter = parse_filter(request["filter"])
            result = await self.call(method, request.get("params", {}), connection)
        except RpcFault as fault:
            return error_response(request_id, fault)
        except Exception:  # a simulator bug must not kill the connection: answer as lightningd's catch-all
            log.exception("command %s failed", method)
            return error_response(request_id, RpcFault(LIGHTNINGD, f"Internal error in simulated {method}"))
        if reply_filter is not None:
            result = apply_filter(reply_filter, result)
        return {"jsonrpc": "2.0", "id": request_id, "result": result}

    def _known(self, method: str) -> bool:
        """Whether ``method`` names a command of this node's generation (else: -32601 before anything else)."""
        command = COMMANDS.get(method)
        return command is not None and command.generation in ("any", self.node.config.generation)

    async def call(self, method: str, params: Any, connection: Connection | None = None) -> dict[str, Any]:
        """Run command ``method`` with ``params``; raises RpcFault as the command would answer."""
        connection = connection or Connection(deprecated_apis=self.node.config.deprecated_apis)
        command = COMMANDS.get(method)
        generation = self.node.config.generation
        if method == "notifications":
            return {}
        if command is None or command.generation not in ("any", generation):
            raise RpcFault(JSONRPC2_METHOD_NOT_FOUND, f"Unknown command '{method}'")
        if command.deprecated and not connection.deprecated_apis:
            raise RpcFault(JSONRPC2_METHOD_NOT_FOUND, f'Command "{method}" is deprecated')
        if params is not None and not isinstance(params, list | dict):
            raise invalid_params("Expected array or object for params")
        parsed = params if command.raw_params else parse_params(params, command.params)
        result = command.handler(CallContext(self.node, connection), parsed)
        if inspect.isawaitable(result):
            result = await result
        return result
