"""The simulated node's informational commands, its invoices, and ``decode``.

Answers follow what real lightningd v26.06 answered on the transcripts' regtest network
(``shared/cln/transcripts/basics.json`` and ``invoice_decode.json``): the same fields in the same order, the
same error codes and words. Where lightningd reports things the simulator does not model (commitment
transactions, funding PSBTs, channel reserves, HTLC statistics), the answer carries plausible constants of the
right type, chosen to stay consistent with what *is* modelled:

- reserves are 0 (a CLN zero-reserve channel), so ``spendable_msat`` = ``to_us_msat`` less HTLCs in flight,
  which is the model's :attr:`HalfChannel.spendable_msat`; ``funding`` says the opener funded it all
  (``pushed_msat`` 0, no ``psbt``); ``htlcs`` and the ``out_*`` counters show the HTLCs our payments added
  to the channel (nothing comes in: the simulated network only pays out of our node, so ``in_*`` stay 0);
- ``listchannels`` shows only announced channels, as lightningd does since v24.02 (private channels appear in
  ``listpeerchannels`` only);
- ``active`` in ``listchannels`` is the gossiped enable bit: a node going offline does not change it, as
  lightningd's gossip does not at once either (payments through it fail, see the payments module);
- ``decode`` reads BOLT 11 invoices of any chain; BOLT 12 strings, runes and emergency-recover blobs, which
  lightningd also decodes, answer "Unparsable string";
- ``invoice`` picks route hints as lightningd does (a random one of the channels that can take the whole
  amount, else round-robin until the amount is covered), drawing from the node's seeded ``rng``.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from .errors import (
    INVOICE_HINTS_GAVE_NO_ROUTES,
    INVOICE_LABEL_ALREADY_EXISTS,
    INVOICE_PREIMAGE_ALREADY_EXISTS,
    LIGHTNINGD,
    RpcFault,
    invalid_params,
)
from .invoices import (
    BOLT11_FIELD_BYTE_LIMIT,
    CURRENCY_BY_NETWORK,
    DEFAULT_EXPIRY,
    MIN_FINAL_CLTV_EXPIRY,
    OUR_BOLT11_FEATURES,
    Bolt11Error,
    InvoiceBook,
    SimInvoice,
    address_to_script,
    decode_bolt11,
    script_to_address,
    select_route_hints,
)
from .node import SIM_VERSION
from .params import (
    Param,
    array,
    bad_param,
    boolean,
    integer,
    invstring,
    is_short_channel_id,
    label,
    node_id,
    one_of,
    positive_msat_or_any,
    sha256,
    short_channel_id,
    string,
    strip_lightning_prefix,
    token_text,
    u32,
    u64,
)
from .payments import COMMITMENT_BASE_WEIGHT, COMMITMENT_FEERATE_PERKW, DUST_LIMIT_MSAT, PaymentBook
from .registry import CallContext, rpc_command

if TYPE_CHECKING:
    from .network import Channel
    from .node import SimNode

LEGACY_VERSION = "v24.08-sim"
"""What a ``legacy`` node reports when no version was configured: a CLN that still has decodepay and an
undeprecated getroute (decodepay was deprecated in v24.11)."""

# Feature bitmaps as the transcripts' lightningd v26.06 reports them.
OUR_FEATURES = {
    "init": "800898880a8a59a1",
    "node": "808898880a8a59a1",
    "channel": "",
    "invoice": OUR_BOLT11_FEATURES.hex(),
}
PEER_INIT_FEATURES = "800898880a8a59a1"
NODE_ANNOUNCEMENT_FEATURES = "808898880a8a59a1"
REGTEST_PORT = 19846
"""lightningd's default port on regtest (chainparams.c ``ln_port``)."""

# Constants of lightningd's channel configuration on regtest (listpeerchannels).
CHANNEL_TYPE = {"bits": [12, 22], "names": ["static_remotekey/even", "anchors/even"]}
CHANNEL_FEATURES = ["option_static_remotekey", "option_anchors"]
FEERATE = {"perkw": COMMITMENT_FEERATE_PERKW, "perkb": 4 * COMMITMENT_FEERATE_PERKW}
LAST_TX_FEE_MSAT = COMMITMENT_BASE_WEIGHT * COMMITMENT_FEERATE_PERKW // 1000 * 1000
"""The commitment transaction's fee at that feerate (4220 sat, as the sendpay transcripts show it)."""
MAX_HTLC_VALUE_IN_FLIGHT_MSAT = 2**64 - 1
TO_SELF_DELAY = 6
MAX_ACCEPTED_HTLCS = 483
MAX_LABEL_BYTES = 128


def node_version(node: SimNode) -> str:
    """getinfo's ``version``: the configured one, or an older CLN's for the ``legacy`` generation."""
    if node.config.generation == "legacy" and node.config.version == SIM_VERSION:
        return LEGACY_VERSION
    return node.config.version


def _derived(*parts: str) -> bytes:
    """Stable made-up bytes for values lightningd has and the model has not (txids, aliases, scripts)."""
    return hashlib.sha256("/".join(parts).encode()).digest()


def _fake_scid(*parts: str) -> str:
    raw = int.from_bytes(_derived(*parts)[:8], "big")
    return f"{(raw >> 40) % 2**24}x{(raw >> 16) % 2**24}x{raw % 2**16}"


def _peer_port(peer: str) -> int:
    return 30000 + int(peer[2:8], 16) % 10000


# ------------------------------------------------------------------------------------------------------------
# getinfo, listpeers, listpeerchannels


def _our_channels(node: SimNode) -> list[Channel]:
    return node.network.channels_of(node.our_id)


def _peers(node: SimNode) -> list[str]:
    """Our peers in the order of our channels (each once)."""
    return list(dict.fromkeys(channel.peer_of(node.our_id) for channel in _our_channels(node)))


@rpc_command("getinfo")
def getinfo(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    node = ctx.node
    us = node.us
    return {
        "id": us.node_id,
        "alias": us.alias,
        "color": us.color,
        "num_peers": len(_peers(node)),
        "num_pending_channels": 0,
        "num_active_channels": len(_our_channels(node)),
        "num_inactive_channels": 0,
        "address": [],
        "binding": [{"type": "ipv4", "address": "127.0.0.1", "port": REGTEST_PORT}],
        "version": node_version(node),
        "blockheight": node.blockheight,
        "network": node.network_name,
        "fees_collected_msat": 0,
        "lightning-dir": f"{node.config.lightning_dir}/{node.network_name}",
        "our_features": dict(OUR_FEATURES),
    }


def _loglevel(name: str, value: Any) -> str:
    levels = ("io", "trace", "debug", "info", "unusual", "broken", "error", "warn")
    if not isinstance(value, str) or value.lower() not in levels:
        raise bad_param(name, value, "should be 'io', 'debug', 'info', or 'unusual'")
    return value.lower()


@rpc_command("listpeers", [Param("id", node_id), Param("level", _loglevel)])
def listpeers(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    node = ctx.node
    peers = _peers(node)
    if params["id"] is not None:
        peers = [peer for peer in peers if peer == params["id"]]
    answer = []
    for peer in peers:
        connected = node.network.nodes[peer].online
        entry: dict[str, Any] = {
            "id": peer,
            "connected": connected,
            "num_channels": len(node.network.channels_between(node.our_id, peer)),
        }
        if connected:
            entry["netaddr"] = [f"127.0.0.1:{_peer_port(peer)}"]
        entry["features"] = PEER_INIT_FEATURES
        if params["level"] is not None:
            entry["log"] = []
        answer.append(entry)
    return {"peers": answer}


def _channel_id(name: str, value: Any) -> str:
    if not isinstance(value, str) or len(value) != 64 or any(c not in "0123456789abcdefABCDEF" for c in value):
        raise bad_param(name, value, "should be a channel id")
    return value.lower()


def _policy(channel: Channel, direction: int) -> dict[str, Any]:
    half = channel.halves[direction]
    return {
        "htlc_minimum_msat": half.htlc_minimum_msat,
        "htlc_maximum_msat": half.htlc_maximum_msat,
        "cltv_expiry_delta": half.cltv_delta,
        "fee_base_msat": half.base_fee_msat,
        "fee_proportional_millionths": half.fee_ppm,
    }


def _iso(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def peer_channel(node: SimNode, channel: Channel) -> dict[str, Any]:
    """One entry of listpeerchannels for one of our channels (json_add_channel's fields and order)."""
    us = node.our_id
    peer = channel.peer_of(us)
    ours = channel.direction_from(us)
    theirs = 1 - ours
    local, remote = channel.halves[ours], channel.halves[theirs]
    connected = node.network.nodes[peer].online
    opener_local = channel.opener == us
    scid = channel.short_channel_id
    close_to = "5120" + _derived("close_to", us, scid).hex()
    currency = CURRENCY_BY_NETWORK.get(node.network_name, "bcrt")
    initial_to_us = channel.capacity_msat if opener_local else 0
    payments = node.component(PaymentBook)
    stats = payments.channel_stats(scid)

    entry: dict[str, Any] = {"peer_id": peer, "peer_connected": connected}
    if connected:
        entry["reestablished"] = True
    entry.update(
        {
            "channel_type": {"bits": list(CHANNEL_TYPE["bits"]), "names": list(CHANNEL_TYPE["names"])},
            "ignore_fee_limits": True,
            "updates": {"local": _policy(channel, ours), "remote": _policy(channel, theirs)},
            "state": "CHANNELD_NORMAL",
            "scratch_txid": _derived("scratch", channel.funding_txid).hex(),
            "last_tx_fee_msat": LAST_TX_FEE_MSAT,
            "lost_state": False,
            "feerate": dict(FEERATE),
        }
    )
    if connected:
        entry["owner"] = "channeld"
    entry.update(
        {
            "short_channel_id": scid,
            "direction": ours,
            "channel_id": channel.channel_id,
            "funding_txid": channel.funding_txid,
            "funding_outnum": 0,
        }
    )
    address = script_to_address(bytes.fromhex(close_to), currency)
    if address:
        entry["close_to_addr"] = address
    entry.update(
        {
            "close_to": close_to,
            "private": not channel.public,
            "opener": "local" if opener_local else "remote",
            "alias": {"local": _fake_scid("alias", us, scid), "remote": _fake_scid("alias", peer, scid)},
            "features": list(CHANNEL_FEATURES),
            "funding": {
                "local_funds_msat": initial_to_us,
                "remote_funds_msat": channel.capacity_msat - initial_to_us,
                "pushed_msat": 0,
                "withheld": False,
            },
            "to_us_msat": local.balance_msat,
            "min_to_us_msat": min(initial_to_us, local.balance_msat),
            "max_to_us_msat": max(initial_to_us, local.balance_msat),
            "total_msat": channel.capacity_msat,
            "fee_base_msat": local.base_fee_msat,
            "fee_proportional_millionths": local.fee_ppm,
            "dust_limit_msat": DUST_LIMIT_MSAT,
            "their_max_htlc_value_in_flight_msat": MAX_HTLC_VALUE_IN_FLIGHT_MSAT,
            "our_max_htlc_value_in_flight_msat": MAX_HTLC_VALUE_IN_FLIGHT_MSAT,
            "their_reserve_msat": 0,
            "our_reserve_msat": 0,
            "spendable_msat": local.spendable_msat,
            "receivable_msat": remote.spendable_msat,
            "minimum_htlc_in_msat": 0,
            "minimum_htlc_out_msat": local.htlc_minimum_msat,
            "maximum_htlc_out_msat": local.htlc_maximum_msat,
            "their_to_self_delay": TO_SELF_DELAY,
            "our_to_self_delay": TO_SELF_DELAY,
            "max_accepted_htlcs": MAX_ACCEPTED_HTLCS,
            "state_changes": [
                {
                    "timestamp": _iso(min(local.last_update, remote.last_update)),
                    "old_state": "CHANNELD_AWAITING_LOCKIN",
                    "new_state": "CHANNELD_NORMAL",
                    "cause": "user" if opener_local else "remote",
                    "message": "Lockin complete",
                }
            ],
            "status": ["CHANNELD_NORMAL:Channel ready for use."],
            "in_payments_offered": 0,
            "in_offered_msat": 0,
            "in_payments_fulfilled": 0,
            "in_fulfilled_msat": 0,
            "out_payments_offered": stats.offered,
            "out_offered_msat": stats.offered_msat,
            "out_payments_fulfilled": stats.fulfilled,
            "out_fulfilled_msat": stats.fulfilled_msat,
            "htlcs": [htlc.to_json() for htlc in payments.offered_htlcs(scid)],
        }
    )
    return entry


@rpc_command(
    "listpeerchannels",
    [Param("id", node_id), Param("short_channel_id", short_channel_id), Param("channel_id", _channel_id)],
)
def listpeerchannels(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    node = ctx.node
    given = [name for name in ("id", "short_channel_id", "channel_id") if params[name] is not None]
    if len(given) > 1:
        raise invalid_params("Must not specify more than one of short_channel_id, channel_id or id")
    channels = _our_channels(node)
    if params["id"] is not None:
        channels = [c for c in channels if c.peer_of(node.our_id) == params["id"]]
    elif params["short_channel_id"] is not None:
        channels = [c for c in channels if c.short_channel_id == params["short_channel_id"]]
    elif params["channel_id"] is not None:
        channels = [c for c in channels if c.channel_id == params["channel_id"]]
    return {"channels": [peer_channel(node, channel) for channel in channels]}


# ------------------------------------------------------------------------------------------------------------
# listchannels, listnodes: the gossip view


def channel_entry(channel: Channel, direction: int) -> dict[str, Any]:
    """One direction of a channel as listchannels shows it (topology.c json_add_halfchan)."""
    half = channel.halves[direction]
    return {
        "source": channel.source(direction),
        "destination": channel.destination(direction),
        "short_channel_id": channel.short_channel_id,
        "direction": direction,
        "public": channel.public,
        "amount_msat": channel.capacity_msat,
        "message_flags": 1,
        "channel_flags": direction | (0 if half.enabled else 2),
        "active": half.enabled,
        "last_update": half.last_update,
        "base_fee_millisatoshi": half.base_fee_msat,
        "fee_per_millionth": half.fee_ppm,
        "delay": half.cltv_delta,
        "htlc_minimum_msat": half.htlc_minimum_msat,
        "htlc_maximum_msat": half.htlc_maximum_msat,
        "features": "",
    }


@rpc_command(
    "listchannels",
    [Param("short_channel_id", short_channel_id), Param("source", node_id), Param("destination", node_id)],
)
def listchannels(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    network = ctx.node.network
    scid, source, destination = params["short_channel_id"], params["source"], params["destination"]
    if (scid is not None) + (source is not None) + (destination is not None) > 1:
        raise invalid_params("Can only specify one of `short_channel_id`, `source` or `destination`")
    entries: list[dict[str, Any]] = []
    if scid is not None:
        channel = network.channels.get(scid)
        if channel is not None and channel.public:
            entries = [channel_entry(channel, 0), channel_entry(channel, 1)]
    elif source is not None:
        entries = [
            channel_entry(channel, channel.direction_from(source))
            for channel in network.channels_of(source)
            if channel.public
        ]
    elif destination is not None:
        entries = [
            channel_entry(channel, 1 - channel.direction_from(destination))
            for channel in network.channels_of(destination)
            if channel.public
        ]
    else:
        for channel in network.channels.values():
            if channel.public:
                entries.append(channel_entry(channel, 0))
                entries.append(channel_entry(channel, 1))
    return {"channels": entries}


def _node_entry(ctx: CallContext, node_id_: str) -> dict[str, Any] | None:
    """A node as listnodes shows it, or None when gossip does not know it (no announced channel)."""
    network = ctx.node.network
    node = network.nodes.get(node_id_)
    channels = [channel for channel in network.channels_of(node_id_) if channel.public]
    if node is None or not channels:
        return None
    timestamp = node.last_timestamp or min(
        channel.halves[channel.direction_from(node_id_)].last_update for channel in channels
    )
    return {
        "nodeid": node.node_id,
        "alias": node.alias,
        "color": node.color,
        "last_timestamp": timestamp,
        "features": NODE_ANNOUNCEMENT_FEATURES,
        "addresses": [],
    }


@rpc_command("listnodes", [Param("id", node_id)])
def listnodes(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    ids = [params["id"]] if params["id"] is not None else list(ctx.node.network.nodes)
    return {"nodes": [entry for entry in map(lambda i: _node_entry(ctx, i), ids) if entry is not None]}


# ------------------------------------------------------------------------------------------------------------
# decode, decodepay


def _pull(text: str, prefix: str) -> str | None:
    if text.startswith(prefix) or text.startswith(prefix.upper()):
        return text[len(prefix) :]
    return None


def looks_like_bolt11(text: str) -> bool:
    """offers.c guess_type's LIKELY_BOLT11: a known ``ln`` prefix, then digits (and one multiplier) up to the
    last ``1``."""
    for prefix in ("lnbcrt", "lnbc", "lntbs", "lntb"):
        rest = _pull(text, prefix)
        if rest is None:
            continue
        separator = rest.rfind("1")
        if separator < 0:
            return False
        amount = rest[:separator]
        if len(amount) > 1 and amount[-1].lower() in "mnup":
            amount = amount[:-1]
        return all(char in "0123456789" for char in amount)
    return False


def _decodable(name: str, value: Any) -> dict[str, Any]:
    """param_decodable for what the simulator decodes: BOLT 11 invoices (lightningd's words on failure).

    As lightningd, a ``lightning:`` prefix is dropped, and the error then quotes the token from the prefix's
    last character on (``':lnbc...\"'``).
    """
    if not isinstance(value, str):
        raise bad_param(name, value, "Unparsable string")
    text, token = value, token_text(value)
    stripped = strip_lightning_prefix(value)
    if stripped is not None:
        text, token = stripped, token[len("lightning:") :]
    likely = looks_like_bolt11(text)
    try:
        decoded = decode_bolt11(text)
    except Bolt11Error as err:
        reason = str(err) if likely else "Unparsable string"
        raise invalid_params(f"{name}: {reason}: invalid token '{token}'") from None
    return {"type": "bolt11 invoice", **decoded.to_json(), "valid": True}


@rpc_command("decode", [Param("string", _decodable, required=True)])
def decode(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    return params["string"]


@rpc_command(
    "decodepay",
    [Param("bolt11", invstring, required=True), Param("description", string)],
    generation="legacy",
)
def decodepay(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    """Older CLN's decodepay (removed in v26.06, answered only by ``legacy`` nodes): json_add_bolt11's
    fields without decode's ``type``/``valid``, and failures as error -1 "Invalid bolt11: ..."."""
    try:
        decoded = decode_bolt11(params["bolt11"], description=params["description"])
    except Bolt11Error as err:
        raise RpcFault(LIGHTNINGD, f"Invalid bolt11: {err}") from None
    return decoded.to_json()


# ------------------------------------------------------------------------------------------------------------
# invoice, listinvoices


def _preimage(name: str, value: Any) -> str:
    text = value if isinstance(value, str) else token_text(value)
    if len(text) != 64 or any(c not in "0123456789abcdefABCDEF" for c in text):
        raise bad_param("preimage", value, "should be 64 hex digits")
    return text.lower()


def _chanhints(name: str, value: Any) -> tuple[bool, list[str] | None]:
    """param_chanhints: true/false, one short_channel_id, or an array of them (then expose them all)."""
    if isinstance(value, bool) or value in ("true", "false"):
        return boolean(name, value), None
    if isinstance(value, list):
        for item in value:
            if not is_short_channel_id(item):
                raise bad_param(name, item, "should be a short channel id")
        return True, list(value)
    return True, [short_channel_id(name, value)]


def _dev_routes(routes: list[Any]) -> list[list[dict[str, object]]]:
    """dev-routes: explicit route hints (lightningd aborts on malformed ones; we refuse them)."""
    hints: list[list[dict[str, object]]] = []
    try:
        for route in routes:
            hint = []
            for hop in route:
                pubkey = node_id("dev-routes", hop["id"])
                hint.append(
                    {
                        "pubkey": pubkey,
                        "short_channel_id": short_channel_id("dev-routes", hop["short_channel_id"]),
                        "fee_base_msat": u32("dev-routes", hop["fee_base_msat"]),
                        "fee_proportional_millionths": u32("dev-routes", hop["fee_proportional_millionths"]),
                        "cltv_expiry_delta": u32("dev-routes", hop["cltv_expiry_delta"]) & 0xFFFF,
                    }
                )
            hints.append(hint)
    except (KeyError, TypeError):
        raise invalid_params("dev-routes: should be an array of routes of hops") from None
    return hints


def check_label(book: InvoiceBook, payee: str, label_: str) -> None:
    if book.find_label(payee, label_) is not None:
        raise RpcFault(INVOICE_LABEL_ALREADY_EXISTS, f"Duplicate label '{label_}'")


WARNINGS = (
    ("warning_mpp", "The invoice is only payable by MPP-capable payers."),
    ("warning_capacity", "Insufficient incoming channel capacity to pay invoice"),
    ("warning_deadends", "Insufficient incoming capacity, once dead-end peers were excluded"),
    ("warning_offline", "Insufficient incoming capacity, once offline peers were excluded"),
    (
        "warning_private_unused",
        "Insufficient incoming capacity, once private channels were excluded (try exposeprivatechannels=true?)",
    ),
)


@rpc_command(
    "invoice",
    [
        Param("amount_msat", positive_msat_or_any, required=True),
        Param("label", label, required=True),
        Param("description", string, required=True),
        Param("expiry", u64, default=DEFAULT_EXPIRY),
        Param("fallbacks", array),
        Param("preimage", _preimage),
        Param("exposeprivatechannels", _chanhints),
        Param("cltv", integer, default=MIN_FINAL_CLTV_EXPIRY),
        Param("deschashonly", boolean, default=False),
        Param("dev-routes", array),
    ],
)
def invoice(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    """json_invoice for our node: checks in lightningd's order, route hints as invoice.c picks them."""
    node = ctx.node
    book = node.component(InvoiceBook)
    label_, description = params["label"], params["description"]
    if len(label_.encode()) > MAX_LABEL_BYTES:
        raise invalid_params(f"Label '{label_}' over {MAX_LABEL_BYTES} bytes")
    if len(description.encode()) > BOLT11_FIELD_BYTE_LIMIT and not params["deschashonly"]:
        raise invalid_params(
            f"Description greater than {BOLT11_FIELD_BYTE_LIMIT} bytes invalid "
            f"(description length {len(description.encode())})"
        )
    fallbacks: list[bytes] = []
    for address in params["fallbacks"] or []:
        script, problem = address_to_script(address, node.network_name) if isinstance(address, str) else (None, "")
        if script is None:
            if problem == "wrong_network":
                raise RpcFault(LIGHTNINGD, f"Fallback address does not match our network {node.network_name}")
            raise RpcFault(LIGHTNINGD, "Fallback address not valid")
        fallbacks.append(script)

    warnings: dict[str, bool] = {}
    if params["dev-routes"] is not None:
        route_hints = _dev_routes(params["dev-routes"])
    else:
        expose, scids = params["exposeprivatechannels"] or (None, None)
        choice = select_route_hints(
            node,
            node.our_id,
            params["amount_msat"],
            expose_private=expose,
            hint_scids=scids,
            rr_numbers=book.rr_numbers.setdefault(node.our_id, {}),
        )
        if choice.no_suitable_hints:
            raise RpcFault(INVOICE_HINTS_GAVE_NO_ROUTES, "None of those hints were suitable local channels")
        route_hints = choice.routes
        warnings = {name: getattr(choice, name) for name, _ in WARNINGS}

    preimage = params["preimage"]
    if preimage is not None and book.find(node.our_id, hashlib.sha256(bytes.fromhex(preimage)).hexdigest()):
        raise RpcFault(INVOICE_PREIMAGE_ALREADY_EXISTS, "preimage already used")
    check_label(book, node.our_id, label_)
    created = book.create(
        node.our_id,
        amount_msat=params["amount_msat"],
        description=description,
        label=label_,
        expiry=params["expiry"],
        preimage=preimage,
        min_final_cltv_expiry=params["cltv"],
        route_hints=route_hints,
        deschashonly=params["deschashonly"],
        fallbacks=fallbacks,
    )
    answer: dict[str, Any] = {
        "payment_hash": created.payment_hash,
        "expires_at": created.expires_at,
        "bolt11": created.bolt11,
        "payment_secret": created.payment_secret,
        "created_index": created.created_index,
    }
    for name, text in WARNINGS:
        if warnings.get(name):
            answer[name] = text
    return answer


def invoice_entry(invoice_: SimInvoice, now: int) -> dict[str, Any]:
    """json_add_invoice_fields: one invoice as listinvoices shows it."""
    status = invoice_.current_status(now)
    entry: dict[str, Any] = {
        "label": invoice_.label,
        "bolt11": invoice_.bolt11,
        "payment_hash": invoice_.payment_hash,
    }
    if invoice_.amount_msat is not None:
        entry["amount_msat"] = invoice_.amount_msat
    entry["status"] = status
    if status == "paid":
        entry["pay_index"] = invoice_.pay_index or 1
        entry["amount_received_msat"] = invoice_.amount_received_msat or 0
        entry["paid_at"] = invoice_.paid_at or now
        entry["payment_preimage"] = invoice_.preimage
    entry["description"] = invoice_.description
    entry["expires_at"] = invoice_.expires_at
    entry["created_index"] = invoice_.created_index
    if invoice_.updated_index:
        entry["updated_index"] = invoice_.updated_index
    return entry


@rpc_command(
    "listinvoices",
    [
        Param("label", label),
        Param("invstring", string),
        Param("payment_hash", sha256),
        Param("offer_id", sha256),
        Param("index", one_of("created", "updated", "deleted", should_be="unknown index")),
        Param("start", u64, default=0),
        Param("limit", u32),
    ],
)
def listinvoices(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    node = ctx.node
    book = node.component(InvoiceBook)
    selectors = ("label", "invstring", "payment_hash", "offer_id")
    if sum(params[name] is not None for name in selectors) > 1:
        raise invalid_params("Can only specify one of {label}, {invstring}, {payment_hash} or {offer_id}")
    if params["start"] != 0 and params["index"] is None:
        raise invalid_params("Can only specify {start} with {index}")
    if params["limit"] is not None and params["index"] is None:
        raise invalid_params("Can only specify {limit} with {index}")
    payment_hash = params["payment_hash"]
    if params["invstring"] is not None:
        try:
            payment_hash = decode_bolt11(params["invstring"]).payment_hash
        except Bolt11Error:
            raise invalid_params("Invalid invstring") from None

    now = node.now()
    found: list[SimInvoice]
    if params["label"] is not None:
        one = book.find_label(node.our_id, params["label"])
        found = [one] if one else []
    elif payment_hash is not None:
        one = book.find(node.our_id, payment_hash)
        found = [one] if one else []
    elif params["offer_id"] is not None:
        found = []
    else:
        found = book.of(node.our_id)
        if params["index"] == "updated":
            found = sorted(
                (i for i in found if i.updated_index and i.updated_index >= params["start"]),
                key=lambda i: i.updated_index or 0,
            )
        elif params["index"] is not None:
            found = [i for i in found if i.created_index >= params["start"]]
        if params["limit"] is not None:
            found = found[: params["limit"]]
    return {"invoices": [invoice_entry(i, now) for i in found]}


# ------------------------------------------------------------------------------------------------------------
# deprecations


@rpc_command("deprecations", [Param("enable", boolean, required=True)])
def deprecations(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    """Switch deprecated APIs on or off for this connection only (jsonrpc.c json_deprecations)."""
    ctx.connection.deprecated_apis = params["enable"]
    return {}


__all__ = [
    "channel_entry",
    "check_label",
    "peer_channel",
]
