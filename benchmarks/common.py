"""What the benchmarks share: figures and their statistics, the simulated node in its own process, a pseudo
terminal to run the console in as a user does, and process CPU time.

Every figure is a median (or a p95) over several runs. Where a figure has a baseline, the two are measured side
by side in the same run, alternating, and the ratio is the median of the pairwise ratios, so that the load of a
shared machine hits both sides alike.
"""

from __future__ import annotations

import contextlib
import fcntl
import math
import os
import pty
import re
import select
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
"""The checkout: subprocesses run ``python -m benchmarks...`` from here."""
SNAPSHOT = ROOT.parent / "shared" / "cln" / "mainnet" / "gossip-store-2026-02-03.compressed"
"""The public graph of 2026-02-03 (17,324 nodes, 50,808 channels)."""
PYCACHE = Path(tempfile.gettempdir()) / "lnconsole-bench-pycache"
"""Where subprocesses keep their bytecode (``PYTHONPYCACHEPREFIX``): start-up is measured with compiled
modules, as after ``pip install``, without writing ``__pycache__`` into the checkout."""


# ---------------------------------------------------------------------------------------------------------------
# Figures


@dataclass
class Figure:
    """One line of the table."""

    group: str
    name: str
    value: float | None
    unit: str
    target: float | None = None
    """The value must stay at or below this (``higher_is_better``: at or above)."""
    higher_is_better: bool = False
    baseline: float | None = None
    ratio: float | None = None
    """value / baseline, as the median of side-by-side pairs."""
    ratio_target: float | None = None
    note: str = ""
    runs: int = 0

    @property
    def verdict(self) -> str:
        """``ok``, ``missed`` or empty (no target)."""
        checks: list[bool] = []
        if self.target is not None and self.value is not None:
            checks.append(self.value >= self.target if self.higher_is_better else self.value <= self.target)
        if self.ratio_target is not None and self.ratio is not None:
            checks.append(self.ratio <= self.ratio_target)
        if self.value is None and (self.target is not None or self.ratio_target is not None):
            return "missed"
        if not checks:
            return ""
        return "ok" if all(checks) else "missed"


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else math.nan


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile (``fraction`` 0.95: p95)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def pair_ratio(values: Sequence[float], baselines: Sequence[float]) -> float:
    """The median of value/baseline over runs measured side by side."""
    return median([value / base for value, base in zip(values, baselines, strict=False) if base > 0])


def fmt(value: float | None, unit: str) -> str:
    """A value in its unit, with as many digits as it deserves."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if unit == "ms":
        return f"{value:.1f} ms" if value < 100 else f"{value:.0f} ms"
    if unit == "s":
        return f"{value:.2f} s"
    if unit == "%":
        return f"{value:.2f} %"
    if unit == "MB":
        return f"{value:.1f} MB"
    if unit in ("/s", "payments/s"):
        return f"{value:.0f} {unit}"
    if unit == "x":
        return f"{value:.2f}x"
    if unit in ("", "count", "calls"):
        return f"{value:,.0f}" + (f" {unit}" if unit not in ("", "count") else "")
    return f"{value:g} {unit}"


def fmt_target(figure: Figure) -> str:
    if figure.target is None:
        return ""
    sign = ">=" if figure.higher_is_better else "<="
    return f"{sign} {fmt(figure.target, figure.unit)}"


def table(figures: Sequence[Figure]) -> str:
    """The figures as a plain-text table (groups in order, notes under the table)."""
    headers = ("figure", "value", "target", "", "baseline", "ratio", "runs")
    rows: list[tuple[str, ...]] = []
    notes: list[str] = []
    for figure in figures:
        ratio = ""
        if figure.ratio is not None:
            ratio = f"{figure.ratio:.2f}"
            if figure.ratio_target is not None:
                ratio += f" (<= {figure.ratio_target:g})"
        name = f"{figure.group}: {figure.name}"
        if figure.note:
            notes.append(f"[{len(notes) + 1}] {figure.group}: {figure.name}: {figure.note}")
            name += f" [{len(notes)}]"
        rows.append(
            (
                name,
                fmt(figure.value, figure.unit),
                fmt_target(figure),
                figure.verdict,
                fmt(figure.baseline, figure.unit) if figure.baseline is not None else "",
                ratio,
                str(figure.runs) if figure.runs else "",
            )
        )
    widths = [max(len(headers[i]), *(len(row[i]) for row in rows)) if rows else len(headers[i]) for i in range(7)]
    align = ("<", ">", ">", "<", ">", ">", ">")
    lines = [" | ".join(f"{h:{a}{w}}" for h, a, w in zip(headers, align, widths, strict=True))]
    lines.append("-+-".join("-" * w for w in widths))
    for row in rows:
        lines.append(" | ".join(f"{c:{a}{w}}" for c, a, w in zip(row, align, widths, strict=True)))
    if notes:
        lines.append("")
        lines.extend(notes)
    return "\n".join(lines)


def markdown_table(figures: Sequence[Figure]) -> str:
    """The same table in Markdown, for benchmarks/README.md."""
    lines = ["| figure | value | target | | baseline | ratio | runs |", "|---|---:|---:|---|---:|---:|---:|"]
    for figure in figures:
        ratio = ""
        if figure.ratio is not None:
            ratio = f"{figure.ratio:.2f}" + (f" (≤ {figure.ratio_target:g})" if figure.ratio_target is not None else "")
        target = fmt_target(figure).replace("<=", "≤").replace(">=", "≥")
        baseline = fmt(figure.baseline, figure.unit) if figure.baseline is not None else ""
        lines.append(
            f"| {figure.group}: {figure.name} | {fmt(figure.value, figure.unit)} | {target} | {figure.verdict} "
            f"| {baseline} | {ratio} | {figure.runs or ''} |"
        )
    return "\n".join(lines)


def progress(message: str) -> None:
    """What the suite is doing, on stderr (the table goes to stdout)."""
    print(f"  {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------------------------
# Subprocesses


def child_env(**extra: str) -> dict[str, str]:
    """The environment of the suite's subprocesses: compiled bytecode kept outside the checkout, the console's
    log in a scratch directory, and a terminal that Textual draws colours on."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(PYCACHE)
    env.setdefault("XDG_STATE_HOME", str(Path(tempfile.gettempdir()) / "lnconsole-bench-state"))
    env["TERM"] = "xterm-256color"
    env["COLORTERM"] = "truecolor"
    env.pop("TEXTUAL", None)
    env.update(extra)
    return env


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc), all its threads."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def thread_cpu_seconds(pid: int) -> dict[int, float]:
    """CPU time (user + system) of each thread of a process, by thread id (the main thread's id is ``pid``)."""
    ticks = os.sysconf("SC_CLK_TCK")
    times: dict[int, float] = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
            times[int(task.name)] = (int(fields[11]) + int(fields[12])) / ticks
    return times


def rss_mb(pid: int | None = None) -> float:
    """Resident set size of a process (this one by default), in MB."""
    path = Path(f"/proc/{pid or 'self'}/status")
    for line in path.read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


@dataclass
class SimProcess:
    """A simulated node served from its own process (as lightningd is), started with ``python -m
    benchmarks.simproc``; ``settle_log`` gets a line per part that completes (hash, groupid, partid, time)."""

    scenario: str = "regtest"
    hop_delay_ms: float = 0.0
    mpp_timeout_s: float = 60.0
    seed: int = 1
    graph: Path | None = None
    settle_log: Path | None = None
    dump_nodes: Path | None = None
    directory: tempfile.TemporaryDirectory[str] = field(
        default_factory=lambda: tempfile.TemporaryDirectory(prefix="lnc-bench-")
    )
    process: subprocess.Popen[str] | None = None
    startup_s: float = 0.0

    @property
    def socket_path(self) -> str:
        return os.path.join(self.directory.name, "rpc")

    @property
    def stderr_path(self) -> str:
        return os.path.join(self.directory.name, "stderr")

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self, timeout: float = 120.0) -> SimProcess:
        command = [
            sys.executable,
            "-m",
            "benchmarks.simproc",
            "--socket",
            self.socket_path,
            "--scenario",
            self.scenario,
            "--hop-delay-ms",
            str(self.hop_delay_ms),
            "--mpp-timeout",
            str(self.mpp_timeout_s),
            "--seed",
            str(self.seed),
        ]
        if self.graph is not None:
            command += ["--graph", str(self.graph)]
        if self.settle_log is not None:
            command += ["--settle-log", str(self.settle_log)]
        if self.dump_nodes is not None:
            command += ["--dump-nodes", str(self.dump_nodes)]
        started = time.perf_counter()
        # Its log (and the tracebacks of calls cut short when it stops) goes to a file, shown only on failure.
        self._stderr = open(self.stderr_path, "w")  # noqa: SIM115  (closed in stop)
        self.process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=self._stderr, text=True, cwd=ROOT, env=child_env()
        )
        assert self.process.stdout is not None
        ready, _, _ = select.select([self.process.stdout], [], [], timeout)
        line = self.process.stdout.readline() if ready else ""
        if line.strip() != "ready":
            log = Path(self.stderr_path).read_text()[-2000:]
            self.stop()
            raise RuntimeError(f"the simulated node ({self.scenario}) did not start: {line!r}\n{log}")
        self.startup_s = time.perf_counter() - started
        return self

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
        stderr = getattr(self, "_stderr", None)
        if stderr is not None:
            stderr.close()
        self.directory.cleanup()

    def __enter__(self) -> SimProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def read_settle_log(path: Path) -> dict[tuple[str, int, int], float]:
    """(payment_hash, groupid, partid) -> time.monotonic() at which the node marked the part complete."""
    settled: dict[tuple[str, int, int], float] = {}
    if not path.exists():
        return settled
    for line in path.read_text().splitlines():
        payment_hash, groupid, partid, when = line.split()
        settled[(payment_hash, int(groupid), int(partid))] = float(when)
    return settled


# ---------------------------------------------------------------------------------------------------------------
# A pseudo terminal


ANSI = re.compile(rb"\x1b\[[0-9;?<>=$ ]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[()][0-9A-Za-z]|\x1b[=>78DEHMNOZc]")
"""Escape sequences (CSI, OSC, charset, single-character): stripped to find text on the screen."""


class Terminal:
    """A program run on a pseudo terminal of ``columns`` x ``rows``, its output read as it comes."""

    def __init__(
        self, command: Sequence[str], *, columns: int = 100, rows: int = 32, env: dict[str, str] | None = None
    ) -> None:
        self.command = list(command)
        self.columns = columns
        self.rows = rows
        self.env = env or child_env()
        self.process: subprocess.Popen[bytes] | None = None
        self.master = -1
        self.started = 0.0
        self._seen = b""

    def start(self) -> Terminal:
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", self.rows, self.columns, 0, 0))
        self.started = time.perf_counter()
        self.process = subprocess.Popen(
            self.command,
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=self.env,
            cwd=ROOT,
            start_new_session=True,
            close_fds=True,
        )
        os.close(slave)
        self.master = master
        return self

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def drain(self, seconds: float) -> None:
        """Read (and drop) output for ``seconds``, so that the program never blocks writing to us."""
        deadline = time.perf_counter() + seconds
        while (left := deadline - time.perf_counter()) > 0:
            ready, _, _ = select.select([self.master], [], [], min(left, 0.2))
            if ready:
                try:
                    os.read(self.master, 1 << 16)
                except OSError:
                    return

    def wait_for(self, text: bytes, timeout: float = 60.0) -> float:
        """Read until ``text`` shows (escape sequences stripped); the time since start. Output read while
        waiting is consumed: a later wait looks only at what comes after."""
        deadline = time.perf_counter() + timeout
        buffer = self._seen
        while True:
            visible = ANSI.sub(b"", buffer)
            if text in visible:
                self._seen = b""
                return time.perf_counter() - self.started
            left = deadline - time.perf_counter()
            if left <= 0 or (self.process is not None and self.process.poll() is not None):
                tail = ANSI.sub(b"", buffer)[-400:]
                raise TimeoutError(f"{text!r} did not show on the terminal; last output: {tail!r}")
            ready, _, _ = select.select([self.master], [], [], min(left, 0.5))
            if ready:
                try:
                    buffer += os.read(self.master, 1 << 16)
                except OSError:
                    continue

    def send(self, data: bytes) -> None:
        os.write(self.master, data)

    def stop(self) -> None:
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
            self.process = None
        if self.master >= 0:
            with contextlib.suppress(OSError):
                os.close(self.master)
            self.master = -1

    def __enter__(self) -> Terminal:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


# ---------------------------------------------------------------------------------------------------------------
# Timing inside a Textual app


class PaintClock:
    """Records when the app composes a screen update (``App._display``, called for each frame even headless):
    "redrawn" means the first frame after a change. Times are ``time.monotonic()``, which is the same clock in
    every process on Linux (CLOCK_MONOTONIC), so they compare with the simulator's settle log."""

    def __init__(self, app: Any) -> None:
        self.frames: list[float] = []
        self.screens: list[Any] = []
        """The screen each frame drew (weakly: only compared by identity)."""
        original = app._display

        def display(screen: Any, renderable: Any) -> None:
            if renderable is not None:
                self.frames.append(time.monotonic())
                self.screens.append(id(screen))
            original(screen, renderable)

        app._display = display

    def first_after(self, moment: float) -> float | None:
        return next((frame for frame in self.frames if frame >= moment), None)

    def first_of(self, screen: Any, moment: float) -> float | None:
        """The first frame drawing ``screen`` at or after ``moment``."""
        return next(
            (
                frame
                for frame, drawn in zip(self.frames, self.screens, strict=True)
                if frame >= moment and drawn == id(screen)
            ),
            None,
        )


@contextlib.contextmanager
def as_the_console_runs() -> Iterator[None]:
    """Garbage collection as ``lnconsole`` sets it up for its app (``cli.start_up_objects_frozen``): what exists
    before the app starts (imports, and here the benchmark's own set-up) is left out of every collection, so a
    full collection walks what the app makes, as in the console. The in-process figures run their app in this."""
    from lnconsole import cli

    frozen = getattr(cli, "start_up_objects_frozen", None)  # older consoles (before issue 5's fixes) had none
    with frozen() if frozen is not None else contextlib.nullcontext():
        yield


@contextlib.contextmanager
def patched(owner: Any, name: str, wrapper: Callable[[Callable[..., Any]], Callable[..., Any]]) -> Iterator[None]:
    """Replace ``owner.name`` with ``wrapper(original)`` for the duration."""
    original = getattr(owner, name)
    setattr(owner, name, wrapper(original))
    try:
        yield
    finally:
        setattr(owner, name, original)
