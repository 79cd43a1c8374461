"""Route finding commands: ``getroute`` (CLN's topology plugin, deprecated in v26.06) and ``getroutes`` (askrene).

``getroute`` reproduces plugins/topology.c: our channels overlaid with their live state and zero fees
(gossmods_from_listpeerchannels), then common/dijkstra.c run from the destination back to the source, scoring
each channel with its fee plus a risk premium (riskfactor percent a year over the CLTV delay), and the route's
amounts and delays filled in backwards from the destination (common/route.c). ``fuzzpercent`` is accepted and
ignored, as in CLN. Ties (equal score) go to the neighbour reached first, in channel order.

``getroutes`` parses and checks its parameters here and leaves the solving to :mod:`lnconsole.sim.askrene`.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from typing import Any

from .askrene import GetroutesRequest, solve_getroutes
from .errors import PAY_ROUTE_NOT_FOUND, PAY_USER_ERROR, RpcFault, invalid_params
from .graph import GraphView, Half, RoutingGraph, add_fee, local_channels
from .layers import AUTO_LAYERS, LayerStore
from .params import Param, bad_param, integer, is_node_id, msat, node_id, split_scid_dir, token_text, u32
from .registry import CallContext, rpc_command

ROUTING_MAX_HOPS = 20
BLOCKS_PER_YEAR = 52596
"""365.25 * 24 * 60 / 10, as common/dijkstra.c prices risk."""
SCORE_LIMIT = 1 << 64
MAXDELAY_ALLOWED = 2016


# ------------------------------------------------------------------------------------------------------------
# Parameter parsers with CLN's wording


def millionths(name: str, value: Any) -> int:
    """param_millionths: a non-negative decimal (``1``, ``0.5``), in millionths; exponents are refused."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise bad_param(name, value, "should be a non-negative floating-point number")
    text = value if isinstance(value, str) else token_text(value)
    whole, dot, frac = text.partition(".")
    if not (whole + frac).isdigit() or not (whole + frac).isascii() or (dot and "." in frac):
        raise bad_param(name, value, "should be a non-negative floating-point number")
    result = int(whole or "0") * 1_000_000 + int((frac[:6] or "0").ljust(6, "0"))
    if result >= 1 << 64:
        raise bad_param(name, value, "should be a non-negative floating-point number")
    return result


@dataclass(frozen=True)
class Exclusion:
    """One ``exclude`` entry: a channel direction or a node."""

    short_channel_id: str | None = None
    direction: int = 0
    node_id: str | None = None


def exclusions(name: str, value: Any) -> list[Exclusion]:
    """param_route_exclusion_array, with its two messages."""
    if not isinstance(value, list):
        text = value if isinstance(value, str) else token_text(value)
        raise invalid_params(f'Exclude array {name} ("{text}") is not an array')
    result: list[Exclusion] = []
    for entry in value:
        scidd = split_scid_dir(entry)
        if scidd is not None:
            result.append(Exclusion(short_channel_id=scidd[0], direction=scidd[1]))
        elif is_node_id(entry):
            result.append(Exclusion(node_id=entry.lower()))
        else:
            raise bad_param("exclude", entry, "should be short_channel_id_dir or node_id")
    return result


# ------------------------------------------------------------------------------------------------------------
# getroute


def getroute_view(ctx: CallContext) -> GraphView:
    """The gossip graph with our channels as listpeerchannels sees them, our own fees and delay zeroed."""
    node = ctx.node
    view = GraphView(node.component(RoutingGraph).index())
    for local in local_channels(node):
        view.add_channel(local.short_channel_id, node.our_id, local.peer, local.capacity_msat)
        view.update_half(
            local.short_channel_id,
            local.direction,
            enabled=local.enabled,
            htlc_min=local.htlc_minimum_msat,
            htlc_max=min(local.htlc_maximum_msat, local.spendable_msat),
            base_fee=0 if local.outgoing else local.base_fee_msat,
            fee_ppm=0 if local.outgoing else local.fee_ppm,
            delay=0 if local.outgoing else local.cltv_delta,
        )
    return view


@dataclass
class DijkstraResult:
    """Per-node best channel towards the destination (common/dijkstra.c's side array, sparse)."""

    best: dict[int, Half]
    reached: set[int]


def cln_dijkstra(
    view: GraphView,
    destination: int,
    source: int,
    amount_msat: int,
    riskfactor: int,
    *,
    shorter: bool,
    excluded_halves: frozenset[int] = frozenset(),
    excluded_nodes: frozenset[int] = frozenset(),
) -> DijkstraResult:
    """common/dijkstra.c from ``destination``, stopping once ``source`` is settled.

    Score per channel: ``(fee + risk) << 32 | 1`` (route_score_cheaper) or ``(fee + risk) + 2**32``
    (route_score_shorter), fee + risk capped at 2**32 - 1. The amount grows by each channel's fee going back.
    """
    in_adj, touched, view_in = view.index.in_adj, view.touched, view.in_adj
    risk_per_block = riskfactor / 100.0 / BLOCKS_PER_YEAR
    score: dict[int, int] = {destination: 0}
    amount: dict[int, int] = {destination: amount_msat}
    best: dict[int, Half] = {}
    done: set[int] = set()
    heap: list[tuple[int, int, int]] = [(0, 0, destination)]
    seq = 1
    push, pop = heapq.heappush, heapq.heappop
    while heap:
        cur_score, _, cur = pop(heap)
        if cur in done:
            continue
        done.add(cur)
        if cur == source:
            break
        if cur in excluded_nodes:
            continue
        cur_amount = amount[cur]
        edges = view_in(cur) if cur in touched else in_adj[cur]
        for half in edges:
            src, _, base, ppm, delay, _, _, hmin, hmax, enabled, hid, is_set = half
            if src in done or not enabled or not is_set:
                continue
            if cur_amount and (cur_amount < hmin or cur_amount > hmax):
                continue
            if excluded_halves and hid in excluded_halves:
                continue
            fee = base + cur_amount * ppm // 1_000_000
            risk = int(cur_amount * (risk_per_block * delay))
            cost = fee + risk
            if cost > 0xFFFFFFFF:
                cost = 0xFFFFFFFF
            new_score = cur_score + (cost + (1 << 32) if shorter else (cost << 32) + 1)
            if new_score >= SCORE_LIMIT or new_score >= score.get(src, SCORE_LIMIT):
                continue
            score[src] = new_score
            amount[src] = cur_amount + fee
            best[src] = half
            push(heap, (new_score, seq, src))
            seq += 1
    return DijkstraResult(best, done)


@dataclass
class GetrouteHop:
    """One entry of getroute's ``route`` (what the node at the end of the hop must receive, and when)."""

    node_id: str
    short_channel_id: str
    direction: int
    amount_msat: int
    delay: int

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.node_id,
            "channel": self.short_channel_id,
            "direction": self.direction,
            "amount_msat": self.amount_msat,
            "delay": self.delay,
            "style": "tlv",
        }


def route_from_dijkstra(
    view: GraphView, result: DijkstraResult, source: int, amount_msat: int, final_cltv: int
) -> list[GetrouteHop]:
    """common/route.c: follow the best channels from ``source``, then fill amounts and delays in backwards.

    Each hop carries what the node at its end must receive; the fee added going back is that of the *next*
    channel (the one the node forwards over), so the first channel's own fee never appears.
    """
    halves: list[Half] = []
    cur = source
    while cur in result.best:
        half = result.best[cur]
        halves.append(half)
        cur = half.dst
    hops: list[GetrouteHop] = []
    amount, cltv = amount_msat, final_cltv
    for half in reversed(halves):
        hops.append(GetrouteHop(view.node_id(half.dst), view.scid(half.hid >> 1), half.hid & 1, amount, cltv))
        amount = add_fee(half, amount)
        cltv += half.delay
    hops.reverse()
    return hops


@rpc_command(
    "getroute",
    [
        Param("id", node_id, required=True),
        Param("amount_msat", msat, required=True),
        Param("riskfactor", millionths, required=True),
        Param("cltv", integer, default=9),
        Param("fromid", node_id),
        Param("fuzzpercent", millionths),
        Param("exclude", exclusions),
        Param("maxhops", integer, default=ROUTING_MAX_HOPS),
    ],
    deprecated=True,
)
def getroute(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    """plugins/topology.c json_getroute."""
    view = getroute_view(ctx)
    source_id = params["fromid"] or ctx.node.our_id
    destination_id = params["id"]
    source = view.node_idx(source_id)
    if source is None:
        raise invalid_params(f"{source_id}: unknown source node_id (no public channels?)")
    destination = view.node_idx(destination_id)
    if destination is None:
        raise invalid_params(f"{destination_id}: unknown destination node_id (no public channels?)")
    excluded_halves: set[int] = set()
    excluded_nodes: set[int] = set()
    for entry in params["exclude"] or ():
        if entry.node_id is not None:
            idx = view.node_idx(entry.node_id)
            if idx is not None:
                excluded_nodes.add(idx)
        else:
            c = view.chan_idx(entry.short_channel_id)
            if c is not None:
                excluded_halves.add(2 * c + entry.direction)
    # param_millionths / 1e6, then truncated to the u32 common/dijkstra.c prices risk with.
    riskfactor = min(int(params["riskfactor"] / 1_000_000), 0xFFFFFFFF)
    amount, cltv, max_hops = params["amount_msat"], params["cltv"], params["maxhops"]

    def search(shorter: bool) -> list[GetrouteHop] | None:
        result = cln_dijkstra(
            view,
            destination,
            source,
            amount,
            riskfactor,
            shorter=shorter,
            excluded_halves=frozenset(excluded_halves),
            excluded_nodes=frozenset(excluded_nodes),
        )
        if source == destination:
            return []
        if source not in result.best:
            return None
        return route_from_dijkstra(view, result, source, amount, cltv)

    route = search(shorter=False)
    if route is None:
        raise RpcFault(PAY_ROUTE_NOT_FOUND, "Could not find a route")
    if len(route) > max_hops:
        route = search(shorter=True) or []
        if len(route) > max_hops:
            raise RpcFault(PAY_ROUTE_NOT_FOUND, f"Shortest route was {len(route)}")
    return {"route": [hop.to_json() for hop in route]}


# ------------------------------------------------------------------------------------------------------------
# getroutes


def layer_names(name: str, value: Any) -> list[str]:
    """param_layer_names without the existence check (that needs the node: done in the handler)."""
    if not isinstance(value, list):
        raise bad_param(name, value, "should be an array")
    for entry in value:
        if not isinstance(entry, str):
            raise bad_param(name, entry, "should be a string")
    return list(value)


@rpc_command(
    "getroutes",
    [
        Param("source", node_id, required=True),
        Param("destination", node_id, required=True),
        Param("amount_msat", msat, required=True),
        Param("layers", layer_names, required=True),
        Param("maxfee_msat", msat, required=True),
        Param("final_cltv", u32, required=True),
        Param("maxdelay", u32, default=MAXDELAY_ALLOWED),
        Param("maxparts", u32, default=100),
    ],
    generation="current",
)
def getroutes(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    """plugins/askrene/askrene.c json_getroutes: checks, then the solver."""
    store = ctx.node.component(LayerStore)
    layers: list[str] = params["layers"]
    for name in layers:
        if name in AUTO_LAYERS:
            continue
        if name == "auto.no_mpp_support" and ctx.connection.deprecated_apis:
            continue
        if store.find(name) is None:
            raise bad_param("layers", name, "unknown layer")
    if params["amount_msat"] == 0:
        raise invalid_params("amount must be non-zero")
    if params["maxparts"] == 0:
        raise invalid_params("maxparts must be non-zero")
    if params["maxdelay"] > MAXDELAY_ALLOWED:
        raise RpcFault(PAY_USER_ERROR, f"maximum delay allowed is {MAXDELAY_ALLOWED}")
    if params["source"] == params["destination"]:
        raise invalid_params("source and destination must be different")
    request = GetroutesRequest(
        source=params["source"],
        destination=params["destination"],
        amount_msat=params["amount_msat"],
        layers=layers,
        maxfee_msat=params["maxfee_msat"],
        final_cltv=params["final_cltv"],
        maxdelay=params["maxdelay"],
        maxparts=params["maxparts"],
    )
    # askrene decides its deprecated output fields plugin-wide (notification_deprecated_out_ok), so the node's
    # setting counts here, not this connection's ``deprecations``.
    return solve_getroutes(ctx.node, request, include_deprecated=ctx.node.config.deprecated_apis)
