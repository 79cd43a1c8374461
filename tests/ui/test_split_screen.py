"""The split planner over the regtest network: one part, equal parts, custom amounts (the difference shown as
they are typed), the liquidity plan, a part's route edited in the route editor, and ``p`` asking to pay.

A is us; C the payee. 540,000 sat fits no single route to C but three parts of 180,000 do; 700,000 sat needs the
liquidity plan (see tests/engine/test_payment.py).
"""

from __future__ import annotations

from typing import Any

from textual.message import Message
from textual.pilot import Pilot

from lnconsole.plan import PaymentTarget, equal_split, liquidity_plan
from lnconsole.routing import Route
from lnconsole.screens.confirm import ConfirmDialog
from lnconsole.screens.messages import PayRequested
from lnconsole.screens.route import RouteScreen
from lnconsole.screens.split import MODES, SplitScreen, parse_part_amounts
from tests.conftest import RunningSim
from tests.ui.helpers import SAT, finder_for, in_event_loop, payable, payment_app, plain, sent_parts, wait_until


async def open_split(pilot: Pilot[Any], screen: SplitScreen) -> SplitScreen:
    await pilot.app.push_screen(screen)
    await settle(pilot, screen)
    return screen


async def settle(pilot: Pilot[Any], screen: SplitScreen) -> None:
    """Wait for the plan under way to be shown."""
    await pilot.pause()
    await wait_until(pilot, lambda: not screen._planning)
    await pilot.pause()


async def choose(pilot: Pilot[Any], screen: SplitScreen, mode: str) -> None:
    """Pick a mode in the mode row (a click: the row's keyboard highlight starts on its first button)."""
    assert mode in MODES
    await pilot.click(f"#split-{mode}")
    await pilot.pause()
    assert screen.mode == mode


def rows(screen: SplitScreen) -> list[tuple[str, str, str]]:
    """(part, amount, route) of each row shown."""
    table = screen.parts_table
    return [
        (str(table.get_cell(key, "part")), str(table.get_cell(key, "amount")), str(table.get_cell(key, "route")))
        for key in table.rows
    ]


@in_event_loop
async def test_one_part_cannot_carry_it_three_equal_parts_can_and_p_asks_to_pay(regtest: RunningSim) -> None:
    invoice = payable(regtest, 540_000 * SAT)
    seen: list[Message] = []
    app = payment_app(regtest)
    async with app.run_test(size=(100, 32), message_hook=seen.append) as pilot:
        screen = await open_split(pilot, SplitScreen(invoice))
        assert screen.mode == "liquidity"  # no single route was given: the node's liquidity plan comes first
        assert screen.plan is not None and screen.plan.amount_msat == 540_000 * SAT

        await choose(pilot, screen, "one")
        await settle(pilot, screen)
        assert screen.plan is None and screen.parts_table.row_count == 0
        status = plain(screen.status_line)
        assert "No plan for one part: No route for 540000sat" in status and "Try Equal parts" in status
        assert not screen.check_action("pay", ())

        await choose(pilot, screen, "equal")
        await settle(pilot, screen)
        plan = screen.plan
        assert plan is not None and plan.part_count == 3
        expected = equal_split(PaymentTarget.from_invoice(invoice), 3, finder_for(regtest))
        assert [part.route.to_sendpay() for part in plan.parts] == [p.route.to_sendpay() for p in expected.parts]
        shown = rows(screen)
        assert [(part, amount) for part, amount, _ in shown] == [(str(i), "180,000 sat") for i in (1, 2, 3)]
        assert {route for _, _, route in shown} <= {"B→C", "D→C", "B→E→C"}
        totals = plain(screen.totals)
        assert "Total 540,000 sat in 3 parts" in totals
        assert f"fees {plan.fee_msat:,} msat ({plan.fee_ppm:,} ppm)" in totals
        assert f"worst-case delay {plan.total_delay} blocks" in totals

        await pilot.press("p", "p")  # a double press asks once
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        requests = [message for message in seen if isinstance(message, PayRequested)]
        assert len(requests) == 1 and requests[0].plan is plan and requests[0].invoice is invoice
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is screen)
        assert sent_parts(regtest, plan.target.payment_hash) == []

        await choose(pilot, screen, "liquidity")
        await settle(pilot, screen)
        assert screen.plan is not None and 1 <= screen.plan.part_count <= 3
        assert screen.plan.amount_msat == 540_000 * SAT


@in_event_loop
async def test_custom_amounts_show_the_difference_as_typed_and_plan_when_they_add_up(regtest: RunningSim) -> None:
    invoice = payable(regtest, 300_000 * SAT)
    app = payment_app(regtest)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_split(pilot, SplitScreen(invoice))
        await choose(pilot, screen, "one")
        await settle(pilot, screen)
        assert screen.plan is not None and screen.plan.part_count == 1  # 300,000 sat fits B-C

        await choose(pilot, screen, "custom")
        assert app.focused is screen.amounts_input and screen.plan is None
        screen.amounts_input.value = "100000sat, 150 000"
        screen.amounts_input.cursor_position = len(screen.amounts_input.value)
        await pilot.press(*" sat")  # the sum follows each key
        await pilot.pause()
        assert "2 parts add up to 250,000 sat of 300,000 sat: 50,000 sat missing" in plain(screen.sum_line)
        screen.amounts_input.value += ", 0.0006btc"
        await pilot.pause()
        assert "10,000 sat too much" in plain(screen.sum_line)
        await pilot.press("enter")  # planned anyway: the engine refuses it, in place
        await settle(pilot, screen)
        assert screen.plan is None
        assert "add up to 310000sat, 10000sat more than the 300000sat" in plain(screen.status_line)

        screen.amounts_input.value = "100000sat, 150000sat, 5O000sat"
        await pilot.pause()
        assert "Part 3: '5O000sat' is not an amount" in plain(screen.sum_line)

        screen.amounts_input.value = "100000sat, 150000sat, 50000000"  # a bare number is msat, as in lightningd
        await pilot.pause()
        assert "300,000 sat of 300,000 sat ✓" in plain(screen.sum_line)
        screen.amounts_input.focus()
        await pilot.press("enter")
        await settle(pilot, screen)
        assert [amount for _, amount, _ in rows(screen)] == ["100,000 sat", "150,000 sat", "50,000 sat"]
        assert app.focused is screen.parts_table  # on to the parts, where p pays
        assert screen.check_action("pay", ())


@in_event_loop
async def test_a_parts_route_opens_in_the_route_editor_and_comes_back_edited(regtest: RunningSim) -> None:
    invoice = payable(regtest, 300_000 * SAT)
    app = payment_app(regtest)
    async with app.run_test(size=(100, 32)) as pilot:
        screen = await open_split(pilot, SplitScreen(invoice))
        await choose(pilot, screen, "equal")
        await settle(pilot, screen)
        plan = screen.plan
        assert plan is not None and plan.part_count == 3

        screen.parts_table.focus()
        await pilot.press("down", "enter")  # part 2
        await wait_until(pilot, lambda: isinstance(app.screen, RouteScreen))
        editor = app.screen
        assert isinstance(editor, RouteScreen)
        assert editor.part == 2 and editor.initial_route == plan.part(2).route
        assert editor.amount_msat == plan.part(2).amount_msat

        # The payer reroutes part 2 (here: the engine's route over the channel part 2 did not take).
        used = {hop.short_channel_id for hop in plan.part(2).route.hops}
        other: Route = next(
            route
            for excluded in (("103x2x0", "103x5x0"), ("103x4x0", "103x5x0"), ("103x2x0", "103x4x0"))
            for route in finder_for(regtest).find(
                plan.target.destination, 100_000 * SAT, final_cltv=10, exclude_channels=excluded
            )
            if {hop.short_channel_id for hop in route.hops} != used
        )
        editor.dismiss(other)
        await wait_until(pilot, lambda: app.screen is screen)
        await pilot.pause()
        assert screen.plan is not None and screen.plan.part(2).route == other
        assert screen.plan.part(1) == plan.part(1) and screen.plan.part(3) == plan.part(3)
        summary = "→".join(hop.alias for hop in other.hops)
        assert rows(screen)[1] == ("2", "100,000 sat", summary)
        assert f"Part 2 now goes {summary}" in plain(screen.status_line)

        # A route that delivers another amount is refused in place; the plan stays as it was.
        edited_plan = screen.plan
        await pilot.press("o")
        await wait_until(pilot, lambda: isinstance(app.screen, RouteScreen))
        wrong = finder_for(regtest).find(plan.target.destination, 90_000 * SAT, final_cltv=10)[0]
        app.screen.dismiss(wrong)
        await wait_until(pilot, lambda: app.screen is screen)
        await pilot.pause()
        assert screen.plan is edited_plan
        assert "can't be used: Part 2: the route delivers 90000sat" in plain(screen.status_line)


@in_event_loop
async def test_the_route_editors_route_is_the_one_part_plan(regtest: RunningSim) -> None:
    invoice = payable(regtest, 50_000 * SAT)
    target = PaymentTarget.from_invoice(invoice)
    route = finder_for(regtest).find(target.destination, target.amount_msat, final_cltv=10)[0]
    app = payment_app(regtest)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_split(pilot, SplitScreen(invoice, route))
        assert screen.plan is not None and [part.route for part in screen.plan.parts] == [route]
        assert "Split the payment: C · 50,000 sat" in plain(screen.query_one("#split-title"))


def test_part_amounts_are_read_in_any_cln_format() -> None:
    assert parse_part_amounts("100000sat, 0.001btc; 5000000 + 1.5sat") == [100_000_000, 100_000_000, 5_000_000, 1500]
    assert parse_part_amounts("150 000 sat") == [150_000_000]
    for text in ("", " , ", "12x", "-5sat"):
        try:
            parse_part_amounts(text)
        except ValueError as error:
            assert str(error)
        else:
            raise AssertionError(f"{text!r} was read as amounts")
    assert liquidity_plan  # the planner the liquidity mode runs
