"""The console app in a process of its own, driven by its keys, for a test to SIGKILL mid-payment.

    python -m tests.faults.console_process SOCKET BOLT11

It builds the app as ``lnconsole`` does (``make_app`` on ``PylnNode(SOCKET)``), runs it headless
(``App.run_test``), pastes the invoice, goes on to the route editor (Enter), the split planner (``s``, equal
parts: three), asks to pay (``p``) and confirms (``y``). It prints ``confirmed`` once the attempts screen shows
the parts, then waits for its end, which the test brings with SIGKILL.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

from textual import events
from textual.pilot import Pilot

from lnconsole.app import make_app
from lnconsole.node import PylnNode
from lnconsole.screens.attempts import AttemptsScreen
from lnconsole.screens.confirm import ConfirmDialog
from lnconsole.screens.invoice import InvoiceScreen
from lnconsole.screens.route import RouteScreen
from lnconsole.screens.split import SplitScreen
from tests.ui.helpers import started, wait_until

STEP_S = 30.0
"""How long one step may take (generous: the machine runs other tests meanwhile)."""


async def pay(pilot: Pilot[Any], bolt11: str) -> None:
    app = pilot.app
    await started(pilot)
    screen = app.screen
    assert isinstance(screen, InvoiceScreen)
    screen.invoice_input.post_message(events.Paste(bolt11))  # as a terminal's bracketed paste
    await wait_until(pilot, lambda: screen.payable is not None and not screen.checking, STEP_S)
    await pilot.press("enter")  # Enter on the checked invoice: the route editor
    await wait_until(pilot, lambda: isinstance(app.screen, RouteScreen) and app.screen._busy_with is None, STEP_S)
    await pilot.press("s")  # no single route carries it: split
    await wait_until(pilot, lambda: isinstance(app.screen, SplitScreen), STEP_S)
    split = app.screen
    assert isinstance(split, SplitScreen)
    await wait_until(pilot, lambda: split.target is not None and not split._planning, STEP_S)
    await pilot.click("#split-equal")
    await wait_until(
        pilot, lambda: not split._planning and split.plan is not None and split.plan.part_count == 3, STEP_S
    )
    split.parts_table.focus()
    await pilot.pause()
    await pilot.press("p")
    await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog), STEP_S)
    await pilot.press("y")
    await wait_until(pilot, lambda: isinstance(app.screen, AttemptsScreen), STEP_S)
    attempts = app.screen
    assert isinstance(attempts, AttemptsScreen)
    await wait_until(pilot, lambda: len(attempts.session.parts()) == 3, STEP_S)
    print("confirmed", flush=True)


async def main(socket_path: str, bolt11: str) -> None:
    app = make_app(PylnNode(socket_path), poll_status=False)
    async with app.run_test(size=(100, 32)) as pilot:
        await pay(pilot, bolt11)
        while True:  # until SIGKILL
            await pilot.pause(0.5)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
