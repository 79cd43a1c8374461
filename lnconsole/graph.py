"""Channel policies and node aliases, looked up one at a time and cached: the console never fetches the graph.

On mainnet an unfiltered ``listchannels`` is some 45 MB of JSON, so everything here asks with a filter
(``short_channel_id`` or ``source``) and remembers the answer until told to forget it (:meth:`invalidate`), e.g.
after a failure's channel_update or when the user refreshes. Three sources feed a :class:`ChannelPolicy`:

- gossip (``listchannels``): the policy the channel's source announces, its capacity and enable bit;
- our own channels (``listpeerchannels``): what we can really spend, whether the peer is connected, and our
  private channels, which gossip does not show;
- an invoice's route hints: the only word on a private payee's channels (registered with :meth:`add_hint`).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Protocol

from .node import GossipChannel, NodeClient, PeerChannel

PARALLEL_LOOKUPS = 8
"""At most this many ``listnodes`` at once (lightningd answers each on its own connection)."""

USABLE_STATES = frozenset({"CHANNELD_NORMAL", "CHANNELD_AWAITING_SPLICE"})
"""Channel states in which lightningd adds new HTLCs."""


def direction_between(source: str, destination: str) -> int:
    """BOLT 7: direction 0 goes from the node whose id sorts lower to the other one."""
    return 0 if source.lower() < destination.lower() else 1


@dataclass(frozen=True)
class ChannelPolicy:
    """One direction of a channel: what its ``source`` charges and allows to forward to ``destination``."""

    short_channel_id: str
    direction: int
    source: str
    destination: str
    base_fee_msat: int
    fee_ppm: int
    cltv_delta: int
    htlc_minimum_msat: int = 0
    htlc_maximum_msat: int | None = None
    """None when unknown (route hints don't say)."""
    capacity_msat: int | None = None
    """None when unknown (route hints, private channels of others)."""
    active: bool = True
    public: bool = True
    origin: str = "gossip"
    """``gossip`` (listchannels), ``local`` (one of our channels, listpeerchannels) or ``hint`` (invoice)."""
    spendable_msat: int | None = None
    """Our channels only: what we can add as a new HTLC now."""
    peer_connected: bool | None = None
    state: str | None = None

    @property
    def short_channel_id_dir(self) -> str:
        return f"{self.short_channel_id}/{self.direction}"

    @property
    def local(self) -> bool:
        """Whether this is one of our own channels in our outgoing direction."""
        return self.spendable_msat is not None

    @property
    def usable(self) -> bool:
        """Enabled, and for our own channels also open and with the peer connected."""
        if not self.active:
            return False
        if self.local:
            return bool(self.peer_connected) and self.state in USABLE_STATES
        return True

    def fee_for(self, amount_msat: int) -> int:
        """What ``source`` charges to forward ``amount_msat`` over this channel (BOLT 7, rounded down)."""
        return self.base_fee_msat + amount_msat * self.fee_ppm // 1_000_000

    def refuses(self, amount_msat: int) -> str | None:
        """Why this direction cannot carry an HTLC of ``amount_msat`` (htlc limits, capacity), or None."""
        if amount_msat < self.htlc_minimum_msat:
            return f"below its htlc_minimum_msat {self.htlc_minimum_msat}"
        if self.htlc_maximum_msat is not None and amount_msat > self.htlc_maximum_msat:
            return f"above its htlc_maximum_msat {self.htlc_maximum_msat}"
        if self.capacity_msat is not None and amount_msat > self.capacity_msat:
            return f"above its capacity {self.capacity_msat}msat"
        return None

    @classmethod
    def from_gossip(cls, channel: GossipChannel) -> ChannelPolicy:
        return cls(
            short_channel_id=channel.short_channel_id,
            direction=channel.direction,
            source=channel.source,
            destination=channel.destination,
            base_fee_msat=channel.base_fee_msat,
            fee_ppm=channel.fee_ppm,
            cltv_delta=channel.cltv_delta,
            htlc_minimum_msat=channel.htlc_minimum_msat,
            htlc_maximum_msat=channel.htlc_maximum_msat,
            capacity_msat=channel.amount_msat,
            active=channel.active,
            public=channel.public,
        )


class HintHopLike(Protocol):
    """One entry of an invoice's route hint: ``lnconsole.invoice.HintHop``, :class:`lnconsole.routing.HintChannel`
    or any object with these attributes. ``node_id`` is the node that forwards over ``short_channel_id``."""

    node_id: str
    short_channel_id: str
    fee_base_msat: int
    fee_proportional_millionths: int
    cltv_expiry_delta: int


class Aliases:
    """Node aliases by ``listnodes <id>``, one node at a time, cached ('' for nodes gossip doesn't know)."""

    def __init__(self, node: NodeClient) -> None:
        self._node = node
        self._cache: dict[str, str] = {}
        self._lock = threading.Lock()

    def __call__(self, node_id: str) -> str:
        return self.alias(node_id)

    def alias(self, node_id: str) -> str:
        with self._lock:
            if node_id in self._cache:
                return self._cache[node_id]
        found = self._node.listnodes(node_id)
        alias = found[0].alias if found else ""
        with self._lock:
            self._cache[node_id] = alias
        return alias

    def remember(self, node_id: str, alias: str) -> None:
        with self._lock:
            self._cache[node_id] = alias

    def look_up(self, node_ids: Iterable[str]) -> dict[str, str]:
        """The aliases of many nodes. ``listnodes`` names one node or all of them (never all: the whole graph),
        so the ones not cached are asked for a few at a time, in parallel: a list of 40 candidates costs
        about as long as 6 lookups instead of 40 (issue 5). Raises what the first failed lookup raised."""
        wanted = list(dict.fromkeys(node_ids))
        with self._lock:
            missing = [node_id for node_id in wanted if node_id not in self._cache]
        if len(missing) > 1:
            with ThreadPoolExecutor(max_workers=min(PARALLEL_LOOKUPS, len(missing))) as pool:
                list(pool.map(self.alias, missing))  # map re-raises the first error
        return {node_id: self.alias(node_id) for node_id in wanted}


class ChannelPolicies:
    """Policies of channel directions, asked of the node on demand and cached.

    Thread-safe: the payment watcher and the screens may both look things up.
    """

    def __init__(self, node: NodeClient, our_id: str | None = None) -> None:
        self._node = node
        self._our_id = our_id
        self.aliases = Aliases(node)
        self._lock = threading.RLock()
        self._by_scid: dict[str, tuple[ChannelPolicy, ...]] = {}
        self._from: dict[str, tuple[ChannelPolicy, ...]] = {}
        self._into: dict[str, tuple[ChannelPolicy, ...]] = {}
        self._local: tuple[PeerChannel, ...] | None = None
        self._hints: dict[tuple[str, int], ChannelPolicy] = {}

    @property
    def node(self) -> NodeClient:
        return self._node

    @property
    def our_id(self) -> str:
        if self._our_id is None:
            self._our_id = self._node.getinfo().id
        return self._our_id

    # -- cache control ---------------------------------------------------------------------------------------

    def invalidate(self, short_channel_id: str | None = None) -> None:
        """Forget what was learnt: about one channel, or everything (gossip, our channels; hints stay)."""
        with self._lock:
            if short_channel_id is None:
                self._by_scid.clear()
                self._from.clear()
                self._into.clear()
                self._local = None
                return
            self._by_scid.pop(short_channel_id, None)
            for cache in (self._from, self._into):
                stale = [
                    end
                    for end, policies in cache.items()
                    if any(p.short_channel_id == short_channel_id for p in policies)
                ]
                for end in stale:
                    del cache[end]
            if self._local is not None and any(c.short_channel_id == short_channel_id for c in self._local):
                self._local = None

    def add_hint(self, hops: Iterable[HintHopLike], payee: str) -> list[ChannelPolicy]:
        """Register one route hint (a list of hops ending at ``payee``); returns its channels in order."""
        hops = list(hops)
        result: list[ChannelPolicy] = []
        for index, hop in enumerate(hops):
            source = hop.node_id
            destination = hops[index + 1].node_id if index + 1 < len(hops) else payee
            policy = ChannelPolicy(
                short_channel_id=hop.short_channel_id,
                direction=direction_between(source, destination),
                source=source,
                destination=destination,
                base_fee_msat=int(hop.fee_base_msat),
                fee_ppm=int(hop.fee_proportional_millionths),
                cltv_delta=int(hop.cltv_expiry_delta),
                public=False,
                origin="hint",
            )
            with self._lock:
                self._hints[(policy.short_channel_id, policy.direction)] = policy
            result.append(policy)
        return result

    # -- our channels ----------------------------------------------------------------------------------------

    def our_channels(self) -> tuple[PeerChannel, ...]:
        """Our channels as listpeerchannels shows them (cached)."""
        with self._lock:
            if self._local is None:
                self._local = tuple(c for c in self._node.listpeerchannels() if c.short_channel_id)
            return self._local

    def our_channel(self, short_channel_id: str) -> PeerChannel | None:
        return next((c for c in self.our_channels() if c.short_channel_id == short_channel_id), None)

    def _with_local(self, policy: ChannelPolicy | None, channel: PeerChannel) -> ChannelPolicy:
        """Our outgoing direction: gossip's word overlaid with what listpeerchannels knows better."""
        if policy is None:
            direction = channel.direction
            if direction is None:
                direction = direction_between(self.our_id, channel.peer_id)
            policy = ChannelPolicy(
                short_channel_id=channel.short_channel_id or "",
                direction=direction,
                source=self.our_id,
                destination=channel.peer_id,
                base_fee_msat=channel.fee_base_msat,
                fee_ppm=channel.fee_ppm,
                cltv_delta=channel.cltv_delta or 0,
                capacity_msat=channel.total_msat,
                public=not channel.private,
            )
        return replace(
            policy,
            base_fee_msat=channel.fee_base_msat,
            fee_ppm=channel.fee_ppm,
            cltv_delta=policy.cltv_delta if channel.cltv_delta is None else channel.cltv_delta,
            htlc_minimum_msat=channel.htlc_minimum_msat,
            htlc_maximum_msat=(
                policy.htlc_maximum_msat if channel.htlc_maximum_msat is None else channel.htlc_maximum_msat
            ),
            spendable_msat=channel.spendable_msat,
            peer_connected=channel.peer_connected,
            state=channel.state,
            origin="local",
        )

    # -- lookups ---------------------------------------------------------------------------------------------

    def _gossip(self, short_channel_id: str) -> tuple[ChannelPolicy, ...]:
        with self._lock:
            cached = self._by_scid.get(short_channel_id)
        if cached is None:
            answer = self._node.listchannels(short_channel_id=short_channel_id)
            cached = tuple(ChannelPolicy.from_gossip(c) for c in answer)
            with self._lock:
                self._by_scid[short_channel_id] = cached
        return cached

    def channel(self, short_channel_id: str) -> list[ChannelPolicy]:
        """Every known direction of a channel (gossip, ours, hints)."""
        found = {p.direction: p for p in self._gossip(short_channel_id)}
        with self._lock:
            for (scid, direction), hint in self._hints.items():
                if scid == short_channel_id and direction not in found:
                    found[direction] = hint
        ours = self.our_channel(short_channel_id)
        if ours is not None:
            mine = self._with_local(None, ours)
            found[mine.direction] = self._with_local(found.get(mine.direction), ours)
        return [found[d] for d in sorted(found)]

    def policy(self, short_channel_id: str, direction: int) -> ChannelPolicy | None:
        """The policy of one channel direction, or None when neither gossip, we, nor a hint know it."""
        return next((p for p in self.channel(short_channel_id) if p.direction == direction), None)

    def channels_from(self, node_id: str) -> list[ChannelPolicy]:
        """Every known channel direction leaving ``node_id`` (``listchannels source=``, plus ours and hints)."""
        with self._lock:
            cached = self._from.get(node_id)
        if cached is None:
            cached = tuple(ChannelPolicy.from_gossip(c) for c in self._node.listchannels(source=node_id))
            with self._lock:
                self._from[node_id] = cached
        found = {p.short_channel_id_dir: p for p in cached}
        with self._lock:
            for hint in self._hints.values():
                if hint.source == node_id:
                    found.setdefault(hint.short_channel_id_dir, hint)
        if node_id == self.our_id:
            for channel in self.our_channels():
                mine = self._with_local(None, channel)
                found[mine.short_channel_id_dir] = self._with_local(found.get(mine.short_channel_id_dir), channel)
        return sorted(found.values(), key=lambda p: p.short_channel_id_dir)

    def channels_into(self, node_id: str) -> list[ChannelPolicy]:
        """Every known channel direction arriving at ``node_id`` (one ``listchannels destination=``, plus hints)."""
        with self._lock:
            cached = self._into.get(node_id)
        if cached is None:
            cached = tuple(ChannelPolicy.from_gossip(c) for c in self._node.listchannels(destination=node_id))
            with self._lock:
                self._into[node_id] = cached
        found = {p.short_channel_id_dir: p for p in cached}
        with self._lock:
            for hint in self._hints.values():
                if hint.destination == node_id:
                    found.setdefault(hint.short_channel_id_dir, hint)
        return sorted(found.values(), key=lambda p: p.short_channel_id_dir)

    def channels_between(self, source: str, destination: str) -> list[ChannelPolicy]:
        """The channel directions going from ``source`` to ``destination``."""
        return [p for p in self.channels_from(source) if p.destination == destination]

    def is_public(self, node_id: str) -> bool:
        """Whether gossip knows a channel of ``node_id`` (private payees have none: their invoices carry hints)."""
        with self._lock:
            cached = self._from.get(node_id)
        if cached is None:
            self.channels_from(node_id)
            with self._lock:
                cached = self._from.get(node_id, ())
        return bool(cached)

    def alias(self, node_id: str) -> str:
        return self.aliases.alias(node_id)


__all__ = ["Aliases", "ChannelPolicies", "ChannelPolicy", "HintHopLike", "direction_between"]
