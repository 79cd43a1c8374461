"""The demo's simulated node in a child process: ``lnconsole sim`` started and stopped by ``lnconsole --demo``.

Why a process and not a thread of the console: lightningd is another process too, so the demo runs the very
code path an operator runs (pyln-client over a unix socket, nothing shared); the node's work (HTLCs moving
hop by hop, route finding) never takes the console's GIL away from drawing; and on start-up the node is built
on the other core while the console imports Textual (issue 5: start-up).

The child lives exactly as long as the console: it holds the read end of a *lifeline* pipe whose write end
only the console has, and stops when that pipe reads end-of-file. The kernel closes the write end whenever the
console ends, by ``ctrl+q``, an exception, SIGTERM or SIGKILL alike, so the child is never left behind. It says
it is ready (listening) on a second pipe; if it ends before that, what it wrote to its stderr (a file beside
the socket, never the console's terminal) is the message.

This module imports only the standard library: the console loads it before Textual, and the simulator itself
is imported by the child alone.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

READY = b"ready\n"
"""What the child writes on its ready pipe once it accepts connections."""
STOP_WAIT_S = 5.0
"""How long the console waits for the child to stop (it removes its socket) before killing it."""


class NodeProcessFailed(RuntimeError):
    """The child ended before it was ready; the message is what it said on stderr."""


@dataclass(frozen=True)
class ChildOptions:
    """What the child is started with: ``lnconsole sim`` options, plus where its log goes."""

    scenario: str = "demo"
    seed: int = 0
    hop_delay_ms: float = 20.0
    mpp_timeout_s: float = 60.0
    log_file: Path | None = None
    verbose: bool = False
    nice: int = 10
    """The child runs at a lower CPU priority: on a busy machine the console's drawing comes first (the
    simulated network builds while the console imports Textual, and both want a core)."""


class NodeProcess:
    """``lnconsole sim`` on ``socket_path`` in a child process, tied to this one by a lifeline pipe.

    ``start()`` returns at once (the child builds its network while the caller goes on); ``wait_ready()``
    blocks until it listens. Use as a context manager: leaving stops the child and waits for it.
    """

    def __init__(self, socket_path: Path, options: ChildOptions) -> None:
        self.socket_path = socket_path
        self.options = options
        self.error_path = socket_path.with_name(socket_path.name + ".stderr")
        self.process: subprocess.Popen[bytes] | None = None
        self._ready_read = -1
        self._lifeline_write = -1
        self._ready = False

    def command(self, ready_fd: int, lifeline_fd: int) -> list[str]:
        options = self.options
        command = [sys.executable, "-m", "lnconsole.cli"]
        if options.verbose:
            command.append("--verbose")
        command += [
            "sim",
            "--socket",
            str(self.socket_path),
            "--scenario",
            options.scenario,
            "--seed",
            str(options.seed),
            "--hop-delay-ms",
            str(options.hop_delay_ms),
            "--mpp-timeout",
            str(options.mpp_timeout_s),
            "--ready-fd",
            str(ready_fd),
            "--lifeline-fd",
            str(lifeline_fd),
            "--nice",
            str(options.nice),
        ]
        if options.log_file is not None:
            command += ["--log-file", str(options.log_file)]
        return command

    def start(self) -> NodeProcess:
        ready_read, ready_write = os.pipe()
        lifeline_read, lifeline_write = os.pipe()
        try:
            with open(self.error_path, "wb") as errors:
                self.process = subprocess.Popen(
                    self.command(ready_write, lifeline_read),
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=errors,
                    pass_fds=(ready_write, lifeline_read),
                    close_fds=True,
                )
        except BaseException:
            for fd in (ready_read, lifeline_write):
                os.close(fd)
            raise
        finally:
            os.close(ready_write)  # the child's ends: only the child holds them now
            os.close(lifeline_read)
        os.set_inheritable(lifeline_write, False)  # no other child of ours may keep the node alive
        self._ready_read = ready_read
        self._lifeline_write = lifeline_write
        return self

    def wait_ready(self) -> None:
        """Block until the child listens on the socket; :class:`NodeProcessFailed` if it ended first."""
        if self._ready:
            return
        said = b""
        while not said.endswith(b"\n"):
            chunk = os.read(self._ready_read, 64)
            if not chunk:
                break
            said += chunk
        if said != READY:
            raise NodeProcessFailed(self._what_went_wrong())
        self._ready = True

    def _what_went_wrong(self) -> str:
        assert self.process is not None
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=STOP_WAIT_S)
        try:
            text = self.error_path.read_text(errors="replace").strip()
        except OSError:
            text = ""
        lines = [line for line in text.splitlines() if line.strip()]
        if lines:
            return lines[-1]
        return f"the simulated node stopped before it was ready (exit status {self.process.returncode})"

    def stop(self) -> None:
        """Cut the lifeline (the child closes its socket and ends), wait for it, kill it if it hangs."""
        for fd in (self._lifeline_write, self._ready_read):
            if fd >= 0:
                os.close(fd)
        self._lifeline_write = self._ready_read = -1
        if self.process is None:
            return
        try:
            self.process.wait(timeout=STOP_WAIT_S)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None

    def __enter__(self) -> NodeProcess:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()


def tell_ready(fd: int) -> None:
    """In the child: say it listens, and close the pipe."""
    try:
        os.write(fd, READY)
    finally:
        os.close(fd)
