"""``lnconsole --demo`` only talks to its own simulator and ends cleanly on SIGTERM and SIGHUP, and the console's log
goes to a file in the user's state directory, never to the terminal, and holds no secret.

The demo runs as ``lnconsole -v --demo`` runs (``cli.main``: the log set up at debug level, the demo network built
and served by its child process, the app made by ``demo_app``), with HOME in a temporary directory and LIGHTNING_DIR
set, and lightningd sockets where ``lightning-cli`` would look (``~/.lightning/<network>/lightning-rpc`` and
``$LIGHTNING_DIR/...``): listeners that record every connection. Only ``App.run`` is replaced, by the same app
run headless and driven by its keys through a payment (the bookstore invoice from the demo's picker).

What counts as a secret: the payment preimage and the payment_secret. The node shows the preimage to whoever can
read its RPC socket (``listsendpays`` gives it to the payer once paid), and the invoice carries the
payment_secret (so a bolt11 is a secret too until the payment is done): the socket is guarded by lightningd's
directory permissions, and whoever holds it can spend the node's money anyway. A log file is not guarded like
that: it is kept for weeks, attached to bug reports and read by others. So the log holds neither the preimage,
nor the payment_secret, nor the invoice that carries it, at any log level; payment hashes, node ids, channels
and amounts, which gossip or the invoice's payee already know, may be logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import io
import logging
import os
import pty
import re
import select
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from lnconsole import cli
from lnconsole.app import LnConsoleApp
from lnconsole.node import PylnNode
from lnconsole.payment import PaymentComplete
from scripts.export_screenshots import open_confirm, open_invoice, open_route, send, until_paid
from tests.faults.helpers import TALLY, check_parts

NETWORKS = ("bitcoin", "testnet", "signet", "regtest")


class FakeLightningd:
    """A unix socket where a real lightningd's would be: it accepts and records every connection, answers none."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.connections = 0
        self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._socket.bind(os.fspath(path))
        self._socket.listen(16)
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self._socket.accept()
            except OSError:
                return
            self.connections += 1
            connection.close()

    def close(self) -> None:
        self._socket.shutdown(socket.SHUT_RDWR)
        self._socket.close()
        self._thread.join(timeout=5)


@contextlib.contextmanager
def root_logging_restored() -> Iterator[None]:
    """``cli`` points the root logger at the log file: afterwards, the test process's handlers and level again
    (the handlers the console added closed)."""
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    try:
        yield
    finally:
        for handler in root.handlers[:]:
            if handler not in saved_handlers:
                root.removeHandler(handler)
                handler.close()
        for handler in saved_handlers:
            if handler not in root.handlers:
                root.addHandler(handler)
        root.setLevel(saved_level)


@dataclass
class DemoRun:
    """What one ``lnconsole -v --demo`` left behind."""

    home: Path
    fakes: list[FakeLightningd]
    socket_path: str = ""
    """The socket the demo's app talked to."""
    paid: PaymentComplete | None = None
    bolt11: str = ""
    payment_secret: str = ""
    records: list[Any] = field(default_factory=list)
    terminal: str = ""
    """Everything written to stdout and stderr (Python's and the file descriptors') during the run."""


async def pay_the_bookstore(app: LnConsoleApp, run: DemoRun) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await pay_steps(pilot, run)


async def pay_steps(pilot: Pilot[Any], run: DemoRun) -> None:
    app = pilot.app
    assert isinstance(app, LnConsoleApp)
    run.socket_path = app.node.socket_path
    invoice_screen = await open_invoice(pilot, "bookstore")
    assert invoice_screen.payable is not None
    run.bolt11 = invoice_screen.payable.invoice.bolt11
    run.payment_secret = invoice_screen.payable.invoice.payment_secret or ""
    await open_route(pilot)
    await open_confirm(pilot)
    screen = await send(pilot)
    await until_paid(pilot)
    outcome = screen.session.outcome
    assert isinstance(outcome, PaymentComplete)
    run.paid = outcome
    run.records = PylnNode(run.socket_path).listsendpays(payment_hash=outcome.payment_hash)


@pytest.fixture(scope="module")
def demo_run() -> Iterator[DemoRun]:
    lightning_dir = Path(tempfile.mkdtemp(prefix="lnc-ld-"))  # short: unix socket paths are limited
    short_home = Path(tempfile.mkdtemp(prefix="lnc-h-"))
    fakes = [FakeLightningd(short_home / ".lightning" / network / "lightning-rpc") for network in NETWORKS]
    fakes += [FakeLightningd(lightning_dir / network / "lightning-rpc") for network in NETWORKS]
    fakes.append(FakeLightningd(lightning_dir / "lightning-rpc"))
    run = DemoRun(home=short_home, fakes=fakes)

    def run_headless(app: LnConsoleApp, *args: Any, **kwargs: Any) -> None:
        asyncio.run(pay_the_bookstore(app, run))

    with (
        pytest.MonkeyPatch.context() as patch,
        tempfile.TemporaryFile(mode="w+") as terminal,
        root_logging_restored(),
    ):
        patch.setenv("HOME", str(short_home))
        patch.delenv("XDG_STATE_HOME", raising=False)
        patch.setenv("LIGHTNING_DIR", str(lightning_dir))
        patch.setattr(LnConsoleApp, "run", run_headless)
        patch.setattr(sys, "stdout", io.StringIO())
        patch.setattr(sys, "stderr", io.StringIO())
        saved_fds = os.dup(1), os.dup(2)
        os.dup2(terminal.fileno(), 1)
        os.dup2(terminal.fileno(), 2)
        try:
            code = cli.main(["-v", "--demo"])
        finally:
            os.dup2(saved_fds[0], 1)
            os.dup2(saved_fds[1], 2)
            for fd in saved_fds:
                os.close(fd)
            run.terminal = sys.stdout.getvalue() + sys.stderr.getvalue()  # type: ignore[attr-defined]
            terminal.seek(0)
            run.terminal += terminal.read()
        assert code == 0
    yield run
    for fake in fakes:
        fake.close()


def test_the_demo_only_talks_to_its_own_simulator(demo_run: DemoRun) -> None:
    assert demo_run.paid is not None  # a whole payment went through
    check_parts(demo_run.records, {(1, 1)}, amount_msat=demo_run.paid.amount_msat)
    assert demo_run.socket_path.startswith(tempfile.gettempdir()) and "lnconsole-demo-" in demo_run.socket_path
    assert all(fake.path.exists() for fake in demo_run.fakes)
    assert [fake.connections for fake in demo_run.fakes] == [0] * len(demo_run.fakes)
    TALLY.fault("lightningd socket planted for the demo to find", len(demo_run.fakes))


def log_text(run: DemoRun) -> str:
    path = run.home / ".local" / "state" / "lnconsole" / "lnconsole.log"
    assert path.is_file()
    return path.read_text()


def test_the_log_goes_to_the_state_directory_never_to_the_terminal(demo_run: DemoRun) -> None:
    text = log_text(demo_run)
    assert " DEBUG " in text and "simulated lightningd listening on" in text  # -v: debug messages too
    assert demo_run.terminal == ""


def test_the_log_holds_no_secret(demo_run: DemoRun) -> None:
    paid = demo_run.paid
    assert paid is not None and len(paid.preimage) == 64 and len(demo_run.payment_secret) == 64
    text = log_text(demo_run).lower()
    assert paid.payment_hash in text or "sendpay" in text  # the log does speak of the payment
    assert paid.preimage not in text
    assert demo_run.payment_secret not in text
    bolt11 = demo_run.bolt11.lower()
    assert bolt11 not in text and bolt11[len(bolt11) // 2 :][:60] not in text


def test_xdg_state_home_is_honoured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    with root_logging_restored():
        path = cli.log_to_file(verbose=False)
        logging.getLogger("lnconsole.test").warning("where the log goes")
    assert path == tmp_path / "state" / "lnconsole" / "lnconsole.log"
    assert "where the log goes" in path.read_text()


def test_a_demo_whose_node_cannot_start_says_why_and_stops(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The demo's node can't listen (its socket path is too long for a unix socket): a message, exit status 1, no
    traceback, and the console never starts."""
    long_tmp = tmp_path / ("t" * 100)
    long_tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(long_tmp))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    started: list[LnConsoleApp] = []
    monkeypatch.setattr(LnConsoleApp, "run", lambda app, *args, **kwargs: started.append(app))
    with root_logging_restored():
        code = cli.main(["--demo"])
    assert code == 1 and started == []
    err = capsys.readouterr().err
    assert err.startswith("lnconsole --demo: the simulated node did not start: ") and "too long" in err
    assert "Traceback" not in err
    assert not any(long_tmp.iterdir())  # the demo's directory and the child's stderr file went with it


def _demo_on_a_terminal(tmp_path: Path) -> tuple[subprocess.Popen[bytes], int]:
    """``lnconsole --demo`` on a pseudo terminal (its temporary files under ``tmp_path``), once it has drawn its
    first screen: (process, the terminal's master end)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 32, 100, 0, 0))
    env = {**os.environ, "TMPDIR": str(tmp_path), "XDG_STATE_HOME": str(tmp_path / "state"), "TERM": "xterm-256color"}
    process = subprocess.Popen(
        [sys.executable, "-m", "lnconsole.cli", "--demo"], stdin=slave, stdout=slave, stderr=slave, env=env
    )
    os.close(slave)
    seen = b""
    deadline = time.monotonic() + 60
    while b"Demo invoices" not in re.sub(rb"\x1b\[[0-9;?]*[a-zA-Z]", b"", seen):
        assert time.monotonic() < deadline and process.poll() is None, "the demo did not draw its picker"
        if select.select([master], [], [], 0.1)[0]:
            seen += os.read(master, 1 << 16)
    return process, master


def _drain_until_exit(process: subprocess.Popen[bytes], master: int, timeout: float = 30) -> int:
    deadline = time.monotonic() + timeout
    while process.poll() is None and time.monotonic() < deadline:
        if select.select([master], [], [], 0.1)[0]:
            with contextlib.suppress(OSError):
                os.read(master, 1 << 16)
    code = process.wait(timeout=5)
    os.close(master)
    return code


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_a_demo_ended_by_a_signal_leaves_nothing_behind(tmp_path: Path, signum: int) -> None:
    """kill, or the SSH session dropping, ends the demo as ctrl+q does: its node stops and its socket and temporary
    directory are removed (Python's default for both signals would leave them)."""
    process, master = _demo_on_a_terminal(tmp_path)
    demo_dirs = [path for path in tmp_path.iterdir() if path.name.startswith("lnconsole-demo-")]
    assert len(demo_dirs) == 1 and (demo_dirs[0] / "lightning-rpc").exists()
    children = subprocess.run(["pgrep", "-P", str(process.pid)], capture_output=True, text=True).stdout.split()
    assert len(children) == 1  # the demo's node
    process.send_signal(signum)
    assert _drain_until_exit(process, master) == 0
    assert not demo_dirs[0].exists()
    with pytest.raises(ProcessLookupError):
        os.kill(int(children[0]), 0)
    TALLY.fault(f"demo ended by {signal.Signals(signum).name}")
