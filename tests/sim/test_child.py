"""The demo's node in a child process (lnconsole.sim.child): ready when it says so, answers like lightningd over
its socket, stops when the console stops — and when the console is killed — and says why when it can't start."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from pyln.client import LightningRpc

from lnconsole.sim.child import ChildOptions, NodeProcess, NodeProcessFailed
from lnconsole.sim.demo_stories import DEMO_PAYEES

FAST = ChildOptions(hop_delay_ms=0.0, nice=0)


def gone(pid: int, timeout: float = 10.0) -> bool:
    """Whether process ``pid`` (not our child) has ended within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.02)
    return False


def test_the_child_serves_the_demo_network_and_stops_with_the_console(short_socket_dir: Path) -> None:
    socket_path = short_socket_dir / "lightning-rpc"
    log_file = short_socket_dir / "demo.log"
    with NodeProcess(socket_path, ChildOptions(hop_delay_ms=0.0, log_file=log_file, verbose=True)) as child:
        child.wait_ready()
        assert child.process is not None
        pid = child.process.pid
        assert os.getpriority(os.PRIO_PROCESS, pid) >= 10  # niced: the console draws first
        rpc = LightningRpc(str(socket_path))
        assert rpc.getinfo()["alias"] == "console"
        aliases = {node["alias"] for node in rpc.listnodes()["nodes"]}
        assert set(DEMO_PAYEES) <= aliases
    assert child.process is None
    assert gone(pid, timeout=0.1)  # waited for, not left running
    assert not socket_path.exists()  # the child removed its socket on the way out
    assert "simulated lightningd listening on" in log_file.read_text()  # its log goes to the console's file


def test_a_child_that_cannot_start_says_why(short_socket_dir: Path) -> None:
    socket_path = short_socket_dir / ("x" * 120)  # longer than a unix socket path may be
    with NodeProcess(socket_path, FAST) as child, pytest.raises(NodeProcessFailed) as failed:
        child.wait_ready()
    assert str(failed.value).startswith(f"lnconsole sim: cannot listen on {socket_path}: ")
    assert "path too long" in str(failed.value).lower()


def test_the_child_ends_when_the_console_is_killed(short_socket_dir: Path) -> None:
    """SIGKILL leaves no time to stop anything: the lifeline pipe's end-of-file stops the node all the same."""
    socket_path = short_socket_dir / "lightning-rpc"
    console = textwrap.dedent(
        f"""
        import sys, time
        from pathlib import Path
        from lnconsole.sim.child import ChildOptions, NodeProcess
        child = NodeProcess(Path({str(socket_path)!r}), ChildOptions(hop_delay_ms=0.0, nice=0)).start()
        child.wait_ready()
        print(child.process.pid, flush=True)
        time.sleep(60)
        """
    )
    process = subprocess.Popen([sys.executable, "-c", console], stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        child_pid = int(process.stdout.readline())
        assert LightningRpc(str(socket_path)).getinfo()["alias"] == "console"
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
        assert gone(child_pid)
        assert not socket_path.exists()
    finally:
        process.kill()
        process.wait()


def test_stopping_a_child_that_hangs_kills_it(short_socket_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A node that ignores its lifeline (stopped with SIGSTOP here) is killed after the wait, not waited on forever."""
    monkeypatch.setattr("lnconsole.sim.child.STOP_WAIT_S", 0.5)
    child = NodeProcess(short_socket_dir / "lightning-rpc", FAST).start()
    child.wait_ready()
    assert child.process is not None
    process = child.process
    os.kill(process.pid, signal.SIGSTOP)
    started = time.monotonic()
    child.stop()
    assert process.returncode == -signal.SIGKILL
    assert time.monotonic() - started < 5
