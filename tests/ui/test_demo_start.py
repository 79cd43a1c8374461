"""The console's first screen (issue 5, start-up): in the demo, the invoice screen itself offers the demo's payees
(no dialog over it), Escape goes to the invoice field and d comes back, a payee chosen issues the invoice that
takes their place; the header still learns the node's status; ctrl+q leaves even from a dialog; and looking for
payments in flight loads nothing when there are none."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from textual.widgets import OptionList

from lnconsole.app import DemoInfo, LnConsoleApp
from lnconsole.screens.invoice import InvoiceInput, InvoiceScreen
from lnconsole.sim.demo_stories import DEMO_PAYEES
from tests.conftest import RunningSim
from tests.ui.helpers import app_for, in_event_loop, sent_parts, wait_until


def focused_payees(app: LnConsoleApp) -> bool:
    return isinstance(app.focused, OptionList) and app.focused.id == "demo-payees"


@in_event_loop
async def test_the_demo_starts_on_its_payees_and_escape_goes_to_the_invoice_field(
    start_sim: Callable[..., RunningSim],
) -> None:
    sim = start_sim("demo")
    app = app_for(sim, demo=DemoInfo(payees=dict(DEMO_PAYEES)))
    async with app.run_test(size=(100, 32)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, InvoiceScreen) and focused_payees(app))
        screen = app.screen
        assert isinstance(screen, InvoiceScreen) and len(app.screen_stack) == 2  # one screen: no dialog over it
        panel = screen.demo_panel
        assert panel is not None and panel.display and screen.invoice_input.display  # both in view
        assert [option.id for option in panel.option_list.options] == list(DEMO_PAYEES)
        await wait_until(pilot, lambda: app.status.info is not None)  # the status worker ran all the same
        assert app.status.reachable

        await pilot.press("escape")
        assert isinstance(app.focused, InvoiceInput)
        await pilot.press("l", "n")
        assert screen.invoice_input.value == "ln"

        await pilot.press("escape", "d")  # out of the field, d: the payees again; Escape: the field again
        await wait_until(pilot, lambda: focused_payees(app))
        await pilot.press("escape")
        assert isinstance(app.focused, InvoiceInput)


@in_event_loop
async def test_a_payee_chosen_issues_its_invoice_which_takes_the_payees_place(
    start_sim: Callable[..., RunningSim],
) -> None:
    sim = start_sim("demo")
    app = app_for(sim, demo=DemoInfo(payees=dict(DEMO_PAYEES)))
    async with app.run_test(size=(100, 32)) as pilot:
        await wait_until(pilot, lambda: focused_payees(app))
        screen = app.screen
        assert isinstance(screen, InvoiceScreen) and screen.demo_panel is not None
        await pilot.press("down", "enter")  # the second payee: bookstore
        await wait_until(pilot, lambda: screen.payable is not None and not screen.checking)
        assert screen.details.text_of("payee").startswith("bookstore")
        assert not screen.demo_panel.display and screen.details.display
        assert not focused_payees(app) and app.focused is screen.main  # never left on a hidden list
        await pilot.press("d")
        await wait_until(
            pilot, lambda: focused_payees(app) and screen.demo_panel is not None and screen.demo_panel.display
        )
        assert screen.details.display  # the invoice stays below until another is chosen


@in_event_loop
async def test_without_the_demo_the_invoice_field_is_focused_at_once(regtest: RunningSim) -> None:
    app = app_for(regtest)
    async with app.run_test(size=(100, 32)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, InvoiceScreen))
        await pilot.pause()
        assert isinstance(app.focused, InvoiceInput)
        await wait_until(pilot, lambda: app.status.info is not None)


@in_event_loop
async def test_ctrl_q_leaves_from_a_dialog(regtest: RunningSim) -> None:
    """A dialog's keys come first: ctrl+q must still leave (it is the app's, with priority)."""
    from lnconsole.screens.confirm import ConfirmDialog
    from tests.ui.helpers import one_part_plan, open_confirm, payable

    app = app_for(regtest)
    invoice = payable(regtest, 10_000_000)
    async with app.run_test(size=(100, 32)) as pilot:
        await open_confirm(pilot, one_part_plan(regtest, invoice), invoice)
        assert isinstance(app.screen, ConfirmDialog) and app.return_code is None
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert app.return_code == 0
    assert sent_parts(regtest, invoice.invoice.payment_hash) == []  # leaving sends nothing


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
