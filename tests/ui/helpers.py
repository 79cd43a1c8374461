"""What the UI test modules share: running an async test, waiting on the app, reading a widget's text, building the
app on a simulator, and invoices, plans and the confirmation dialog on the regtest network (A is us, C the payee).

Test modules import these from here, never from one another.
"""

from __future__ import annotations

import asyncio
import functools
import io
import os
import time
from collections.abc import Callable
from typing import Any

from rich.console import Console
from textual.pilot import Pilot

from lnconsole.app import DemoInfo, LnConsoleApp, NodeStatus, Settings, make_app
from lnconsole.graph import ChannelPolicy
from lnconsole.invoice import PayableInvoice, load_invoice
from lnconsole.node import NodeClient, PylnNode
from lnconsole.plan import PaymentPlan, PaymentTarget, single_routed
from lnconsole.routing import RouteFinder
from lnconsole.screens.confirm import ConfirmDialog
from lnconsole.screens.history import HistoryScreen
from lnconsole.screens.messages import PayRequested
from lnconsole.sim.invoices import sign_bolt11
from tests.conftest import RunningSim

SAT = 1000
NOW = time.time()
"""The wall clock the app is pinned at unless a test pins another (and the ``now`` invoices are checked at)."""
MONOTONIC = 1000.0
"""Where ``payment_app`` pins the app's monotonic clock, so a payment's elapsed times are exact."""


# ---------------------------------------------------------------------------------------------------------------
# Running and waiting


def in_event_loop(test: Callable[..., Any]) -> Callable[..., None]:
    """Run an async test in its own event loop (the suite has no asyncio plugin for pytest)."""

    @functools.wraps(test)
    def run(*args: Any, **kwargs: Any) -> None:
        asyncio.run(test(*args, **kwargs))

    return run


async def wait_until(pilot: Pilot[Any], condition: Callable[[], object], timeout: float = 10.0) -> None:
    """Let the app run until ``condition()`` holds (workers answer through the socket)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {getattr(condition, '__name__', condition)}"
        await pilot.pause(0.02)


async def workers_done(pilot: Pilot[Any], group: str) -> None:
    """Wait until the app's workers of ``group`` have all finished."""
    app = pilot.app
    await wait_until(pilot, lambda: all(worker.is_finished for worker in app.workers if worker.group == group))


async def started(pilot: Pilot[Any]) -> None:
    """The app has done what it does on start: shown the payments still in flight (its resume worker) and read
    the node's status for the header once (it asks after the first screen is drawn)."""
    app = pilot.app
    await workers_done(pilot, "resume")
    await wait_until(pilot, lambda: app.status != NodeStatus())  # type: ignore[attr-defined]
    await workers_done(pilot, "status")


async def open_history(pilot: Pilot[Any]) -> HistoryScreen:
    """F5 once the app started, then the first page."""
    await started(pilot)
    await pilot.press("f5")
    screen = pilot.app.screen
    assert isinstance(screen, HistoryScreen)
    await wait_until(pilot, lambda: screen.book.pages_read > 0 and not screen.reading)
    return screen


# ---------------------------------------------------------------------------------------------------------------
# Reading widgets


def plain(widget: Any, width: int = 160) -> str:
    """What a Static shows, as plain text (its content may be a Text, a Table or a Group), laid out at ``width``
    columns with a final newline."""
    output = io.StringIO()
    Console(file=output, width=width, color_system=None).print(widget.content)
    return output.getvalue()


def shown(widget: Any) -> str:
    """What a widget renders, as a string (``str(widget.render())``: no layout, no final newline)."""
    return str(widget.render())


# ---------------------------------------------------------------------------------------------------------------
# The app


def app_for(
    sim: RunningSim,
    settings: Settings | None = None,
    *,
    now: float | Callable[[], float] = NOW,
    node: NodeClient | None = None,
    demo: DemoInfo | None = None,
) -> LnConsoleApp:
    """The app as the console builds it, on the simulator's socket (or on ``node``), without status polling, its
    wall clock pinned at ``now`` (a time, or a clock the test moves); its monotonic clock runs."""
    clock = now if callable(now) else lambda: now
    return make_app(node or PylnNode(sim.socket_path), settings, demo=demo, clock=clock, poll_status=False)


def payment_app(sim: RunningSim, settings: Settings | None = None, *, now: float = NOW) -> LnConsoleApp:
    """``app_for`` with both clocks pinned: the monotonic one too (at ``MONOTONIC``), so payments take 0.0s."""
    return make_app(
        PylnNode(sim.socket_path), settings, poll_status=False, clock=lambda: now, monotonic=lambda: MONOTONIC
    )


# ---------------------------------------------------------------------------------------------------------------
# Invoices, plans and payments


def issue(sim: RunningSim, node: str = "C", amount_msat: int | str = 50_000_000, **extra: Any) -> dict[str, Any]:
    """An invoice of ``node`` (by alias), as its lightningd would make it."""
    return sim.rpc.call("dev-sim-invoice", {"node": node, "amount_msat": amount_msat, **extra})


def load_payable(sim: RunningSim, bolt11: str) -> PayableInvoice:
    """``bolt11`` checked against the node at ``NOW``; it must be payable."""
    invoice = load_invoice(PylnNode(sim.socket_path), bolt11, now=int(NOW))
    assert invoice.ok, invoice.problems
    return invoice


def payable(sim: RunningSim, amount_msat: int, payee: str = "C") -> PayableInvoice:
    """A fresh invoice of ``payee`` for ``amount_msat``, checked and payable."""
    return load_payable(sim, issue(sim, payee, amount_msat, description="ui test")["bolt11"])


def refused_invoice(sim: RunningSim) -> PayableInvoice:
    """An invoice signed by C for a payment hash C never issued: C refuses any part of it, whatever the route
    (a final failure, with no retry to offer)."""
    bolt11 = sign_bolt11(
        currency="bcrt",
        secret_key=sim.node.find_node("C").secret_key,
        payment_hash=os.urandom(32).hex(),
        payment_secret=os.urandom(32).hex(),
        amount_msat=10_000 * SAT,
        description="nobody's invoice",
        created_at=int(NOW),
        expiry=3600,
        min_final_cltv_expiry=10,
    )
    return load_payable(sim, bolt11)


def gossip_policy(short_channel_id: str, source: str, destination: str, base_fee_msat: int) -> ChannelPolicy:
    """One gossiped channel direction (10 ppm, CLTV delta 6, 1,000,000 sat) for dialogs fed by hand."""
    return ChannelPolicy(
        short_channel_id=short_channel_id,
        direction=0,
        source=source,
        destination=destination,
        base_fee_msat=base_fee_msat,
        fee_ppm=10,
        cltv_delta=6,
        capacity_msat=1_000_000_000,
    )


def finder_for(sim: RunningSim) -> RouteFinder:
    node = PylnNode(sim.socket_path)
    return RouteFinder(node, node.getinfo().id)


def one_part_plan(sim: RunningSim, invoice: PayableInvoice) -> PaymentPlan:
    return single_routed(PaymentTarget.from_invoice(invoice), finder_for(sim))


def sent_parts(sim: RunningSim, payment_hash: str) -> list[Any]:
    return PylnNode(sim.socket_path).listsendpays(payment_hash=payment_hash)


async def open_confirm(pilot: Pilot[Any], plan: PaymentPlan, invoice: PayableInvoice) -> ConfirmDialog:
    """Ask to pay ``plan`` and return the confirmation dialog the app opens."""
    app = pilot.app
    app.post_message(PayRequested(plan, invoice))
    await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
    await pilot.pause()
    dialog = app.screen
    assert isinstance(dialog, ConfirmDialog)
    return dialog
