"""getinfo, listpeers, listpeerchannels, listchannels, listnodes and deprecations, against real lightningd.

Every answer is validated against CLN's schema and compared with what lightningd v26.06 answered on the
same regtest network (``shared/cln/transcripts/basics.json``): the same keys in the same order, the same JSON
types, and where the network is the same (capacities, policies, who is connected to whom) the same values.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from functools import cache
from typing import Any

from lnconsole.sim.network import HalfChannel, Network, Node
from lnconsole.sim.node import SimConfig, SimNode
from tests.conftest import RunningSim
from tests.schema import assert_valid_response
from tests.sim.helpers import (
    ABC,
    ADC,
    TRANSCRIPTS,
    assert_same_shape,
    build_route,
    exchange,
    make_invoice,
    recorded,
    rpc_error,
    send_part,
)


@cache
def transcript_aliases() -> dict[str, str]:
    """Real node id -> alias on the transcripts' network."""
    nodes = json.loads((TRANSCRIPTS / "network.json").read_text())["nodes"]
    return {info["id"]: alias for alias, info in nodes.items()}


# ------------------------------------------------------------------------------------------------------------
# getinfo


def test_getinfo_says_who_we_are_like_lightningd(regtest: RunningSim) -> None:
    info = regtest.rpc.getinfo()
    assert_valid_response("getinfo", info)
    assert_same_shape(info, recorded("basics", "getinfo")["result"])
    assert info["id"] == regtest.node.our_id
    assert info["alias"] == "A"
    assert info["color"] == info["id"][:6]
    assert (info["num_peers"], info["num_active_channels"], info["num_pending_channels"]) == (2, 2, 0)
    assert (info["network"], info["blockheight"]) == ("regtest", 108)
    assert info["version"] == regtest.node.config.version
    assert info["lightning-dir"].endswith("/regtest")
    assert info["our_features"] == recorded("basics", "getinfo")["result"]["our_features"]


# ------------------------------------------------------------------------------------------------------------
# listpeers


def test_listpeers_lists_our_channel_peers(regtest: RunningSim) -> None:
    peers = regtest.rpc.listpeers()
    assert_valid_response("listpeers", peers)
    assert_same_shape(peers, recorded("basics", "listpeers")["result"])
    assert [peer["id"] for peer in peers["peers"]] == [regtest.alias("B"), regtest.alias("D")]
    assert all(peer["connected"] and peer["num_channels"] == 1 for peer in peers["peers"])


def test_listpeers_filters_by_id_and_shows_logs_on_request(regtest: RunningSim) -> None:
    only_b = regtest.rpc.listpeers(regtest.alias("B"), "debug")
    assert_valid_response("listpeers", only_b)
    assert [peer["id"] for peer in only_b["peers"]] == [regtest.alias("B")]
    assert only_b["peers"][0]["log"] == []
    assert regtest.rpc.listpeers(regtest.alias("C")) == {"peers": []}


def test_listpeers_parameter_errors(regtest: RunningSim) -> None:
    assert rpc_error(lambda: regtest.rpc.listpeers("nothex")) == {
        "code": -32602,
        "message": "id: should be a node id: invalid token '\"nothex\"'",
    }
    assert rpc_error(lambda: regtest.rpc.listpeers(regtest.alias("B"), "loud")) == {
        "code": -32602,
        "message": "level: should be 'io', 'debug', 'info', or 'unusual': invalid token '\"loud\"'",
    }


# ------------------------------------------------------------------------------------------------------------
# listpeerchannels

NOT_MODELLED = frozenset({"channels[].funding.psbt"})
"""The funding PSBT lightningd keeps for channels it opened: the simulator has no funding transactions."""


def test_listpeerchannels_matches_lightningd(regtest: RunningSim) -> None:
    answer = regtest.rpc.listpeerchannels()
    assert_valid_response("listpeerchannels", answer)
    assert_same_shape(answer, recorded("basics", "listpeerchannels")["result"], absent=NOT_MODELLED)
    by_peer = {channel["peer_id"]: channel for channel in answer["channels"]}
    assert set(by_peer) == {regtest.alias("B"), regtest.alias("D")}
    ab = by_peer[regtest.alias("B")]
    real = recorded("basics", "listpeerchannels")["result"]["channels"][0]
    for key in (
        "state",
        "short_channel_id",
        "funding_outnum",
        "opener",
        "total_msat",
        "to_us_msat",
        "updates",
        "fee_base_msat",
        "fee_proportional_millionths",
        "maximum_htlc_out_msat",
        "receivable_msat",
        "private",
        "peer_connected",
        "reestablished",
        "owner",
        "features",
        "channel_type",
    ):
        assert ab[key] == real[key], key
    # No reserve is modelled: all of to_us can be spent (lightningd keeps 1% and the commitment fee back).
    assert ab["spendable_msat"] == ab["to_us_msat"] == 1_000_000_000
    assert ab["direction"] == (0 if regtest.node.our_id < regtest.alias("B") else 1)
    assert bytes.fromhex(ab["channel_id"]) == bytes.fromhex(ab["funding_txid"])[::-1]
    assert ab["close_to_addr"].startswith("bcrt1p")


def test_listpeerchannels_filters(regtest: RunningSim) -> None:
    b = regtest.alias("B")
    by_id = regtest.rpc.listpeerchannels(b)
    assert_valid_response("listpeerchannels", by_id)
    assert [channel["short_channel_id"] for channel in by_id["channels"]] == ["103x1x0"]
    by_scid = regtest.rpc.listpeerchannels(short_channel_id="103x3x0")
    assert [channel["peer_id"] for channel in by_scid["channels"]] == [regtest.alias("D")]
    by_cid = regtest.rpc.listpeerchannels(channel_id=by_id["channels"][0]["channel_id"])
    assert [channel["short_channel_id"] for channel in by_cid["channels"]] == ["103x1x0"]
    # Not a peer of ours, or a channel between others: an empty list, as lightningd answers.
    assert regtest.rpc.listpeerchannels(regtest.alias("C")) == recorded("basics", "listpeerchannels", 2)["result"]
    assert regtest.rpc.listpeerchannels(short_channel_id="103x2x0") == {"channels": []}


def test_listpeerchannels_parameter_errors(regtest: RunningSim) -> None:
    assert rpc_error(lambda: regtest.rpc.listpeerchannels(regtest.alias("B"), "103x1x0")) == {
        "code": -32602,
        "message": "Must not specify more than one of short_channel_id, channel_id or id",
    }
    assert rpc_error(lambda: regtest.rpc.listpeerchannels(channel_id="abcd")) == {
        "code": -32602,
        "message": "channel_id: should be a channel id: invalid token '\"abcd\"'",
    }
    assert rpc_error(lambda: regtest.rpc.listpeerchannels(short_channel_id="103x1")) == {
        "code": -32602,
        "message": "short_channel_id: should be a short_channel_id of form NxNxN: invalid token '\"103x1\"'",
    }


def test_listpeerchannels_shows_htlcs_in_flight_and_what_they_reserve(regtest: RunningSim) -> None:
    def reserve() -> None:
        channel = regtest.node.network.channels["103x1x0"]
        channel.halves[channel.direction_from(regtest.node.our_id)].inflight_msat = 250_000_000

    regtest.on_loop(reserve)
    channel = regtest.rpc.listpeerchannels(short_channel_id="103x1x0")["channels"][0]
    assert_valid_response("listpeerchannels", {"channels": [channel]})
    assert channel["to_us_msat"] == 1_000_000_000
    assert channel["spendable_msat"] == 750_000_000


def test_listpeerchannels_lists_the_htlcs_our_payments_hold_and_counts_them(
    start_sim: Callable[..., RunningSim],
) -> None:
    """Parts the payee holds (an incomplete MPP set) keep their HTLC on our channel: ``htlcs`` shows each, as
    json_add_htlcs writes an outgoing one; once settled it is gone and counted as offered and fulfilled."""
    sim = start_sim("regtest", hop_delay_ms=0, mpp_timeout_s=30)
    invoice = make_invoice(sim, "C", 100_000_000)

    first = build_route(sim, *ABC, 60_000_000)[0]
    dust = build_route(sim, *ABC, 100_000)[0]  # under the 546 sat dust limit: trimmed from the commitment
    send_part(sim, invoice, *ABC, 60_000_000, 1, 1, 100_000_000)
    send_part(sim, invoice, *ABC, 100_000, 2, 1, 100_000_000)
    answer = sim.rpc.listpeerchannels(short_channel_id="103x1x0")
    assert_valid_response("listpeerchannels", answer)
    assert answer["channels"][0]["htlcs"] == [
        {
            "direction": "out",
            "id": 0,
            "amount_msat": first["amount_msat"],
            "expiry": sim.node.blockheight + 1 + first["delay"],
            "payment_hash": invoice.payment_hash,
            "state": "SENT_ADD_ACK_REVOCATION",
        },
        {
            "direction": "out",
            "id": 1,
            "amount_msat": dust["amount_msat"],
            "expiry": sim.node.blockheight + 1 + dust["delay"],
            "payment_hash": invoice.payment_hash,
            "state": "SENT_ADD_ACK_REVOCATION",
            "local_trimmed": True,
        },
    ]
    assert sim.rpc.listpeerchannels(short_channel_id="103x3x0")["channels"][0]["htlcs"] == []

    send_part(sim, invoice, *ADC, 39_900_000, 3, 1, 100_000_000)  # the rest: the set is complete and every part settles
    for partid in (1, 2, 3):
        assert sim.rpc.waitsendpay(invoice.payment_hash, partid=partid, timeout=10)["status"] == "complete"
    channel = sim.rpc.listpeerchannels(short_channel_id="103x1x0")["channels"][0]
    assert channel["htlcs"] == []
    offered = first["amount_msat"] + dust["amount_msat"]
    assert (channel["out_payments_offered"], channel["out_offered_msat"]) == (2, offered)
    assert (channel["out_payments_fulfilled"], channel["out_fulfilled_msat"]) == (2, offered)
    assert (channel["in_payments_offered"], channel["in_payments_fulfilled"]) == (0, 0)


# ------------------------------------------------------------------------------------------------------------
# listchannels


def gossip_facts(entries: list[dict[str, Any]], alias_of: dict[str, str]) -> set[tuple[Any, ...]]:
    """What two networks with different keys have in common: per direction, by alias."""
    return {
        (
            alias_of[entry["source"]],
            alias_of[entry["destination"]],
            entry["short_channel_id"],
            entry["amount_msat"],
            entry["public"],
            entry["active"],
            entry["base_fee_millisatoshi"],
            entry["fee_per_millionth"],
            entry["delay"],
            entry["htlc_minimum_msat"],
            entry["htlc_maximum_msat"],
            entry["message_flags"],
            entry["features"],
        )
        for entry in entries
    }


def our_aliases(sim: RunningSim) -> dict[str, str]:
    return {node.node_id: node.alias for node in sim.node.network.nodes.values()}


def test_listchannels_shows_the_same_network_as_lightningd(regtest: RunningSim) -> None:
    answer = regtest.rpc.listchannels()
    assert_valid_response("listchannels", answer)
    real = recorded("basics", "listchannels")["result"]
    assert_same_shape(answer, real)
    assert len(answer["channels"]) == 12
    assert gossip_facts(answer["channels"], our_aliases(regtest)) == gossip_facts(
        real["channels"], transcript_aliases()
    )
    for entry in answer["channels"]:
        assert entry["direction"] == (0 if entry["source"] < entry["destination"] else 1)
        assert entry["channel_flags"] == entry["direction"]


def test_listchannels_filters_by_scid_source_and_destination(regtest: RunningSim) -> None:
    ours, theirs = our_aliases(regtest), transcript_aliases()
    for index, params in (
        (1, {"short_channel_id": "103x4x0"}),
        (2, {"source": "A"}),
        (3, {"destination": "C"}),
    ):
        request = {key: regtest.alias(value) if key != "short_channel_id" else value for key, value in params.items()}
        answer = regtest.rpc.listchannels(**request)
        assert_valid_response("listchannels", answer)
        real = recorded("basics", "listchannels", index)["result"]["channels"]
        assert gossip_facts(answer["channels"], ours) == gossip_facts(real, theirs), params
    assert regtest.rpc.listchannels("999x9x9") == recorded("basics", "listchannels", 4)["result"]


def test_listchannels_parameter_errors(regtest: RunningSim) -> None:
    assert rpc_error(lambda: regtest.rpc.listchannels("nonsense")) == recorded("basics", "listchannels", 5)["error"]
    assert rpc_error(lambda: regtest.rpc.listchannels(source=regtest.alias("A"), destination=regtest.alias("C"))) == {
        "code": -32602,
        "message": "Can only specify one of `short_channel_id`, `source` or `destination`",
    }
    assert rpc_error(lambda: regtest.rpc.listchannels(source="02" + "00" * 32)) == {
        "code": -32602,
        "message": f"source: should be a node id: invalid token '\"02{'00' * 32}\"'",
    }


def test_listchannels_leaves_private_channels_out(regtest: RunningSim) -> None:
    def make_private() -> None:
        regtest.node.network.channels["103x6x0"].public = False

    regtest.on_loop(make_private)
    scids = {entry["short_channel_id"] for entry in regtest.rpc.listchannels()["channels"]}
    assert "103x6x0" not in scids and len(scids) == 5
    assert regtest.rpc.listchannels("103x6x0") == {"channels": []}
    assert all(
        e["short_channel_id"] != "103x6x0" for e in regtest.rpc.listchannels(source=regtest.alias("E"))["channels"]
    )


def big_network(channels: int, node_count: int) -> tuple[SimNode, list[str]]:
    """A mainnet-sized graph without deriving thousands of keys: ids are distinct made-up points' prefixes,
    except a few real ones the test queries."""
    network = Network()
    real = [Node.from_seed(f"big:{i}".encode(), f"real{i}") for i in range(3)]
    ids = [node.node_id for node in real] + [f"02{i:064x}" for i in range(node_count - 3)]
    for node in real:
        network.add_node(node)
    for node_id in ids[3:]:
        network.nodes[node_id] = Node(node_id, node_id[-6:], b"\x01" * 32)
    for c in range(channels):
        a, b = ids[(c * 7) % node_count], ids[(c * 13 + 1) % node_count]
        if a == b:
            b = ids[(c * 13 + 2) % node_count]
        network.add_channel(f"{600000 + c}x1x0", a, b, 1_000_000_000, a_policy=HalfChannel(), b_policy=HalfChannel())
    return SimNode(network, ids[0], SimConfig(hop_delay_ms=0)), ids[:3]


def test_filtered_listchannels_is_fast_on_a_mainnet_sized_graph(
    serve_sim: Callable[[SimNode], RunningSim],
) -> None:
    node, queried = big_network(50_000, 17_000)
    sim = serve_sim(node)
    sim.on_loop(lambda: None)  # after the server's start-up work (the routing index), which is not timed here
    start = time.perf_counter()
    for _ in range(20):
        for node_id in queried:
            assert sim.rpc.listchannels(source=node_id)["channels"]
            assert sim.rpc.listchannels(destination=node_id)["channels"]
        assert len(sim.rpc.listchannels("600123x1x0")["channels"]) == 2
        assert sim.rpc.listnodes(queried[0])["nodes"]
    elapsed = time.perf_counter() - start
    # 160 filtered queries: an index lookup each, not a scan of 100k directions (which takes ~0.1 s a query).
    assert elapsed < 3.0, f"160 filtered queries took {elapsed:.2f}s"


# ------------------------------------------------------------------------------------------------------------
# listnodes


def test_listnodes_lists_every_announced_node(regtest: RunningSim) -> None:
    answer = regtest.rpc.listnodes()
    assert_valid_response("listnodes", answer)
    real = recorded("basics", "listnodes")["result"]
    assert_same_shape(answer, real)
    assert sorted(node["alias"] for node in answer["nodes"]) == ["A", "B", "C", "D", "E"]
    for node in answer["nodes"]:
        assert node["color"] == node["nodeid"][:6]
        assert node["features"] == real["nodes"][0]["features"]
        assert node["last_timestamp"] > 0


def test_listnodes_by_id(regtest: RunningSim) -> None:
    answer = regtest.rpc.listnodes(regtest.alias("C"))
    assert_valid_response("listnodes", answer)
    assert_same_shape(answer, recorded("basics", "listnodes", 1)["result"])
    assert [node["alias"] for node in answer["nodes"]] == ["C"]
    stranger = Node.from_seed(b"nobody", "nobody").node_id
    assert regtest.rpc.listnodes(stranger) == {"nodes": []}
    assert rpc_error(lambda: regtest.rpc.listnodes("C")) == {
        "code": -32602,
        "message": "id: should be a node id: invalid token '\"C\"'",
    }


def test_listnodes_skips_nodes_without_public_channels(regtest: RunningSim) -> None:
    def hide_e() -> None:
        for channel in regtest.node.network.channels_of(regtest.alias("E")):
            channel.public = False

    regtest.on_loop(hide_e)
    assert sorted(node["alias"] for node in regtest.rpc.listnodes()["nodes"]) == ["A", "B", "C", "D"]
    assert regtest.rpc.listnodes(regtest.alias("E")) == {"nodes": []}


# ------------------------------------------------------------------------------------------------------------
# deprecations


def test_deprecations_switches_deprecated_commands_off_for_one_connection(regtest: RunningSim) -> None:
    getroute = {
        "method": "getroute",
        "params": {"id": regtest.alias("C"), "amount_msat": 1000, "riskfactor": 1},
    }
    off, refused = exchange(regtest.socket_path, [{"method": "deprecations", "params": {"enable": False}}, getroute])
    assert off["result"] == recorded("getroute", "deprecations")["result"] == {}
    assert refused["error"] == {"code": -32601, "message": 'Command "getroute" is deprecated'}
    # Another connection still has them.
    assert "route" in exchange(regtest.socket_path, [getroute])[0]["result"]
    on, answered = exchange(regtest.socket_path, [{"method": "deprecations", "params": ["true"]}, getroute])
    assert on["result"] == {} and "route" in answered["result"]
    missing = exchange(regtest.socket_path, [{"method": "deprecations", "params": {}}])[0]
    assert missing["error"] == {"code": -32602, "message": "missing required parameter: enable"}
