"""askrene's layers: what a payer has learned or assumes about the network, applied on top of gossip by getroutes.

A layer (plugins/askrene/layer.c) holds disabled nodes, channels it creates, channel updates that override gossip,
and per channel direction a timestamp-ordered list of *constraints* (known minimum/maximum liquidity, from
``askrene-inform-channel`` constrained/unconstrained) and *impressions* (amounts that went through, which move
liquidity from one side to the other). ``getroutes`` applies the layers it is given in order.

Layers live as long as the simulated node (``persistent`` is recorded and reported: there is no restart to
survive). The built-in layers ``auto.localchans`` and ``auto.sourcefree`` are built per query by the solver.
Like ``getroutes``, these commands answer only on a node of the current generation (askrene came with v24.11,
the console falls back to ``getroute`` on older nodes).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .errors import invalid_params
from .params import (
    U64_MAX,
    Param,
    any_string,
    bad_param,
    boolean,
    msat,
    node_id,
    short_channel_id,
    short_channel_id_dir,
    u16,
    u32,
)
from .registry import CallContext, rpc_command

if TYPE_CHECKING:
    from .node import SimNode

AUTO_LAYERS = ("auto.localchans", "auto.sourcefree", "auto.include_fees")
"""Built-in layer names getroutes accepts without their being created."""
INTERNAL_TIMESTAMP = 2**64 - 1
"""Timestamp askrene gives the constraints it makes itself (auto.localchans); listlayers hides them."""


@dataclass
class CreatedChannel:
    """A channel gossip does not know (askrene-create-channel); ends kept in BOLT 7 order."""

    source: str
    destination: str
    short_channel_id: str
    capacity_msat: int

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "destination": self.destination,
            "short_channel_id": self.short_channel_id,
            "capacity_msat": self.capacity_msat,
        }


UPDATE_FIELDS = (
    "enabled",
    "htlc_minimum_msat",
    "htlc_maximum_msat",
    "fee_base_msat",
    "fee_proportional_millionths",
    "cltv_expiry_delta",
)
"""What askrene-update-channel can set, in listlayers' order."""


@dataclass
class ChannelUpdate:
    """Fields that override one channel direction's gossip (None = keep gossip's)."""

    short_channel_id: str
    direction: int
    enabled: bool | None = None
    htlc_minimum_msat: int | None = None
    htlc_maximum_msat: int | None = None
    fee_base_msat: int | None = None
    fee_proportional_millionths: int | None = None
    cltv_expiry_delta: int | None = None

    def merge(self, other: ChannelUpdate) -> None:
        for name in UPDATE_FIELDS:
            value = getattr(other, name)
            if value is not None:
                setattr(self, name, value)

    def to_json(self) -> dict[str, Any]:
        result: dict[str, Any] = {"short_channel_id_dir": f"{self.short_channel_id}/{self.direction}"}
        for name in UPDATE_FIELDS:
            value = getattr(self, name)
            if value is not None:
                result[name] = value
        return result


@dataclass
class Constraint:
    """Known liquidity bounds of one direction: ``minimum_msat`` 0 and ``maximum_msat`` None mean unknown."""

    short_channel_id: str
    direction: int
    timestamp: int
    minimum_msat: int = 0
    maximum_msat: int | None = None

    def to_json(self, layer: str | None = None) -> dict[str, Any]:
        result: dict[str, Any] = {} if layer is None else {"layer": layer}
        result["short_channel_id_dir"] = f"{self.short_channel_id}/{self.direction}"
        result["timestamp"] = self.timestamp
        if self.minimum_msat:
            result["minimum_msat"] = self.minimum_msat
        if self.maximum_msat is not None:
            result["maximum_msat"] = self.maximum_msat
        return result


@dataclass
class Impression:
    """An amount that went through one direction: that side holds less, the other side more."""

    short_channel_id: str
    direction: int
    timestamp: int
    amount_msat: int

    def to_json(self, layer: str | None = None) -> dict[str, Any]:
        result: dict[str, Any] = {} if layer is None else {"layer": layer}
        result.update(
            {
                "short_channel_id_dir": f"{self.short_channel_id}/{self.direction}",
                "timestamp": self.timestamp,
                "amount_msat": self.amount_msat,
            }
        )
        return result


@dataclass
class Layer:
    """One named layer (or a temporary one a query builds, like ``auto.localchans``)."""

    name: str
    persistent: bool = False
    disabled_nodes: list[str] = field(default_factory=list)
    created_channels: dict[str, CreatedChannel] = field(default_factory=dict)
    channel_updates: dict[tuple[str, int], ChannelUpdate] = field(default_factory=dict)
    intel: dict[str, list[Constraint | Impression]] = field(default_factory=dict)
    """Per short_channel_id, constraints and impressions in timestamp order, then insertion order."""

    # -- changes ------------------------------------------------------------------------------------------------
    def create_channel(self, source: str, destination: str, scid: str, capacity_msat: int) -> None:
        n1, n2 = sorted((source, destination))
        self.created_channels[scid] = CreatedChannel(n1, n2, scid, capacity_msat)

    def update_channel(self, update: ChannelUpdate) -> None:
        key = (update.short_channel_id, update.direction)
        existing = self.channel_updates.get(key)
        if existing is None:
            self.channel_updates[key] = ChannelUpdate(update.short_channel_id, update.direction)
            existing = self.channel_updates[key]
        existing.merge(update)

    def _add_intel(self, item: Constraint | Impression) -> None:
        items = self.intel.setdefault(item.short_channel_id, [])
        for i, other in enumerate(items):
            if item.timestamp < other.timestamp:
                items.insert(i, item)
                return
        items.append(item)

    def add_constraint(
        self, scid: str, direction: int, timestamp: int, minimum_msat: int | None, maximum_msat: int | None
    ) -> Constraint:
        constraint = Constraint(scid, direction, timestamp, minimum_msat or 0, maximum_msat)
        self._add_intel(constraint)
        return constraint

    def add_impression(self, scid: str, direction: int, timestamp: int, amount_msat: int) -> Impression:
        impression = Impression(scid, direction, timestamp, amount_msat)
        self._add_intel(impression)
        return impression

    def disable_node(self, node: str) -> None:
        self.disabled_nodes.append(node)

    # -- what getroutes asks ------------------------------------------------------------------------------------
    def apply_constraints(self, scid: str, direction: int, low: int, high: int) -> tuple[int, int]:
        """layer_apply_constraints: narrow [low, high] with this layer's intel, oldest first."""
        for item in self.intel.get(scid, ()):
            if isinstance(item, Constraint):
                if item.direction == direction:
                    low = max(low, item.minimum_msat)
                    high = min(high, U64_MAX if item.maximum_msat is None else item.maximum_msat)
            elif item.direction == direction:
                low = max(0, low - item.amount_msat)
                high = max(0, high - item.amount_msat)
            else:
                low = min(U64_MAX, low + item.amount_msat)
                high = min(U64_MAX, high + item.amount_msat)
        return low, high

    def creates(self, scid: str) -> bool:
        return scid in self.created_channels

    def disables_channel(self, scid: str, direction: int) -> bool:
        update = self.channel_updates.get((scid, direction))
        return update is not None and update.enabled is False

    def disables_node(self, node: str) -> bool:
        return node in self.disabled_nodes

    def to_json(self) -> dict[str, Any]:
        constraints = [
            item
            for items in self.intel.values()
            for item in items
            if isinstance(item, Constraint) and item.timestamp != INTERNAL_TIMESTAMP
        ]
        impressions = [item for items in self.intel.values() for item in items if isinstance(item, Impression)]
        return {
            "layer": self.name,
            "persistent": self.persistent,
            "disabled_nodes": list(self.disabled_nodes),
            "created_channels": [c.to_json() for c in self.created_channels.values()],
            "channel_updates": [u.to_json() for u in self.channel_updates.values()],
            "constraints": [c.to_json() for c in constraints],
            "impressions": [i.to_json() for i in impressions],
            "biases": [],
            "node_biases": [],
        }


class LayerStore:
    """The node's named layers (askrene->layers), in creation order."""

    def __init__(self, node: SimNode) -> None:
        self.node = node
        self.layers: dict[str, Layer] = {}

    def find(self, name: str) -> Layer | None:
        return self.layers.get(name)

    def create(self, name: str, persistent: bool = False) -> Layer:
        layer = Layer(name, persistent)
        self.layers[name] = layer
        return layer

    def remove(self, name: str) -> None:
        self.layers.pop(name, None)


# ------------------------------------------------------------------------------------------------------------
# Commands


def _known_layer(ctx: CallContext, params: dict[str, Any], name: str = "layer") -> Layer:
    """param_known_layer (checked in the handler: it needs the node)."""
    value = params[name]
    layer = ctx.node.component(LayerStore).find(value)
    if layer is None:
        raise bad_param(name, value, "Unknown layer")
    return layer


def known_layer_param(name: str, value: Any) -> Any:
    """Keep the raw token so that the handler can quote it in ``Unknown layer``."""
    return value


@rpc_command(
    "askrene-create-layer",
    [Param("layer", any_string, required=True), Param("persistent", boolean, default=False)],
    generation="current",
)
def askrene_create_layer(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    store = ctx.node.component(LayerStore)
    name: str = params["layer"]
    if name.startswith("auto."):
        raise invalid_params("Cannot create auto layer")
    layer = store.find(name)
    if layer is not None and not params["persistent"]:
        raise invalid_params("Layer already exists")
    if layer is None:
        layer = store.create(name, params["persistent"])
    return {"layers": [layer.to_json()]}


@rpc_command("askrene-remove-layer", [Param("layer", known_layer_param, required=True)], generation="current")
def askrene_remove_layer(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    layer = _known_layer(ctx, params)
    ctx.node.component(LayerStore).remove(layer.name)
    return {}


@rpc_command("askrene-listlayers", [Param("layer", known_layer_param)], generation="current")
def askrene_listlayers(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    if params["layer"] is not None:
        return {"layers": [_known_layer(ctx, params).to_json()]}
    return {"layers": [layer.to_json() for layer in ctx.node.component(LayerStore).layers.values()]}


@rpc_command(
    "askrene-create-channel",
    [
        Param("layer", known_layer_param, required=True),
        Param("source", node_id, required=True),
        Param("destination", node_id, required=True),
        Param("short_channel_id", short_channel_id, required=True),
        Param("capacity_msat", msat, required=True),
    ],
    generation="current",
)
def askrene_create_channel(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    layer = _known_layer(ctx, params)
    if params["source"] == params["destination"]:
        raise invalid_params("source and destination must be different")
    if layer.creates(params["short_channel_id"]):
        raise invalid_params("channel already exists")
    layer.create_channel(params["source"], params["destination"], params["short_channel_id"], params["capacity_msat"])
    return {}


@rpc_command(
    "askrene-update-channel",
    [
        Param("layer", known_layer_param, required=True),
        Param("short_channel_id_dir", short_channel_id_dir, required=True),
        Param("enabled", boolean),
        Param("htlc_minimum_msat", msat),
        Param("htlc_maximum_msat", msat),
        Param("fee_base_msat", msat),
        Param("fee_proportional_millionths", u32),
        Param("cltv_expiry_delta", u16),
    ],
    generation="current",
)
def askrene_update_channel(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    layer = _known_layer(ctx, params)
    scid, direction = params["short_channel_id_dir"]
    layer.update_channel(
        ChannelUpdate(
            scid,
            direction,
            enabled=params["enabled"],
            htlc_minimum_msat=params["htlc_minimum_msat"],
            htlc_maximum_msat=params["htlc_maximum_msat"],
            fee_base_msat=params["fee_base_msat"],
            fee_proportional_millionths=params["fee_proportional_millionths"],
            cltv_expiry_delta=params["cltv_expiry_delta"],
        )
    )
    return {}


@rpc_command(
    "askrene-disable-node",
    [Param("layer", known_layer_param, required=True), Param("node", node_id, required=True)],
    generation="current",
)
def askrene_disable_node(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    _known_layer(ctx, params).disable_node(params["node"])
    return {}


def inform_kind(name: str, value: Any) -> str:
    if value not in ("constrained", "unconstrained", "succeeded"):
        raise bad_param(name, value, "must be constrained/unconstrained/succeeded")
    return value


@rpc_command(
    "askrene-inform-channel",
    [
        Param("layer", known_layer_param, required=True),
        Param("short_channel_id_dir", short_channel_id_dir, required=True),
        Param("amount_msat", msat, required=True),
        Param("inform", inform_kind, required=True),
    ],
    generation="current",
)
def askrene_inform_channel(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    """constrained: it failed, so at most amount - 1 is there; unconstrained: at least amount; succeeded: moved."""
    layer = _known_layer(ctx, params)
    scid, direction = params["short_channel_id_dir"]
    amount: int = params["amount_msat"]
    now = ctx.node.now()
    if params["inform"] == "constrained":
        constraint = layer.add_constraint(scid, direction, now, None, max(0, amount - 1))
        return {"constraints": [constraint.to_json(layer.name)], "impressions": []}
    if params["inform"] == "unconstrained":
        constraint = layer.add_constraint(scid, direction, now, amount, None)
        return {"constraints": [constraint.to_json(layer.name)], "impressions": []}
    impression = layer.add_impression(scid, direction, now, amount)
    return {"constraints": [], "impressions": [impression.to_json(layer.name)]}
