"""The confirmation dialog over the regtest network: it shows what the payment costs, Enter alone sends nothing,
``y`` sends once, Escape cancels, and large amounts must be typed back.

The rule under test (lnconsole/screens/confirm.py): Cancel is focused when the dialog opens; only ``y`` or the
Send button sends; above ``confirm_typed_above_msat`` the amount must be typed back first.
"""

from __future__ import annotations

from textual.widgets import Button

from lnconsole.app import Settings
from lnconsole.screens.attempts import AttemptsScreen
from lnconsole.screens.confirm import ConfirmDialog
from tests.conftest import RunningSim
from tests.ui.helpers import (
    NOW,
    SAT,
    in_event_loop,
    issue,
    load_payable,
    one_part_plan,
    open_confirm,
    payable,
    payment_app,
    plain,
    sent_parts,
    wait_until,
)


@in_event_loop
async def test_the_dialog_shows_the_numbers_and_enter_alone_sends_nothing(regtest: RunningSim) -> None:
    invoice = payable(regtest, 50_000 * SAT)
    plan = one_part_plan(regtest, invoice)
    target = plan.target
    app = payment_app(regtest)
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
    app = payment_app(regtest)
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
    app = payment_app(regtest)
    async with app.run_test(size=(100, 32)) as pilot:
        await open_confirm(pilot, plan, invoice)
        await pilot.click("#confirm-send")
        await wait_until(pilot, lambda: isinstance(app.screen, AttemptsScreen))
        await wait_until(pilot, lambda: len(sent_parts(regtest, plan.target.payment_hash)) == 1)


@in_event_loop
async def test_a_large_amount_must_be_typed_back(regtest: RunningSim) -> None:
    invoice = payable(regtest, 30_000 * SAT)
    plan = one_part_plan(regtest, invoice)
    app = payment_app(regtest, Settings(confirm_typed_above_msat=10_000 * SAT))
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
    app = payment_app(regtest, now=NOW + 30 * 86400)
    async with app.run_test(size=(100, 32)) as pilot:
        dialog = await open_confirm(pilot, plan, invoice)
        assert "expired" in plain(dialog.query_one("#confirm-facts")) and dialog.send_button.disabled
        await pilot.press("y")
        await pilot.pause(0.2)
        assert isinstance(app.screen, ConfirmDialog) and "expired" in plain(dialog.status_line)
        await pilot.press("escape")
        await pilot.pause(0.2)
        assert sent_parts(regtest, plan.target.payment_hash) == []


@in_event_loop
async def test_an_invoice_expiring_within_the_worst_case_delay_is_warned_about(regtest: RunningSim) -> None:
    """An hour left against a route that may hold the payment 16 blocks (~2.7 h): said before the payer agrees."""
    invoice = load_payable(regtest, issue(regtest, "C", 20_000 * SAT, expiry=3600)["bolt11"])
    plan = one_part_plan(regtest, invoice)
    assert plan.total_delay * 600 > 3600
    app = payment_app(regtest)
    async with app.run_test(size=(110, 36)) as pilot:
        dialog = await open_confirm(pilot, plan, invoice)
        facts = plain(dialog.query_one("#confirm-facts"), width=200)
        assert "Warning" in facts and "sooner than the route's worst-case delay" in facts
        await pilot.press("escape")
    roomy = payable(regtest, 20_000 * SAT)  # 7 days left
    async with payment_app(regtest).run_test(size=(110, 36)) as pilot:
        dialog = await open_confirm(pilot, one_part_plan(regtest, roomy), roomy)
        assert "Warning" not in plain(dialog.query_one("#confirm-facts"), width=200)
