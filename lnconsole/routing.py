"""Routes as the console shows and edits them, and as ``sendpay`` takes them.

A :class:`Route` is the list of channels from us to the destination. Hop ``i`` is the i-th channel: it joins
``hops[i-1].node_id`` (or us, for hop 0) to ``hops[i].node_id``. Amounts and delays follow ``sendpay``'s
meaning: ``hops[i].amount_msat`` is what arrives at ``hops[i].node_id`` over that channel and ``hops[i].delay``
the CLTV it gets; so the last hop's amount is what the destination receives and its delay the final CLTV.
What a hop *charges* is the difference between what it receives and what it forwards: the fee and CLTV delta
of the channel it forwards over (the next hop's channel), as BOLT 7 prices it.

The two finders say it differently. ``getroute`` (deprecated) answers in sendpay's shape. A ``getroutes`` path
hop (plugins/askrene/child/child.c) describes one channel from ``node_id_in`` to ``node_id_out``:
``amount_out_msat``/``cltv_out`` is what crosses the channel and arrives at ``node_id_out`` (sendpay's
``amount_msat``/``delay``; xpay puts exactly these in the onion), while ``amount_in_msat``/``cltv_in`` add the
channel's own fee and delta, charged by ``node_id_in``: what ``node_id_in`` must itself receive. For hop 0 that
is our own fee, which ``auto.sourcefree`` makes zero and sendpay never charges, so ``amount_in`` is not used.

Everything here asks the node for single channels (:mod:`lnconsole.graph`), never for the whole graph.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from .amounts import MAX_MSAT, format_msat
from .graph import ChannelPolicies, ChannelPolicy, HintHopLike, direction_between
from .node import INVALID_PARAMS, METHOD_NOT_FOUND, FoundRoute, NodeClient, NodeError, NodeUnreachable, SendpayHop

PAY_ROUTE_NOT_FOUND = 205
PAY_ROUTE_TOO_EXPENSIVE = 206

AliasLookup = Mapping[str, str] | Callable[[str], str]
ChannelSpec = tuple[str, int, "str | None"]
"""``(short_channel_id, direction, node_id)``: one channel of a path and the node at its far end (None: the
channel's destination)."""


@dataclass(frozen=True)
class Hop:
    """One channel of a route and what crosses it."""

    node_id: str
    """The node at the far end of this hop's channel."""
    short_channel_id: str
    direction: int
    amount_msat: int
    """What arrives at ``node_id`` over this channel (sendpay's ``amount_msat``)."""
    delay: int
    """The CLTV ``node_id`` gets (sendpay's ``delay``)."""
    alias: str = ""
    fee_msat: int = 0
    """What ``node_id`` charges to forward onward (0 for the destination)."""
    cltv_delta: int = 0
    """The CLTV delta ``node_id`` takes to forward onward (0 for the destination)."""

    @property
    def short_channel_id_dir(self) -> str:
        return f"{self.short_channel_id}/{self.direction}"

    @property
    def name(self) -> str:
        """The alias, or the start of the node id for nodes without one."""
        return self.alias or self.node_id[:16]

    def to_sendpay(self) -> SendpayHop:
        return SendpayHop(self.node_id, self.short_channel_id, self.direction, self.amount_msat, self.delay)


@dataclass(frozen=True)
class Route:
    """A path from us to the destination, with the amounts and delays each hop gets."""

    hops: tuple[Hop, ...]
    source: str = ""
    """Our node id (the sender)."""

    @property
    def destination(self) -> str:
        return self.hops[-1].node_id if self.hops else self.source

    @property
    def amount_msat(self) -> int:
        """What the destination receives."""
        return self.hops[-1].amount_msat if self.hops else 0

    @property
    def amount_sent_msat(self) -> int:
        """What leaves our node: the amount plus every fee."""
        return self.hops[0].amount_msat if self.hops else 0

    @property
    def fee_msat(self) -> int:
        return self.amount_sent_msat - self.amount_msat

    @property
    def total_delay(self) -> int:
        """The CLTV our HTLC carries: the worst case, in blocks, that our funds may be locked."""
        return self.hops[0].delay if self.hops else 0

    @property
    def final_cltv(self) -> int:
        """The CLTV the destination gets."""
        return self.hops[-1].delay if self.hops else 0

    @property
    def nodes(self) -> tuple[str, ...]:
        """Every node in order, us first."""
        return (self.source, *(hop.node_id for hop in self.hops))

    @property
    def channels(self) -> list[ChannelSpec]:
        """The path alone, as :func:`recompute` takes it."""
        return [(hop.short_channel_id, hop.direction, hop.node_id) for hop in self.hops]

    def node_before(self, index: int) -> str:
        """The node hop ``index`` starts from (us for hop 0)."""
        return self.source if index == 0 else self.hops[index - 1].node_id

    def expiry_height(self, blockheight: int) -> int:
        """The block our HTLC expires at if sent now: lightningd adds blockheight + 1 to the route's delays."""
        return blockheight + 1 + self.total_delay

    def to_sendpay(self) -> list[SendpayHop]:
        """The exact list ``sendpay`` takes."""
        return [hop.to_sendpay() for hop in self.hops]


# ---------------------------------------------------------------------------------------------------------------
# Errors


class RouteError(ValueError):
    """A route problem with a message for the user (``message``)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class RouteNotFound(RouteError):
    """The finder found no route: ``reason`` is the node's own words, ``code`` its error code (205, 206...)."""

    def __init__(self, reason: str, code: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code


class RouteEditError(RouteError):
    """An edit that cannot be made (the route is left as it was)."""


class RouteImportError(RouteError):
    """A pasted route that is not one ``sendpay`` would take."""


class _NoChannel(RouteEditError):
    """No usable channel between two nodes; ``reason`` is the phrase to build a sentence with."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason[0].upper() + reason[1:] + ".")
        self.reason = reason


# ---------------------------------------------------------------------------------------------------------------
# Route hints


@dataclass(frozen=True)
class HintChannel:
    """One entry of an invoice route hint (BOLT 11 ``r``): ``node_id`` forwards over ``short_channel_id``.

    :class:`lnconsole.invoice.HintHop` has the same attributes; either works wherever a hint is taken.
    """

    node_id: str
    short_channel_id: str
    fee_base_msat: int
    fee_proportional_millionths: int
    cltv_expiry_delta: int

    @classmethod
    def from_json(cls, entry: Mapping[str, Any]) -> HintChannel:
        """A ``decode``/``decodepay`` ``routes`` entry (``pubkey``, ``short_channel_id``, ...)."""
        return cls(
            node_id=str(entry.get("pubkey", entry.get("node_id", ""))),
            short_channel_id=str(entry["short_channel_id"]),
            fee_base_msat=_int_msat(entry.get("fee_base_msat", 0)),
            fee_proportional_millionths=int(entry.get("fee_proportional_millionths", 0)),
            cltv_expiry_delta=int(entry.get("cltv_expiry_delta", 0)),
        )


def hints_from_decode(decoded: Mapping[str, Any]) -> list[list[HintChannel]]:
    """The route hints of a ``decode`` answer (its ``routes`` member)."""
    return [[HintChannel.from_json(entry) for entry in hint] for hint in decoded.get("routes", []) or []]


def _int_msat(value: Any) -> int:
    text = str(value)
    return int(text[:-4]) if text.endswith("msat") else int(text)


# ---------------------------------------------------------------------------------------------------------------
# Conversions from the finders' answers


def _alias_of(aliases: AliasLookup | None) -> Callable[[str], str]:
    if aliases is None:
        return lambda node_id: ""
    if isinstance(aliases, Mapping):
        mapping = aliases
        return lambda node_id: mapping.get(node_id, "")
    return aliases


def _with_charges(hops: Sequence[Hop]) -> tuple[Hop, ...]:
    """Fill each hop's fee and CLTV delta from the amounts: what it receives less what it forwards."""
    result = []
    for index, hop in enumerate(hops):
        if index + 1 < len(hops):
            nxt = hops[index + 1]
            fee, delta = hop.amount_msat - nxt.amount_msat, hop.delay - nxt.delay
        else:
            fee, delta = 0, 0
        result.append(
            Hop(hop.node_id, hop.short_channel_id, hop.direction, hop.amount_msat, hop.delay, hop.alias, fee, delta)
        )
    return tuple(result)


def _split_scid_dir(text: str) -> tuple[str, int]:
    scid, _, direction = text.partition("/")
    return scid, int(direction)


def route_from_getroutes(found: FoundRoute, source: str, aliases: AliasLookup | None = None) -> Route:
    """A getroutes route in sendpay's terms: each hop's ``amount_out_msat``/``cltv_out`` (what arrives at
    ``node_id_out``). Answers in the pre-v26.06 shape (``amount_msat``/``delay`` = into the hop) are shifted:
    what goes out of hop j is what goes into hop j+1, and the route's ``amount_msat``/``final_cltv`` at the end."""
    alias = _alias_of(aliases)
    path = found.path
    hops = []
    for index, hop in enumerate(path):
        scid, direction = _split_scid_dir(hop.short_channel_id_dir)
        if hop.amount_out_msat or hop.cltv_out:
            amount, delay = hop.amount_out_msat, hop.cltv_out
        elif index + 1 < len(path):
            amount, delay = path[index + 1].amount_in_msat, path[index + 1].cltv_in
        else:
            amount, delay = found.amount_msat, found.final_cltv
        hops.append(Hop(hop.node_id_out, scid, direction, amount, delay, alias(hop.node_id_out)))
    return Route(_with_charges(hops), source)


def route_from_getroute(hops: Sequence[SendpayHop], source: str, aliases: AliasLookup | None = None) -> Route:
    """A getroute answer (already sendpay's shape), with each hop's fee and CLTV delta worked out."""
    alias = _alias_of(aliases)
    return Route(
        _with_charges([Hop(h.id, h.channel, h.direction, h.amount_msat, h.delay, alias(h.id)) for h in hops]),
        source,
    )


# ---------------------------------------------------------------------------------------------------------------
# Recompute: amounts and delays backward from the destination


def recompute(
    channels: Sequence[ChannelSpec] | Sequence[tuple[str, int, str]],
    amount_msat: int,
    final_cltv: int,
    policies: ChannelPolicies,
    *,
    source: str | None = None,
) -> Route:
    """The route over ``channels`` that delivers ``amount_msat`` with ``final_cltv``, priced as CLN does.

    Backward from the destination (common/route.c): the last hop gets the amount and the final CLTV; each
    earlier hop gets what the next one gets plus the fee (base + floor(amount * ppm / 1e6)) and CLTV delta of
    the *next* channel, the one its node forwards over. The first channel's own policy never counts: we don't
    charge ourselves. Raises :class:`RouteError` when a channel's policy is unknown.
    """
    if not channels:
        raise RouteError("A route needs at least one channel.")
    if amount_msat <= 0:
        raise RouteError("A route must deliver more than 0msat.")
    if final_cltv < 0:
        raise RouteError("The final CLTV cannot be negative.")
    source = source if source is not None else policies.our_id
    specs: list[tuple[str, int, str]] = []
    for index, (scid, direction, node_id) in enumerate(channels):
        if node_id is None:
            policy = policies.policy(scid, direction)
            if policy is None:
                raise RouteError(f"hop {index + 1}: {scid}/{direction} is not a channel the node knows.")
            node_id = policy.destination
        specs.append((scid, int(direction), node_id))
    amounts = [0] * len(specs)
    delays = [0] * len(specs)
    fees = [0] * len(specs)
    deltas = [0] * len(specs)
    amount, delay = amount_msat, final_cltv
    for index in range(len(specs) - 1, -1, -1):
        amounts[index], delays[index] = amount, delay
        if index == 0:
            break
        scid, direction, _ = specs[index]
        policy = policies.policy(scid, direction)
        if policy is None:
            raise RouteError(
                f"hop {index + 1}: {scid}/{direction} is not a channel the node knows, so its fee is unknown."
            )
        fees[index - 1], deltas[index - 1] = policy.fee_for(amount), policy.cltv_delta
        amount += fees[index - 1]
        delay += deltas[index - 1]
    hops = tuple(
        Hop(node_id, scid, direction, amounts[i], delays[i], policies.alias(node_id), fees[i], deltas[i])
        for i, (scid, direction, node_id) in enumerate(specs)
    )
    return Route(hops, source)


# ---------------------------------------------------------------------------------------------------------------
# Validation


@dataclass(frozen=True)
class RouteLimits:
    """The user's limits for one route (None: no limit)."""

    maxfee_msat: int | None = None
    maxdelay: int | None = None


@dataclass(frozen=True)
class HopProblem:
    """Something wrong with hop ``index`` (0-based), to be shown beside it."""

    index: int
    reason: str
    kind: str = ""
    """``unknown``, ``chain``, ``direction``, ``disabled``, ``not_ours``, ``offline``, ``spendable``,
    ``htlc_minimum``, ``htlc_maximum``, ``capacity``, ``fee``, ``cltv``."""


@dataclass(frozen=True)
class RouteProblem:
    """Something wrong with the route as a whole."""

    reason: str
    kind: str = ""
    """``empty``, ``loop``, ``maxfee``, ``maxdelay``, ``payee``, ``amount``, ``final_cltv``."""


@dataclass(frozen=True)
class RouteCheck:
    """A route's validation: per-hop problems in place, route-level ones, and the totals against the limits."""

    route: Route
    hop_problems: tuple[HopProblem, ...]
    route_problems: tuple[RouteProblem, ...]
    limits: RouteLimits

    @property
    def ok(self) -> bool:
        return not self.hop_problems and not self.route_problems

    @property
    def fee_msat(self) -> int:
        return self.route.fee_msat

    @property
    def total_delay(self) -> int:
        return self.route.total_delay

    def problems_at(self, index: int) -> tuple[HopProblem, ...]:
        return tuple(problem for problem in self.hop_problems if problem.index == index)

    def kinds(self) -> set[str]:
        return {p.kind for p in self.hop_problems} | {p.kind for p in self.route_problems}

    @property
    def messages(self) -> list[str]:
        """Every problem as a sentence, hops first (1-based as the user sees them)."""
        return [f"hop {p.index + 1}: {p.reason}" for p in self.hop_problems] + [p.reason for p in self.route_problems]


def _name(policies: ChannelPolicies, node_id: str) -> str:
    """The alias, or the start of the id. An alias is only a label: a node that refuses to look one up (an id
    that is no public key, pasted in an imported route) gets no alias, and the check goes on."""
    try:
        alias = policies.alias(node_id)
    except NodeUnreachable:
        raise
    except NodeError:
        alias = ""
    return alias or node_id[:16]


def _usability(policy: ChannelPolicy, amount_msat: int, first: bool) -> list[tuple[str, str]]:
    """(kind, reason) for each reason ``policy`` can't carry ``amount_msat`` now."""
    found: list[tuple[str, str]] = []
    if not policy.active:
        found.append(("disabled", f"{policy.short_channel_id_dir} is disabled"))
    if first and policy.local:
        if not policy.peer_connected:
            found.append(("offline", f"the peer of {policy.short_channel_id} is not connected"))
        elif policy.state not in (None, "CHANNELD_NORMAL", "CHANNELD_AWAITING_SPLICE"):
            found.append(("offline", f"{policy.short_channel_id} is {policy.state}"))
        if policy.spendable_msat is not None and policy.spendable_msat < amount_msat:
            found.append(
                (
                    "spendable",
                    f"we can send only {format_msat(policy.spendable_msat)} over {policy.short_channel_id}, "
                    f"the route needs {format_msat(amount_msat)}",
                )
            )
    if amount_msat < policy.htlc_minimum_msat:
        found.append(
            (
                "htlc_minimum",
                f"{format_msat(amount_msat)} is below {policy.short_channel_id_dir}'s htlc_minimum "
                f"{format_msat(policy.htlc_minimum_msat)}",
            )
        )
    if policy.htlc_maximum_msat is not None and amount_msat > policy.htlc_maximum_msat:
        found.append(
            (
                "htlc_maximum",
                f"{format_msat(amount_msat)} is above {policy.short_channel_id_dir}'s htlc_maximum "
                f"{format_msat(policy.htlc_maximum_msat)}",
            )
        )
    if policy.capacity_msat is not None and amount_msat > policy.capacity_msat and not policy.local:
        found.append(
            (
                "capacity",
                f"{format_msat(amount_msat)} is more than {policy.short_channel_id}'s capacity "
                f"{format_msat(policy.capacity_msat)}",
            )
        )
    return found


def check_route(
    route: Route,
    policies: ChannelPolicies,
    *,
    our_id: str,
    limits: RouteLimits | None = None,
    payee: str | None = None,
    amount_msat: int | None = None,
    final_cltv: int | None = None,
) -> RouteCheck:
    """Validate ``route`` against the channels' current policies and the user's limits.

    Per hop: the channel joins the previous node to this one in this direction, is enabled, can carry the
    amount (htlc_minimum/maximum, capacity); the first is ours with enough spendable; each node is paid at
    least the fee and CLTV delta its next channel asks. Route-wide: total fee and delay within ``limits``,
    the destination is ``payee``, it receives ``amount_msat`` (single part) with at least ``final_cltv``.
    """
    limits = limits or RouteLimits()
    hop_problems: list[HopProblem] = []
    route_problems: list[RouteProblem] = []
    hops = route.hops
    if not hops:
        route_problems.append(RouteProblem("The route has no hops.", "empty"))
    if route.source != our_id and hops:
        hop_problems.append(
            HopProblem(0, f"the route starts at {_name(policies, route.source)}, not at our node", "not_ours")
        )
    priced: list[ChannelPolicy | None] = []
    for index, hop in enumerate(hops):
        prev = route.node_before(index)
        directions = policies.channel(hop.short_channel_id)
        policy = next((p for p in directions if p.direction == hop.direction), None)
        if not directions:
            hop_problems.append(HopProblem(index, f"{hop.short_channel_id} is not a channel the node knows", "unknown"))
            priced.append(None)
            continue
        ends = {p.source for p in directions} | {p.destination for p in directions}
        if prev not in ends or hop.node_id not in ends:
            a, b = sorted(ends)[0], sorted(ends)[-1]
            hop_problems.append(
                HopProblem(
                    index,
                    f"{hop.short_channel_id} joins {_name(policies, a)} and {_name(policies, b)}, not "
                    f"{_name(policies, prev)} and {_name(policies, hop.node_id)}",
                    "chain",
                )
            )
            priced.append(None)
            continue
        if policy is None or policy.source != prev or policy.destination != hop.node_id:
            right = direction_between(prev, hop.node_id)
            hop_problems.append(
                HopProblem(
                    index,
                    f"direction {hop.direction} of {hop.short_channel_id} goes from {_name(policies, hop.node_id)} "
                    f"to {_name(policies, prev)}; from {_name(policies, prev)} it is direction {right}",
                    "direction",
                )
            )
            priced.append(None)
            continue
        if index == 0 and route.source == our_id and not policy.local:
            hop_problems.append(HopProblem(0, f"{hop.short_channel_id} is not one of our channels", "not_ours"))
        for kind, reason in _usability(policy, hop.amount_msat, first=index == 0):
            hop_problems.append(HopProblem(index, reason, kind))
        priced.append(policy)
    # What each node is paid against what its next channel asks.
    for index in range(len(hops) - 1):
        policy = priced[index + 1]
        if policy is None:
            continue
        hop, nxt = hops[index], hops[index + 1]
        paid, asked = hop.amount_msat - nxt.amount_msat, policy.fee_for(nxt.amount_msat)
        if paid < asked:
            hop_problems.append(
                HopProblem(
                    index,
                    f"{_name(policies, hop.node_id)} asks {format_msat(asked)} to forward over "
                    f"{nxt.short_channel_id}, the route pays it {format_msat(paid)}",
                    "fee",
                )
            )
        given = hop.delay - nxt.delay
        if given < policy.cltv_delta:
            hop_problems.append(
                HopProblem(
                    index,
                    f"{_name(policies, hop.node_id)} needs a CLTV delta of {policy.cltv_delta} to forward over "
                    f"{nxt.short_channel_id}, the route gives it {given}",
                    "cltv",
                )
            )
    nodes = route.nodes
    repeated = sorted({node for node in nodes if nodes.count(node) > 1})
    for node in repeated:
        route_problems.append(RouteProblem(f"{_name(policies, node)} appears more than once on the route", "loop"))
    if hops:
        if limits.maxfee_msat is not None and route.fee_msat > limits.maxfee_msat:
            route_problems.append(
                RouteProblem(
                    f"the fee {format_msat(route.fee_msat)} is above the limit {format_msat(limits.maxfee_msat)}",
                    "maxfee",
                )
            )
        if limits.maxdelay is not None and route.total_delay > limits.maxdelay:
            route_problems.append(
                RouteProblem(
                    f"the delay of {route.total_delay} blocks is above the limit of {limits.maxdelay}", "maxdelay"
                )
            )
        if payee is not None and route.destination != payee:
            route_problems.append(
                RouteProblem(
                    f"the route ends at {_name(policies, route.destination)}, not at the payee "
                    f"{_name(policies, payee)}",
                    "payee",
                )
            )
        if amount_msat is not None and route.amount_msat != amount_msat:
            route_problems.append(
                RouteProblem(
                    f"the route delivers {format_msat(route.amount_msat)}, the invoice asks {format_msat(amount_msat)}",
                    "amount",
                )
            )
        if final_cltv is not None and route.final_cltv < final_cltv:
            route_problems.append(
                RouteProblem(
                    f"the final CLTV {route.final_cltv} is below the invoice's min_final_cltv_expiry {final_cltv}",
                    "final_cltv",
                )
            )
    return RouteCheck(route, tuple(hop_problems), tuple(route_problems), limits)


# ---------------------------------------------------------------------------------------------------------------
# Finding routes


def _exclusion_entries(exclude_channels: Iterable[str]) -> list[str]:
    """``scid/dir`` entries; a bare ``scid`` excludes both directions."""
    entries: list[str] = []
    for channel in exclude_channels:
        channel = channel.strip()
        if "/" in channel:
            entries.append(channel)
        else:
            entries.extend((f"{channel}/0", f"{channel}/1"))
    return sorted(set(entries))


@dataclass(frozen=True)
class _Query:
    """One route query's settings (exclusions normalised: sorted ``scid/dir`` entries and node ids)."""

    source: str
    final_cltv: int
    maxfee_msat: int | None
    maxdelay: int | None
    exclude_nodes: tuple[str, ...]
    exclude_channels: tuple[str, ...]
    maxparts: int
    riskfactor: float
    maxhops: int | None
    fuzzpercent: float


class RouteFinder:
    """Finds routes with ``getroutes`` (askrene), or ``getroute`` on nodes that predate it.

    The user's exclusions live in the console's own askrene layer (``layer``), rebuilt only when they change;
    queries use ``auto.localchans`` (our channels' real spendable), ``auto.sourcefree`` (no fee or delay on
    the source's own channels, which sendpay doesn't charge) and that layer. Thread-safe.
    """

    def __init__(
        self,
        node: NodeClient,
        our_id: str,
        *,
        layer: str = "lnconsole",
        policies: ChannelPolicies | None = None,
    ) -> None:
        self.node = node
        self.our_id = our_id
        self.layer = layer
        self.policies = policies or ChannelPolicies(node, our_id)
        self._getroutes: bool | None = None
        self._layer_state: tuple[tuple[str, ...], tuple[str, ...]] | None = None
        self._lock = threading.RLock()

    @property
    def uses_getroutes(self) -> bool:
        """Whether the node has getroutes (maxparts, maxfee/maxdelay in the search) or only getroute
        (riskfactor, maxhops, fuzzpercent). Learnt from the node's -32601 answers; asked once if not yet known."""
        if self._getroutes is None:
            known = getattr(getattr(self.node, "capabilities", None), "getroutes", None)
            if known is not None:
                self._getroutes = bool(known)
            else:
                try:
                    self.node.call("getroutes", {})
                    self._getroutes = True
                except NodeUnreachable:
                    raise
                except NodeError as error:
                    self._getroutes = error.code != METHOD_NOT_FOUND
        return self._getroutes

    def find(
        self,
        destination: str,
        amount_msat: int,
        *,
        final_cltv: int,
        maxfee_msat: int | None = None,
        maxdelay: int | None = None,
        exclude_nodes: Sequence[str] = (),
        exclude_channels: Sequence[str] = (),
        maxparts: int = 1,
        source: str | None = None,
        riskfactor: float = 10,
        maxhops: int | None = None,
        fuzzpercent: float = 0,
        route_hints: Sequence[Sequence[HintHopLike]] = (),
    ) -> list[Route]:
        """Routes delivering ``amount_msat`` to ``destination`` together (one per part; one unless maxparts > 1
        and the node has getroutes). ``final_cltv`` is the invoice's min_final_cltv_expiry; ``maxfee_msat`` None
        means no limit. ``exclude_channels`` take ``scid/dir`` or ``scid`` (both directions). getroute only:
        riskfactor, maxhops, fuzzpercent. When the destination has no public channel and ``route_hints`` are
        given, the last hops come from a hint. Raises :class:`RouteNotFound` with the node's reason."""
        if amount_msat <= 0:
            raise RouteNotFound("The amount must be more than 0msat.")
        if maxparts < 1:
            raise RouteNotFound("maxparts must be at least 1.")
        query = _Query(
            source=source or self.our_id,
            final_cltv=final_cltv,
            maxfee_msat=maxfee_msat,
            maxdelay=maxdelay,
            exclude_nodes=tuple(sorted({n.strip().lower() for n in exclude_nodes})),
            exclude_channels=tuple(_exclusion_entries(exclude_channels)),
            maxparts=maxparts,
            riskfactor=riskfactor,
            maxhops=maxhops,
            fuzzpercent=fuzzpercent,
        )
        hints = [list(hint) for hint in route_hints if list(hint)]
        if hints and not self.policies.is_public(destination):
            return self._find_via_hints(destination, amount_msat, hints, query)
        return self._find(destination, amount_msat, query)

    # -- one query -------------------------------------------------------------------------------------------

    def _find(self, destination: str, amount_msat: int, query: _Query) -> list[Route]:
        if query.source == destination:
            raise RouteNotFound("The route would start and end at the same node.")
        if self._getroutes is not False:
            try:
                return self._getroutes_query(destination, amount_msat, query)
            except NodeUnreachable:
                raise
            except NodeError as error:
                if error.code != METHOD_NOT_FOUND:
                    raise RouteNotFound(error.message, error.code) from error
                self._getroutes = False
        return [self._getroute_query(destination, amount_msat, query)]

    def _sync_layer(self, nodes: tuple[str, ...], channels: tuple[str, ...]) -> None:
        """Make our layer hold exactly these exclusions (rebuilt only when they changed)."""
        state = (nodes, channels)
        if self._layer_state == state:
            return
        self._layer_state = None
        self.node.create_layer(self.layer)
        for node_id in nodes:
            self.node.layer_disable_node(self.layer, node_id)
        for scidd in channels:
            self.node.layer_disable_channel(self.layer, scidd)
        self._layer_state = state

    def _getroutes_query(self, destination: str, amount_msat: int, query: _Query) -> list[Route]:
        with self._lock:
            for attempt in range(2):
                layers = ["auto.localchans", "auto.sourcefree"]
                if query.exclude_nodes or query.exclude_channels:
                    self._sync_layer(query.exclude_nodes, query.exclude_channels)
                    layers.append(self.layer)
                try:
                    found = self.node.getroutes(
                        query.source,
                        destination,
                        amount_msat,
                        layers=layers,
                        maxfee_msat=MAX_MSAT if query.maxfee_msat is None else query.maxfee_msat,
                        final_cltv=query.final_cltv,
                        maxdelay=query.maxdelay,
                        maxparts=query.maxparts,
                    )
                    break
                except NodeError as error:
                    # Someone removed our layer behind our back: rebuild it once.
                    unknown_layer = error.code == INVALID_PARAMS and "unknown layer" in error.message.lower()
                    if attempt == 0 and unknown_layer:
                        self._layer_state = None
                        continue
                    raise
        self._getroutes = True
        return [route_from_getroutes(route, query.source, self.policies.aliases) for route in found.routes]

    def _getroute_query(self, destination: str, amount_msat: int, query: _Query) -> Route:
        try:
            hops = self.node.getroute(
                destination,
                amount_msat,
                riskfactor=query.riskfactor,
                cltv=query.final_cltv,
                fromid=None if query.source == self.our_id else query.source,
                fuzzpercent=query.fuzzpercent,
                exclude=[*query.exclude_channels, *query.exclude_nodes],
                maxhops=query.maxhops,
            )
        except NodeUnreachable:
            raise
        except NodeError as error:
            if error.code == METHOD_NOT_FOUND:
                raise RouteNotFound(
                    "This node has neither getroutes nor getroute (deprecated APIs are off?).", error.code
                ) from error
            raise RouteNotFound(error.message, error.code) from error
        if not hops:
            raise RouteNotFound("The node found no route.", PAY_ROUTE_NOT_FOUND)
        route = route_from_getroute(hops, query.source, self.policies.aliases)
        if query.maxfee_msat is not None and route.fee_msat > query.maxfee_msat:
            raise RouteNotFound(
                f"The cheapest route costs {format_msat(route.fee_msat)}, more than maxfee "
                f"{format_msat(query.maxfee_msat)}.",
                PAY_ROUTE_TOO_EXPENSIVE,
            )
        if query.maxdelay is not None and route.total_delay > query.maxdelay:
            raise RouteNotFound(
                f"The route found needs a delay of {route.total_delay} blocks, more than maxdelay {query.maxdelay}.",
                PAY_ROUTE_TOO_EXPENSIVE,
            )
        return route

    # -- private payees --------------------------------------------------------------------------------------

    def _find_via_hints(
        self, destination: str, amount_msat: int, hints: list[list[HintHopLike]], query: _Query
    ) -> list[Route]:
        """A route to each hint's entry node, then the hint's channels; the cheapest hint wins."""
        best: list[Route] | None = None
        reasons: list[str] = []
        for hint in hints:
            channels = self.policies.add_hint(hint, destination)
            entry = channels[0].source
            amount, cltv = amount_msat, query.final_cltv
            for policy in reversed(channels):
                amount += policy.fee_for(amount)
                cltv += policy.cltv_delta
            tail: list[ChannelSpec] = [(p.short_channel_id, p.direction, p.destination) for p in channels]
            if entry == query.source:
                parts: list[list[ChannelSpec]] = [[]]
                shares = [amount_msat]
            else:
                budget = None if query.maxfee_msat is None else query.maxfee_msat - (amount - amount_msat)
                if budget is not None and budget < 0:
                    reasons.append(f"the hint through {_name(self.policies, entry)} alone costs more than maxfee")
                    continue
                try:
                    found = self._find(entry, amount, replace(query, final_cltv=cltv, maxfee_msat=budget))
                except RouteNotFound as error:
                    reasons.append(error.reason)
                    continue
                parts = [route.channels for route in found]
                # Each part delivers its share of the amount: proportional to what it brings to the entry.
                brought = [route.amount_msat for route in found]
                shares = [amount_msat * b // sum(brought) for b in brought]
                shares[-1] += amount_msat - sum(shares)
            try:
                routes = [
                    recompute(part + tail, share, query.final_cltv, self.policies, source=query.source)
                    for part, share in zip(parts, shares, strict=True)
                ]
            except RouteError as error:
                reasons.append(error.message)
                continue
            if best is None or sum(r.fee_msat for r in routes) < sum(r.fee_msat for r in best):
                best = routes
        if best is None:
            raise RouteNotFound(
                "No route through the invoice's route hints: " + "; ".join(dict.fromkeys(reasons)),
                PAY_ROUTE_NOT_FOUND,
            )
        return best


# ---------------------------------------------------------------------------------------------------------------
# Edits


@dataclass(frozen=True)
class ChannelChoice:
    """A channel that could carry a hop, with what it would cost there."""

    policy: ChannelPolicy
    fee_msat: int
    """What the hop's start node charges over this channel for the hop's amount (0 when that is us)."""
    cltv_delta: int
    current: bool
    problems: tuple[str, ...] = ()

    @property
    def short_channel_id(self) -> str:
        return self.policy.short_channel_id

    @property
    def usable(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class RouteEdit:
    """The result of an edit: the recomputed route, its check, and what changed (for an undo list)."""

    route: Route
    check: RouteCheck
    description: str


class RouteEditor:
    """Edits routes hop by hop; every edit recomputes amounts and delays and re-validates.

    The route's own delivered amount and final CLTV are kept through edits. ``payee``, ``amount_msat`` and
    ``final_cltv`` (the invoice's) only feed the check.
    """

    def __init__(
        self,
        policies: ChannelPolicies,
        *,
        our_id: str | None = None,
        limits: RouteLimits | None = None,
        finder: RouteFinder | None = None,
        payee: str | None = None,
        amount_msat: int | None = None,
        final_cltv: int | None = None,
        route_hints: Sequence[Sequence[HintHopLike]] = (),
    ) -> None:
        self.policies = policies
        self.our_id = our_id or policies.our_id
        self.limits = limits or RouteLimits()
        self.finder = finder
        self.payee = payee
        self.amount_msat = amount_msat
        self.final_cltv = final_cltv
        self.route_hints = route_hints

    def check(self, route: Route) -> RouteCheck:
        return check_route(
            route,
            self.policies,
            our_id=self.our_id,
            limits=self.limits,
            payee=self.payee,
            amount_msat=self.amount_msat,
            final_cltv=self.final_cltv,
        )

    def _name(self, node_id: str) -> str:
        return _name(self.policies, node_id)

    def _rebuild(self, route: Route, channels: Sequence[ChannelSpec], description: str) -> RouteEdit:
        try:
            new = recompute(channels, route.amount_msat, route.final_cltv, self.policies, source=route.source)
        except RouteError as error:
            raise RouteEditError(error.message) from error
        return RouteEdit(new, self.check(new), description)

    @staticmethod
    def _hop_index(route: Route, index: int, *, allow_last: bool = True) -> None:
        count = len(route.hops)
        if not route.hops:
            raise RouteEditError("The route is empty.")
        if not 0 <= index < count:
            raise RouteEditError(f"There is no hop {index + 1}: the route has {count} hops.")
        if not allow_last and index == count - 1:
            raise RouteEditError(f"Hop {count} reaches the destination, which stays on the route.")

    def _choices(self, source: str, destination: str, amount_msat: int, first: bool) -> list[ChannelChoice]:
        choices = []
        for policy in self.policies.channels_between(source, destination):
            choices.append(
                ChannelChoice(
                    policy=policy,
                    fee_msat=0 if first else policy.fee_for(amount_msat),
                    cltv_delta=0 if first else policy.cltv_delta,
                    current=False,
                    problems=tuple(reason for _, reason in _usability(policy, amount_msat, first)),
                )
            )
        choices.sort(key=lambda c: (not c.usable, c.fee_msat, c.cltv_delta, c.short_channel_id))
        return choices

    def _pick(
        self, source: str, destination: str, short_channel_id: str | None, amount_msat: int, first: bool
    ) -> ChannelPolicy:
        """The channel from ``source`` to ``destination``: the one named, or the cheapest enabled one."""
        if short_channel_id is not None:
            return self._joining(short_channel_id, source, destination)
        choices = self._choices(source, destination, amount_msat, first)
        enabled = [c for c in choices if c.policy.usable]
        if enabled:
            return enabled[0].policy
        if not choices:
            raise _NoChannel(f"{self._name(source)} has no channel to {self._name(destination)}")
        raise _NoChannel(
            f"every channel from {self._name(source)} to {self._name(destination)} is disabled ("
            + ", ".join(c.short_channel_id for c in choices)
            + ")"
        )

    def _joining(self, short_channel_id: str, source: str, destination: str) -> ChannelPolicy:
        short_channel_id = short_channel_id.strip().partition("/")[0]
        directions = self.policies.channel(short_channel_id)
        if not directions:
            raise RouteEditError(f"{short_channel_id} is not a channel the node knows.")
        match = next((p for p in directions if p.source == source and p.destination == destination), None)
        if match is None:
            ends = sorted({p.source for p in directions} | {p.destination for p in directions})
            raise RouteEditError(
                f"{short_channel_id} joins {' and '.join(self._name(e) for e in ends)}, not "
                f"{self._name(source)} and {self._name(destination)}."
            )
        return match

    def alternatives(self, route: Route, index: int) -> list[ChannelChoice]:
        """Every channel that could carry hop ``index`` (same two nodes), usable and cheapest first."""
        self._hop_index(route, index)
        hop = route.hops[index]
        choices = self._choices(route.node_before(index), hop.node_id, hop.amount_msat, first=index == 0)
        return [
            ChannelChoice(
                c.policy,
                c.fee_msat,
                c.cltv_delta,
                c.policy.short_channel_id_dir == hop.short_channel_id_dir,
                c.problems,
            )
            for c in choices
        ]

    def swap_channel(self, route: Route, index: int, short_channel_id: str) -> RouteEdit:
        """Hop ``index`` over another channel between the same two nodes."""
        self._hop_index(route, index)
        hop = route.hops[index]
        policy = self._joining(short_channel_id, route.node_before(index), hop.node_id)
        channels = route.channels
        channels[index] = (policy.short_channel_id, policy.direction, hop.node_id)
        return self._rebuild(route, channels, f"hop {index + 1} now goes over {policy.short_channel_id}")

    def insert_hop(
        self,
        route: Route,
        index: int,
        node_id: str,
        channel_in: str | None = None,
        channel_out: str | None = None,
    ) -> RouteEdit:
        """Put ``node_id`` between hop ``index``'s start node and its end: the new node becomes hop ``index``.

        The channels into and out of it are the ones named, else the cheapest enabled ones.
        """
        self._hop_index(route, index)
        node_id = node_id.strip().lower()
        if node_id in route.nodes:
            raise RouteEditError(f"{self._name(node_id)} is already on the route.")
        before, after = route.node_before(index), route.hops[index].node_id
        amount_out = route.hops[index].amount_msat
        out = self._pick(node_id, after, channel_out, amount_out, first=False)
        amount_in = amount_out + out.fee_for(amount_out)
        into = self._pick(before, node_id, channel_in, amount_in, first=index == 0)
        channels = route.channels
        channels[index : index + 1] = [
            (into.short_channel_id, into.direction, node_id),
            (out.short_channel_id, out.direction, after),
        ]
        return self._rebuild(
            route,
            channels,
            f"{self._name(node_id)} inserted between {self._name(before)} and {self._name(after)}",
        )

    def remove_hop(self, route: Route, index: int, short_channel_id: str | None = None) -> RouteEdit:
        """Drop the node hop ``index`` reaches; its two neighbours must share a channel (the one named, else
        the cheapest enabled one)."""
        self._hop_index(route, index, allow_last=False)
        before, after = route.node_before(index), route.hops[index + 1].node_id
        removed = route.hops[index].node_id
        if before == after:
            channels = route.channels
            del channels[index : index + 2]
            if not channels:
                raise RouteEditError("Removing that node would leave no route.")
        else:
            try:
                joined = self._pick(
                    before, after, short_channel_id, route.hops[index + 1].amount_msat, first=index == 0
                )
            except _NoChannel as error:
                raise RouteEditError(f"{self._name(removed)} can't be dropped: {error.reason}.") from error
            channels = route.channels
            channels[index : index + 2] = [(joined.short_channel_id, joined.direction, after)]
        return self._rebuild(route, channels, f"{self._name(removed)} removed")

    def exclude_and_reroute(
        self,
        route: Route,
        from_index: int,
        exclude_nodes: Sequence[str] = (),
        exclude_channels: Sequence[str] = (),
    ) -> RouteEdit:
        """Keep the hops before ``from_index`` and find the rest anew from that hop's start node to the
        destination, avoiding ``exclude_nodes``/``exclude_channels`` (``scid`` or ``scid/dir``)."""
        if self.finder is None:
            raise RouteEditError("Rerouting needs a route finder.")
        self._hop_index(route, from_index)
        start = route.node_before(from_index)
        kept = route.hops[:from_index]
        behind = route.nodes[:from_index]
        nodes = [n.strip().lower() for n in exclude_nodes]
        for node_id in nodes:
            if node_id == route.destination:
                raise RouteEditError("The destination can't be excluded.")
            if node_id == start or node_id in behind:
                raise RouteEditError(
                    f"{self._name(node_id)} comes before hop {from_index + 1}: reroute from an earlier hop to avoid it."
                )
        for channel in exclude_channels:
            scid = channel.strip().partition("/")[0]
            if any(hop.short_channel_id == scid for hop in kept):
                raise RouteEditError(
                    f"{scid} comes before hop {from_index + 1}: reroute from an earlier hop to avoid it."
                )
        # Never back through the nodes kept: that would be a loop.
        avoid = sorted(set(nodes) | set(behind))
        try:
            found = self.finder.find(
                route.destination,
                route.amount_msat,
                final_cltv=route.final_cltv,
                maxfee_msat=self.limits.maxfee_msat,
                maxdelay=self.limits.maxdelay,
                exclude_nodes=avoid,
                exclude_channels=tuple(exclude_channels),
                source=start,
                route_hints=self.route_hints,
            )
        except RouteNotFound as error:
            raise RouteEditError(
                f"No route from {self._name(start)} to {self._name(route.destination)} with those exclusions: "
                f"{error.reason}"
            ) from error
        channels = [(h.short_channel_id, h.direction, h.node_id) for h in kept] + found[0].channels
        avoided = [self._name(n) for n in nodes] + list(exclude_channels)
        return self._rebuild(
            route,
            channels,
            f"rerouted from {self._name(start)}" + (f" avoiding {', '.join(avoided)}" if avoided else ""),
        )


# ---------------------------------------------------------------------------------------------------------------
# Import and export


def route_to_json(route: Route) -> str:
    """The route as the JSON list ``lightning-cli sendpay`` takes (id, channel, direction, amount_msat, delay,
    style), in the member names every CLN version accepts."""
    return json.dumps([hop.to_sendpay().to_json() for hop in route.hops])


_NODE_ID = re.compile(r"^0[23][0-9a-fA-F]{64}$")
_SCID = re.compile(r"^[0-9]{1,20}x[0-9]{1,20}x[0-9]{1,20}$")
_SCID_DIR = re.compile(r"^([0-9]{1,20}x[0-9]{1,20}x[0-9]{1,20})/([01])$")
_MSAT_TEXT = re.compile(r"^[0-9]{1,20}(msat)?$")
"""An amount as text: ASCII digits (``str.isdigit`` also takes ``²``, which ``int`` can't read), optionally
``msat``; more than 20 digits is past 21 million bitcoin anyway."""


def _pick_member(entry: Mapping[str, Any], names: Sequence[str]) -> tuple[str, Any] | None:
    """The first of ``names`` present (current name first, then older ones)."""
    for name in names:
        if name in entry:
            return name, entry[name]
    return None


def _whole(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def _parse_hop(number: int, entry: Any, before: str, policies: ChannelPolicies | None) -> Hop:
    where = f"hop {number}"
    if not isinstance(entry, Mapping):
        raise RouteImportError(f"{where}: expected an object with id, channel, direction, amount_msat and delay.")
    found = _pick_member(entry, ("node_id_out", "id"))
    if found is None:
        raise RouteImportError(f"{where}: id is missing (the node at the end of the hop).")
    name, node_id = found
    if not isinstance(node_id, str) or not _NODE_ID.match(node_id):
        raise RouteImportError(f"{where}: {name} must be a node id (66 hex digits starting 02 or 03).")
    node_id = node_id.lower()

    direction: int | None = None
    if "short_channel_id_dir" in entry:
        value = entry["short_channel_id_dir"]
        match = _SCID_DIR.match(value) if isinstance(value, str) else None
        if match is None:
            raise RouteImportError(f"{where}: short_channel_id_dir must look like 103x1x0/0.")
        scid, direction = match.group(1), int(match.group(2))
    elif "channel" in entry:
        scid = entry["channel"]
        if not isinstance(scid, str) or not _SCID.match(scid):
            raise RouteImportError(f"{where}: channel must be a short_channel_id like 103x1x0.")
    else:
        raise RouteImportError(f"{where}: channel is missing.")
    block, tx, output = (int(part) for part in scid.split("x"))
    if block >= 1 << 24 or tx >= 1 << 24 or output >= 1 << 16:
        # lightningd refuses such a short_channel_id in every command: say so here, not after a node error.
        raise RouteImportError(
            f"{where}: {scid[:30]} is not a short_channel_id (block and transaction below 16777216, output "
            "below 65536)."
        )
    if direction is None and "direction" in entry:
        value = _whole(entry["direction"])
        if value not in (0, 1):
            raise RouteImportError(f"{where}: direction must be 0 or 1.")
        direction = value
    if direction is None:  # BOLT 7: it follows from the two node ids
        direction = direction_between(before, node_id)

    found = _pick_member(entry, ("amount_out_msat", "amount_msat", "msatoshi"))
    if found is None:
        raise RouteImportError(f"{where}: amount_msat is missing.")
    name, value = found
    amount = _whole(value)
    if amount is None and isinstance(value, str) and _MSAT_TEXT.match(value):
        amount = int(value.removesuffix("msat"))
    if amount is None or amount < 0:
        raise RouteImportError(f"{where}: {name} must be a whole number of millisatoshi.")
    if amount == 0:
        raise RouteImportError(f"{where}: {name} must be more than 0.")
    if amount > MAX_MSAT:
        raise RouteImportError(f"{where}: {name} is more than 21 million bitcoin.")

    found = _pick_member(entry, ("cltv_out", "delay"))
    if found is None:
        raise RouteImportError(f"{where}: delay is missing.")
    name, value = found
    delay = _whole(value)
    if delay is None or not 0 <= delay < 1 << 32:
        raise RouteImportError(f"{where}: {name} must be a whole number of blocks.")

    style = entry.get("style", "tlv")
    if style != "tlv":
        raise RouteImportError(f'{where}: style must be "tlv" (lightningd no longer takes {style!r}).')
    alias = policies.alias(node_id) if policies is not None else ""
    return Hop(node_id, scid, direction, amount, delay, alias)


def route_from_json(text: str, source: str, policies: ChannelPolicies | None = None) -> Route:
    """A route pasted as JSON: sendpay's list (old member names ``id``/``channel``/``direction``/
    ``amount_msat``/``delay``, or v26.06's ``node_id_out``/``short_channel_id_dir``/``amount_out_msat``/
    ``cltv_out``), a getroute answer (``{"route": [...]}``) or one getroutes route (``{"path": [...]}``).
    Each hop's fee and CLTV delta are worked out from the amounts; check the route with :func:`check_route`.
    """
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise RouteImportError(f"That is not JSON: {error.msg} (line {error.lineno}, column {error.colno}).") from error
    except (TypeError, ValueError) as error:
        raise RouteImportError(f"That is not JSON: {error}.") from error
    except RecursionError as error:
        raise RouteImportError("That is not a route: its JSON is nested too deeply.") from error
    if isinstance(data, Mapping):
        if isinstance(data.get("route"), list):
            data = data["route"]
        elif isinstance(data.get("path"), list):
            data = data["path"]
        elif isinstance(data.get("routes"), list) and len(data["routes"]) == 1:
            data = data["routes"][0].get("path") if isinstance(data["routes"][0], Mapping) else None
        else:
            raise RouteImportError("Expected a JSON list of hops, as sendpay takes it.")
    if not isinstance(data, list):
        raise RouteImportError("Expected a JSON list of hops, as sendpay takes it.")
    if not data:
        raise RouteImportError("The route is empty: it needs at least one hop.")
    hops: list[Hop] = []
    for number, entry in enumerate(data, start=1):
        before = hops[-1].node_id if hops else source
        hops.append(_parse_hop(number, entry, before, policies))
    return Route(_with_charges(hops), source)


__all__ = [
    "ChannelChoice",
    "HintChannel",
    "Hop",
    "HopProblem",
    "Route",
    "RouteCheck",
    "RouteEdit",
    "RouteEditError",
    "RouteEditor",
    "RouteError",
    "RouteFinder",
    "RouteImportError",
    "RouteLimits",
    "RouteNotFound",
    "RouteProblem",
    "check_route",
    "hints_from_decode",
    "recompute",
    "route_from_getroute",
    "route_from_getroutes",
    "route_from_json",
    "route_to_json",
]
