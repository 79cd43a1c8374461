"""The history screen on a node with 100,000 sendpays (issue 5, target 4).

    .venv/bin/python -m benchmarks.history [--payments 100000] [--runs 5] [--pages 20]

The simulated node runs in its own process (as lightningd would), filled through its payment store directly
with a realistic mix: mostly single-part payments, multi-part groups of 2-4 parts, failed ones and failed
ones retried in a second group, spread over months, each carrying a bolt11 of a real invoice's length. The
console runs in this process under ``App.run_test`` and is measured as a user sees it:

- first page: F5 pressed until the table shows rows (a fresh node client: the end of the history is
  searched for; and again with what the first open learnt, as a second F5 would);
- page scroll: a PageDown within what is read, from the key to the first frame drawn after the table
  scrolled (as every "redrawn" of the suite); the Pilot's whole round trip (the key, then until the app is
  idle: some 60 ms for a key that does nothing) and the CPU time this process spent are noted;
- older page: the cursor sent to the last row read, until the next older page's rows are in the table;
- memory: the console's resident set size after opening the history and reading ``--pages`` older pages,
  against before opening it (the node's memory is in the other process).

Targets: first page < 0.5 s, page scroll < 100 ms, memory growth < 50 MB. Figures are medians over runs.
``run(runs)`` gives the suite's figures (``python -m benchmarks --only history``); ``main`` prints them alone.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import hashlib
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.common import (
    Figure,
    PaintClock,
    as_the_console_runs,
    median,
    pair_ratio,
    patched,
    percentile,
    rss_mb,
    table,
)
from lnconsole.sim.node import SimConfig, SimNode
from lnconsole.sim.payments import (
    WIRE_INCORRECT_OR_UNKNOWN_PAYMENT_DETAILS,
    WIRE_TEMPORARY_CHANNEL_FAILURE,
    PaymentBook,
    RoutingFailure,
    StoredFailure,
)

BOLT11_LENGTH = 360
"""A typical BOLT11 with a description and a route hint: the bulk of each listsendpays record."""
TARGET_FIRST_PAGE_S = 0.5
TARGET_SCROLL_S = 0.1
TARGET_MEMORY_MB = 50


def populate(node: SimNode, count: int, *, seed: int = 7, now: int | None = None, spacing_s: int = 90) -> int:
    """Add ``count`` sendpay records to the node's store directly (on its loop thread, or before it serves).

    Created one every ``spacing_s`` seconds up to ``now``; returns the number of payment groups made. Mix:
    80% single-part complete, 8% multi-part (2-4 parts) complete, 7% failed, 5% failed then paid in a
    second group; the destinations are the network's nodes other than ours.
    """
    book = node.component(PaymentBook)
    rng = random.Random(seed)
    now = int(now if now is not None else node.now())
    destinations = sorted(n.node_id for n in node.network.nodes.values() if n.node_id != node.our_id)
    bolt11 = "lnbcrt" + "".join(rng.choice("023456789acdefghjklmnpqrstuvwxyz") for _ in range(BOLT11_LENGTH - 6))
    made = 0
    groups = 0
    created_at = now - count * spacing_s

    def part(
        payment_hash: str,
        partid: int,
        groupid: int,
        destination: str,
        amount: int,
        status: str,
        preimage: str | None,
        label: str | None,
    ) -> None:
        nonlocal made, created_at
        fee = 1 + amount * 10 // 1_000_000
        payment = book._new_payment(
            payment_hash=payment_hash,
            partid=partid,
            groupid=groupid,
            destination=destination,
            amount_msat=amount,
            amount_sent_msat=amount + fee,
            total_msat=amount,
            label=label,
            bolt11=bolt11,
            description=None,
        )
        payment.created_at = created_at
        if status == "failed":
            payment.failure = (
                StoredFailure(
                    RoutingFailure(1, WIRE_TEMPORARY_CHANNEL_FAILURE, destinations[0], "103x2x0", 0), "simulated", False
                )
                if rng.random() < 0.7
                else StoredFailure(
                    RoutingFailure(2, WIRE_INCORRECT_OR_UNKNOWN_PAYMENT_DETAILS, destination), "simulated", True
                )
            )
        book._set_status(payment, status, preimage if status == "complete" else None)
        payment.completed_at = created_at + 2
        made += 1
        created_at += spacing_s

    while made < count:
        preimage = rng.randbytes(32).hex()
        payment_hash = hashlib.sha256(bytes.fromhex(preimage)).hexdigest()
        destination = rng.choice(destinations)
        amount = rng.choice((1_000, 21_000, 100_000, 1_000_000, 50_000_000))
        label = f"order {groups}" if rng.random() < 0.3 else None
        kind = rng.random()
        left = count - made
        groups += 1
        if kind < 0.08 and left >= 2:
            parts = min(rng.randint(2, 4), left)
            for partid in range(1, parts + 1):
                part(payment_hash, partid, 1, destination, amount // parts, "complete", preimage, label)
        elif kind < 0.15:
            part(payment_hash, 0, 1, destination, amount, "failed", None, label)
        elif kind < 0.20 and left >= 2:
            part(payment_hash, 0, 1, destination, amount, "failed", None, label)
            part(payment_hash, 0, 2, destination, amount, "complete", preimage, label)
            groups += 1
        else:
            part(payment_hash, 0, 1, destination, amount, "complete", preimage, label)
    return groups


# ---------------------------------------------------------------------------------------------------------------
# The node's process


def serve(socket_path: str, payments: int) -> None:
    """The simulated node, filled, served until SIGTERM; prints "ready" when it answers."""
    from lnconsole.sim.runner import serve_forever
    from lnconsole.sim.scenarios import build_scenario

    node = build_scenario("regtest", SimConfig(hop_delay_ms=0))
    started = time.perf_counter()
    groups = populate(node, payments)
    print(
        f"filled {payments:,} sendpays ({groups:,} payments) in {time.perf_counter() - started:.1f} s",
        file=sys.stderr,
        flush=True,
    )
    serve_forever(node, Path(socket_path), on_ready=lambda: print("ready", flush=True))


def start_node(socket_path: str, payments: int) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.history", "--serve", socket_path, "--payments", str(payments)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    if line.strip() != "ready":
        process.kill()
        raise SystemExit(f"the simulated node did not start: {line!r}")
    return process


# ---------------------------------------------------------------------------------------------------------------
# The console's side


async def until(pilot: Any, condition: Callable[[], object], timeout: float = 30.0) -> None:
    deadline = time.perf_counter() + timeout
    while not condition():
        if time.perf_counter() > deadline:
            raise TimeoutError("the history did not get there in time")
        await pilot.pause(0.002)


async def time_scrolls(app: Any, pilot: Any, scrolls: int, table_class: type) -> dict[str, list[float]]:
    """``scrolls`` PageDowns: for each, from the key to the first frame composed after the table scrolled
    (``scroll``), the Pilot's whole round trip (``scroll_pilot``: the key, then waiting until the app is idle,
    which alone takes some 60 ms for a key that does nothing), and this process's CPU time over it. A PageDown
    that changes nothing (the end of what is read) draws no frame: it is counted in ``unchanged``."""
    frames = PaintClock(app)
    acted: list[float] = []

    def note_scroll(original: Callable[..., Any]) -> Callable[..., Any]:
        def action_page_down(table: Any) -> Any:
            result = original(table)
            acted.append(time.monotonic())
            return result

        return action_page_down

    painted, pilot_times, cpu_times = [], [], []
    unchanged = 0
    with patched(table_class, "action_page_down", note_scroll):
        for _ in range(scrolls):
            acted.clear()
            started, wall, cpu = time.monotonic(), time.perf_counter(), time.process_time()
            await pilot.press("pagedown")
            await pilot.pause()
            pilot_times.append(time.perf_counter() - wall)
            cpu_times.append(time.process_time() - cpu)
            frame = frames.first_after(acted[0]) if acted else None
            deadline = time.monotonic() + 1.0
            while acted and frame is None and time.monotonic() < deadline:  # the frame may be on its way
                await pilot.pause(0.01)
                frame = frames.first_after(acted[0])
            if frame is not None:
                painted.append(frame - started)
            else:
                unchanged += 1  # at the end of what is read, a PageDown changes nothing: no frame to time
    return {"scroll": painted, "scroll_pilot": pilot_times, "scroll_cpu": cpu_times, "unchanged": [unchanged]}


async def one_run(socket_path: str, pages: int, scrolls: int, read_all: bool = False) -> dict[str, Any]:
    from lnconsole.app import make_app
    from lnconsole.node import PylnNode
    from lnconsole.screens.history import HistoryScreen

    class CountingNode(PylnNode):
        """Counts listsendpays calls and the records they brought."""

        calls = 0
        records = 0

        def call(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
            answer = super().call(method, params)
            if method == "listsendpays":
                CountingNode.calls += 1
                CountingNode.records += len(answer.get("payments", ()))
            return answer

    node = CountingNode(socket_path)
    app = make_app(node, poll_status=False)
    found: dict[str, Any] = {}
    with as_the_console_runs():
        async with app.run_test(size=(100, 32)) as pilot:
            await pilot.pause(0.3)
            gc.collect()
            before = rss_mb()

            async def open_history() -> tuple[float, HistoryScreen]:
                started = time.perf_counter()
                await pilot.press("f5")
                screen = app.screen
                assert isinstance(screen, HistoryScreen)
                await until(pilot, lambda: screen.table.row_count > 0)
                return time.perf_counter() - started, screen

            CountingNode.calls = CountingNode.records = 0
            found["first_page_cold"], screen = await open_history()
            await until(pilot, lambda: not screen.reading)
            found["calls_cold"] = CountingNode.calls
            found["records_cold"] = CountingNode.records
            await pilot.press("f2")
            await pilot.pause(0.1)
            CountingNode.calls = CountingNode.records = 0
            found["first_page_warm"], screen = await open_history()
            await until(pilot, lambda: not screen.reading)
            found["calls_warm"] = CountingNode.calls

            table = screen.table
            found.update(await time_scrolls(app, pilot, scrolls, type(table)))

            older_times = []
            for _ in range(pages):
                rows = table.row_count
                started = time.perf_counter()
                await pilot.press("ctrl+end")
                await until(pilot, lambda rows=rows: table.row_count > rows and not screen.reading)
                older_times.append(time.perf_counter() - started)
            found["older_page"] = older_times
            found["rows"] = table.row_count
            found["parts_read"] = screen.book.parts_read
            gc.collect()
            found["memory_mb"] = rss_mb() - before
            if read_all:  # the worst case: a user who scrolls through every payment
                started = time.perf_counter()
                while not screen.book.exhausted:
                    rows = table.row_count
                    await pilot.press("ctrl+end")
                    await until(pilot, lambda rows=rows: table.row_count > rows and not screen.reading, timeout=60)
                found["all_s"] = time.perf_counter() - started
                found["all_rows"] = table.row_count
                gc.collect()
                found["all_memory_mb"] = rss_mb() - before
    return found


async def baseline_run(scrolls: int, pages: int) -> dict[str, Any]:
    """The same gestures on a minimal Textual app: a screen with a Header, a 200-row DataTable and a Footer
    pushed (data in memory), PageDown, and 200 rows appended when the cursor is sent to the last row."""
    from textual.app import App, ComposeResult
    from textual.screen import Screen
    from textual.widgets import DataTable, Footer, Header

    rows = [("complete", f"{n}m ago", f"node {n}", f"{n * 1000:,}", "0.101", "1", "") for n in range(200)]

    class Table(Screen[None]):
        def compose(self) -> ComposeResult:
            yield Header()
            yield DataTable(cursor_type="row", zebra_stripes=True)
            yield Footer()

        def on_mount(self) -> None:
            table = self.query_one(DataTable)
            table.add_columns("Status", "When", "Destination", "Amount sat", "Fee sat", "Parts", "Label")
            table.add_rows(rows)
            table.focus()

    class Minimal(App[None]):
        BINDINGS = [("f5", "table", "Table")]

        def action_table(self) -> None:
            self.push_screen(Table())

    found: dict[str, Any] = {}
    app = Minimal()
    with as_the_console_runs():
        async with app.run_test(size=(100, 32)) as pilot:
            await pilot.pause(0.3)
            started = time.perf_counter()
            await pilot.press("f5")
            await until(pilot, lambda: isinstance(app.screen, Table) and app.screen.query_one(DataTable).row_count)
            found["first_page"] = time.perf_counter() - started
            table = app.screen.query_one(DataTable)
            found.update(await time_scrolls(app, pilot, scrolls, DataTable))
            older_times = []
            for _ in range(pages):
                started = time.perf_counter()
                await pilot.press("ctrl+end")
                table.add_rows(rows)
                await pilot.pause()
                older_times.append(time.perf_counter() - started)
            found["older_page"] = older_times
    return found


@dataclass
class Measured:
    """Every run's raw figures, the baseline's beside them, and the optional read-everything run."""

    payments: int
    runs: list[dict[str, Any]]
    baselines: list[dict[str, Any]]
    everything: dict[str, Any] | None = None


def measure(
    runs: int, *, payments: int = 100_000, pages: int = 20, scrolls: int = 20, read_all: bool = False
) -> Measured:
    """The node filled in its own process, then ``runs`` console runs, each beside a baseline run."""
    with tempfile.TemporaryDirectory(prefix="lnc-") as directory:
        socket_path = os.path.join(directory, "rpc")
        process = start_node(socket_path, payments)
        try:
            measured = Measured(payments, [], [])
            for _ in range(runs):  # side by side, so that the machine's load hits both alike
                measured.runs.append(asyncio.run(one_run(socket_path, pages, scrolls)))
                measured.baselines.append(asyncio.run(baseline_run(scrolls, pages)))
            if read_all:
                measured.everything = asyncio.run(one_run(socket_path, 0, 0, read_all=True))
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=10)
    return measured


def figures(measured: Measured) -> list[Figure]:
    """The suite's table lines (``python -m benchmarks``)."""
    runs, baselines = measured.runs, measured.baselines

    def each(name: str, among: list[dict[str, Any]] = runs) -> list[float]:
        return [run[name] for run in among]

    def every(name: str, among: list[dict[str, Any]] = runs) -> list[float]:
        return [value for run in among for value in run[name]]

    def ms(values: list[float]) -> list[float]:
        return [value * 1000 for value in values]

    group = "4 history"
    size = f"{measured.payments:,} sendpays"
    minimal = "baseline: a minimal Textual app (Header, DataTable, Footer) doing the same with data in memory"
    result = [
        Figure(
            group,
            f"first page, first open ({size})",
            median(ms(each("first_page_cold"))),
            "ms",
            target=TARGET_FIRST_PAGE_S * 1000,
            baseline=median(ms(each("first_page", baselines))),
            ratio=pair_ratio(each("first_page_cold"), each("first_page", baselines)),
            runs=len(runs),
            note=f"{minimal}; {median(each('calls_cold')):.0f} listsendpays calls, "
            f"{median(each('records_cold')):.0f} records read",
        ),
        Figure(
            group,
            "first page, reopened",
            median(ms(each("first_page_warm"))),
            "ms",
            target=TARGET_FIRST_PAGE_S * 1000,
            runs=len(runs),
            note=f"{median(each('calls_warm')):.0f} listsendpays calls",
        ),
        Figure(
            group,
            "page scroll (PageDown)",
            median(ms(every("scroll"))),
            "ms",
            target=TARGET_SCROLL_S * 1000,
            baseline=median(ms(every("scroll", baselines))),
            ratio=pair_ratio(every("scroll"), every("scroll", baselines)),
            runs=len(every("scroll")),
            note=(
                f"from the key to the first frame drawn after the table scrolled; CPU "
                f"{median(ms(every('scroll_cpu'))):.1f} ms median; the Pilot's round trip (the key, then "
                f"until the app is idle) {median(ms(every('scroll_pilot'))):.1f} ms median, p95 "
                f"{percentile(ms(every('scroll_pilot')), 0.95):.0f} ms (baseline "
                f"{median(ms(every('scroll_pilot', baselines))):.1f} / "
                f"{percentile(ms(every('scroll_pilot', baselines)), 0.95):.0f} ms)"
            ),
        ),
        Figure(
            group,
            "page scroll p95",
            percentile(ms(every("scroll")), 0.95),
            "ms",
            target=TARGET_SCROLL_S * 1000,
            baseline=percentile(ms(every("scroll", baselines)), 0.95),
            ratio=percentile(every("scroll"), 0.95) / percentile(every("scroll", baselines), 0.95),
            runs=len(every("scroll")),
            note="the slowest PageDowns are those during which an older page arrives",
        ),
        Figure(
            group,
            "older page read and shown",
            median(ms(every("older_page"))),
            "ms",
            baseline=median(ms(every("older_page", baselines))),
            ratio=pair_ratio(every("older_page"), every("older_page", baselines)),
            runs=len(every("older_page")),
            note=f"p95 {percentile(ms(every('older_page')), 0.95):.0f} ms; it happens in the background",
        ),
        Figure(
            group,
            f"memory growth, {median(each('parts_read')):,.0f} parts read",
            runs[0]["memory_mb"],
            "MB",
            target=TARGET_MEMORY_MB,
            runs=1,
            note="the first run's: later runs reuse memory that earlier ones freed",
        ),
    ]
    if measured.everything is not None:
        everything = measured.everything
        result.append(
            Figure(
                group,
                f"memory growth, all {everything['all_rows']:,} payments read",
                everything["all_memory_mb"],
                "MB",
                runs=1,
                note=f"scrolled to the oldest payment in {everything['all_s']:.0f} s",
            )
        )
    return result


def run(runs: int) -> list[Figure]:
    """The suite's entry point: ``python -m benchmarks --only history``."""
    return figures(measure(runs))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--payments", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--pages", type=int, default=20, help="older pages read per run")
    parser.add_argument("--scrolls", type=int, default=20, help="PageDowns timed per run")
    parser.add_argument("--all", action="store_true", help="also scroll to the oldest payment once, for memory")
    parser.add_argument("--serve", metavar="SOCKET", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.payments)
        return
    measured = measure(args.runs, payments=args.payments, pages=args.pages, scrolls=args.scrolls, read_all=args.all)
    print(f"history on {args.payments:,} sendpays, {args.runs} runs")
    print(table(figures(measured)))


if __name__ == "__main__":
    main()
