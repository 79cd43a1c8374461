"""The public graph as CLN's route finders see it (common/gossmap.c), indexed once per gossip change.

Both route finders walk the same structure: every public channel direction as a :class:`Half` record, and for each
node the directions leaving it (``out_adj``) and arriving at it (``in_adj``). Building it for the mainnet graph
takes a few hundred milliseconds, so :class:`RoutingGraph` keeps it until ``Network.gossip_version`` changes;
liquidity (which gossip does not carry) never invalidates it.

A query never changes the index: what it knows beyond gossip (our own channels' real state, askrene layers) goes
into a :class:`GraphView`, the counterpart of CLN's ``gossmap_localmods``, which patches only the few nodes it
touches so that a route search costs what the search visits.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from .network import Network
    from .node import SimNode

MEDIAN_SAMPLE = 1024
"""How many channel directions askrene's cost scaling (a median over the whole graph) is estimated from."""


def u64_to_fp16(value: int, round_up: bool) -> int:
    """CLN's 16-bit float (5-bit exponent, 11-bit mantissa) used for htlc limits and capacities (common/fp16.c)."""
    if value == 0:
        return 0
    mantissa_bits = value.bit_length()
    if mantissa_bits <= 11:
        return value
    exponent = mantissa_bits - 11
    mantissa = value >> exponent
    if round_up and value & ((1 << exponent) - 1):
        mantissa += 1
        if mantissa == 1 << 11:
            mantissa >>= 1
            exponent += 1
    if exponent >= 32:
        exponent, mantissa = 31, (1 << 11) - 1
    return (exponent << 11) | mantissa


def fp16_to_u64(value: int) -> int:
    return (value & ((1 << 11) - 1)) << (value >> 11)


def fp16_round(value: int, round_up: bool) -> int:
    """``value`` as gossmap stores it: htlc minimums round down, maximums up, capacities down."""
    return fp16_to_u64(u64_to_fp16(value, round_up))


class Half(NamedTuple):
    """One direction of a channel as the route finders see it (a gossmap ``half_chan`` plus its update)."""

    src: int
    dst: int
    base_fee: int
    fee_ppm: int
    delay: int
    htlc_min: int
    """Exact values from the channel_update (askrene's final checks use these)."""
    htlc_max: int
    htlc_min_fp: int
    """The fp16 approximations gossmap routes with (minimum rounded down, maximum up)."""
    htlc_max_fp: int
    enabled: bool
    hid: int
    """``2 * channel index + direction``."""
    is_set: bool = True
    """False for a layer-created channel direction that no update has described yet (no gossip)."""


def add_fee(half: Half, amount: int) -> int:
    """``amount_msat_add_fee``: what must come in for ``amount`` to leave over this direction."""
    return amount + half.base_fee + amount * half.fee_ppm // 1_000_000


def sub_fee(amount_in: int, half: Half) -> int:
    """``amount_msat_sub_fee``: the largest out whose out + fee(out) fits in ``amount_in``."""
    if amount_in < half.base_fee:
        return 0
    out = (amount_in - half.base_fee) * 1_000_000 // (1_000_000 + half.fee_ppm)
    if add_fee(half, out + 1) <= amount_in:
        return out + 1
    return out


def fits_gossmap(base_fee: int, fee_ppm: int, delay: int) -> bool:
    """gossmap keeps base fee in 24 bits and ppm/delay in 20: larger values disable the direction."""
    return base_fee < 1 << 24 and fee_ppm < 1 << 20 and delay < 1 << 20


def make_half(
    src: int,
    dst: int,
    hid: int,
    *,
    base_fee: int,
    fee_ppm: int,
    delay: int,
    htlc_min: int,
    htlc_max: int,
    enabled: bool,
    is_set: bool = True,
) -> Half:
    """A half as gossmap loads it from a channel_update (fill_from_update)."""
    if not fits_gossmap(base_fee, fee_ppm, delay):
        return Half(
            src,
            dst,
            base_fee,
            fee_ppm,
            delay,
            htlc_min,
            htlc_max,
            fp16_round(htlc_min, False),
            0,
            False,
            hid,
            is_set,
        )
    return Half(
        src,
        dst,
        base_fee,
        fee_ppm,
        delay,
        htlc_min,
        htlc_max,
        fp16_round(htlc_min, False),
        fp16_round(htlc_max, True),
        enabled,
        hid,
        is_set,
    )


class RoutingIndex:
    """The public channels of one gossip version, numbered: nodes 0..N-1, channels 0..C-1, halves 2c+dir."""

    def __init__(self, network: Network) -> None:
        self.version = network.gossip_version
        self.node_ids: list[str] = []
        self.node_index: dict[str, int] = {}
        self.scids: list[str] = []
        self.chan_index: dict[str, int] = {}
        self.capacity: list[int] = []
        """Exact capacity (msat) per channel."""
        self.capacity_fp: list[int] = []
        """askrene's pessimistic estimate: capacity in sat rounded down to fp16, back in msat."""
        self.halves: list[Half] = []
        out_adj: list[list[Half]] = []
        in_adj: list[list[Half]] = []

        def index_of(node_id: str) -> int:
            idx = self.node_index.get(node_id)
            if idx is None:
                idx = len(self.node_ids)
                self.node_index[node_id] = idx
                self.node_ids.append(node_id)
                out_adj.append([])
                in_adj.append([])
            return idx

        for channel in network.channels.values():
            if not channel.public:
                continue
            c = len(self.scids)
            n1, n2 = index_of(channel.node1), index_of(channel.node2)
            self.scids.append(channel.short_channel_id)
            self.chan_index[channel.short_channel_id] = c
            self.capacity.append(channel.capacity_msat)
            self.capacity_fp.append(fp16_round(channel.capacity_msat // 1000, False) * 1000)
            for direction, (src, dst) in enumerate(((n1, n2), (n2, n1))):
                policy = channel.halves[direction]
                half = make_half(
                    src,
                    dst,
                    2 * c + direction,
                    base_fee=policy.base_fee_msat,
                    fee_ppm=policy.fee_ppm,
                    delay=policy.cltv_delta,
                    htlc_min=policy.htlc_minimum_msat,
                    htlc_max=policy.htlc_maximum_msat,
                    enabled=policy.enabled,
                )
                self.halves.append(half)
                out_adj[src].append(half)
                in_adj[dst].append(half)
        self.out_adj: list[tuple[Half, ...]] = [tuple(a) for a in out_adj]
        self.in_adj: list[tuple[Half, ...]] = [tuple(a) for a in in_adj]
        stride = max(1, len(self.halves) // MEDIAN_SAMPLE)
        self.sample: tuple[int, ...] = tuple(range(0, len(self.halves), stride))
        """Half ids askrene's median cost ratio is estimated from (all of them on a small graph)."""

    @property
    def num_nodes(self) -> int:
        return len(self.node_ids)

    @property
    def num_channels(self) -> int:
        return len(self.scids)


class RoutingGraph:
    """Per-node component holding the index of the current gossip version."""

    def __init__(self, node: SimNode) -> None:
        self.node = node
        self._index: RoutingIndex | None = None

    def index(self) -> RoutingIndex:
        network = self.node.network
        if self._index is None or self._index.version != network.gossip_version:
            self._index = RoutingIndex(network)
        return self._index


@dataclass
class LocalChannel:
    """One direction of one of our channels as listpeerchannels describes it (gossmods_from_listpeerchannels)."""

    short_channel_id: str
    direction: int
    peer: str
    capacity_msat: int
    enabled: bool
    htlc_minimum_msat: int
    htlc_maximum_msat: int
    spendable_msat: int
    """What can go this way now: our spendable for our direction, our receivable for the peer's."""
    base_fee_msat: int
    fee_ppm: int
    cltv_delta: int
    outgoing: bool


def local_channels(node: SimNode) -> list[LocalChannel]:
    """Both directions of each of our channels with their live state, as listpeerchannels reports it.

    ``enabled`` follows ``peer_connected``; liquidity is the current balance less what is in flight.
    """
    network = node.network
    result: list[LocalChannel] = []
    for channel in network.channels_of(node.our_id):
        peer = channel.peer_of(node.our_id)
        online = network.nodes[peer].online if peer in network.nodes else False
        ours = channel.direction_from(node.our_id)
        for direction in (ours, 1 - ours):
            half = channel.halves[direction]
            result.append(
                LocalChannel(
                    short_channel_id=channel.short_channel_id,
                    direction=direction,
                    peer=peer,
                    capacity_msat=channel.capacity_msat,
                    enabled=online,
                    htlc_minimum_msat=half.htlc_minimum_msat,
                    htlc_maximum_msat=half.htlc_maximum_msat,
                    spendable_msat=half.spendable_msat,
                    base_fee_msat=half.base_fee_msat,
                    fee_ppm=half.fee_ppm,
                    cltv_delta=half.cltv_delta,
                    outgoing=direction == ours,
                )
            )
    return result


class GraphView:
    """The index plus one query's local modifications (CLN's gossmap with localmods applied).

    Modifications are recorded first (:meth:`add_channel`, :meth:`update_half`); :meth:`out_adj` and
    :meth:`in_adj` then serve patched adjacency for the touched nodes and the index's tuples for all others.
    """

    def __init__(self, index: RoutingIndex) -> None:
        self.index = index
        self.mods: dict[int, Half] = {}
        self.extra_node_ids: list[str] = []
        self.extra_node_index: dict[str, int] = {}
        self.extra_scids: list[str] = []
        self.extra_chan_index: dict[str, int] = {}
        self.extra_capacity: list[int] = []
        self._extra_out: dict[int, list[Half]] = {}
        self._extra_in: dict[int, list[Half]] = {}
        self.touched: set[int] = set()
        """Nodes whose adjacency differs from the index's (hot loops test this, then call out_adj/in_adj)."""
        self._out_patch: dict[int, tuple[Half, ...]] = {}
        self._in_patch: dict[int, tuple[Half, ...]] = {}

    # -- identities --------------------------------------------------------------------------------------------
    def node_idx(self, node_id: str) -> int | None:
        idx = self.index.node_index.get(node_id)
        return idx if idx is not None else self.extra_node_index.get(node_id)

    def node_id(self, idx: int) -> str:
        n = self.index.num_nodes
        return self.index.node_ids[idx] if idx < n else self.extra_node_ids[idx - n]

    @property
    def num_nodes(self) -> int:
        return self.index.num_nodes + len(self.extra_node_ids)

    def chan_idx(self, scid: str) -> int | None:
        c = self.index.chan_index.get(scid)
        return c if c is not None else self.extra_chan_index.get(scid)

    def scid(self, c: int) -> str:
        n = self.index.num_channels
        return self.index.scids[c] if c < n else self.extra_scids[c - n]

    def scid_dir(self, hid: int) -> str:
        return f"{self.scid(hid >> 1)}/{hid & 1}"

    def capacity(self, c: int) -> int:
        n = self.index.num_channels
        return self.index.capacity[c] if c < n else self.extra_capacity[c - n]

    def half(self, hid: int) -> Half:
        half = self.mods.get(hid)
        return half if half is not None else self.index.halves[hid]

    # -- modifications -----------------------------------------------------------------------------------------
    def _node_for(self, node_id: str) -> int:
        idx = self.node_idx(node_id)
        if idx is None:
            idx = self.num_nodes
            self.extra_node_index[node_id] = idx
            self.extra_node_ids.append(node_id)
        return idx

    def add_channel(self, scid: str, node_a: str, node_b: str, capacity_msat: int) -> None:
        """gossmap_local_addchan: a channel gossip does not know; both directions unset until updated."""
        if self.chan_idx(scid) is not None:
            return
        n1_id, n2_id = sorted((node_a, node_b))
        n1, n2 = self._node_for(n1_id), self._node_for(n2_id)
        c = self.index.num_channels + len(self.extra_scids)
        self.extra_scids.append(scid)
        self.extra_chan_index[scid] = c
        self.extra_capacity.append(capacity_msat)
        for direction, (src, dst) in enumerate(((n1, n2), (n2, n1))):
            half = Half(src, dst, 0, 0, 0, 0, 0, 0, 0, False, 2 * c + direction, False)
            self.mods[half.hid] = half
            self._extra_out.setdefault(src, []).append(half)
            self._extra_in.setdefault(dst, []).append(half)
            self._touch(src, dst)

    def update_half(
        self,
        scid: str,
        direction: int,
        *,
        enabled: bool | None = None,
        htlc_min: int | None = None,
        htlc_max: int | None = None,
        base_fee: int | None = None,
        fee_ppm: int | None = None,
        delay: int | None = None,
    ) -> None:
        """gossmap_local_updatechan then apply: change the given fields, others kept (unset halves start disabled)."""
        c = self.chan_idx(scid)
        if c is None:
            return
        old = self.half(2 * c + direction)
        any_set = old.is_set or any(v is not None for v in (enabled, htlc_min, htlc_max, base_fee, fee_ppm, delay))
        new = make_half(
            old.src,
            old.dst,
            old.hid,
            base_fee=old.base_fee if base_fee is None else base_fee,
            fee_ppm=old.fee_ppm if fee_ppm is None else fee_ppm,
            delay=old.delay if delay is None else delay,
            htlc_min=old.htlc_min if htlc_min is None else htlc_min,
            htlc_max=old.htlc_max if htlc_max is None else htlc_max,
            enabled=old.enabled if enabled is None else enabled,
            is_set=any_set,
        )
        self.mods[new.hid] = new
        self._touch(new.src, new.dst)

    def _touch(self, *nodes: int) -> None:
        for idx in nodes:
            self.touched.add(idx)
            self._out_patch.pop(idx, None)
            self._in_patch.pop(idx, None)

    # -- adjacency ---------------------------------------------------------------------------------------------
    def out_adj(self, idx: int) -> tuple[Half, ...]:
        """Directions leaving ``idx``, in gossmap order, with this query's changes (patched on first use)."""
        if idx not in self.touched:
            return self.index.out_adj[idx]
        return self._patched(idx, self.index.out_adj, self._extra_out, self._out_patch)

    def in_adj(self, idx: int) -> tuple[Half, ...]:
        """Directions arriving at ``idx``, with this query's changes."""
        if idx not in self.touched:
            return self.index.in_adj[idx]
        return self._patched(idx, self.index.in_adj, self._extra_in, self._in_patch)

    def _patched(
        self,
        idx: int,
        index_adj: list[tuple[Half, ...]],
        extra: dict[int, list[Half]],
        patches: dict[int, tuple[Half, ...]],
    ) -> tuple[Half, ...]:
        """The index's adjacency of a touched node with the modified halves swapped in, then the added ones."""
        patched = patches.get(idx)
        if patched is None:
            mods = self.mods
            base = index_adj[idx] if idx < self.index.num_nodes else ()
            patched = tuple([mods.get(h.hid, h) for h in base] + [mods[h.hid] for h in extra.get(idx, ())])
            patches[idx] = patched
        return patched
