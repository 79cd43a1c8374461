"""Save an SVG of every screen of ``lnconsole --demo`` into ``screenshots/`` (the README shows them).

    python scripts/export_screenshots.py            # from the repository's root

It drives the demo's app (:func:`lnconsole.cli.demo_app`, built as ``lnconsole --demo`` builds it) through
``App.run_test`` and the Pilot, against the embedded simulator served on a unix socket, along a tour of the
screens (:func:`tour`), and saves each one with ``app.save_screenshot``. The SVG snapshot tests
(``tests/ui/test_snapshots.py``) take the same tour, so they check these very pictures.

Everything that could differ between two runs is pinned, so running it twice writes the same files:

- the simulator: ``SimConfig(seed=0, hop_delay_ms=0, repeatable_preimages=True)`` (node keys and invoice
  preimages come from the seed, so node ids, payment hashes, preimages and QR codes repeat) and its clock
  (:class:`SimClock`, moved on by the tour between payments, so the history reads "2h ago", "35m ago");
- the app: its wall clock (expiry countdowns, "ago") and monotonic clock (every elapsed time reads 0.0s), and
  no status poller (``poll_status=False``: the header is read once, at start);
- the looks: no blinking cursors and no toasts (they leave on a timer) at the moment of a picture; no payment
  crosses the demo's flaky node (``lighthouse`` fails forwards at random).

Waiting is by polling for what the screen must show (``await pilot.pause(0.05)`` in a loop, with a timeout):
``workers.wait_for_complete()`` would not return while a payment's watchers run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

from textual.app import App
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import Input, TextArea

from lnconsole.app import LnConsoleApp
from lnconsole.cli import demo_app
from lnconsole.node import PylnNode
from lnconsole.screens.attempts import AttemptsScreen
from lnconsole.screens.confirm import ConfirmDialog
from lnconsole.screens.invoice import InvoiceScreen
from lnconsole.screens.route import RouteScreen
from lnconsole.screens.route_dialogs import ExcludeDialog
from lnconsole.screens.split import SplitScreen
from lnconsole.sim.node import SimConfig, SimNode
from lnconsole.sim.scenarios import build_scenario
from lnconsole.sim.server import SimServer

REPO = Path(__file__).resolve().parents[1]
SCREENSHOTS = REPO / "screenshots"

SIZE = (120, 40)
"""The terminal of every picture but the invoice's."""
INVOICE_SIZE = (156, 40)
"""The invoice's picture: wide enough for its QR code (65 columns) beside the details, unwrapped."""

FIXED_TIME = 1_780_272_000
"""2026-06-01 00:00 UTC: the app's "now", and where the simulator's clock ends the tour."""
MONOTONIC = 1_000.0
"""The app's monotonic clock, pinned: every elapsed time reads 0.0s."""
SIM_CONFIG = SimConfig(seed=0, hop_delay_ms=0, repeatable_preimages=True)

STEP_TIMEOUT_S = 20.0
"""How long one step may wait for what it expects (generous: the machine may be busy)."""
POLL_S = 0.02
"""How often a step looks again."""

SHOTS: tuple[tuple[str, str], ...] = (
    ("start", "the demo's first screen: the invoice field, and the demo's payees with the story each tells"),
    ("invoice", "a bookstore invoice checked against the node, laid out for the payer, with its QR code"),
    ("route", "the route editor after one edit: express excluded, rerouted the cheap long way in five hops"),
    ("split", "big-merchant's 2,000,000 sat, which no single route carries, split by the liquidity plan"),
    ("confirm", "the confirmation: a large payment is sent only once its amount is typed back"),
    ("attempts", "a part failed at gateway (its channel was drained): the failure panel and the keys to act"),
    ("retry_confirm", "the failed part's retry, confirmed like any payment: its amount, new route and fees"),
    ("attempts_paid", "the failed part retried around the channel, and the payment paid with its preimage"),
    ("history", "listsendpays grouped by payment, newest first: two paid, one given up"),
    ("history_detail", "one payment from the history: its parts, and why the failed one failed"),
)
"""Every picture the tour takes, in order, with what it shows (the README says the same)."""


class SimClock:
    """The simulator's clock: pinned, and moved on only by the tour (invoices and payments are stamped with it)."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class PinnedDemo:
    """The demo network, served on a unix socket from a background thread, and the app built on it, pinned.

    ``with PinnedDemo(directory) as demo: app = demo.app()``: one app per demo (the tour changes the network).
    """

    def __init__(self, socket_dir: Path) -> None:
        self.socket_path = socket_dir / "lightning-rpc"
        self.clock = SimClock(FIXED_TIME)
        self.node: SimNode = build_scenario("demo", SIM_CONFIG)
        self.node.clock = self.clock
        self.server: SimServer | None = None

    def __enter__(self) -> PinnedDemo:
        self.server = SimServer(self.node, self.socket_path).start_in_thread()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None

    def app(self) -> LnConsoleApp:
        """``lnconsole --demo``'s app on this simulator, its clocks pinned and no status poller."""
        return demo_app(self.socket_path, clock=lambda: FIXED_TIME, monotonic=lambda: MONOTONIC, poll_status=False)

    def squeeze(self, short_channel_id: str, source: str, spendable_msat: int) -> None:
        """Leave ``source`` only ``spendable_msat`` to send on a channel (``dev-sim-channel``): a part sent over
        it fails at ``source`` with temporary_channel_failure. Liquidity isn't gossiped: planners don't see it."""
        client = PylnNode(self.socket_path)
        source_id = self.node.find_node(source).node_id
        direction = next(c.direction for c in client.listchannels(short_channel_id) if c.source == source_id)
        client.call(
            "dev-sim-channel",
            {"short_channel_id": short_channel_id, "direction": direction, "spendable_msat": spendable_msat},
        )


@contextlib.contextmanager
def pinned_demo() -> Iterator[PinnedDemo]:
    """A :class:`PinnedDemo` in a short temporary directory (unix socket paths are limited to ~100 bytes)."""
    with tempfile.TemporaryDirectory(prefix="lnc-shots-") as directory, PinnedDemo(Path(directory)) as demo:
        yield demo


# ---------------------------------------------------------------------------------------------------------------
# Waiting and pinning


async def wait_for(pilot: Pilot[Any], condition: Callable[[], object], what: str) -> None:
    """Poll until ``condition()`` holds (never ``wait_for_complete``: the payment watchers keep running)."""
    deadline = time.monotonic() + STEP_TIMEOUT_S
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what} (on {type(pilot.app.screen).__name__})")
        await pilot.pause(POLL_S)


async def steady(pilot: Pilot[Any]) -> None:
    """Take out what would differ from run to run: blinking cursors, and toasts (they leave on a timer)."""
    app = pilot.app
    for screen in app.screen_stack:
        for field in screen.query(Input):
            field.cursor_blink = False
        for area in screen.query(TextArea):
            area.cursor_blink = False
    app.clear_notifications()
    await pilot.pause()
    await pilot.wait_for_scheduled_animations()
    await pilot.pause()


def showing(app: App[Any], screen_type: type[Screen[Any]]) -> bool:
    """The app shows a mounted screen of this type (a pushed screen is current before it is composed)."""
    return isinstance(app.screen, screen_type) and app.screen.is_mounted


def screen_of(pilot: Pilot[Any], screen_type: type[Any]) -> Any:
    screen = pilot.app.screen
    assert isinstance(screen, screen_type), f"expected {screen_type.__name__}, on {type(screen).__name__}"
    return screen


def lnapp(pilot: Pilot[Any]) -> LnConsoleApp:
    app = pilot.app
    assert isinstance(app, LnConsoleApp)
    return app


# ---------------------------------------------------------------------------------------------------------------
# Steps: each takes the app to one screen, by its keys, and waits until that screen shows its result


async def open_invoice(pilot: Pilot[Any], payee: str) -> InvoiceScreen:
    """Ask a demo payee for an invoice from the demo's payees (on the invoice screen at start; F2 and d bring them
    back later)."""
    app = lnapp(pilot)
    await wait_for(pilot, lambda: app.status.info is not None, "the node's status")
    if not showing(app, InvoiceScreen):
        await pilot.press("f2")  # back to the invoice screen (it keeps the last invoice)
    await wait_for(pilot, lambda: showing(app, InvoiceScreen), "the invoice screen")
    screen = screen_of(pilot, InvoiceScreen)
    panel = screen.demo_panel
    assert panel is not None, "not the demo"

    def payees_focused() -> bool:
        return panel.display and app.focused is panel.option_list

    if not payees_focused():
        await pilot.press("escape", "d")  # escape leaves the invoice field, where d is a letter
    await wait_for(pilot, payees_focused, "the demo's payees")
    panel.option_list.highlighted = list(panel.payees).index(payee)
    await pilot.press("enter")

    def checked() -> bool:
        screen = app.screen
        return (
            isinstance(screen, InvoiceScreen)
            and screen.payable is not None
            and not screen.checking
            and screen.payable.invoice.description.endswith(f"pay {payee}")
        )

    await wait_for(pilot, checked, f"{payee}'s invoice to be checked")
    return screen_of(pilot, InvoiceScreen)


def _route_settled(app: App[Any]) -> bool:
    screen = app.screen
    return isinstance(screen, RouteScreen) and screen.options is not None and screen._busy_with is None


async def open_route(pilot: Pilot[Any]) -> RouteScreen:
    """Find a route for the checked invoice (ctrl+r) and wait for the node's answer (a route, or why none)."""
    app = lnapp(pilot)
    await pilot.press("ctrl+r")
    await wait_for(pilot, lambda: showing(app, RouteScreen) and _route_settled(app), "the route finder")
    return screen_of(pilot, RouteScreen)


async def exclude_node(pilot: Pilot[Any], alias: str) -> RouteScreen:
    """Select the hop through ``alias`` and exclude that node (x, Enter on "Node ..."): rerouted at once."""
    app = lnapp(pilot)
    screen = screen_of(pilot, RouteScreen)
    assert screen.route is not None
    index = next(i for i, hop in enumerate(screen.route.hops) if hop.alias == alias)
    screen.route_table.focus()
    await pilot.press(*["down"] * index)
    await pilot.press("x")
    await wait_for(pilot, lambda: showing(app, ExcludeDialog), "the exclude dialog")
    await pilot.press("enter")

    def rerouted() -> bool:
        return _route_settled(app) and screen.route is not None and all(hop.alias != alias for hop in screen.route.hops)

    await wait_for(pilot, rerouted, f"a route around {alias}")
    return screen


async def open_split(pilot: Pilot[Any], mode: str = "liquidity") -> SplitScreen:
    """From the route editor, open the split planner (s) and make sure ``mode`` (one, equal, custom, liquidity)
    is chosen, with the arrow keys and Enter; wait for its plan."""
    app = lnapp(pilot)
    await pilot.press("s")
    await wait_for(pilot, lambda: showing(app, SplitScreen), "the split planner")
    screen = screen_of(pilot, SplitScreen)
    await wait_for(pilot, lambda: screen.target is not None and not screen._planning, "the first plan")
    if screen.mode != mode:
        screen.mode_set.focus()
        await pilot.pause()
        buttons = [button.id for button in screen.mode_set.query("RadioButton")]
        steps = buttons.index(f"split-{mode}") - buttons.index(f"split-{screen.mode}")
        await pilot.press(*["right"] * steps, "enter")

    def planned() -> bool:
        request = screen._request
        return screen.plan is not None and not screen._planning and request is not None and request.mode == mode

    await wait_for(pilot, planned, f"the {mode} plan")
    screen.parts_table.focus()
    await pilot.pause()
    return screen


async def open_confirm(pilot: Pilot[Any]) -> ConfirmDialog:
    """Ask to pay (p): the confirmation dialog, Cancel focused. A large payment is sent only once its amount is
    typed back: the dialog focuses that field, the amount is typed in, and the dialog shows it matching."""
    app = lnapp(pilot)
    await pilot.press("p")
    await wait_for(pilot, lambda: showing(app, ConfirmDialog), "the confirmation dialog")
    dialog = screen_of(pilot, ConfirmDialog)
    if dialog.needs_typed_amount:
        field = dialog.typed_amount
        await wait_for(pilot, lambda: field.has_focus, "the typed amount's field to have the focus")
        field.insert_text_at_cursor(f"{dialog.plan.amount_msat // 1000}sat")  # as typed, in one go
        await wait_for(pilot, dialog.may_send, "the typed amount to match")
    return dialog


def statuses(screen: AttemptsScreen) -> list[str]:
    """Each part's status as the attempts table shows it, in row order."""
    table = screen.table
    return [str(table.get_cell(key, "status")) for key in table.rows]


async def send(pilot: Pilot[Any]) -> AttemptsScreen:
    """Send from the confirmation dialog (y; Enter in the typed amount's field) and wait until every part of
    the plan is on the attempts screen."""
    app = lnapp(pilot)
    dialog = screen_of(pilot, ConfirmDialog)
    parts = dialog.plan.part_count
    await pilot.press("enter" if dialog.needs_typed_amount else "y")
    await wait_for(pilot, lambda: showing(app, AttemptsScreen), "the attempts screen")
    screen = screen_of(pilot, AttemptsScreen)
    await wait_for(pilot, lambda: screen.table.row_count >= parts, "every part to be sent")
    return screen


async def until_failure(pilot: Pilot[Any], held: int) -> AttemptsScreen:
    """Wait for one part to fail while ``held`` others reach the payee, which holds them until the whole amount
    has arrived: the failure panel shows the failed part."""
    screen = screen_of(pilot, AttemptsScreen)

    def shown() -> bool:
        shown_statuses = statuses(screen)
        failed = [status for status in shown_statuses if status.startswith("✗")]
        pending = [status for status in shown_statuses if status.startswith("⋯ pending")]
        return len(failed) == 1 and len(pending) == held and screen.failure_panel.display

    await wait_for(pilot, shown, f"one failed part and {held} held at the payee")
    return screen


async def until_paid(pilot: Pilot[Any]) -> AttemptsScreen:
    screen = screen_of(pilot, AttemptsScreen)
    await wait_for(pilot, lambda: screen.outcome_view.has_class("-complete"), "the payment to complete")
    return screen


async def ask_retry(pilot: Pilot[Any]) -> ConfirmDialog:
    """Retry the failed part around its failing channel (r): the confirmation of the part's new route."""
    app = lnapp(pilot)
    await pilot.press("r")
    await wait_for(pilot, lambda: showing(app, ConfirmDialog), "the retry's confirmation")
    return screen_of(pilot, ConfirmDialog)


async def retry_until_paid(pilot: Pilot[Any]) -> AttemptsScreen:
    """Send the confirmed retry (y) and wait for the payment to complete."""
    await pilot.press("y")
    return await until_paid(pilot)


async def give_up(pilot: Pilot[Any]) -> None:
    """Give the failed part up (g): nothing is in flight, so the payment has failed and the screen closes."""
    app = lnapp(pilot)
    await pilot.press("g")
    await wait_for(pilot, lambda: not showing(app, AttemptsScreen), "the attempts screen to close")


async def open_history(pilot: Pilot[Any]) -> Screen[Any]:
    """F5: the history, once its newest page is read and the payees' aliases are known."""
    from lnconsole.screens.history import HistoryScreen, node_memory

    app = lnapp(pilot)
    await pilot.press("f5")
    await wait_for(pilot, lambda: showing(app, HistoryScreen), "the history")
    screen = screen_of(pilot, HistoryScreen)
    aliases = node_memory(app.node).aliases

    def read() -> bool:
        groups = screen.book.groups.values()
        return (
            not screen.reading
            and screen.book.pages_read > 0
            and screen.table.row_count == len(screen.book.order)
            and all(group.destination in aliases for group in groups)
        )

    await wait_for(pilot, read, "the history's newest payments")
    return screen


async def open_payment_detail(pilot: Pilot[Any], row: int) -> Screen[Any]:
    """Enter on the history's ``row``: the payment's parts, and why the failed ones failed."""
    from lnconsole.screens.payment_detail import PaymentDetailScreen

    app = lnapp(pilot)
    await pilot.press(*["down"] * row, "enter")
    await wait_for(pilot, lambda: showing(app, PaymentDetailScreen), "the payment detail")
    screen = screen_of(pilot, PaymentDetailScreen)
    await wait_for(pilot, lambda: screen._loaded, "the payment's parts")
    return screen


# ---------------------------------------------------------------------------------------------------------------
# The tour

Shoot = Callable[[str], Awaitable[None] | None]
"""Called at each picture with its name (the script saves it)."""

SPLIT_PAYEE = "big-merchant"
DRAINED = ("108x1x0", "gateway", 100_000_000)
"""gateway keeps 100,000 sat towards big-merchant: the part the plan sends that way fails there."""
DRAINED_SHORTCUT = ("107x1x0", "express", 0)
"""express keeps nothing towards bookstore: the third payment fails at express, and is given up."""


class StopTour(Exception):
    """The tour has reached the picture it was asked to stop at."""


Picture = Callable[[str], Awaitable[None]]


async def bookstore_chapter(pilot: Pilot[Any], demo: PinnedDemo, picture: Picture) -> None:
    """Two hours ago: a bookstore invoice, the route the node finds, the cheap long way around express (an
    edit), paid."""
    demo.clock.now = FIXED_TIME - 2 * 3600
    app = lnapp(pilot)
    await wait_for(pilot, lambda: app.status.info is not None, "the node's status")
    screen = screen_of(pilot, InvoiceScreen)
    await wait_for(
        pilot,
        lambda: screen.demo_panel is not None and app.focused is screen.demo_panel.option_list,
        "the demo's payees",
    )
    await picture("start")
    await open_invoice(pilot, "bookstore")
    await picture("invoice")
    await open_route(pilot)
    await exclude_node(pilot, "express")
    await picture("route")
    await open_confirm(pilot)
    await send(pilot)
    await until_paid(pilot)


async def split_chapter(pilot: Pilot[Any], demo: PinnedDemo, picture: Picture) -> None:
    """35 minutes ago: big-merchant's invoice, which only a split pays; one part fails on the way, and is
    retried around the failing channel."""
    demo.clock.now = FIXED_TIME - 35 * 60
    await open_invoice(pilot, SPLIT_PAYEE)
    route = await open_route(pilot)
    assert route.route is None, "one route carries big-merchant's invoice: the demo's story changed"
    split = await open_split(pilot, "liquidity")
    await picture("split")
    assert split.plan is not None and split.plan.part_count > 1
    demo.squeeze(*DRAINED)  # after planning: liquidity isn't gossiped, so the plan could not know
    await open_confirm(pilot)
    await picture("confirm")
    await send(pilot)
    await until_failure(pilot, held=split.plan.part_count - 1)
    await picture("attempts")
    await ask_retry(pilot)
    await picture("retry_confirm")
    await retry_until_paid(pilot)
    await picture("attempts_paid")


async def given_up_chapter(pilot: Pilot[Any], demo: PinnedDemo, picture: Picture) -> None:
    """Ten minutes ago: bookstore again, but express has nothing left towards it; the payer gives up."""
    demo.clock.now = FIXED_TIME - 10 * 60
    await open_invoice(pilot, "bookstore")
    await open_route(pilot)
    demo.squeeze(*DRAINED_SHORTCUT)
    await open_confirm(pilot)
    await send(pilot)
    await until_failure(pilot, held=0)
    await give_up(pilot)


async def history_chapter(pilot: Pilot[Any], demo: PinnedDemo, picture: Picture) -> None:
    """Now: the history of the payments made before, and the split payment in it."""
    demo.clock.now = FIXED_TIME
    await open_history(pilot)
    await picture("history")
    await open_payment_detail(pilot, row=1)
    await picture("history_detail")


CHAPTERS: dict[str, Callable[[Pilot[Any], PinnedDemo, Picture], Awaitable[None]]] = {
    "bookstore": bookstore_chapter,
    "split": split_chapter,
    "given_up": given_up_chapter,
    "history": history_chapter,
}
"""The tour's chapters, in order. Each starts wherever the previous one left the app; "split" also starts
from a fresh app (the snapshot tests start it so)."""


async def tour(
    pilot: Pilot[Any],
    demo: PinnedDemo,
    shoot: Shoot | None = None,
    *,
    chapters: tuple[str, ...] = tuple(CHAPTERS),
    until: str | None = None,
) -> None:
    """The screens in the order a payer meets them, calling ``shoot(name)`` at each picture of ``SHOTS``,
    everything that varies pinned; with ``until``, stop right after that picture, the app left on its screen."""

    async def picture(name: str) -> None:
        await steady(pilot)
        if shoot is not None:
            result = shoot(name)
            if result is not None:
                await result
        if name == until:
            raise StopTour

    with contextlib.suppress(StopTour):
        for chapter in chapters:
            await CHAPTERS[chapter](pilot, demo, picture)


# ---------------------------------------------------------------------------------------------------------------
# The script


async def export(out: Path) -> list[Path]:
    """Take the tour and save every picture into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    saved: list[Path] = []
    with pinned_demo() as demo:
        app = demo.app()
        async with app.run_test(size=SIZE) as pilot:

            async def shoot(name: str) -> None:
                if name == "invoice":
                    await pilot.resize_terminal(*INVOICE_SIZE)
                    await steady(pilot)
                saved.append(Path(app.save_screenshot(f"{name}.svg", path=str(out))))
                if name == "invoice":
                    await pilot.resize_terminal(*SIZE)

            await tour(pilot, demo, shoot)
    expected = [out / f"{name}.svg" for name, _ in SHOTS]
    assert saved == expected, f"the tour took {[p.name for p in saved]}, not SHOTS"
    return saved


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Save an SVG of every screen of lnconsole --demo.")
    parser.add_argument("--out", type=Path, default=SCREENSHOTS, help="where to save them (default: screenshots/)")
    args = parser.parse_args(argv)
    started = time.monotonic()
    saved = asyncio.run(export(args.out))
    for path, (_, what) in zip(saved, SHOTS, strict=True):
        print(f"{path.relative_to(REPO) if path.is_relative_to(REPO) else path}: {what}")
    print(f"{len(saved)} screenshots in {time.monotonic() - started:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
