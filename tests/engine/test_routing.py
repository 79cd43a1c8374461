"""Routes: both finders' answers in sendpay's terms, recompute against getroute, validation, hints, import/export.

Everything talks to the simulated node over its socket through ``PylnNode``, as the console does with lightningd.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest

from lnconsole.graph import ChannelPolicies
from lnconsole.node import FoundRoute, PathHop, PylnNode
from lnconsole.routing import (
    HintChannel,
    Hop,
    Route,
    RouteError,
    RouteFinder,
    RouteImportError,
    RouteLimits,
    RouteNotFound,
    check_route,
    hints_from_decode,
    recompute,
    route_from_getroute,
    route_from_getroutes,
    route_from_json,
    route_to_json,
)
from tests.conftest import RunningSim
from tests.engine.helpers import REGTEST_MIN_FINAL, RecordingNode, Regtest, add_private_payee

# ---------------------------------------------------------------------------------------------------------------
# Conversions: getroutes and getroute say the same thing


def test_getroutes_path_fields_are_sendpay_amount_out_and_cltv_out(start_sim: Callable[..., RunningSim]) -> None:
    """askrene writes amount_in = amount_out + the hop's own channel fee: sendpay wants amount_out/cltv_out."""
    net = Regtest(start_sim("regtest", hop_delay_ms=0))
    exclude = [f"{net.D}"]
    raw_getroute = net.sim.rpc.call(
        "getroute", {"id": net.C, "amount_msat": 1_234_567, "riskfactor": 10, "cltv": 10, "exclude": exclude}
    )["route"]
    net.node.create_layer("probe")
    net.node.layer_disable_node("probe", net.D)
    raw_getroutes = net.sim.rpc.call(
        "getroutes",
        {
            "source": net.A,
            "destination": net.C,
            "amount_msat": 1_234_567,
            "layers": ["auto.localchans", "auto.sourcefree", "probe"],
            "maxfee_msat": 100_000,
            "final_cltv": 10,
            "maxparts": 1,
        },
    )["routes"][0]["path"]
    assert [hop["amount_out_msat"] for hop in raw_getroutes] == [hop["amount_msat"] for hop in raw_getroute]
    assert [hop["cltv_out"] for hop in raw_getroutes] == [hop["delay"] for hop in raw_getroute]
    assert [hop["node_id_out"] for hop in raw_getroutes] == [hop["id"] for hop in raw_getroute]
    # amount_in of hop j is what node_id_in receives: the amount_out of hop j-1.
    assert raw_getroutes[1]["amount_in_msat"] == raw_getroutes[0]["amount_out_msat"]


@pytest.mark.parametrize("amount_msat", [100_000, 123_456_789])
def test_both_finders_give_the_same_sendpay_list(start_sim: Callable[..., RunningSim], amount_msat: int) -> None:
    net = Regtest(start_sim("regtest", hop_delay_ms=0))
    [by_getroutes] = net.finder.find(net.C, amount_msat, final_cltv=REGTEST_MIN_FINAL, exclude_nodes=[net.D])
    by_getroute = route_from_getroute(
        net.node.getroute(net.C, amount_msat, cltv=REGTEST_MIN_FINAL, exclude=[net.D]), net.us, net.policies.alias
    )
    assert net.finder.uses_getroutes
    assert by_getroutes.to_sendpay() == by_getroute.to_sendpay()
    assert by_getroutes == by_getroute
    assert [hop.alias for hop in by_getroutes.hops] == ["B", "C"]
    # B charges the fee of the channel it forwards over (B-C: 1 msat + 10 ppm, delta 6); C charges nothing.
    fee = 1 + amount_msat * 10 // 1_000_000
    assert [(hop.fee_msat, hop.cltv_delta) for hop in by_getroutes.hops] == [(fee, 6), (0, 0)]
    assert by_getroutes.amount_msat == amount_msat
    assert by_getroutes.fee_msat == fee
    assert by_getroutes.total_delay == REGTEST_MIN_FINAL + 6


def test_pre_v26_getroutes_shape_converts_the_same() -> None:
    """Older askrene answers carried amount_msat/delay into each hop and next_node_id: shifted by one hop."""
    a, b, c = "02" + "aa" * 32, "03" + "bb" * 32, "02" + "cc" * 32
    new = FoundRoute(
        probability_ppm=900_000,
        amount_msat=100_000,
        final_cltv=10,
        path=(
            PathHop("103x1x0/0", a, b, 100_002, 100_002, 16, 16),
            PathHop("103x2x0/1", b, c, 100_002, 100_000, 16, 10),
        ),
    )
    old = FoundRoute(
        probability_ppm=900_000,
        amount_msat=100_000,
        final_cltv=10,
        path=(PathHop("103x1x0/0", "", b, 100_002, 0, 16, 0), PathHop("103x2x0/1", "", c, 100_002, 0, 16, 0)),
    )
    assert route_from_getroutes(old, a) == route_from_getroutes(new, a)
    assert [(h.amount_msat, h.delay) for h in route_from_getroutes(new, a, {b: "B"}).hops] == [
        (100_002, 16),
        (100_000, 10),
    ]
    assert route_from_getroutes(new, a, {b: "B"}).hops[0].alias == "B"


# ---------------------------------------------------------------------------------------------------------------
# Recompute: exactly getroute's amounts and delays


RECOMPUTE_AMOUNTS = [1, 999, 99_999, 100_000, 100_001, 333_333, 3_000_003, 123_456_789, 150_000_000]


def test_recompute_equals_getroute_on_the_same_path(start_sim: Callable[..., RunningSim]) -> None:
    """A-B-E-C with odd policies, so that floor(amount * ppm / 1e6) rounds differently at every hop."""
    net = Regtest(start_sim("regtest", hop_delay_ms=0))
    net.channel("103x5x0", "B", "E", base_fee_millisatoshi=7, fee_per_millionth=333, delay=17)
    net.channel("103x6x0", "E", "C", base_fee_millisatoshi=0, fee_per_millionth=1999, delay=40)
    b_to_e, e_to_c = net.half("103x5x0", "B", "E"), net.half("103x6x0", "E", "C")
    path = net.path("A", ("103x1x0", "B"), ("103x5x0", "E"), ("103x6x0", "C"))
    for amount in RECOMPUTE_AMOUNTS:
        given = net.node.getroute(net.C, amount, cltv=REGTEST_MIN_FINAL, exclude=[net.D, "103x2x0/0", "103x2x0/1"])
        assert [(h.channel, h.direction) for h in given] == [(s, d) for s, d, _ in path], amount
        mine = recompute(path, amount, REGTEST_MIN_FINAL, net.policies)
        assert mine.to_sendpay() == given, amount
        e_fee = e_to_c.fee_for(amount)
        b_fee = b_to_e.fee_for(amount + e_fee)
        assert [(h.fee_msat, h.cltv_delta) for h in mine.hops] == [(b_fee, 17), (e_fee, 40), (0, 0)], amount
        assert [h.alias for h in mine.hops] == ["B", "E", "C"]


def test_recompute_refuses_what_it_cannot_price(start_sim: Callable[..., RunningSim]) -> None:
    net = Regtest(start_sim("regtest", hop_delay_ms=0))
    with pytest.raises(RouteError) as caught:
        recompute(net.path("A", ("103x1x0", "B"), ("999x9x9", "C")), 1000, 10, net.policies)
    assert f"hop 2: 999x9x9/{net.direction('B', 'C')} is not a channel the node knows" in str(caught.value)
    with pytest.raises(RouteError, match="more than 0msat"):
        recompute(net.path("A", ("103x1x0", "B")), 0, 10, net.policies)


# ---------------------------------------------------------------------------------------------------------------
# The finder


def test_finder_splits_by_liquidity_on_demo(start_sim: Callable[..., RunningSim]) -> None:
    """big-merchant's 2,000,000 sat only goes through as parts (maxparts > 1, as xpay does)."""
    sim = start_sim("demo", hop_delay_ms=0)
    node = PylnNode(sim.socket_path)
    us, merchant = sim.alias("console"), sim.alias("big-merchant")
    policies = ChannelPolicies(node, us)
    finder = RouteFinder(node, us, policies=policies)
    amount = 2_000_000_000
    with pytest.raises(RouteNotFound) as caught:
        finder.find(merchant, amount, final_cltv=18)
    assert caught.value.code is not None and caught.value.reason
    routes = finder.find(merchant, amount, final_cltv=18, maxparts=3)
    assert len(routes) >= 2
    assert sum(route.amount_msat for route in routes) == amount
    for route in routes:
        assert route.destination == merchant and route.final_cltv == 18
        check = check_route(route, policies, our_id=us, payee=merchant, final_cltv=18)
        assert check.ok, check.messages


def test_finder_reports_the_nodes_reason(regtest: RunningSim) -> None:
    net = Regtest(regtest)
    with pytest.raises(RouteNotFound) as caught:
        net.finder.find(net.C, 100_000, final_cltv=10, exclude_nodes=[net.B, net.D])
    assert caught.value.code == 205
    assert caught.value.reason and caught.value.message == caught.value.reason
    # Exclusions kept in the console's layer, rebuilt only when they change.
    assert net.finder.find(net.C, 100_000, final_cltv=10, exclude_nodes=[net.B])[0].hops[0].alias == "D"
    assert [layer["layer"] for layer in regtest.rpc.call("askrene-listlayers")["layers"]] == ["lnconsole"]


def test_finder_rebuilds_its_layer_when_removed(regtest: RunningSim) -> None:
    net = Regtest(regtest)
    net.finder.find(net.C, 100_000, final_cltv=10, exclude_nodes=[net.B])
    regtest.rpc.call("askrene-remove-layer", {"layer": "lnconsole"})
    [route] = net.finder.find(net.C, 100_000, final_cltv=10, exclude_nodes=[net.B])
    assert route.hops[0].alias == "D"


def test_legacy_node_falls_back_to_getroute(start_sim: Callable[..., RunningSim]) -> None:
    sim = start_sim("regtest", generation="legacy", hop_delay_ms=0)
    net = Regtest(sim, RecordingNode(sim.socket_path))
    assert not net.finder.uses_getroutes
    [route] = net.finder.find(net.C, 100_000, final_cltv=10, exclude_nodes=[net.D])
    assert route.to_sendpay() == net.node.getroute(net.C, 100_000, cltv=10, exclude=[net.D])
    assert route.hops[0].fee_msat == 2 and route.total_delay == 16
    # maxparts > 1 still gives one route for the whole amount.
    routes = net.finder.find(net.C, 100_000, final_cltv=10, maxparts=3, exclude_nodes=[net.D])
    assert len(routes) == 1 and routes[0].amount_msat == 100_000
    # Exclusions: a node, and a channel (both directions when no direction is given).
    assert net.finder.find(net.C, 100_000, final_cltv=10, exclude_nodes=[net.B])[0].hops[0].alias == "D"
    [around] = net.finder.find(net.C, 100_000, final_cltv=10, exclude_channels=["103x2x0", "103x3x0/0"])
    assert [h.alias for h in around.hops] == ["B", "E", "C"]
    with pytest.raises(RouteNotFound) as caught:
        net.finder.find(net.C, 100_000, final_cltv=10, maxhops=1)
    assert caught.value.code == 205 and "Shortest route was 2" in caught.value.reason
    with pytest.raises(RouteNotFound) as caught:
        net.finder.find(net.C, 100_000, final_cltv=10, maxfee_msat=1)
    assert caught.value.code == 206 and "maxfee" in caught.value.reason
    assert net.node.count("getroutes") <= 1  # asked once, remembered


def test_no_getroute_either(start_sim: Callable[..., RunningSim]) -> None:
    sim = start_sim("regtest", generation="legacy", deprecated_apis=False, hop_delay_ms=0)
    net = Regtest(sim)
    with pytest.raises(RouteNotFound, match="neither getroutes nor getroute"):
        net.finder.find(net.C, 100_000, final_cltv=10)


# ---------------------------------------------------------------------------------------------------------------
# Route hints: a private payee


@pytest.mark.parametrize("generation", ["current", "legacy"])
def test_route_through_the_invoice_hint_to_a_private_payee(
    start_sim: Callable[..., RunningSim], generation: str
) -> None:
    sim = start_sim("regtest", generation=generation, hop_delay_ms=0)
    net = Regtest(sim)
    payee = add_private_payee(sim)
    invoice = net.invoice(payee, 150_000)
    decoded = net.node.decode(invoice["bolt11"])
    hints = hints_from_decode(decoded)
    assert [[h.short_channel_id for h in hint] for hint in hints] == [["110x1x0"]]
    assert hints[0][0] == HintChannel(net.C, "110x1x0", 3, 250, 12)
    assert not net.policies.is_public(payee)
    final_cltv = int(decoded["min_final_cltv_expiry"])
    # Without the hint the node knows no way there.
    with pytest.raises(RouteNotFound):
        net.finder.find(payee, 150_000, final_cltv=final_cltv)
    [route] = net.finder.find(payee, 150_000, final_cltv=final_cltv, route_hints=hints)
    assert route.destination == payee
    assert route.hops[-1].short_channel_id == "110x1x0" and route.hops[-2].node_id == net.C
    # C charges what its hint says for the private channel: 3 msat + 250 ppm, delta 12.
    assert (route.hops[-2].fee_msat, route.hops[-2].cltv_delta) == (3 + 150_000 * 250 // 1_000_000, 12)
    check = check_route(route, net.policies, our_id=net.us, payee=payee, amount_msat=150_000, final_cltv=final_cltv)
    assert check.ok, check.messages
    assert net.pay(route, invoice)["status"] == "complete"


# ---------------------------------------------------------------------------------------------------------------
# Validation: problems shown at the hop they belong to


def kinds_at(check: Any) -> dict[int, set[str]]:
    found: dict[int, set[str]] = {}
    for problem in check.hop_problems:
        found.setdefault(problem.index, set()).add(problem.kind)
    return found


def test_check_flags_each_problem_at_its_hop(regtest: RunningSim) -> None:
    net = Regtest(regtest)
    abc = net.path("A", ("103x1x0", "B"), ("103x2x0", "C"))
    route = recompute(abc, 100_000, 10, net.policies)

    def check(r: Route = route, **kwargs: Any) -> Any:
        kwargs.setdefault("payee", net.C)
        return check_route(r, net.policies, our_id=net.us, **kwargs)

    assert check().ok and check().fee_msat == 2 and check().total_delay == 16

    net.channel("103x2x0", "B", "C", active=False)
    disabled = check()
    assert kinds_at(disabled) == {1: {"disabled"}} and not disabled.ok
    assert disabled.messages == [f"hop 2: 103x2x0/{net.direction('B', 'C')} is disabled"]
    net.channel("103x2x0", "B", "C", active=True)

    net.channel("103x1x0", "A", "B", spendable_msat=50_000)  # we hold too little towards B
    low = check()
    assert kinds_at(low) == {0: {"spendable"}}
    assert "we can send only 50sat over 103x1x0, the route needs 100.002sat" in low.messages[0]
    net.channel("103x1x0", "A", "B", spendable_msat=900_000_000)

    net.channel("103x2x0", "B", "C", htlc_maximum_msat=90_000)
    assert kinds_at(check()) == {1: {"htlc_maximum"}}
    net.channel("103x2x0", "B", "C", htlc_maximum_msat=396_000_000, htlc_minimum_msat=200_000)
    assert kinds_at(check()) == {1: {"htlc_minimum"}}
    net.channel("103x2x0", "B", "C", htlc_minimum_msat=0)
    assert check().ok

    big = recompute(net.path("A", ("103x1x0", "B"), ("103x5x0", "E")), 600_000_000, 10, net.policies)
    assert {"capacity", "htlc_maximum"} <= kinds_at(check(big, payee=net.E))[1]

    wrong_way = Route((route.hops[0], replace(route.hops[1], direction=1 - route.hops[1].direction)), net.us)
    flagged = check(wrong_way)
    assert kinds_at(flagged) == {1: {"direction"}}
    assert f"from B it is direction {net.direction('B', 'C')}" in flagged.messages[0]

    broken = recompute(net.path("A", ("103x1x0", "B"), ("103x4x0", "C")), 100_000, 10, net.policies)
    flagged = check(broken)
    assert kinds_at(flagged) == {1: {"chain"}}
    assert flagged.messages == ["hop 2: 103x4x0 joins C and D, not B and C"]

    not_ours = recompute(net.path("B", ("103x2x0", "C")), 100_000, 10, net.policies, source=net.B)
    assert kinds_at(check(not_ours)) == {0: {"not_ours"}}
    not_ours_channel = Route(not_ours.hops, net.us)
    assert kinds_at(check(not_ours_channel)) == {0: {"chain"}}

    unknown = Route((Hop(net.C, "999x9x9", 0, 100_000, 10),), net.us)
    assert kinds_at(check(unknown)) == {0: {"unknown"}}

    # Hand-made amounts: B paid no fee and given no CLTV delta.
    underpaid = route_from_json(
        json.dumps(
            [
                {"id": net.B, "channel": "103x1x0", "amount_msat": 100_000, "delay": 10},
                {"id": net.C, "channel": "103x2x0", "amount_msat": 100_000, "delay": 10},
            ]
        ),
        net.us,
    )
    flagged = check(underpaid)
    assert kinds_at(flagged) == {0: {"fee", "cltv"}}
    assert "hop 1: B asks 0.002sat to forward over 103x2x0, the route pays it 0sat" in flagged.messages

    # Route-wide: limits, payee, amount, final CLTV.
    limits = RouteLimits(maxfee_msat=1, maxdelay=15)
    flagged = check(limits=limits, payee=net.D, amount_msat=99_999, final_cltv=18)
    assert not flagged.hop_problems
    assert [p.kind for p in flagged.route_problems] == ["maxfee", "maxdelay", "payee", "amount", "final_cltv"]
    assert flagged.messages[0] == "the fee 0.002sat is above the limit 0.001sat"
    assert check(limits=RouteLimits(maxfee_msat=2, maxdelay=16), amount_msat=100_000, final_cltv=10).ok


# ---------------------------------------------------------------------------------------------------------------
# Import and export


def test_export_is_what_sendpay_takes_and_it_pays(regtest: RunningSim) -> None:
    net = Regtest(regtest)
    invoice = net.invoice(net.C, 250_000)
    [route] = net.finder.find(net.C, 250_000, final_cltv=REGTEST_MIN_FINAL)
    text = route_to_json(route)
    assert json.loads(text) == [
        {
            "id": hop.node_id,
            "channel": hop.short_channel_id,
            "direction": hop.direction,
            "amount_msat": hop.amount_msat,
            "delay": hop.delay,
            "style": "tlv",
        }
        for hop in route.hops
    ]
    back = route_from_json(text, net.us, net.policies)
    assert back == route
    assert net.pay(back, invoice)["status"] == "complete"


def test_import_accepts_every_naming(regtest: RunningSim) -> None:
    net = Regtest(regtest)
    [route] = net.finder.find(net.C, 100_000, final_cltv=10, exclude_nodes=[net.D])
    hops = json.loads(route_to_json(route))
    v26 = [
        {
            "node_id_out": h["id"],
            "short_channel_id_dir": f"{h['channel']}/{h['direction']}",
            "amount_out_msat": h["amount_msat"],
            "cltv_out": h["delay"],
        }
        for h in hops
    ]
    old_strings = [{**h, "amount_msat": f"{h['amount_msat']}msat"} for h in hops]
    no_direction = [{k: v for k, v in h.items() if k != "direction"} for h in hops]
    # A getroutes route as the node answers it, deprecated fields (amount_msat = into the hop!) included.
    net.node.create_layer("noD")
    net.node.layer_disable_node("noD", net.D)
    getroutes = regtest.rpc.call(
        "getroutes",
        {
            "source": net.us,
            "destination": net.C,
            "amount_msat": 100_000,
            "layers": ["auto.sourcefree", "noD"],
            "maxfee_msat": 10_000,
            "final_cltv": 10,
        },
    )
    getroute = regtest.rpc.call("getroute", {"id": net.C, "amount_msat": 100_000, "riskfactor": 1, "cltv": 10})
    for text in (
        json.dumps(v26),
        json.dumps(old_strings),
        json.dumps(no_direction),
        json.dumps(getroutes),
        json.dumps(getroutes["routes"][0]),
    ):
        assert route_from_json(text, net.us, net.policies) == route, text
    assert route_from_json(json.dumps(getroute), net.us).to_sendpay() == net.node.getroute(net.C, 100_000, cltv=10)


NODE_B = "03" + "bb" * 32
GOOD_HOP = {"id": NODE_B, "channel": "103x1x0", "direction": 0, "amount_msat": 1000, "delay": 10}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[{", "That is not JSON: "),
        ("", "That is not JSON: "),
        ('"hello"', "Expected a JSON list of hops"),
        ("[]", "The route is empty"),
        ("[1]", "hop 1: expected an object"),
        (json.dumps([GOOD_HOP, {**GOOD_HOP, "amount_msat": 1.5}]), "hop 2: amount_msat must be a whole number of"),
        (json.dumps([{**GOOD_HOP, "amount_msat": "10sat"}]), "hop 1: amount_msat must be a whole number of"),
        (json.dumps([{**GOOD_HOP, "amount_msat": -5}]), "hop 1: amount_msat must be a whole number of millisatoshi"),
        (json.dumps([{**GOOD_HOP, "amount_msat": True}]), "hop 1: amount_msat must be a whole number of millisatoshi"),
        (json.dumps([{**GOOD_HOP, "amount_msat": 0}]), "hop 1: amount_msat must be more than 0"),
        (json.dumps([{**GOOD_HOP, "amount_out_msat": "x"}]), "hop 1: amount_out_msat must be a whole number"),
        (json.dumps([{**GOOD_HOP, "id": "bob"}]), "hop 1: id must be a node id"),
        (json.dumps([{**GOOD_HOP, "channel": "1:2:3"}]), "hop 1: channel must be a short_channel_id like 103x1x0"),
        (json.dumps([{**GOOD_HOP, "direction": 2}]), "hop 1: direction must be 0 or 1"),
        (json.dumps([{**GOOD_HOP, "delay": "ten"}]), "hop 1: delay must be a whole number of blocks"),
        (json.dumps([{**GOOD_HOP, "delay": -1}]), "hop 1: delay must be a whole number of blocks"),
        (json.dumps([{**GOOD_HOP, "style": "legacy"}]), 'hop 1: style must be "tlv"'),
        (json.dumps([{k: v for k, v in GOOD_HOP.items() if k != "channel"}]), "hop 1: channel is missing"),
        (json.dumps([{k: v for k, v in GOOD_HOP.items() if k != "delay"}]), "hop 1: delay is missing"),
        (json.dumps([{**GOOD_HOP, "short_channel_id_dir": "103x1x0"}]), "short_channel_id_dir must look like"),
    ],
)
def test_import_refuses_with_a_clear_message(text: str, message: str) -> None:
    with pytest.raises(RouteImportError) as caught:
        route_from_json(text, "02" + "aa" * 32)
    assert message in caught.value.message


def test_import_works_out_fees_from_amounts() -> None:
    c = "02" + "cc" * 32
    route = route_from_json(
        json.dumps([{**GOOD_HOP, "amount_msat": 1003, "delay": 16}, {**GOOD_HOP, "id": c, "channel": "103x2x0"}]),
        "02" + "aa" * 32,
    )
    assert [(h.fee_msat, h.cltv_delta) for h in route.hops] == [(3, 6), (0, 0)]
    assert route.fee_msat == 3 and route.total_delay == 16 and route.amount_msat == 1000


# ---------------------------------------------------------------------------------------------------------------
# Policies: on demand, cached, and never the whole graph


def test_policies_are_looked_up_on_demand_and_cached(regtest: RunningSim) -> None:
    net = Regtest(regtest, RecordingNode(regtest.socket_path))
    node = net.node
    assert isinstance(node, RecordingNode)
    policy = net.half("103x2x0", "B", "C")
    assert (policy.base_fee_msat, policy.fee_ppm, policy.cltv_delta, policy.capacity_msat) == (1, 10, 6, 400_000_000)
    calls = node.count("listchannels")
    net.half("103x2x0", "C", "B")
    assert node.count("listchannels") == calls
    net.channel("103x2x0", "B", "C", fee_per_millionth=77)
    assert net.half("103x2x0", "B", "C").fee_ppm == 77
    # Ours: spendable from listpeerchannels.
    mine = net.half("103x1x0", "A", "B")
    assert mine.local and mine.spendable_msat == 1_000_000_000
    assert [p.short_channel_id for p in net.policies.channels_between(net.B, net.C)] == ["103x2x0"]
    assert [p.short_channel_id for p in net.policies.channels_from(net.A)] == ["103x1x0", "103x3x0"]
    assert net.policies.alias(net.E) == "E"
    assert net.policies.is_public(net.C)


def test_our_private_channels_come_from_listpeerchannels(regtest: RunningSim) -> None:
    net = Regtest(regtest)
    payee = add_private_payee(regtest, scid="110x2x0", peer="A")
    [ours] = net.policies.channels_between(net.us, payee)
    assert ours.short_channel_id == "110x2x0" and ours.local and not ours.public
    route = recompute([("110x2x0", ours.direction, payee)], 5_000, 10, net.policies)
    assert check_route(route, net.policies, our_id=net.us).ok
    # A hint whose entry is us: the route is the hint alone.
    hint = [HintChannel(net.us, "110x2x0", ours.base_fee_msat, ours.fee_ppm, ours.cltv_delta)]
    [hinted] = net.finder.find(payee, 5_000, final_cltv=10, route_hints=[hint])
    assert hinted == route
    assert net.pay(hinted, net.invoice(payee, 5_000))["status"] == "complete"


def test_the_console_never_lists_every_channel(start_sim: Callable[..., RunningSim]) -> None:
    """Finding, checking, editing, hints and import: every listchannels call has a filter."""
    sim = start_sim("regtest", hop_delay_ms=0)
    net = Regtest(sim, RecordingNode(sim.socket_path))
    payee = add_private_payee(sim)
    editor = net.editor()
    [route] = net.finder.find(net.C, 100_000, final_cltv=10, exclude_nodes=[net.D])
    editor.check(route)
    editor.alternatives(route, 1)
    longer = editor.insert_hop(route, 1, net.E).route
    editor.remove_hop(longer, 1)
    editor.exclude_and_reroute(route, 0, exclude_nodes=[net.B])
    route_from_json(route_to_json(route), net.us, net.policies)
    decoded = net.node.decode(net.invoice(payee, 10_000)["bolt11"])
    net.finder.find(payee, 10_000, final_cltv=10, route_hints=hints_from_decode(decoded))
    assert isinstance(net.node, RecordingNode)
    listchannels = [params for method, params in net.node.calls if method == "listchannels"]
    assert listchannels and all(params for params in listchannels), listchannels
    assert all(params for method, params in net.node.calls if method == "listnodes")
