"""The demo's first screen (issue 5, start-up): the picker opens over an invoice screen that has focused nothing
yet, the header still learns the node's status, and closing the picker gives the invoice field the focus."""

from __future__ import annotations

from collections.abc import Callable

from lnconsole.app import DemoInfo
from lnconsole.screens.invoice import DemoInvoicePicker, InvoiceInput, InvoiceScreen
from lnconsole.sim.scenario_demo import DEMO_PAYEES
from tests.conftest import RunningSim
from tests.ui.helpers import app_for, in_event_loop, wait_until


@in_event_loop
async def test_escape_from_the_first_picker_leaves_the_invoice_field_focused(
    start_sim: Callable[..., RunningSim],
) -> None:
    sim = start_sim("demo")
    app = app_for(sim, demo=DemoInfo(payees=dict(DEMO_PAYEES)))
    async with app.run_test(size=(100, 32)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, DemoInvoicePicker))
        invoice_screen = app.screen_stack[-2]
        assert isinstance(invoice_screen, InvoiceScreen)
        assert invoice_screen.focused is None  # never focused under the picker, so never blurred either
        await wait_until(pilot, lambda: app.status.info is not None)  # the status worker ran all the same
        assert app.status.reachable

        await pilot.press("escape")
        assert app.screen is invoice_screen
        assert isinstance(app.focused, InvoiceInput)
        await pilot.press("l", "n")
        assert invoice_screen.invoice_input.value == "ln"

        invoice_screen.action_demo_invoices()  # reopened (d, out of the field), then closed: the field again
        await wait_until(pilot, lambda: isinstance(app.screen, DemoInvoicePicker))
        await pilot.press("escape")
        assert isinstance(app.focused, InvoiceInput)


@in_event_loop
async def test_without_the_demo_the_invoice_field_is_focused_at_once(regtest: RunningSim) -> None:
    app = app_for(regtest)
    async with app.run_test(size=(100, 32)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, InvoiceScreen))
        await pilot.pause()
        assert isinstance(app.focused, InvoiceInput)
        await wait_until(pilot, lambda: app.status.info is not None)
