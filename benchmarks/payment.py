"""Figure 2: payment overhead, the console against a plain pyln-client script, and settle-to-row latency.

The simulated node (``regtest``, no hop delay) runs in its own process and writes the moment each part completes
(:mod:`benchmarks.simproc` ``--settle-log``). Each run pays a fresh invoice of C in 16 equal parts over the same
routes (planned once, outside the clock):

- the console: ``make_app`` under ``App.run_test`` in this process, driven by the Pilot. The payment is asked
  for (``PayRequested``), the confirmation dialog opens, and the clock starts when ``y`` is pressed; it stops
  at the first frame after the 16th row of the attempts table shows the part complete
  (``AttemptsTable.show_part``, wrapped);
- the baseline: one ``LightningRpc`` making the same 16 ``sendpay`` calls (same parameters), then a
  ``waitsendpay`` for each part.

The two alternate; the ratio is the median of the pairs' ratios. Settle-to-row: for every part of every run,
from the node's settle timestamp to the frame showing its row complete (p95 over all parts; the time to the
row's update, before the frame, is given too). Both clocks are ``time.monotonic()`` (CLOCK_MONOTONIC, one clock
for every process on Linux).

For scale, the same comparison with the simulator's default hop delay (20 ms) is given, without a target.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path
from typing import Any

from pyln.client import LightningRpc

from .common import (
    Figure,
    PaintClock,
    SimProcess,
    as_the_console_runs,
    median,
    pair_ratio,
    patched,
    percentile,
    progress,
    read_settle_log,
)

PARTS = 16
PART_MSAT = 100_000
TARGET_RATIO = 1.2
TARGET_SETTLE_TO_ROW_MS = 50.0


def new_invoice(socket_path: str) -> Any:
    """A fresh invoice of C for the whole amount, checked by the console's invoice loader."""
    from lnconsole.invoice import load_invoice
    from lnconsole.node import PylnNode

    node = PylnNode(socket_path)
    created = node.call("dev-sim-invoice", {"node": "C", "amount_msat": PARTS * PART_MSAT, "description": "bench"})
    return load_invoice(node, created["bolt11"])


def plan_for(invoice: Any, parts: tuple[Any, ...]) -> Any:
    from lnconsole.plan import PaymentPlan, PaymentTarget

    return PaymentPlan(PaymentTarget.from_invoice(invoice), parts)


def first_plan(socket_path: str) -> tuple[Any, ...]:
    """16 equal parts routed by the console's finder (the routes are reused for every invoice)."""
    from lnconsole.node import PylnNode
    from lnconsole.plan import PaymentTarget, equal_split
    from lnconsole.routing import RouteFinder

    node = PylnNode(socket_path)
    finder = RouteFinder(node, node.getinfo().id)
    return equal_split(PaymentTarget.from_invoice(new_invoice(socket_path)), PARTS, finder).parts


class ConsoleSide:
    """The console under ``run_test``, paying one plan after another in the same app (the first payment, which
    loads the attempts screen's stylesheet and warms the connections, is not timed)."""

    def __init__(self, app: Any, pilot: Any) -> None:
        self.app = app
        self.pilot = pilot
        self.frames = PaintClock(app)
        self.payment_hash = ""
        self.rows: dict[tuple[int, int], float] = {}
        self.done = asyncio.Event()
        self.mounted: list[tuple[float, Any]] = []
        """(moment, screen) of each attempts screen's mount."""

    def wrap_mount(self, original: Any) -> Any:
        """AttemptsScreen.on_mount, noting when the screen of the payment being timed mounts."""

        def on_mount(screen: Any) -> None:
            if screen.payment_hash == self.payment_hash:
                self.mounted.append((time.monotonic(), screen))
            original(screen)

        return on_mount

    def wrap(self, original: Any) -> Any:
        """AttemptsTable.show_part, noting when each part of the payment being timed first shows complete."""

        def show_part(table: Any, state: Any, **options: Any) -> None:
            original(table, state, **options)
            if (
                state.status == "complete"
                and getattr(table.screen, "payment_hash", None) == self.payment_hash
                and state.key not in self.rows
            ):
                self.rows[state.key] = time.monotonic()
                if len(self.rows) == PARTS:
                    self.done.set()

        return show_part

    async def pay(self, plan: Any, invoice: Any) -> dict[str, Any]:
        """Confirm with ``y`` and wait for every row to show complete; times are time.monotonic()."""
        from lnconsole.screens.confirm import ConfirmDialog
        from lnconsole.screens.messages import PayRequested

        app, pilot = self.app, self.pilot
        self.payment_hash = plan.target.payment_hash
        self.rows = {}
        self.done = asyncio.Event()
        app.post_message(PayRequested(plan, invoice))
        deadline = time.monotonic() + 10
        while not isinstance(app.screen, ConfirmDialog):
            if time.monotonic() > deadline:
                raise TimeoutError("the confirmation dialog did not open")
            await pilot.pause(0.01)
        await pilot.pause()
        started = time.monotonic()
        await pilot.press("y")
        await asyncio.wait_for(self.done.wait(), timeout=30)
        await _until_frame(pilot, self.frames, max(self.rows.values()))
        rows = dict(self.rows)
        painted = {key: self.frames.first_after(moment) or moment for key, moment in rows.items()}
        mounted, screen = self.mounted[-1]
        first_frame = self.frames.first_of(screen, mounted) or mounted
        while len(app.screen_stack) > 2:  # back to the invoice screen for the next payment
            app.pop_screen()
        await pilot.pause(0.05)
        return {
            "started": started,
            "ended": max(painted.values()),
            "rows": rows,
            "painted": painted,
            "screen_drawn": first_frame - mounted,
        }


async def alternate(socket_path: str, jobs: list[tuple[Any, Any]], runs: int) -> dict[str, Any]:
    """Warm up, then ``runs`` pairs of (console payment, script payment), in alternating order."""
    from lnconsole.app import make_app
    from lnconsole.node import PylnNode
    from lnconsole.screens.attempts import AttemptsScreen
    from lnconsole.widgets.attempts_table import AttemptsTable

    console: list[float] = []
    script: list[float] = []
    outcomes: list[tuple[str, dict[str, Any]]] = []
    app = make_app(PylnNode(socket_path), poll_status=False)
    with as_the_console_runs():
        async with app.run_test(size=(100, 32)) as pilot:
            side = ConsoleSide(app, pilot)
            with patched(AttemptsTable, "show_part", side.wrap), patched(AttemptsScreen, "on_mount", side.wrap_mount):
                await pilot.pause(0.2)  # the start-up workers (status, pending payments) are done
                await side.pay(*jobs.pop())
                script_run(socket_path, jobs.pop()[0])
                for index in range(runs):
                    progress(f"payment: run {index + 1}/{runs}")
                    console_job, script_job = jobs.pop(), jobs.pop()
                    for which in ("console", "script") if index % 2 == 0 else ("script", "console"):
                        if which == "console":
                            outcome = await side.pay(*console_job)
                            console.append(outcome["ended"] - outcome["started"])
                            outcomes.append((console_job[0].target.payment_hash, outcome))
                        else:
                            script.append(script_run(socket_path, script_job[0]))
    return {"console": console, "script": script, "outcomes": outcomes}


async def _until_frame(pilot: Any, frames: PaintClock, moment: float, timeout: float = 2.0) -> None:
    deadline = time.monotonic() + timeout
    while frames.first_after(moment) is None and time.monotonic() < deadline:
        await pilot.pause(0.005)


def script_run(socket_path: str, plan: Any) -> float:
    """The same sendpay and waitsendpay calls from a plain pyln-client script; seconds."""
    rpc = LightningRpc(socket_path)
    target = plan.target
    started = time.monotonic()
    for part in plan.parts:
        params = {
            "route": [hop.to_json() for hop in part.route.to_sendpay()],
            "payment_hash": target.payment_hash,
            "label": target.label,
            "amount_msat": target.amount_msat,
            "bolt11": target.bolt11,
            "payment_secret": target.payment_secret,
            "partid": part.partid,
            "groupid": 1,
        }
        rpc.call("sendpay", {key: value for key, value in params.items() if value is not None})
    for part in plan.parts:
        rpc.call(
            "waitsendpay", {"payment_hash": target.payment_hash, "partid": part.partid, "groupid": 1, "timeout": 60}
        )
    return time.monotonic() - started


def compare(runs: int, hop_delay_ms: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="lnc-settle-") as scratch:
        settle_log = Path(scratch) / "settled"
        with SimProcess("regtest", hop_delay_ms=hop_delay_ms, settle_log=settle_log) as sim:
            parts = first_plan(sim.socket_path)
            jobs = [
                (plan_for(invoice, parts), invoice)
                for invoice in (new_invoice(sim.socket_path) for _ in range(2 * runs + 2))
            ]
            measured = asyncio.run(alternate(sim.socket_path, jobs, runs))
        settled = read_settle_log(settle_log)
    to_row: list[float] = []
    to_frame: list[float] = []
    for payment_hash, outcome in measured["outcomes"]:
        for (groupid, partid), moment in outcome["rows"].items():
            settle = settled.get((payment_hash, groupid, partid))
            if settle is None:
                continue
            to_row.append(moment - settle)
            to_frame.append(outcome["painted"][(groupid, partid)] - settle)
    drawn = [outcome["screen_drawn"] for _, outcome in measured["outcomes"]]
    return {
        "console": measured["console"],
        "script": measured["script"],
        "to_row": to_row,
        "to_frame": to_frame,
        "screen_drawn": drawn,
    }


def run(runs: int) -> list[Figure]:
    fast = compare(runs, 0.0)
    slow = compare(max(3, runs // 2), 20.0)
    figures = [
        Figure(
            "2 payment",
            f"{PARTS} parts, no hop delay: confirm to all rows complete",
            median(fast["console"]) * 1000,
            "ms",
            baseline=median(fast["script"]) * 1000,
            ratio=pair_ratio(fast["console"], fast["script"]),
            ratio_target=TARGET_RATIO,
            runs=runs,
            note=(
                "baseline: a plain pyln-client script making the same sendpay and waitsendpay calls; the attempts "
                f"screen alone, from its mount to its first frame: {median(fast['screen_drawn']) * 1000:.1f} ms median"
            ),
        ),
        Figure(
            "2 payment",
            "settle on the node to row shown complete, p95",
            percentile(fast["to_frame"], 0.95) * 1000,
            "ms",
            target=TARGET_SETTLE_TO_ROW_MS,
            runs=len(fast["to_frame"]),
            note=(
                f"to the next frame; to the row's update {percentile(fast['to_row'], 0.95) * 1000:.1f} ms p95, "
                f"{median(fast['to_row']) * 1000:.1f} ms median; {len(fast['to_row'])} parts"
            ),
        ),
        Figure(
            "2 payment",
            f"{PARTS} parts, 20 ms hop delay (for scale)",
            median(slow["console"]) * 1000,
            "ms",
            baseline=median(slow["script"]) * 1000,
            ratio=pair_ratio(slow["console"], slow["script"]),
            runs=len(slow["console"]),
            note=(
                f"settle to row shown complete at this delay: {median(slow['to_frame']) * 1000:.1f} ms median, "
                f"{percentile(slow['to_frame'], 0.95) * 1000:.1f} ms p95 ({len(slow['to_frame'])} parts)"
            ),
        ),
    ]
    return figures
