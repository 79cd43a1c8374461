"""BOLT 4 failure messages: what each failcode means to a node operator, where on the route it happened, and
what to do next.

The table is BOLT 4's ``onion_wire.csv`` (as CLN ships it) written out in Python with an explanation and a next
step for each failure; ``tests/engine/test_failures.py`` checks it against the CSV. :func:`explain` turns a
``RoutingFailure`` (the ``data`` of a 203/204 error) and the route it was sent on into a
:class:`FailureExplanation`: the erring hop located as lightningd's ``remote_routing_failure`` does, the
failcode named and explained, the next step, and the exclusions a reroute should add.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass

from .node import PAY_DESTINATION_PERM_FAIL, PAY_UNPARSEABLE_ONION, RoutingFailure
from .routing import Route

BADONION = 0x8000
PERM = 0x4000
NODE = 0x2000
UPDATE = 0x1000
FLAG_BITS = (("BADONION", BADONION), ("PERM", PERM), ("NODE", NODE), ("UPDATE", UPDATE))

CHANNEL_UPDATE_TYPE = 258
"""A channel_update's BOLT 7 message type (0x0102), which prefixes it inside a failure message."""


class NextStep(enum.Enum):
    """What to do after a part failed."""

    RETRY_ELSEWHERE = "retry_elsewhere"
    """Reroute the part (same amount) excluding the erring channel direction."""
    EXCLUDE_NODE = "exclude_node"
    """Reroute the part around the erring node."""
    UPDATE_AND_RETRY = "update_and_retry"
    """The channel's policy changed (or was misread): refresh it, recompute the route, retry."""
    STOP = "stop"
    """Don't retry: the destination refused, or the failure is permanent for this payment."""


@dataclass(frozen=True)
class FailureKind:
    """One BOLT 4 failure message type."""

    name: str
    code: int
    """The failcode: N plus the flag bits."""
    explanation: str
    """One sentence a node operator understands."""
    next_step: NextStep
    fields: tuple[tuple[str, str], ...] = ()
    """The message's fields after the failcode, ``(name, type)`` as onion_wire.csv lists them."""
    final_only: bool = False
    """Only the final node sends it: the payment itself was refused."""
    stop_advice: str = ""
    """What to tell the user when the next step is STOP."""
    known: bool = True

    @property
    def failcodename(self) -> str:
        """lightningd's ``failcodename``: ``WIRE_`` and the upper-cased name."""
        return f"WIRE_{self.name.upper()}" if self.known else f"UNKNOWN WIRE TYPE {self.code}"

    @property
    def flags(self) -> tuple[str, ...]:
        return flag_names(self.code)

    @property
    def number(self) -> int:
        """N, the failcode without its flag bits."""
        return self.code & 0x0FFF


def flag_names(failcode: int) -> tuple[str, ...]:
    return tuple(name for name, bit in FLAG_BITS if failcode & bit)


_UPDATE_FIELDS = (("len", "u16"), ("channel_update", "byte,len"))
_ONION_HASH = (("sha256_of_onion", "sha256"),)


def _kind(
    name: str,
    code: int,
    next_step: NextStep,
    explanation: str,
    fields: tuple[tuple[str, str], ...] = (),
    *,
    final_only: bool = False,
    stop_advice: str = "",
) -> FailureKind:
    return FailureKind(name, code, explanation, next_step, fields, final_only, stop_advice)


FAILURES: dict[int, FailureKind] = {
    kind.code: kind
    for kind in (
        _kind(
            "temporary_node_failure",
            NODE | 2,
            NextStep.EXCLUDE_NODE,
            "The node had a temporary problem of its own (busy, restarting or short of resources) "
            "and would not forward the payment.",
        ),
        _kind(
            "permanent_node_failure",
            PERM | NODE | 2,
            NextStep.EXCLUDE_NODE,
            "The node has a permanent problem and will not forward any payment.",
        ),
        _kind(
            "required_node_feature_missing",
            PERM | NODE | 3,
            NextStep.EXCLUDE_NODE,
            "The node requires a feature that our payment did not use, so it will not forward it.",
        ),
        _kind(
            "invalid_onion_version",
            BADONION | PERM | 4,
            NextStep.EXCLUDE_NODE,
            "The node could not read the payment's onion: it uses a version the node does not understand.",
            _ONION_HASH,
        ),
        _kind(
            "invalid_onion_hmac",
            BADONION | PERM | 5,
            NextStep.EXCLUDE_NODE,
            "The node found the onion's integrity check (HMAC) wrong: the onion was corrupted on the way "
            "or built for another node.",
            _ONION_HASH,
        ),
        _kind(
            "invalid_onion_key",
            BADONION | PERM | 6,
            NextStep.EXCLUDE_NODE,
            "The node could not use the onion's ephemeral key, so it could not read its instructions.",
            _ONION_HASH,
        ),
        _kind(
            "temporary_channel_failure",
            UPDATE | 7,
            NextStep.RETRY_ELSEWHERE,
            "The channel could not carry the payment right now: usually not enough liquidity on that side, "
            "or too many payments already in flight on it.",
            _UPDATE_FIELDS,
        ),
        _kind(
            "permanent_channel_failure",
            PERM | 8,
            NextStep.RETRY_ELSEWHERE,
            "The channel is closed or unusable for good.",
        ),
        _kind(
            "required_channel_feature_missing",
            PERM | 9,
            NextStep.RETRY_ELSEWHERE,
            "The channel requires a feature that our payment did not use.",
        ),
        _kind(
            "unknown_next_peer",
            PERM | 10,
            NextStep.RETRY_ELSEWHERE,
            "The node has no usable channel with that short_channel_id to forward over (closed, never "
            "existed, or the peer is gone).",
        ),
        _kind(
            "amount_below_minimum",
            UPDATE | 11,
            NextStep.UPDATE_AND_RETRY,
            "The amount is below the smallest payment the channel accepts (its htlc_minimum_msat).",
            (("htlc_msat", "u64"), *_UPDATE_FIELDS),
        ),
        _kind(
            "fee_insufficient",
            UPDATE | 12,
            NextStep.UPDATE_AND_RETRY,
            "The fee left for this node is less than its channel policy asks: its fees may have changed "
            "since our gossip was updated.",
            (("htlc_msat", "u64"), *_UPDATE_FIELDS),
        ),
        _kind(
            "incorrect_cltv_expiry",
            UPDATE | 13,
            NextStep.UPDATE_AND_RETRY,
            "The CLTV delta left for this node is less than its channel policy asks (cltv_expiry_delta).",
            (("cltv_expiry", "u32"), *_UPDATE_FIELDS),
        ),
        _kind(
            "expiry_too_soon",
            UPDATE | 14,
            NextStep.UPDATE_AND_RETRY,
            "The payment's expiry is too close to the current block height for this node to forward it "
            "safely (our node may be behind on blocks).",
            _UPDATE_FIELDS,
        ),
        _kind(
            "incorrect_or_unknown_payment_details",
            PERM | 15,
            NextStep.STOP,
            "The payee does not recognise the payment: unknown or already paid payment_hash, wrong "
            "payment_secret, wrong amount, or its final CLTV too close.",
            (("htlc_msat", "u64"), ("height", "u32")),
            final_only=True,
            stop_advice="Don't retry: check the invoice (already paid? expired? right amount?).",
        ),
        _kind(
            "final_incorrect_cltv_expiry",
            18,
            NextStep.STOP,
            "The payee got a payment whose CLTV expiry does not match what the onion told it.",
            (("cltv_expiry", "u32"),),
            final_only=True,
            stop_advice="Don't retry: the last node changed the payment's expiry on the way.",
        ),
        _kind(
            "final_incorrect_htlc_amount",
            19,
            NextStep.STOP,
            "The payee got less than the onion told it to expect: a node on the way took too much.",
            (("incoming_htlc_amt", "u64"),),
            final_only=True,
            stop_advice="Don't retry on this route: the last node changed the amount on the way.",
        ),
        _kind(
            "channel_disabled",
            UPDATE | 20,
            NextStep.RETRY_ELSEWHERE,
            "The channel is disabled: its peer is offline or the channel is closing.",
            (("disabled_flags", "u16"), *_UPDATE_FIELDS),
        ),
        _kind(
            "expiry_too_far",
            21,
            NextStep.EXCLUDE_NODE,
            "The payment's total CLTV is further in the future than this node accepts: a route with a "
            "smaller total delay is needed.",
        ),
        _kind(
            "invalid_onion_payload",
            PERM | 22,
            NextStep.EXCLUDE_NODE,
            "The node could not parse its part of the onion (a field missing, malformed or not understood).",
            (("type", "bigsize"), ("offset", "u16")),
        ),
        _kind(
            "mpp_timeout",
            23,
            NextStep.STOP,
            "The payee did not receive every part of the multi-part payment in time (60 s in CLN) and "
            "released the parts it was holding.",
            final_only=True,
            stop_advice="Don't retry this part alone: retrying the whole payment (all parts, in a new group) may work.",
        ),
        _kind(
            "invalid_onion_blinding",
            BADONION | PERM | 24,
            NextStep.EXCLUDE_NODE,
            "A node inside a blinded path could not process the onion.",
            _ONION_HASH,
        ),
    )
}
FAILURES_BY_NAME: dict[str, FailureKind] = {kind.name: kind for kind in FAILURES.values()}


def failure_kind(failcode: int) -> FailureKind:
    """The failure's kind; an unknown failcode gets a generic one, judged by its flag bits."""
    kind = FAILURES.get(failcode)
    if kind is not None:
        return kind
    flags = flag_names(failcode)
    if failcode & (NODE | BADONION):
        step = NextStep.EXCLUDE_NODE
    elif failcode & UPDATE:
        step = NextStep.UPDATE_AND_RETRY
    else:
        step = NextStep.RETRY_ELSEWHERE
    described = f" ({'|'.join(flags)})" if flags else ""
    return FailureKind(
        name=f"unknown_failure_{failcode}",
        code=failcode,
        explanation=f"A failure this console does not know (code {failcode}, 0x{failcode:04x}{described}).",
        next_step=step,
        known=False,
    )


# ---------------------------------------------------------------------------------------------------------------
# The failure message (raw_message)


@dataclass(frozen=True)
class ChannelUpdate:
    """The BOLT 7 channel_update an UPDATE failure carries: the erring channel's policy as its node sees it."""

    short_channel_id: str
    direction: int
    disabled: bool
    timestamp: int
    cltv_expiry_delta: int
    htlc_minimum_msat: int
    fee_base_msat: int
    fee_proportional_millionths: int
    htlc_maximum_msat: int | None

    @property
    def short_channel_id_dir(self) -> str:
        return f"{self.short_channel_id}/{self.direction}"

    def fee_for(self, amount_msat: int) -> int:
        return self.fee_base_msat + amount_msat * self.fee_proportional_millionths // 1_000_000


@dataclass(frozen=True)
class FailureMessage:
    """A decoded ``raw_message``: the failcode, its fields, and the channel_update if it has one."""

    failcode: int
    fields: tuple[tuple[str, int | str], ...] = ()
    channel_update: ChannelUpdate | None = None
    complete: bool = True
    """False when the message was shorter than its type says (the fields read so far are kept)."""

    def field(self, name: str) -> int | str | None:
        return next((value for key, value in self.fields if key == name), None)


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.position = 0

    @property
    def left(self) -> int:
        return len(self.data) - self.position

    def take(self, count: int) -> bytes:
        if count > self.left:
            raise EOFError
        chunk = self.data[self.position : self.position + count]
        self.position += count
        return chunk

    def uint(self, size: int) -> int:
        return int.from_bytes(self.take(size), "big")

    def bigsize(self) -> int:
        first = self.uint(1)
        size = {0xFD: 2, 0xFE: 4, 0xFF: 8}.get(first)
        return self.uint(size) if size else first


_SIZES = {"u16": 2, "u32": 4, "u64": 8}


def decode_failure_message(raw_message: str | None) -> FailureMessage | None:
    """Decode a failure message (hex): None if it is not even a failcode.

    lightningd forwards UPDATE failures from its own checks with a length-prefixed channel_update, but
    those from channeld with ``len`` 0 and the update appended after (``channel_offer_htlc_reply``): both read.
    """
    if not raw_message:
        return None
    try:
        data = bytes.fromhex(raw_message)
    except (ValueError, TypeError):
        return None
    if len(data) < 2:
        return None
    reader = _Reader(data)
    failcode = reader.uint(2)
    kind = FAILURES.get(failcode)
    if kind is None:
        return FailureMessage(failcode, (("data", data[2:].hex()),) if len(data) > 2 else ())
    fields: list[tuple[str, int | str]] = []
    update: ChannelUpdate | None = None
    length = 0
    try:
        for name, kind_of in kind.fields:
            if kind_of in _SIZES:
                value = reader.uint(_SIZES[kind_of])
                if name == "len":
                    length = value
                    continue
                fields.append((name, value))
            elif kind_of == "sha256":
                fields.append((name, reader.take(32).hex()))
            elif kind_of == "bigsize":
                fields.append((name, reader.bigsize()))
            elif name == "channel_update":
                raw_update = reader.take(length) if length else reader.take(reader.left)
                update = parse_channel_update(raw_update)
    except EOFError:
        return FailureMessage(failcode, tuple(fields), update, complete=False)
    return FailureMessage(failcode, tuple(fields), update)


def parse_channel_update(raw: bytes) -> ChannelUpdate | None:
    """A channel_update with or without its 0x0102 type prefix; None if it is too short to be one."""
    if len(raw) >= 2 and int.from_bytes(raw[:2], "big") == CHANNEL_UPDATE_TYPE and len(raw) >= 2 + 128:
        raw = raw[2:]
    # signature 64, chain_hash 32, short_channel_id 8, timestamp 4, message_flags 1, channel_flags 1,
    # cltv_expiry_delta 2, htlc_minimum_msat 8, fee_base_msat 4, fee_proportional_millionths 4, [htlc_maximum 8]
    if len(raw) < 128:
        return None
    reader = _Reader(raw)
    reader.take(64 + 32)
    scid = reader.uint(8)
    timestamp = reader.uint(4)
    message_flags = reader.uint(1)
    channel_flags = reader.uint(1)
    cltv_delta = reader.uint(2)
    htlc_minimum = reader.uint(8)
    fee_base = reader.uint(4)
    fee_ppm = reader.uint(4)
    htlc_maximum = reader.uint(8) if message_flags & 1 and reader.left >= 8 else None
    return ChannelUpdate(
        short_channel_id=f"{scid >> 40}x{scid >> 16 & 0xFFFFFF}x{scid & 0xFFFF}",
        direction=channel_flags & 1,
        disabled=bool(channel_flags & 2),
        timestamp=timestamp,
        cltv_expiry_delta=cltv_delta,
        htlc_minimum_msat=htlc_minimum,
        fee_base_msat=fee_base,
        fee_proportional_millionths=fee_ppm,
        htlc_maximum_msat=htlc_maximum,
    )


# ---------------------------------------------------------------------------------------------------------------
# Explaining a failure


@dataclass(frozen=True)
class FailureExplanation:
    """A failed part, explained: where, what, and what to do next."""

    failcode: int | None
    name: str
    failcodename: str | None
    flags: tuple[str, ...]
    explanation: str
    next_step: NextStep
    advice: str
    """The next step in words, for this failure."""
    erring_index: int | None
    erring_node: str | None
    erring_alias: str
    erring_channel: str | None
    erring_direction: int | None
    erring_hop: int | None
    """Index in ``route.hops`` of the erring channel; None when no route was given or it is not on it."""
    from_destination: bool
    """The payee itself (or the node reading the onion on its behalf) refused the payment."""
    from_us: bool
    """Our own node refused to send (erring_index 0), e.g. no such first channel or not enough spendable."""
    error_code: int | None
    exclusions: tuple[str, ...] = ()
    """What a reroute should avoid: ``scid/direction`` strings and node ids."""
    message: FailureMessage | None = None

    @property
    def erring_channel_dir(self) -> str | None:
        if self.erring_channel is None or self.erring_direction is None:
            return None
        return f"{self.erring_channel}/{self.erring_direction}"

    @property
    def final(self) -> bool:
        """The destination's answer: this payment (at least in this group) won't go through by rerouting."""
        return self.from_destination

    @property
    def exclude_nodes(self) -> tuple[str, ...]:
        return tuple(item for item in self.exclusions if "/" not in item)

    @property
    def exclude_channels(self) -> tuple[str, ...]:
        """``scid/direction`` strings, as getroute's ``exclude`` and askrene-update-channel take them."""
        return tuple(item for item in self.exclusions if "/" in item)

    @property
    def channel_update(self) -> ChannelUpdate | None:
        return self.message.channel_update if self.message else None

    @property
    def retryable(self) -> bool:
        return self.next_step is not NextStep.STOP

    @property
    def summary(self) -> str:
        """One line: the failcode, where, and the next step."""
        where = self.erring_alias or _short_id(self.erring_node)
        if self.erring_channel_dir:
            where += f" on {self.erring_channel_dir}"
        return f"{self.name} at {where}: {self.advice}"


def _short_id(node_id: str | None) -> str:
    return f"{node_id[:12]}…" if node_id and len(node_id) > 12 else (node_id or "?")


def explain(
    failure: RoutingFailure,
    route: Route | None = None,
    error_code: int | None = None,
    *,
    aliases: Mapping[str, str] | None = None,
) -> FailureExplanation:
    """Explain a routing failure on the route it was sent on; never raises, whatever the node sent.

    ``erring_index`` k: 0 is our node (sendpay or our channeld refused: the channel is the route's first); k
    from 1 is the route's k-th node, ``route.hops[k-1]``, and the channel it could not forward over is
    ``route.hops[k]``, or the last one when the final node failed. A BADONION failure is reported by the node
    *before* the one that could not read the onion, so the erring node is then ``route.hops[k]``.
    """
    failcode = failure.failcode if isinstance(failure.failcode, int) and 0 <= failure.failcode <= 0xFFFF else None
    kind = failure_kind(failcode) if failcode is not None else None
    hops = route.hops if route is not None else ()
    source = route.source if route is not None else ""
    destination = hops[-1].node_id if hops else (failure.payment.destination if failure.payment else None)
    names = {hop.node_id: hop.alias for hop in hops if hop.alias}
    names.update(aliases or {})

    index = failure.erring_index if isinstance(failure.erring_index, int) else None
    node = failure.erring_node if isinstance(failure.erring_node, str) and failure.erring_node else None
    channel = failure.erring_channel if isinstance(failure.erring_channel, str) and failure.erring_channel else None
    direction = failure.erring_direction if failure.erring_direction in (0, 1) else None
    hop_index: int | None = None
    if index is not None and hops and 0 <= index <= len(hops):
        hop_index = 0 if index == 0 else min(index, len(hops) - 1)
        if node is None:
            if index == 0:
                node = source or None
            elif index < len(hops) and failcode is not None and failcode & BADONION:
                node = hops[index].node_id
            else:
                node = hops[index - 1].node_id
        if channel is None:
            channel = hops[hop_index].short_channel_id
    if channel is not None and hops:
        on_route = [i for i, hop in enumerate(hops) if hop.short_channel_id == channel]
        if hop_index not in on_route:
            hop_index = on_route[0] if on_route else None
    if direction is None and hop_index is not None and channel == hops[hop_index].short_channel_id:
        direction = hops[hop_index].direction

    from_us = index == 0 or (bool(source) and node == source)
    from_destination = (
        error_code == PAY_DESTINATION_PERM_FAIL
        or (index is not None and bool(hops) and index == len(hops))
        or (node is not None and node == destination and not from_us)
        or (kind is not None and kind.final_only)
    )

    channel_dir = f"{channel}/{direction}" if channel is not None and direction is not None else None
    message = decode_failure_message(failure.raw_message)
    alias = names.get(node or "", "") or ("this node" if from_us and node else "")
    who = alias or _short_id(node)

    if kind is None:
        name = "unknown failure"
        explanation = (
            "The failure reply could not be decrypted, so where and why it failed is unknown."
            if error_code == PAY_UNPARSEABLE_ONION
            else "The node reported a failure without a failcode."
        )
        step = NextStep.RETRY_ELSEWHERE
        failcodename = failure.failcodename if isinstance(failure.failcodename, str) else None
        flags: tuple[str, ...] = ()
    else:
        name = kind.name
        explanation = kind.explanation
        step = kind.next_step
        failcodename = failure.failcodename if isinstance(failure.failcodename, str) else kind.failcodename
        flags = kind.flags

    update = message.channel_update if message else None
    if update is not None and update.disabled:
        explanation += " Its channel_update says the channel is now disabled (peer offline or channel closing)."
        if step is NextStep.UPDATE_AND_RETRY:
            step = NextStep.RETRY_ELSEWHERE
    if from_destination:
        step = NextStep.STOP
    if step is NextStep.EXCLUDE_NODE and (from_us or node is None):
        step = NextStep.RETRY_ELSEWHERE

    exclusions: tuple[str, ...] = ()
    if step is NextStep.RETRY_ELSEWHERE and channel_dir:
        exclusions = (channel_dir,)
    elif step is NextStep.EXCLUDE_NODE and node:
        exclusions = (node,)

    advice = _advice(step, kind, who, channel_dir, update, from_destination, located=bool(exclusions))
    return FailureExplanation(
        failcode=failcode,
        name=name,
        failcodename=failcodename,
        flags=flags,
        explanation=explanation,
        next_step=step,
        advice=advice,
        erring_index=index,
        erring_node=node,
        erring_alias=alias,
        erring_channel=channel,
        erring_direction=direction,
        erring_hop=hop_index,
        from_destination=from_destination,
        from_us=from_us,
        error_code=error_code,
        exclusions=exclusions,
        message=message,
    )


def _advice(
    step: NextStep,
    kind: FailureKind | None,
    who: str,
    channel_dir: str | None,
    update: ChannelUpdate | None,
    from_destination: bool,
    *,
    located: bool,
) -> str:
    if step is NextStep.STOP:
        if kind is not None and kind.stop_advice:
            return kind.stop_advice
        if from_destination:
            return "Don't retry: the destination refused the payment."
        return "Don't retry."
    if step is NextStep.RETRY_ELSEWHERE:
        if not located:
            return "Retry on another route: the failing hop could not be located."
        return f"Reroute this part around {who}'s channel {channel_dir}, keeping the amount."
    if step is NextStep.EXCLUDE_NODE:
        return f"Reroute this part around {who}, keeping the amount."
    where = f"channel {channel_dir}" if channel_dir else "its channel"
    if update is not None:
        return (
            f"{who} asks for {update.fee_base_msat} msat + {update.fee_proportional_millionths} ppm and CLTV delta "
            f"{update.cltv_expiry_delta} (minimum {update.htlc_minimum_msat} msat) on {where}: "
            "refresh the route with this policy and retry."
        )
    return f"Refresh {who}'s policy on {where} (listchannels), recompute the route and retry."


__all__ = [
    "BADONION",
    "FAILURES",
    "FAILURES_BY_NAME",
    "NODE",
    "PERM",
    "UPDATE",
    "ChannelUpdate",
    "FailureExplanation",
    "FailureKind",
    "FailureMessage",
    "NextStep",
    "decode_failure_message",
    "explain",
    "failure_kind",
    "flag_names",
    "parse_channel_update",
]
