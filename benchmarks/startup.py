"""Figure 1: start-up, and the import time of the core modules.

Start-up is measured as a user meets it: the program runs on a pseudo terminal (100x32, xterm-256color) in a
fresh process, and the clock runs from the spawn until

1. the first screen is painted: for ``lnconsole --demo`` the invoice screen with the demo's payees ("Demo
   invoices", below the invoice field); for the baseline, a minimal Textual app with a Header, a DataTable and a
   Footer (:mod:`benchmarks.minimal_app`), its first table row;
2. a key round trip: ctrl+p is sent and the command palette ("Search for commands") is painted. Both apps have
   Textual's command palette, so the key costs both the same work.

The figure is the time to 2. Both sides run alternately, after one warm-up run each (which also compiles the
bytecode into the suite's cache, as an installed package has it); the ratio is the median of the pairs' ratios.
For comparison, ``lnconsole --rpc-file`` on a simulated node in another process (what an operator runs: no demo
network to build in the console's process) is timed the same way, up to its invoice screen.

Import time: ``python -X importtime`` in a fresh process importing ``lnconsole.node, invoice, routing, plan,
payment, failures``; the figure is the sum of the cumulative times of the top-level imports that statement
makes (the interpreter's own start-up excluded), and ``textual`` must not be among the modules loaded.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from .common import Figure, SimProcess, Terminal, child_env, median, pair_ratio, progress

TARGET_RATIO = 1.5
TARGET_IMPORT_MS = 150.0
CORE_MODULES = (
    "lnconsole.node",
    "lnconsole.invoice",
    "lnconsole.routing",
    "lnconsole.plan",
    "lnconsole.payment",
    "lnconsole.failures",
)
PALETTE = b"\x10"  # ctrl+p


def console_command() -> list[str]:
    script = Path(sys.executable).parent / "lnconsole"
    base = [str(script)] if script.exists() else [sys.executable, "-m", "lnconsole.cli"]
    return [*base, "--demo"]


def node_console_command(socket_path: str) -> list[str]:
    """The console on a node in another process (what an operator runs), instead of the demo's own network."""
    return [*console_command()[:-1], "--rpc-file", socket_path]


def baseline_command() -> list[str]:
    return [sys.executable, "-m", "benchmarks.minimal_app"]


def time_start(command: list[str], first_screen: bytes) -> tuple[float, float]:
    """(first screen painted, key answered) in seconds since the spawn."""
    with Terminal(command) as terminal:
        painted = terminal.wait_for(first_screen)
        terminal.send(PALETTE)
        answered = terminal.wait_for(b"Search for commands")
    return painted, answered


def import_time_ms() -> tuple[float, bool]:
    """The core modules' import time in a fresh process (ms), and whether textual was imported."""
    code = (
        "import sys\n"
        "sys.stderr.write('--start--\\n')\n"
        f"import {', '.join(CORE_MODULES)}\n"
        "print('textual' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code], capture_output=True, text=True, env=child_env(), check=True
    )
    lines = result.stderr.split("--start--\n", 1)[1].splitlines()
    total_us = 0
    for line in lines:
        if not line.startswith("import time:"):
            continue
        _, cumulative, name = line.removeprefix("import time:").split("|")
        if not name.startswith(" ") or name.startswith("  "):  # nested imports are inside a top-level one
            continue
        total_us += int(cumulative)
    return total_us / 1000, result.stdout.strip() == "True"


def run(runs: int) -> list[Figure]:
    console, baseline = console_command(), baseline_command()
    progress("start-up: warm-up runs (bytecode cache)")
    time_start(console, b"Demo invoices")
    time_start(baseline, b"baseline row 0")
    ours: list[tuple[float, float]] = []
    theirs: list[tuple[float, float]] = []
    for index in range(runs):
        progress(f"start-up: run {index + 1}/{runs}")
        pair = [(console, b"Demo invoices", ours), (baseline, b"baseline row 0", theirs)]
        for command, marker, into in pair if index % 2 == 0 else reversed(pair):
            into.append(time_start(command, marker))
    progress("start-up: lnconsole on a node (no demo network)")
    on_node: list[tuple[float, float]] = []
    with SimProcess("regtest", hop_delay_ms=0) as sim:
        time_start(node_console_command(sim.socket_path), b"Paste a BOLT11")
        for _ in range(runs):
            on_node.append(time_start(node_console_command(sim.socket_path), b"Paste a BOLT11"))
    imports = [import_time_ms() for _ in range(max(3, runs))]
    textual_loaded = any(loaded for _, loaded in imports)
    answered = [a for _, a in ours]
    answered_base = [a for _, a in theirs]
    return [
        Figure(
            "1 start-up",
            "lnconsole --demo: first screen + key round trip",
            median(answered) * 1000,
            "ms",
            baseline=median(answered_base) * 1000,
            ratio=pair_ratio(answered, answered_base),
            ratio_target=TARGET_RATIO,
            runs=runs,
            note="pty 100x32, fresh process; baseline: Header+DataTable+Footer app timed the same way",
        ),
        Figure(
            "1 start-up",
            "first screen painted",
            median([p for p, _ in ours]) * 1000,
            "ms",
            baseline=median([p for p, _ in theirs]) * 1000,
            ratio=pair_ratio([p for p, _ in ours], [p for p, _ in theirs]),
            runs=runs,
        ),
        Figure(
            "1 start-up",
            "lnconsole --rpc-file (a node in another process), same gestures",
            median([a for _, a in on_node]) * 1000,
            "ms",
            baseline=median(answered_base) * 1000,
            ratio=median([a for _, a in on_node]) / median(answered_base),
            runs=runs,
            note="the invoice screen, no demo network to build; ratio against the baseline's median (not paired)",
        ),
        Figure(
            "1 start-up",
            "import core modules (no textual)",
            median([ms for ms, _ in imports]),
            "ms",
            target=TARGET_IMPORT_MS,
            runs=len(imports),
            note="textual imported: " + ("YES (missed)" if textual_loaded else "no"),
        )
        if not textual_loaded
        else Figure(
            "1 start-up",
            "import core modules (no textual)",
            None,
            "ms",
            target=TARGET_IMPORT_MS,
            note="textual was imported by the core modules",
        ),
    ]
