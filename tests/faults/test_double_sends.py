"""A double key press, a second confirm, or two consoles on the same node never produce a second sendpay for the
same part.

- In one app: ``y`` pressed twice, then the Send button and Enter, all on one dialog; the confirmation dialog
  opened twice for the same plan and confirmed twice; two confirmations landing at once. The app sends each part
  once (one sendpay call per part, counted at the node client) and shows the one payment again.
- Two apps on one node confirm the same invoice at the same moment: both ask the node first (``listsendpays``,
  nothing there yet: a barrier holds both just before their first sendpay), then both send. Between two processes
  nothing but the node can arbitrate, and it does as lightningd does: an identical (groupid, partid, amount) is
  answered with the part already there, a different amount for a partid in flight is refused (201), and the
  refused console watches the other's parts. On the node each part exists once and the parts add up to the
  amount, whichever console won.

The simulator's HTLCs are held at their first hop (:class:`HopGate`) until the sending is over.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from textual.pilot import Pilot

from lnconsole.app import LnConsoleApp, Settings, make_app
from lnconsole.node import PylnNode
from lnconsole.payment import PaymentComplete
from lnconsole.plan import PaymentTarget, equal_split, single
from lnconsole.screens.attempts import AttemptsScreen
from lnconsole.screens.confirm import ConfirmDialog
from lnconsole.screens.messages import PayRequested
from tests.conftest import RunningSim
from tests.faults.helpers import TALLY, HopGate, RecordingNode, check_parts, three_parts_one_via_e
from tests.ui.helpers import NOW, SAT, finder_for, in_event_loop, open_confirm, payable, sent_parts, wait_until

PARTS = {(1, 1), (1, 2), (1, 3)}


def console(sim: RunningSim) -> tuple[LnConsoleApp, RecordingNode]:
    node = RecordingNode(PylnNode(sim.socket_path))
    return make_app(node, Settings(poll_timeout_s=1), clock=lambda: NOW, poll_status=False), node


def notifications(app: LnConsoleApp) -> list[str]:
    """The messages of every notification the app shows from now on, in order."""
    notes: list[str] = []
    notify = app.notify

    def recorded(message: str, **options: Any) -> None:
        notes.append(message)
        notify(message, **options)

    app.notify = recorded  # type: ignore[method-assign]
    return notes


async def attempts_on_top(pilot: Pilot[Any]) -> AttemptsScreen:
    app = pilot.app
    await wait_until(pilot, lambda: isinstance(app.screen, AttemptsScreen) and app.screen.is_mounted)
    screen = app.screen
    assert isinstance(screen, AttemptsScreen)
    return screen


@in_event_loop
async def test_y_twice_then_the_send_button_and_enter_send_each_part_once(start_sim: Callable[..., RunningSim]) -> None:
    sim = start_sim("regtest")
    gate = HopGate(sim)
    invoice = payable(sim, 540_000 * SAT)
    plan = equal_split(PaymentTarget.from_invoice(invoice), 3, finder_for(sim))
    app, node = console(sim)
    async with app.run_test(size=(100, 32)) as pilot:
        dialog = await open_confirm(pilot, plan, invoice)
        send_button = dialog.send_button
        await pilot.press("y", "y")
        send_button.press()  # a click that arrives after the dialog answered
        dialog.action_send()
        await pilot.press("enter", "y")
        TALLY.fault("double press", 4)
        screen = await attempts_on_top(pilot)
        await wait_until(pilot, lambda: len(screen.session.parts()) == 3)
        gate.open()
        await wait_until(pilot, lambda: isinstance(screen.session.outcome, PaymentComplete), 15)
        assert len(app.sessions) == 1 and sum(isinstance(s, AttemptsScreen) for s in app.screen_stack) == 1
    assert sorted(node.sendpays()) == sorted(PARTS)
    check_parts(sent_parts(sim, plan.target.payment_hash), PARTS, amount_msat=plan.amount_msat)


@in_event_loop
async def test_a_second_confirm_of_the_same_plan_sends_nothing_and_shows_the_payment(
    start_sim: Callable[..., RunningSim],
) -> None:
    """The dialog opened twice for one plan (as two requests to pay would open it) and each confirmed; then two
    confirmations landing at the same moment (the dialog's callback, twice in one go)."""
    sim = start_sim("regtest")
    gate = HopGate(sim)
    invoice = payable(sim, 150_000 * SAT)  # both payments fit on any one path to C together
    plan = equal_split(PaymentTarget.from_invoice(invoice), 3, finder_for(sim))
    at_once = payable(sim, 150_000 * SAT)
    at_once_plan = equal_split(PaymentTarget.from_invoice(at_once), 3, finder_for(sim))
    app, node = console(sim)
    notes = notifications(app)
    async with app.run_test(size=(100, 32)) as pilot:
        app.post_message(PayRequested(plan, invoice))
        app.post_message(PayRequested(plan, invoice))
        await wait_until(pilot, lambda: sum(isinstance(s, ConfirmDialog) for s in app.screen_stack) == 2)
        await pilot.pause()
        await pilot.press("y")
        first = await attempts_on_top(pilot)
        await wait_until(pilot, lambda: len(first.session.parts()) == 3)
        await pilot.press("escape")  # back to what is under it: the second dialog
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        await pilot.pause()
        await pilot.press("y")
        TALLY.fault("second confirm")
        again = await attempts_on_top(pilot)
        assert again.session is first.session  # the same payment, shown again
        assert notes == ["This payment is already in flight or paid: nothing is sent again."]
        await pilot.pause()
        assert len(sent_parts(sim, plan.target.payment_hash)) == 3
        assert sorted(node.sendpays()) == sorted(PARTS)

        # Two confirmations at once, as two answered dialogs would call back.
        app.launch(at_once_plan, at_once)
        app.launch(at_once_plan, at_once)
        TALLY.fault("second confirm")
        await wait_until(pilot, lambda: len(sent_parts(sim, at_once_plan.target.payment_hash)) == 3)
        assert notes.count("This payment is already in flight or paid: nothing is sent again.") == 2
        gate.open()
        sessions = [app.sessions[plan.target.payment_hash], app.sessions[at_once_plan.target.payment_hash]]
        await wait_until(pilot, lambda: all(isinstance(s.outcome, PaymentComplete) for s in sessions), 15)
        await pilot.pause()
        shown = [s for s in app.screen_stack if isinstance(s, AttemptsScreen)]
        assert all(isinstance(screen._outcome, PaymentComplete) for screen in shown)
    assert sorted(node.sendpays()) == sorted([*PARTS, *PARTS])  # one sendpay per part of each payment, from one app
    for target in (plan.target, at_once_plan.target):
        check_parts(sent_parts(sim, target.payment_hash), PARTS, amount_msat=target.amount_msat)


@pytest.mark.parametrize("plans", ["the same plan", "different plans"])
@in_event_loop
async def test_two_apps_confirming_the_same_invoice_at_once(start_sim: Callable[..., RunningSim], plans: str) -> None:
    sim = start_sim("regtest")
    gate = HopGate(sim)
    invoice = payable(sim, 300_000 * SAT)
    target = PaymentTarget.from_invoice(invoice)
    ours = three_parts_one_via_e(sim, target)
    theirs = (
        ours
        if plans == "the same plan"
        else single(
            target,
            finder_for(sim).find(target.destination, target.amount_msat, final_cltv=target.min_final_cltv_expiry)[0],
        )
    )
    both_asked = threading.Barrier(2, timeout=30)

    def hold_first_sendpay(node: RecordingNode) -> Callable[[], None]:
        def hold() -> None:
            if not node.calls or all(call.method != "sendpay" for call in node.calls):
                both_asked.wait()  # both consoles have asked the node (nothing there): now both send

        return hold

    (app1, node1), (app2, node2) = console(sim), console(sim)
    for node in (node1, node2):
        node.before_sendpay = hold_first_sendpay(node)
    async with app1.run_test(size=(100, 32)) as pilot1, app2.run_test(size=(100, 32)) as pilot2:
        await open_confirm(pilot1, ours, invoice)
        await open_confirm(pilot2, theirs, invoice)
        await pilot1.press("y")
        await pilot2.press("y")
        TALLY.fault("two consoles at once")
        screens = [await attempts_on_top(pilot1), await attempts_on_top(pilot2)]
        await wait_until(pilot1, lambda: node1.count("sendpay") >= 1 and node2.count("sendpay") >= 1)
        sessions = [screen.session for screen in screens]
        await wait_until(pilot1, lambda: all(s.parts() for s in sessions))
        gate.open()
        await wait_until(pilot1, lambda: all(isinstance(s.outcome, PaymentComplete) for s in sessions), 15)
        await pilot2.pause()
    assert node1.count("listsendpays") >= 1 and node2.count("listsendpays") >= 1
    records = sent_parts(sim, target.payment_hash)
    check_parts(records, None, amount_msat=target.amount_msat)
    assert len({r.groupid for r in records}) == 1
    outcomes = [session.outcome for session in sessions]
    assert all(isinstance(o, PaymentComplete) for o in outcomes)
    assert len({o.preimage for o in outcomes if isinstance(o, PaymentComplete)}) == 1
    assert {o.parts for o in outcomes if isinstance(o, PaymentComplete)} == {len(records)}
    if plans == "the same plan":
        assert {(r.groupid, r.partid) for r in records} == PARTS
        # Both consoles sent each part; the node answered the later sendpay of each with the part it had.
        assert sorted(node1.sendpays()) == sorted(node2.sendpays()) == sorted(PARTS)
    else:  # whoever came second had its first part refused (201) and sent nothing more: it watches the other's
        [refused] = [node for node in (node1, node2) if node.count("sendpay", "error")]
        assert refused.count("sendpay") == 1
