"""getroutes as CLN's askrene plugin computes it (plugins/askrene/, v26.06), over the simulated gossip.

The pieces, each named after the CLN function it follows:

- the query graph (``do_getroutes``): gossip plus the requested layers in order, ``auto.localchans`` (our channels
  with their real spendable and receivable as certain bounds), ``auto.sourcefree`` (no fee or delay on the
  source's channels), and with ``maxparts`` 1 the small channels (capacity below the amount) switched off;
- liquidity bounds per channel direction (``get_constraints``): unknown channels are uniformly distributed over
  [0, capacity] (capacity rounded down to a 16-bit float of sats, as askrene caches it); layers' constraints and
  impressions narrow that, and parts already chosen are subtracted;
- ``linear_routes``: repeatedly solve for what is left to deliver, refine (htlc limits, fees), then check the
  fee budget (raising ``mu``, the weight of fees against probability) and ``maxdelay`` (raising the price of
  delay); amounts up to 1000 sat, or ``maxparts`` 1, use the single-path solver;
- ``minflow``: a min-cost flow in units of amount/1000 over channels split into four linear pieces of rising
  cost (the -log probability of a uniform liquidity, linearised at 50%, 80% and 95% of the unknown range, plus
  the fee). askrene runs a cost-scaling solver over the whole graph; we run successive shortest paths with
  potentials, each searching backwards from the destination only until it reaches the source, which finds an
  optimum of the same problem while touching only the part of the graph the answer lives in;
- ``refine_flows``, ``squash_flows``, ``reduce_num_flows``, ``flows_probability`` and ``explain_failure`` with
  askrene's messages and error codes.

Known differences: the cost-scaling median (askrene compares the median fee cost with the median probability
cost over every arc of the graph) is taken over a fixed sample of at most about a thousand channel directions;
biases, reservations (askrene-reserve) and the per-HTLC commitment-fee cost of our own channels are not modelled;
equal-cost ties may be broken differently.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .errors import (
    PAY_DESTINATION_INSUFFICIENT_CAPACITY,
    PAY_INSUFFICIENT_FUNDS,
    PAY_ROUTE_NOT_FOUND,
    PAY_ROUTE_TOO_EXPENSIVE,
    PAY_STOPPED_RETRYING,
    RpcFault,
)
from .graph import GraphView, Half, RoutingGraph, add_fee, local_channels, sub_fee
from .layers import INTERNAL_TIMESTAMP, ChannelUpdate, Layer, LayerStore
from .params import U64_MAX, fmt_msat

if TYPE_CHECKING:
    from .node import SimNode

MU_MAX = 100
SINGLE_PATH_THRESHOLD = 1_000_000
"""Amounts up to 1000 sat always take one path (mcf.c)."""
CHANNEL_PIVOTS = (0.0, 0.5, 0.8, 0.95)
CAP_FRACTION = (0.0, *(CHANNEL_PIVOTS[i] - CHANNEL_PIVOTS[i - 1] for i in range(1, 4)))
"""Share of the unknown liquidity range in each linear piece after the first (certain) one."""
COST_FRACTION = (
    0.0,
    *(math.log((1 - CHANNEL_PIVOTS[i - 1]) / (1 - CHANNEL_PIVOTS[i])) / CAP_FRACTION[i] for i in range(1, 4)),
)
"""Slope of -log(probability) over each piece, per unit of the range."""
MAX_ITERATIONS = 400
"""Stands in for askrene's 10 s deadline: linear_routes gives up after this many solver rounds."""
NO_USABLE_PATHS = "We could not find a usable set of paths."


@dataclass
class GetroutesRequest:
    source: str
    destination: str
    amount_msat: int
    layers: list[str]
    maxfee_msat: int
    final_cltv: int
    maxdelay: int
    maxparts: int


@dataclass
class Flow:
    """An amount delivered along a path of channel directions (half ids); fees are added on top going back."""

    path: list[int]
    delivers: int


def ceil_div(a: int, b: int) -> int:
    return -(-a // b)


# ------------------------------------------------------------------------------------------------------------
# The query: graph view, layers, liquidity bounds


class SmallChannelsLayer(Layer):
    """``auto.remove_small_channels``: with maxparts 1, channels smaller than the amount are disabled."""

    def __init__(self, view: GraphView, limit_msat: int) -> None:
        super().__init__("auto.remove_small_channels")
        self.view = view
        self.limit_msat = limit_msat

    def disables_channel(self, scid: str, direction: int) -> bool:
        c = self.view.chan_idx(scid)
        return c is not None and self.view.capacity(c) < self.limit_msat


class RouteQuery:
    """route_query: everything one getroutes computation reads, plus its working reservations."""

    def __init__(self, view: GraphView, layers: list[Layer], slow_channels: set[int], small_limit: int) -> None:
        self.view = view
        self.layers = layers
        self.slow_channels = slow_channels
        """Channels whose bounds come from layers (or reservations), not the capacity cache."""
        self.small_limit = small_limit
        self.reserved: dict[int, int] = {}
        self.disabled: set[int] = set()
        """Half ids the refinement switched off (rq->disabled_chans)."""
        index = view.index
        self._capacity_fp = index.capacity_fp
        self._num_index_channels = index.num_channels

    def half(self, hid: int) -> Half:
        return self.view.half(hid)

    def enabled(self, half: Half) -> bool:
        """The direction's enabled flag once all layers are applied (small channels included)."""
        return half.enabled and not (self.small_limit and self.view.capacity(half.hid >> 1) < self.small_limit)

    def available(self, half: Half) -> bool:
        """channel_is_available: has gossip, enabled, not switched off by the refinement."""
        return half.is_set and self.enabled(half) and half.hid not in self.disabled

    def constraints(self, hid: int) -> tuple[int, int]:
        """get_constraints: (known minimum, known maximum) liquidity of a direction."""
        c = hid >> 1
        if c < self._num_index_channels and c not in self.slow_channels:
            return 0, self._capacity_fp[c]
        low, high = 0, self.view.capacity(c)
        scid, direction = self.view.scid(c), hid & 1
        for layer in self.layers:
            low, high = layer.apply_constraints(scid, direction, low, high)
        reserved = self.reserved.get(hid)
        if reserved:
            low, high = max(0, low - reserved), max(0, high - reserved)
        return low, high

    def reserve(self, hid: int, amount: int) -> None:
        self.reserved[hid] = self.reserved.get(hid, 0) + amount
        self.slow_channels.add(hid >> 1)

    def unreserve(self, hid: int, amount: int) -> None:
        left = self.reserved.get(hid, 0) - amount
        if left > 0:
            self.reserved[hid] = left
        else:
            self.reserved.pop(hid, None)


def _apply_layer(view: GraphView, layer: Layer, slow_channels: set[int]) -> None:
    """layer_add_localmods plus layer_clear_overridden_capacities."""
    index = view.index
    for node in layer.disabled_nodes:
        idx = index.node_index.get(node)
        if idx is None:
            continue
        for half in index.out_adj[idx]:
            view.update_half(index.scids[half.hid >> 1], half.hid & 1, enabled=False)
    for created in layer.created_channels.values():
        view.add_channel(created.short_channel_id, created.source, created.destination, created.capacity_msat)
    for update in layer.channel_updates.values():
        view.update_half(
            update.short_channel_id,
            update.direction,
            enabled=update.enabled,
            htlc_min=update.htlc_minimum_msat,
            htlc_max=update.htlc_maximum_msat,
            base_fee=update.fee_base_msat,
            fee_ppm=update.fee_proportional_millionths,
            delay=update.cltv_expiry_delta,
        )
    for scid in layer.intel:
        c = view.chan_idx(scid)
        if c is not None:
            slow_channels.add(c)


def localchans_layer(node: SimNode) -> Layer:
    """auto.localchans: our channels as listpeerchannels shows them, their liquidity known exactly."""
    layer = Layer("auto.localchans")
    for local in local_channels(node):
        if not layer.creates(local.short_channel_id):
            layer.create_channel(node.our_id, local.peer, local.short_channel_id, local.capacity_msat)
        layer.update_channel(
            ChannelUpdate(
                local.short_channel_id,
                local.direction,
                enabled=local.enabled,
                htlc_minimum_msat=local.htlc_minimum_msat,
                htlc_maximum_msat=local.htlc_maximum_msat,
                fee_base_msat=local.base_fee_msat,
                fee_proportional_millionths=local.fee_ppm,
                cltv_expiry_delta=local.cltv_delta,
            )
        )
        layer.add_constraint(
            local.short_channel_id,
            local.direction,
            INTERNAL_TIMESTAMP,
            local.spendable_msat,
            local.spendable_msat,
        )
    return layer


def sourcefree_layer(view: GraphView, source: str) -> Layer:
    """auto.sourcefree: the source pays itself no fee and no delay on its own channels."""
    layer = Layer("auto.sourcefree")
    idx = view.node_idx(source)
    if idx is not None:
        for half in view.out_adj(idx):
            layer.update_channel(
                ChannelUpdate(
                    view.scid(half.hid >> 1),
                    half.hid & 1,
                    fee_base_msat=0,
                    fee_proportional_millionths=0,
                    cltv_expiry_delta=0,
                )
            )
    return layer


def build_query(node: SimNode, request: GetroutesRequest, maxparts: int) -> RouteQuery:
    """do_getroutes up to the child: apply the layers in the order given."""
    view = GraphView(node.component(RoutingGraph).index())
    store = node.component(LayerStore)
    layers: list[Layer] = []
    slow: set[int] = set()
    for name in request.layers:
        layer = store.find(name)
        if layer is None:
            if name == "auto.localchans":
                layer = localchans_layer(node)
            elif name == "auto.sourcefree":
                layer = sourcefree_layer(view, request.source)
            else:  # auto.include_fees acts when routes are built; auto.no_mpp_support set maxparts
                continue
        _apply_layer(view, layer, slow)
        layers.append(layer)
    small_limit = 0
    if maxparts == 1:
        small_limit = request.amount_msat
        layers.append(SmallChannelsLayer(view, small_limit))
    return RouteQuery(view, layers, slow, small_limit)


# ------------------------------------------------------------------------------------------------------------
# Flow helpers (flow.c)


def flow_spend(rq: RouteQuery, flow: Flow) -> int:
    spend = flow.delivers
    for hid in reversed(flow.path):
        spend = add_fee(rq.half(hid), spend)
    return spend


def flow_fee(rq: RouteQuery, flow: Flow) -> int:
    return flow_spend(rq, flow) - flow.delivers


def flow_delay(rq: RouteQuery, flow: Flow) -> int:
    return sum(rq.half(hid).delay for hid in flow.path)


def edge_probability(rq: RouteQuery, hid: int, sent: int) -> float:
    low, high = rq.constraints(hid)
    if sent <= low:
        return 1.0
    if sent > high:
        return 0.0
    return 1.0 - (sent - low) / (high - low)


def flow_probability(rq: RouteQuery, flow: Flow) -> float:
    """Product over the hops of P(liquidity >= what crosses the hop), uniform between the known bounds."""
    spend = flow.delivers
    prob = 1.0
    for hid in reversed(flow.path):
        prob *= edge_probability(rq, hid, spend)
        spend = add_fee(rq.half(hid), spend)
    return prob


def flow_reservations(rq: RouteQuery, flow: Flow) -> list[tuple[int, int]]:
    """create_flow_reservations: what each hop carries (the amount leaving it)."""
    result: list[tuple[int, int]] = []
    msat = flow.delivers
    for hid in reversed(flow.path):
        result.append((hid, msat))
        msat = add_fee(rq.half(hid), msat)
    return result


def reserve_flow(rq: RouteQuery, flow: Flow) -> list[tuple[int, int]]:
    reservations = flow_reservations(rq, flow)
    for hid, amount in reservations:
        rq.reserve(hid, amount)
    return reservations


def unreserve(rq: RouteQuery, reservations: list[tuple[int, int]]) -> None:
    for hid, amount in reservations:
        rq.unreserve(hid, amount)


def flows_probability(rq: RouteQuery, flows: list[Flow]) -> float:
    """Each part's probability given the parts before it hold their share of shared channels."""
    held: list[tuple[int, int]] = []
    probability = 1.0
    for flow in flows:
        probability *= flow_probability(rq, flow)
        held += reserve_flow(rq, flow)
    unreserve(rq, held)
    return probability


# ------------------------------------------------------------------------------------------------------------
# Solvers (mcf.c)


def _median_ratio(fee_costs: list[float], prob_costs: list[float]) -> float:
    """get_median_ratio: scale probability costs to fee costs by the ratio of their medians."""
    n = len(fee_costs)
    if n == 0:
        return 1.0
    fee_costs.sort()
    prob_costs.sort()
    if prob_costs[n // 2] < 0.001:
        return 1.0
    return fee_costs[n // 2] / prob_costs[n // 2]


def _sample_halves(rq: RouteQuery) -> list[Half]:
    view = rq.view
    halves = [view.half(hid) for hid in view.index.sample]
    halves += [
        view.mods[2 * c + d]
        for c in range(view.index.num_channels, view.index.num_channels + len(view.extra_scids))
        for d in (0, 1)
    ]
    return halves


_UNKNOWN = object()


class LinearNetwork:
    """The linearised channels of one minflow call (init_linear_network), computed as the search reaches them."""

    def __init__(self, rq: RouteQuery, amount: int, mu: int, delay_feefactor: float) -> None:
        self.rq = rq
        self.amount = amount
        self.accuracy = max(1, ceil_div(amount, 1000))
        self.pay_units = ceil_div(amount, self.accuracy)
        self.amount_ratio = amount / self.accuracy
        self.base_fee_penalty = 10_000_000 / amount
        self.delay_feefactor = delay_feefactor
        self.mu = mu
        self._arcs: dict[int, tuple[list[int], list[int]] | None] = {}
        fee_costs: list[float] = []
        prob_costs: list[float] = []
        for half in _sample_halves(rq):
            lin = self._linearize(half)
            if lin is None:
                continue
            caps, pcosts, fcost = lin
            for part in range(4):
                if caps[part] > 0:
                    fee_costs.append(fcost)
                    prob_costs.append(pcosts[part])
        self.k = _median_ratio(fee_costs, prob_costs)

    def _linearize(self, half: Half) -> tuple[list[int], list[float], int] | None:
        rq = self.rq
        if not rq.available(half) or self.amount < half.htlc_min_fp or half.src == half.dst:
            return None
        low, high = rq.constraints(half.hid)
        low = min(low, high)
        acc = self.accuracy
        a = low // acc
        b = 1 + high // acc
        cap_on = min(half.htlc_max_fp // acc, self.pay_units)
        caps = [min(a, cap_on), 0, 0, 0]
        cap_on -= caps[0]
        pcosts = [0.0, 0.0, 0.0, 0.0]
        for part in range(1, 4):
            caps[part] = min(int(CAP_FRACTION[part] * (b - a)), cap_on)
            cap_on -= caps[part]
            pcosts[part] = COST_FRACTION[part] * 1000 * self.amount_ratio / (b - a)
        fcost = int(half.fee_ppm + half.base_fee * self.base_fee_penalty + half.delay * self.delay_feefactor)
        return caps, pcosts, fcost

    def arcs(self, half: Half) -> tuple[list[int], list[int]] | None:
        """(capacity, combined integer cost) of the four pieces of this direction, or None when unusable."""
        cached = self._arcs.get(half.hid, _UNKNOWN)
        if cached is not _UNKNOWN:
            return cached  # type: ignore[return-value]
        lin = self._linearize(half)
        result: tuple[list[int], list[int]] | None = None
        if lin is not None:
            caps, pcosts, fcost = lin
            if caps[0] or caps[1] or caps[2] or caps[3]:
                mu, k = self.mu, self.k
                costs = [int(fcost * mu + (MU_MAX - mu) * p * k) for p in pcosts]
                result = (caps, costs)
        self._arcs[half.hid] = result
        return result


def minflow(
    rq: RouteQuery, source: int, target: int, amount: int, mu: int, delay_feefactor: float
) -> list[Flow] | None:
    """Min-cost flow of ``amount`` by successive shortest paths on the residual linearised network.

    Each round is a Dijkstra on reduced costs (Johnson potentials) run backwards from the target over the
    residual arcs, and stopped once the source is settled: askrene's source is normally our own node, a few
    zero-cost hops from the hubs, so the search covers only what lies closer to the target than the hubs do.
    It is goal-directed too: every path out of the source pays at least ``m``, its cheapest residual arc. Nodes
    it never settled keep their potential, settled ones move by their distance, which keeps every reduced
    cost non-negative for the next round and the arcs of the path just found tight.
    """
    net = LinearNetwork(rq, amount, mu, delay_feefactor)
    arcs_of = net.arcs
    view = rq.view
    in_adj, touched, view_in = view.index.in_adj, view.touched, view.in_adj
    flow: dict[int, list[int]] = {}
    flowed_from: dict[int, list[Half]] = {}
    potential: dict[int, int] = {}
    pot = potential.get
    sent = 0
    push, pop = heapq.heappush, heapq.heappop
    from_source = view.out_adj(source)
    # Constants of the inlined cost of untouched channels (must match LinearNetwork.arcs exactly).
    accuracy, pay_units = net.accuracy, net.pay_units
    capacity_fp, num_index_channels = view.index.capacity_fp, view.index.num_channels
    slow, disabled = rq.slow_channels, rq.disabled
    mu_rest, k = MU_MAX - mu, net.k
    base_fee_penalty = net.base_fee_penalty
    prob_weight = COST_FRACTION[1] * 1000 * net.amount_ratio
    if rq.small_limit:
        num_index_channels = 0  # every channel takes the general path
    while sent < pay_units:
        # The cheapest residual arc out of the source, in reduced cost.
        p_source = pot(source, 0)
        m = -1
        for half in from_source:
            arcs = arcs_of(half)
            if arcs is None:
                continue
            part = _first_open(arcs[0], flow.get(half.hid))
            if part < 4:
                rc = arcs[1][part] - p_source + pot(half.dst, 0)
                if m < 0 or rc < m:
                    m = rc
        for half in view.in_adj(source):
            used = flow.get(half.hid)
            part = -1 if used is None else _last_used(used)
            if part >= 0:
                rc = -arcs_of(half)[1][part] - p_source + pot(half.src, 0)  # type: ignore[index]
                if m < 0 or rc < m:
                    m = rc
        if m < 0:
            return None
        dist: dict[int, int] = {target: 0}
        nxt: dict[int, tuple[Half, int, int]] = {}
        settled: list[tuple[int, int]] = []
        done: set[int] = set()
        heap: list[tuple[int, int, int]] = [(0, 0, target)]
        seq = 1
        found = False
        while heap:
            _, _, v = pop(heap)
            if v in done:
                continue
            done.add(v)
            if v == source:
                found = True
                break
            d = dist[v]
            settled.append((v, d))
            pv = pot(v, 0)
            # Residual arcs u -> v: channel directions into v with room ...
            for half in view_in(v) if v in touched else in_adj[v]:
                u, _, base, ppm, delay, _, _, hmin_fp, hmax_fp, enabled, hid, is_set = half
                if u in done:
                    continue
                c = hid >> 1
                used = flow.get(hid)
                if used is None and c < num_index_channels and c not in slow and hid not in disabled:
                    # Unknown liquidity, no flow yet: the first piece (half the range) is the open one.
                    if not enabled or not is_set or amount < hmin_fp or u == v:
                        continue
                    room = hmax_fp // accuracy
                    if room > pay_units:
                        room = pay_units
                    units = 1 + capacity_fp[c] // accuracy
                    if int(0.5 * units) <= 0 or room <= 0:
                        continue
                    part = 1
                    cost = int(
                        int(ppm + base * base_fee_penalty + delay * delay_feefactor) * mu
                        + mu_rest * (prob_weight / units) * k
                    )
                else:
                    arcs = arcs_of(half)
                    if arcs is None:
                        continue
                    caps, costs = arcs
                    part = _first_open(caps, used)
                    if part == 4:
                        continue
                    cost = costs[part]
                nd = d + cost - pot(u, 0) + pv
                if nd < dist.get(u, nd + 1):
                    dist[u] = nd
                    nxt[u] = (half, part, 1)
                    push(heap, (nd - m if u == source else nd, seq, u))
                    seq += 1
            # ... and flow leaving v, which can be sent back (u is where that flow went).
            for half in flowed_from.get(v, ()):
                u = half.dst
                if u in done:
                    continue
                part = _last_used(flow[half.hid])
                if part < 0:
                    continue
                nd = d - arcs_of(half)[1][part] - pot(u, 0) + pv  # type: ignore[index]
                if nd < dist.get(u, nd + 1):
                    dist[u] = nd
                    nxt[u] = (half, part, -1)
                    push(heap, (nd - m if u == source else nd, seq, u))
                    seq += 1
        if not found:
            return None
        limit = dist[source] - m
        for v, d in settled:
            potential[v] = pot(v, 0) - limit + d
        potential[source] = p_source + m
        # Augment along the path found, by what its tightest piece has left.
        steps: list[tuple[Half, int, int]] = []
        cur = source
        while cur != target:
            step = nxt[cur]
            steps.append(step)
            cur = step[0].dst if step[2] == 1 else step[0].src
        delta = pay_units - sent
        for half, part, sign in steps:
            used = flow.get(half.hid) or [0, 0, 0, 0]
            room = arcs_of(half)[0][part] - used[part] if sign == 1 else used[part]  # type: ignore[index]
            delta = min(delta, room)
        for half, part, sign in steps:
            used = flow.get(half.hid)
            if used is None:
                used = flow[half.hid] = [0, 0, 0, 0]
                flowed_from.setdefault(half.src, []).append(half)
            used[part] += delta * sign
        sent += delta
    return _decompose(net, flow, source, target)


def _first_open(caps: list[int], used: list[int] | None) -> int:
    """The cheapest piece with room left (4 when full)."""
    part = 0
    if used is None:
        while part < 4 and caps[part] == 0:
            part += 1
    else:
        while part < 4 and caps[part] - used[part] <= 0:
            part += 1
    return part


def _last_used(used: list[int]) -> int:
    """The dearest piece carrying flow (-1 when none): undoing it saves the most."""
    part = 3
    while part >= 0 and used[part] == 0:
        part -= 1
    return part


def _decompose(net: LinearNetwork, flow: dict[int, list[int]], source: int, target: int) -> list[Flow]:
    """get_flow_paths: split the per-channel flow into paths from source to target (cancelling any cycle)."""
    rq = net.rq
    remaining: dict[int, int] = {hid: sum(parts) for hid, parts in flow.items() if sum(parts) > 0}
    out_of: dict[int, list[Half]] = {}
    for hid in remaining:
        half = rq.half(hid)
        out_of.setdefault(half.src, []).append(half)
    balance = net.pay_units
    flows: list[Flow] = []
    while balance > 0:
        path: list[Half] = []
        position: dict[int, int] = {source: 0}
        cur = source
        while cur != target:
            step = next((h for h in out_of.get(cur, ()) if remaining[h.hid] > 0), None)
            if step is None:  # should not happen: flow is conserved
                return flows
            path.append(step)
            cur = step.dst
            if cur in position:  # a cycle: cancel it and walk again
                cycle = path[position[cur] :]
                delta = min(remaining[h.hid] for h in cycle)
                for h in cycle:
                    remaining[h.hid] -= delta
                del path[position[cur] :]
                for h in cycle:
                    position.pop(h.dst, None)
                position[cur] = len(path)
                continue
            position[cur] = len(path)
        delta = min(balance, *(remaining[h.hid] for h in path))
        for h in path:
            remaining[h.hid] -= delta
        balance -= delta
        flows.append(Flow([h.hid for h in path], delta * net.accuracy))
    return flows


def single_path_flow(
    rq: RouteQuery, source: int, target: int, amount: int, mu: int, delay_feefactor: float
) -> list[Flow] | None:
    """single_path_flow: the one path minimising fee (with delay) against -log probability for the whole amount."""

    def arc(half: Half) -> tuple[int, float] | None:
        if not rq.available(half) or half.src == half.dst:
            return None
        if amount < half.htlc_min_fp or amount > half.htlc_max_fp:
            return None
        low, high = rq.constraints(half.hid)
        low = min(low, high)
        high += 1
        if amount >= high:
            return None
        prob = 1.0 if amount <= low else (high - amount) / (high - low)
        fcost = int(half.base_fee + amount * half.fee_ppm // 1_000_000 + delay_feefactor * half.delay)
        return fcost, -math.log(prob)

    fee_costs: list[float] = []
    prob_costs: list[float] = []
    for half in _sample_halves(rq):
        costs = arc(half)
        if costs is not None:
            fee_costs.append(costs[0])
            prob_costs.append(costs[1])
    k = _median_ratio(fee_costs, prob_costs)
    view = rq.view
    in_adj, touched, view_in = view.index.in_adj, view.touched, view.in_adj
    cache: dict[int, int | None] = {}

    def cost_of(half: Half) -> int | None:
        cost = cache.get(half.hid, -1)
        if cost == -1:
            costs = arc(half)
            cost = None if costs is None else int(costs[0] * mu + (MU_MAX - mu) * costs[1] * k)
            cache[half.hid] = cost
        return cost

    capacity_fp, num_index_channels = view.index.capacity_fp, view.index.num_channels
    slow, disabled, mu_rest = rq.slow_channels, rq.disabled, MU_MAX - mu
    small_limit, capacity = rq.small_limit, view.index.capacity
    # Backwards from the target, goal-directed as in minflow: leaving the source costs at least m.
    leaving = [c for c in (cost_of(h) for h in view.out_adj(source)) if c is not None]
    if not leaving:
        return None
    m = min(leaving)
    dist: dict[int, int] = {target: 0}
    nxt: dict[int, Half] = {}
    done: set[int] = set()
    heap: list[tuple[int, int, int]] = [(0, 0, target)]
    seq = 1
    push, pop = heapq.heappush, heapq.heappop
    while heap:
        _, _, v = pop(heap)
        if v in done:
            continue
        done.add(v)
        if v == source:
            break
        d = dist[v]
        for half in view_in(v) if v in touched else in_adj[v]:
            u, _, base, ppm, delay, _, _, hmin_fp, hmax_fp, enabled, hid, is_set = half
            if u in done:
                continue
            c = hid >> 1
            if c < num_index_channels and c not in slow and hid not in disabled:
                # Unknown liquidity (uniform on [0, capacity]): inlined arc() and cost_of().
                if not enabled or not is_set or u == v or amount < hmin_fp or amount > hmax_fp:
                    continue
                if small_limit and capacity[c] < small_limit:
                    continue
                high = capacity_fp[c] + 1
                if amount >= high:
                    continue
                cost = int(
                    int(base + amount * ppm // 1_000_000 + delay_feefactor * delay) * mu
                    + mu_rest * -math.log((high - amount) / high) * k
                )
            else:
                cost = cost_of(half)
                if cost is None:
                    continue
            nd = d + cost
            if nd < dist.get(u, nd + 1):
                dist[u] = nd
                nxt[u] = half
                push(heap, (nd - m if u == source else nd, seq, u))
                seq += 1
    if source not in done:
        return None
    path: list[int] = []
    cur = source
    while cur != target:
        half = nxt[cur]
        path.append(half.hid)
        cur = half.dst
    return [Flow(path, amount)]


# ------------------------------------------------------------------------------------------------------------
# Refinement (refine.c)


def flow_max_deliverable(rq: RouteQuery, flow: Flow) -> int:
    deliver = U64_MAX
    for hid in flow.path:
        half = rq.half(hid)
        deliver = sub_fee(deliver, half)
        deliver = min(deliver, half.htlc_max, rq.constraints(hid)[1])
    return deliver


def flow_min_deliverable(rq: RouteQuery, flow: Flow) -> int:
    least_send = 1
    for hid in reversed(flow.path):
        half = rq.half(hid)
        least_send = add_fee(half, max(least_send, half.htlc_min))
    least_destination = least_send
    for hid in flow.path:
        half = rq.half(hid)
        out = sub_fee(least_destination, half)
        if add_fee(half, out) < least_destination:
            out += 1
        least_destination = out
    return least_destination


def remove_htlc_min_violation(rq: RouteQuery, flow: Flow) -> None:
    msat = flow.delivers
    for hid in reversed(flow.path):
        half = rq.half(hid)
        if msat < half.htlc_min:
            rq.disabled.add(hid)
            return
        msat = add_fee(half, msat)


def remove_bottleneck(rq: RouteQuery, flow: Flow) -> None:
    least = U64_MAX + 1
    where: int | None = None
    for hid in flow.path:
        known_max = min(rq.constraints(hid)[1], rq.half(hid).htlc_max)
        if known_max < least:
            least, where = known_max, hid
    if where is not None:
        rq.disabled.add(where)


def remove_excess(flows: list[Flow], max_deliver: int) -> None:
    if not flows:
        return
    all_deliver = sum(f.delivers for f in flows)
    excess = all_deliver - max_deliver
    if excess <= 0:
        return
    flows.sort(key=lambda f: -f.delivers)
    for i in range(len(flows) - 1, -1, -1):
        if excess < flows[i].delivers:
            break
        excess -= flows[i].delivers
        all_deliver -= flows[i].delivers
        del flows[i]
    old_excess, old_deliver = excess, all_deliver
    for flow in flows:
        remove = min(int(old_excess * (flow.delivers / old_deliver)), excess)
        excess -= remove
        flow.delivers -= remove
    flows[0].delivers -= excess


def increase_flows(rq: RouteQuery, flows: list[Flow], deliver: int, tolerance: float) -> bool:
    ceiling = [deliver if tolerance < 0 else int(f.delivers * (1.0 + tolerance)) for f in flows]
    while True:
        shortage = deliver - sum(f.delivers for f in flows)
        if shortage <= 0:
            return True
        held = [reserve_flow(rq, f) for f in flows]
        best, best_remaining = 0, 0
        for i, flow in enumerate(flows):
            unreserve(rq, held[i])
            capacity = flow_max_deliverable(rq, flow)
            held[i] = reserve_flow(rq, flow)
            capacity = min(capacity, ceiling[i])
            remaining = capacity - flow.delivers
            if remaining > best_remaining:
                best, best_remaining = i, remaining
        for reservations in held:
            unreserve(rq, reservations)
        addition = shortage if shortage < 10_000 else ceil_div(shortage, len(flows))
        if best_remaining < addition:
            return False
        flows[best].delivers += addition


def refine_flows(rq: RouteQuery, deliver: int, flows: list[Flow]) -> list[Flow]:
    i = 0
    while i < len(flows):
        flow = flows[i]
        deliverable = flow_max_deliverable(rq, flow)
        if flow.delivers == 0:
            del flows[i]
            continue
        if deliverable < 1000 or deliverable / flow.delivers < 0.2:
            remove_bottleneck(rq, flow)
            del flows[i]
            continue
        flow.delivers = min(flow.delivers, deliverable)
        i += 1
    if not flows:
        return flows
    remove_excess(flows, deliver)
    increase_flows(rq, flows, deliver, 0.02)
    i = 0
    while i < len(flows):
        if flows[i].delivers >= flow_min_deliverable(rq, flows[i]):
            i += 1
            continue
        remove_htlc_min_violation(rq, flows[i])
        del flows[i]
    flows.sort(key=lambda f: -f.delivers)
    while flows and flows[-1].delivers == 0:
        flows.pop()
    return flows


def squash_flows(rq: RouteQuery, flows: list[Flow]) -> list[Flow]:
    """Merge parts that take the same channels, in the order askrene sorts paths."""
    flows.sort(key=lambda f: [hid >> 1 for hid in f.path])
    i = 0
    while i < len(flows):
        flow = flows[i]
        key = [hid >> 1 for hid in flow.path]
        while i + 1 < len(flows) and [hid >> 1 for hid in flows[i + 1].path] == key:
            combined = flow.delivers + flows[i + 1].delivers
            if combined > flow_max_deliverable(rq, flow):
                break
            flow.delivers = combined
            del flows[i + 1]
        i += 1
    return flows


# ------------------------------------------------------------------------------------------------------------
# Failure explanations (explain_failure.c)


def _format_layer_names(layers: list[Layer]) -> str:
    if not layers:
        return "UNKNOWN"
    if len(layers) == 1:
        return layers[0].name
    text = "layers"
    for i, layer in enumerate(layers):
        prefix = " " if i == 0 else (" and " if i + 1 == len(layers) else ", ")
        text += prefix + layer.name
    return text


@dataclass
class _Stat:
    num_channels: int = 0
    capacity: int = 0

    def add(self, amount: int) -> None:
        self.num_channels += 1
        self.capacity += amount


@dataclass
class _NodeStats:
    total: _Stat = field(default_factory=_Stat)
    gossip_known: _Stat = field(default_factory=_Stat)
    max_capacity_known: _Stat = field(default_factory=_Stat)
    enabled: _Stat = field(default_factory=_Stat)
    known_usable: _Stat = field(default_factory=_Stat)


def _check_capacity(rq: RouteQuery, node: int, into: bool, amount: int, name: str) -> tuple[str, bool] | None:
    view = rq.view
    stats = _NodeStats()
    constraining: list[Layer] = []
    for out_half in view.out_adj(node):
        hid = out_half.hid ^ 1 if into else out_half.hid
        c = hid >> 1
        scid, direction = view.scid(c), hid & 1
        capacity = view.capacity(c)
        low, high = 0, capacity
        constrainer: Layer | None = None
        for layer in rq.layers:
            old = high
            low, high = layer.apply_constraints(scid, direction, low, high)
            if high != old:
                constrainer = layer
        if constrainer is not None and all(layer is not constrainer for layer in constraining):
            constraining.append(constrainer)
        stats.total.add(capacity)
        stats.max_capacity_known.add(high)
        half = view.half(hid)
        if half.is_set:
            stats.gossip_known.add(capacity)
            if rq.enabled(half):
                stats.enabled.add(capacity)
                stats.known_usable.add(high)
    if amount > stats.total.capacity:
        return (
            f"{NO_USABLE_PATHS} Total {name} capacity is only {fmt_msat(stats.total.capacity)}"
            f" (in {stats.total.num_channels} channels)."
        ), True
    if amount > stats.max_capacity_known.capacity:
        return (
            f"{NO_USABLE_PATHS} We know from {_format_layer_names(constraining)} that {name} has maximum"
            f" capacity {fmt_msat(stats.max_capacity_known.capacity)}"
            f" (in {stats.max_capacity_known.num_channels} channels)."
        ), True
    if amount > stats.gossip_known.capacity:
        return (
            f"{NO_USABLE_PATHS} Missing gossip for {name}: only known {stats.gossip_known.num_channels}"
            f"/{stats.total.num_channels} channels, leaving capacity only"
            f" {fmt_msat(stats.gossip_known.capacity)} of {fmt_msat(stats.total.capacity)}."
        ), False
    if amount > stats.enabled.capacity:
        if stats.enabled.num_channels == 0:
            return (
                f"{NO_USABLE_PATHS} All {stats.total.num_channels} channels to the {name} are disabled.",
                False,
            )
        return (
            f"{NO_USABLE_PATHS} {stats.total.num_channels - stats.enabled.num_channels} of"
            f" {stats.total.num_channels} channels to {name} are disabled, leaving capacity only"
            f" {fmt_msat(stats.enabled.capacity)} of {fmt_msat(stats.total.capacity)}."
        ), False
    if amount > stats.known_usable.capacity:
        return (
            f"{NO_USABLE_PATHS} We know from {_format_layer_names(constraining)} that {name} has maximum"
            f" usable capacity {fmt_msat(stats.known_usable.capacity)}"
            f" (in {stats.known_usable.num_channels} channels)."
        ), False
    return None


def _describe_disabled(rq: RouteQuery, half: Half) -> str:
    view = rq.view
    destination = view.node_id(half.dst)
    scid, direction = view.scid(half.hid >> 1), half.hid & 1
    for layer in reversed(rq.layers):
        if layer.disables_node(destination):
            return f"leads to node disabled by layer {layer.name}."
        if layer.disables_channel(scid, direction):
            return f"marked disabled by layer {layer.name}."
    return "marked disabled by gossip message."


def _describe_capacity(rq: RouteQuery, half: Half, amount: int) -> str:
    scid = rq.view.scid(half.hid >> 1)
    for layer in reversed(rq.layers):
        if layer.creates(scid):
            return f" (created by layer {layer.name}) isn't big enough to carry {fmt_msat(amount)}."
    return f"isn't big enough to carry {fmt_msat(amount)}."


def _why_max_constrained(rq: RouteQuery, half: Half, amount: int) -> str:
    view = rq.view
    scid, direction = view.scid(half.hid >> 1), half.hid & 1
    text = ""
    constrains: Layer | None = None
    high = amount
    for layer in rq.layers:
        _, new_high = layer.apply_constraints(scid, direction, 0, high)
        if new_high != high:
            constrains = layer
        high = new_high
    if constrains is not None:
        text = f"layer {constrains.name} says max is {fmt_msat(high)}"
    reserved = rq.reserved.get(half.hid)
    if reserved:
        text += (" and " if text else "") + f"already reserved {fmt_msat(reserved)} by command getroutes"
    return text or "is constrained"


def explain_failure(rq: RouteQuery, source: int, target: int, amount: int) -> RpcFault:
    """Why no flow at all: not enough capacity at either end, or the first obstacle on the shortest path."""
    check = _check_capacity(rq, source, False, amount, "source")
    if check is not None:
        return RpcFault(PAY_INSUFFICIENT_FUNDS if check[1] else PAY_ROUTE_NOT_FOUND, check[0])
    check = _check_capacity(rq, target, True, amount, "destination")
    if check is not None:
        return RpcFault(PAY_DESTINATION_INSUFFICIENT_CAPACITY if check[1] else PAY_ROUTE_NOT_FOUND, check[0])
    view = rq.view
    # Fewest hops over every channel, usable or not (dijkstra with always_true / route_score_one).
    best: dict[int, Half] = {}
    seen = {target}
    frontier = [target]
    while frontier and source not in seen:
        following: list[int] = []
        for cur in frontier:
            for half in view.in_adj(cur):
                if half.src not in seen:
                    seen.add(half.src)
                    best[half.src] = half
                    following.append(half.src)
        frontier = following
    if source not in best:
        return RpcFault(PAY_ROUTE_NOT_FOUND, "There is no connection between source and destination at all")
    hops: list[Half] = []
    cur = source
    while cur != target:
        hops.append(best[cur])
        cur = best[cur].dst
    path = "->".join(view.scid(h.hid >> 1) for h in hops)
    amounts = [0] * len(hops)
    rolling = amount
    for i in range(len(hops) - 1, -1, -1):
        amounts[i] = rolling
        rolling = add_fee(hops[i], rolling)
    for half, hop_amount in zip(hops, amounts, strict=True):
        capacity = view.capacity(half.hid >> 1)
        if not half.is_set:
            explanation = "has no gossip"
        elif not rq.enabled(half):
            explanation = _describe_disabled(rq, half)
        elif hop_amount > capacity:
            explanation = _describe_capacity(rq, half, hop_amount)
        elif hop_amount > rq.constraints(half.hid)[1]:
            explanation = _why_max_constrained(rq, half, hop_amount)
        elif hop_amount > half.htlc_max_fp:
            explanation = f"exceeds htlc_maximum_msat ~{fmt_msat(half.htlc_max_fp)}"
        elif hop_amount < half.htlc_min_fp:
            explanation = f"below htlc_minumum_msat ~{fmt_msat(half.htlc_min_fp)}"
        else:
            continue
        return RpcFault(
            PAY_ROUTE_NOT_FOUND,
            f"{NO_USABLE_PATHS} The shortest path is {path}, but {view.scid_dir(half.hid)} {explanation}",
        )
    return RpcFault(
        PAY_ROUTE_NOT_FOUND,
        f"Actually, I'm not sure why we didn't find the obvious route {path}: perhaps this is a bug?",
    )


# ------------------------------------------------------------------------------------------------------------
# The outer loop (linear_routes) and the answer


def linear_routes(
    rq: RouteQuery, source: int, target: int, request: GetroutesRequest, maxparts: int, single_path: bool
) -> tuple[list[Flow], float]:
    amount_to_deliver = request.amount_msat
    feebudget = request.maxfee_msat
    mu = 1
    delay_feefactor = 1e-6
    flows: list[Flow] = []
    held: list[tuple[int, int]] = []
    iterations = 0
    try:
        while amount_to_deliver > 0:
            iterations += 1
            if iterations > MAX_ITERATIONS:
                raise RpcFault(PAY_STOPPED_RETRYING, "linear_routes: timed out after deadline")
            if single_path or amount_to_deliver <= SINGLE_PATH_THRESHOLD:
                new_flows = single_path_flow(rq, source, target, amount_to_deliver, mu, delay_feefactor)
            else:
                new_flows = minflow(rq, source, target, amount_to_deliver, mu, delay_feefactor)
            if new_flows is None:
                raise explain_failure(rq, source, target, amount_to_deliver)
            new_flows = refine_flows(rq, amount_to_deliver, new_flows)
            all_deliver = sum(f.delivers for f in new_flows)
            if all_deliver == 0:
                continue
            all_fees = sum(flow_fee(rq, f) for f in new_flows)
            partial_feebudget = int(feebudget * (all_deliver / amount_to_deliver))
            if all_fees > partial_feebudget:
                if mu < MU_MAX:
                    mu = min(10 if mu == 1 else mu + 10, MU_MAX)
                    continue
                if all_fees > feebudget:
                    raise RpcFault(PAY_ROUTE_TOO_EXPENSIVE, "Could not find route without excessive cost")
            if request.final_cltv + max(flow_delay(rq, f) for f in new_flows) > request.maxdelay:
                if delay_feefactor > 10:
                    raise RpcFault(PAY_ROUTE_TOO_EXPENSIVE, "Could not find route without excessive delays")
                delay_feefactor *= 2
                continue
            all_fees = all_deliver = 0
            for flow in new_flows:
                if all(amount <= rq.constraints(hid)[1] for hid, amount in flow_reservations(rq, flow)):
                    held += reserve_flow(rq, flow)
                    flows.append(flow)
                    all_deliver += flow.delivers
                    all_fees += flow_fee(rq, flow)
            feebudget -= all_fees
            amount_to_deliver -= all_deliver
            if feebudget < 0 or amount_to_deliver < 0:
                raise RpcFault(
                    PAY_ROUTE_NOT_FOUND,
                    "linear_routes: unexpected arithmetic operation failure on amount_msat",
                )
    finally:
        unreserve(rq, held)
    flows = squash_flows(rq, flows)
    if len(flows) > maxparts:
        count = len(flows)
        flows.sort(key=lambda f: -f.delivers)
        del flows[maxparts:]
        if not increase_flows(rq, flows, request.amount_msat, -1.0):
            raise RpcFault(PAY_ROUTE_NOT_FOUND, f"Failed to reduce {count} flows down to maxparts ({maxparts})")
        fee = sum(flow_fee(rq, f) for f in flows)
        if fee > request.maxfee_msat:
            raise RpcFault(
                PAY_ROUTE_TOO_EXPENSIVE,
                f"After reducing the flows to {len(flows)} (i.e. maxparts), we had a fee of"
                f" {fmt_msat(fee)}, greater than max of {fmt_msat(request.maxfee_msat)}.",
            )
    return flows, flows_probability(rq, flows)


def routes_json(
    rq: RouteQuery,
    flows: list[Flow],
    probability: float,
    final_cltv: int,
    include_fees: bool,
    include_deprecated: bool,
) -> dict[str, Any]:
    """convert_flows_to_routes and json_add_getroutes."""
    view = rq.view
    routes: list[dict[str, Any]] = []
    for flow in flows:
        halves = [rq.half(hid) for hid in flow.path]
        n = len(halves)
        cltv_in = [0] * n
        cltv_out = [0] * n
        cltv = final_cltv
        for j in range(n - 1, -1, -1):
            cltv_out[j] = cltv
            cltv += halves[j].delay
            cltv_in[j] = cltv
        amount_in = [0] * n
        amount_out = [0] * n
        msat = flow.delivers
        if not include_fees:
            for j in range(n - 1, -1, -1):
                amount_out[j] = msat
                msat = add_fee(halves[j], msat)
                amount_in[j] = msat
        else:
            for j in range(n):
                amount_in[j] = msat
                msat = sub_fee(msat, halves[j])
                amount_out[j] = msat
        path: list[dict[str, Any]] = []
        for j, half in enumerate(halves):
            hop: dict[str, Any] = {
                "short_channel_id_dir": view.scid_dir(half.hid),
                "node_id_in": view.node_id(half.src),
                "node_id_out": view.node_id(half.dst),
                "amount_in_msat": amount_in[j],
                "amount_out_msat": amount_out[j],
                "cltv_in": cltv_in[j],
                "cltv_out": cltv_out[j],
            }
            if include_deprecated:
                hop["next_node_id"] = hop["node_id_out"]
                hop["amount_msat"] = amount_in[j]
                hop["delay"] = cltv_in[j]
            path.append(hop)
        routes.append(
            {
                "probability_ppm": int(flow_probability(rq, flow) * 1_000_000),
                "amount_msat": amount_out[-1],
                "final_cltv": cltv_out[-1],
                "path": path,
            }
        )
    return {"probability_ppm": int(probability * 1_000_000), "routes": routes}


def solve_getroutes(node: SimNode, request: GetroutesRequest, *, include_deprecated: bool) -> dict[str, Any]:
    """Everything after parameter checks: the routes, or askrene's error."""
    maxparts = 1 if "auto.no_mpp_support" in request.layers else request.maxparts
    rq = build_query(node, request, maxparts)
    source = rq.view.node_idx(request.source)
    if source is None:
        raise RpcFault(PAY_ROUTE_NOT_FOUND, f"Unknown source node {request.source}")
    target = rq.view.node_idx(request.destination)
    if target is None:
        raise RpcFault(PAY_ROUTE_NOT_FOUND, f"Unknown destination node {request.destination}")
    flows, probability = linear_routes(rq, source, target, request, maxparts, single_path=maxparts == 1)
    return routes_json(
        rq, flows, probability, request.final_cltv, "auto.include_fees" in request.layers, include_deprecated
    )
