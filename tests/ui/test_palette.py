"""The command palette offers every action of the app and of the current screen, with its key, and runs it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from textual.binding import Binding
from textual.command import CommandPalette
from textual.pilot import Pilot

from lnconsole.app import DemoInfo, LnConsoleApp
from lnconsole.screens.history import HistoryScreen
from lnconsole.screens.palette import key_label, palette_commands
from tests.conftest import RunningSim
from tests.sim.helpers import ABC, make_invoice, send_part
from tests.ui.helpers import app_for, in_event_loop, open_history, wait_until

LATER = 1_800_000_000
"""The app's pinned clock, long after the payment was made."""


@pytest.fixture
def sim(start_sim: Callable[..., RunningSim]) -> RunningSim:
    """The regtest network with one complete payment in the history."""
    sim = start_sim("regtest", hop_delay_ms=0)
    invoice = make_invoice(sim, "C", 10_000_000, description="coffee")
    send_part(sim, invoice, *ABC, 10_000_000, 0, None, 10_000_000, bolt11=invoice.bolt11)
    sim.rpc.waitsendpay(invoice.payment_hash, timeout=10)
    return sim


async def history(pilot: Pilot[Any]) -> HistoryScreen:
    """The history screen, its payment shown."""
    screen = await open_history(pilot)
    await wait_until(pilot, lambda: screen.table.row_count > 0 and not screen.reading)
    return screen


def texts(app: LnConsoleApp) -> list[str]:
    return [command.text for command in palette_commands(app.screen, app)]


@in_event_loop
async def test_the_palette_lists_the_screens_actions_then_the_apps_with_their_keys(sim: RunningSim) -> None:
    async with app_for(sim, now=LATER).run_test(size=(80, 24)) as pilot:
        screen = await history(pilot)
        listed = texts(pilot.app)
        assert listed[:4] == ["⏎ Open", "c Copy hash", "y Copy preimage", "r Refresh"]
        assert {"m Older", "1 Show all", "4 Show failed"} <= set(listed)  # keys the footer leaves out too
        app_actions = {
            f"{key_label(pilot.app.get_key_display(binding))} {binding.description}"
            for binding in Binding.make_bindings(LnConsoleApp.BINDINGS)
        }
        assert set(listed[-len(app_actions) :]) == app_actions
        assert "F5 History" in app_actions
        assert "w Watch" not in listed  # the selected payment is complete: nothing to watch
        assert not any("Focus" in text or "Cursor" in text for text in listed)  # Textual's own keys stay out
        assert screen.check_action("watch", ()) is None


@in_event_loop
async def test_other_screens_bring_their_own_actions(sim: RunningSim) -> None:
    from lnconsole.screens.invoice import InvoiceScreen

    async with app_for(sim, now=LATER).run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, InvoiceScreen))
        screen = pilot.app.screen
        listed = texts(pilot.app)
        expected = [
            binding.description
            for binding in Binding.make_bindings(InvoiceScreen.BINDINGS)
            if binding.description and pilot.app._check_action_state(binding.action, screen)
        ]
        assert "Find route" in expected
        assert all(any(text.endswith(f" {description}") for text in listed) for description in expected)
        # Keys the invoice field swallows while focused are offered too: the palette runs the action itself.
        assert "q QR" in listed
        assert "F5 History" in listed


@in_event_loop
async def test_running_an_action_from_the_palette(sim: RunningSim) -> None:
    async with app_for(sim, now=LATER).run_test(size=(80, 24)) as pilot:
        screen = await history(pilot)
        await pilot.press("ctrl+p")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, CommandPalette))
        await pilot.press(*"show failed")
        await pilot.pause(0.3)
        await pilot.press("down", "enter")
        await wait_until(pilot, lambda: pilot.app.screen is screen)
        await wait_until(pilot, lambda: screen.status_filter == "failed")
        assert screen.table.row_count == 0


@in_event_loop
async def test_the_demo_offers_its_invoices_from_every_screen(sim: RunningSim) -> None:
    from lnconsole.screens.invoice import InvoiceScreen

    def payees_focused() -> bool:
        return getattr(pilot.app.focused, "id", None) == "demo-payees"

    async with app_for(sim, now=LATER, demo=DemoInfo(payees={"C": 10_000_000})).run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, payees_focused)  # offered on start, on the invoice screen
        assert "esc Invoice field" in texts(pilot.app)
        await pilot.press("escape")
        await history(pilot)
        assert "Demo invoices" in texts(pilot.app)
        await pilot.press("ctrl+p")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, CommandPalette))
        await pilot.press(*"demo invoices")
        await pilot.pause(0.3)
        await pilot.press("down", "enter")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, InvoiceScreen) and payees_focused())
