"""Channel policies and node aliases, looked up one at a time and cached: the console never fetches the graph.

On mainnet an unfiltered ``listchannels`` is some 45 MB of JSON, so everything here asks with a filter
(``short_channel_id`` or ``source``) and remembers the answer until told to forget it (:meth:`invalidate`), e.g.
after a failure's channel_update or when the user refreshes. A hub has thousands of channels: the channels
between two nodes are found from one end's neighbours (:meth:`PylnNode.channel_ends`, channel ids only) and the
policies of those few channels, not from the hub's every policy (issue 5). Three sources feed a
:class:`ChannelPolicy`:

- gossip (``listchannels``): the policy the channel's source announces, its capacity and enable bit;
- our own channels (``listpeerchannels``): what we can really spend, whether the peer is connected, and our
  private channels, which gossip does not show;
- an invoice's route hints: the only word on a private payee's channels (registered with :meth:`add_hint`).
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Collection, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any, Protocol

from .node import GossipChannel, NodeClient, PeerChannel

PARALLEL_LOOKUPS = 8
"""At most this many ``listnodes`` (or ``listchannels <scid>``) at once (lightningd answers each on its own
connection)."""

FEW = 16
"""A node with at most this many neighbours reaches few: the insert dialog then asks the hop's end for its arriving
channels by id only and the few from those neighbours in full (:meth:`ChannelPolicies.joining`)."""

USABLE_STATES = frozenset({"CHANNELD_NORMAL", "CHANNELD_AWAITING_SPLICE"})
"""Channel states in which lightningd adds new HTLCs."""


def direction_between(source: str, destination: str) -> int:
    """BOLT 7: direction 0 goes from the node whose id sorts lower to the other one."""
    return 0 if source.lower() < destination.lower() else 1


@dataclass(frozen=True, slots=True)
class ChannelPolicy:
    """One direction of a channel: what its ``source`` charges and allows to forward to ``destination``.

    Slotted: a hub's channel list is thousands of these, each one object for the garbage collector to walk
    instead of two (issue 5)."""

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


_SHARED_ALIASES: weakref.WeakKeyDictionary[Any, Aliases] = weakref.WeakKeyDictionary()


class Aliases:
    """Node aliases by ``listnodes <id>``, one node at a time, cached ('' for nodes gossip doesn't know)."""

    def __init__(self, node: NodeClient) -> None:
        self._node = node
        self._cache: dict[str, str] = {}
        self._lock = threading.Lock()

    @classmethod
    def of(cls, node: NodeClient) -> Aliases:
        """The aliases of this node client, kept for as long as it lives: every route editor opened on it shares
        them, so the hubs met on one route are not asked again on the next (an alias is a name: it changes
        rarely, and a stale one misleads no payment). A fresh cache for clients that can't be weakly referenced."""
        try:
            found = _SHARED_ALIASES.get(node)
            if found is None:
                found = _SHARED_ALIASES[node] = cls(node)
            return found
        except TypeError:
            return cls(node)

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


@dataclass(frozen=True, slots=True)
class Joining:
    """A node that could go between two others (:meth:`ChannelPolicies.joining`): a peer of both."""

    node_id: str
    ways_in: int
    """How many channels go to it from the node before (known by id before their policies are)."""
    channels_out: tuple[ChannelPolicy, ...]
    """Its channels to the node after."""
    channels_in: tuple[ChannelPolicy, ...] | None = None
    """Its channels from the node before; None when not asked yet (:meth:`ChannelPolicies.channels_between`)."""
    fee_out_msat: int | None = None
    """What it asks to forward the amount over its cheapest usable channel to the node after (None: unknown, or
    no usable channel)."""


def _cheapest_fee(policies: Iterable[ChannelPolicy], amount_msat: int) -> int | None:
    """The least fee for ``amount_msat`` over the channels that can carry it, or None when none can."""
    fees = [p.fee_for(amount_msat) for p in policies if p.usable and p.refuses(amount_msat) is None]
    return min(fees) if fees else None


class ChannelPolicies:
    """Policies of channel directions, asked of the node on demand and cached.

    Thread-safe: the payment watcher and the screens may both look things up.
    """

    def __init__(self, node: NodeClient, our_id: str | None = None, aliases: Aliases | None = None) -> None:
        """``aliases``: a cache to share (:meth:`Aliases.of`); by default one of its own."""
        self._node = node
        self._our_id = our_id
        self.aliases = aliases if aliases is not None else Aliases(node)
        self._lock = threading.RLock()
        self._by_scid: dict[str, tuple[ChannelPolicy, ...]] = {}
        self._from: dict[str, tuple[ChannelPolicy, ...]] = {}
        self._into: dict[str, tuple[ChannelPolicy, ...]] = {}
        self._neighbours: dict[str, dict[str, tuple[str, ...]]] = {}
        """source -> destination -> the short_channel_ids from one to the other (gossip's, from channel_ends)."""
        self._arriving: dict[str, dict[str, tuple[str, ...]]] = {}
        """destination -> source -> the short_channel_ids from one to the other (gossip's, from channel_ends)."""
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
                self._neighbours.clear()
                self._arriving.clear()
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
        """The channel directions going from ``source`` to ``destination``.

        From what is cached of either end when there is some; else from ``source``'s neighbours (channel ids
        only) and the policies of the channels that reach ``destination``: a hub's thousands of policies are
        never fetched to find the two or three it shares with one node."""
        with self._lock:
            leaving = self._from.get(source)
            arriving = self._into.get(destination)
        if leaving is not None or source == self.our_id:
            return [p for p in self.channels_from(source) if p.destination == destination]
        if arriving is not None:
            return [p for p in self.channels_into(destination) if p.source == source]
        with self._lock:
            arriving_ids = self._arriving.get(destination)
        scids = (
            arriving_ids.get(source, ()) if arriving_ids is not None else self.neighbours(source).get(destination, ())
        )
        found: dict[str, ChannelPolicy] = {}
        for short_channel_id in scids:
            for policy in self.channel(short_channel_id):
                if policy.source == source and policy.destination == destination:
                    found[policy.short_channel_id_dir] = policy
        with self._lock:
            for hint in self._hints.values():
                if hint.source == source and hint.destination == destination:
                    found.setdefault(hint.short_channel_id_dir, hint)
        return sorted(found.values(), key=lambda p: p.short_channel_id_dir)

    def joining(
        self,
        before: str,
        after: str,
        avoid: Collection[str] = (),
        limit: int | None = None,
        *,
        amount_msat: int | None = None,
        channels_in: bool = True,
    ) -> list[Joining]:
        """The nodes (at most ``limit``, none of ``avoid``) with a channel from ``before`` and one to ``after``,
        each with its channels to ``after`` and, when ``channels_in``, its channels from ``before``.

        ``after``'s arriving channels are asked in full (every candidate's way out is among them) while
        ``before``'s neighbours are asked as channel ids (cached, usually, by the swap dialog that looked at the
        same hop). When ``before`` is known to reach at most :data:`FEW` nodes (us, usually), ``after``'s arriving
        channels are asked as ids instead and only those from these nodes in full: a hub's thousand policies
        cost 30-60 ms to fetch and read on mainnet, its ids half that (issue 5).

        With ``channels_in`` the listed candidates' channels from ``before`` are asked in full, a few at a time
        in parallel; without, they are left to :meth:`channels_between` when one candidate is named (the insert
        dialog lists 40 candidates and the user picks one: issue 5), unless already known without asking
        (``before`` is us, or its full list is cached).

        Order: with ``amount_msat``, the cheapest way out first (the fee the candidate asks to forward
        ``amount_msat`` over its cheapest usable channel to ``after``; candidates with none last), so the
        ``limit`` kept are the cheapest; else by node id. Ties by node id."""
        reach = self._known_reach(before)
        with self._lock:
            into_cached = after in self._into
            leaving = self._from.get(before)
        arriving: list[ChannelPolicy] | None = None
        if not into_cached and reach is not None and len(reach) <= FEW:
            # ``before`` reaches few nodes: ``after``'s arriving channels by id, then only those from these nodes
            # in full (a hub's thousand policies cost more than their ids and a few lookups).
            arriving = self._arriving_from(after, reach)
        with ThreadPoolExecutor(max_workers=1) as pool:
            arriving_at = pool.submit(self.channels_into, after) if arriving is None else None
            known_in: dict[str, list[ChannelPolicy]] | None = None
            if leaving is not None or before == self.our_id:
                known_in = {}
                for policy in self.channels_from(before):
                    known_in.setdefault(policy.destination, []).append(policy)
                ways_in = {node_id: len(policies) for node_id, policies in known_in.items()}
                scids: dict[str, tuple[str, ...]] = {}
            else:
                scids = self.neighbours(before)
                ways_in = {node_id: len(ids) for node_id, ids in scids.items()}
                with self._lock:
                    for hint in self._hints.values():
                        if hint.source == before:
                            ways_in[hint.destination] = ways_in.get(hint.destination, 0) + 1
            if arriving_at is not None:
                arriving = arriving_at.result()
        assert arriving is not None
        out: dict[str, list[ChannelPolicy]] = {}
        for policy in arriving:
            if policy.source in ways_in and policy.source not in avoid:
                out.setdefault(policy.source, []).append(policy)

        fees = {
            node_id: None if amount_msat is None else _cheapest_fee(ways, amount_msat) for node_id, ways in out.items()
        }
        common = sorted(out, key=lambda node_id: (fees[node_id] is None, fees[node_id] or 0, node_id))[:limit]
        if channels_in and known_in is None:
            self._look_up_channels([scid for node_id in common for scid in scids.get(node_id, ())])
        found: list[Joining] = []
        for node_id in common:
            into: tuple[ChannelPolicy, ...] | None = None
            if known_in is not None:
                into = tuple(known_in.get(node_id, ()))
            elif channels_in:
                into = tuple(self.channels_between(before, node_id))
            ways = ways_in[node_id] if into is None else len(into)
            found.append(Joining(node_id, ways, tuple(out[node_id]), into, fees[node_id]))
        return found

    def _known_reach(self, node_id: str) -> set[str] | None:
        """The nodes ``node_id`` has a channel to, when known without asking (us, or cached); else None."""
        with self._lock:
            leaving = self._from.get(node_id)
            neighbours = self._neighbours.get(node_id)
        if leaving is not None or node_id == self.our_id:
            return {p.destination for p in self.channels_from(node_id)}
        if neighbours is not None:
            with self._lock:
                hinted = {h.destination for h in self._hints.values() if h.source == node_id}
            return set(neighbours) | hinted
        return None

    def _arriving_from(self, destination: str, sources: Collection[str]) -> list[ChannelPolicy]:
        """The channel directions arriving at ``destination`` from ``sources``: found by id
        (:meth:`arriving_ends`), their policies asked a few at a time in parallel, plus hints."""
        ends = self.arriving_ends(destination)
        wanted = {source: ends[source] for source in sources if source in ends}
        self._look_up_channels([scid for scids in wanted.values() for scid in scids])
        found: dict[str, ChannelPolicy] = {}
        for source, scids in wanted.items():
            for scid in scids:
                for policy in self.channel(scid):
                    if policy.source == source and policy.destination == destination:
                        found[policy.short_channel_id_dir] = policy
        with self._lock:
            for hint in self._hints.values():
                if hint.destination == destination:
                    found.setdefault(hint.short_channel_id_dir, hint)
        return sorted(found.values(), key=lambda p: p.short_channel_id_dir)

    def arriving_ends(self, destination: str) -> dict[str, tuple[str, ...]]:
        """Gossip's channels arriving at ``destination``, by the node each comes from: source -> short_channel_ids
        (one ``listchannels destination=`` filtered down to the channels' ends, cached)."""
        with self._lock:
            cached = self._arriving.get(destination)
        if cached is None:
            by_source: dict[str, list[str]] = {}
            for ends in self._node.channel_ends(destination=destination):
                if ends.destination == destination:
                    by_source.setdefault(ends.source, []).append(ends.short_channel_id)
            cached = {source: tuple(scids) for source, scids in by_source.items()}
            with self._lock:
                self._arriving[destination] = cached
        return cached

    def _look_up_channels(self, short_channel_ids: Iterable[str]) -> None:
        """Cache the gossip of these channels, the ones not cached asked in parallel (as :meth:`Aliases.look_up`)."""
        with self._lock:
            missing = [scid for scid in dict.fromkeys(short_channel_ids) if scid not in self._by_scid]
        if len(missing) > 1:
            with ThreadPoolExecutor(max_workers=min(PARALLEL_LOOKUPS, len(missing))) as pool:
                list(pool.map(self._gossip, missing))  # map re-raises the first error
        elif missing:
            self._gossip(missing[0])

    def neighbours(self, source: str) -> dict[str, tuple[str, ...]]:
        """Gossip's channels leaving ``source``, by the node each reaches: destination -> short_channel_ids
        (one ``listchannels source=`` filtered down to the channels' ends, cached)."""
        with self._lock:
            cached = self._neighbours.get(source)
        if cached is None:
            by_destination: dict[str, list[str]] = {}
            for ends in self._node.channel_ends(source=source):
                if ends.source == source:
                    by_destination.setdefault(ends.destination, []).append(ends.short_channel_id)
            cached = {destination: tuple(scids) for destination, scids in by_destination.items()}
            with self._lock:
                self._neighbours[source] = cached
        return cached

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


__all__ = ["Aliases", "ChannelPolicies", "ChannelPolicy", "HintHopLike", "Joining", "direction_between"]
