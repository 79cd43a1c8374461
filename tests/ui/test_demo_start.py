"""The console's first screen (issue 5, start-up): the demo's picker opens over an invoice screen that has focused
nothing yet, the header still learns the node's status, closing the picker gives the invoice field the focus,
ctrl+q leaves from the picker, and looking for payments in flight loads nothing when there are none."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from lnconsole.app import DemoInfo
from lnconsole.screens.invoice import DemoInvoicePicker, InvoiceInput, InvoiceScreen
from lnconsole.sim.demo_stories import DEMO_PAYEES
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


@in_event_loop
async def test_ctrl_q_leaves_from_the_demo_picker(start_sim: Callable[..., RunningSim]) -> None:
    """The picker is a dialog: its keys come first, and ctrl+q must still leave (it is the app's, with priority)."""
    sim = start_sim("demo")
    app = app_for(sim, demo=DemoInfo(payees=dict(DEMO_PAYEES)))
    async with app.run_test(size=(100, 32)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, DemoInvoicePicker))
        assert app.return_code is None
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert app.return_code == 0


@in_event_loop
async def test_payments_are_looked_for_at_start_and_the_attempts_screen_loads_only_for_one(
    regtest: RunningSim, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With nothing in flight on the node, start-up asks ``listsendpays status=pending`` once and hands nothing to
    the attempts screen (whose module, with the payment engine, is imported only for a payment in flight)."""
    import lnconsole.screens.attempts as attempts

    resumed: list[object] = []
    monkeypatch.setattr(attempts, "resume_pending", lambda app, records: resumed.append(records))
    app = app_for(regtest)
    asked: list[str | None] = []
    listsendpays = app.node.listsendpays

    def recording(*args: object, **kwargs: object) -> object:
        asked.append(kwargs.get("status"))  # type: ignore[arg-type]
        return listsendpays(*args, **kwargs)

    monkeypatch.setattr(app.node, "listsendpays", recording)
    async with app.run_test(size=(100, 32)) as pilot:
        await wait_until(pilot, lambda: asked == ["pending"])
        await wait_until(pilot, lambda: not [worker for worker in app.workers if worker.group == "resume"])
    assert resumed == []
