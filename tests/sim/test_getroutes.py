"""getroutes (askrene) and the askrene layer commands on the transcripts' regtest network.

A (us) reaches C over A-B-C (B-C: 400,000 sat), A-D-C (D-C: 300,000 sat) and A-B-E-C (E-C: 200,000 sat); every
channel charges 1 msat + 10 ppm with a CLTV delta of 6. Liquidity not ours is unknown to askrene: uniform between
0 and the capacity, so a part of x msat over a channel of c msat succeeds with probability 1 - x/c.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable
from typing import Any

import pytest
from pyln.client import RpcError

from lnconsole.sim.graph import RoutingGraph
from lnconsole.sim.network import HalfChannel, Network, Node
from lnconsole.sim.node import SimConfig, SimNode
from lnconsole.sim.registry import COMMANDS
from tests.conftest import RunningSim
from tests.schema import assert_valid_response
from tests.sim.helpers import MAINNET_SNAPSHOT, direction

LOCAL = ["auto.localchans", "auto.sourcefree"]


def scidd(sim: RunningSim, scid: str, src: str, dst: str) -> str:
    return f"{scid}/{direction(sim, src, dst)}"


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
        "routes": [
            {
                "probability_ppm": 975000,
                "amount_msat": 10_000_000,
                "final_cltv": 18,
                "path": [
                    {
                        "short_channel_id_dir": scidd(regtest, "103x1x0", "A", "B"),
                        "node_id_in": a,
                        "node_id_out": b,
                        "amount_in_msat": 10_000_101,
                        "amount_out_msat": 10_000_101,
                        "cltv_in": 24,
                        "cltv_out": 24,
                        "next_node_id": b,
                        "amount_msat": 10_000_101,
                        "delay": 24,
                    },
                    {
                        "short_channel_id_dir": scidd(regtest, "103x2x0", "B", "C"),
                        "node_id_in": b,
                        "node_id_out": c,
                        "amount_in_msat": 10_000_101,
                        "amount_out_msat": 10_000_000,
                        "cltv_in": 24,
                        "cltv_out": 18,
                        "next_node_id": c,
                        "amount_msat": 10_000_101,
                        "delay": 24,
                    },
                ],
            }
        ],
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
    probabilities = [
        getroutes(regtest, amount)["probability_ppm"] for amount in (10_000_000, 100_000_000, 200_000_000, 400_000_000)
    ]
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
            assert (
                following["amount_in_msat"] - following["amount_out_msat"]
                == 1 + following["amount_out_msat"] * 10 // 1_000_000
            )


def test_maxparts(regtest: RunningSim) -> None:
    # Two parts: the third's 30,000 sat goes where most room is left (D-C).
    result = getroutes(regtest, 500_000_000, maxparts=2)
    assert parts(result) == {("103x1x0", "103x2x0"): 320_000_000, ("103x3x0", "103x4x0"): 180_000_000}
    # One part: channels smaller than the amount are switched off, which leaves nothing into C.
    error = getroutes_error(regtest, 500_000_000, maxparts=1)
    assert error == {
        "code": 205,
        "message": "We could not find a usable set of paths. All 3 channels to the destination are disabled.",
    }
    assert parts(getroutes(regtest, 250_000_000, maxparts=1)) == {("103x1x0", "103x2x0"): 250_000_000}


def test_too_much_for_every_path(regtest: RunningSim) -> None:
    error = getroutes_error(regtest, 900_000_000)
    assert error == {
        "code": 205,
        "message": (
            "We could not find a usable set of paths. The shortest path is 103x1x0->103x2x0, but "
            f"{scidd(regtest, '103x2x0', 'B', 'C')} isn't big enough to carry 900000000msat."
        ),
    }
    error = getroutes_error(regtest, 900_000_001)
    assert error == {
        "code": 220,
        "message": "We could not find a usable set of paths. Total destination "
        "capacity is only 900000000msat (in 3 channels).",
    }


def test_maxfee_and_maxdelay(regtest: RunningSim) -> None:
    # B charges 101 msat to forward 10,000 sat, and there is no cheaper way.
    assert parts(getroutes(regtest, 10_000_000, maxfee_msat=101)) == {("103x1x0", "103x2x0"): 10_000_000}
    assert getroutes_error(regtest, 10_000_000, maxfee_msat=100) == {
        "code": 206,
        "message": "Could not find route without excessive cost",
    }
    # 18 blocks for C plus B's 6: a maxdelay of 24 fits, 23 does not.
    assert parts(getroutes(regtest, 10_000_000, maxdelay=24)) == {("103x1x0", "103x2x0"): 10_000_000}
    assert getroutes_error(regtest, 10_000_000, maxdelay=23) == {
        "code": 206,
        "message": "Could not find route without excessive delays",
    }
    assert getroutes_error(regtest, 10_000_000, maxdelay=2017) == {
        "code": 217,
        "message": "maximum delay allowed is 2016",
    }


def test_localchans_uses_our_real_spendable(regtest: RunningSim) -> None:
    """A-B can send 5,000 sat and A-D 6,000: 10,000 sat must be split between them."""
    for scid, peer, spendable in (("103x1x0", "B", 5_000_000), ("103x3x0", "D", 6_000_000)):
        direction = 0 if regtest.alias("A") < regtest.alias(peer) else 1
        regtest.rpc.call(
            "dev-sim-channel", {"short_channel_id": scid, "direction": direction, "spendable_msat": spendable}
        )
    result = getroutes(regtest, 10_000_000)
    first_hops = {
        route["path"][0]["short_channel_id_dir"][:7]: route["path"][0]["amount_in_msat"] for route in result["routes"]
    }
    assert set(first_hops) == {"103x1x0", "103x3x0"}
    assert first_hops["103x1x0"] <= 5_000_000
    assert first_hops["103x3x0"] <= 6_000_000
    # Gossip alone does not know: without auto.localchans one path over A-B looks fine.
    assert parts(getroutes(regtest, 10_000_000, layers=["auto.sourcefree"])) == {("103x1x0", "103x2x0"): 10_000_000}
    assert getroutes_error(regtest, 12_000_000) == {
        "code": 215,
        "message": (
            "We could not find a usable set of paths. We know from auto.localchans that source has maximum "
            "capacity 11000000msat (in 2 channels)."
        ),
    }


def test_disabled_and_offline(regtest: RunningSim) -> None:
    regtest.rpc.call(
        "dev-sim-channel",
        {"short_channel_id": "103x2x0", "active": False, "direction": int(scidd(regtest, "103x2x0", "B", "C")[-1])},
    )
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
    return {
        "layer": name,
        "persistent": persistent,
        "disabled_nodes": [],
        "created_channels": [],
        "channel_updates": [],
        "constraints": [],
        "impressions": [],
        "biases": [],
        "node_biases": [],
    }


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
        ("askrene-disable-node", {"layer": "nope", "node": "SELF"}, "layer: Unknown layer: invalid token '\"nope\"'"),
        (
            "askrene-update-channel",
            {"layer": "mine", "short_channel_id_dir": "103x1x0"},
            "short_channel_id_dir: should be a short_channel_id_dir of form NxNxN/N: invalid token '\"103x1x0\"'",
        ),
        (
            "askrene-inform-channel",
            {"layer": "mine", "short_channel_id_dir": "103x1x0/0", "amount_msat": 1, "inform": "maybe"},
            "inform: must be constrained/unconstrained/succeeded: invalid token '\"maybe\"'",
        ),
        (
            "askrene-create-channel",
            {
                "layer": "mine",
                "source": "SELF",
                "destination": "SELF",
                "short_channel_id": "1x1x1",
                "capacity_msat": 1000,
            },
            "source and destination must be different",
        ),
        ("getroutes", {"layers": ["nope"]}, "layers: unknown layer: invalid token '\"nope\"'"),
        ("getroutes", {"layers": [5]}, "layers: should be a string: invalid token '5'"),
        ("getroutes", {"amount_msat": 0}, "amount must be non-zero"),
        ("getroutes", {"maxparts": 0}, "maxparts must be non-zero"),
        ("getroutes", {"destination": "SELF"}, "source and destination must be different"),
        ("getroutes", {"final_cltv": -1}, "final_cltv: should be an unsigned 32 bit integer: invalid token '-1'"),
    ],
)
def test_layer_and_getroutes_parameter_errors(
    regtest: RunningSim, method: str, params: dict[str, Any], message: str
) -> None:
    create_layer(regtest, "mine")
    if method == "getroutes":
        params = {
            "source": "SELF",
            "destination": regtest.alias("C"),
            "amount_msat": 1000,
            "layers": [],
            "maxfee_msat": 1000,
            "final_cltv": 18,
            **params,
        }
    params = {key: regtest.node.our_id if value == "SELF" else value for key, value in params.items()}
    with pytest.raises(RpcError) as caught:
        regtest.rpc.call(method, params)
    assert caught.value.error == {"code": -32602, "message": message}


def test_unknown_source_and_destination(regtest: RunningSim) -> None:
    g = "0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"
    error = getroutes_error(regtest, 1000, source=g)
    assert error == {"code": 205, "message": f"Unknown source node {g}"}
    with pytest.raises(RpcError) as caught:
        regtest.rpc.call(
            "getroutes",
            {
                "source": regtest.node.our_id,
                "destination": g,
                "amount_msat": 1000,
                "layers": [],
                "maxfee_msat": 1000,
                "final_cltv": 18,
            },
        )
    assert caught.value.error == {"code": 205, "message": f"Unknown destination node {g}"}


def test_disable_node_reroutes(regtest: RunningSim) -> None:
    create_layer(regtest, "no-b")
    assert regtest.rpc.call("askrene-disable-node", {"layer": "no-b", "node": regtest.alias("B")}) == {}
    assert listlayers(regtest, "no-b")[0]["disabled_nodes"] == [regtest.alias("B")]
    result = getroutes(regtest, 10_000_000, layers=[*LOCAL, "no-b"])
    assert parts(result) == {("103x3x0", "103x4x0"): 10_000_000}
    regtest.rpc.call("askrene-disable-node", {"layer": "no-b", "node": regtest.alias("D")})
    # Disabling a node switches off the channels leaving it, so E-C stays enabled and the explanation walks
    # the shortest path, as askrene's does: B->C is off, though not by a channel update of the layer.
    error = getroutes_error(regtest, 10_000_000, layers=[*LOCAL, "no-b"])
    assert error == {
        "code": 205,
        "message": "We could not find a usable set of paths. The shortest path is "
        f"103x1x0->103x2x0, but {scidd(regtest, '103x2x0', 'B', 'C')} "
        "marked disabled by gossip message.",
    }


def test_inform_constrained_bounds_a_channel(regtest: RunningSim) -> None:
    create_layer(regtest, "learned")
    create_layer(regtest, "only-b")
    for node in "DE":
        regtest.rpc.call("askrene-disable-node", {"layer": "only-b", "node": regtest.alias(node)})
    bc = scidd(regtest, "103x2x0", "B", "C")
    informed = regtest.rpc.call(
        "askrene-inform-channel",
        {"layer": "learned", "short_channel_id_dir": bc, "amount_msat": 5_000_000, "inform": "constrained"},
    )
    assert_valid_response("askrene-inform-channel", informed)
    timestamp = informed["constraints"][0]["timestamp"]
    assert informed == {
        "constraints": [
            {"layer": "learned", "short_channel_id_dir": bc, "timestamp": timestamp, "maximum_msat": 4_999_999}
        ],
        "impressions": [],
    }
    assert abs(timestamp - regtest.node.now()) < 5
    layers = [*LOCAL, "learned", "only-b"]
    # Below the bound it still works, with probability 1 - 4,000,000 / 4,999,999.
    result = getroutes(regtest, 4_000_000, layers=layers)
    assert parts(result) == {("103x1x0", "103x2x0"): 4_000_000}
    assert result["probability_ppm"] == int((1 - 4_000_000 / 4_999_999) * 1e6)
    # Above it the channel is no use.
    error = getroutes_error(regtest, 6_000_000, layers=layers)
    assert error == {
        "code": 205,
        "message": "We could not find a usable set of paths. We know from learned "
        "that destination has maximum usable capacity 4999999msat (in 1 "
        "channels).",
    }
    # Without the only-B layer, D-C takes it.
    assert parts(getroutes(regtest, 6_000_000, layers=[*LOCAL, "learned"])) == {("103x3x0", "103x4x0"): 6_000_000}
    assert listlayers(regtest, "learned")[0]["constraints"] == [
        {"short_channel_id_dir": bc, "timestamp": timestamp, "maximum_msat": 4_999_999}
    ]


def test_inform_unconstrained_and_succeeded(regtest: RunningSim) -> None:
    create_layer(regtest, "learned")
    bc = scidd(regtest, "103x2x0", "B", "C")
    informed = regtest.rpc.call(
        "askrene-inform-channel",
        {"layer": "learned", "short_channel_id_dir": bc, "amount_msat": 100_000_000, "inform": "unconstrained"},
    )
    assert_valid_response("askrene-inform-channel", informed)
    assert informed["constraints"][0]["minimum_msat"] == 100_000_000
    # At least 100,000 sat is there: 100,000 sat is certain to pass, more is uniform above it.
    assert getroutes(regtest, 100_000_000, layers=[*LOCAL, "learned"])["probability_ppm"] == 1_000_000
    assert getroutes(regtest, 250_000_000, layers=[*LOCAL, "learned"])["probability_ppm"] == 500_000
    succeeded = regtest.rpc.call(
        "askrene-inform-channel",
        {"layer": "learned", "short_channel_id_dir": bc, "amount_msat": 50_000_000, "inform": "succeeded"},
    )
    assert_valid_response("askrene-inform-channel", succeeded)
    assert succeeded["constraints"] == []
    assert succeeded["impressions"][0]["amount_msat"] == 50_000_000
    # 50,000 sat went through: now 50,000 to 350,000 sat may be left.
    assert getroutes(regtest, 200_000_000, layers=[*LOCAL, "learned"])["probability_ppm"] == 500_000
    layer = listlayers(regtest, "learned")[0]
    assert len(layer["constraints"]) == 1 and len(layer["impressions"]) == 1


def test_update_channel_fees_change_the_route(regtest: RunningSim) -> None:
    create_layer(regtest, "dear-b")
    create_layer(regtest, "no-d")
    regtest.rpc.call("askrene-disable-node", {"layer": "no-d", "node": regtest.alias("D")})
    bc = scidd(regtest, "103x2x0", "B", "C")
    assert parts(getroutes(regtest, 10_000_000)) == {("103x1x0", "103x2x0"): 10_000_000}
    assert (
        regtest.rpc.call(
            "askrene-update-channel",
            {"layer": "dear-b", "short_channel_id_dir": bc, "fee_base_msat": 5000, "fee_proportional_millionths": 2000},
        )
        == {}
    )
    assert listlayers(regtest, "dear-b")[0]["channel_updates"] == [
        {"short_channel_id_dir": bc, "fee_base_msat": 5000, "fee_proportional_millionths": 2000}
    ]
    assert parts(getroutes(regtest, 10_000_000, layers=[*LOCAL, "dear-b"])) == {("103x3x0", "103x4x0"): 10_000_000}
    # Without D, the cheap way round B-C is through E.
    result = getroutes(regtest, 10_000_000, layers=[*LOCAL, "dear-b", "no-d"])
    assert parts(result) == {("103x1x0", "103x5x0", "103x6x0"): 10_000_000}
    assert [hop["amount_in_msat"] for hop in result["routes"][0]["path"]] == [10_000_202, 10_000_202, 10_000_101]
    # 2005 blocks for C leave room for 11 more: the route through E (12) is too late. askrene raises the
    # price of delay until the short, dear B-C wins.
    result = getroutes(regtest, 10_000_000, layers=[*LOCAL, "dear-b", "no-d"], final_cltv=2005)
    assert parts(result) == {("103x1x0", "103x2x0"): 10_000_000}
    assert result["routes"][0]["path"][1]["amount_in_msat"] == 10_000_000 + 5000 + 20_000
    assert result["routes"][0]["path"][0]["cltv_in"] == 2011
    # A later update of the same direction adds to it (enabled: false), keeping the fees.
    regtest.rpc.call("askrene-update-channel", {"layer": "dear-b", "short_channel_id_dir": bc, "enabled": False})
    assert listlayers(regtest, "dear-b")[0]["channel_updates"] == [
        {"short_channel_id_dir": bc, "enabled": False, "fee_base_msat": 5000, "fee_proportional_millionths": 2000}
    ]


def test_disabled_by_layer_is_explained(regtest: RunningSim) -> None:
    """A->B and D->C off: no way to B, and the shortest path (direct) says why."""
    create_layer(regtest, "off")
    ab, dc = scidd(regtest, "103x1x0", "A", "B"), scidd(regtest, "103x4x0", "D", "C")
    for channel in (ab, dc):
        regtest.rpc.call("askrene-update-channel", {"layer": "off", "short_channel_id_dir": channel, "enabled": False})
    error = getroutes_error(regtest, 1000, destination="B", layers=["off"])
    assert error == {
        "code": 205,
        "message": f"We could not find a usable set of paths. The shortest path is "
        f"103x1x0, but {ab} marked disabled by layer off.",
    }


def test_created_channel(regtest: RunningSim) -> None:
    """A channel only the layer knows (say, a private one we were told of) is used once described."""
    create_layer(regtest, "shortcut")
    a, e = regtest.node.our_id, regtest.alias("E")
    assert (
        regtest.rpc.call(
            "askrene-create-channel",
            {
                "layer": "shortcut",
                "source": a,
                "destination": e,
                "short_channel_id": "1x1x1",
                "capacity_msat": "1000000sat",
            },
        )
        == {}
    )
    with pytest.raises(RpcError) as caught:
        regtest.rpc.call(
            "askrene-create-channel",
            {"layer": "shortcut", "source": a, "destination": e, "short_channel_id": "1x1x1", "capacity_msat": 1000},
        )
    assert caught.value.error == {"code": -32602, "message": "channel already exists"}
    ae = f"1x1x1/{0 if a < e else 1}"
    # Created but never described by an update: no gossip for it, so it is not used.
    assert parts(getroutes(regtest, 1_000_000, destination="E", layers=["shortcut"])) == {
        ("103x1x0", "103x5x0"): 1_000_000
    }
    regtest.rpc.call(
        "askrene-update-channel",
        {
            "layer": "shortcut",
            "short_channel_id_dir": ae,
            "enabled": True,
            "fee_base_msat": 0,
            "fee_proportional_millionths": 0,
            "htlc_maximum_msat": 1_000_000_000,
            "cltv_expiry_delta": 6,
        },
    )
    result = getroutes(regtest, 1_000_000, destination="E", layers=["shortcut"])
    assert parts(result) == {("1x1x1",): 1_000_000}
    layer = listlayers(regtest, "shortcut")[0]
    assert layer["created_channels"] == [
        {"source": min(a, e), "destination": max(a, e), "short_channel_id": "1x1x1", "capacity_msat": 1_000_000_000}
    ]


def test_deprecated_hop_fields_follow_the_node_setting(start_sim: Callable[..., RunningSim]) -> None:
    sim = start_sim("regtest", deprecated_apis=False)
    hop = getroutes(sim, 10_000_000)["routes"][0]["path"][0]
    assert set(hop) == {
        "short_channel_id_dir",
        "node_id_in",
        "node_id_out",
        "amount_in_msat",
        "amount_out_msat",
        "cltv_in",
        "cltv_out",
    }


def test_getroutes_is_only_on_current_nodes(start_sim: Callable[..., RunningSim]) -> None:
    """askrene came with v24.11: a legacy node answers none of its commands."""
    current_only = sorted(name for name, command in COMMANDS.items() if command.generation == "current")
    assert current_only == sorted(["getroutes", *(name for name in COMMANDS if name.startswith("askrene-"))])
    sim = start_sim("regtest", generation="legacy")
    for method in current_only:
        with pytest.raises(RpcError) as caught:
            sim.rpc.call(method, {})
        assert caught.value.error == {"code": -32601, "message": f"Unknown command '{method}'"}


# ---------------------------------------------------------------------------------------------------------------
# CLN's own askrene tests (tests/test_askrene.py), on the same made-up graphs: the same routes and numbers.

Half = dict[str, Any]


@pytest.fixture
def gen_network(
    serve_sim: Callable[[SimNode], RunningSim],
) -> Callable[..., tuple[RunningSim, dict[int, str]]]:
    """Like CLN's generate_gossip_store: channels (node1, node2, capacity sat, forward half, reverse half).

    A half defaults to CLN's GenChannel.Half: enabled, htlc_min 0, htlc_max = capacity, base fee 0, 1 ppm,
    delay 6. Channel ``i`` is ``ixixi``; the nodes are numbered as in the test and we are none of them.
    """
    built = 0

    def build(channels: list[tuple[int, int, int, Half, Half]]) -> tuple[RunningSim, dict[int, str]]:
        nonlocal built
        number, built = built, built + 1
        network = Network()
        nodes: dict[int, str] = {}

        def node(i: int) -> str:
            if i not in nodes:
                nodes[i] = network.add_node(Node.from_seed(f"gen:{number}:{i}".encode(), f"n{i}")).node_id
            return nodes[i]

        def half(capacity_sat: int, spec: Half) -> HalfChannel:
            return HalfChannel(
                base_fee_msat=spec.get("basefee", 0),
                fee_ppm=spec.get("propfee", 1),
                cltv_delta=spec.get("delay", 6),
                htlc_minimum_msat=spec.get("htlc_min", 0),
                htlc_maximum_msat=spec.get("htlc_max", capacity_sat * 1000),
                enabled=spec.get("enabled", True),
            )

        for i, (a, b, capacity_sat, forward, reverse) in enumerate(channels):
            network.add_channel(
                f"{i}x{i}x{i}",
                node(a),
                node(b),
                capacity_sat * 1000,
                a_balance_msat=0,
                a_policy=half(capacity_sat, forward),
                b_policy=half(capacity_sat, reverse),
            )
        us = network.add_node(Node.from_seed(f"gen:{number}:us".encode(), "us"))
        return serve_sim(SimNode(network, us.node_id, SimConfig(hop_delay_ms=0))), nodes

    return build


def route_summary(
    sim: RunningSim, nodes: dict[int, str], source: int, destination: int, amount_msat: int, **params: Any
) -> list[tuple[int, list[tuple[str, int, int, int, int]]]]:
    """(amount, [(channel, amount_in, amount_out, cltv_in, cltv_out)]) per route, checked against the schema."""
    params.setdefault("layers", [])
    params.setdefault("final_cltv", 99)
    result = sim.rpc.call(
        "getroutes", {"source": nodes[source], "destination": nodes[destination], "amount_msat": amount_msat, **params}
    )
    assert_valid_response("getroutes", result)
    assert result["probability_ppm"] <= 1_000_000
    assert sum(route["amount_msat"] for route in result["routes"]) == amount_msat
    return [
        (
            route["amount_msat"],
            [
                (
                    hop["short_channel_id_dir"].split("/")[0],
                    hop["amount_in_msat"],
                    hop["amount_out_msat"],
                    hop["cltv_in"],
                    hop["cltv_out"],
                )
                for hop in route["path"]
            ],
        )
        for route in result["routes"]
    ]


TEST_GETROUTES_GRAPH = [
    (0, 1, 1_000_000, {"propfee": 10_000}, {}),
    (0, 2, 9_000, {}, {}),
    (1, 3, 1_000_000, {"propfee": 20_000}, {}),
    (0, 2, 10_000, {}, {}),
    (2, 4, 1_000_000, {"delay": 2000}, {}),
]


def test_askrene_test_getroutes(gen_network: Callable[..., tuple[RunningSim, dict[int, str]]]) -> None:
    sim, n = gen_network(TEST_GETROUTES_GRAPH)

    def error(destination: int, amount: int, **params: Any) -> dict[str, Any]:
        with pytest.raises(RpcError) as caught:
            route_summary(sim, n, 0, destination, amount, **params)
        return caught.value.error  # type: ignore[no-any-return]

    assert error(1, 1_000_000_001, maxfee_msat=100_000_000) == {
        "code": 205,
        "message": (
            "We could not find a usable set of paths. The shortest path is 0x0x0, but "
            f"0x0x0/{0 if n[0] < n[1] else 1} isn't big enough to carry 1000000001msat."
        ),
    }
    assert error(1, 2_000_000_001, maxfee_msat=20_000_000) == {
        "code": 215,
        "message": (
            "We could not find a usable set of paths. Total source capacity is only 1019000000msat (in 3 channels)."
        ),
    }
    assert error(4, 1_000_000_001, maxfee_msat=30_000_000) == {
        "code": 220,
        "message": (
            "We could not find a usable set of paths. Total destination capacity is only 1000000000msat (in 1 "
            "channels)."
        ),
    }
    result = sim.rpc.call(
        "getroutes",
        {"source": n[0], "destination": n[1], "amount_msat": 1000, "layers": [], "maxfee_msat": 1000, "final_cltv": 99},
    )
    assert result["probability_ppm"] == 999_999
    assert route_summary(sim, n, 0, 1, 1000, maxfee_msat=1000) == [(1000, [("0x0x0", 1010, 1000, 105, 99)])]
    result = sim.rpc.call(
        "getroutes",
        {
            "source": n[0],
            "destination": n[3],
            "amount_msat": 100_000,
            "layers": [],
            "maxfee_msat": 5000,
            "final_cltv": 99,
        },
    )
    assert result["probability_ppm"] == 999_798
    assert route_summary(sim, n, 0, 3, 100_000, maxfee_msat=5000) == [
        (100_000, [("0x0x0", 103_020, 102_000, 111, 105), ("2x2x2", 102_000, 100_000, 105, 99)])
    ]
    assert error(3, 100_000, maxfee_msat=100) == {"code": 206, "message": "Could not find route without excessive cost"}
    route_summary(sim, n, 0, 4, 100_000, maxfee_msat=100, final_cltv=6)
    assert error(4, 100_000, maxfee_msat=100) == {
        "code": 206,
        "message": "Could not find route without excessive delays",
    }
    # Two choices, but for <= 1000 sats askrene takes the larger channel...
    result = sim.rpc.call(
        "getroutes",
        {
            "source": n[0],
            "destination": n[2],
            "amount_msat": 1_000_000,
            "layers": [],
            "maxfee_msat": 5000,
            "final_cltv": 99,
        },
    )
    assert result["probability_ppm"] == 900_000
    assert route_summary(sim, n, 0, 2, 1_000_000, maxfee_msat=5000) == [
        (1_000_000, [("3x3x3", 1_000_001, 1_000_000, 105, 99)])
    ]
    # ... and for 10,000 sats it splits 45/55 between the 9,000 and 10,000 sat channels.
    assert sorted(route_summary(sim, n, 0, 2, 10_000_000, maxfee_msat=5000, maxparts=50)) == [
        (4_500_000, [("1x1x1", 4_500_004, 4_500_000, 105, 99)]),
        (5_500_000, [("3x3x3", 5_500_005, 5_500_000, 105, 99)]),
    ]


def test_askrene_test_getroutes_auto_sourcefree(gen_network: Callable[..., tuple[RunningSim, dict[int, str]]]) -> None:
    sim, n = gen_network(TEST_GETROUTES_GRAPH)
    assert route_summary(sim, n, 0, 1, 1000, maxfee_msat=1000, layers=["auto.sourcefree"]) == [
        (1000, [("0x0x0", 1000, 1000, 99, 99)])
    ]
    assert route_summary(sim, n, 0, 3, 100_000, maxfee_msat=5000, layers=["auto.sourcefree"]) == [
        (100_000, [("0x0x0", 102_000, 102_000, 105, 105), ("2x2x2", 102_000, 100_000, 105, 99)])
    ]


def test_askrene_test_getroutes_single_path(gen_network: Callable[..., tuple[RunningSim, dict[int, str]]]) -> None:
    sim, n = gen_network([(0, 1, 1_000_000, {}, {}), (1, 2, 9_000, {}, {}), (1, 2, 10_000, {}, {})])
    for source in (1, 0):
        with pytest.raises(RpcError) as caught:
            route_summary(sim, n, source, 2, 10_000_001, maxfee_msat=1000, maxparts=1)
        assert caught.value.error["code"] == 205  # CLN's test: "FIXME: the explanation for the failure is wrong"
    assert route_summary(sim, n, 1, 2, 10_000_000, maxfee_msat=1000, maxparts=1) == [
        (10_000_000, [("2x2x2", 10_000_010, 10_000_000, 105, 99)])
    ]
    assert route_summary(sim, n, 0, 2, 10_000_000, maxfee_msat=1000, maxparts=1) == [
        (10_000_000, [("0x0x0", 10_000_020, 10_000_010, 111, 105), ("2x2x2", 10_000_010, 10_000_000, 105, 99)])
    ]


def test_askrene_test_getroutes_fee_fallback(gen_network: Callable[..., tuple[RunningSim, dict[int, str]]]) -> None:
    off = {"enabled": False}
    sim, n = gen_network(
        [
            (0, 1, 20_000, {"propfee": 10_000}, off),
            (0, 2, 10_000, {}, off),
            (1, 3, 20_000, {"propfee": 10_000}, off),
            (2, 3, 10_000, {}, off),
        ]
    )
    # Within the budget the likelier (bigger) path; over it, the cheap one.
    assert [channel for channel, *_ in route_summary(sim, n, 0, 3, 10_000, maxfee_msat=201)[0][1]] == ["0x0x0", "2x2x2"]
    assert [channel for channel, *_ in route_summary(sim, n, 0, 3, 10_000, maxfee_msat=200)[0][1]] == ["1x1x1", "3x3x3"]


def test_askrene_test_getroutes_maxdelay(gen_network: Callable[..., tuple[RunningSim, dict[int, str]]]) -> None:
    sim, n = gen_network(
        [
            (0, 1, 1_000_000, {"propfee": 10_000, "delay": 80}, {}),
            (0, 1, 1_000_000, {"propfee": 20_000, "delay": 40}, {}),
        ]
    )
    assert route_summary(sim, n, 0, 1, 1000, maxfee_msat=1000) == [(1000, [("0x0x0", 1010, 1000, 179, 99)])]
    assert route_summary(sim, n, 0, 1, 1000, maxfee_msat=2000, maxdelay=170) == [
        (1000, [("1x1x1", 1020, 1000, 139, 99)])
    ]


# ---------------------------------------------------------------------------------------------------------------
# The mainnet graph: answers stay consistent (and quick) at 17,000 nodes.


def test_mainnet_routes_are_consistent(start_sim: Callable[..., RunningSim]) -> None:
    sim = start_sim("mainnet", graph=MAINNET_SNAPSHOT, seed=3)
    index = sim.node.component(RoutingGraph).index()
    rng = random.Random(3)
    candidates = [i for i in range(index.num_nodes) if any(h.enabled for h in index.in_adj[i])]
    found = 0
    for query in range(12):
        destination = index.node_ids[rng.choice(candidates)]
        if destination == sim.node.our_id:
            continue
        amount = (1_000_000, 20_000_000, 200_000_000)[query % 3]
        try:
            result = sim.rpc.call(
                "getroutes",
                {
                    "source": sim.node.our_id,
                    "destination": destination,
                    "amount_msat": amount,
                    "layers": LOCAL,
                    "maxfee_msat": amount // 50 + 5000,
                    "final_cltv": 18,
                },
            )
        except RpcError as error:
            assert error.error["code"] in (205, 206, 215, 220)
            continue
        found += 1
        assert_valid_response("getroutes", result)
        assert sum(route["amount_msat"] for route in result["routes"]) == amount
        fees = 0
        for route in result["routes"]:
            path = route["path"]
            assert path[0]["node_id_in"] == sim.node.our_id and path[-1]["node_id_out"] == destination
            assert path[-1]["amount_out_msat"] == route["amount_msat"] and path[-1]["cltv_out"] == 18
            for hop, following in itertools.pairwise(path):
                assert hop["node_id_out"] == following["node_id_in"]
                assert (hop["amount_out_msat"], hop["cltv_out"]) == (following["amount_in_msat"], following["cltv_in"])
            for hop in path:
                scid, direction = hop["short_channel_id_dir"].split("/")
                channel = sim.node.network.channels[scid]
                policy = channel.halves[int(direction)]
                assert channel.source(int(direction)) == hop["node_id_in"]
                assert hop["amount_out_msat"] <= policy.htlc_maximum_msat
                if hop is not path[0]:  # auto.sourcefree: our own channel costs nothing
                    assert hop["amount_in_msat"] == hop["amount_out_msat"] + policy.fee_for(hop["amount_out_msat"])
                    assert hop["cltv_in"] == hop["cltv_out"] + policy.cltv_delta
            fees += path[0]["amount_in_msat"] - route["amount_msat"]
        assert fees <= amount // 50 + 5000
        route = sim.rpc.call("getroute", {"id": destination, "amount_msat": amount, "riskfactor": 10})["route"]
        assert route[-1]["id"] == destination and route[-1]["amount_msat"] == amount
    assert found >= 6
