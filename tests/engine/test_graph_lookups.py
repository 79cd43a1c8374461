"""Asking lightningd for fewer bytes (issue 5): reply filters on listchannels and listnodes, a hub's neighbours as
channel ids only, the insert dialog's candidates, and aliases shared by every route editor on one node client.

Real lightningd answers (``shared/cln/transcripts``) go through lightningd's own filter semantics (the simulator's
port of common/json_filter.c) and must read exactly as the full answers do: a filtered answer, an old node's full
one and the simulator's all make the same GossipChannel.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from lnconsole import graph
from lnconsole.graph import Aliases, ChannelPolicies, Joining
from lnconsole.node import ENDS_FIELDS, GOSSIP_FIELDS, NODE_FIELDS, ChannelEnds, PylnNode
from lnconsole.sim.filter import apply_filter, parse_filter
from tests.conftest import RunningSim
from tests.engine.helpers import Regtest, add_private_payee
from tests.sim.helpers import recorded


class FilterRecordingNode(PylnNode):
    """Records each call with the reply filter it was made with (None: the whole answer)."""

    def __init__(self, socket_path: Any) -> None:
        super().__init__(socket_path)
        self.calls: list[tuple[str, dict[str, Any], Any]] = []

    def call(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        kept = {key: value for key, value in (params or {}).items() if value is not None}
        self.calls.append((method, kept, getattr(self._local, "filter", None)))
        return super().call(method, params)

    def listchannels_calls(self) -> list[tuple[dict[str, Any], Any]]:
        return [(params, fields) for method, params, fields in self.calls if method == "listchannels"]


class CannedNode(PylnNode):
    """Answers from a recorded lightningd answer, through the reply filter the call asked for (as lightningd)."""

    def __init__(self, answers: dict[str, dict[str, Any]], *, honours_filter: bool = True) -> None:
        super().__init__("/nonexistent")
        self.answers = answers
        self.honours_filter = honours_filter
        self.filters: list[Any] = []

    def call(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        fields = getattr(self._local, "filter", None)
        self.filters.append(fields)
        answer = copy.deepcopy(self.answers[method])
        return apply_filter(parse_filter(fields), answer) if fields is not None and self.honours_filter else answer


@pytest.mark.parametrize("index", range(4))
def test_recorded_listchannels_answers_read_the_same_filtered_or_whole(index: int) -> None:
    result = recorded("basics", "listchannels", index)["result"]
    filtered = CannedNode({"listchannels": result})
    whole = CannedNode({"listchannels": result}, honours_filter=False)
    channels = filtered.listchannels(source="02" + "00" * 32)
    assert channels == whole.listchannels(source="02" + "00" * 32) and len(channels) == len(result["channels"])
    assert filtered.filters == [GOSSIP_FIELDS]
    # Everything a GossipChannel reads is named by the filter; what it leaves out are flags, timestamps, features.
    dropped = set(result["channels"][0]) - set(GOSSIP_FIELDS["channels"][0])
    assert dropped == {"message_flags", "channel_flags", "last_update", "features"}
    ends = filtered.channel_ends(source="02" + "00" * 32)
    assert ends == whole.channel_ends(source="02" + "00" * 32)
    assert ends == [ChannelEnds(c.short_channel_id, c.direction, c.source, c.destination) for c in channels]
    assert filtered.filters[-1] == ENDS_FIELDS


def test_recorded_listnodes_answers_read_the_same_filtered_or_whole() -> None:
    result = recorded("basics", "listnodes", 0)["result"]
    filtered = CannedNode({"listnodes": result})
    assert filtered.listnodes() == CannedNode({"listnodes": result}, honours_filter=False).listnodes()
    assert [n.alias for n in filtered.listnodes()] == [n["alias"] for n in result["nodes"]]
    assert filtered.filters[0] == NODE_FIELDS


def test_channel_ends_never_lists_the_whole_graph(regtest: RunningSim) -> None:
    node = PylnNode(regtest.socket_path)
    with pytest.raises(ValueError, match="never the whole graph"):
        node.channel_ends()
    with pytest.raises(ValueError, match="never the whole graph"):
        node.channel_ends(source=regtest.alias("A"), destination=regtest.alias("B"))


def test_the_simulator_answers_the_filters_as_the_whole_answers_read(regtest: RunningSim) -> None:
    node = PylnNode(regtest.socket_path)
    b = regtest.alias("B")
    full = regtest.rpc.listchannels(source=b)["channels"]
    assert [(c.short_channel_id, c.direction, c.destination) for c in node.listchannels(source=b)] == [
        (c["short_channel_id"], c["direction"], c["destination"]) for c in full
    ]
    into = node.channel_ends(destination=b)
    assert {e.destination for e in into} == {b} and len(into) == len(
        regtest.rpc.listchannels(destination=b)["channels"]
    )


def test_channels_between_asks_the_source_for_channel_ids_then_those_channels(regtest: RunningSim) -> None:
    node = FilterRecordingNode(regtest.socket_path)
    net = Regtest(regtest, node)
    between = net.policies.channels_between(net.B, net.E)
    assert [(p.short_channel_id, p.source, p.destination) for p in between] == [("103x5x0", net.B, net.E)]
    assert between == [net.policies.policy("103x5x0", net.direction("B", "E"))]
    assert node.listchannels_calls() == [
        ({"source": net.B}, ENDS_FIELDS),
        ({"short_channel_id": "103x5x0"}, GOSSIP_FIELDS),
    ]
    # Asked again, or for another neighbour of B: the ids are cached, only the new channel is asked.
    assert net.policies.channels_between(net.B, net.E) == between
    [bc] = net.policies.channels_between(net.B, net.C)
    assert bc.short_channel_id == "103x2x0"
    assert node.listchannels_calls()[2:] == [({"short_channel_id": "103x2x0"}, GOSSIP_FIELDS)]
    # Once one end's full list is known, it answers without asking.
    net.policies.channels_into(net.E)
    calls = len(node.calls)
    assert net.policies.channels_between(net.B, net.E) == between and len(node.calls) == calls
    # Forgetting everything forgets the ids too.
    net.policies.invalidate()
    net.policies.channels_between(net.B, net.E)
    assert node.listchannels_calls()[-2] == ({"source": net.B}, ENDS_FIELDS)


def test_channels_between_agrees_with_the_full_lists_for_every_pair(regtest: RunningSim) -> None:
    net = Regtest(regtest)
    full = ChannelPolicies(net.node, net.us)
    for source in "ABCDE":
        for destination in "ABCDE":
            if source != destination:
                a, b = net.id(source), net.id(destination)
                expected = [p for p in full.channels_from(a) if p.destination == b]
                assert ChannelPolicies(net.node, net.us).channels_between(a, b) == expected, (source, destination)


def test_a_private_payees_hint_channels_are_between_its_ends(start_sim: Any) -> None:
    sim = start_sim("regtest", hop_delay_ms=0)
    payee = add_private_payee(sim, scid="110x1x0", peer="C")
    net = Regtest(sim)
    decoded = net.node.decode(net.sim.rpc.call("dev-sim-invoice", {"node": payee, "amount_msat": 1000})["bolt11"])
    [hint] = [hop for hop in decoded["routes"][0]]
    net.policies.add_hint([_Hint(hint)], payee)
    [hinted] = net.policies.channels_between(net.C, payee)
    assert (hinted.short_channel_id, hinted.origin) == ("110x1x0", "hint")


class _Hint:
    def __init__(self, hop: dict[str, Any]) -> None:
        self.node_id = hop["pubkey"]
        self.short_channel_id = hop["short_channel_id"]
        self.fee_base_msat = hop["fee_base_msat"]
        self.fee_proportional_millionths = hop["fee_proportional_millionths"]
        self.cltv_expiry_delta = hop["cltv_expiry_delta"]


def test_joining_lists_the_nodes_between_with_their_channels(regtest: RunningSim) -> None:
    node = FilterRecordingNode(regtest.socket_path)
    net = Regtest(regtest, node)
    [joined] = net.policies.joining(net.B, net.C, avoid=[net.A, net.B, net.C])
    assert joined == Joining(
        net.E, 1, (net.half("103x6x0", "E", "C"),), (net.half("103x5x0", "B", "E"),), fee_out_msat=None
    )
    asked = node.listchannels_calls()[:3]
    assert ({"source": net.B}, ENDS_FIELDS) in asked and ({"destination": net.C}, GOSSIP_FIELDS) in asked
    assert all(fields is not None for _, fields in node.listchannels_calls())
    # From us: our own channels (listpeerchannels) count, and nothing is listed twice; a limit of 0 lists none.
    joined_us = net.policies.joining(net.us, net.C, avoid=[net.us, net.C])
    assert [j.node_id for j in joined_us] == sorted([net.B, net.D])
    assert all(j.channels_in is not None and all(p.local for p in j.channels_in) for j in joined_us)
    assert net.policies.joining(net.us, net.C, avoid=[net.us, net.C], limit=0) == []


def test_joining_without_channels_in_asks_only_the_two_ends(regtest: RunningSim) -> None:
    """The insert dialog's list: the candidates' channels from the start are asked when one is named."""
    node = FilterRecordingNode(regtest.socket_path)
    net = Regtest(regtest, node)
    amount = 10_000_000
    [joined] = net.policies.joining(net.B, net.C, avoid=[net.B, net.C], amount_msat=amount, channels_in=False)
    # E forwards to C over 103x6x0 at the regtest policy, 1 msat + 10 ppm.
    assert joined == Joining(net.E, 1, (net.half("103x6x0", "E", "C"),), None, fee_out_msat=1 + amount * 10 // 10**6)
    asked = [item for params, _ in node.listchannels_calls() for item in params.items()]
    assert sorted(asked) == sorted([("source", net.B), ("destination", net.C), ("short_channel_id", "103x6x0")])
    # (103x6x0 by net.half, above; never 103x5x0, E's channel from B)
    calls = len(node.listchannels_calls())
    # Named, E's channel from B is one lookup: B's neighbours are cached, and so is C's arriving list.
    assert net.policies.channels_between(net.B, net.E) == [net.half("103x5x0", "B", "E")]
    assert net.policies.channels_between(net.E, net.C) == [net.half("103x6x0", "E", "C")]
    assert node.listchannels_calls()[calls:] == [({"short_channel_id": "103x5x0"}, GOSSIP_FIELDS)]


def test_joining_lists_the_cheapest_ways_out_first(regtest: RunningSim) -> None:
    net = Regtest(regtest)
    amount = 10_000_000

    def listed(limit: int | None = None) -> list[tuple[str, int | None]]:
        found = net.policies.joining(net.us, net.C, avoid=[net.us, net.C], limit=limit, amount_msat=amount)
        return [(j.node_id, j.fee_out_msat) for j in found]

    regtest_fee = 1 + amount * 10 // 10**6
    assert listed() == sorted([(net.B, regtest_fee), (net.D, regtest_fee)])  # a tie: by node id
    net.channel("103x2x0", "B", "C", base_fee_millisatoshi=0, fee_per_millionth=1)
    net.channel("103x4x0", "D", "C", base_fee_millisatoshi=2000, fee_per_millionth=0)
    assert listed() == [(net.B, amount // 10**6), (net.D, 2000)]
    assert listed(limit=1) == [(net.B, amount // 10**6)]
    # A way out that can't carry the amount ranks last, without a fee, whatever it would charge.
    net.channel("103x2x0", "B", "C", active=False)
    assert listed() == [(net.D, 2000), (net.B, None)]
    net.channel("103x4x0", "D", "C", htlc_maximum_msat=amount - 1)
    assert listed() == sorted([(net.B, None), (net.D, None)])


def test_aliases_are_shared_by_every_editor_on_one_node_client(regtest: RunningSim) -> None:
    node = FilterRecordingNode(regtest.socket_path)
    other = PylnNode(regtest.socket_path)
    shared = Aliases.of(node)
    assert Aliases.of(node) is shared and Aliases.of(other) is not shared
    first = ChannelPolicies(node, regtest.alias("A"), Aliases.of(node))
    assert first.alias(regtest.alias("E")) == "E"
    second = ChannelPolicies(node, regtest.alias("A"), Aliases.of(node))
    assert second.alias(regtest.alias("E")) == "E"
    assert [m for m, _, _ in node.calls].count("listnodes") == 1
    assert ChannelPolicies(node).aliases is not shared  # without it, a cache of its own as before


def test_joining_from_a_node_of_few_peers_asks_the_end_for_channel_ids_only(regtest: RunningSim) -> None:
    """From us (two peers), C's arriving channels are asked as ids, then only B's and D's channels to C."""
    node = FilterRecordingNode(regtest.socket_path)
    net = Regtest(regtest, node)
    joined = net.policies.joining(net.us, net.C, avoid=[net.us, net.C], amount_msat=10_000_000, channels_in=False)
    into_c = node.listchannels_calls()
    assert ({"destination": net.C}, ENDS_FIELDS) in into_c and ({"destination": net.C}, GOSSIP_FIELDS) not in into_c
    assert sorted(params["short_channel_id"] for params, _ in into_c if "short_channel_id" in params) == [
        "103x2x0",
        "103x4x0",
    ]
    assert [(j.node_id, j.channels_out) for j in joined] == sorted(
        [(net.B, (net.half("103x2x0", "B", "C"),)), (net.D, (net.half("103x4x0", "D", "C"),))]
    )
    # A node named later: its channel to C is found from C's ids, without asking the node for its own.
    calls = len(node.calls)
    assert net.policies.channels_between(net.E, net.C) == [net.half("103x6x0", "E", "C")]
    assert node.listchannels_calls()[len(into_c) :] == [({"short_channel_id": "103x6x0"}, GOSSIP_FIELDS)]
    assert len(node.calls) == calls + 1


@pytest.mark.parametrize("few", [0, 16])
def test_joining_answers_the_same_by_ids_or_by_the_full_list(regtest: RunningSim, few: int) -> None:
    """Every hop's candidates, whether the end's arriving channels are read in full (FEW 0) or by id (16)."""
    net = Regtest(regtest)
    full = ChannelPolicies(net.node, net.us)
    letters = "ABCDE"  # us avoided, as the route screen avoids the route's nodes (us first)
    for before in letters:
        for after in letters:
            if before == after:
                continue
            b, a = net.id(before), net.id(after)
            with pytest.MonkeyPatch.context() as patch:
                patch.setattr(graph, "FEW", 0)
                expected = full.joining(b, a, avoid=[net.us, b, a], amount_msat=5_000_000)
                patch.setattr(graph, "FEW", few)
                policies = ChannelPolicies(net.node, net.us)
                policies.neighbours(b)  # known: the ids path may be taken from any node
                got = policies.joining(b, a, avoid=[net.us, b, a], amount_msat=5_000_000)
            assert got == expected, (before, after)
            assert all(j.channels_in is not None for j in got)
            assert (a in policies._arriving) == (few > 0), (before, after)  # the path taken
