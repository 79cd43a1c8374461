"""The simulated payment network: nodes, channels, each direction's gossiped policy and its liquidity.

Directions follow BOLT 7 and CLN: a channel's ``node1`` is the end whose id sorts lower, direction 0 goes from
``node1`` to ``node2``. Liquidity is held per direction as the balance the sending side owns; an HTLC in flight
reserves part of it, and settling moves it to the other side. Channel reserves are not modelled: the balance is
what can be spent.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from coincurve import PublicKey


@dataclass
class Node:
    """A node of the network, with the key that signs its invoices."""

    node_id: str
    alias: str
    secret_key: bytes
    color: str = ""
    online: bool = True
    last_timestamp: int = 0
    flaky_ppm: int = 0
    """Chance, per million forwards, that this node fails one with temporary_channel_failure (demo flakiness)."""

    def __post_init__(self) -> None:
        if not self.color:
            self.color = self.node_id[:6]  # lightningd: the first three bytes of the id

    @classmethod
    def from_seed(cls, seed: bytes, alias: str) -> Node:
        """A node whose key derives from ``seed``, so that scenarios repeat run after run."""
        secret_key = hashlib.sha256(b"lnconsole-sim-node" + seed).digest()
        # PublicKey.from_secret is twice as fast as PrivateKey(...).public_key (mainnet derives 17k keys).
        node_id = PublicKey.from_secret(secret_key).format(compressed=True).hex()
        return cls(node_id=node_id, alias=alias, secret_key=secret_key)


@dataclass
class HalfChannel:
    """One direction of a channel: the policy its source gossips and the liquidity its source holds."""

    base_fee_msat: int = 1000
    fee_ppm: int = 1
    cltv_delta: int = 6
    htlc_minimum_msat: int = 0
    htlc_maximum_msat: int = 0
    enabled: bool = True
    last_update: int = 0
    balance_msat: int = 0
    inflight_msat: int = 0

    @property
    def spendable_msat(self) -> int:
        """What the source can still add as a new HTLC in this direction."""
        return max(0, self.balance_msat - self.inflight_msat)

    def fee_for(self, amount_msat: int) -> int:
        """The fee this hop charges to forward ``amount_msat`` onward (BOLT 7: base + amount * ppm / 1e6)."""
        return self.base_fee_msat + (amount_msat * self.fee_ppm) // 1_000_000


@dataclass
class Channel:
    """A channel between two nodes, with both directions."""

    short_channel_id: str
    node1: str
    node2: str
    capacity_msat: int
    halves: tuple[HalfChannel, HalfChannel]
    public: bool = True
    opener: str = ""
    funding_txid: str = ""

    def __post_init__(self) -> None:
        if not self.opener:
            self.opener = self.node1
        if not self.funding_txid:
            self.funding_txid = hashlib.sha256(self.short_channel_id.encode()).hexdigest()

    def source(self, direction: int) -> str:
        return self.node1 if direction == 0 else self.node2

    def destination(self, direction: int) -> str:
        return self.node2 if direction == 0 else self.node1

    def direction_from(self, node_id: str) -> int:
        """The direction that leaves ``node_id``."""
        if node_id == self.node1:
            return 0
        if node_id == self.node2:
            return 1
        raise KeyError(f"{node_id} is not an end of {self.short_channel_id}")

    def peer_of(self, node_id: str) -> str:
        return self.node2 if node_id == self.node1 else self.node1

    @property
    def channel_id(self) -> str:
        """BOLT 2 channel_id: funding txid (little-endian) xor the output index; output 0 here."""
        return bytes.fromhex(self.funding_txid)[::-1].hex()


def direction_between(a: str, b: str) -> int:
    """0 when ``a`` sorts below ``b``: the direction of a channel from ``a`` to ``b``."""
    return 0 if a < b else 1


@dataclass
class Network:
    """All nodes and channels, indexed for the lookups the RPC commands make."""

    nodes: dict[str, Node] = field(default_factory=dict)
    channels: dict[str, Channel] = field(default_factory=dict)
    by_node: dict[str, list[Channel]] = field(default_factory=dict)
    gossip_version: int = 0
    """Bumped on every change a route finder caches on: topology and each direction's gossiped policy (fees,
    delay, htlc limits, enabled). Liquidity and whether a node is online are not gossip: nothing caches them."""

    def add_node(self, node: Node) -> Node:
        self.nodes[node.node_id] = node
        self.by_node.setdefault(node.node_id, [])
        self.gossip_version += 1
        return node

    def add_channel(
        self,
        short_channel_id: str,
        a: str,
        b: str,
        capacity_msat: int,
        *,
        a_balance_msat: int | None = None,
        a_policy: HalfChannel | None = None,
        b_policy: HalfChannel | None = None,
        public: bool = True,
        opener: str | None = None,
    ) -> Channel:
        """Open a channel from ``a`` to ``b``: ``a`` holds ``a_balance_msat`` (all of it by default)."""
        a_half = a_policy or HalfChannel()
        b_half = b_policy or HalfChannel()
        now = int(time.time())
        for half in (a_half, b_half):
            if not half.htlc_maximum_msat:
                half.htlc_maximum_msat = capacity_msat
            if not half.last_update:
                half.last_update = now
        a_half.balance_msat = capacity_msat if a_balance_msat is None else a_balance_msat
        b_half.balance_msat = capacity_msat - a_half.balance_msat
        if a < b:
            channel = Channel(short_channel_id, a, b, capacity_msat, (a_half, b_half), public, opener or a)
        else:
            channel = Channel(short_channel_id, b, a, capacity_msat, (b_half, a_half), public, opener or a)
        self.channels[short_channel_id] = channel
        self.by_node.setdefault(channel.node1, []).append(channel)
        self.by_node.setdefault(channel.node2, []).append(channel)
        self.gossip_version += 1
        return channel

    def add_channels(self, channels: Iterable[Channel]) -> None:
        """Add ready-built channels in bulk (mainnet-size scenarios): no per-channel defaults to fill in."""
        by_node = self.by_node
        for channel in channels:
            self.channels[channel.short_channel_id] = channel
            by_node.setdefault(channel.node1, []).append(channel)
            by_node.setdefault(channel.node2, []).append(channel)
        self.gossip_version += 1

    def channels_of(self, node_id: str) -> list[Channel]:
        return self.by_node.get(node_id, [])

    def channels_between(self, a: str, b: str) -> list[Channel]:
        return [channel for channel in self.channels_of(a) if channel.peer_of(a) == b]

    def halves(self) -> Iterator[tuple[Channel, int, HalfChannel]]:
        """Every direction of every channel, as (channel, direction, half)."""
        for channel in self.channels.values():
            yield channel, 0, channel.halves[0]
            yield channel, 1, channel.halves[1]

    def touch(self) -> None:
        """Record a gossip-visible change so that cached routing graphs are rebuilt."""
        self.gossip_version += 1
