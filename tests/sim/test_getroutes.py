"""getroutes (askrene) and the askrene layer commands on the transcripts' regtest network.

A (us) reaches C over A-B-C (B-C: 400,000 sat), A-D-C (D-C: 300,000 sat) and A-B-E-C (E-C: 200,000 sat); every
channel charges 1 msat + 10 ppm with a CLTV delta of 6. Liquidity not ours is unknown to askrene: uniform between
0 and the capacity, so a part of x msat over a channel of c msat succeeds with probability 1 - x/c.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from pyln.client import RpcError

from tests.conftest import RunningSim
from tests.schema import assert_valid_response

LOCAL = ["auto.localchans", "auto.sourcefree"]


def scidd(sim: RunningSim, scid: str, src: str, dst: str) -> str:
    return f"{scid}/{0 if sim.alias(src) < sim.alias(dst) else 1}"


def getroutes(sim: RunningSim, amount_msat: int, destination: str = "C", **params: Any) -> dict[str, Any]:
    request = {
        "source": sim.node.our_id,
        "destination": sim.alias(destination),
        "amount_msat": amount_msat,
        "layers": LOCAL,
        "maxfee_msat": 10_000_000,
        "final_cltv": 18,
        **params,
    }
    result = sim.rpc.call("getroutes", request)
    assert_valid_response("getroutes", result)
    assert sum(route["amount_msat"] for route in result["routes"]) == amount_msat
    return result


def getroutes_error(sim: RunningSim, amount_msat: int, destination: str = "C", **params: Any) -> dict[str, Any]:
    with pytest.raises(RpcError) as caught:
        getroutes(sim, amount_msat, destination, **params)
    return caught.value.error  # type: ignore[no-any-return]


def channels(route: dict[str, Any]) -> list[str]:
    return [hop["short_channel_id_dir"].split("/")[0] for hop in route["path"]]


def parts(result: dict[str, Any]) -> dict[tuple[str, ...], int]:
    return {tuple(channels(route)): route["amount_msat"] for route in result["routes"]}


def test_single_path_is_the_cheapest_route_with_askrene_hops(regtest: RunningSim) -> None:
    """10,000 sat: one path, A-B-C as getroute finds; hops say what goes in and out, first hop free."""
    result = getroutes(regtest, 10_000_000)
    a, b, c = (regtest.alias(x) for x in "ABC")
    route = regtest.rpc.call("getroute", {"id": c, "amount_msat": 10_000_000, "riskfactor": 1, "cltv": 18})
    assert channels(result["routes"][0]) == [hop["channel"] for hop in route["route"]]
    # B-C's liquidity is unknown: P = 1 - 10,000,000 / 400,000,000; A-B is ours, known to hold enough.
    assert result == {
        "probability_ppm": 975000,
        "routes": [{
            "probability_ppm": 975000,
            "amount_msat": 10_000_000,
            "final_cltv": 18,
            "path": [
                {"short_channel_id_dir": scidd(regtest, "103x1x0", "A", "B"), "node_id_in": a, "node_id_out": b,
                 "amount_in_msat": 10_000_101, "amount_out_msat": 10_000_101, "cltv_in": 24, "cltv_out": 24,
                 "next_node_id": b, "amount_msat": 10_000_101, "delay": 24},
                {"short_channel_id_dir": scidd(regtest, "103x2x0", "B", "C"), "node_id_in": b, "node_id_out": c,
                 "amount_in_msat": 10_000_101, "amount_out_msat": 10_000_000, "cltv_in": 24, "cltv_out": 18,
                 "next_node_id": c, "amount_msat": 10_000_101, "delay": 24},
            ],
        }],
    }


def test_without_sourcefree_our_own_fee_and_delay_count(regtest: RunningSim) -> None:
    route = getroutes(regtest, 10_000_000, layers=[])["routes"][0]
    assert [hop["amount_in_msat"] for hop in route["path"]] == [10_000_202, 10_000_101]
    assert [hop["cltv_in"] for hop in route["path"]] == [30, 24]
    # A-B's liquidity is unknown too without auto.localchans: 1 - 10,000,101 / 1,000,000,000 on it.
    assert route["probability_ppm"] == int((1 - 10_000_101 / 1_000_000_000) * (1 - 10_000_000 / 400_000_000) * 1e6)


def test_small_amounts_take_the_biggest_channel(regtest: RunningSim) -> None:
    """Up to 1000 sat askrene always takes one path, the one most likely to have the liquidity."""
    result = getroutes(regtest, 1_000_000)
    assert parts(result) == {("103x1x0", "103x2x0"): 1_000_000}
    assert result["probability_ppm"] == int((1 - 1_000_000 / 400_000_000) * 1e6)


def test_probability_falls_as_the_amount_grows(regtest: RunningSim) -> None:
    probabilities = [getroutes(regtest, amount)["probability_ppm"] for amount in (10_000_000, 100_000_000,
                                                                                 200_000_000, 400_000_000)]
    assert probabilities == sorted(probabilities, reverse=True)
    assert len(set(probabilities)) == 4
    assert all(0 < p <= 1_000_000 for p in probabilities)
    assert probabilities[1] == 750_000  # 100,000 of 400,000 sat over B-C


def test_an_amount_no_path_can_carry_is_split(regtest: RunningSim) -> None:
    """500,000 sat: more than B-C's 396,000 sat htlc maximum, so parts go over several paths.

    askrene's min-cost flow fills the cheapest probability pieces first: B-C up to 50% (200,000 sat, cost
    ln 2 / 0.5 per 400,000 sat), D-C up to 50% (150,000), B-C from 50% to 80% (ln 2.5 / 0.3 per 400,000: 120,000
    more), then the last 30,000 over A-B-E-C (B-E and E-C below 50%) rather than D-C above 50%.
    """
    result = getroutes(regtest, 500_000_000)
    assert parts(result) == {
        ("103x1x0", "103x2x0"): 320_000_000,
        ("103x1x0", "103x5x0", "103x6x0"): 30_000_000,
        ("103x3x0", "103x4x0"): 150_000_000,
    }
    by_path = {tuple(channels(route)): route for route in result["routes"]}
    assert by_path[("103x1x0", "103x2x0")]["probability_ppm"] == 199_999  # 1 - 320,003,201/400,000,000
    assert by_path[("103x3x0", "103x4x0")]["probability_ppm"] == 500_000
    # The whole: each part given the ones before it (they share A-B: ours, known, so no loss there).
    product = 1.0
    for route in result["routes"]:
        product *= route["probability_ppm"] / 1e6
    assert result["probability_ppm"] == pytest.approx(product * 1e6, abs=2)
    for route in result["routes"]:
        first, *rest = route["path"]
        assert first["amount_in_msat"] == first["amount_out_msat"]  # sourcefree
        for hop, following in zip(route["path"], rest, strict=False):
            assert hop["amount_out_msat"] == following["amount_in_msat"]
            assert following["amount_in_msat"] - following["amount_out_msat"] == 1 + following[
                "amount_out_msat"] * 10 // 1_000_000


def test_maxparts(regtest: RunningSim) -> None:
    # Two parts: the third's 30,000 sat goes where most room is left (D-C).
    result = getroutes(regtest, 500_000_000, maxparts=2)
    assert parts(result) == {("103x1x0", "103x2x0"): 320_000_000, ("103x3x0", "103x4x0"): 180_000_000}
    # One part: channels smaller than the amount are switched off, which leaves nothing into C.
    error = getroutes_error(regtest, 500_000_000, maxparts=1)
    assert error == {"code": 205, "message": "We could not find a usable set of paths. "
                                             "All 3 channels to the destination are disabled."}
    assert parts(getroutes(regtest, 250_000_000, maxparts=1)) == {("103x1x0", "103x2x0"): 250_000_000}


def test_too_much_for_every_path(regtest: RunningSim) -> None:
    error = getroutes_error(regtest, 900_000_000)
    assert error == {"code": 205, "message": (
        "We could not find a usable set of paths. The shortest path is 103x1x0->103x2x0, but "
        f"{scidd(regtest, '103x2x0', 'B', 'C')} isn't big enough to carry 900000000msat.")}
    error = getroutes_error(regtest, 900_000_001)
    assert error == {"code": 220, "message": "We could not find a usable set of paths. Total destination "
                                             "capacity is only 900000000msat (in 3 channels)."}


def test_maxfee_and_maxdelay(regtest: RunningSim) -> None:
    # B charges 101 msat to forward 10,000 sat, and there is no cheaper way.
    assert parts(getroutes(regtest, 10_000_000, maxfee_msat=101)) == {("103x1x0", "103x2x0"): 10_000_000}
    assert getroutes_error(regtest, 10_000_000, maxfee_msat=100) == {
        "code": 206, "message": "Could not find route without excessive cost"}
    # 18 blocks for C plus B's 6: a maxdelay of 24 fits, 23 does not.
    assert parts(getroutes(regtest, 10_000_000, maxdelay=24)) == {("103x1x0", "103x2x0"): 10_000_000}
    assert getroutes_error(regtest, 10_000_000, maxdelay=23) == {
        "code": 206, "message": "Could not find route without excessive delays"}
    assert getroutes_error(regtest, 10_000_000, maxdelay=2017) == {
        "code": 217, "message": "maximum delay allowed is 2016"}


def test_localchans_uses_our_real_spendable(regtest: RunningSim) -> None:
    """A-B can send 5,000 sat and A-D 6,000: 10,000 sat must be split between them."""
    for scid, peer, spendable in (("103x1x0", "B", 5_000_000), ("103x3x0", "D", 6_000_000)):
        direction = 0 if regtest.alias("A") < regtest.alias(peer) else 1
        regtest.rpc.call("dev-sim-channel", {"short_channel_id": scid, "direction": direction,
                                             "spendable_msat": spendable})
    result = getroutes(regtest, 10_000_000)
    amounts = parts(result)
    assert len(amounts) == 2
    assert amounts[("103x1x0", "103x2x0")] <= 5_000_000 - 51
    assert amounts[("103x3x0", "103x4x0")] <= 6_000_000 - 61
    # Gossip alone does not know: without auto.localchans one path over A-B looks fine.
    assert parts(getroutes(regtest, 10_000_000, layers=["auto.sourcefree"])) == {
        ("103x1x0", "103x2x0"): 10_000_000}
    assert getroutes_error(regtest, 12_000_000) == {"code": 215, "message": (
        "We could not find a usable set of paths. We know from auto.localchans that source has maximum "
        "capacity 11000000msat (in 2 channels).")}


def test_disabled_and_offline(regtest: RunningSim) -> None:
    regtest.rpc.call("dev-sim-channel", {"short_channel_id": "103x2x0", "active": False,
                                         "direction": int(scidd(regtest, "103x2x0", "B", "C")[-1])})
    assert parts(getroutes(regtest, 10_000_000)) == {("103x3x0", "103x4x0"): 10_000_000}
    # Our peer D offline: listpeerchannels says so, auto.localchans disables A-D.
    regtest.rpc.call("dev-sim-node", {"id": "D", "online": False})
    assert parts(getroutes(regtest, 10_000_000)) == {("103x1x0", "103x5x0", "103x6x0"): 10_000_000}


# ---------------------------------------------------------------------------------------------------------------
# Layers


def create_layer(sim: RunningSim, name: str, **params: Any) -> dict[str, Any]:
    result = sim.rpc.call("askrene-create-layer", {"layer": name, **params})
    assert_valid_response("askrene-create-layer", result)
    return result


def listlayers(sim: RunningSim, name: str | None = None) -> list[dict[str, Any]]:
    result = sim.rpc.call("askrene-listlayers", {} if name is None else {"layer": name})
    assert_valid_response("askrene-listlayers", result)
    return result["layers"]  # type: ignore[no-any-return]


def empty_layer(name: str, persistent: bool = False) -> dict[str, Any]:
    return {"layer": name, "persistent": persistent, "disabled_nodes": [], "created_channels": [],
            "channel_updates": [], "constraints": [], "impressions": [], "biases": [], "node_biases": []}


def test_layer_lifecycle(regtest: RunningSim) -> None:
    assert listlayers(regtest) == []
    assert create_layer(regtest, "mine") == {"layers": [empty_layer("mine")]}
    assert create_layer(regtest, "kept", persistent=True) == {"layers": [empty_layer("kept", True)]}
    assert create_layer(regtest, "kept", persistent=True) == {"layers": [empty_layer("kept", True)]}
    assert listlayers(regtest) == [empty_layer("mine"), empty_layer("kept", True)]
    assert listlayers(regtest, "mine") == [empty_layer("mine")]
    assert regtest.rpc.call("askrene-remove-layer", {"layer": "mine"}) == {}
    assert listlayers(regtest) == [empty_layer("kept", True)]


@pytest.mark.parametrize(
    ("method", "params", "message"),
    [
        ("askrene-create-layer", {"layer": "mine"}, "Layer already exists"),
        ("askrene-create-layer", {"layer": "auto.mine"}, "Cannot create auto layer"),
        ("askrene-remove-layer", {"layer": "nope"}, "layer: Unknown layer: invalid token '\"nope\"'"),
        ("askrene-listlayers", {"layer": "nope"}, "layer: Unknown layer: invalid token '\"nope\"'"),
        ("askrene-disable-node", {"layer": "nope", "node": "02" + "11" * 32},
         "layer: Unknown layer: invalid token '\"nope\"'"),
        ("askrene-update-channel", {"layer": "mine", "short_channel_id_dir": "103x1x0"},
         "short_channel_id_dir: should be a short_channel_id_dir of form NxNxN/N: invalid token '\"103x1x0\"'"),
        ("askrene-inform-channel", {"layer": "mine", "short_channel_id_dir": "103x1x0/0", "amount_msat": 1,
                                    "inform": "maybe"},
         "inform: must be constrained/unconstrained/succeeded: invalid token '\"maybe\"'"),
        ("askrene-create-channel", {"layer": "mine", "source": "SELF", "destination": "SELF",
                                    "short_channel_id": "1x1x1", "capacity_msat": 1000},
         "source and destination must be different"),
        ("getroutes", {"layers": ["nope"]}, "layers: unknown layer: invalid token '\"nope\"'"),
        ("getroutes", {"layers": [5]}, "layers: should be a string: invalid token '5'"),
        ("getroutes", {"amount_msat": 0}, "amount must be non-zero"),
        ("getroutes", {"maxparts": 0}, "maxparts must be non-zero"),
        ("getroutes", {"destination": "SELF"}, "source and destination must be different"),
        ("getroutes", {"final_cltv": -1}, "final_cltv: should be an unsigned 32 bit integer: invalid token '-1'"),
    ],
)
def test_layer_and_getroutes_parameter_errors(regtest: RunningSim, method: str, params: dict[str, Any],
                                              message: str) -> None:
    create_layer(regtest, "mine")
    if method == "getroutes":
        params = {"source": "SELF", "destination": regtest.alias("C"), "amount_msat": 1000, "layers": [],
                  "maxfee_msat": 1000, "final_cltv": 18, **params}
    params = {key: regtest.node.our_id if value == "SELF" else value for key, value in params.items()}
    with pytest.raises(RpcError) as caught:
        regtest.rpc.call(method, params)
    assert caught.value.error == {"code": -32602, "message": message}


def test_unknown_source_and_destination(regtest: RunningSim) -> None:
    g = "0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"
    error = getroutes_error(regtest, 1000, source=g)
    assert error == {"code": 205, "message": f"Unknown source node {g}"}
    with pytest.raises(RpcError) as caught:
        regtest.rpc.call("getroutes", {"source": regtest.node.our_id, "destination": g, "amount_msat": 1000,
                                       "layers": [], "maxfee_msat": 1000, "final_cltv": 18})
    assert caught.value.error == {"code": 205, "message": f"Unknown destination node {g}"}


def test_disable_node_reroutes(regtest: RunningSim) -> None:
    create_layer(regtest, "no-b")
    assert regtest.rpc.call("askrene-disable-node", {"layer": "no-b", "node": regtest.alias("B")}) == {}
    assert listlayers(regtest, "no-b")[0]["disabled_nodes"] == [regtest.alias("B")]
    result = getroutes(regtest, 10_000_000, layers=[*LOCAL, "no-b"])
    assert parts(result) == {("103x3x0", "103x4x0"): 10_000_000}
    regtest.rpc.call("askrene-disable-node", {"layer": "no-b", "node": regtest.alias("D")})
    error = getroutes_error(regtest, 10_000_000, layers=[*LOCAL, "no-b"])
    assert error == {"code": 205, "message": "We could not find a usable set of paths. 2 of 3 channels to "
                                             "destination are disabled, leaving capacity only 200000000msat "
                                             "of 900000000msat."}


def test_inform_constrained_bounds_a_channel(regtest: RunningSim) -> None:
    create_layer(regtest, "learned")
    create_layer(regtest, "only-b")
    for node in "DE":
        regtest.rpc.call("askrene-disable-node", {"layer": "only-b", "node": regtest.alias(node)})
    bc = scidd(regtest, "103x2x0", "B", "C")
    informed = regtest.rpc.call("askrene-inform-channel", {"layer": "learned", "short_channel_id_dir": bc,
                                                           "amount_msat": 5_000_000, "inform": "constrained"})
    assert_valid_response("askrene-inform-channel", informed)
    timestamp = informed["constraints"][0]["timestamp"]
    assert informed == {"constraints": [{"layer": "learned", "short_channel_id_dir": bc, "timestamp": timestamp,
                                         "maximum_msat": 4_999_999}], "impressions": []}
    assert abs(timestamp - regtest.node.now()) < 5
    layers = [*LOCAL, "learned", "only-b"]
    # Below the bound it still works, with probability 1 - 4,000,000 / 4,999,999.
    result = getroutes(regtest, 4_000_000, layers=layers)
    assert parts(result) == {("103x1x0", "103x2x0"): 4_000_000}
    assert result["probability_ppm"] == int((1 - 4_000_000 / 4_999_999) * 1e6)
    # Above it the channel is no use.
    error = getroutes_error(regtest, 6_000_000, layers=layers)
    assert error == {"code": 205, "message": "We could not find a usable set of paths. We know from learned "
                                             "that destination has maximum usable capacity 4999999msat (in 1 "
                                             "channels)."}
    # Without the only-B layer, D-C takes it.
    assert parts(getroutes(regtest, 6_000_000, layers=[*LOCAL, "learned"])) == {("103x3x0", "103x4x0"): 6_000_000}
    assert listlayers(regtest, "learned")[0]["constraints"] == [
        {"short_channel_id_dir": bc, "timestamp": timestamp, "maximum_msat": 4_999_999}]


def test_inform_unconstrained_and_succeeded(regtest: RunningSim) -> None:
    create_layer(regtest, "learned")
    bc = scidd(regtest, "103x2x0", "B", "C")
    informed = regtest.rpc.call("askrene-inform-channel", {"layer": "learned", "short_channel_id_dir": bc,
                                                           "amount_msat": 100_000_000, "inform": "unconstrained"})
    assert_valid_response("askrene-inform-channel", informed)
    assert informed["constraints"][0]["minimum_msat"] == 100_000_000
    # At least 100,000 sat is there: 100,000 sat is certain to pass, more is uniform above it.
    assert getroutes(regtest, 100_000_000, layers=[*LOCAL, "learned"])["probability_ppm"] == 1_000_000
    assert getroutes(regtest, 250_000_000, layers=[*LOCAL, "learned"])["probability_ppm"] == 500_000
    succeeded = regtest.rpc.call("askrene-inform-channel", {"layer": "learned", "short_channel_id_dir": bc,
                                                            "amount_msat": 50_000_000, "inform": "succeeded"})
    assert_valid_response("askrene-inform-channel", succeeded)
    assert succeeded["constraints"] == []
    assert succeeded["impressions"][0]["amount_msat"] == 50_000_000
    # 50,000 sat went through: now 50,000 to 350,000 sat may be left.
    assert getroutes(regtest, 200_000_000, layers=[*LOCAL, "learned"])["probability_ppm"] == 500_000
    layer = listlayers(regtest, "learned")[0]
    assert len(layer["constraints"]) == 1 and len(layer["impressions"]) == 1


def test_update_channel_fees_change_the_route(regtest: RunningSim) -> None:
    create_layer(regtest, "dear-b")
    bc = scidd(regtest, "103x2x0", "B", "C")
    assert regtest.rpc.call("askrene-update-channel", {"layer": "dear-b", "short_channel_id_dir": bc,
                                                       "fee_base_msat": 5000,
                                                       "fee_proportional_millionths": 2000}) == {}
    assert listlayers(regtest, "dear-b")[0]["channel_updates"] == [
        {"short_channel_id_dir": bc, "fee_base_msat": 5000, "fee_proportional_millionths": 2000}]
    # Cheap amounts still pick B-C on probability; once the fee budget bites, D-C.
    result = getroutes(regtest, 10_000_000, layers=[*LOCAL, "dear-b"])
    assert parts(result) == {("103x1x0", "103x2x0"): 10_000_000}
    assert result["routes"][0]["path"][1]["amount_in_msat"] == 10_000_000 + 5000 + 20_000
    assert parts(getroutes(regtest, 10_000_000, layers=[*LOCAL, "dear-b"], maxfee_msat=1000)) == {
        ("103x3x0", "103x4x0"): 10_000_000}
    regtest.rpc.call("askrene-update-channel", {"layer": "dear-b", "short_channel_id_dir": bc, "enabled": False})
    error = getroutes_error(regtest, 1000, layers=["dear-b"], maxparts=1, destination="C")
    assert "103x" not in error["message"] or error["code"] == 205
    assert parts(getroutes(regtest, 10_000_000, layers=[*LOCAL, "dear-b"])) == {("103x3x0", "103x4x0"): 10_000_000}


def test_disabled_by_layer_is_explained(regtest: RunningSim) -> None:
    create_layer(regtest, "off")
    ab = scidd(regtest, "103x1x0", "A", "B")
    regtest.rpc.call("askrene-update-channel", {"layer": "off", "short_channel_id_dir": ab, "enabled": False})
    error = getroutes_error(regtest, 1000, destination="B", layers=["off"])
    assert error == {"code": 205, "message": f"We could not find a usable set of paths. The shortest path is "
                                             f"103x1x0, but {ab} marked disabled by layer off."}


def test_created_channel(regtest: RunningSim) -> None:
    """A channel only the layer knows (say, a private one we were told of) is used once described."""
    create_layer(regtest, "shortcut")
    a, e = regtest.node.our_id, regtest.alias("E")
    assert regtest.rpc.call("askrene-create-channel", {"layer": "shortcut", "source": a, "destination": e,
                                                       "short_channel_id": "1x1x1",
                                                       "capacity_msat": "1000000sat"}) == {}
    with pytest.raises(RpcError) as caught:
        regtest.rpc.call("askrene-create-channel", {"layer": "shortcut", "source": a, "destination": e,
                                                    "short_channel_id": "1x1x1", "capacity_msat": 1000})
    assert caught.value.error == {"code": -32602, "message": "channel already exists"}
    ae = f"1x1x1/{0 if a < e else 1}"
    error = getroutes_error(regtest, 1_000_000, destination="E", layers=["shortcut"])
    assert error["code"] == 205 and "1x1x1" not in error["message"] or "has no gossip" in error["message"]
    regtest.rpc.call("askrene-update-channel", {"layer": "shortcut", "short_channel_id_dir": ae, "enabled": True,
                                                "fee_base_msat": 0, "fee_proportional_millionths": 0,
                                                "htlc_maximum_msat": 1_000_000_000, "cltv_expiry_delta": 6})
    result = getroutes(regtest, 1_000_000, destination="E", layers=["shortcut"])
    assert parts(result) == {("1x1x1",): 1_000_000}
    layer = listlayers(regtest, "shortcut")[0]
    assert layer["created_channels"] == [{"source": min(a, e), "destination": max(a, e),
                                          "short_channel_id": "1x1x1", "capacity_msat": 1_000_000_000}]


def test_deprecated_hop_fields_follow_the_node_setting(start_sim: Callable[..., RunningSim]) -> None:
    sim = start_sim("regtest", deprecated_apis=False)
    hop = getroutes(sim, 10_000_000)["routes"][0]["path"][0]
    assert set(hop) == {"short_channel_id_dir", "node_id_in", "node_id_out", "amount_in_msat", "amount_out_msat",
                        "cltv_in", "cltv_out"}


def test_getroutes_is_only_on_current_nodes(start_sim: Callable[..., RunningSim]) -> None:
    sim = start_sim("regtest", generation="legacy")
    with pytest.raises(RpcError) as caught:
        sim.rpc.call("getroutes", {})
    assert caught.value.error["code"] == -32601
