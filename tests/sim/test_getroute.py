"""getroute (CLN's topology plugin): every route real lightningd gave in the transcripts, and its error paths."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from pyln.client import RpcError

from tests.conftest import RunningSim
from tests.schema import assert_valid_response
from tests.sim.helpers import TRANSCRIPTS, direction, exchange, transcript_calls

NETWORK = json.loads((TRANSCRIPTS / "network.json").read_text())
REAL_IDS: dict[str, str] = {alias: node["id"] for alias, node in NETWORK["nodes"].items()}
ALIAS_OF: dict[str, str] = {node_id: alias for alias, node_id in REAL_IDS.items()}
ENDS: dict[str, tuple[str, str]] = {c["short_channel_id"]: (c["opener"], c["peer"]) for c in NETWORK["channels"]}

# The recorder altered three getroute answers in place before sending them on with sendpay (to provoke
# fee_insufficient, incorrect_cltv_expiry and unknown_next_peer: see the notes of the sendpay that follows each
# in sendpay_failures.json), so the transcript shows the altered route. What lightningd returned is the
# unaltered one, which these corrections restore: (request id, hop, field) -> value.
ALTERED_IN_RECORDING: dict[tuple[str, int, str], Any] = {
    ("record:getroute#108", 0, "amount_msat"): 10000101,
    ("record:getroute#112", 0, "delay"): 16,
    ("record:getroute#120", 1, "channel"): "103x2x0",
}


def real_direction(scid: str, src: str, dst: str, ids: dict[str, str]) -> int:
    """Direction of channel ``scid`` from alias ``src`` to ``dst`` under the node ids ``ids``."""
    assert set(ENDS[scid]) == {src, dst}
    return 0 if ids[src] < ids[dst] else 1


def to_sim_params(params: dict[str, Any], sim: RunningSim) -> dict[str, Any]:
    """Translate a transcript request to the simulator's node ids (and channel directions)."""
    sim_ids = {alias: sim.alias(alias) for alias in REAL_IDS}
    result = dict(params)
    for key in ("id", "fromid"):
        if key in result and result[key] in ALIAS_OF:
            result[key] = sim_ids[ALIAS_OF[result[key]]]
    if "exclude" in result:
        excluded = []
        for entry in result["exclude"]:
            if entry in ALIAS_OF:
                excluded.append(sim_ids[ALIAS_OF[entry]])
                continue
            scid, real_dir = entry.split("/")
            a, b = ENDS[scid]
            src, dst = (a, b) if real_direction(scid, a, b, REAL_IDS) == int(real_dir) else (b, a)
            excluded.append(f"{scid}/{real_direction(scid, src, dst, sim_ids)}")
        result["exclude"] = excluded
    return result


def expected_route(call: dict[str, Any], sim: RunningSim) -> list[dict[str, Any]]:
    """The transcript's route with the simulator's ids and directions (amounts and delays unchanged)."""
    sim_ids = {alias: sim.alias(alias) for alias in REAL_IDS}
    request_id = call["request"]["id"]
    route = [dict(hop) for hop in call["response"]["result"]["route"]]
    for (rid, index, key), value in ALTERED_IN_RECORDING.items():
        if rid == request_id:
            route[index][key] = value
    src = ALIAS_OF[call["request"]["params"].get("fromid", REAL_IDS["A"])]
    for hop in route:
        dst = ALIAS_OF[hop["id"]]
        assert hop["direction"] == real_direction(hop["channel"], src, dst, REAL_IDS)
        hop["direction"] = real_direction(hop["channel"], src, dst, sim_ids)
        hop["id"] = sim_ids[dst]
        src = dst
    return route


ALL_GETROUTE_CALLS = transcript_calls("getroute")
DEPRECATED_CALL = next(c for c in ALL_GETROUTE_CALLS if c["response"].get("error", {}).get("code") == -32601)
GETROUTE_CALLS = [c for c in ALL_GETROUTE_CALLS if c is not DEPRECATED_CALL]


def test_transcripts_have_all_the_getroute_calls() -> None:
    """15 in getroute.json, 16 before the sendpays of the sendpay_*.json transcripts, all from A."""
    assert len(ALL_GETROUTE_CALLS) == 31
    assert all(call["node"] == "A" for call in ALL_GETROUTE_CALLS)


@pytest.mark.parametrize("call", GETROUTE_CALLS, ids=[c["request"]["id"] for c in GETROUTE_CALLS])
def test_replays_every_transcript_getroute(regtest: RunningSim, call: dict[str, Any]) -> None:
    """Same channels, directions, amounts and delays, or the same error, as real lightningd."""
    params = to_sim_params(call["request"]["params"], regtest)
    response = call["response"]
    if "error" in response:
        with pytest.raises(RpcError) as caught:
            regtest.rpc.call("getroute", params)
        assert caught.value.error == response["error"]
        return
    result = regtest.rpc.call("getroute", params)
    assert_valid_response("getroute", result)
    assert result["route"] == expected_route(call, regtest)


def test_deprecated_off_on_the_connection_refuses_getroute(regtest: RunningSim) -> None:
    """deprecations {enable: false} then getroute on the same connection: -32601, as in getroute.json."""
    params = to_sim_params(DEPRECATED_CALL["request"]["params"], regtest)
    requests = [
        {"jsonrpc": "2.0", "id": 1, "method": "deprecations", "params": {"enable": False}},
        {"jsonrpc": "2.0", "id": 2, "method": "getroute", "params": params},
    ]
    answers = exchange(regtest.socket_path, requests)
    assert answers[0]["result"] == {}
    assert answers[1]["error"] == {"code": -32601, "message": 'Command "getroute" is deprecated'}


def test_deprecated_apis_off_for_the_node(start_sim: Callable[..., RunningSim]) -> None:
    sim = start_sim("regtest", deprecated_apis=False)
    with pytest.raises(RpcError) as caught:
        sim.rpc.call("getroute", {"id": sim.alias("C"), "amount_msat": 1000, "riskfactor": 1})
    assert caught.value.error == {"code": -32601, "message": 'Command "getroute" is deprecated'}


def hops(result: dict[str, Any], sim: RunningSim) -> list[tuple[str, str]]:
    names = {sim.alias(a): a for a in "ABCDE"}
    return [(hop["channel"], names[hop["id"]]) for hop in result["route"]]


def getroute(sim: RunningSim, **params: Any) -> dict[str, Any]:
    params.setdefault("riskfactor", 1)
    result = sim.rpc.call("getroute", params)
    assert_valid_response("getroute", result)
    return result


def test_excluding_a_direction_leaves_the_other_usable(regtest: RunningSim) -> None:
    c = regtest.alias("C")
    reverse = direction(regtest, "B", "A")
    route = getroute(regtest, id=c, amount_msat=10_000_000, exclude=[f"103x1x0/{reverse}"])
    assert hops(route, regtest) == [("103x1x0", "B"), ("103x2x0", "C")]
    forward = direction(regtest, "A", "B")
    route = getroute(regtest, id=c, amount_msat=10_000_000, exclude=[f"103x1x0/{forward}"])
    assert hops(route, regtest) == [("103x3x0", "D"), ("103x4x0", "C")]


def test_excluding_nodes(regtest: RunningSim) -> None:
    c, b, d = (regtest.alias(x) for x in "CBD")
    route = getroute(regtest, id=c, amount_msat=10_000_000, exclude=[b])
    assert hops(route, regtest) == [("103x3x0", "D"), ("103x4x0", "C")]
    with pytest.raises(RpcError) as caught:
        getroute(regtest, id=c, amount_msat=10_000_000, exclude=[b, d])
    assert caught.value.error == {"code": 205, "message": "Could not find a route"}
    with pytest.raises(RpcError) as caught:
        getroute(regtest, id=c, amount_msat=10_000_000, exclude=[c])
    assert caught.value.error == {"code": 205, "message": "Could not find a route"}


def test_maxhops_falls_back_to_the_shortest_route(regtest: RunningSim) -> None:
    """B-C made dear: the cheapest route is A-B-E-C (3 hops); maxhops 2 takes the shortest, A-D-C."""
    c = regtest.alias("C")
    regtest.rpc.call(
        "dev-sim-channel",
        {
            "short_channel_id": "103x2x0",
            "direction": direction(regtest, "B", "C"),
            "fee_per_millionth": 50_000,
        },
    )
    regtest.rpc.call(
        "dev-sim-channel",
        {
            "short_channel_id": "103x4x0",
            "direction": direction(regtest, "D", "C"),
            "fee_per_millionth": 40_000,
        },
    )
    assert len(getroute(regtest, id=c, amount_msat=10_000_000)["route"]) == 3
    route = getroute(regtest, id=c, amount_msat=10_000_000, maxhops=2)
    assert hops(route, regtest) == [("103x3x0", "D"), ("103x4x0", "C")]
    assert route["route"][0]["amount_msat"] == 10_000_000 + 10_000_000 * 40_000 // 1_000_000 + 1
    with pytest.raises(RpcError) as caught:
        getroute(regtest, id=c, amount_msat=10_000_000, maxhops=1)
    assert caught.value.error == {"code": 205, "message": "Shortest route was 2"}


def test_fromid_routes_between_other_nodes(regtest: RunningSim) -> None:
    route = getroute(regtest, id=regtest.alias("C"), fromid=regtest.alias("E"), amount_msat=1_000_000, cltv=20)
    assert route["route"] == [
        {
            "id": regtest.alias("C"),
            "channel": "103x6x0",
            "direction": direction(regtest, "E", "C"),
            "amount_msat": 1_000_000,
            "delay": 20,
            "style": "tlv",
        }
    ]
    route = getroute(regtest, id=regtest.alias("E"), fromid=regtest.alias("D"), amount_msat=1_000_000)
    assert hops(route, regtest) == [("103x4x0", "C"), ("103x6x0", "E")]
    # D -> C charges nothing here (D forwards to C, whose channel to E sets C's fee: 1 + 10 ppm).
    assert [hop["amount_msat"] for hop in route["route"]] == [1_000_011, 1_000_000]
    assert [hop["delay"] for hop in route["route"]] == [15, 9]


def test_unknown_source(regtest: RunningSim) -> None:
    g = "0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"
    with pytest.raises(RpcError) as caught:
        getroute(regtest, id=regtest.alias("C"), fromid=g, amount_msat=1000)
    assert caught.value.error == {"code": -32602, "message": f"{g}: unknown source node_id (no public channels?)"}


def test_fuzzpercent_is_ignored_so_routes_repeat(regtest: RunningSim) -> None:
    c = regtest.alias("C")
    routes = [getroute(regtest, id=c, amount_msat=7_654_321, fuzzpercent=fuzz) for fuzz in (0, 5, 50, 100, 0.5)]
    assert all(route == routes[0] for route in routes)
    assert hops(routes[0], regtest) == [("103x1x0", "B"), ("103x2x0", "C")]
    assert routes[0]["route"][0]["amount_msat"] == 7_654_321 + 1 + 76


def test_riskfactor_prices_delay(regtest: RunningSim) -> None:
    """A long CLTV delta on B->C makes A-D-C cheaper once risk counts (riskfactor in % a year)."""
    c = regtest.alias("C")
    regtest.rpc.call(
        "dev-sim-channel",
        {"short_channel_id": "103x2x0", "direction": direction(regtest, "B", "C"), "delay": 144},
    )
    assert hops(getroute(regtest, id=c, amount_msat=100_000_000, riskfactor=0), regtest)[0] == ("103x1x0", "B")
    route = getroute(regtest, id=c, amount_msat=100_000_000, riskfactor=10)
    assert hops(route, regtest) == [("103x3x0", "D"), ("103x4x0", "C")]


def test_our_spendable_limits_the_first_hop(regtest: RunningSim) -> None:
    """getroute overlays listpeerchannels: A-B without spendable liquidity is not used."""
    c = regtest.alias("C")
    regtest.rpc.call(
        "dev-sim-channel",
        {
            "short_channel_id": "103x1x0",
            "direction": direction(regtest, "A", "B"),
            "spendable_msat": 5_000_000,
        },
    )
    assert hops(getroute(regtest, id=c, amount_msat=4_000_000), regtest)[0] == ("103x1x0", "B")
    assert hops(getroute(regtest, id=c, amount_msat=6_000_000), regtest)[0] == ("103x3x0", "D")


def test_capacity_and_disabled_directions(regtest: RunningSim) -> None:
    c = regtest.alias("C")
    # htlc_maximum is 99% of capacity: 396,000 sat on B-C, 297,000 sat on D-C.
    assert hops(getroute(regtest, id=c, amount_msat=396_000_000), regtest)[1] == ("103x2x0", "C")
    assert hops(getroute(regtest, id=c, amount_msat=297_000_000), regtest)[1] == ("103x2x0", "C")
    with pytest.raises(RpcError) as caught:
        getroute(regtest, id=c, amount_msat=397_000_000)
    assert caught.value.error == {"code": 205, "message": "Could not find a route"}
    regtest.rpc.call(
        "dev-sim-channel",
        {"short_channel_id": "103x2x0", "direction": direction(regtest, "B", "C"), "active": False},
    )
    assert hops(getroute(regtest, id=c, amount_msat=1_000_000), regtest)[1] == ("103x4x0", "C")


def test_route_to_a_direct_peer_and_to_ourselves(regtest: RunningSim) -> None:
    route = getroute(regtest, id=regtest.alias("D"), amount_msat="1sat", cltv=0)
    assert route["route"] == [
        {
            "id": regtest.alias("D"),
            "channel": "103x3x0",
            "direction": direction(regtest, "A", "D"),
            "amount_msat": 1000,
            "delay": 0,
            "style": "tlv",
        }
    ]
    assert getroute(regtest, id=regtest.node.our_id, amount_msat=1) == {"route": []}


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"riskfactor": -1}, "riskfactor: should be a non-negative floating-point number: invalid token '-1'"),
        ({"riskfactor": "1e3"}, "riskfactor: should be a non-negative floating-point number: invalid token '\"1e3\"'"),
        ({"cltv": -5}, "cltv: should be an integer: invalid token '-5'"),
        ({"maxhops": "x"}, "maxhops: should be an integer: invalid token '\"x\"'"),
        (
            {"fuzzpercent": "lots"},
            "fuzzpercent: should be a non-negative floating-point number: invalid token '\"lots\"'",
        ),
        ({"exclude": ["103x1x0"]}, "exclude: should be short_channel_id_dir or node_id: invalid token '\"103x1x0\"'"),
        (
            {"exclude": ["103x1x0/2"]},
            "exclude: should be short_channel_id_dir or node_id: invalid token '\"103x1x0/2\"'",
        ),
        ({"exclude": "103x1x0/0"}, 'Exclude array exclude ("103x1x0/0") is not an array'),
        ({"amount_msat": "lots"}, "amount_msat: should be a millisatoshi amount: invalid token '\"lots\"'"),
        ({"fromid": "02aa"}, "fromid: should be a node id: invalid token '\"02aa\"'"),
    ],
)
def test_parameter_errors(regtest: RunningSim, params: dict[str, Any], message: str) -> None:
    request = {"id": regtest.alias("C"), "amount_msat": 1000, "riskfactor": 1, **params}
    with pytest.raises(RpcError) as caught:
        regtest.rpc.call("getroute", request)
    assert caught.value.error == {"code": -32602, "message": message}


def test_missing_required_parameter(regtest: RunningSim) -> None:
    with pytest.raises(RpcError) as caught:
        regtest.rpc.call("getroute", {"id": regtest.alias("C"), "amount_msat": 1000})
    assert caught.value.error == {"code": -32602, "message": "missing required parameter: riskfactor"}
