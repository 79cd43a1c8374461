"""The attempts screen over the regtest network: a split payment paid to completion, a failed part explained and
retried, a final failure that offers no retry, the node going away and back, and a payment left pending when the
console closed, found and watched again by the next start.

A is us; C the payee, reached by A-B-C, A-D-C and A-B-E-C (see tests/engine/test_payment.py for what each
channel can carry).
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

import pytest
from textual.pilot import Pilot

from lnconsole.invoice import PayableInvoice
from lnconsole.node import PylnNode
from lnconsole.payment import NodeReachable, NodeUnreachableEvent, PartSent, PaymentComplete, PaymentFailed
from lnconsole.plan import PaymentPlan, PaymentTarget, PlannedPart, equal_split
from lnconsole.screens.attempts import AttemptsScreen
from lnconsole.screens.confirm import ConfirmDialog
from lnconsole.screens.route import RouteScreen
from lnconsole.widgets.attempts_table import AttemptsTable
from tests.conftest import RunningSim
from tests.ui.helpers import (
    MONOTONIC,
    NOW,
    SAT,
    finder_for,
    in_event_loop,
    one_part_plan,
    open_confirm,
    payable,
    payment_app,
    plain,
    refused_invoice,
    sent_parts,
    wait_until,
)


async def pay(pilot: Pilot[Any], plan: PaymentPlan, invoice: PayableInvoice) -> AttemptsScreen:
    """Ask to pay, confirm with y, and return the attempts screen the app opens."""
    app = pilot.app
    await open_confirm(pilot, plan, invoice)
    await pilot.press("y")
    await wait_until(pilot, lambda: isinstance(app.screen, AttemptsScreen))
    screen = app.screen
    assert isinstance(screen, AttemptsScreen)
    return screen


def status_cells(screen: AttemptsScreen) -> dict[str, str]:
    """Row label -> its status cell, as shown."""
    table: AttemptsTable = screen.table
    return {str(table.get_cell(key, "part")): str(table.get_cell(key, "status")) for key in table.rows}


def squeeze(sim: RunningSim, short_channel_id: str, source: str, spendable_msat: int) -> None:
    """Leave ``source``'s side of the channel only ``spendable_msat``."""
    node = PylnNode(sim.socket_path)
    direction = next(c.direction for c in node.listchannels(short_channel_id) if c.source == sim.alias(source))
    sim.rpc.call(
        "dev-sim-channel",
        {"short_channel_id": short_channel_id, "direction": direction, "spendable_msat": spendable_msat},
    )


def three_parts_one_via_e(sim: RunningSim, invoice: PayableInvoice) -> PaymentPlan:
    """Three equal parts: over B-C, over D-C, and over B-E-C."""
    target = PaymentTarget.from_invoice(invoice)
    finder = finder_for(sim)
    third = target.amount_msat // 3
    routes = [
        finder.find(target.destination, third, final_cltv=target.min_final_cltv_expiry, exclude_channels=excluded)[0]
        for excluded in (("103x4x0", "103x5x0"), ("103x2x0", "103x5x0"), ("103x2x0", "103x4x0"))
    ]
    assert [len(route.hops) for route in routes] == [2, 2, 3]
    return PaymentPlan(target, tuple(PlannedPart(i, third, route) for i, route in enumerate(routes, start=1)))


# ---------------------------------------------------------------------------------------------------------------


@in_event_loop
async def test_a_split_payment_is_shown_to_completion_and_f4_brings_it_back(regtest: RunningSim) -> None:
    invoice = payable(regtest, 540_000 * SAT)  # no single route carries it (see test_payment.py)
    plan = equal_split(PaymentTarget.from_invoice(invoice), 3, finder_for(regtest))
    app = payment_app(regtest)
    async with app.run_test(size=(100, 32)) as pilot:
        screen = await pay(pilot, plan, invoice)
        session = screen.session
        await wait_until(pilot, lambda: isinstance(screen._outcome, PaymentComplete))
        await pilot.pause()

        done = session.outcome
        assert isinstance(done, PaymentComplete) and done.parts == 3
        cells = status_cells(screen)
        assert sorted(cells) == ["1", "2", "3"]
        assert all(cell.startswith("✓ complete") for cell in cells.values()), cells
        routes = {str(screen.table.get_cell(key, "route")) for key in screen.table.rows}
        assert routes <= {"B→C", "D→C", "B→E→C"} and len(routes) >= 2
        outcome = plain(screen.outcome_view)
        assert "Paid 540,000 sat in 3 parts" in outcome and done.preimage in outcome
        assert f"fees {done.fee_msat:,} msat" in outcome and "took 0.0s" in outcome  # the pinned clock
        assert hashlib.sha256(bytes.fromhex(done.preimage)).hexdigest() == plan.target.payment_hash
        assert not screen.failure_panel.display

        await pilot.press("c")
        assert app.clipboard == done.preimage

        # Leaving the screen loses nothing: F4 shows the same payment, replayed from the session.
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, AttemptsScreen))
        await pilot.press("f4")
        await wait_until(pilot, lambda: isinstance(app.screen, AttemptsScreen))
        again = app.screen
        assert isinstance(again, AttemptsScreen) and again is not screen
        await pilot.pause()
        assert status_cells(again) == cells and done.preimage in plain(again.outcome_view)
        assert len(sent_parts(regtest, plan.target.payment_hash)) == 3


@pytest.mark.parametrize("key", ["r", "e"])
@in_event_loop
async def test_a_failed_part_is_explained_and_retried_to_completion(regtest: RunningSim, key: str) -> None:
    """``r`` retries around the failing channel; ``e`` opens the route editor on the failed route and sends the
    route it hands back."""
    squeeze(regtest, "103x6x0", "E", 10 * SAT)
    invoice = payable(regtest, 300_000 * SAT)
    plan = three_parts_one_via_e(regtest, invoice)
    app = payment_app(regtest)
    async with app.run_test(size=(100, 40)) as pilot:
        screen = await pay(pilot, plan, invoice)
        session = screen.session
        # The payee holds parts 1 and 2 until the whole amount arrives: the payment is live, part 3 failed.
        await wait_until(pilot, lambda: status_cells(screen).get("3", "").startswith("✗"))
        await pilot.pause()
        assert session.outcome is None and "2 in flight" in plain(screen.outcome_view)

        # The failed part is selected by itself, and its panel shows where and why.
        assert screen.table.selected_key == (1, 3)
        assert screen.failure_panel.display
        panel = plain(screen.failure_panel, width=96)
        assert "WIRE_TEMPORARY_CHANNEL_FAILURE" in panel
        assert "✗ 3. E ─103x6x0/" in panel and "failed here" in panel  # the erring hop, highlighted
        assert "Erring node: E" in panel and regtest.alias("E")[:24] in panel
        assert "Channel: 103x6x0/" in panel
        assert "liquidity" in panel  # the failcode's explanation
        assert "r retry around 103x6x0/" in panel and "e retry with an edited route" in panel
        assert status_cells(screen)["3"].startswith("✗ temporary_channel_failure")
        assert len(sent_parts(regtest, plan.target.payment_hash)) == 3  # nothing retried unless asked

        edited = None
        if key == "r":
            await pilot.press("r", "r")  # a double press asks once
        else:
            await pilot.press("e")
            await wait_until(pilot, lambda: isinstance(app.screen, RouteScreen))
            editor = app.screen
            assert isinstance(editor, RouteScreen) and editor.part == 3 and editor.amount_msat == 100_000 * SAT
            assert editor.initial_route == plan.part(3).route  # the failed route, to edit around its hop
            target = plan.target
            edited = finder_for(regtest).find(
                target.destination, 100_000 * SAT, final_cltv=10, exclude_channels=("103x2x0", "103x5x0")
            )[0]  # the payer's choice: over D
            editor.dismiss(edited)
        # A retry is money sent: the confirmation shows the part, its new route and fees; Escape sends nothing.
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        dialog = app.screen
        assert isinstance(dialog, ConfirmDialog)
        assert plain(dialog.query_one("#confirm-title")).strip() == "Retry part 3 of this payment?"
        facts = plain(dialog.query_one("#confirm-facts"))
        assert "part 3 (group 1) failed" in facts and "100,000 sat" in facts and "300,000 sat" in facts
        assert "New route" in facts and "E →" not in facts  # around the drained channel E-C
        assert len(sent_parts(regtest, plan.target.payment_hash)) == 3
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is screen and screen.check_action("retry", ()))
        assert len(sent_parts(regtest, plan.target.payment_hash)) == 3
        if key == "r":
            await pilot.press("r")
        else:
            await pilot.press("e")
            await wait_until(pilot, lambda: isinstance(app.screen, RouteScreen))
            app.screen.dismiss(edited)
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        await pilot.press("y", "y")
        await wait_until(pilot, lambda: isinstance(screen._outcome, PaymentComplete), timeout=10)
        await pilot.pause()

        cells = status_cells(screen)
        assert cells["3"] == "✗ failed → part 4" and cells["4"].startswith("✓ complete")
        assert cells["1"].startswith("✓ complete") and cells["2"].startswith("✓ complete")
        retried = next(e for e in session.events if isinstance(e, PartSent) and e.retry_of == (1, 3))
        assert retried.route is not None and "103x6x0" not in {h.short_channel_id for h in retried.route.hops}
        if edited is not None:
            assert retried.route == edited
        records = sent_parts(regtest, plan.target.payment_hash)
        assert sorted((r.partid, r.status) for r in records) == [
            (1, "complete"),
            (2, "complete"),
            (3, "failed"),
            (4, "complete"),
        ]
        outcome = plain(screen.outcome_view)
        assert "Paid 300,000 sat in 3 parts" in outcome
        assert isinstance(session.outcome, PaymentComplete) and session.outcome.preimage in outcome
        # The failed part's panel now says it was retried, and offers nothing more.
        screen.table.move_cursor(row=screen.table.get_row_index("1:3"))
        await pilot.pause()
        assert "Retried as part 4" in plain(screen.failure_panel, width=96)
        assert not screen.check_action("retry", ())


@in_event_loop
async def test_a_final_failure_offers_no_retry(regtest: RunningSim) -> None:
    """An invoice signed by C for a payment hash C never issued: C refuses it, whatever the route."""
    invoice = refused_invoice(regtest)
    plan = one_part_plan(regtest, invoice)
    app = payment_app(regtest)
    async with app.run_test(size=(100, 40)) as pilot:
        screen = await pay(pilot, plan, invoice)
        await wait_until(pilot, lambda: isinstance(screen._outcome, PaymentFailed))
        await pilot.pause()

        panel = plain(screen.failure_panel, width=96)
        assert "WIRE_INCORRECT_OR_UNKNOWN_PAYMENT_DETAILS" in panel
        assert "No retry offered" in panel and "destination itself refused" in panel
        assert "r retry" not in panel
        assert "The payment failed" in plain(screen.outcome_view)
        assert not screen.check_action("retry", ()) and not screen.check_action("edit_retry", ())

        await pilot.press("r", "e")
        await pilot.pause(0.3)
        assert len(sent_parts(regtest, plan.target.payment_hash)) == 1
        assert isinstance(app.screen, AttemptsScreen)

        await pilot.press("g")  # give up: nothing is in flight, so the view closes
        await wait_until(pilot, lambda: not isinstance(app.screen, AttemptsScreen))


@in_event_loop
async def test_the_node_going_away_and_coming_back_shows(regtest: RunningSim) -> None:
    invoice = payable(regtest, 5_000 * SAT)
    plan = one_part_plan(regtest, invoice)
    app = payment_app(regtest)
    async with app.run_test(size=(100, 32)) as pilot:
        session = app.new_session(plan.target)
        screen = AttemptsScreen(session, plan)
        await app.push_screen(screen)
        part = plan.parts[0]
        common: dict[str, Any] = {
            "payment_hash": plan.target.payment_hash,
            "groupid": 1,
            "partid": part.partid,
            "amount_msat": part.amount_msat,
            "amount_sent_msat": part.amount_sent_msat,
            "route": part.route,
        }
        screen.show_event(PartSent(elapsed=0.0, status="pending", **common))
        screen.show_event(
            NodeUnreachableEvent(
                elapsed=2.0, status="pending", message="connection refused", attempt=2, retry_in=0.5, **common
            )
        )
        await pilot.pause()
        assert screen.banner.display and "connection refused" in plain(screen.banner)
        assert status_cells(screen)["1"].startswith("? node away")

        screen.show_event(NodeReachable(elapsed=4.0, status="pending", down_for=2.0, **common))
        await pilot.pause()
        assert not screen.banner.display
        assert "answers again" in plain(screen.outcome_view)
        assert status_cells(screen)["1"] == "⋯ pending 4.0s"


@in_event_loop
async def test_a_payment_pending_when_the_console_closed_is_watched_again(start_sim: Any) -> None:
    sim = start_sim("regtest", hop_delay_ms=500)  # a 2-hop part takes about 2 s
    invoice = payable(sim, 40_000 * SAT)
    plan = one_part_plan(sim, invoice)
    payment_hash = plan.target.payment_hash
    async with payment_app(sim).run_test(size=(100, 32)) as pilot:
        await pay(pilot, plan, invoice)
        await wait_until(pilot, lambda: [r.status for r in sent_parts(sim, payment_hash)] == ["pending"])
    # The console is gone; the part is still in flight on the node.
    assert [r.status for r in sent_parts(sim, payment_hash)] == ["pending"]

    app = payment_app(sim)
    async with app.run_test(size=(100, 32)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, AttemptsScreen))
        screen = app.screen
        assert isinstance(screen, AttemptsScreen) and screen.payment_hash == payment_hash
        await wait_until(pilot, lambda: isinstance(screen._outcome, PaymentComplete), timeout=10)
        await pilot.pause()
        assert status_cells(screen)["1"].startswith("✓ complete")
        done = screen.session.outcome
        assert isinstance(done, PaymentComplete) and not done.already_paid
        assert done.preimage in plain(screen.outcome_view)
        records = sent_parts(sim, payment_hash)
        assert [(r.partid, r.status) for r in records] == [(1, "complete")]  # watched, never sent again
        assert screen.session.target.payment_secret == plan.target.payment_secret  # from the node's bolt11
        assert MONOTONIC  # elapsed times come from the pinned clock


# ---------------------------------------------------------------------------------------------------------------
# When the attempts screen comes up


class SlowSendpay(PylnNode):
    """A node whose every sendpay takes ``delay_s`` (a busy lightningd), counting them as they are answered."""

    def __init__(self, socket_path: str, delay_s: float) -> None:
        super().__init__(socket_path)
        self.delay_s = delay_s
        self.answered = 0

    def call(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        if method == "sendpay":
            time.sleep(self.delay_s)
        answer = super().call(method, params)
        if method == "sendpay":
            self.answered += 1
        return answer


@pytest.mark.parametrize(("delay_s", "shown_while_sending"), [(0.0, False), (0.2, True)])
@in_event_loop
async def test_the_attempts_screen_follows_the_parts_out_or_comes_while_a_slow_node_takes_them(
    regtest: RunningSim, delay_s: float, shown_while_sending: bool
) -> None:
    """On a quick node every part is out before the screen is drawn (drawing it would hold up the sendpays); on a
    slow one the screen comes within SHOW_ATTEMPTS_AFTER_S, with the parts still going out, and shows them all."""
    from lnconsole.app import make_app

    node = SlowSendpay(str(regtest.socket_path), delay_s)
    app = make_app(node, poll_status=False, clock=lambda: NOW, monotonic=lambda: MONOTONIC)
    invoice = payable(regtest, 90_000 * SAT)
    plan = equal_split(PaymentTarget.from_invoice(invoice), 3, finder_for(regtest))
    async with app.run_test(size=(120, 40)) as pilot:
        await open_confirm(pilot, plan, invoice)
        await pilot.press("y")
        await wait_until(pilot, lambda: isinstance(app.screen, AttemptsScreen))
        sent_when_shown = node.answered
        if shown_while_sending:
            assert sent_when_shown < len(plan.parts)  # before the last part was answered
        else:
            assert sent_when_shown == len(plan.parts)
        screen = app.screen
        assert isinstance(screen, AttemptsScreen)
        await wait_until(pilot, lambda: isinstance(screen.session.outcome, PaymentComplete))
        await wait_until(pilot, lambda: sorted(status_cells(screen)) == ["1", "2", "3"])
        assert all(cell.startswith("✓ complete") for cell in status_cells(screen).values())
    assert len(sent_parts(regtest, invoice.invoice.payment_hash)) == len(plan.parts)
