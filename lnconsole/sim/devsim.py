"""Simulator-only commands (``dev-sim-*``): no real lightningd answers them, hence the prefix.

They let a test or a demo shape the simulated network while it runs: issue an invoice from any node, set one
direction of a channel (its liquidity and its gossiped policy, seen at once in ``listchannels`` like a new
channel_update), take a node offline. Errors follow lightningd's parameter wording (-32602 naming the
parameter).
"""

from __future__ import annotations

from typing import Any

from .errors import invalid_params
from .info import channel_entry, check_label
from .invoices import DEFAULT_EXPIRY, InvoiceBook, select_route_hints
from .params import (
    Param,
    bad_param,
    boolean,
    label,
    msat,
    positive_msat_or_any,
    string,
    u16,
    u32,
    u64,
)
from .registry import CallContext, rpc_command


@rpc_command(
    "dev-sim-invoice",
    [
        Param("node", string, required=True),
        Param("amount_msat", positive_msat_or_any),
        Param("description", string, default=""),
        Param("expiry", u64, default=DEFAULT_EXPIRY),
        Param("label", label),
    ],
)
def dev_sim_invoice(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    """A real invoice of any node (by id or alias), route hints chosen as its lightningd would."""
    node = ctx.node
    payee = node.find_node(params["node"], "node")
    book = node.component(InvoiceBook)
    if params["label"] is not None:
        check_label(book, payee.node_id, params["label"])
    amount = params["amount_msat"]
    hints = select_route_hints(node, payee.node_id, amount, rr_numbers=book.rr_numbers.setdefault(payee.node_id, {}))
    created = book.create(
        payee.node_id,
        amount_msat=amount,
        description=params["description"],
        label=params["label"],
        expiry=params["expiry"],
        route_hints=hints.routes,
    )
    return {
        "bolt11": created.bolt11,
        "payment_hash": created.payment_hash,
        "payment_secret": created.payment_secret,
        "payee": created.payee,
        "label": created.label,
        "expires_at": created.expires_at,
    }


def _direction(name: str, value: Any) -> int:
    if value in (0, 1, "0", "1") and not isinstance(value, bool):
        return int(value)
    raise bad_param(name, value, "should be 0 or 1")


POLICY_PARAMS = (
    ("base_fee_millisatoshi", "base_fee_msat"),
    ("fee_per_millionth", "fee_ppm"),
    ("delay", "cltv_delta"),
    ("htlc_minimum_msat", "htlc_minimum_msat"),
    ("htlc_maximum_msat", "htlc_maximum_msat"),
    ("active", "enabled"),
)
"""dev-sim-channel's policy parameters (listchannels' names) -> the HalfChannel fields they set."""


@rpc_command(
    "dev-sim-channel",
    [
        Param("short_channel_id", string, required=True),
        Param("direction", _direction, required=True),
        Param("spendable_msat", msat),
        Param("base_fee_millisatoshi", u32),
        Param("fee_per_millionth", u32),
        Param("delay", u16),
        Param("htlc_minimum_msat", msat),
        Param("htlc_maximum_msat", msat),
        Param("active", boolean),
    ],
)
def dev_sim_channel(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    """Set one direction's liquidity and policy; answers that direction as listchannels now shows it.

    ``spendable_msat`` is what the source can still send (its balance less HTLCs in flight); the balance
    moves to or from the other side, so the capacity is conserved. Every change is checked before any is
    made. A policy change is a new channel_update (``last_update`` moves on, route finders see it); liquidity
    is not gossiped, so changing only that leaves both alone (route finders read our own channels' live).
    """
    node = ctx.node
    scid = params["short_channel_id"]
    channel = node.network.channels.get(scid)
    if channel is None:
        raise invalid_params(f"short_channel_id: unknown channel '{scid}'")
    direction = params["direction"]
    half, other = channel.halves[direction], channel.halves[1 - direction]

    spendable = params["spendable_msat"]
    if spendable is not None:
        limit = channel.capacity_msat - half.inflight_msat - other.inflight_msat
        if spendable > limit:
            raise bad_param(
                "spendable_msat",
                spendable,
                f"should be at most {limit}msat (capacity {channel.capacity_msat}msat less "
                f"{half.inflight_msat + other.inflight_msat}msat in flight)",
            )
    maximum = params["htlc_maximum_msat"]
    if maximum is not None and maximum > channel.capacity_msat:
        raise bad_param("htlc_maximum_msat", maximum, f"should be at most the capacity {channel.capacity_msat}msat")
    minimum = params["htlc_minimum_msat"]
    new_minimum = half.htlc_minimum_msat if minimum is None else minimum
    new_maximum = half.htlc_maximum_msat if maximum is None else maximum
    if new_minimum > new_maximum:
        raise bad_param("htlc_minimum_msat", new_minimum, f"should not exceed htlc_maximum_msat {new_maximum}msat")

    policy = {attribute: params[param] for param, attribute in POLICY_PARAMS if params[param] is not None}
    with node.state.batch():
        if spendable is not None:
            half.balance_msat = spendable + half.inflight_msat
            other.balance_msat = channel.capacity_msat - half.balance_msat
            node.state.balances_changed(channel)
        if policy:
            for attribute, value in policy.items():
                setattr(half, attribute, value)
            half.last_update = max(half.last_update + 1, node.now())
            node.network.touch()
            node.state.policy_changed(channel, direction)
    return {**channel_entry(channel, direction), "spendable_msat": half.spendable_msat}


@rpc_command("dev-sim-node", [Param("id", string, required=True), Param("online", boolean, required=True)])
def dev_sim_node(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    """Take a node (by id or alias) offline or back: forwards through an offline node fail, its channels
    with us show ``peer_connected: false``."""
    node = ctx.node
    target = node.find_node(params["id"], "id")
    if target.node_id == node.our_id:
        raise invalid_params(f"id: {params['id']} is our own node")
    target.online = params["online"]  # not gossip: route finders read it live for our peers
    node.state.node_changed(target)
    return {"id": target.node_id, "alias": target.alias, "online": target.online}
