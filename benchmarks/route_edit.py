"""Figure 3: route editing on the mainnet graph, and the simulator's route finders against lightningd's.

The simulated node runs the ``mainnet`` scenario (the real graph of 2026-02-03) in its own process. The console
runs under ``App.run_test`` in this process on a node client that counts every call. For each of several payees
(drawn, seeded, among nodes that can be routed to), an invoice of 10,000-100,000 sat is opened in the route
editor (``InvoiceChosen``): the node finds a route, the swap and insert dialogs are opened (``w``, ``i``) and
closed on every hop, then the user's three hop edits are made with their keys:

- swap channel: ``w`` on a hop (the first, from the second hop on, whose two nodes share another usable
  channel), then Enter on another channel in the dialog;
- insert hop: ``i`` on a hop, then the first node the dialog offers, named; once its channels show, ``ctrl+s``;
- drop hop: ``d`` on the inserted node.

An edit is timed from the key that makes it (Enter, ``ctrl+s``, ``d``) to the first frame after the recomputed,
rechecked route is in the table (``RouteTable.show``): all its RPC calls included. Opening a dialog (``w``,
``i``: the channel or node lookups) is timed the same way, to the first frame of the dialog; payees are taken
until each dialog was opened at least ``MIN_OPENINGS`` times, so that its p95 is not merely its slowest opening.
Every listchannels the console makes is checked to name a channel or a node: a listchannels without a filter
(the whole graph, some 45 MB of JSON on mainnet) is counted and must stay at 0.

The finder figures (:mod:`benchmarks.routing`): 200 random pairs, ``getroute`` and ``getroutes`` alternately.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from .common import (
    SNAPSHOT,
    Figure,
    PaintClock,
    SimProcess,
    as_the_console_runs,
    median,
    patched,
    percentile,
    progress,
)
from .routing import LIGHTNINGD, random_queries, time_queries

TARGET_EDIT_MS = 100.0
MIN_OPENINGS = 30
"""Payees are edited until each dialog was opened this often: a p95 of fewer samples is their maximum."""
QUERIES_PER_RUN = 40


class Counting:
    """Wraps ``PylnNode.call`` to count calls by method, and listchannels calls without a filter."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.full_listchannels = 0

    def wrap(self, original: Any) -> Any:
        def call(node: Any, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
            self.calls[method] += 1
            if method == "listchannels" and not any(
                (params or {}).get(name) for name in ("short_channel_id", "source", "destination")
            ):
                self.full_listchannels += 1
            return original(node, method, params)

        return call

    def total(self) -> int:
        return sum(self.calls.values())


class Editor:
    """Drives the route screen of one app; every wait is bounded."""

    def __init__(self, app: Any, pilot: Any, counting: Counting) -> None:
        self.app = app
        self.pilot = pilot
        self.counting = counting
        self.frames = PaintClock(app)
        self.shown: list[float] = []
        """time.monotonic() of each RouteTable.show."""
        self.said: list[tuple[float, str, str]] = []
        """(time, text, kind) of each status line the route screen wrote."""
        self.channels_known: list[float] = []
        """time.monotonic() of each answer to the insert dialog's channel lookup."""

    def wrap_known(self, original: Any) -> Any:
        def init(message: Any, *args: Any, **kwargs: Any) -> None:
            original(message, *args, **kwargs)
            self.channels_known.append(time.monotonic())

        return init

    def wrap_show(self, original: Any) -> Any:
        def show(table: Any, view: Any) -> None:
            original(table, view)
            self.shown.append(time.monotonic())

        return show

    def wrap_say(self, original: Any) -> Any:
        def say(screen: Any, text: str, kind: str = "") -> None:
            original(screen, text, kind)
            self.said.append((time.monotonic(), text, kind))

        return say

    async def until(self, condition: Any, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise TimeoutError("the route screen did not get there in time")
            await self.pilot.pause(0.002)

    async def frame_after(self, moment: float) -> float:
        await self.until(lambda: self.frames.first_after(moment) is not None, timeout=5)
        found = self.frames.first_after(moment)
        assert found is not None
        return found

    async def edit(self, key: str) -> tuple[float | None, int, str]:
        """Press ``key`` and wait for the route to be redrawn (or the edit refused): (ms or None, calls, why)."""
        shown, said, calls = len(self.shown), len(self.said), self.counting.total()
        started = time.monotonic()
        await self.pilot.press(key)
        await self.until(lambda: len(self.shown) > shown or any(kind == "problem" for _, _, kind in self.said[said:]))
        if len(self.shown) > shown:
            painted = await self.frame_after(self.shown[shown])
            return (painted - started) * 1000, self.counting.total() - calls, ""
        refused = next(text for _, text, kind in self.said[said:] if kind == "problem")
        return None, self.counting.total() - calls, refused

    async def open_dialog(self, key: str, dialog: type) -> tuple[float | None, int]:
        """Press ``key`` on the selected hop and wait for ``dialog`` (None: the lookup said there is nothing)."""
        said, calls = len(self.said), self.counting.total()
        started = time.monotonic()
        await self.pilot.press(key)
        await self.until(
            lambda: isinstance(self.app.screen, dialog) or any(kind == "problem" for _, _, kind in self.said[said:])
        )
        if not isinstance(self.app.screen, dialog):
            return None, self.counting.total() - calls
        shown = self.app.screen
        await self.until(lambda: self.frames.first_of(shown, started) is not None, timeout=5)
        painted = self.frames.first_of(shown, started)
        assert painted is not None
        return (painted - started) * 1000, self.counting.total() - calls


async def edit_routes(socket_path: str, payees: list[str], wanted: int, seed: int) -> dict[str, Any]:
    """Open payees' invoices in the route editor, open both dialogs on every hop and make the three edits, until
    ``wanted`` payees had a route (a random node may have no route for the amount) and each dialog was opened
    ``MIN_OPENINGS`` times; times in ms."""
    from lnconsole.app import make_app
    from lnconsole.invoice import load_invoice
    from lnconsole.node import PylnNode
    from lnconsole.screens.messages import InvoiceChosen
    from lnconsole.screens.route import RouteScreen
    from lnconsole.screens.route_dialogs import ChannelChoiceDialog, InsertHopDialog
    from lnconsole.widgets.route_table import RouteTable

    rng = random.Random(seed)
    counting = Counting()
    result: dict[str, Any] = {
        "find": [],
        "swap": [],
        "insert": [],
        "drop": [],
        "swap_lookup": [],
        "insert_lookup": [],
        "insert_channels": [],
        "calls": {"swap": [], "insert": [], "drop": []},
        "refused": [],
        "skipped": Counter(),
    }
    with patched(PylnNode, "call", counting.wrap):
        node = PylnNode(socket_path)
        app = make_app(node, poll_status=False)
        with as_the_console_runs():
            async with app.run_test(size=(120, 40)) as pilot:
                editor = Editor(app, pilot, counting)
                known = getattr(InsertHopDialog, "ChannelsKnown", None)  # absent from older consoles
                with (
                    patched(RouteTable, "show", editor.wrap_show),
                    patched(RouteScreen, "_say", editor.wrap_say),
                    patched(known, "__init__", editor.wrap_known) if known else contextlib.nullcontext(),
                ):
                    await pilot.pause(0.2)
                    for payee in payees:
                        if len(result["find"]) >= wanted and all(
                            len(result[name]) >= MIN_OPENINGS for name in ("swap_lookup", "insert_lookup")
                        ):
                            break
                        progress(
                            f"route editing: payee {len(result['find']) + 1} (at least {wanted}; dialogs opened: "
                            f"swap {len(result['swap_lookup'])}, insert {len(result['insert_lookup'])} of "
                            f"{MIN_OPENINGS})"
                        )
                        amount = rng.randrange(10_000, 100_000) * 1000
                        created = node.call(
                            "dev-sim-invoice", {"node": payee, "amount_msat": amount, "description": "bench"}
                        )
                        invoice = load_invoice(node, created["bolt11"])
                        shown = len(editor.shown)
                        started = time.monotonic()
                        app.post_message(InvoiceChosen(invoice))
                        await editor.until(
                            lambda shown=shown: (
                                len(editor.shown) > shown
                                or (
                                    isinstance(app.screen, RouteScreen)
                                    and app.screen.route is None
                                    and any(kind == "problem" for _, _, kind in editor.said[-1:])
                                )
                            )
                        )
                        screen = app.screen
                        assert isinstance(screen, RouteScreen)
                        if screen.route is None:
                            result["skipped"]["no route found"] += 1
                            await _leave(app, pilot)
                            continue
                        result["find"].append((await editor.frame_after(editor.shown[shown]) - started) * 1000)
                        await _edits(editor, screen, result, ChannelChoiceDialog, InsertHopDialog, len(result["find"]))
                        await _leave(app, pilot)
    result["counts"] = dict(counting.calls)
    result["full_listchannels"] = counting.full_listchannels
    return result


async def _leave(app: Any, pilot: Any) -> None:
    while len(app.screen_stack) > 2:
        app.pop_screen()
    await pilot.pause(0.05)


async def _close(editor: Editor, screen: Any) -> None:
    await editor.pilot.press("escape")
    await editor.until(lambda: editor.app.screen is screen, timeout=5)
    await editor.pilot.pause()


async def _edits(
    editor: Editor, screen: Any, result: dict[str, Any], choice_dialog: type, insert_dialog: type, number: int
) -> None:
    """Open both dialogs on every hop, then swap a channel, insert a node, drop it again, on the route the screen
    shows. Payee ``number`` even: the swap dialog first on each hop, odd: the insert dialog first (whichever
    comes first finds the hop's start's neighbours uncached)."""
    table = screen.route_table
    route = screen.route
    swappable: list[int] = []
    order = [("w", choice_dialog, "swap_lookup"), ("i", insert_dialog, "insert_lookup")]
    for index in range(len(route.hops)):
        for key, dialog_type, name in order if number % 2 == 0 else order[::-1]:
            table.select(index)
            await editor.pilot.pause()
            took, _ = await editor.open_dialog(key, dialog_type)
            if took is None:  # the swap lookup found no channel: said on the route screen, no dialog
                continue
            result[name].append(took)
            dialog = editor.app.screen
            if key == "w" and any(not choice.current and choice.usable for choice in dialog.choices):
                swappable.append(index)
            await _close(editor, screen)
    # Swap: the first hop (from the second on, then the first) whose nodes share another usable channel.
    index = next((i for i in [*range(1, len(route.hops)), 0] if i in swappable), None)
    if index is None:
        result["skipped"]["no hop with a parallel channel"] += 1
    else:
        table.select(index)
        await editor.pilot.pause()
        took, _ = await editor.open_dialog("w", choice_dialog)  # again (not timed): the one the swap is made in
        dialog = editor.app.screen
        others = [row for row, choice in enumerate(dialog.choices) if not choice.current and choice.usable]
        dialog.choices_table.move_cursor(row=others[0])
        await editor.pilot.pause()
        took, calls, refused = await editor.edit("enter")
        _record(result, "swap", took, calls, refused)
    # Insert a node into the hop after the first (or the only one), then drop it.
    route = screen.route
    index = 1 if len(route.hops) > 1 else 0
    table.select(index)
    await editor.pilot.pause()
    took, _ = await editor.open_dialog("i", insert_dialog)  # again (not timed)
    if took is None:
        result["skipped"]["insert lookup refused"] += 1
        return
    dialog = editor.app.screen
    if not dialog.candidates:
        result["skipped"]["no node joins the hop's ends"] += 1
        await _close(editor, screen)
        return
    # The user names the node and sees its channels (looked up when named), then inserts.
    named = time.monotonic()
    dialog.node_input.value = dialog.candidates[0].node_id
    await editor.pilot.pause()
    if hasattr(dialog, "channels_pending"):  # a console that looks them up when named
        known = len(editor.channels_known)
        await editor.until(lambda: dialog.channel_in is not None and not dialog.channels_pending, timeout=5)
        # The frame that shows them: the first of the dialog after the worker answered (if it was asked: from us,
        # our channels are known).
        came = max([named, *editor.channels_known[known:]])
        await editor.until(lambda: editor.frames.first_of(dialog, came) is not None, timeout=5)
        result["insert_channels"].append((editor.frames.first_of(dialog, came) - named) * 1000)
    took, calls, refused = await editor.edit("ctrl+s")
    _record(result, "insert", took, calls, refused)
    if took is None:
        return
    table.select(index)
    await editor.pilot.pause()
    took, calls, refused = await editor.edit("d")
    _record(result, "drop", took, calls, refused)


def _record(result: dict[str, Any], edit: str, took: float | None, calls: int, refused: str) -> None:
    if took is None:
        result["refused"].append(f"{edit}: {refused}")
        return
    result[edit].append(took)
    result["calls"][edit].append(calls)


def run(runs: int) -> list[Figure]:
    with tempfile.TemporaryDirectory(prefix="lnc-nodes-") as scratch:
        nodes_file = Path(scratch) / "nodes"
        progress("route editing: starting the mainnet node")
        with SimProcess("mainnet", graph=SNAPSHOT, dump_nodes=nodes_file) as sim:
            node_ids = nodes_file.read_text().split()
            queries = random_queries(node_ids, QUERIES_PER_RUN * runs, seed=5)
            progress(f"route finders: {len(queries)} random pairs")
            found = time_queries(sim.socket_path, queries)
            payees = random.Random(11).sample(node_ids, 8 * runs)
            edits = asyncio.run(edit_routes(sim.socket_path, payees, 2 * runs, seed=11))
    figures: list[Figure] = []
    all_edits = edits["swap"] + edits["insert"] + edits["drop"]
    figures.append(
        Figure(
            "3 routing",
            "hop edit (swap/insert/drop) to redrawn, p95",
            percentile(all_edits, 0.95),
            "ms",
            target=TARGET_EDIT_MS,
            runs=len(all_edits),
            note=(
                f"medians: swap {median(edits['swap']):.0f} ms ({len(edits['swap'])}), insert "
                f"{median(edits['insert']):.0f} ms ({len(edits['insert'])}), drop {median(edits['drop']):.0f} ms "
                f"({len(edits['drop'])}); node calls per edit (median): swap {median(edits['calls']['swap']):.0f}, "
                f"insert {median(edits['calls']['insert']):.0f}, drop {median(edits['calls']['drop']):.0f}"
                + (f"; refused: {'; '.join(edits['refused'][:3])}" if edits["refused"] else "")
                + (f"; skipped: {dict(edits['skipped'])}" if edits["skipped"] else "")
            ),
        )
    )
    channels = edits["insert_channels"]
    for name, label, more in (
        ("swap_lookup", "swap dialog (w: channels looked up), p95", ""),
        (
            "insert_lookup",
            "insert dialog (i: nodes looked up), p95",
            (
                f"; a named node's channels shown {median(channels):.0f} ms after (median, p95 "
                f"{percentile(channels, 0.95):.0f} ms, {len(channels)})"
                if channels
                else ""
            ),
        ),
    ):
        figures.append(
            Figure(
                "3 routing",
                label,
                percentile(edits[name], 0.95),
                "ms",
                target=TARGET_EDIT_MS,
                runs=len(edits[name]),
                note=f"median {median(edits[name]):.0f} ms; opened on every hop of {len(edits['find'])} routes{more}",
            )
        )
    figures.append(
        Figure(
            "3 routing",
            "route found and shown (getroutes), median",
            median(edits["find"]),
            "ms",
            runs=len(edits["find"]),
        )
    )
    figures.append(
        Figure(
            "3 routing",
            "listchannels of the whole graph",
            float(edits["full_listchannels"]),
            "calls",
            target=0,
            note="calls by method over all edits: " + ", ".join(f"{m} {n}" for m, n in sorted(edits["counts"].items())),
        )
    )
    for method, factor in (("getroute", 10.0), ("getroutes", 1.0)):
        low, high, p95_high = LIGHTNINGD[method]
        times = found["times"][method]
        what = "within 10x of lightningd" if factor > 1 else "as fast as lightningd"
        figures.append(
            Figure(
                "3 routing",
                f"simulator {method}, 200 random pairs: median",
                median(times),
                "ms",
                target=high * factor,
                runs=len(times),
                note=f"{what} (median {low:g}-{high:g} ms); no route {found['failures'][method]}/{len(times)}",
            )
        )
        figures.append(
            Figure(
                "3 routing",
                f"simulator {method}: p95",
                percentile(times, 0.95),
                "ms",
                target=p95_high * factor,
                runs=len(times),
                note=f"lightningd p95 <= {p95_high:g} ms",
            )
        )
    return figures
