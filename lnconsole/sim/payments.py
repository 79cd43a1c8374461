"""Our node's outgoing payments: ``sendpay``, ``waitsendpay``, ``listsendpays``, ``delpay``, ``listpays``.

The bookkeeping follows lightningd's ``lightningd/pay.c``: one record per part, keyed by (payment_hash,
partid, groupid), ``check_progress``'s rules before a part is sent, waiters woken when a part settles or
fails, and the routing failure object built the way ``remote_routing_failure`` builds it. Each part's HTLC
then crosses the simulated network hop by hop (``hop_delay_ms`` per hop, each way): every forwarding node
checks the onion against its channel's *current* policy and liquidity in the order of ``forward_htlc``
(``lightningd/peer_htlcs.c``) and channeld, and the payee checks the invoice and holds multi-part sets as
``lightningd/htlc_set.c`` does. Failures travel back as BOLT 4 failure messages shaped byte for byte like
real nodes', so ``raw_message`` reads the same as on a real node.

State lives on the server's event loop (no locks) and is indexed so that 100,000 payments stay cheap: by id
(created order), by payment_hash, by updated_index, and the pending ones apart. With a state file
(:mod:`lnconsole.sim.state`) every change is also written through as it happens, and the parts still pending when
the node stopped go on when it starts again (:meth:`PaymentBook.resume`).
"""

from __future__ import annotations

import asyncio
import bisect
import hashlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from coincurve import PrivateKey

from .errors import (
    LIGHTNINGD,
    PAY_DESTINATION_PERM_FAIL,
    PAY_IN_PROGRESS,
    PAY_INVOICE_REQUEST_INVALID,
    PAY_NO_SUCH_PAYMENT,
    PAY_RHASH_ALREADY_USED,
    PAY_TRY_OTHER_ROUTE,
    PAY_UNPARSEABLE_ONION,
    RpcFault,
    invalid_params,
)
from .invoices import MIN_FINAL_CLTV_EXPIRY, Bolt11Error, InvoiceBook, SimInvoice, decode_bolt11
from .network import Channel, HalfChannel, direction_between
from .params import (
    Param,
    amount_token,
    any_string,
    bad_param,
    boolean,
    digits_token,
    fmt_msat,
    hex_string,
    integer,
    invstring,
    is_node_id,
    is_short_channel_id,
    msat,
    scid_to_int,
    secret,
    sha256,
    split_scid_dir,
    string,
    u32,
    u64,
)
from .registry import CallContext, rpc_command

if TYPE_CHECKING:
    from .node import SimNode
    from .state import NodeState

log = logging.getLogger(__name__)

# ---------------------------------------------------------------------------------------------------------
# BOLT 4 failure messages

BADONION = 0x8000
PERM = 0x4000
NODE = 0x2000
UPDATE = 0x1000

WIRE_TEMPORARY_NODE_FAILURE = NODE | 2
WIRE_INVALID_ONION_HMAC = BADONION | PERM | 5
WIRE_TEMPORARY_CHANNEL_FAILURE = UPDATE | 7
WIRE_UNKNOWN_NEXT_PEER = PERM | 10
WIRE_AMOUNT_BELOW_MINIMUM = UPDATE | 11
WIRE_FEE_INSUFFICIENT = UPDATE | 12
WIRE_INCORRECT_CLTV_EXPIRY = UPDATE | 13
WIRE_EXPIRY_TOO_SOON = UPDATE | 14
WIRE_INCORRECT_OR_UNKNOWN_PAYMENT_DETAILS = PERM | 15
WIRE_FINAL_INCORRECT_HTLC_AMOUNT = 19
WIRE_EXPIRY_TOO_FAR = 21
WIRE_INVALID_ONION_PAYLOAD = PERM | 22
WIRE_MPP_TIMEOUT = 23

FAILCODE_NAMES = {
    NODE | 2: "WIRE_TEMPORARY_NODE_FAILURE",
    PERM | NODE | 2: "WIRE_PERMANENT_NODE_FAILURE",
    PERM | NODE | 3: "WIRE_REQUIRED_NODE_FEATURE_MISSING",
    BADONION | PERM | 4: "WIRE_INVALID_ONION_VERSION",
    BADONION | PERM | 5: "WIRE_INVALID_ONION_HMAC",
    BADONION | PERM | 6: "WIRE_INVALID_ONION_KEY",
    UPDATE | 7: "WIRE_TEMPORARY_CHANNEL_FAILURE",
    PERM | 8: "WIRE_PERMANENT_CHANNEL_FAILURE",
    PERM | 9: "WIRE_REQUIRED_CHANNEL_FEATURE_MISSING",
    PERM | 10: "WIRE_UNKNOWN_NEXT_PEER",
    UPDATE | 11: "WIRE_AMOUNT_BELOW_MINIMUM",
    UPDATE | 12: "WIRE_FEE_INSUFFICIENT",
    UPDATE | 13: "WIRE_INCORRECT_CLTV_EXPIRY",
    UPDATE | 14: "WIRE_EXPIRY_TOO_SOON",
    PERM | 15: "WIRE_INCORRECT_OR_UNKNOWN_PAYMENT_DETAILS",
    18: "WIRE_FINAL_INCORRECT_CLTV_EXPIRY",
    19: "WIRE_FINAL_INCORRECT_HTLC_AMOUNT",
    UPDATE | 20: "WIRE_CHANNEL_DISABLED",
    21: "WIRE_EXPIRY_TOO_FAR",
    PERM | 22: "WIRE_INVALID_ONION_PAYLOAD",
    23: "WIRE_MPP_TIMEOUT",
    BADONION | PERM | 24: "WIRE_INVALID_ONION_BLINDING",
}
"""Failcode -> the name lightningd reports (``failcodename`` and the ``failed: NAME (...)`` messages)."""

MAX_HTLC_CLTV = 2016
"""lightningd's ``max_htlc_cltv``: a forward further in the future fails with expiry_too_far."""
TLV_PAYLOAD_PAYMENT_METADATA = 16
ROUTING_INFO_SIZE = 1300
"""Bytes of hop payloads an onion carries (BOLT 4): longer routes cannot be sent."""

# Regtest lightningd's commitment numbers (listpeerchannels in the sendpay transcripts: feerate perkw 3755,
# last_tx_fee 4220 sat for the anchor commitment's 1124 weight units), for channeld's "Capacity exceeded - HTLC
# fee" wording and for listpeerchannels.
COMMITMENT_FEERATE_PERKW = 3755
COMMITMENT_BASE_WEIGHT = 1124
HTLC_OUTPUT_WEIGHT = 172
DUST_LIMIT_MSAT = 546_000
"""Our channels' dust limit (listpeerchannels ``dust_limit_msat``): smaller HTLCs are trimmed."""

CHAIN_HASHES = {
    "regtest": "06226e46111a0b59caaf126043eb5bbf28c34f3a5e332a1fc7b2b73cf188910f",
    "bitcoin": "6fe28c0ab6f1b372c1a6a246ae63f74f931e8365e15a089c68d6190000000000",
    "testnet": "43497fd7f826957108f4a30fd9cec3aeba79972084e90ead01ea330900000000",
    "signet": "f61eee3b63a380a477a063af32b2bbc97c9ff9f01f2c4225e973988108000000",
}
"""Genesis block hashes as BOLT 7 ``chain_hash`` puts them on the wire."""


def failcode_name(failcode: int) -> str | None:
    return FAILCODE_NAMES.get(failcode)


def _u16(value: int) -> bytes:
    return value.to_bytes(2, "big")


def _u32(value: int) -> bytes:
    return value.to_bytes(4, "big")


def _u64(value: int) -> bytes:
    return value.to_bytes(8, "big")


def failure_code(failmsg: bytes) -> int:
    """The failcode of a BOLT 4 failure message (its first two bytes), as ``fromwire_peektype``."""
    return int.from_bytes(failmsg[:2], "big")


def channel_update(node: SimNode, channel: Channel, direction: int, *, disabled: bool = False) -> bytes:
    """The BOLT 7 ``channel_update`` (138 bytes) that the direction's source would gossip now, signed by it.

    Forwarding nodes put it in UPDATE-flag failures, as lightningd's ``channel_update_for_error`` does.
    """
    half = channel.halves[direction]
    source = node.network.nodes[channel.source(direction)]
    channel_flags = direction | (2 if disabled or not half.enabled else 0)
    body = (
        bytes.fromhex(CHAIN_HASHES.get(node.network_name, CHAIN_HASHES["regtest"]))
        + _u64(scid_to_int(channel.short_channel_id))
        + _u32(half.last_update & 0xFFFFFFFF)
        + bytes([1, channel_flags])  # message_flags: must_be_one (htlc_maximum_msat present)
        + _u16(half.cltv_delta)
        + _u64(half.htlc_minimum_msat)
        + _u32(half.base_fee_msat)
        + _u32(half.fee_ppm)
        + _u64(half.htlc_maximum_msat)
    )
    digest = hashlib.sha256(hashlib.sha256(body).digest()).digest()
    signature = PrivateKey(source.secret_key).sign_recoverable(digest, hasher=None)[:64]
    return _u16(0x0102) + signature + body


def with_update(failcode: int, fields: bytes, update: bytes) -> bytes:
    """An UPDATE failure whose ``channel_update`` is length-prefixed (lightningd's own forwarding checks)."""
    return _u16(failcode) + fields + _u16(len(update)) + update


def channeld_failure(failcode: int, fields: bytes, update: bytes) -> bytes:
    """An UPDATE failure as channeld reports it: a zero ``len``, then lightningd appends the update anyway.

    That is what real nodes send for a failed HTLC add (e.g. too little liquidity): ``1007 0000 0102...``.
    """
    return _u16(failcode) + fields + _u16(0) + update


def incorrect_or_unknown(htlc_msat: int, blockheight: int) -> bytes:
    return _u16(WIRE_INCORRECT_OR_UNKNOWN_PAYMENT_DETAILS) + _u64(htlc_msat) + _u32(blockheight)


def _tu_len(value: int) -> int:
    """Length of a BOLT 1 truncated unsigned integer."""
    return (value.bit_length() + 7) // 8


def onion_payload_bytes(hops: list[RouteHop], base_expiry: int, total_msat: int, has_secret: bool) -> int:
    """Bytes the hop payloads (TLV, length prefix and HMAC each) take in the onion."""
    size = 0
    for index, hop in enumerate(hops):
        forward = hops[index + 1] if index + 1 < len(hops) else None
        amount = forward.amount_msat if forward else hop.amount_msat
        cltv = base_expiry + (forward.delay if forward else hop.delay)
        tlv = 2 + _tu_len(amount) + 2 + _tu_len(cltv)
        if forward:
            tlv += 2 + 8
        elif has_secret:
            tlv += 2 + 32 + _tu_len(total_msat)
        size += (1 if tlv < 253 else 3) + tlv + 32
    return size


# --------------------------------------------------------------------------------------------------------
# Domain values


@dataclass(frozen=True)
class RouteHop:
    """One entry of a sendpay route: the node at the end of the hop, the channel, what that node gets."""

    node_id: str
    short_channel_id: str
    amount_msat: int
    delay: int


@dataclass(frozen=True)
class RoutingFailure:
    """CLN's routing failure object (``struct routing_failure`` in pay.c)."""

    erring_index: int
    failcode: int
    erring_node: str | None
    erring_channel: str | None = None
    erring_direction: int = 0
    raw_message: bytes | None = None

    def to_json(self) -> dict[str, Any]:
        """The fields ``json_add_routefail_info`` writes, in its order."""
        data: dict[str, Any] = {"erring_index": self.erring_index, "failcode": self.failcode}
        name = failcode_name(self.failcode)
        if name is not None:
            data["failcodename"] = name
        if self.erring_node is not None:
            data["erring_node"] = self.erring_node
        if self.erring_channel is not None:
            data["erring_channel"] = self.erring_channel
            data["erring_direction"] = self.erring_direction
        if self.raw_message is not None:
            data["raw_message"] = self.raw_message.hex()
        return data


@dataclass(frozen=True)
class StoredFailure:
    """What lightningd keeps of a failed part (``wallet_payment_set_failinfo``) for later waitsendpays."""

    failure: RoutingFailure
    detail: str
    destination_perm: bool

    def fault(self, payment: SendPay) -> RpcFault:
        """The error a waitsendpay on the already-failed part answers (``wait_payment``)."""
        if self.failure.failcode & BADONION:
            code = PAY_UNPARSEABLE_ONION
        elif self.destination_perm:
            code = PAY_DESTINATION_PERM_FAIL
        else:
            code = PAY_TRY_OTHER_ROUTE
        return RpcFault(
            code, failure_message(code, self.failure, self.detail), payment.to_json() | self.failure.to_json()
        )


def failure_message(code: int, failure: RoutingFailure, detail: str) -> str:
    """``sendpay_errmsg_fmt``."""
    if code == PAY_UNPARSEABLE_ONION:
        return "Malformed error reply"
    name = failcode_name(failure.failcode) or f"UNKNOWN WIRE TYPE {failure.failcode}"
    return f"failed: {name} ({detail})"


@dataclass
class SendPay:
    """One payment part, as lightningd's ``struct wallet_payment``."""

    created_index: int
    payment_hash: str
    partid: int
    groupid: int
    destination: str | None
    amount_msat: int
    """What this part delivers to the destination (``msatoshi``)."""
    amount_sent_msat: int
    total_msat: int
    created_at: int
    route_nodes: tuple[str, ...] = ()
    route_channels: tuple[str, ...] = ()
    label: str | None = None
    bolt11: str | None = None
    description: str | None = None
    status: str = "pending"
    updated_index: int = 0
    completed_at: int | None = None
    payment_preimage: str | None = None
    failure: StoredFailure | None = None

    def to_json(self) -> dict[str, Any]:
        """The fields ``json_add_payment_fields`` writes, in its order."""
        fields: dict[str, Any] = {
            "created_index": self.created_index,
            "id": self.created_index,
            "payment_hash": self.payment_hash,
            "groupid": self.groupid,
        }
        if self.updated_index:
            fields["updated_index"] = self.updated_index
        if self.partid:
            fields["partid"] = self.partid
        if self.destination is not None:
            fields["destination"] = self.destination
        if self.amount_msat > 0:
            fields["amount_msat"] = self.amount_msat
        fields["amount_sent_msat"] = self.amount_sent_msat
        fields["created_at"] = self.created_at
        if self.completed_at is not None:
            fields["completed_at"] = self.completed_at
        fields["status"] = self.status
        if self.payment_preimage is not None:
            fields["payment_preimage"] = self.payment_preimage
        if self.label is not None:
            fields["label"] = self.label
        if self.bolt11 is not None:
            fields["bolt12" if self.bolt11.startswith("lni") else "bolt11"] = self.bolt11
        if self.description is not None:
            fields["description"] = self.description
        return fields


Outcome = str | bytes
"""What comes back to a part's sender from downstream: the preimage (hex) or a BOLT 4 failure message."""


@dataclass(frozen=True)
class InFlight:
    """What a pending part needs to move on, kept with it in the state file so it can resume after a restart."""

    hops: tuple[RouteHop, ...]
    first_channel: str
    """Our channel the HTLC went out on (the route may say ``0x0x0``)."""
    payment_secret: str | None
    has_metadata: bool
    refused: str | None = None
    """Why our channeld refused to add the HTLC: the part fails as soon as it moves."""
    htlc_id: int | None = None
    """The HTLC's id on our channel (None when refused)."""


@dataclass(frozen=True)
class Carried:
    """A part's outcome, known downstream and on its way back to us: ``held`` hops not yet released or settled.

    Recorded when it is known (the preimage together with the invoice marked paid), so a restart carries it on
    rather than sending the HTLC to the payee again.
    """

    outcome: Outcome
    origin: int
    """The route index of the node the outcome comes from (a failure's erring hop)."""
    held: int


@dataclass(frozen=True)
class OfferedHtlc:
    """An HTLC we added to one of our channels, listed by listpeerchannels (``htlcs``) until it resolves."""

    short_channel_id: str
    htlc_id: int
    """Per channel, counting up from 0 (lightningd's ``htlc_out`` key)."""
    amount_msat: int
    expiry: int
    payment_hash: str

    def to_json(self) -> dict[str, Any]:
        """``json_add_htlcs`` for an outgoing HTLC, committed on both sides."""
        entry: dict[str, Any] = {
            "direction": "out",
            "id": self.htlc_id,
            "amount_msat": self.amount_msat,
            "expiry": self.expiry,
            "payment_hash": self.payment_hash,
            "state": "SENT_ADD_ACK_REVOCATION",
        }
        if self.amount_msat < DUST_LIMIT_MSAT:
            # htlc_is_trimmed: with zero-fee HTLC transactions (anchors), below the dust limit.
            entry["local_trimmed"] = True
        return entry


@dataclass
class ChannelStats:
    """What listpeerchannels counts of the HTLCs we offered on one channel (``out_payments_offered`` ...)."""

    offered: int = 0
    offered_msat: int = 0
    fulfilled: int = 0
    fulfilled_msat: int = 0


@dataclass(eq=False)
class HtlcSet:
    """The parts of one payment a payee holds until their sum reaches the total (``struct htlc_set``)."""

    payee: str
    payment_hash: str
    total_msat: int
    invoice: SimInvoice
    so_far_msat: int = 0
    timer: asyncio.TimerHandle | None = None
    parts: list[tuple[SendPay, int, asyncio.Future[Outcome]]] = field(default_factory=list)
    """(the part, its htlc amount, the future its sender awaits)."""


# --------------------------------------------------------------------------------------------------------
# Parameters


def _either(name: str, hop: Any, first: str, second: str) -> Any:
    if isinstance(hop, dict):
        if first in hop:
            return hop[first]
        if second in hop:
            return hop[second]
    raise bad_param(name, hop, f"must have either {first} or {second}")


def route_hops(name: str, value: Any) -> list[RouteHop]:
    """``param_route_hops``: old names (id, channel, amount_msat, delay) or v26.06's; others ignored."""
    if not isinstance(value, list):
        raise bad_param(name, value, "must be an array")
    hops: list[RouteHop] = []
    for hop in value:
        member = _either(name, hop, "short_channel_id_dir", "channel")
        scidd = split_scid_dir(member)
        if scidd is not None:
            scid = scidd[0]
        elif is_short_channel_id(member):
            scid = member
        else:
            raise bad_param(name, member, "bad short_channel_id")
        member = _either(name, hop, "node_id_out", "id")
        if not is_node_id(member):
            raise bad_param(name, member, "bad node_id")
        node_id = member.lower()
        member = _either(name, hop, "amount_out_msat", "amount_msat")
        amount = amount_token(member)
        if amount is None:
            raise bad_param(name, member, "bad amount")
        member = _either(name, hop, "cltv_out", "delay")
        delay = digits_token(member)
        if delay is None or delay >= 2**32:
            raise bad_param(name, member, "bad cltv_out/delay")
        hops.append(RouteHop(node_id, scid, amount, delay))
    return hops


def payment_status(name: str, value: Any) -> str:
    if value not in ("complete", "pending", "failed"):
        raise bad_param(name, value, "should be an invoice status")
    return value


def payment_status_nopending(name: str, value: Any) -> str:
    status = payment_status(name, value)
    if status == "pending":
        raise bad_param(name, value, "Cannot delete pending status")
    return status


def list_index(name: str, value: Any) -> str:
    """``param_index``: the wait subsystem's index names."""
    if value not in ("created", "updated", "deleted"):
        raise bad_param(name, value, "unknown index")
    return value


def decode_invstring_hash(text: str) -> str:
    """The payment_hash of a BOLT11 string (listsendpays' ``bolt11`` filter)."""
    try:
        return decode_bolt11(text).payment_hash
    except Bolt11Error as failure:
        raise invalid_params(f"Invalid invstring: {failure}") from None


# --------------------------------------------------------------------------------------------------------
# The payment book


class PaymentBook:
    """Our sendpay records and the machinery that moves their HTLCs (one per node, via ``component``)."""

    def __init__(self, node: SimNode) -> None:
        self.node = node
        self._by_id: dict[int, SendPay] = {}
        self._ids: list[int] = []
        """Ids of live records, ascending (created order, for paging by ``created``)."""
        self._by_hash: dict[str, list[SendPay]] = {}
        self._pending: dict[int, SendPay] = {}
        self._by_updated: dict[int, SendPay] = {}
        self._updated: list[int] = []
        """updated_index values of live records, ascending (paging by ``updated``)."""
        self._last_created = 0
        self._last_updated = 0
        self._waiters: dict[tuple[str, int, int], list[asyncio.Future[dict[str, Any]]]] = {}
        self._htlc_sets: dict[tuple[str, str], HtlcSet] = {}
        self._htlc_counts: dict[str, int] = {}
        """HTLCs in flight per channel (both directions): the commitment fee channeld quotes grows with them."""
        self._offered: dict[int, OfferedHtlc] = {}
        """The HTLC each part in flight holds on our first channel, by the part's created_index."""
        self._next_htlc_id: dict[str, int] = {}
        self._stats: dict[str, ChannelStats] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._resuming: list[tuple[SendPay, InFlight, list[tuple[Channel, int, int]], Carried | None]] = []
        """Parts read back from the state file still pending: they move on when the server starts."""

    @property
    def _state(self) -> NodeState:
        return self.node.state

    # -----------------------------------------------------------------------------------------------------
    # Records

    def parts(self, payment_hash: str) -> list[SendPay]:
        """Every record of a hash, in created order."""
        return self._by_hash.get(payment_hash, [])

    def find(self, payment_hash: str, partid: int, groupid: int) -> SendPay | None:
        for payment in self.parts(payment_hash):
            if payment.partid == partid and payment.groupid == groupid:
                return payment
        return None

    def last_groupid(self, payment_hash: str) -> int:
        """``wallet_payment_get_groupid``: the highest groupid of the hash, 0 when none."""
        return max((payment.groupid for payment in self.parts(payment_hash)), default=0)

    def _add(self, payment: SendPay) -> None:
        self._by_id[payment.created_index] = payment
        self._ids.append(payment.created_index)
        self._by_hash.setdefault(payment.payment_hash, []).append(payment)
        if payment.status == "pending":
            self._pending[payment.created_index] = payment

    def _new_payment(self, **fields: Any) -> SendPay:
        self._last_created += 1
        payment = SendPay(created_index=self._last_created, created_at=self.node.now(), **fields)
        self._add(payment)
        return payment

    def _set_status(self, payment: SendPay, status: str, preimage: str | None = None) -> None:
        """``wallet_payment_set_status``: a new updated_index, completed_at, and the preimage on success."""
        self._pending.pop(payment.created_index, None)
        if payment.updated_index:
            self._drop_updated(payment)
        self._last_updated += 1
        payment.updated_index = self._last_updated
        self._by_updated[payment.updated_index] = payment
        self._updated.append(payment.updated_index)
        payment.status = status
        payment.completed_at = self.node.now()
        if preimage is not None:
            payment.payment_preimage = preimage
        self._state.part_saved(payment)

    def _drop_updated(self, payment: SendPay) -> None:
        self._by_updated.pop(payment.updated_index, None)
        position = bisect.bisect_left(self._updated, payment.updated_index)
        if position < len(self._updated) and self._updated[position] == payment.updated_index:
            del self._updated[position]

    def _delete(self, payment: SendPay) -> None:
        self._by_id.pop(payment.created_index, None)
        position = bisect.bisect_left(self._ids, payment.created_index)
        if position < len(self._ids) and self._ids[position] == payment.created_index:
            del self._ids[position]
        same_hash = self._by_hash.get(payment.payment_hash, [])
        if payment in same_hash:
            same_hash.remove(payment)
        if not same_hash:
            self._by_hash.pop(payment.payment_hash, None)
        self._pending.pop(payment.created_index, None)
        if payment.updated_index:
            self._drop_updated(payment)
        self._state.part_deleted(payment, self._last_created, self._last_updated)

    # -----------------------------------------------------------------------------------------------------
    # Back from the state file

    def restore(self, payment: SendPay, flight: InFlight | None, carried: Carried | None) -> None:
        """Put back a record read from the state file (in created order; :meth:`restored` ends the load).

        A pending part gets back the HTLCs lightningd would still have: the one on our channel, and every hop's
        still to release or settle when its outcome was already on its way back. It moves on in :meth:`resume`.
        """
        self._add(payment)
        self._last_created = max(self._last_created, payment.created_index)
        if payment.updated_index:
            self._by_updated[payment.updated_index] = payment
            self._updated.append(payment.updated_index)
            self._last_updated = max(self._last_updated, payment.updated_index)
        if payment.status != "pending":
            return
        if flight is None:  # cannot happen with a file we wrote; fail it rather than leave it pending forever
            flight = InFlight((), payment.route_channels[0], None, False, "No route kept for the part")
        held: list[tuple[Channel, int, int]] = []
        if flight.refused is None and flight.htlc_id is not None:
            held = self._held_hops(flight, 0 if carried is None else carried.held)
            for channel, direction, amount in held:
                self._reserve(channel, direction, amount)
            if carried is None:
                # Not yet past our channel as far as the file knows: its HTLC is there, the rest moves again.
                first = self.node.network.channels[flight.first_channel]
                self._reserve(first, first.direction_from(self.node.our_id), flight.hops[0].amount_msat)
            self._offered[payment.created_index] = OfferedHtlc(
                flight.first_channel,
                flight.htlc_id,
                flight.hops[0].amount_msat,
                self.node.blockheight + 1 + flight.hops[0].delay,
                payment.payment_hash,
            )
        self._resuming.append((payment, flight, held, carried))

    def _held_hops(self, flight: InFlight, count: int) -> list[tuple[Channel, int, int]]:
        """The reservations of the route's first ``count`` hops, as the part's journey holds them."""
        channels = self.node.network.channels
        held: list[tuple[Channel, int, int]] = []
        for index in range(count):
            if index == 0:
                channel, source = channels[flight.first_channel], self.node.our_id
            else:
                channel, source = channels[flight.hops[index].short_channel_id], flight.hops[index - 1].node_id
            held.append((channel, channel.direction_from(source), flight.hops[index].amount_msat))
        return held

    def restore_counters(self, last_created: int, last_updated: int) -> None:
        """The indexes reached before records were deleted: created_index and updated_index go on from there."""
        self._last_created = max(self._last_created, last_created)
        self._last_updated = max(self._last_updated, last_updated)

    def restore_channel(self, short_channel_id: str, next_htlc_id: int, stats: ChannelStats) -> None:
        self._next_htlc_id[short_channel_id] = next_htlc_id
        self._stats[short_channel_id] = stats

    def restored(self) -> None:
        """The load is over: records by updated_index back in order."""
        self._updated.sort()

    def resume(self) -> None:
        """On the server's loop: every part pending when the node stopped moves on from where it was."""
        resuming, self._resuming = self._resuming, []
        for payment, flight, held, carried in resuming:
            if carried is not None and not held and isinstance(carried.outcome, str):
                self._fulfilled(payment, carried.outcome)  # every hop settled: only the record was left
            else:
                self._spawn(self._move_part(payment, flight, held, carried))

    async def halt(self) -> None:
        """The node stops: HTLCs stop where they are, nothing is marked (a restart resumes them)."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    # -----------------------------------------------------------------------------------------------------
    # sendpay

    def check_progress(
        self,
        payment_hash: str,
        amount_msat: int,
        total_msat: int,
        partid: int,
        groupid: int,
        destination: str | None,
    ) -> tuple[str, SendPay] | None:
        """``check_progress``: refuse what clashes with earlier parts of the hash.

        Returns ("complete", part) when the same part already succeeded (sendpay answers it at once),
        ("pending", part) when it is in flight already (sendpay answers it as just sent), None to go ahead.
        """
        have_complete = False
        already_pending = 0
        for payment in self.parts(payment_hash):
            if payment.status == "complete":
                have_complete = True
                if payment.partid != partid:
                    continue
                if payment.amount_msat != amount_msat:
                    raise RpcFault(
                        PAY_RHASH_ALREADY_USED,
                        f"Already succeeded with amount {fmt_msat(payment.amount_msat)} (not {fmt_msat(amount_msat)})",
                    )
                if payment.destination and destination and payment.destination != destination:
                    raise RpcFault(PAY_RHASH_ALREADY_USED, f"Already succeeded to {payment.destination}")
                return "complete", payment
            if payment.status == "pending":
                if payment.groupid != groupid:
                    raise RpcFault(
                        PAY_IN_PROGRESS,
                        f"Payment with groupid={payment.groupid} still in progress, cannot retry before that "
                        "completes.",
                    )
                if bool(payment.partid) != bool(partid):
                    kind = "parallel" if payment.partid else "non-parallel"
                    raise RpcFault(PAY_IN_PROGRESS, f"Already have {kind} payment in progress")
                if payment.partid == partid:
                    if payment.amount_msat != amount_msat:
                        raise RpcFault(
                            PAY_RHASH_ALREADY_USED,
                            f"Already pending with amount {fmt_msat(payment.amount_msat)} "
                            f"(not {fmt_msat(amount_msat)})",
                        )
                    if payment.destination and destination and payment.destination != destination:
                        raise RpcFault(PAY_RHASH_ALREADY_USED, f"Already pending to {payment.destination}")
                    return "pending", payment
                if payment.total_msat != total_msat:
                    raise invalid_params(
                        f"msatoshi was previously {fmt_msat(payment.total_msat)}, now {fmt_msat(total_msat)}"
                    )
                already_pending += payment.amount_msat
            if payment.partid == partid and payment.groupid == groupid:
                raise RpcFault(
                    PAY_RHASH_ALREADY_USED,
                    f"There already is a payment with payment_hash={payment_hash}, groupid={groupid}, "
                    f"partid={partid}. Either change the partid, or wait for the payment to complete "
                    "and start a new group.",
                )
        if have_complete:
            raise RpcFault(PAY_RHASH_ALREADY_USED, "Already succeeded other parts")
        if total_msat != 0 and already_pending >= total_msat:
            raise RpcFault(
                PAY_IN_PROGRESS,
                f"Already have {fmt_msat(already_pending)} of {fmt_msat(total_msat)} payments in progress",
            )
        return None

    def sendpay(self, params: dict[str, Any]) -> dict[str, Any]:
        """``json_sendpay``: its checks in its order, then ``send_payment_core``."""
        hops: list[RouteHop] = params["route"]
        payment_hash: str = params["payment_hash"]
        amount: int | None = params["amount_msat"]
        partid: int = params["partid"]
        payment_secret: str | None = params["payment_secret"]
        if partid and amount is None:
            raise invalid_params("Must specify msatoshi with partid")
        groupid: int = params["groupid"]
        if groupid is None:
            groupid = self.last_groupid(payment_hash) + 1
        if not hops:
            if amount is None:
                raise invalid_params("Self-payment requires amount_msat")
            if partid:
                raise invalid_params("Self-payment does not allow (non-zero) partid")
            return self._self_payment(params, payment_hash, groupid, amount)
        final_amount = hops[-1].amount_msat
        if amount is not None and not partid and amount != final_amount:
            raise invalid_params(
                f"Do not specify msatoshi ({fmt_msat(amount)}) without partid: if you do, it must be "
                f"exactly the final amount ({fmt_msat(final_amount)})"
            )
        if partid and amount is not None and final_amount > amount:
            raise invalid_params(
                f"Final amount {fmt_msat(final_amount)} is greater than {fmt_msat(amount)}, despite MPP"
            )
        if partid and payment_secret is None:
            raise invalid_params("partid requires payment_secret")
        total_msat = amount if amount is not None else final_amount
        base_expiry = self.node.blockheight + 1
        if onion_payload_bytes(hops, base_expiry, total_msat, payment_secret is not None) > ROUTING_INFO_SIZE:
            raise RpcFault(LIGHTNINGD, "Could not create onion packet")
        destination = hops[-1].node_id

        earlier = self.check_progress(payment_hash, final_amount, total_msat, partid, groupid, destination)
        if earlier is not None:
            status, payment = earlier
            if status == "complete":
                return payment.to_json()
            return {"message": "Monitor status with listpays or waitsendpay"} | payment.to_json()
        if params["localinvreqid"] is not None:
            raise RpcFault(PAY_INVOICE_REQUEST_INVALID, f"Unknown invoice_request {params['localinvreqid']}")

        us = self.node.our_id
        channel = self._first_channel(hops[0], final_amount)
        if channel is None:
            failure = RoutingFailure(0, WIRE_UNKNOWN_NEXT_PEER, us)
            # json_add_routefail_info with no channel: no erring_channel, so no erring_direction either.
            raise RpcFault(PAY_TRY_OTHER_ROUTE, "No connection to first peer found", failure.to_json())
        direction = channel.direction_from(us)
        peer = self.node.network.nodes[channel.peer_of(us)]
        if not peer.online or not channel.halves[direction].enabled:
            # send_htlc_out: the channel has no owner (peer not connected) -> an immediate failure.
            failure = RoutingFailure(
                0,
                WIRE_TEMPORARY_CHANNEL_FAILURE,
                us,
                channel.short_channel_id,
                direction_between(us, peer.node_id),
            )
            raise RpcFault(
                PAY_TRY_OTHER_ROUTE,
                failure_message(PAY_TRY_OTHER_ROUTE, failure, "First peer not ready"),
                failure.to_json(),
            )

        with self._state.batch():
            payment = self._new_payment(
                payment_hash=payment_hash,
                partid=partid,
                groupid=groupid,
                destination=destination,
                amount_msat=final_amount,
                amount_sent_msat=hops[0].amount_msat,
                total_msat=total_msat,
                route_nodes=tuple(hop.node_id for hop in hops),
                route_channels=tuple(hop.short_channel_id for hop in hops),
                label=params["label"],
                bolt11=params["bolt11"],
                description=params["description"],
            )
            # channeld adds the HTLC at once (or refuses it): reserve now so back-to-back sendpays see each other.
            half = channel.halves[direction]
            refused: str | None = None
            htlc_id: int | None = None
            if half.spendable_msat < hops[0].amount_msat:
                refused = f"Capacity exceeded - HTLC fee: {self._htlc_fee_sat(channel)}sat"
            else:
                self._reserve(channel, direction, hops[0].amount_msat)
                expiry = base_expiry + hops[0].delay
                htlc_id = self._offer(payment, channel.short_channel_id, hops[0].amount_msat, expiry)
            flight = InFlight(
                tuple(hops),
                channel.short_channel_id,
                payment_secret,
                params["payment_metadata"] is not None,
                refused,
                htlc_id,
            )
            self._state.part_sent(payment, flight)
        self._spawn(self._move_part(payment, flight, []))
        return {"message": "Monitor status with listpays or waitsendpay"} | payment.to_json()

    def _first_channel(self, hop: RouteHop, final_amount: int) -> Channel | None:
        """``find_channel_for_htlc_add``: our channel with the first hop (``0x0x0``: any that can pay)."""
        us = self.node.our_id
        if hop.node_id == us or hop.node_id not in self.node.network.nodes:
            return None
        with_peer = self.node.network.channels_between(us, hop.node_id)
        if hop.short_channel_id == "0x0x0":
            for channel in with_peer:
                if channel.halves[channel.direction_from(us)].balance_msat > final_amount:
                    return channel
            return None
        for channel in with_peer:
            if channel.short_channel_id == hop.short_channel_id:
                return channel
        return None

    def _self_payment(self, params: dict[str, Any], payment_hash: str, groupid: int, amount: int) -> dict[str, Any]:
        """``self_payment``: pay one of our own invoices without moving an HTLC."""
        us = self.node.our_id
        payment = self._new_payment(
            payment_hash=payment_hash,
            partid=0,
            groupid=groupid,
            destination=us,
            amount_msat=amount,
            amount_sent_msat=amount,
            total_msat=amount,
            label=params["label"],
            bolt11=params["bolt11"],
            description=params["description"],
        )
        invoice, error = self._check_invoice(us, payment_hash, amount, params["payment_secret"])
        if invoice is None:
            snapshot = payment.to_json()
            failure = RoutingFailure(0, WIRE_INCORRECT_OR_UNKNOWN_PAYMENT_DETAILS, us)
            payment.failure = StoredFailure(failure, error, True)
            self._set_status(payment, "failed")
            fault = RpcFault(PAY_DESTINATION_PERM_FAIL, error, snapshot | failure.to_json())
            self._tell_waiters(payment, fault)
            raise fault
        with self._state.batch():
            self.node.component(InvoiceBook).mark_paid(invoice, amount)
            self._set_status(payment, "complete", invoice.preimage)
        self._tell_waiters(payment, payment.to_json())
        # The answer is the record as created, marked complete in memory: no updated_index or completed_at.
        answer = payment.to_json()
        answer.pop("updated_index", None)
        answer.pop("completed_at", None)
        return answer

    # -----------------------------------------------------------------------------------------------------
    # Moving HTLCs

    def _spawn(self, coroutine: Any) -> None:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("payment part failed inside the simulator", exc_info=task.exception())

    async def _hop(self) -> None:
        """Let one hop's worth of time pass (none at all when hop_delay_ms is 0)."""
        delay = self.node.config.hop_delay_ms
        if delay > 0:
            await self.node.sleep(delay / 1000)

    def _htlc_fee_sat(self, channel: Channel) -> int:
        htlcs = self._htlc_counts.get(channel.short_channel_id, 0) + 1
        return (COMMITMENT_BASE_WEIGHT + HTLC_OUTPUT_WEIGHT * htlcs) * COMMITMENT_FEERATE_PERKW // 1000

    def _offer(self, payment: SendPay, short_channel_id: str, amount: int, expiry: int) -> int:
        """Our channeld added the part's HTLC to our channel: listpeerchannels shows it and counts it."""
        htlc_id = self._next_htlc_id.get(short_channel_id, 0)
        self._next_htlc_id[short_channel_id] = htlc_id + 1
        self._offered[payment.created_index] = OfferedHtlc(
            short_channel_id, htlc_id, amount, expiry, payment.payment_hash
        )
        stats = self._stats.setdefault(short_channel_id, ChannelStats())
        stats.offered += 1
        stats.offered_msat += amount
        self._state.htlcs_changed(short_channel_id, htlc_id + 1, stats)
        return htlc_id

    def _resolve_offered(self, payment: SendPay, fulfilled: bool) -> None:
        """The part's HTLC on our channel was fulfilled or failed: it leaves ``htlcs``."""
        htlc = self._offered.pop(payment.created_index, None)
        if htlc is not None and fulfilled:
            stats = self._stats[htlc.short_channel_id]
            stats.fulfilled += 1
            stats.fulfilled_msat += htlc.amount_msat
            self._state.htlcs_changed(htlc.short_channel_id, self._next_htlc_id.get(htlc.short_channel_id, 0), stats)

    def offered_htlcs(self, short_channel_id: str) -> list[OfferedHtlc]:
        """The HTLCs in flight that we offered on one of our channels, oldest first."""
        return [htlc for htlc in self._offered.values() if htlc.short_channel_id == short_channel_id]

    def channel_stats(self, short_channel_id: str) -> ChannelStats:
        return self._stats.get(short_channel_id) or ChannelStats()

    def _reserve(self, channel: Channel, direction: int, amount: int) -> None:
        channel.halves[direction].inflight_msat += amount
        self._htlc_counts[channel.short_channel_id] = self._htlc_counts.get(channel.short_channel_id, 0) + 1

    def _unreserve(self, channel: Channel, direction: int, amount: int) -> HalfChannel:
        half = channel.halves[direction]
        half.inflight_msat = max(0, half.inflight_msat - amount)
        count = self._htlc_counts.get(channel.short_channel_id, 1) - 1
        if count > 0:
            self._htlc_counts[channel.short_channel_id] = count
        else:
            self._htlc_counts.pop(channel.short_channel_id, None)
        return half

    def _settle(self, channel: Channel, direction: int, amount: int) -> None:
        """The preimage crossed this hop: the HTLC's amount now belongs to the other side."""
        half = self._unreserve(channel, direction, amount)
        half.balance_msat = max(0, half.balance_msat - amount)
        channel.halves[1 - direction].balance_msat += amount
        self._state.balances_changed(channel)

    async def _move_part(
        self,
        payment: SendPay,
        flight: InFlight,
        held: list[tuple[Channel, int, int]],
        carried: Carried | None = None,
    ) -> None:
        """Carry one part's HTLC to the payee and its answer back (:meth:`_move_htlc`), or only carry its known
        outcome back (``carried``, after a restart) over the ``held`` hops.

        A simulator bug on the way must not leave the part pending forever, with waitsendpay callers waiting:
        it is logged and the part fails as a local temporary_channel_failure.
        """
        try:
            if carried is None:
                await self._move_htlc(payment, flight, held)
            else:
                await self._carry_back(payment, held, carried.outcome, carried.origin)
        except Exception:
            log.exception("payment part %s failed inside the simulator", payment.created_index)
            while held:
                self._unreserve(*held.pop())
            if payment.status == "pending":
                self._resolve_offered(payment, fulfilled=False)
                self._local_failure(payment, WIRE_TEMPORARY_CHANNEL_FAILURE, "Internal error in the simulator")

    async def _move_htlc(self, payment: SendPay, flight: InFlight, held: list[tuple[Channel, int, int]]) -> None:
        """Hop by hop out, then back; ``held`` lists the reservations not yet released (the first is sendpay's)."""
        if flight.refused is not None:
            self._local_failure(payment, WIRE_TEMPORARY_CHANNEL_FAILURE, flight.refused)
            return
        hops = flight.hops
        first = self.node.network.channels[flight.first_channel]
        # Reserved by sendpay (or put back by a restart); released on the way back.
        held.append((first, first.direction_from(self.node.our_id), hops[0].amount_msat))
        base_expiry = self.node.blockheight + 1
        await self._hop()
        at = first.peer_of(self.node.our_id)
        for index in range(1, len(hops)):
            verdict = self._forward(at, hops[index - 1], hops[index], base_expiry)
            if isinstance(verdict, bytes):
                await self._carry_back(payment, held, verdict, index - 1)
                return
            channel, direction = verdict
            self._reserve(channel, direction, hops[index].amount_msat)
            held.append((channel, direction, hops[index].amount_msat))
            await self._hop()
            reached = channel.peer_of(at)
            if reached != hops[index].node_id:
                # The onion layer was built for another key: the node reached can't read it and fails the HTLC
                # as malformed; the node before it reports invalid_onion_hmac with sha256_of_onion.
                onion_hash = hashlib.sha256(f"{payment.payment_hash}:{payment.created_index}:{index}".encode())
                await self._carry_back(payment, held, _u16(WIRE_INVALID_ONION_HMAC) + onion_hash.digest(), index - 1)
                return
            at = reached
        outcome = await self._arrive(at, payment, hops[-1], base_expiry, flight.payment_secret, flight.has_metadata)
        await self._carry_back(payment, held, outcome, len(hops) - 1)

    async def _carry_back(
        self, payment: SendPay, held: list[tuple[Channel, int, int]], outcome: Outcome, origin: int
    ) -> None:
        """The outcome crosses every held hop back to us: a failure releases each, the preimage settles each.

        Each settled hop is written with the part's progress in one transaction, so a restart neither settles a
        hop twice nor forgets one.
        """
        if isinstance(outcome, bytes):
            self._state.part_carried(payment, Carried(outcome, origin, len(held)))
            await self._fail_back(payment, held, origin, outcome)
            return
        while held:
            await self._hop()
            with self._state.batch():
                self._settle(*held.pop())
                if held:
                    self._state.part_carried(payment, Carried(outcome, origin, len(held)))
                else:
                    self._fulfilled(payment, outcome)

    def _fulfilled(self, payment: SendPay, preimage: str) -> None:
        """The preimage reached us: our channel's HTLC is fulfilled and the part complete."""
        self._resolve_offered(payment, fulfilled=True)
        self._succeeded(payment, preimage)

    def _forward(
        self, at: str, incoming: RouteHop, outgoing: RouteHop, base_expiry: int
    ) -> tuple[Channel, int] | bytes:
        """``forward_htlc`` then channeld at node ``at``: the outgoing channel, or the failure message."""
        network = self.node.network
        channel = network.channels.get(outgoing.short_channel_id)
        if channel is None or at not in (channel.node1, channel.node2):
            return _u16(WIRE_UNKNOWN_NEXT_PEER)
        direction = channel.direction_from(at)
        half = channel.halves[direction]
        next_node = network.nodes[channel.peer_of(at)]
        connected = next_node.online and half.enabled
        amount_in = incoming.amount_msat
        cltv_in = base_expiry + incoming.delay
        amount_out = outgoing.amount_msat
        cltv_out = base_expiry + outgoing.delay

        def update() -> bytes:
            return channel_update(self.node, channel, direction, disabled=not connected)

        if amount_in < amount_out + half.fee_for(amount_out):
            return with_update(WIRE_FEE_INSUFFICIENT, _u64(amount_in), update())
        if amount_out > half.htlc_maximum_msat or amount_out < half.htlc_minimum_msat:
            return with_update(WIRE_TEMPORARY_CHANNEL_FAILURE, b"", update())
        if not (half.cltv_delta < cltv_in and cltv_in - half.cltv_delta >= cltv_out):
            return with_update(WIRE_INCORRECT_CLTV_EXPIRY, _u32(cltv_in), update())
        if self.node.blockheight >= cltv_out:
            return with_update(WIRE_EXPIRY_TOO_SOON, b"", update())
        if self.node.blockheight + MAX_HTLC_CLTV < cltv_out:
            return _u16(WIRE_EXPIRY_TOO_FAR)
        if not connected:
            # send_htlc_out: no channeld for a peer that is not connected.
            return with_update(WIRE_TEMPORARY_CHANNEL_FAILURE, b"", update())
        flaky_ppm = network.nodes[at].flaky_ppm
        if half.spendable_msat < amount_out or (flaky_ppm and self.node.rng.randrange(1_000_000) < flaky_ppm):
            return channeld_failure(WIRE_TEMPORARY_CHANNEL_FAILURE, b"", update())
        return channel, direction

    async def _arrive(
        self,
        payee: str,
        payment: SendPay,
        last: RouteHop,
        base_expiry: int,
        payment_secret: str | None,
        has_metadata: bool,
    ) -> Outcome:
        """The payee (``handle_localpay``, ``htlc_set_add``): the preimage for a whole set, or a failure."""
        htlc_msat = last.amount_msat
        cltv_expiry = base_expiry + last.delay
        blockheight = self.node.blockheight
        book = self.node.component(InvoiceBook)
        invoice = book.find(payee, payment.payment_hash)
        min_final = invoice.min_final_cltv_expiry if invoice is not None else MIN_FINAL_CLTV_EXPIRY
        if blockheight + min_final > cltv_expiry:
            return incorrect_or_unknown(htlc_msat, blockheight)
        if has_metadata:
            return _u16(WIRE_INVALID_ONION_PAYLOAD) + bytes([TLV_PAYLOAD_PAYMENT_METADATA]) + _u16(0)
        total_msat = payment.total_msat if payment_secret is not None else htlc_msat
        invoice, _ = self._check_invoice(payee, payment.payment_hash, total_msat, payment_secret)
        if invoice is None:
            return incorrect_or_unknown(htlc_msat, blockheight)

        loop = asyncio.get_running_loop()
        future: asyncio.Future[Outcome] = loop.create_future()
        key = (payee, payment.payment_hash)
        htlc_set = self._htlc_sets.get(key)
        if htlc_set is None:
            htlc_set = HtlcSet(payee, payment.payment_hash, total_msat, invoice)
            htlc_set.timer = loop.call_later(
                self.node.config.mpp_timeout_s, self._fail_set, htlc_set, _u16(WIRE_MPP_TIMEOUT)
            )
            self._htlc_sets[key] = htlc_set
        elif payment_secret is None:
            return incorrect_or_unknown(htlc_msat, blockheight)
        htlc_set.parts.append((payment, htlc_msat, future))
        if total_msat != htlc_set.total_msat:
            self._fail_set(htlc_set, _u16(WIRE_FINAL_INCORRECT_HTLC_AMOUNT) + _u64(htlc_msat))
        else:
            htlc_set.so_far_msat += htlc_msat
            if htlc_set.so_far_msat >= total_msat:
                self._fulfill_set(htlc_set)
            elif payment_secret is None:
                self._fail_set(htlc_set, None)
        return await future

    def _check_invoice(
        self, payee: str, payment_hash: str, total_msat: int, payment_secret: str | None
    ) -> tuple[SimInvoice | None, str]:
        """``invoice_check_payment``: the invoice to settle with, or None and lightningd's reason."""
        invoice = self.node.component(InvoiceBook).find(payee, payment_hash)
        if invoice is None or invoice.current_status(self.node.now()) != "unpaid":
            if invoice is None:
                return None, f"Unknown invoice {payment_hash}"
            return None, f"Already paid or expired invoice {payment_hash}"
        if payment_secret is None:
            return None, f"Attempt to pay {payment_hash} without secret"
        if payment_secret != invoice.payment_secret:
            return None, f"Attempt to pay {payment_hash} with wrong payment_secret"
        if invoice.amount_msat is not None:
            if total_msat < invoice.amount_msat:
                return None, (
                    f"Attempt to pay {payment_hash} with amount {fmt_msat(total_msat)} < "
                    f"{fmt_msat(invoice.amount_msat)}"
                )
            if total_msat > 2 * invoice.amount_msat:
                return None, (
                    f"Attempt to pay {payment_hash} with amount {fmt_msat(total_msat)} > "
                    f"{fmt_msat(2 * invoice.amount_msat)}"
                )
        return invoice, ""

    def _close_set(self, htlc_set: HtlcSet) -> None:
        if htlc_set.timer is not None:
            htlc_set.timer.cancel()
            htlc_set.timer = None
        key = (htlc_set.payee, htlc_set.payment_hash)
        if self._htlc_sets.get(key) is htlc_set:
            del self._htlc_sets[key]

    def _fail_set(self, htlc_set: HtlcSet, failmsg: bytes | None) -> None:
        """``htlc_set_fail``: every held part fails with ``failmsg`` (None: each its incorrect_or_unknown)."""
        self._close_set(htlc_set)
        for _, amount, future in htlc_set.parts:
            if future.done():
                continue
            future.set_result(failmsg if failmsg is not None else incorrect_or_unknown(amount, self.node.blockheight))

    def _fulfill_set(self, htlc_set: HtlcSet) -> None:
        """The set reached its total: the invoice is paid and every part learns the preimage.

        Both are written in one transaction: after a restart the parts carry the preimage back, they are not
        sent again to a payee whose invoice is paid.
        """
        self._close_set(htlc_set)
        preimage = htlc_set.invoice.preimage
        with self._state.batch():
            self.node.component(InvoiceBook).mark_paid(htlc_set.invoice, htlc_set.so_far_msat)
            for payment, _, future in htlc_set.parts:
                if not future.done():
                    hops = len(payment.route_nodes)
                    self._state.part_carried(payment, Carried(preimage, hops - 1, hops))
                    future.set_result(preimage)

    async def _fail_back(
        self, payment: SendPay, held: list[tuple[Channel, int, int]], origin: int, failmsg: bytes
    ) -> None:
        """The failure crosses every hop back to us, releasing each reservation on the way."""
        while held:
            await self._hop()
            self._unreserve(*held.pop())
        self._resolve_offered(payment, fulfilled=False)
        self._remote_failure(payment, failmsg, origin)

    # -----------------------------------------------------------------------------------------------------
    # Outcomes

    def _succeeded(self, payment: SendPay, preimage: str) -> None:
        """``payment_succeeded``: waiters get the updated record."""
        self._set_status(payment, "complete", preimage)
        self._tell_waiters(payment, payment.to_json())

    def _local_failure(self, payment: SendPay, failcode: int, reason: str) -> None:
        """``payment_failed`` with a local failure (our channeld refused the HTLC): no raw_message."""
        us = self.node.our_id
        failure = RoutingFailure(
            0, failcode, us, payment.route_channels[0], direction_between(us, payment.route_nodes[0])
        )
        detail = f"{failcode_name(failcode)}: {reason}"
        self._failed(payment, failure, PAY_TRY_OTHER_ROUTE, detail)

    def _remote_failure(self, payment: SendPay, failmsg: bytes, origin: int) -> None:
        """``payment_failed`` with a failure message from the route's node ``origin`` (0 = first hop)."""
        failcode = failure_code(failmsg)
        nodes, channels = payment.route_nodes, payment.route_channels
        if origin == len(nodes) - 1:
            erring_channel = channels[origin]
            previous = self.node.our_id if origin == 0 else nodes[origin - 1]
            direction = direction_between(previous, nodes[origin])
            if failcode & BADONION:
                code = PAY_UNPARSEABLE_ONION
            elif failcode & PERM:
                code = PAY_DESTINATION_PERM_FAIL
            else:
                code = PAY_TRY_OTHER_ROUTE
            erring_node = nodes[origin]
        else:
            code = PAY_TRY_OTHER_ROUTE
            erring_channel = channels[origin + 1]
            direction = direction_between(nodes[origin], nodes[origin + 1])
            erring_node = nodes[origin + 1] if failcode & BADONION else nodes[origin]
        failure = RoutingFailure(origin + 1, failcode, erring_node, erring_channel, direction, failmsg)
        self._failed(payment, failure, code, "reply from remote")

    def _failed(self, payment: SendPay, failure: RoutingFailure, code: int, detail: str) -> None:
        """Record the failure; waiters see the record as it was before (still "pending")."""
        snapshot = payment.to_json()
        payment.failure = StoredFailure(failure, detail, code == PAY_DESTINATION_PERM_FAIL)
        self._set_status(payment, "failed")
        self._tell_waiters(
            payment, RpcFault(code, failure_message(code, failure, detail), snapshot | failure.to_json())
        )

    def _tell_waiters(self, payment: SendPay, outcome: dict[str, Any] | RpcFault) -> None:
        for future in self._waiters.pop((payment.payment_hash, payment.partid, payment.groupid), []):
            if future.done():
                continue
            if isinstance(outcome, RpcFault):
                future.set_exception(outcome)
            else:
                future.set_result(outcome)

    # -----------------------------------------------------------------------------------------------------
    # waitsendpay, listsendpays, delpay

    async def wait(self, payment_hash: str, partid: int, groupid: int | None, timeout: int | None) -> dict[str, Any]:
        """``json_waitsendpay`` / ``wait_payment``."""
        if groupid is None:
            groupid = self.last_groupid(payment_hash)
        payment = self.find(payment_hash, partid, groupid)
        if payment is None:
            raise RpcFault(PAY_NO_SUCH_PAYMENT, f"Never attempted payment part {partid} for '{payment_hash}'")
        if payment.status == "complete":
            return payment.to_json()
        if payment.status == "failed":
            assert payment.failure is not None
            raise payment.failure.fault(payment)
        key = (payment_hash, partid, groupid)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(key, []).append(future)
        try:
            if timeout is None:
                return await future
            try:
                return await asyncio.wait_for(future, timeout)
            except TimeoutError:
                raise RpcFault(PAY_IN_PROGRESS, "Timed out while waiting") from None
        finally:
            waiting = self._waiters.get(key)
            if waiting is not None and future in waiting:
                waiting.remove(future)
                if not waiting:
                    del self._waiters[key]

    def select(self, status: str | None, index: str | None, start: int, limit: int | None) -> Iterator[SendPay]:
        """Records in created (or updated) order from ``start``, of one status if given, at most ``limit``."""
        if limit is not None and limit == 0:
            return
        count = 0
        for payment in self._ordered(status, index, start):
            if status is not None and payment.status != status:
                continue
            yield payment
            count += 1
            if limit is not None and count >= limit:
                return

    def _ordered(self, status: str | None, index: str | None, start: int) -> Iterator[SendPay]:
        if index == "updated":
            if start == 0 and status in (None, "pending"):
                # updated_index 0 (never changed) sorts first.
                yield from (self._pending[key] for key in sorted(self._pending))
            if status == "pending":
                return
            position = bisect.bisect_left(self._updated, start)
            for updated_index in self._updated[position:]:
                yield self._by_updated[updated_index]
            return
        if status == "pending":
            yield from (self._pending[key] for key in sorted(self._pending) if key >= start)
            return
        position = bisect.bisect_left(self._ids, start)
        for created_index in self._ids[position:]:
            yield self._by_id[created_index]

    def listsendpays(self, params: dict[str, Any]) -> dict[str, Any]:
        """``json_listsendpays``."""
        invstr: str | None = params["bolt11"]
        payment_hash: str | None = params["payment_hash"]
        index: str | None = params["index"]
        start: int = params["start"]
        limit: int | None = params["limit"]
        if payment_hash is not None and invstr is not None:
            raise invalid_params("Can only specify one of {bolt11} or {payment_hash}")
        if start != 0 and index is None:
            raise invalid_params("Can only specify {start} with {index}")
        if limit is not None and index is None:
            raise invalid_params("Can only specify {limit} with {index}")
        if (payment_hash is not None or invstr is not None) and start != 0:
            raise invalid_params("Cannot use start with bolt11 or payment_hash")
        if invstr is not None:
            payment_hash = decode_invstring_hash(invstr)
        if payment_hash is not None:
            chosen: Iterator[SendPay] | list[SendPay] = list(self.parts(payment_hash))
        else:
            chosen = self.select(params["status"], index, start, limit)
        return {"payments": [payment.to_json() for payment in chosen]}

    def delpay(self, params: dict[str, Any]) -> dict[str, Any]:
        """``json_delpay``."""
        payment_hash: str = params["payment_hash"]
        status: str = params["status"]
        partid: int | None = params["partid"]
        groupid: int | None = params["groupid"]
        if (partid is None) != (groupid is None):
            raise invalid_params("Must set both partid and groupid, or neither")
        candidates = self.parts(payment_hash)
        if not candidates:
            raise RpcFault(PAY_NO_SUCH_PAYMENT, f"Unknown payment with payment_hash: {payment_hash}")
        matched: list[SendPay] = []
        found_status: str | None = None
        for payment in candidates:
            if groupid is not None and payment.groupid != groupid:
                continue
            if partid is not None and payment.partid != partid:
                continue
            if payment.status == status:
                matched.append(payment)
            else:
                found_status = payment.status
        if not matched:
            if found_status is not None:
                raise RpcFault(
                    PAY_NO_SUCH_PAYMENT,
                    f"Payment with hash {payment_hash} has {found_status} status but it different from "
                    f"the one provided {status}",
                )
            raise RpcFault(PAY_NO_SUCH_PAYMENT, "No payment for that payment_hash with that partid and groupid")
        answer = [payment.to_json() for payment in matched]
        with self._state.batch():
            for payment in matched:
                self._delete(payment)
        return {"payments": answer}

    def listpays(self, params: dict[str, Any]) -> dict[str, Any]:
        """The pay plugin's ``listpays`` (plugins/xpay/listpays.c): parts grouped by (hash, groupid)."""
        if params["start"] != 0 and params["index"] is None:
            raise invalid_params("Can only specify {start} with {index}")
        if params["limit"] is not None and params["index"] is None:
            raise invalid_params("Can only specify {limit} with {index}")
        forwarded: dict[str, Any] = {
            "bolt11": params["bolt11"],
            "payment_hash": params["payment_hash"],
            "status": None,
            "index": None,
            "start": 0,
            "limit": None,
        }
        if params["status"] is not None:
            forwarded["status"] = payment_status("status", params["status"])
        if params["index"] is not None:
            forwarded["index"] = list_index("index", params["index"])
            forwarded["start"] = params["start"]
            forwarded["limit"] = params["limit"]
        parts = self.listsendpays(forwarded)["payments"]
        return {"pays": [group.to_json() for group in group_pays(parts)]}


@dataclass
class PayGroup:
    """One ``listpays`` entry: the parts of one (payment_hash, groupid)."""

    payment_hash: str
    invstring: str | None
    destination: str | None
    label: str | None
    description: str | None
    created_at: int
    created_index: int
    updated_index: int
    preimage: str | None = None
    states: int = 0
    parts: int = 0
    amount_sent_msat: int = 0
    amount_msat: int | None = 0
    success_at: int | None = None

    def to_json(self) -> dict[str, Any]:
        entry: dict[str, Any] = {}
        if self.invstring is not None:
            entry["bolt12" if self.invstring.startswith("lni") else "bolt11"] = self.invstring
        if self.description is not None:
            entry["description"] = self.description
        if self.destination is not None:
            entry["destination"] = self.destination
        entry["payment_hash"] = self.payment_hash
        if self.states & 2:
            entry["status"] = "complete"
        elif self.states & 1:
            entry["status"] = "pending"
        else:
            entry["status"] = "failed"
        entry["created_at"] = self.created_at
        if self.success_at is not None:
            entry["completed_at"] = self.success_at
        if self.label is not None:
            entry["label"] = self.label
        if self.preimage is not None:
            entry["preimage"] = self.preimage
        if self.amount_msat is not None and self.parts > 0:
            entry["amount_msat"] = self.amount_msat
        entry["amount_sent_msat"] = self.amount_sent_msat
        if self.parts > 1:
            entry["number_of_parts"] = self.parts
        entry["created_index"] = self.created_index
        if self.updated_index:
            entry["updated_index"] = self.updated_index
        return entry


def group_pays(parts: list[dict[str, Any]]) -> list[PayGroup]:
    """``listsendpays_done``: merge parts by (payment_hash, groupid), in order of first appearance."""
    groups: dict[tuple[str, int], PayGroup] = {}
    for part in parts:
        key = (part["payment_hash"], part.get("groupid", 0))
        invstring = part.get("bolt11", part.get("bolt12"))
        group = groups.get(key)
        if group is None:
            group = PayGroup(
                payment_hash=part["payment_hash"],
                invstring=invstring,
                destination=part.get("destination"),
                label=part.get("label"),
                description=part.get("description"),
                created_at=part["created_at"],
                created_index=part["created_index"],
                updated_index=part.get("updated_index", 0),
            )
            groups[key] = group
        else:
            if group.invstring is None:
                group.invstring = invstring
            if group.description is None:
                group.description = part.get("description")
            group.created_index = min(group.created_index, part["created_index"])
            group.updated_index = max(group.updated_index, part.get("updated_index", 0))
        if part["status"] in ("complete", "pending"):
            group.amount_sent_msat += part["amount_sent_msat"]
            if "amount_msat" not in part:
                group.amount_msat = None
            elif group.amount_msat is not None:
                group.amount_msat += part["amount_msat"]
            group.parts += 1
        if part["status"] == "complete":
            group.preimage = part.get("payment_preimage")
            group.states |= 2
            completed = part.get("completed_at")
            if completed is not None and (group.success_at is None or completed < group.success_at):
                group.success_at = completed
        elif part["status"] == "pending":
            group.states |= 1
        else:
            group.states |= 4
    return list(groups.values())


# --------------------------------------------------------------------------------------------------------
# Commands


def _book(ctx: CallContext) -> PaymentBook:
    return ctx.node.component(PaymentBook)


SENDPAY_PARAMS = [
    Param("route", route_hops, True),
    Param("payment_hash", sha256, True),
    Param("label", string),
    Param("amount_msat", msat),
    Param("bolt11", invstring),
    Param("payment_secret", secret),
    Param("partid", u64, default=0),
    Param("localinvreqid", sha256),
    Param("groupid", u64),
    Param("payment_metadata", hex_string),
    Param("description", any_string),
    Param("dev_legacy_hop", boolean, default=False),
]


@rpc_command("sendpay", SENDPAY_PARAMS)
def sendpay(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    return _book(ctx).sendpay(params)


@rpc_command(
    "waitsendpay",
    [
        Param("payment_hash", sha256, True),
        Param("timeout", integer),
        Param("partid", u64, default=0),
        Param("groupid", u64),
    ],
)
async def waitsendpay(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    return await _book(ctx).wait(params["payment_hash"], params["partid"], params["groupid"], params["timeout"])


LIST_PARAMS = [
    Param("bolt11", invstring),
    Param("payment_hash", sha256),
    Param("status", payment_status),
    Param("index", list_index),
    Param("start", u64, default=0),
    Param("limit", u32),
]


@rpc_command("listsendpays", LIST_PARAMS)
def listsendpays(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    return _book(ctx).listsendpays(params)


@rpc_command(
    "delpay",
    [
        Param("payment_hash", sha256, True),
        Param("status", payment_status_nopending, True),
        Param("partid", u64),
        Param("groupid", u64),
    ],
)
def delpay(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    return _book(ctx).delpay(params)


@rpc_command(
    "listpays",
    [
        Param("bolt11", invstring),
        Param("payment_hash", sha256),
        Param("status", any_string),
        Param("index", any_string),
        Param("start", u64, default=0),
        Param("limit", u32),
    ],
)
def listpays(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    return _book(ctx).listpays(params)


__all__ = [
    "FAILCODE_NAMES",
    "Carried",
    "ChannelStats",
    "InFlight",
    "OfferedHtlc",
    "PaymentBook",
    "RouteHop",
    "RoutingFailure",
    "SendPay",
    "StoredFailure",
    "channel_update",
    "route_hops",
]
