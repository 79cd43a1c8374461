"""The ``mainnet`` scenario: the real public Lightning graph, or a generated one of its size and shape.

Where the graph comes from (``lnconsole sim --scenario mainnet [--graph FILE]``):

- the compressed snapshot of 2026-02-03 (``shared/cln/mainnet/gossip-store-2026-02-03.compressed``, CLN's
  GOSSMAP_COMPRESSv1: gzip of bigsize numbers) with its node map (``...-node-map.xz``) beside it, which gives
  each node's real id and alias. The file has no short_channel_ids or timestamps: channel ``i`` gets the
  made-up :func:`made_up_scid` ``i`` and every update the snapshot's date;
- a CLN ``gossip_store`` (what an operator's node keeps), read with pyln-client's ``Gossmap``: public channels
  with their real short_channel_ids, policies and timestamps, aliases from node announcements;
- nothing: a graph generated from the seed with the snapshot's size (17,324 nodes, 50,808 channels) and shape:
  a degree sequence drawn from the snapshot's (more than half the nodes have one channel, a few hubs well over
  a thousand), wired by preferential attachment (each newcomer joins an earlier node with a chance
  proportional to the channels that node still has to open, the remaining channels pair stubs the same way),
  and capacities, fees, CLTV deltas, HTLC limits and disabled directions drawn from the snapshot's measured
  distributions (``MEASURED_*``), each node mostly keeping one policy on all its channels, as real nodes do.

In every case each node gets a key derived from ``--seed`` (the simulator signs invoices for any node, so it
must hold every key): node ids are synthetic, aliases stay real. As direction 0 of a channel leaves the end
whose id sorts lower, each channel's ends and per-direction policies are put in the order of the new ids.
The capacity of every channel is split between its two ends by a seeded uniform draw. We are ``lnconsole``,
with channels to the five best-connected nodes in which we hold most of the capacity.

Direction data of the compressed file: CLN's ``devtools/gossmap-compress`` writes each channel's two
per-direction values in gossmap's order, direction 0 from the end whose *real* id sorts lower, not from the
channel's first listed end (as the file's README and CLN's own decompressor assume). The data agree: read in
real-id order, 92% of a node's outgoing channels share one CLTV delta; in first-end order, 59%. We follow the
writer, so that each real node keeps its own fees.
"""

from __future__ import annotations

import bisect
import contextlib
import gzip
import itertools
import lzma
import math
import random
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import Any, NamedTuple

from .network import Channel, HalfChannel, Network, Node
from .node import SimConfig, SimNode
from .scenarios import SAT, SCENARIOS, seeded_node

MAINNET_NODES = 17_324
MAINNET_CHANNELS = 50_808
MAINNET_BLOCKHEIGHT = 935_000
"""About the height of Bitcoin's chain on 2026-02-03, the snapshot's date (block 900,000: June 2025)."""
SNAPSHOT_TIMESTAMP = int(datetime(2026, 2, 3, tzinfo=UTC).timestamp())
"""``last_update`` of the snapshot's channels, which carry no timestamps."""

COMPRESSED_HEADER = b"GOSSMAP_COMPRESSv1\0"
US_ALIAS = "lnconsole"
OUR_PEERS = 5
"""How many of the best-connected nodes we have channels with."""
OUR_CAPACITIES_SAT = (2_000_000, 3_000_000, 5_000_000, 8_000_000, 10_000_000)
OUR_POLICY = (1000, 10, 34, 0)
"""lightningd's defaults (base msat, ppm, CLTV delta, htlc_minimum msat) for our side of our channels."""


def made_up_scid(index: int) -> str:
    """A stable short_channel_id for the ``index``-th channel of a graph without real ones.

    Blocks 505,000 to 911,456 (every eighth), like the years of channels on the real chain; never repeats.
    """
    return f"{505_000 + 8 * index}x{1 + index % 2000}x{index % 2}"


class PublicChannel(NamedTuple):
    """A channel of a public graph, ends by index; ``from_a``/``from_b``: the policy each end gossips."""

    a: int
    b: int
    short_channel_id: str
    capacity_msat: int
    from_a: HalfChannel
    from_b: HalfChannel


@dataclass
class PublicGraph:
    """A public graph as read or generated, before our keys, liquidity and node are added."""

    names: list[str]
    """What each node's key derives from: its real id, or its generated name."""
    aliases: list[str]
    channels: list[PublicChannel]
    blockheight: int
    node_timestamps: list[int] = field(default_factory=list)

    def degrees(self) -> list[int]:
        degree = [0] * len(self.names)
        for channel in self.channels:
            degree[channel.a] += 1
            degree[channel.b] += 1
        return degree


# --- the compressed snapshot ------------------------------------------------------------------------------


@dataclass
class CompressedGraph:
    """The arrays of a GOSSMAP_COMPRESSv1 file, as stored (per-direction arrays: channel*2 + direction)."""

    node1: list[int]
    node2: list[int]
    disabled: set[int]
    capacity_sat: list[int]
    htlc_minimum_msat: list[int]
    htlc_maximum_msat: list[int]
    """As stored: 0 means the capacity, 1 means 99% of it."""
    fee_base_msat: list[int]
    fee_ppm: list[int]
    cltv_delta: list[int]

    @property
    def channel_count(self) -> int:
        return len(self.node1)

    def htlc_max(self, channel: int, direction: int) -> int:
        """The htlc_maximum_msat of one direction, with the file's two special values resolved."""
        raw = self.htlc_maximum_msat[2 * channel + direction]
        capacity_msat = self.capacity_sat[channel] * SAT
        if raw == 0:
            return capacity_msat
        if raw == 1:
            return int(capacity_msat * 0.99)  # as gossmap-compress computes it (a double, truncated)
        return raw


def read_compressed(path: Path) -> CompressedGraph:
    """Parse a GOSSMAP_COMPRESSv1 file (CLN's ``devtools/gossmap-compress``; its layout is in the README)."""
    data = gzip.decompress(path.read_bytes())
    if not data.startswith(COMPRESSED_HEADER):
        raise ValueError(f"{path} is not a GOSSMAP_COMPRESSv1 file")
    position = len(COMPRESSED_HEADER)

    def bigsize() -> int:
        nonlocal position
        first = data[position]
        if first < 0xFD:
            position += 1
            return first
        width = 2 if first == 0xFD else 4 if first == 0xFE else 8
        value = int.from_bytes(data[position + 1 : position + 1 + width], "big")
        position += 1 + width
        return value

    def template(count: int) -> list[int]:
        values = [bigsize() for _ in range(bigsize())]
        return [values[bigsize()] for _ in range(count)]

    try:
        count = bigsize()
        node1 = [bigsize() for _ in range(count)]
        node2 = [bigsize() for _ in range(count)]
        disabled: set[int] = set()
        while (entry := bigsize()) < 2 * count:
            disabled.add(entry)
        graph = CompressedGraph(
            node1=node1,
            node2=node2,
            disabled=disabled,
            capacity_sat=template(count),
            htlc_minimum_msat=template(2 * count),
            htlc_maximum_msat=template(2 * count),
            fee_base_msat=template(2 * count),
            fee_ppm=template(2 * count),
            cltv_delta=template(2 * count),
        )
    except IndexError:
        raise ValueError(f"{path}: truncated GOSSMAP_COMPRESSv1 file") from None
    return graph


def node_map_path(compressed: Path) -> Path:
    """Where the node map of a compressed snapshot lies: ``X.compressed`` -> ``X-node-map.xz``."""
    name = compressed.name.removesuffix(".compressed")
    return compressed.with_name(f"{name}-node-map.xz")


def read_node_map(path: Path) -> list[tuple[str, str]]:
    """``INDEX:NODE_ID:ALIAS`` lines (the alias may hold colons) -> [(node_id, alias)] by index."""
    entries: dict[int, tuple[str, str]] = {}
    with lzma.open(path, "rt", encoding="utf-8", errors="replace") as lines:
        for line in lines:
            line = line.rstrip("\n")
            if not line:
                continue
            index, node_id, alias = line.split(":", 2)
            entries[int(index)] = (node_id, alias)
    if sorted(entries) != list(range(len(entries))):
        raise ValueError(f"{path}: node indexes are not 0..{len(entries) - 1}")
    return [entries[index] for index in range(len(entries))]


def _snapshot_timestamp(path: Path) -> int:
    """The date in a snapshot's name (``...-2026-02-03...``), else the file's modification time."""
    found = re.search(r"(\d{4})-(\d{2})-(\d{2})", path.name)
    if found:
        year, month, day = (int(part) for part in found.groups())
        return int(datetime(year, month, day, tzinfo=UTC).timestamp())
    return int(path.stat().st_mtime)


def public_graph_from_compressed(path: Path) -> PublicGraph:
    """The snapshot as a public graph: real ids (for key names and direction order), aliases, policies."""
    map_path = node_map_path(path)
    if not map_path.exists():
        raise ValueError(f"{path}: its node map {map_path.name} should lie beside it")
    compressed = read_compressed(path)
    node_map = read_node_map(map_path)
    used = max(max(compressed.node1, default=-1), max(compressed.node2, default=-1)) + 1
    if used > len(node_map):
        raise ValueError(f"{map_path} names {len(node_map)} nodes; {path} uses {used}")
    real_ids = [node_id for node_id, _ in node_map]
    timestamp = _snapshot_timestamp(path)
    disabled = compressed.disabled
    base, ppm, delay, minimum = (
        compressed.fee_base_msat,
        compressed.fee_ppm,
        compressed.cltv_delta,
        compressed.htlc_minimum_msat,
    )
    channels: list[PublicChannel] = []
    for index in range(compressed.channel_count):
        a, b = compressed.node1[index], compressed.node2[index]
        halves = [
            HalfChannel(
                base_fee_msat=base[2 * index + direction],
                fee_ppm=ppm[2 * index + direction],
                cltv_delta=delay[2 * index + direction],
                htlc_minimum_msat=minimum[2 * index + direction],
                htlc_maximum_msat=compressed.htlc_max(index, direction),
                enabled=2 * index + direction not in disabled,
                last_update=timestamp,
            )
            for direction in (0, 1)
        ]
        # The file's direction 0 leaves the end whose real id sorts lower (see the module's docstring).
        from_a, from_b = (halves[0], halves[1]) if real_ids[a] < real_ids[b] else (halves[1], halves[0])
        capacity_msat = compressed.capacity_sat[index] * SAT
        channels.append(PublicChannel(a, b, made_up_scid(index), capacity_msat, from_a, from_b))
    return PublicGraph(
        names=real_ids,
        aliases=[alias for _, alias in node_map],
        channels=channels,
        blockheight=MAINNET_BLOCKHEIGHT,
        node_timestamps=[timestamp] * len(node_map),
    )


# --- a CLN gossip_store ------------------------------------------------------------------------------------


def _lenient_gossmap(path: Path) -> Any:
    """pyln-client's Gossmap, which does not stop at an alias that is not UTF-8 (any 32 bytes may be one)."""
    from pyln.client.gossmap import Gossmap

    class LenientGossmap(Gossmap):  # type: ignore[misc]
        def _add_node_announcement(self, rec: bytes, hdr: Any) -> None:
            # The fields are stored before the alias is decoded; _gossip_alias decodes it leniently.
            with contextlib.suppress(UnicodeDecodeError):
                super()._add_node_announcement(rec, hdr)

    return LenientGossmap(str(path))


def _gossip_alias(node: Any) -> str:
    if not node.fields:
        return ""
    return bytes(node.fields["alias"]).decode("utf-8", errors="replace").rstrip("\0")


def public_graph_from_gossip_store(path: Path) -> PublicGraph:
    """The public channels of a CLN gossip_store, with their real short_channel_ids, policies, timestamps."""
    gossmap = _lenient_gossmap(path)
    index_of: dict[Any, int] = {}
    names: list[str] = []
    aliases: list[str] = []
    timestamps: list[int] = []

    def node_index(node: Any) -> int:
        index = index_of.get(node.node_id)
        if index is None:
            index = index_of[node.node_id] = len(names)
            names.append(str(node.node_id))
            aliases.append(_gossip_alias(node))
            timestamps.append(node.timestamp if node.announced else 0)
        return index

    channels: list[PublicChannel] = []
    top_block = 0
    for scid, chan in gossmap.channels.items():
        if chan.is_private or chan.satoshis is None:
            continue
        capacity_msat = chan.satoshis * SAT
        halves = []
        for direction in (0, 1):
            update = chan.half_channels[direction]
            if update is None:  # never updated: gossmap leaves it out of routing, like a disabled direction
                halves.append(HalfChannel(0, 0, 0, 0, capacity_msat, enabled=False, last_update=0))
                continue
            htlc_max = update.htlc_maximum_msat
            halves.append(
                HalfChannel(
                    base_fee_msat=update.fee_base_msat,
                    fee_ppm=update.fee_proportional_millionths,
                    cltv_delta=update.cltv_expiry_delta,
                    htlc_minimum_msat=update.htlc_minimum_msat,
                    htlc_maximum_msat=capacity_msat if htlc_max is None else htlc_max,
                    enabled=not update.disabled,
                    last_update=update.timestamp,
                )
            )
        top_block = max(top_block, scid.block)
        # Gossmap's node1 is the channel_announcement's node_id_1, the lower id: direction 0 leaves it.
        channels.append(
            PublicChannel(
                node_index(chan.node1), node_index(chan.node2), str(scid), capacity_msat, halves[0], halves[1]
            )
        )
    if not channels:
        raise ValueError(f"{path}: no public channels in this gossip_store")
    return PublicGraph(names, aliases, channels, blockheight=top_block + 6, node_timestamps=timestamps)


# --- a generated graph -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Measured:
    """A distribution measured on the snapshot: its commonest values with their shares, and the 21 quantiles
    (0%, 5%, ..., 100%) of all other values, between which draws interpolate (in log space)."""

    common: tuple[tuple[int, float], ...]
    rest: tuple[int, ...]

    @cached_property
    def _cumulative(self) -> list[float]:
        total, cumulative = 0.0, []
        for _, share in self.common:
            total += share
            cumulative.append(total)
        return cumulative

    @cached_property
    def _log_rest(self) -> list[float]:
        return [math.log1p(value) for value in self.rest]

    def draw(self, rng: random.Random) -> int:
        index = bisect.bisect_right(self._cumulative, rng.random())
        if index < len(self.common):
            return self.common[index][0]
        logs = self._log_rest
        position = rng.random() * (len(logs) - 1)
        low = int(position)
        high = min(low + 1, len(logs) - 1)
        return round(math.expm1(logs[low] + (logs[high] - logs[low]) * (position - low)))


# Measured on gossip-store-2026-02-03.compressed (enabled directions; per-direction data in real-id order).
MEASURED_CAPACITY_SAT = Measured(
    common=(
        (1_000_000, 0.0932), (5_000_000, 0.0728), (20_000, 0.0682), (10_000_000, 0.0655), (2_000_000, 0.0605),
        (100_000, 0.0452), (500_000, 0.0352), (3_000_000, 0.0309), (4_000_000, 0.0191), (200_000, 0.0180),
        (50_000_000, 0.0171), (50_000, 0.0170), (20_000_000, 0.0116), (2_500_000, 0.0106),
        (1_500_000, 0.0104), (300_000, 0.0096),
    ),
    rest=(
        1050, 3000, 21212, 40000, 75000, 138990, 250000, 349191, 510000, 847323, 1160476, 1975821, 3028000,
        5000002, 6170278, 8606779, 13212092, 16777215, 25000000, 100000000, 1000000000,
    ),
)  # fmt: skip
MEASURED_FEE_BASE_MSAT = Measured(
    common=(
        (0, 0.4527), (1000, 0.4084), (1, 0.0339), (500, 0.0155), (100, 0.0095), (2000, 0.0075),
        (5000, 0.0073), (10000, 0.0050),
    ),
    rest=(
        2, 5, 10, 10, 31, 47, 99, 184, 200, 250, 372, 573, 888, 999, 1001, 1999, 2626, 8411, 38860, 100000,
        10000000,
    ),
)  # fmt: skip
MEASURED_FEE_PPM = Measured(
    common=(
        (1, 0.2220), (0, 0.0686), (500, 0.0515), (100, 0.0450), (10, 0.0435), (1000, 0.0307), (499, 0.0262),
        (2000, 0.0177), (200, 0.0175), (2500, 0.0146), (50, 0.0140), (5000, 0.0112), (300, 0.0094),
        (5, 0.0087), (4000, 0.0071), (800, 0.0069), (20, 0.0069), (10000, 0.0066), (150, 0.0062),
        (250, 0.0062),
    ),
    rest=(
        2, 9, 25, 40, 68, 95, 133, 180, 228, 304, 386, 465, 598, 747, 947, 1076, 1474, 1900, 2450, 3480,
        1000000,
    ),
)  # fmt: skip
# The lowest CLTV delta measured is 0; no node could forward with it, so draws of the rest start at 18.
MEASURED_CLTV_DELTA = Measured(
    common=(
        (80, 0.3816), (144, 0.1770), (40, 0.1700), (100, 0.1120), (34, 0.0653), (18, 0.0247), (51, 0.0078),
        (72, 0.0077), (120, 0.0059), (60, 0.0050), (89, 0.0040), (200, 0.0035), (222, 0.0033), (78, 0.0031),
    ),
    rest=(18, 20, 30, 32, 38, 44, 46, 50, 68, 87, 99, 118, 119, 140, 140, 142, 150, 210, 288, 288, 1444),
)  # fmt: skip
MEASURED_HTLC_MINIMUM_MSAT = Measured(
    common=(
        (1000, 0.7860), (1, 0.1022), (100000, 0.0283), (1000000, 0.0234), (0, 0.0171), (10000, 0.0082),
        (5000, 0.0068), (100, 0.0050),
    ),
    rest=(
        2, 432, 2000, 3000, 3000, 3000, 3000, 4000, 9000, 9000, 9000, 19000, 50000, 50000, 75000, 300000,
        300000, 500000, 10000000, 10000000, 5940000000,
    ),
)  # fmt: skip
MEASURED_HTLC_MAXIMUM = (0.0726, 0.6391)
"""Shares of directions whose htlc_maximum is the capacity, and 99% of it; the others' fraction of it:"""
MEASURED_HTLC_MAXIMUM_FRACTION = (
    0.0, 0.0051, 0.0495, 0.1327, 0.2475, 0.4, 0.45, 0.45, 0.4841, 0.5767, 0.7107, 0.891, 0.9, 0.9801, 0.99,
    0.99, 0.99, 0.99, 0.99, 0.99, 0.999,
)  # fmt: skip
MEASURED_SAME_POLICY = {
    "cltv_delta": 0.922,
    "fee_base_msat": 0.901,
    "fee_ppm": 0.529,
    "htlc_minimum_msat": 0.932,
}
"""Share of a node's outgoing directions that carry its commonest value of each field."""
MEASURED_DISABLED = (0.3329, 0.0389)
"""Shares of channels with both directions disabled (or never updated), and with one."""
MEASURED_DEGREE_SHARES = (0.5421, 0.7072, 0.7842, 0.8274, 0.8571, 0.8768, 0.8922, 0.9039, 0.9128, 0.9198)
"""Share of nodes with at most 1, 2, ..., 10 channels; beyond, the degree at each share of nodes:"""
MEASURED_DEGREE_TAIL = (
    (0.9198, 10), (0.92, 11), (0.94, 15), (0.95, 17), (0.96, 22), (0.97, 31), (0.98, 45), (0.985, 55),
    (0.99, 73), (0.993, 100), (0.995, 130), (0.997, 178), (0.998, 222), (0.999, 393), (0.9995, 651),
    (0.9998, 1194), (0.9999, 1268), (1.0, 1989),
)  # fmt: skip
MEASURED_UNNAMED = 0.06
"""Share of nodes without an alias."""

_ALIAS_WORDS = (
    (
        "Swift", "Quiet", "Amber", "Bold", "Lunar", "Solar", "Iron", "Velvet", "Crimson", "Silver", "Golden",
        "Frosty", "Rapid", "Lucky", "Brave", "Misty", "Stormy", "Sunny", "Cosmic", "Electric", "Humble",
        "Mellow", "Nimble", "Orange", "Proud", "Rusty", "Shiny", "Tidy", "Wild", "Zesty",
    ),
    (
        "Otter", "Falcon", "Badger", "Heron", "Lynx", "Marmot", "Owl", "Panda", "Raven", "Salmon", "Tiger",
        "Walrus", "Yak", "Beacon", "Bridge", "Canyon", "Harbor", "Lantern", "Meadow", "Orchard", "Pylon",
        "Relay", "Summit", "Tower", "Node", "Hub", "Router", "Sats", "Spark", "Bolt",
    ),
    ("", "", "", "", " LN", " Lightning", " Node", "⚡", " [LND]", " (CLN)", " Routing", " BTC"),
)  # fmt: skip


def _degree_for(share: float) -> int:
    """The inverse of the measured degree distribution: the degree of the node at this share of all nodes."""
    for degree, cumulative in enumerate(MEASURED_DEGREE_SHARES, start=1):
        if share <= cumulative:
            return degree
    for (low_share, low), (high_share, high) in itertools.pairwise(MEASURED_DEGREE_TAIL):
        if share <= high_share:
            fraction = (share - low_share) / (high_share - low_share)
            return round(math.exp(math.log(low) + (math.log(high) - math.log(low)) * fraction))
    return MEASURED_DEGREE_TAIL[-1][1]


def _degree_sequence(rng: random.Random, nodes: int, channels: int) -> list[int]:
    """Degrees drawn from the measured distribution (one draw per stratum), summing to twice ``channels``."""
    degrees = sorted(
        (min(nodes - 1, _degree_for((index + rng.random()) / nodes)) for index in range(nodes)), reverse=True
    )
    difference = 2 * channels - sum(degrees)
    hubs = max(1, nodes // 10)  # adjust among the best connected, where one channel more or less shows least
    while difference:
        index = rng.randrange(hubs)
        if difference > 0:
            degrees[index] += 1
            difference -= 1
        elif degrees[index] > 1:
            degrees[index] -= 1
            difference += 1
    return sorted(degrees, reverse=True)


class _Fenwick:
    """Weights with prefix sums, to draw an index with a chance proportional to its weight."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.tree = [0] * (size + 1)
        self.total = 0

    def add(self, index: int, delta: int) -> None:
        self.total += delta
        position = index + 1
        while position <= self.size:
            self.tree[position] += delta
            position += position & -position

    def find(self, target: int) -> int:
        """The index where the running sum of weights first exceeds ``target`` (0 <= target < total)."""
        position, step = 0, 1 << self.size.bit_length()
        while step:
            following = position + step
            if following <= self.size and self.tree[following] <= target:
                position = following
                target -= self.tree[following]
            step >>= 1
        return position


def _wire(rng: random.Random, degrees: list[int], channels: int) -> list[tuple[int, int]]:
    """Channels between nodes (hubs first) by preferential attachment to their target degrees."""
    nodes = len(degrees)
    remaining = list(degrees)
    open_stubs = _Fenwick(nodes)
    open_stubs.add(0, remaining[0])
    ends: list[tuple[int, int]] = []
    for newcomer in range(1, nodes):
        if open_stubs.total > 0:
            peer = open_stubs.find(rng.randrange(open_stubs.total))
            open_stubs.add(peer, -1)
            remaining[peer] -= 1
        else:  # cannot happen with the measured degrees, kept so that any sequence wires
            peer = rng.randrange(newcomer)
        ends.append((peer, newcomer))
        remaining[newcomer] -= 1
        if remaining[newcomer] > 0:
            open_stubs.add(newcomer, remaining[newcomer])
    stubs = [node for node in range(nodes) for _ in range(max(0, remaining[node]))]
    rng.shuffle(stubs)
    needed = channels - len(ends)
    while len(stubs) < 2 * needed:
        stubs.append(rng.choice(stubs) if stubs else rng.randrange(nodes))
    for pair in range(needed):
        a, b = stubs[2 * pair], stubs[2 * pair + 1]
        if a == b:  # no channel with oneself: trade b for a stub of a later pair, or take any other node
            for _ in range(20):
                if 2 * pair + 2 >= 2 * needed:
                    break
                other = rng.randrange(2 * pair + 2, 2 * needed)
                if stubs[other] != a and stubs[other ^ 1] != b:
                    stubs[2 * pair + 1], stubs[other] = stubs[other], b
                    b = stubs[2 * pair + 1]
                    break
            else:
                b = (a + 1 + rng.randrange(nodes - 1)) % nodes
            if a == b:
                b = (a + 1 + rng.randrange(nodes - 1)) % nodes
        ends.append((a, b))
    return ends


def _aliases(rng: random.Random, nodes: int) -> list[str]:
    adjectives, nouns, suffixes = _ALIAS_WORDS
    seen: Counter[str] = Counter()
    aliases = []
    for index in range(nodes):
        if index >= nodes // 100 and rng.random() < MEASURED_UNNAMED:  # hubs (the first 1%) all have one
            aliases.append("")
            continue
        alias = f"{rng.choice(adjectives)}{rng.choice(nouns)}{rng.choice(suffixes)}"
        seen[alias] += 1
        aliases.append(alias if seen[alias] == 1 else f"{alias} {seen[alias]}")
    return aliases


def _htlc_maximum(rng: random.Random, capacity_msat: int, htlc_minimum_msat: int) -> int:
    share = rng.random()
    if share < MEASURED_HTLC_MAXIMUM[0]:
        return capacity_msat
    if share < MEASURED_HTLC_MAXIMUM[0] + MEASURED_HTLC_MAXIMUM[1]:
        return int(capacity_msat * 0.99)
    knots = MEASURED_HTLC_MAXIMUM_FRACTION
    position = rng.random() * (len(knots) - 1)
    low = int(position)
    high = min(low + 1, len(knots) - 1)
    fraction = knots[low] + (knots[high] - knots[low]) * (position - low)
    return max(int(capacity_msat * fraction), htlc_minimum_msat, 1)


def generate_public_graph(seed: int, nodes: int = MAINNET_NODES, channels: int = MAINNET_CHANNELS) -> PublicGraph:
    """A graph of the snapshot's size and shape, the same for the same seed (see the module's docstring)."""
    if nodes < 2 or channels < nodes - 1:
        raise ValueError(f"cannot wire {nodes} nodes with {channels} channels")
    rng = random.Random(f"lnconsole-mainnet-generated:{seed}")
    degrees = _degree_sequence(rng, nodes, channels)
    ends = _wire(rng, degrees, channels)
    fields = (
        ("cltv_delta", MEASURED_CLTV_DELTA),
        ("fee_base_msat", MEASURED_FEE_BASE_MSAT),
        ("fee_ppm", MEASURED_FEE_PPM),
        ("htlc_minimum_msat", MEASURED_HTLC_MINIMUM_MSAT),
    )
    same_cltv, same_base, same_ppm, same_minimum = (MEASURED_SAME_POLICY[name] for name, _ in fields)
    habits = [tuple(measured.draw(rng) for _, measured in fields) for _ in range(nodes)]
    chance = rng.random

    def policy(node: int, capacity_msat: int) -> HalfChannel:
        """Mostly the node's habit (its usual value of each field), sometimes a fresh draw."""
        cltv, base, ppm, minimum = habits[node]
        if chance() >= same_cltv:
            cltv = MEASURED_CLTV_DELTA.draw(rng)
        if chance() >= same_base:
            base = MEASURED_FEE_BASE_MSAT.draw(rng)
        if chance() >= same_ppm:
            ppm = MEASURED_FEE_PPM.draw(rng)
        if chance() >= same_minimum:
            minimum = MEASURED_HTLC_MINIMUM_MSAT.draw(rng)
        minimum = min(minimum, capacity_msat)
        return HalfChannel(
            base_fee_msat=base,
            fee_ppm=ppm,
            cltv_delta=cltv,
            htlc_minimum_msat=minimum,
            htlc_maximum_msat=_htlc_maximum(rng, capacity_msat, minimum),
            last_update=SNAPSHOT_TIMESTAMP,
        )

    both_disabled, one_disabled = MEASURED_DISABLED
    public: list[PublicChannel] = []
    for index, (a, b) in enumerate(ends):
        capacity_msat = MEASURED_CAPACITY_SAT.draw(rng) * SAT
        from_a, from_b = policy(a, capacity_msat), policy(b, capacity_msat)
        share = rng.random()
        if share < both_disabled:
            from_a.enabled = from_b.enabled = False
        elif share < both_disabled + one_disabled:
            (from_a if rng.random() < 0.5 else from_b).enabled = False
        public.append(PublicChannel(a, b, made_up_scid(index), capacity_msat, from_a, from_b))
    return PublicGraph(
        names=[f"generated:{index}" for index in range(nodes)],
        aliases=_aliases(rng, nodes),
        channels=public,
        blockheight=MAINNET_BLOCKHEIGHT,
        node_timestamps=[SNAPSHOT_TIMESTAMP] * nodes,
    )


# --- our keys, liquidity and node --------------------------------------------------------------------------


def _commonest_policy(network: Network, node_id: str) -> tuple[int, int, int, int]:
    """The policy (base, ppm, CLTV delta, htlc_minimum) a node gossips most on its enabled channels."""
    policies: Counter[tuple[int, int, int, int]] = Counter()
    for channel in network.channels_of(node_id):
        half = channel.halves[channel.direction_from(node_id)]
        if half.enabled:
            policies[(half.base_fee_msat, half.fee_ppm, half.cltv_delta, half.htlc_minimum_msat)] += 1
    return policies.most_common(1)[0][0] if policies else OUR_POLICY


def _attach_us(network: Network, config: SimConfig, graph: PublicGraph, nodes: list[Node]) -> Node:
    """Our node, with channels to the best-connected nodes in which we hold most of the capacity."""
    rng = random.Random(f"lnconsole-mainnet-us:{config.seed}")
    us = network.add_node(seeded_node(config, "mainnet:us", US_ALIAS))
    degrees = graph.degrees()
    best = sorted(range(len(nodes)), key=lambda index: (-degrees[index], index))[:OUR_PEERS]
    for rank, index in enumerate(best):
        peer = nodes[index]
        capacity_msat = rng.choice(OUR_CAPACITIES_SAT) * SAT
        ours = HalfChannel(*OUR_POLICY, htlc_maximum_msat=capacity_msat * 99 // 100)
        base, ppm, cltv, minimum = _commonest_policy(network, peer.node_id)
        theirs = HalfChannel(base, ppm, cltv, min(minimum, capacity_msat), capacity_msat * 99 // 100)
        block, tx = graph.blockheight - 6 - 144 * (rank + 1), 1
        while f"{block}x{tx}x0" in network.channels:
            tx += 1
        network.add_channel(
            f"{block}x{tx}x0",
            us.node_id,
            peer.node_id,
            capacity_msat,
            a_balance_msat=int(capacity_msat * rng.uniform(0.6, 0.95)),
            a_policy=ours,
            b_policy=theirs,
        )
    return us


def assemble(config: SimConfig, graph: PublicGraph) -> SimNode:
    """The simulated node over ``graph``: seeded keys, ends in id order, seeded liquidity, and us."""
    network = Network()
    timestamps = graph.node_timestamps or [0] * len(graph.names)
    nodes = []
    for name, alias, timestamp in zip(graph.names, graph.aliases, timestamps, strict=True):
        node = seeded_node(config, f"mainnet:{name}")
        node.alias = alias  # may be empty (the node never announced one), which seeded_node would replace
        node.last_timestamp = timestamp
        nodes.append(network.add_node(node))
    rng = random.Random(f"lnconsole-mainnet-liquidity:{config.seed}")
    draw = rng.random
    built = []
    for channel in graph.channels:
        capacity_msat = channel.capacity_msat
        from_a, from_b = channel.from_a, channel.from_b
        from_a.balance_msat = int(capacity_msat * draw())
        from_b.balance_msat = capacity_msat - from_a.balance_msat
        id_a, id_b = nodes[channel.a].node_id, nodes[channel.b].node_id
        if id_a < id_b:
            built.append(Channel(channel.short_channel_id, id_a, id_b, capacity_msat, (from_a, from_b)))
        else:
            built.append(Channel(channel.short_channel_id, id_b, id_a, capacity_msat, (from_b, from_a)))
    network.add_channels(built)
    us = _attach_us(network, config, graph, nodes)
    return SimNode(network, us.node_id, config, blockheight=graph.blockheight)


def load_public_graph(graph: Path | None, seed: int) -> PublicGraph:
    """The public graph of ``--graph``: a compressed snapshot (gzip), a gossip_store, or generated (None)."""
    if graph is None:
        return generate_public_graph(seed)
    with open(graph, "rb") as file:
        magic = file.read(2)
    if magic == b"\x1f\x8b":
        return public_graph_from_compressed(graph)
    return public_graph_from_gossip_store(graph)


def build_mainnet(config: SimConfig, graph: Path | None = None) -> SimNode:
    """The mainnet scenario (see the module's docstring)."""
    return assemble(config, load_public_graph(graph, config.seed))


SCENARIOS["mainnet"] = build_mainnet

__all__: list[str] = [
    "MAINNET_CHANNELS",
    "MAINNET_NODES",
    "PublicGraph",
    "assemble",
    "build_mainnet",
    "generate_public_graph",
    "made_up_scid",
    "public_graph_from_compressed",
    "public_graph_from_gossip_store",
    "read_compressed",
    "read_node_map",
]
