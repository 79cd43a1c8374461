"""Figure 5: idle cost, the console's CPU while 16 parts stay pending and nothing changes.

The simulated node (``regtest``, no hop delay, payees hold an incomplete payment for 600 s) runs in its own
process. A plain pyln-client script sends 16 parts of a payment whose invoice asks twice their sum, so the payee
holds them all, pending, for the whole measurement. Then ``lnconsole --rpc-file SOCKET`` starts on a pseudo
terminal (100x32) in its own process, as an operator starts it: it finds the payment in flight (``listsendpays
status=pending``), opens the attempts screen on it and watches its 16 parts (``waitsendpay`` long-polls) with
the header's status poll running. Once the screen shows "16 in flight" and a few seconds have passed, the
console's process CPU time (user + system, every thread, from /proc) is read over ``runs`` windows of 2 s while
the terminal's output is read and dropped; the figure is the CPU used over the whole span, in % of one core.

For comparison the same is measured with nothing in flight (the console on its invoice screen), and the
simulated node's own CPU over the span is noted (what the console's polling costs the node).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

from pyln.client import LightningRpc

from .common import Figure, SimProcess, Terminal, cpu_seconds, progress, thread_cpu_seconds

PARTS = 16
PART_MSAT = 1_000_000
TARGET_CPU_PERCENT = 2.0
WINDOW_S = 2.0
SETTLE_S = 3.0


def hold_parts(socket_path: str) -> str:
    """Send 16 parts of a payment whose invoice asks for twice their sum: the payee holds them (pending)."""
    from lnconsole.node import PylnNode
    from lnconsole.routing import RouteFinder

    node = PylnNode(socket_path)
    rpc = LightningRpc(socket_path)
    created = rpc.call("dev-sim-invoice", {"node": "C", "amount_msat": 2 * PARTS * PART_MSAT, "description": "held"})
    decoded = rpc.call("decode", {"string": created["bolt11"]})
    route = RouteFinder(node, node.getinfo().id).find(decoded["payee"], PART_MSAT, final_cltv=18)[0]
    for partid in range(1, PARTS + 1):
        rpc.call(
            "sendpay",
            {
                "route": [hop.to_json() for hop in route.to_sendpay()],
                "payment_hash": created["payment_hash"],
                "amount_msat": 2 * PARTS * PART_MSAT,
                "bolt11": created["bolt11"],
                "payment_secret": created["payment_secret"],
                "partid": partid,
                "groupid": 1,
            },
        )
    pending = rpc.call("listsendpays", {"payment_hash": created["payment_hash"], "status": "pending"})["payments"]
    if len(pending) != PARTS:
        raise RuntimeError(f"expected {PARTS} pending parts, the node has {len(pending)}")
    return str(created["payment_hash"])


def console_command(socket_path: str) -> list[str]:
    script = Path(sys.executable).parent / "lnconsole"
    base = [str(script)] if script.exists() else [sys.executable, "-m", "lnconsole.cli"]
    return [*base, "--rpc-file", socket_path]


def measure_idle(sim: SimProcess, marker: bytes, windows: int) -> dict[str, Any]:
    """Start the console on ``sim``, wait for ``marker``, settle, then read CPU over ``windows`` windows."""
    with Terminal(console_command(sim.socket_path)) as terminal:
        terminal.wait_for(marker, timeout=60)
        terminal.drain(SETTLE_S)
        shares: list[float] = []
        started_wall, started_cpu, started_sim = time.monotonic(), cpu_seconds(terminal.pid), cpu_seconds(sim.pid)
        threads_before = thread_cpu_seconds(terminal.pid)
        for _ in range(windows):
            wall, cpu = time.monotonic(), cpu_seconds(terminal.pid)
            terminal.drain(WINDOW_S)
            shares.append((cpu_seconds(terminal.pid) - cpu) / (time.monotonic() - wall) * 100)
        span = time.monotonic() - started_wall
        used = cpu_seconds(terminal.pid) - started_cpu
        threads_after = thread_cpu_seconds(terminal.pid)
        main = threads_after.get(terminal.pid, 0.0) - threads_before.get(terminal.pid, 0.0)
        sim_used = cpu_seconds(sim.pid) - started_sim
    return {
        "percent": used / span * 100,
        "windows": shares,
        "span": span,
        "sim_percent": sim_used / span * 100,
        "main_percent": main / span * 100,
    }


def run(runs: int) -> list[Figure]:
    windows = max(3, runs)
    progress("idle: 16 parts held by the payee")
    with SimProcess("regtest", hop_delay_ms=0, mpp_timeout_s=600) as sim:
        hold_parts(sim.socket_path)
        pending = measure_idle(sim, f"{PARTS} in flight".encode(), windows)
    progress("idle: nothing in flight")
    with SimProcess("regtest", hop_delay_ms=0) as sim:
        empty = measure_idle(sim, b"Paste a BOLT11", windows)
    return [
        Figure(
            "5 idle",
            f"{PARTS} parts pending: console CPU",
            pending["percent"],
            "%",
            target=TARGET_CPU_PERCENT,
            runs=len(pending["windows"]),
            note=(
                f"of one core over {pending['span']:.0f} s ({len(pending['windows'])} windows of {WINDOW_S:g} s, "
                f"max window {max(pending['windows']):.2f} %); the UI thread {pending['main_percent']:.2f} %, the "
                f"other threads (watchers, workers, Textual's input/output) the rest; the simulated node meanwhile: "
                f"{pending['sim_percent']:.2f} %"
            ),
        ),
        Figure(
            "5 idle",
            "nothing in flight: console CPU",
            empty["percent"],
            "%",
            runs=len(empty["windows"]),
            note=(
                f"the invoice screen, for comparison (UI thread {empty['main_percent']:.2f} %); the simulated node "
                f"meanwhile: {empty['sim_percent']:.2f} %"
            ),
        ),
    ]
