"""The confirmation dialog over the regtest network: it shows what the payment costs, Enter alone sends nothing,
``y`` sends once, Escape cancels, and large amounts must be typed back.

The rule under test (lnconsole/screens/confirm.py): Cancel is focused when the dialog opens; only ``y`` or the
Send button sends; above ``confirm_typed_above_msat`` the amount must be typed back first.
"""

from __future__ import annotations

import asyncio
import functools
import io
import time
from collections.abc import Callable
from typing import Any

from rich.console import Console
from textual.pilot import Pilot
from textual.widgets import Button

from lnconsole.app import LnConsoleApp, Settings, make_app
from lnconsole.invoice import PayableInvoice, load_invoice
from lnconsole.node import PylnNode
from lnconsole.plan import PaymentPlan, PaymentTarget, single_routed
from lnconsole.routing import RouteFinder
from lnconsole.screens.attempts import AttemptsScreen
from lnconsole.screens.confirm import ConfirmDialog
from lnconsole.screens.messages import PayRequested
from tests.conftest import RunningSim

SAT = 1000
NOW = time.time()
MONOTONIC = 1000.0


# ---------------------------------------------------------------------------------------------------------------
# Helpers shared by the attempts and split screen tests


def in_event_loop(test: Callable[..., Any]) -> Callable[..., None]:
    """Run an async test in its own event loop (the suite has no asyncio plugin for pytest)."""

    @functools.wraps(test)
    def run(*args: Any, **kwargs: Any) -> None:
        asyncio.run(test(*args, **kwargs))

    return run


def app_for(sim: RunningSim, settings: Settings | None = None) -> LnConsoleApp:
    """The app as the console builds it, on the simulator's socket, with both clocks pinned."""
    return make_app(
        PylnNode(sim.socket_path), settings, poll_status=False, clock=lambda: NOW, monotonic=lambda: MONOTONIC
    )


def payable(sim: RunningSim, amount_msat: int, payee: str = "C") -> PayableInvoice:
    created = sim.rpc.call("dev-sim-invoice", {"node": payee, "amount_msat": amount_msat, "description": "ui test"})
    invoice = load_invoice(PylnNode(sim.socket_path), created["bolt11"], now=int(NOW))
    assert invoice.ok, invoice.problems
    return invoice


def finder_for(sim: RunningSim) -> RouteFinder:
    node = PylnNode(sim.socket_path)
    return RouteFinder(node, node.getinfo().id)


def one_part_plan(sim: RunningSim, invoice: PayableInvoice) -> PaymentPlan:
    return single_routed(PaymentTarget.from_invoice(invoice), finder_for(sim))


def sent_parts(sim: RunningSim, payment_hash: str) -> list[Any]:
    return PylnNode(sim.socket_path).listsendpays(payment_hash=payment_hash)


async def wait_until(pilot: Pilot[Any], condition: Callable[[], object], timeout: float = 8.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        await pilot.pause(0.02)


def plain(widget: Any, width: int = 160) -> str:
    """What a Static shows, as plain text (its content may be a Text, a Table or a Group)."""
    output = io.StringIO()
    Console(file=output, width=width, color_system=None).print(widget.content)
    return output.getvalue()


async def open_confirm(pilot: Pilot[Any], plan: PaymentPlan, invoice: PayableInvoice) -> ConfirmDialog:
    app = pilot.app
    app.post_message(PayRequested(plan, invoice))
    await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
    await pilot.pause()
    dialog = app.screen
    assert isinstance(dialog, ConfirmDialog)
    return dialog


# ---------------------------------------------------------------------------------------------------------------


@in_event_loop
async def test_the_dialog_shows_the_numbers_and_enter_alone_sends_nothing(regtest: RunningSim) -> None:
    invoice = payable(regtest, 50_000 * SAT)
    plan = one_part_plan(regtest, invoice)
    target = plan.target
    app = app_for(regtest)
    async with app.run_test(size=(100, 32)) as pilot:
        dialog = await open_confirm(pilot, plan, invoice)

        destination = plain(dialog.query_one("#confirm-destination"))
        assert "To C" in destination and target.destination in destination
        facts = plain(dialog.query_one("#confirm-facts"))
        assert "50,000 sat" in facts
        assert f"{plan.fee_msat:,} msat ({plan.fee_ppm:,} ppm)" in facts and plan.fee_msat > 0
        assert f"{plan.total_delay} blocks (~" in facts
        assert "Parts" in facts and "1" in facts
        assert "Invoice expires" in facts and "in 7 days" in facts  # the sim's default expiry (604800 s)
        focused = app.focused
        assert isinstance(focused, Button) and focused.id == "confirm-cancel"

        await pilot.press("enter")
        await wait_until(pilot, lambda: not isinstance(app.screen, ConfirmDialog))
        await pilot.pause(0.2)
        assert sent_parts(regtest, target.payment_hash) == []
        assert not app.sessions and not isinstance(app.screen, AttemptsScreen)

        # Escape and n cancel too.
        for key in ("escape", "n"):
            await open_confirm(pilot, plan, invoice)
            await pilot.press(key)
            await wait_until(pilot, lambda: not isinstance(app.screen, ConfirmDialog))
        await pilot.pause(0.2)
        assert sent_parts(regtest, target.payment_hash) == [] and not app.sessions


@in_event_loop
async def test_y_sends_once_even_when_pressed_twice(regtest: RunningSim) -> None:
    invoice = payable(regtest, 20_000 * SAT)
    plan = one_part_plan(regtest, invoice)
    app = app_for(regtest)
    async with app.run_test(size=(100, 32)) as pilot:
        dialog = await open_confirm(pilot, plan, invoice)
        await pilot.press("y", "y")
        await wait_until(pilot, lambda: isinstance(app.screen, AttemptsScreen))
        screen = app.screen
        assert isinstance(screen, AttemptsScreen) and dialog.answered
        session = app.sessions[plan.target.payment_hash]
        await wait_until(pilot, lambda: session.outcome is not None)
        records = sent_parts(regtest, plan.target.payment_hash)
        assert [(record.partid, record.status) for record in records] == [(1, "complete")]
        assert len(app.sessions) == 1


@in_event_loop
async def test_the_send_button_sends(regtest: RunningSim) -> None:
    invoice = payable(regtest, 15_000 * SAT)
    plan = one_part_plan(regtest, invoice)
    app = app_for(regtest)
    async with app.run_test(size=(100, 32)) as pilot:
        await open_confirm(pilot, plan, invoice)
        await pilot.click("#confirm-send")
        await wait_until(pilot, lambda: isinstance(app.screen, AttemptsScreen))
        await wait_until(pilot, lambda: len(sent_parts(regtest, plan.target.payment_hash)) == 1)


@in_event_loop
async def test_a_large_amount_must_be_typed_back(regtest: RunningSim) -> None:
    invoice = payable(regtest, 30_000 * SAT)
    plan = one_part_plan(regtest, invoice)
    app = app_for(regtest, Settings(confirm_typed_above_msat=10_000 * SAT))
    async with app.run_test(size=(100, 32)) as pilot:
        dialog = await open_confirm(pilot, plan, invoice)
        assert dialog.needs_typed_amount and dialog.send_button.disabled
        assert "type the amount back" in plain(dialog.query_one("#confirm-rule"))

        assert dialog.focused is dialog.typed_amount  # the field waits for the amount
        await pilot.press("y", "enter")  # y types into the field; it's no amount, so Enter sends nothing
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDialog)
        assert "not an amount" in plain(dialog.status_line)

        dialog.typed_amount.value = ""
        await pilot.press(*"29000sat")
        await pilot.pause()
        assert dialog.send_button.disabled and "is not 30,000 sat" in plain(dialog.status_line)
        await pilot.press("enter")  # a wrong amount and Enter: nothing
        await pilot.pause(0.2)
        assert isinstance(app.screen, ConfirmDialog)
        assert sent_parts(regtest, plan.target.payment_hash) == []

        dialog.typed_amount.value = "0.0003btc"
        await pilot.pause()
        assert not dialog.send_button.disabled and "matches" in plain(dialog.status_line)
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, AttemptsScreen))
        await wait_until(pilot, lambda: len(sent_parts(regtest, plan.target.payment_hash)) == 1)


@in_event_loop
async def test_an_expired_invoice_cannot_be_sent(regtest: RunningSim) -> None:
    invoice = payable(regtest, 10_000 * SAT)
    plan = one_part_plan(regtest, invoice)
    app = make_app(
        PylnNode(regtest.socket_path), poll_status=False, clock=lambda: NOW + 30 * 86400, monotonic=lambda: MONOTONIC
    )
    async with app.run_test(size=(100, 32)) as pilot:
        dialog = await open_confirm(pilot, plan, invoice)
        assert "expired" in plain(dialog.query_one("#confirm-facts")) and dialog.send_button.disabled
        await pilot.press("y")
        await pilot.pause(0.2)
        assert isinstance(app.screen, ConfirmDialog) and "expired" in plain(dialog.status_line)
        await pilot.press("escape")
        await pilot.pause(0.2)
        assert sent_parts(regtest, plan.target.payment_hash) == []
