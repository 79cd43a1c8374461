"""Route edits: swap a channel, insert a node, drop a node, exclude and reroute; each recomputed and checked."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from lnconsole.graph import ChannelPolicies
from lnconsole.node import PylnNode
from lnconsole.routing import RouteEditError, RouteEditor, RouteFinder, RouteLimits, recompute, route_from_getroute
from tests.conftest import RunningSim
from tests.engine.helpers import REGTEST_MIN_FINAL, Regtest, add_parallel_channel, add_private_payee


def aliases(route: object) -> list[str]:
    return [hop.alias for hop in route.hops]  # type: ignore[attr-defined]


# ---------------------------------------------------------------------------------------------------------------
# Swap


def test_swap_to_a_parallel_channel_and_pay_over_it(regtest: RunningSim) -> None:
    add_parallel_channel(regtest)
    net = Regtest(regtest)
    editor = net.editor(amount_msat=500_000)
    route = recompute(net.path("A", ("103x1x0", "B"), ("103x2x0", "C")), 500_000, 10, net.policies)

    choices = editor.alternatives(route, 1)
    assert [(c.short_channel_id, c.fee_msat, c.cltv_delta, c.current) for c in choices] == [
        ("111x1x0", 0, 9, False),  # 0 + floor(500000 * 1 / 1e6)
        ("103x2x0", 6, 6, True),  # 1 + floor(500000 * 10 / 1e6)
    ]
    assert all(c.usable for c in choices)

    edit = editor.swap_channel(route, 1, "111x1x0")
    assert edit.check.ok, edit.check.messages
    assert [h.short_channel_id for h in edit.route.hops] == ["103x1x0", "111x1x0"]
    assert (edit.route.hops[0].fee_msat, edit.route.hops[0].cltv_delta) == (0, 9)
    assert edit.route.amount_sent_msat == 500_000 and edit.route.total_delay == 19
    assert edit.description == "hop 2 now goes over 111x1x0"
    # getroute agrees once the old channel is out of the way, and the node takes the route.
    assert edit.route.to_sendpay() == net.node.getroute(
        net.C, 500_000, cltv=10, exclude=[net.D, "103x2x0/0", "103x2x0/1"]
    )
    assert net.pay(edit.route, net.invoice(net.C, 500_000))["status"] == "complete"

    # Back again: the same route as before.
    assert editor.swap_channel(edit.route, 1, "103x2x0").route == route


def test_swap_refuses_a_channel_that_does_not_join_the_two_nodes(regtest: RunningSim) -> None:
    net = Regtest(regtest)
    editor = net.editor()
    route = recompute(net.path("A", ("103x1x0", "B"), ("103x2x0", "C")), 100_000, 10, net.policies)
    with pytest.raises(RouteEditError) as caught:
        editor.swap_channel(route, 1, "103x4x0")
    assert caught.value.message == "103x4x0 joins C and D, not B and C."
    with pytest.raises(RouteEditError, match=r"999x1x1 is not a channel the node knows\."):
        editor.swap_channel(route, 1, "999x1x1")
    with pytest.raises(RouteEditError, match=r"There is no hop 3: the route has 2 hops\."):
        editor.swap_channel(route, 2, "103x2x0")


def test_swap_to_a_disabled_channel_is_flagged_in_place(regtest: RunningSim) -> None:
    add_parallel_channel(regtest)
    net = Regtest(regtest)
    net.channel("111x1x0", "B", "C", active=False)
    editor = net.editor()
    route = recompute(net.path("A", ("103x1x0", "B"), ("103x2x0", "C")), 100_000, 10, net.policies)
    [usable, disabled] = editor.alternatives(route, 1)
    assert usable.short_channel_id == "103x2x0" and disabled.short_channel_id == "111x1x0"
    assert not disabled.usable and "disabled" in disabled.problems[0]
    edit = editor.swap_channel(route, 1, "111x1x0")
    assert [p.kind for p in edit.check.problems_at(1)] == ["disabled"]
    assert not edit.check.ok


# ---------------------------------------------------------------------------------------------------------------
# Insert and remove


def test_insert_a_node_then_drop_it(regtest: RunningSim) -> None:
    """A-B-C -> A-B-E-C -> A-B-C, each step priced as getroute prices the same path."""
    net = Regtest(regtest)
    editor = net.editor(amount_msat=100_000)
    [route] = net.finder.find(net.C, 100_000, final_cltv=REGTEST_MIN_FINAL, exclude_nodes=[net.D])
    assert aliases(route) == ["B", "C"]

    longer = editor.insert_hop(route, 1, net.E)
    assert aliases(longer.route) == ["B", "E", "C"]
    assert [h.short_channel_id for h in longer.route.hops] == ["103x1x0", "103x5x0", "103x6x0"]
    assert longer.route.to_sendpay() == net.node.getroute(
        net.C, 100_000, cltv=REGTEST_MIN_FINAL, exclude=[net.D, "103x2x0/0", "103x2x0/1"]
    )
    assert longer.check.ok, longer.check.messages
    assert longer.description == "E inserted between B and C"
    assert net.pay(longer.route, net.invoice(net.C, 100_000))["status"] == "complete"

    shorter = editor.remove_hop(longer.route, 1)
    assert shorter.route == route and shorter.check.ok
    assert shorter.description == "E removed"


def test_insert_and_remove_refusals(regtest: RunningSim) -> None:
    net = Regtest(regtest)
    editor = net.editor()
    abc = recompute(net.path("A", ("103x1x0", "B"), ("103x2x0", "C")), 100_000, 10, net.policies)
    adc = recompute(net.path("A", ("103x3x0", "D"), ("103x4x0", "C")), 100_000, 10, net.policies)
    with pytest.raises(RouteEditError, match=r"^B is already on the route\.$"):
        editor.insert_hop(abc, 1, net.B)
    with pytest.raises(RouteEditError, match=r"^D has no channel to B\.$"):  # B between D and C
        editor.insert_hop(adc, 1, net.B)
    with pytest.raises(RouteEditError, match=r"^A has no channel to E\.$"):
        editor.insert_hop(abc, 0, net.E)
    with pytest.raises(RouteEditError, match=r"^Hop 2 reaches the destination, which stays on the route\.$"):
        editor.remove_hop(abc, 1)
    with pytest.raises(RouteEditError) as caught:
        editor.remove_hop(adc, 0)
    assert caught.value.message == "D can't be dropped: A has no channel to C."
    # Channels named: the wrong one is refused, the right one taken.
    add_parallel_channel(regtest)
    net.policies.invalidate()
    with pytest.raises(RouteEditError, match=r"103x4x0 joins C and D, not B and C\."):
        editor.insert_hop(
            recompute(net.path("A", ("103x1x0", "B"), ("103x5x0", "E")), 100_000, 10, net.policies),
            1,
            net.C,
            channel_in="103x4x0",
        )
    abec = recompute(net.path("A", ("103x1x0", "B"), ("103x5x0", "E"), ("103x6x0", "C")), 100_000, 10, net.policies)
    dropped = editor.remove_hop(abec, 1, short_channel_id="103x2x0")
    assert [h.short_channel_id for h in dropped.route.hops] == ["103x1x0", "103x2x0"]
    # Left to itself it takes the cheapest enabled channel B-C: the parallel one.
    assert [h.short_channel_id for h in editor.remove_hop(abec, 1).route.hops] == ["103x1x0", "111x1x0"]
    net.channel("111x1x0", "B", "C", active=False)
    net.channel("103x2x0", "B", "C", active=False)
    with pytest.raises(RouteEditError) as caught:
        editor.remove_hop(abec, 1)
    assert caught.value.message == "E can't be dropped: every channel from B to C is disabled (111x1x0, 103x2x0)."
    adc = recompute(net.path("A", ("103x3x0", "D"), ("103x4x0", "C")), 1000, 10, net.policies)
    with pytest.raises(RouteEditError) as caught:
        editor.insert_hop(adc, 1, net.B)
    assert caught.value.message == "Every channel from B to C is disabled (111x1x0, 103x2x0)."


# ---------------------------------------------------------------------------------------------------------------
# Exclude and reroute


@pytest.mark.parametrize("generation", ["current", "legacy"])
def test_exclude_and_reroute(start_sim: Callable[..., RunningSim], generation: str) -> None:
    sim = start_sim("regtest", generation=generation, hop_delay_ms=0)
    net = Regtest(sim)
    editor = net.editor(amount_msat=100_000)
    abc = recompute(net.path("A", ("103x1x0", "B"), ("103x2x0", "C")), 100_000, 10, net.policies)

    around_b = editor.exclude_and_reroute(abc, 0, exclude_nodes=[net.B])
    assert aliases(around_b.route) == ["D", "C"] and around_b.check.ok
    assert around_b.description == "rerouted from A avoiding B"

    # From B onward, without B-C: the hops before B are kept, the rest found from B (fromid / source = B).
    around_bc = editor.exclude_and_reroute(abc, 1, exclude_channels=["103x2x0"])
    assert aliases(around_bc.route) == ["B", "E", "C"] and around_bc.check.ok
    assert around_bc.route.to_sendpay() == net.node.getroute(
        net.C, 100_000, cltv=10, exclude=[net.D, "103x2x0/0", "103x2x0/1"]
    )

    with pytest.raises(RouteEditError, match=r"^B comes before hop 2: reroute from an earlier hop to avoid it\.$"):
        editor.exclude_and_reroute(abc, 1, exclude_nodes=[net.B])
    with pytest.raises(RouteEditError, match=r"^103x1x0 comes before hop 2"):
        editor.exclude_and_reroute(abc, 1, exclude_channels=["103x1x0/0"])
    with pytest.raises(RouteEditError, match=r"^The destination can't be excluded\.$"):
        editor.exclude_and_reroute(abc, 0, exclude_nodes=[net.C])
    with pytest.raises(RouteEditError, match=r"^No route from A to C with those exclusions: "):
        editor.exclude_and_reroute(abc, 0, exclude_nodes=[net.B, net.D])


def test_reroute_keeps_the_private_tail_from_the_hint(regtest: RunningSim) -> None:
    from lnconsole.routing import hints_from_decode

    net = Regtest(regtest)
    payee = add_private_payee(regtest)
    hints = hints_from_decode(net.node.decode(net.invoice(payee, 20_000)["bolt11"]))
    [route] = net.finder.find(payee, 20_000, final_cltv=10, route_hints=hints, exclude_nodes=[net.D])
    assert aliases(route)[:2] == ["B", "C"]
    editor = net.editor(payee=payee, amount_msat=20_000, route_hints=hints)
    edit = editor.exclude_and_reroute(route, 0, exclude_nodes=[net.B])
    assert aliases(edit.route)[:2] == ["D", "C"] and edit.route.hops[-1].short_channel_id == "110x1x0"
    assert edit.check.ok, edit.check.messages


# ---------------------------------------------------------------------------------------------------------------
# The demo network


def demo_tools(sim: RunningSim) -> tuple[PylnNode, str, ChannelPolicies, RouteFinder]:
    node = PylnNode(sim.socket_path)
    us = sim.alias("console")
    policies = ChannelPolicies(node, us)
    return node, us, policies, RouteFinder(node, us, policies=policies)


def test_demo_coffee_shop_around_the_flaky_node(start_sim: Callable[..., RunningSim]) -> None:
    sim = start_sim("demo", hop_delay_ms=0)
    node, us, policies, finder = demo_tools(sim)
    shop, gateway = sim.alias("coffee-shop"), sim.alias("gateway")
    amount = 5_000_000
    editor = RouteEditor(policies, our_id=us, finder=finder, payee=shop, amount_msat=amount, final_cltv=18)
    [route] = finder.find(shop, amount, final_cltv=18)
    assert aliases(route) == ["lighthouse", "coffee-shop"]

    via_gateway = editor.insert_hop(route, 1, gateway)
    assert aliases(via_gateway.route) == ["lighthouse", "gateway", "coffee-shop"]
    assert via_gateway.check.ok, via_gateway.check.messages
    # gateway asks 1000 msat + 500 ppm (delta 80), lighthouse 100 ppm (delta 40) on top.
    gateway_fee = 1000 + amount * 500 // 1_000_000
    lighthouse_fee = (amount + gateway_fee) * 100 // 1_000_000
    assert [h.fee_msat for h in via_gateway.route.hops] == [lighthouse_fee, gateway_fee, 0]
    assert via_gateway.route.total_delay == 18 + 80 + 40

    direct = editor.remove_hop(via_gateway.route, 0)
    assert aliases(direct.route) == ["gateway", "coffee-shop"] and direct.check.ok
    assert direct.route.fee_msat == gateway_fee
    assert direct.route == editor.exclude_and_reroute(route, 0, exclude_nodes=[sim.alias("lighthouse")]).route
    assert direct.route == route_from_getroute(
        node.getroute(shop, amount, cltv=18, exclude=[sim.alias("lighthouse")]), us, policies.alias
    )


def test_demo_bookstore_long_way_against_the_delay_limit(start_sim: Callable[..., RunningSim]) -> None:
    sim = start_sim("demo", hop_delay_ms=0)
    _, us, policies, finder = demo_tools(sim)
    bookstore, express = sim.alias("bookstore"), sim.alias("express")
    amount = 25_000_000
    limits = RouteLimits(maxdelay=100)

    def editor(limits: RouteLimits | None = None) -> RouteEditor:
        return RouteEditor(
            policies, our_id=us, finder=finder, limits=limits, payee=bookstore, amount_msat=amount, final_cltv=18
        )

    [short] = finder.find(bookstore, amount, final_cltv=18, maxdelay=100)
    assert aliases(short) == ["express", "bookstore"]
    assert editor(limits).check(short).ok
    # Within the user's delay limit there is no other way: the finder says so.
    with pytest.raises(RouteEditError, match=r"^No route from console to bookstore with those exclusions: .*delay"):
        editor(limits).exclude_and_reroute(short, 0, exclude_nodes=[express])
    long = editor().exclude_and_reroute(short, 0, exclude_nodes=[express])
    assert aliases(long.route) == ["river", "meadow", "waypoint", "harbor", "bookstore"]
    assert long.check.ok and long.description == "rerouted from console avoiding express"
    assert long.route.fee_msat < 1000 < short.fee_msat
    assert long.route.total_delay == 18 + 18 + 40 + 34 + 40
    flagged = editor(limits).check(long.route)
    assert [p.kind for p in flagged.route_problems] == ["maxdelay"] and not flagged.hop_problems
    assert flagged.messages == ["the delay of 150 blocks is above the limit of 100"]
