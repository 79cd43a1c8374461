"""Before any resend the console asks the node: a sendpay whose answer is lost (the socket drops mid-call) in the
app's own path (confirm with ``y``, then the watchers) is never sent again blindly. The part waits for the node,
``listsendpays`` says whether the node has it, and only a part the node never got is sent, once.

The answer is lost by a node client that forwards the sendpay and then raises NodeUnreachable (``after``: the node
has the part), or raises without forwarding (``before``: the node never got it); and on a retry (``r`` after a
failed part), whose answer is lost after forwarding.

Regtest: 540,000 sat to C goes in three parts (B-C, D-C, B-E-C). For the retry, 300,000 sat in three parts of
100,000, the one over E failing at E (its channel to C drained), retried over B-C or D-C.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from lnconsole.app import Settings, make_app
from lnconsole.node import PylnNode
from lnconsole.payment import NodeReachable, NodeUnreachableEvent, PartSent, PaymentComplete
from lnconsole.plan import PaymentTarget, equal_split
from lnconsole.screens.attempts import AttemptsScreen
from lnconsole.screens.confirm import ConfirmDialog
from tests.conftest import RunningSim
from tests.faults.helpers import TALLY, RecordingNode, check_parts, drain_e_to_c, three_parts_one_via_e
from tests.ui.helpers import NOW, SAT, finder_for, in_event_loop, open_confirm, payable, sent_parts, wait_until


def asked_before_resending(node: RecordingNode, part: tuple[int, int]) -> None:
    """Every sendpay of ``part`` after one whose answer was lost comes after a listsendpays the node answered."""
    lost_at = next(i for i, call in enumerate(node.calls) if call.part == part and call.outcome.startswith("lost"))
    later = [i for i, call in enumerate(node.calls) if call.method == "sendpay" and call.part == part and i > lost_at]
    for index in later:
        between = node.calls[lost_at:index]
        assert any(call.method == "listsendpays" and call.outcome == "ok" for call in between)


@pytest.mark.parametrize("lost", ["after", "before"])
@in_event_loop
async def test_a_lost_sendpay_answer_is_asked_about_never_resent_blindly(
    start_sim: Callable[..., RunningSim], lost: str
) -> None:
    sim = start_sim("regtest")
    invoice = payable(sim, 540_000 * SAT)
    plan = equal_split(PaymentTarget.from_invoice(invoice), 3, finder_for(sim))
    node = RecordingNode(PylnNode(sim.socket_path))
    node.lose_sendpay_answers[(1, 2)] = lost
    app = make_app(node, Settings(poll_timeout_s=1), clock=lambda: NOW, poll_status=False)
    async with app.run_test(size=(100, 32)) as pilot:
        await open_confirm(pilot, plan, invoice)
        await pilot.press("y")
        await wait_until(pilot, lambda: isinstance(app.screen, AttemptsScreen))
        screen = app.screen
        assert isinstance(screen, AttemptsScreen)
        session = screen.session
        await wait_until(pilot, lambda: isinstance(session.outcome, PaymentComplete), 15)
    TALLY.fault("sendpay answer lost")

    lost_event = next(e for e in session.events if isinstance(e, NodeUnreachableEvent))
    assert (lost_event.groupid, lost_event.partid) == (1, 2)
    assert "the part may or may not have been sent: the node is asked once back" in lost_event.message
    assert any(isinstance(e, NodeReachable) and e.partid == 2 for e in session.events)
    asked_before_resending(node, (1, 2))
    reached = sorted(node.sendpays())
    if lost == "after":  # the node had it: found by listsendpays, watched, not sent again
        assert reached == [(1, 1), (1, 2), (1, 3)]
        assert node.count("sendpay", "lost-after") == 1
        assert not any(isinstance(e, PartSent) and e.partid == 2 for e in session.events)
    else:  # the node never had it: sent once, after asking
        assert reached == [(1, 1), (1, 2), (1, 3)]
        assert [call.outcome for call in node.calls if call.part == (1, 2)] == ["lost-before", "ok"]
    records = check_parts(
        sent_parts(sim, invoice.invoice.payment_hash), {(1, 1), (1, 2), (1, 3)}, amount_msat=540_000 * SAT
    )
    assert [r.status for r in records] == ["complete"] * 3


@in_event_loop
async def test_a_retry_whose_answer_is_lost_is_found_on_the_node_not_sent_again(
    start_sim: Callable[..., RunningSim],
) -> None:
    sim = start_sim("regtest")
    drain_e_to_c(sim)
    invoice = payable(sim, 300_000 * SAT)
    plan = three_parts_one_via_e(sim, PaymentTarget.from_invoice(invoice))
    recording = RecordingNode(PylnNode(sim.socket_path))
    recording.lose_sendpay_answers[(1, 4)] = "after"  # the retry of part 3
    app = make_app(recording, Settings(poll_timeout_s=1), clock=lambda: NOW, poll_status=False)
    async with app.run_test(size=(100, 40)) as pilot:
        await open_confirm(pilot, plan, invoice)
        await pilot.press("y")
        await wait_until(pilot, lambda: isinstance(app.screen, AttemptsScreen))
        screen = app.screen
        assert isinstance(screen, AttemptsScreen)
        session = screen.session
        await wait_until(pilot, lambda: session.part(3, 1).status == "failed" and screen.check_action("retry", ()))
        assert sorted(recording.sendpays()) == [(1, 1), (1, 2), (1, 3)]  # nothing retried unless asked
        await pilot.press("r")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        await pilot.press("y")
        await wait_until(pilot, lambda: isinstance(session.outcome, PaymentComplete), 15)
    TALLY.fault("sendpay answer lost")

    asked_before_resending(recording, (1, 4))
    assert sorted(recording.sendpays()) == [(1, 1), (1, 2), (1, 3), (1, 4)]
    assert recording.count("sendpay", "lost-after") == 1
    retried = session.part(4, 1)
    assert retried.retry_of == (1, 3) and retried.status == "complete"
    records = check_parts(
        sent_parts(sim, invoice.invoice.payment_hash), {(1, 1), (1, 2), (1, 3), (1, 4)}, amount_msat=300_000 * SAT
    )
    assert [(r.partid, r.status) for r in records] == [(1, "complete"), (2, "complete"), (3, "failed"), (4, "complete")]
