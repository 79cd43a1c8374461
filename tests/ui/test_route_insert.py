"""The insert-hop dialog's channels, looked up when a node is named (issue 5).

The dialog opens with its candidates and their ways out to the hop's end; a named node's channels from the
hop's start are asked of the route screen with a message (the dialog never calls the node), looked up in a
worker and answered to the dialog, which says it is looking meanwhile. First the dialog alone, answered by hand;
then the route screen on regtest (A us, C the payee; A-B-C, A-D-C, A-B-E-C; policies 1 msat + 10 ppm, delta 6).
"""

from __future__ import annotations

from typing import Any

import pytest
from textual import on
from textual.app import App, ComposeResult
from textual.widgets import Label, OptionList, Select, Static

from lnconsole.graph import ChannelPolicy
from lnconsole.node import NodeError, PylnNode
from lnconsole.routing import Route, recompute
from lnconsole.screens.route import RouteScreen
from lnconsole.screens.route_dialogs import InsertCandidate, InsertHopDialog, InsertRequest
from tests.conftest import RunningSim
from tests.engine.helpers import Regtest
from tests.ui.helpers import app_for, gossip_policy, in_event_loop, issue, load_payable, shown, wait_until, workers_done

NODE_B = "02" + "b" * 64
NODE_C = "02" + "c" * 64
NODE_E = "02" + "e" * 64
NODE_X = "03" + "1" * 64


E_IN = (gossip_policy("1x1x0", NODE_B, NODE_E, 1), gossip_policy("1x2x0", NODE_B, NODE_E, 5))
E_OUT = (gossip_policy("2x1x0", NODE_E, NODE_C, 1),)


class AskingApp(App[None]):
    """Opens the dialog with itself as the one it asks; answers only when the test says so."""

    def __init__(self, candidates: list[InsertCandidate]) -> None:
        super().__init__()
        self.dialog = InsertHopDialog("B", "C", candidates, ask=self)
        self.wanted: list[str] = []
        self.answers: list[object] = []

    def compose(self) -> ComposeResult:
        yield Static("route")

    def on_mount(self) -> None:
        self.push_screen(self.dialog, self.answers.append)

    @on(InsertHopDialog.ChannelsWanted)
    def _wanted(self, message: InsertHopDialog.ChannelsWanted) -> None:
        assert message.dialog is self.dialog
        self.wanted.append(message.node_id)

    def answer(self, node_id: str, channels_in: tuple[ChannelPolicy, ...], channels_out: tuple[ChannelPolicy, ...]):
        self.dialog.post_message(InsertHopDialog.ChannelsKnown(node_id, channels_in, channels_out))


def unlooked_e() -> InsertCandidate:
    return InsertCandidate(NODE_E, "E", None, E_OUT, ways_in=2, fee_out_msat=101)


def label(dialog: InsertHopDialog, side: str) -> str:
    return shown(dialog.query_one(f"#insert-channel-{side}-label", Label))


def values(select: Select[str] | None) -> list[str]:
    assert select is not None
    return [value for _, value in select._options if isinstance(value, str)]


@in_event_loop
async def test_a_named_candidates_channels_in_are_asked_once_and_shown_when_they_come() -> None:
    app = AskingApp([unlooked_e()])
    dialog = app.dialog
    async with app.run_test(size=(100, 32)) as pilot:
        await wait_until(pilot, lambda: app.screen is dialog)
        options = dialog.query_one("#insert-candidates", OptionList)
        assert str(options.get_option_at_index(0).prompt) == f"E  {NODE_E[:16]}…  (2 in, 1 out, out 101 msat)"
        assert app.wanted == [] and not dialog.query(Select)

        await pilot.press("E")
        await wait_until(pilot, lambda: len(dialog.query(Select)) == 2)
        assert dialog.channels_pending and app.wanted == [NODE_E]
        assert label(dialog, "in") == "Channel from B: looking up channels…" and label(dialog, "out") == "Channel to C:"
        assert values(dialog.channel_in) == [] and values(dialog.channel_out) == ["2x1x0"]

        await pilot.press("backspace", "E")  # named again while asked: not asked twice
        await pilot.pause()
        assert app.wanted == [NODE_E]

        app.answer(NODE_E, E_IN, E_OUT)
        await wait_until(pilot, lambda: not dialog.channels_pending)
        assert values(dialog.channel_in) == ["1x1x0", "1x2x0"] and values(dialog.channel_out) == ["2x1x0"]
        assert label(dialog, "in") == "Channel from B:"

        assert dialog.channel_in is not None
        dialog.channel_in.value = "1x2x0"
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: bool(app.answers))
    assert app.answers == [InsertRequest(NODE_E, "1x2x0", None)]


@in_event_loop
async def test_inserting_while_the_channels_are_looked_up_takes_the_cheapest() -> None:
    app = AskingApp([unlooked_e()])
    dialog = app.dialog
    async with app.run_test(size=(100, 32)) as pilot:
        await wait_until(pilot, lambda: app.screen is dialog)
        await pilot.press("tab", "enter")  # picks E from the list
        await wait_until(pilot, lambda: app.wanted == [NODE_E] and dialog.channel_in is not None)
        assert dialog.node_input.value == "E" and dialog.channels_pending
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: bool(app.answers))
    assert app.answers == [InsertRequest(NODE_E, None, None)]


@in_event_loop
async def test_a_typed_node_id_has_both_sides_looked_up_and_a_lookup_that_failed_is_said() -> None:
    app = AskingApp([unlooked_e()])
    dialog = app.dialog
    async with app.run_test(size=(100, 32)) as pilot:
        await wait_until(pilot, lambda: app.screen is dialog)
        dialog.node_input.value = NODE_X.upper()
        await wait_until(pilot, lambda: app.wanted == [NODE_X])
        await pilot.pause()
        assert (
            label(dialog, "in")
            == label(dialog, "out").replace("to C", "from B")
            == ("Channel from B: looking up channels…")
        )
        app.answer(NODE_X, (), (gossip_policy("3x1x0", NODE_X, NODE_C, 0),))
        await wait_until(pilot, lambda: not dialog.channels_pending)
        assert label(dialog, "in") == "Channel from B: none known" and label(dialog, "out") == "Channel to C:"
        assert values(dialog.channel_in) == [] and values(dialog.channel_out) == ["3x1x0"]

        dialog.node_input.value = "E"  # E's lookup fails: said in place, Insert still takes the cheapest
        await wait_until(pilot, lambda: app.wanted == [NODE_X, NODE_E])
        dialog.post_message(InsertHopDialog.ChannelsKnown(NODE_E, (), (), "listchannels: gone (code -1)"))
        await wait_until(pilot, lambda: not dialog.channels_pending)
        assert label(dialog, "in") == (
            "Channel from B: not looked up (listchannels: gone (code -1)); Insert takes the cheapest"
        )
        assert values(dialog.channel_out) == ["2x1x0"]
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: bool(app.answers))
    assert app.answers == [InsertRequest(NODE_E, None, None)]


# ---------------------------------------------------------------------------------------------------------------
# On the route screen


class CountingNode(PylnNode):
    def __init__(self, socket_path: Any) -> None:
        super().__init__(socket_path)
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def call(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        self.calls.append((method, {k: v for k, v in (params or {}).items() if v is not None}))
        return super().call(method, params)


@pytest.fixture
def net(regtest: RunningSim) -> Regtest:
    return Regtest(regtest)


async def open_insert(pilot: Any, net: Regtest) -> tuple[RouteScreen, InsertHopDialog, Route]:
    """The route A-B-C opened, and the insert dialog on its second hop (B -> C)."""
    invoice = load_payable(net.sim, issue(net.sim, "C", 10_000_000)["bolt11"])
    route = recompute(
        net.path("A", ("103x1x0", "B"), ("103x2x0", "C")),
        10_000_000,
        invoice.invoice.min_final_cltv_expiry,
        net.policies,
    )
    screen = RouteScreen(invoice, route)
    await pilot.app.push_screen(screen)
    await wait_until(pilot, lambda: screen.route is not None)
    await workers_done(pilot, "route")
    await pilot.press("down", "i")
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, InsertHopDialog))
    dialog = pilot.app.screen
    assert isinstance(dialog, InsertHopDialog)
    return screen, dialog, route


@in_event_loop
async def test_the_route_screen_looks_up_a_named_nodes_channels_and_inserts_over_the_one_chosen(net: Regtest) -> None:
    node = CountingNode(net.sim.socket_path)
    async with app_for(net.sim, node=node).run_test(size=(120, 32)) as pilot:
        screen, dialog, route = await open_insert(pilot, net)
        [candidate] = dialog.candidates
        assert (candidate.alias, candidate.channels_in, candidate.ways_in) == ("E", None, 1)
        assert candidate.channels_out == (net.half("103x6x0", "E", "C"),) and candidate.fee_out_msat == 101
        opened = len(node.calls)

        await pilot.press("E")
        await wait_until(pilot, lambda: dialog.channel_in is not None and not dialog.channels_pending)
        assert values(dialog.channel_in) == ["103x5x0"] and values(dialog.channel_out) == ["103x6x0"]
        # One lookup: E's channel from B (B's neighbours and C's arriving channels were asked to open the dialog).
        assert node.calls[opened:] == [("listchannels", {"short_channel_id": "103x5x0"})]

        assert dialog.channel_in is not None
        dialog.channel_in.value = "103x5x0"
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: screen.route is not None and len(screen.route.hops) == 3)
        assert screen.route == net.editor(amount_msat=10_000_000).insert_hop(route, 1, net.E, "103x5x0").route
        assert "E inserted between B and C" in shown(screen.status)


@in_event_loop
async def test_a_typed_node_without_a_channel_from_the_start_is_said_and_refused(net: Regtest) -> None:
    async with app_for(net.sim).run_test(size=(120, 32)) as pilot:
        screen, dialog, route = await open_insert(pilot, net)
        dialog.node_input.value = net.D  # D reaches C (103x4x0) but has no channel from B
        await wait_until(pilot, lambda: dialog.channel_in is not None and not dialog.channels_pending)
        assert label(dialog, "in") == "Channel from B: none known" and values(dialog.channel_out) == ["103x4x0"]
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: "Insert hop" in shown(screen.status))
        assert screen.route == route and "B has no channel to D" in shown(screen.status)


@in_event_loop
async def test_a_failed_channel_lookup_is_said_in_the_dialog(net: Regtest) -> None:
    async with app_for(net.sim).run_test(size=(120, 32)) as pilot:
        screen, dialog, _ = await open_insert(pilot, net)
        tools = screen._tools_cache
        assert tools is not None

        def refuse(source: str, destination: str) -> list[ChannelPolicy]:
            raise NodeError("listchannels", -32602, "no such channel")

        tools.policies.channels_between = refuse  # type: ignore[method-assign]
        await pilot.press("E")
        await wait_until(pilot, lambda: dialog.channel_in is not None and not dialog.channels_pending)
        assert label(dialog, "in") == (
            "Channel from B: not looked up (listchannels: no such channel (code -32602)); Insert takes the cheapest"
        )
        assert pilot.app.screen is dialog
