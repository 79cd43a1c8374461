"""The route screen against the regtest network over the socket: find, edit hop by hop, import/export, pay.

A is us; C the payee, reached by A-B-C, A-D-C or A-B-E-C. Every number checked here is also worked out by the
route engine (or by hand from lightningd's regtest policy: 1 msat + 10 ppm, delta 6).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from textual.binding import Binding
from textual.message import Message
from textual.pilot import Pilot
from textual.widgets import DataTable, Input
from textual.widgets._footer import FooterKey

from lnconsole.invoice import PayableInvoice, load_invoice
from lnconsole.node import PylnNode
from lnconsole.routing import Route, recompute, route_to_json
from lnconsole.screens.messages import PayRequested
from lnconsole.screens.route import RouteScreen
from lnconsole.screens.route_dialogs import (
    ChannelChoiceDialog,
    ExcludeDialog,
    ExportRouteDialog,
    ImportRouteDialog,
    InsertHopDialog,
    RouteOptionsDialog,
)
from tests.conftest import RunningSim
from tests.engine.helpers import Regtest, add_parallel_channel, add_private_payee
from tests.ui.helpers import NOW, app_for, in_event_loop, issue, load_payable, shown, wait_until, workers_done

AMOUNT = 10_000_000


@pytest.fixture
def net(regtest: RunningSim) -> Regtest:
    return Regtest(regtest)


def issued(net: Regtest, amount_msat: int = AMOUNT) -> tuple[PayableInvoice, dict[str, Any]]:
    """A fresh invoice of C (no description), checked and payable, and what the node answered issuing it."""
    created = issue(net.sim, "C", amount_msat)
    return load_payable(net.sim, created["bolt11"]), created


def abc(net: Regtest, amount_msat: int = AMOUNT, final_cltv: int = 10) -> Route:
    return recompute(net.path("A", ("103x1x0", "B"), ("103x2x0", "C")), amount_msat, final_cltv, net.policies)


async def settle(pilot: Pilot[Any]) -> None:
    """Wait for the route screen's workers to finish and their results to be shown."""
    await pilot.pause()
    await workers_done(pilot, "route")
    await pilot.pause()


async def open_route(pilot: Pilot[Any], screen: RouteScreen) -> RouteScreen:
    await pilot.app.push_screen(screen)
    await wait_until(pilot, lambda: screen.route is not None or "No route" in str(screen.status.render()))
    await settle(pilot)
    return screen


def aliases(route: Route | None) -> list[str]:
    assert route is not None
    return [hop.alias for hop in route.hops]


def cell(screen: RouteScreen, row: int, column: str) -> str:
    table: DataTable[Any] = screen.route_table.hops_table
    return str(table.get_cell(str(row), column))


# ---------------------------------------------------------------------------------------------------------------


@in_event_loop
async def test_found_route_shows_each_hop_with_the_engines_fees(net: Regtest) -> None:
    invoice, _ = issued(net)
    async with app_for(net.sim).run_test(size=(120, 32)) as pilot:
        screen = await open_route(pilot, RouteScreen(invoice))
        route = screen.route
        assert route is not None and screen.check is not None and screen.check.ok, screen.check
        assert len(route.hops) == 2 and route.hops[0].alias in ("B", "D") and route.hops[1].alias == "C"

        settings = pilot.app.settings
        [expected] = net.finder.find(
            net.C,
            AMOUNT,
            final_cltv=invoice.invoice.min_final_cltv_expiry,
            maxfee_msat=settings.maxfee_for(AMOUNT),
            maxdelay=settings.maxdelay,
        )
        assert route.to_sendpay() == expected.to_sendpay()
        # The middle node charges its regtest policy: 1 msat + 10 ppm of 10,000 sat, and a delta of 6.
        assert [h.fee_msat for h in route.hops] == [h.fee_msat for h in expected.hops] == [101, 0]
        assert route.total_delay == invoice.invoice.min_final_cltv_expiry + 6

        assert cell(screen, 0, "Node") == route.hops[0].alias and cell(screen, 1, "Node") == "C"
        assert cell(screen, 0, "Fee") == "101 msat" and cell(screen, 0, "Δ") == "6"
        assert cell(screen, 0, "Amount") == "10,000.101 sat"
        assert cell(screen, 0, "Capacity").endswith("spendable")  # our own channel: what we can send
        assert cell(screen, 1, "Capacity") in ("400,000 sat", "300,000 sat")
        totals = shown(screen.route_table.totals)
        assert "Sent 10,000.101 sat" in totals and "fee 101 msat (10 ppm)" in totals
        assert f"delay {route.total_delay} blocks / max 2016" in totals and "over limit" not in totals


@in_event_loop
async def test_insert_then_drop_a_hop_updates_the_totals_and_undo_brings_it_back(net: Regtest) -> None:
    invoice, _ = issued(net)
    route = abc(net, final_cltv=invoice.invoice.min_final_cltv_expiry)
    async with app_for(net.sim).run_test(size=(120, 32)) as pilot:
        screen = await open_route(pilot, RouteScreen(invoice, route))
        assert aliases(screen.route) == ["B", "C"]

        await pilot.press("down", "i")  # into hop 2 (B -> C)
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, InsertHopDialog))
        dialog = pilot.app.screen
        assert isinstance(dialog, InsertHopDialog) and [c.alias for c in dialog.candidates] == ["E"]
        await pilot.press("E", "enter")
        await settle(pilot)

        expected = net.editor(amount_msat=AMOUNT).insert_hop(route, 1, net.E)
        assert aliases(screen.route) == ["B", "E", "C"] and screen.route == expected.route
        # E asks 1 + 10 ppm of 10,000 sat over E-C; B the same over B-E on 10,000.101 sat.
        assert [h.fee_msat for h in screen.route.hops] == [101, 101, 0]
        assert "fee 202 msat" in shown(screen.route_table.totals)
        assert cell(screen, 1, "Node") == "E" and cell(screen, 1, "Fee") == "101 msat"
        assert "E inserted between B and C" in shown(screen.status)

        await pilot.press("d")  # the cursor is still on hop 2, now E
        await settle(pilot)
        assert aliases(screen.route) == ["B", "C"] and screen.route == route
        assert "fee 101 msat" in shown(screen.route_table.totals) and "E removed" in shown(screen.status)

        await pilot.press("u")
        await settle(pilot)
        assert aliases(screen.route) == ["B", "E", "C"]


@in_event_loop
async def test_swap_to_a_parallel_channel_and_to_a_disabled_one(net: Regtest) -> None:
    add_parallel_channel(net.sim)  # 111x1x0, B charges 0 msat + 1 ppm, delta 9 over it
    invoice, _ = issued(net)
    route = abc(net, final_cltv=invoice.invoice.min_final_cltv_expiry)
    seen: list[Message] = []
    async with app_for(net.sim).run_test(size=(120, 32), message_hook=seen.append) as pilot:
        screen = await open_route(pilot, RouteScreen(invoice, route))
        await pilot.press("down", "w")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, ChannelChoiceDialog))
        dialog = pilot.app.screen
        assert isinstance(dialog, ChannelChoiceDialog)
        assert [(c.short_channel_id, c.fee_msat, c.current) for c in dialog.choices] == [
            ("111x1x0", 10, False),
            ("103x2x0", 101, True),
        ]
        await pilot.press("enter")
        await settle(pilot)
        assert [h.short_channel_id for h in screen.route.hops] == ["103x1x0", "111x1x0"]
        assert cell(screen, 0, "Fee") == "10 msat" and cell(screen, 0, "Δ") == "9"
        assert screen.check.ok and "fee 10 msat" in shown(screen.route_table.totals)

        # B disables 111x1x0: swapping to it is allowed, and the hop says what is wrong.
        net.channel("111x1x0", "B", "C", active=False)
        await pilot.press("r")  # the screen forgets what it knew about the channels
        await settle(pilot)
        assert "disabled" in cell(screen, 1, "Problems") and cell(screen, 1, "#").startswith("✗")
        await pilot.press("w")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, ChannelChoiceDialog))
        await pilot.press("escape")
        await pilot.press("u", "u")  # back to the route as opened
        await settle(pilot)
        assert [h.short_channel_id for h in screen.route.hops] == ["103x1x0", "103x2x0"] and screen.check.ok
        await pilot.press("w")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, ChannelChoiceDialog))
        dialog = pilot.app.screen
        assert isinstance(dialog, ChannelChoiceDialog)
        assert [(c.short_channel_id, c.usable) for c in dialog.choices] == [("103x2x0", True), ("111x1x0", False)]
        await pilot.press("down", "enter")
        await settle(pilot)
        assert screen.route.hops[1].short_channel_id == "111x1x0" and not screen.check.ok
        assert [p.kind for p in screen.check.problems_at(1)] == ["disabled"]
        assert cell(screen, 1, "#") == "✗ 2" and "111x1x0/" in cell(screen, 1, "Problems")
        assert "disabled" in cell(screen, 1, "Problems") and "problem" in shown(screen.status)
        assert "✗" in shown(screen.route_table.hop_detail)

        await pilot.press("p")  # an invalid route is not paid
        await pilot.pause()
        assert not any(isinstance(m, PayRequested) for m in seen)
        assert "Not paying" in shown(screen.status) and "disabled" in shown(screen.status)


@in_event_loop
async def test_exclude_a_node_and_reroute(net: Regtest) -> None:
    invoice, _ = issued(net)
    route = abc(net, final_cltv=invoice.invoice.min_final_cltv_expiry)
    async with app_for(net.sim).run_test(size=(120, 32)) as pilot:
        screen = await open_route(pilot, RouteScreen(invoice, route))
        await pilot.press("x")  # on hop 1: B
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, ExcludeDialog))
        await pilot.press("enter")  # "Node B" is highlighted
        await settle(pilot)
        assert aliases(screen.route) == ["D", "C"] and screen.check.ok
        assert screen.options is not None and screen.options.exclude_nodes == (net.B,)
        assert shown(screen.status) == "Rerouted from A avoiding B: the route checks out."

        # Excluding the destination is refused in place; the route stays.
        await pilot.press("down", "x")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, ExcludeDialog))
        await pilot.press("enter")  # only the channel can be chosen: 103x4x0, and there is no other way then
        await settle(pilot)
        assert aliases(screen.route) == ["D", "C"]
        assert "Exclude: No route from D to C" in shown(screen.status) and "unchanged" in shown(screen.status)


@in_event_loop
async def test_export_is_json_sendpay_accepts(net: Regtest) -> None:
    invoice, created = issued(net)
    async with app_for(net.sim).run_test(size=(120, 32)) as pilot:
        screen = await open_route(pilot, RouteScreen(invoice))
        await pilot.press("e")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, ExportRouteDialog))
        dialog = pilot.app.screen
        assert isinstance(dialog, ExportRouteDialog)
        assert dialog.json_text == route_to_json(screen.route)
        hops = json.loads(dialog.json_area.text)
        assert hops == json.loads(dialog.json_text)
        await pilot.press("c")
        assert pilot.app.clipboard == dialog.json_text
        await pilot.press("escape")

    net.sim.rpc.sendpay(hops, created["payment_hash"], payment_secret=created["payment_secret"])
    assert net.sim.rpc.waitsendpay(created["payment_hash"], timeout=10)["status"] == "complete"


@in_event_loop
async def test_import_shows_what_is_wrong_and_takes_a_good_route(net: Regtest) -> None:
    invoice, _ = issued(net)
    final = invoice.invoice.min_final_cltv_expiry
    adc = recompute(net.path("A", ("103x3x0", "D"), ("103x4x0", "C")), AMOUNT, final, net.policies)
    async with app_for(net.sim).run_test(size=(120, 32)) as pilot:
        screen = await open_route(pilot, RouteScreen(invoice, abc(net, final_cltv=final)))
        await pilot.press("m")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, ImportRouteDialog))
        dialog = pilot.app.screen
        assert isinstance(dialog, ImportRouteDialog)

        dialog.json_area.text = '[{"id": "02ab", "channel": '
        await pilot.press("ctrl+s")
        assert "That is not JSON" in shown(dialog.error)
        one_hop = json.loads(route_to_json(adc))[:1]
        del one_hop[0]["delay"]
        dialog.json_area.text = json.dumps(one_hop)
        await pilot.press("ctrl+s")
        assert shown(dialog.error) == "hop 1: delay is missing."
        assert pilot.app.screen is dialog

        dialog.json_area.text = route_to_json(adc)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert aliases(screen.route) == ["D", "C"] and screen.route == adc and screen.check.ok
        assert "Route imported" in shown(screen.status)


@in_event_loop
async def test_pay_posts_the_edited_route(net: Regtest) -> None:
    invoice, _ = issued(net)
    route = abc(net, final_cltv=invoice.invoice.min_final_cltv_expiry)
    seen: list[Message] = []
    async with app_for(net.sim).run_test(size=(120, 32), message_hook=seen.append) as pilot:
        screen = await open_route(pilot, RouteScreen(invoice, route))
        await pilot.press("down", "i")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, InsertHopDialog))
        await pilot.press("E", "enter")
        await settle(pilot)
        assert aliases(screen.route) == ["B", "E", "C"]
        await pilot.press("p")
        await pilot.pause()
        [request] = [m for m in seen if isinstance(m, PayRequested)]
        assert request.invoice is invoice
        assert [part.route for part in request.plan.parts] == [screen.route]
        assert request.plan.target.payment_hash == invoice.invoice.payment_hash
        assert request.plan.fee_msat == 202


@in_event_loop
async def test_a_part_route_comes_back_with_use_this_route(net: Regtest) -> None:
    invoice, _ = issued(net)
    part_route = abc(net, amount_msat=4_000_000, final_cltv=invoice.invoice.min_final_cltv_expiry)
    returned: list[Route | None] = []
    async with app_for(net.sim).run_test(size=(80, 24)) as pilot:
        screen = RouteScreen(invoice, part_route, part=2)
        await pilot.app.push_screen(screen, returned.append)
        await wait_until(pilot, lambda: screen.route is not None)
        await settle(pilot)
        assert screen.amount_msat == 4_000_000 and screen.check.ok
        assert "Route for part 2" in shown(screen.title_line)
        bindings = {b.binding.action for b in pilot.app.active_bindings.values()}
        assert "use_route" in bindings and "pay" not in bindings and "split" not in bindings
        # At 80 columns the node id column gives way; the table keeps every hop.
        table = screen.route_table.hops_table
        assert [str(c.label) for c in table.columns.values()][:3] == ["#", "Node", "Channel"]
        assert table.row_count == 2
        await pilot.press("x")  # exclude B: D-C for the same 4,000 sat
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, ExcludeDialog))
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("enter")
        await pilot.pause()
    assert len(returned) == 1 and aliases(returned[0]) == ["D", "C"] and returned[0].amount_msat == 4_000_000


@in_event_loop
async def test_a_whole_invoice_screen_offers_pay_and_split_not_use(net: Regtest) -> None:
    invoice, _ = issued(net)
    async with app_for(net.sim).run_test(size=(80, 24)) as pilot:
        screen = await open_route(pilot, RouteScreen(invoice))
        bindings = {b.binding.action for b in pilot.app.active_bindings.values()}
        assert {"pay", "split", "find", "options", "swap", "insert", "drop", "exclude", "export"} <= bindings
        assert "use_route" not in bindings
        footer = {key.action: key.description for key in screen.query(FooterKey)}
        assert footer["pay"] == "Pay" and footer["swap"] == "Swap channel" and "use_route" not in footer
        assert all(b.description and b.id and b.tooltip for b in RouteScreen.BINDINGS if isinstance(b, Binding))
        assert screen.route_table.hops_table.row_count == 2
        await pilot.press("s")  # the split planner opens with this route
        await wait_until(pilot, lambda: type(pilot.app.screen).__name__ == "SplitScreen")
        assert pilot.app.screen.invoice is invoice


@in_event_loop
async def test_limits_mark_the_totals_over_limit(net: Regtest) -> None:
    invoice, _ = issued(net)
    async with app_for(net.sim).run_test(size=(80, 24)) as pilot:
        screen = await open_route(
            pilot, RouteScreen(invoice, abc(net, final_cltv=invoice.invoice.min_final_cltv_expiry))
        )
        await pilot.press("l")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, RouteOptionsDialog))
        dialog = pilot.app.screen
        assert isinstance(dialog, RouteOptionsDialog) and not dialog.query("#option-exclude-nodes")
        dialog.query_one("#option-maxfee", Input).value = "lots"
        await pilot.press("ctrl+s")
        assert "'lots' is not an amount" in shown(dialog.error) and pilot.app.screen is dialog
        dialog.query_one("#option-maxfee", Input).value = "100msat"
        dialog.query_one("#option-maxdelay", Input).value = "12"
        await pilot.press("ctrl+s")
        await settle(pilot)
        totals = shown(screen.route_table.totals)
        assert "fee 101 msat (10 ppm) / max 100 msat over limit" in totals
        assert f"delay {screen.route.total_delay} blocks / max 12 over limit" in totals
        assert {p.kind for p in screen.check.route_problems} == {"maxfee", "maxdelay"}
        assert "the fee 0.101sat is above the limit 0.100sat" in shown(screen.route_table.problems)


@in_event_loop
async def test_getroute_only_node_offers_riskfactor_and_maxhops(start_sim: Callable[..., RunningSim]) -> None:
    net = Regtest(start_sim("regtest", generation="legacy"))
    invoice, _ = issued(net)
    async with app_for(net.sim).run_test(size=(100, 30)) as pilot:
        screen = await open_route(pilot, RouteScreen(invoice))
        assert screen.uses_getroutes is False and aliases(screen.route)[-1] == "C"
        await pilot.press("o")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, RouteOptionsDialog))
        dialog = pilot.app.screen
        assert isinstance(dialog, RouteOptionsDialog)
        dialog.query_one("#option-maxhops", Input).value = "1"
        dialog.query_one("#option-exclude-channels", Input).value = "103x5x0"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert screen.options.maxhops == 1 and screen.options.exclude_channels == ("103x5x0",)
        assert shown(screen.status).startswith("No route: ") and "unchanged" in shown(screen.status)
        assert len(screen.route.hops) == 2  # the route found before stays


@in_event_loop
async def test_a_private_payee_is_reached_through_its_route_hint(net: Regtest) -> None:
    payee = add_private_payee(net.sim)  # F, whose only channel is a private one from C (110x1x0)
    created = issue(net.sim, payee, 20_000)
    invoice = load_invoice(PylnNode(net.sim.socket_path), created["bolt11"], now=int(NOW))
    assert invoice.invoice.route_hints
    async with app_for(net.sim).run_test(size=(100, 30)) as pilot:
        screen = await open_route(pilot, RouteScreen(invoice))
        assert screen.route is not None and screen.check.ok, screen.check.messages
        assert screen.route.hops[-1].short_channel_id == "110x1x0" and screen.route.destination == payee
        await pilot.press("x")  # avoid the first hop's node: the hint's tail stays
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, ExcludeDialog))
        await pilot.press("enter")
        await settle(pilot)
        assert screen.route.hops[-1].short_channel_id == "110x1x0" and screen.check.ok, screen.check.messages


@in_event_loop
async def test_a_node_that_stops_answering_leaves_the_route_as_it_was(net: Regtest) -> None:
    invoice, _ = issued(net)
    async with app_for(net.sim).run_test(size=(100, 30)) as pilot:
        screen = await open_route(pilot, RouteScreen(invoice))
        found = screen.route
        net.sim.socket_path.unlink()  # as when lightningd goes away
        await pilot.press("f")
        await settle(pilot)
        assert screen.route == found
        assert "did not answer" in shown(screen.status) and "unchanged" in shown(screen.status)
