"""The one place that talks to a Core Lightning node: pyln-client behind a small typed interface.

Everything else in the console asks a :class:`NodeClient` (a Protocol), so tests and screens can hand it any
node: a real lightningd, the simulated one (both through :class:`PylnNode`), or a canned client. Results come
back as dataclasses with int msat amounts; every lightningd error becomes one :class:`NodeError` carrying CLN's
``code``, ``message`` and ``data``; a missing or refusing socket becomes :class:`NodeUnreachable`, whose
message names the path tried.

pyln-client opens a new socket for every call, so long ``waitsendpay`` calls in threads don't block other
calls; its request-id counter is not locked, so each thread gets its own ``LightningRpc``.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from pyln.client import LightningRpc, RpcError

# lightningd's error codes the console acts on (common/jsonrpc_errors.h).
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
PAY_IN_PROGRESS = 200
PAY_RHASH_ALREADY_USED = 201
PAY_UNPARSEABLE_ONION = 202
PAY_DESTINATION_PERM_FAIL = 203
PAY_TRY_OTHER_ROUTE = 204
PAY_ROUTE_NOT_FOUND = 205
PAY_NO_SUCH_PAYMENT = 208

NETWORK_DIRS = {"bitcoin": "bitcoin", "mainnet": "bitcoin", "testnet": "testnet", "testnet4": "testnet4",
                "signet": "signet", "regtest": "regtest", "liquid": "liquid", "liquid-regtest": "liquid-regtest"}


class NodeError(Exception):
    """An error answer from lightningd: ``code``, ``message`` and ``data`` as the node sent them."""

    def __init__(self, method: str, code: int | None, message: str, data: dict[str, Any] | None = None) -> None:
        super().__init__(f"{method}: {message}" + (f" (code {code})" if code is not None else ""))
        self.method = method
        self.code = code
        self.message = message
        self.data = data


class NodeUnreachable(NodeError):
    """The node's socket is missing, refuses connections, or closed the connection mid-call."""

    def __init__(self, method: str, socket_path: str, reason: str) -> None:
        super().__init__(method, None, f"cannot reach lightningd at {socket_path}: {reason}")
        self.socket_path = socket_path


# ---------------------------------------------------------------------------------------------------------------
# Typed results


@dataclass(frozen=True)
class NodeInfo:
    """``getinfo``: who and where the node is."""

    id: str
    alias: str
    color: str
    network: str
    blockheight: int
    version: str
    num_peers: int
    num_active_channels: int


@dataclass(frozen=True)
class GossipChannel:
    """One direction of a public channel, as ``listchannels`` shows it: the policy its source charges."""

    short_channel_id: str
    direction: int
    source: str
    destination: str
    amount_msat: int
    """The channel's capacity."""
    active: bool
    public: bool
    base_fee_msat: int
    fee_ppm: int
    cltv_delta: int
    htlc_minimum_msat: int
    htlc_maximum_msat: int

    @property
    def short_channel_id_dir(self) -> str:
        return f"{self.short_channel_id}/{self.direction}"

    def fee_for(self, amount_msat: int) -> int:
        """What this channel's source charges to forward ``amount_msat`` over it (BOLT 7)."""
        return self.base_fee_msat + amount_msat * self.fee_ppm // 1_000_000


@dataclass(frozen=True)
class PeerChannel:
    """One of our own channels (``listpeerchannels``): what we can actually send over it."""

    peer_id: str
    short_channel_id: str | None
    direction: int | None
    state: str
    peer_connected: bool
    spendable_msat: int
    receivable_msat: int
    total_msat: int
    to_us_msat: int
    private: bool
    fee_base_msat: int = 0
    """Our outgoing policy on this channel (what we charge to forward over it), from ``updates.local``."""
    fee_ppm: int = 0
    cltv_delta: int | None = None
    """None on nodes that predate ``updates`` in listpeerchannels."""
    htlc_minimum_msat: int = 0
    htlc_maximum_msat: int | None = None


@dataclass(frozen=True)
class NodeSummary:
    """``listnodes``: a node's announced alias."""

    node_id: str
    alias: str
    color: str


@dataclass(frozen=True)
class SendPayment:
    """One part of an outgoing payment as ``sendpay``/``waitsendpay``/``listsendpays`` show it."""

    created_index: int
    payment_hash: str
    groupid: int
    partid: int
    status: str
    """``pending``, ``complete`` or ``failed``."""
    amount_msat: int | None
    """What the destination gets (the whole payment's total for a part of an MPP)."""
    amount_sent_msat: int
    destination: str | None
    created_at: int
    completed_at: int | None = None
    payment_preimage: str | None = None
    label: str | None = None
    bolt11: str | None = None
    updated_index: int | None = None
    erroronion: str | None = None
    description: str | None = None
    """The invoice description sendpay was given (CLN stores it when ``description`` is passed)."""

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> SendPayment:
        return cls(
            created_index=int(obj.get("created_index", obj.get("id", 0))),
            payment_hash=obj["payment_hash"],
            groupid=int(obj.get("groupid", 0)),
            partid=int(obj.get("partid", 0)),
            status=obj.get("status", "pending"),
            amount_msat=_msat_or_none(obj.get("amount_msat")),
            amount_sent_msat=_msat(obj.get("amount_sent_msat", 0)),
            destination=obj.get("destination"),
            created_at=int(obj.get("created_at", 0)),
            completed_at=obj.get("completed_at"),
            payment_preimage=obj.get("payment_preimage"),
            label=obj.get("label"),
            bolt11=obj.get("bolt11"),
            updated_index=obj.get("updated_index"),
            erroronion=obj.get("erroronion"),
            description=obj.get("description"),
        )


@dataclass(frozen=True)
class RoutingFailure:
    """The routing failure object in the ``data`` of a 203/204 error (``remote_routing_failure``)."""

    erring_index: int | None
    erring_node: str | None
    erring_channel: str | None
    erring_direction: int | None
    failcode: int | None
    failcodename: str | None
    raw_message: str | None
    payment: SendPayment | None
    """The part as the node reported it alongside the failure (status may still say pending)."""

    @classmethod
    def from_data(cls, data: dict[str, Any] | None) -> RoutingFailure:
        data = data or {}
        payment = SendPayment.from_json(data) if "payment_hash" in data else None
        return cls(
            erring_index=data.get("erring_index"),
            erring_node=data.get("erring_node"),
            erring_channel=data.get("erring_channel"),
            erring_direction=data.get("erring_direction"),
            failcode=data.get("failcode"),
            failcodename=data.get("failcodename"),
            raw_message=data.get("raw_message"),
            payment=payment,
        )


@dataclass(frozen=True)
class SendpayHop:
    """A ``sendpay`` route entry: what arrives at the hop's far end (the ``getroute`` shape)."""

    id: str
    channel: str
    direction: int
    amount_msat: int
    delay: int

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "channel": self.channel,
            "direction": self.direction,
            "amount_msat": self.amount_msat,
            "delay": self.delay,
            "style": "tlv",
        }


@dataclass(frozen=True)
class PathHop:
    """A ``getroutes`` path entry: what goes into and comes out of one hop (v26.06 names)."""

    short_channel_id_dir: str
    node_id_in: str
    node_id_out: str
    amount_in_msat: int
    amount_out_msat: int
    cltv_in: int
    cltv_out: int


@dataclass(frozen=True)
class FoundRoute:
    """One route of a ``getroutes`` answer."""

    probability_ppm: int
    amount_msat: int
    final_cltv: int
    path: tuple[PathHop, ...]


@dataclass(frozen=True)
class FoundRoutes:
    """A ``getroutes`` answer: the routes together deliver the amount asked."""

    probability_ppm: int
    routes: tuple[FoundRoute, ...]


@dataclass(frozen=True)
class Page:
    """A page of ``listsendpays`` read by ``created_index``, and where the next page starts."""

    payments: tuple[SendPayment, ...]
    next_start: int | None


# ---------------------------------------------------------------------------------------------------------------
# The interface


class NodeClient(Protocol):
    """What the console needs from a node. :class:`PylnNode` implements it over pyln-client."""

    @property
    def socket_path(self) -> str: ...

    def call(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]: ...

    def getinfo(self) -> NodeInfo: ...

    def listpeerchannels(self, peer_id: str | None = None) -> list[PeerChannel]: ...

    def listchannels(
        self, short_channel_id: str | None = None, source: str | None = None, destination: str | None = None
    ) -> list[GossipChannel]: ...

    def listnodes(self, node_id: str | None = None) -> list[NodeSummary]: ...

    def decode(self, bolt11: str) -> dict[str, Any]: ...

    def getroutes(
        self,
        source: str,
        destination: str,
        amount_msat: int,
        *,
        layers: Sequence[str],
        maxfee_msat: int,
        final_cltv: int,
        maxdelay: int | None = None,
        maxparts: int | None = None,
    ) -> FoundRoutes: ...

    def getroute(
        self,
        node_id: str,
        amount_msat: int,
        *,
        riskfactor: float = 10,
        cltv: int = 9,
        fromid: str | None = None,
        fuzzpercent: float | None = None,
        exclude: Sequence[str] = (),
        maxhops: int | None = None,
    ) -> list[SendpayHop]: ...

    def create_layer(self, layer: str) -> None: ...

    def remove_layer(self, layer: str) -> None: ...

    def layer_disable_node(self, layer: str, node_id: str) -> None: ...

    def layer_disable_channel(self, layer: str, short_channel_id_dir: str) -> None: ...

    def sendpay(
        self,
        route: Sequence[SendpayHop],
        payment_hash: str,
        *,
        amount_msat: int | None = None,
        label: str | None = None,
        bolt11: str | None = None,
        payment_secret: str | None = None,
        partid: int | None = None,
        groupid: int | None = None,
    ) -> SendPayment: ...

    def waitsendpay(
        self, payment_hash: str, *, timeout: int | None = None, partid: int | None = None, groupid: int | None = None
    ) -> SendPayment: ...

    def listsendpays(
        self, *, payment_hash: str | None = None, bolt11: str | None = None, status: str | None = None
    ) -> list[SendPayment]: ...

    def listsendpays_page(self, *, start: int, limit: int, status: str | None = None) -> Page: ...


# ---------------------------------------------------------------------------------------------------------------
# Finding the node like lightning-cli


def rpc_socket_path(
    lightning_dir: str | os.PathLike[str] | None = None,
    network: str = "bitcoin",
    rpc_file: str | os.PathLike[str] = "lightning-rpc",
) -> Path:
    """Where lightning-cli would look: ``rpc_file`` if absolute, else ``LIGHTNING_DIR/NETWORK/rpc_file``."""
    rpc = Path(rpc_file).expanduser()
    if rpc.is_absolute():
        return rpc
    base = Path(lightning_dir).expanduser() if lightning_dir else Path.home() / ".lightning"
    return base / NETWORK_DIRS.get(network, network) / rpc


def connect(
    lightning_dir: str | os.PathLike[str] | None = None,
    network: str = "bitcoin",
    rpc_file: str | os.PathLike[str] = "lightning-rpc",
) -> PylnNode:
    """A client for the node found like lightning-cli finds it; NodeUnreachable if nothing answers there."""
    path = rpc_socket_path(lightning_dir, network, rpc_file)
    node = PylnNode(path)
    node.getinfo()
    return node


# ---------------------------------------------------------------------------------------------------------------
# The pyln-client implementation


def _msat(value: Any) -> int:
    """Amounts arrive as ints from current nodes; old ones may send ``"123msat"`` strings."""
    if isinstance(value, int):
        return value
    text = str(value)
    return int(text[:-4]) if text.endswith("msat") else int(text)


def _msat_or_none(value: Any) -> int | None:
    return None if value is None else _msat(value)


@dataclass
class _Capabilities:
    """Which generation of commands the node answers, learnt from its -32601 answers."""

    decode: bool | None = None
    getroutes: bool | None = None
    wait: bool | None = None
    """Whether ``wait`` answers for the sendpays subsystem (CLN 23.11+): the newest index in one call."""


class PylnNode:
    """A :class:`NodeClient` over pyln-client's ``LightningRpc``; safe to use from many threads at once."""

    def __init__(self, socket_path: str | os.PathLike[str]) -> None:
        self._socket_path = os.fspath(socket_path)
        self._local = threading.local()
        self.capabilities = _Capabilities()

    @property
    def socket_path(self) -> str:
        return self._socket_path

    def _rpc(self) -> LightningRpc:
        rpc = getattr(self._local, "rpc", None)
        if rpc is None:
            rpc = LightningRpc(self._socket_path)
            self._local.rpc = rpc
        return rpc

    def call(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """Call ``method``; lightningd errors become NodeError, socket trouble NodeUnreachable."""
        payload = {key: value for key, value in (params or {}).items() if value is not None}
        try:
            result = self._rpc().call(method, payload)
        except RpcError as error:
            answer = error.error if isinstance(error.error, dict) else {"message": str(error.error)}
            if answer.get("message") == "Connection to RPC server lost.":
                raise NodeUnreachable(method, self._socket_path, "the connection closed mid-call") from error
            raise NodeError(method, answer.get("code"), str(answer.get("message", "")), answer.get("data")) from error
        except FileNotFoundError as error:
            raise NodeUnreachable(method, self._socket_path, "no such socket") from error
        except ConnectionRefusedError as error:
            raise NodeUnreachable(method, self._socket_path, "connection refused") from error
        except OSError as error:
            raise NodeUnreachable(method, self._socket_path, error.strerror or str(error)) from error
        except ValueError as error:  # pyln-client's "Malformed response"
            raise NodeError(method, None, f"malformed answer: {error}") from error
        if not isinstance(result, dict):
            raise NodeError(method, None, f"malformed answer: expected an object, got {type(result).__name__}")
        return result

    # -- node and graph --------------------------------------------------------------------------------------

    def getinfo(self) -> NodeInfo:
        info = self.call("getinfo")
        return NodeInfo(
            id=info["id"],
            alias=info.get("alias", ""),
            color=info.get("color", ""),
            network=info.get("network", "bitcoin"),
            blockheight=int(info.get("blockheight", 0)),
            version=info.get("version", ""),
            num_peers=int(info.get("num_peers", 0)),
            num_active_channels=int(info.get("num_active_channels", 0)),
        )

    def listpeerchannels(self, peer_id: str | None = None) -> list[PeerChannel]:
        answer = self.call("listpeerchannels", {"id": peer_id})
        return [
            PeerChannel(
                peer_id=channel["peer_id"],
                short_channel_id=channel.get("short_channel_id"),
                direction=channel.get("direction"),
                state=channel.get("state", ""),
                peer_connected=bool(channel.get("peer_connected", False)),
                spendable_msat=_msat(channel.get("spendable_msat", 0)),
                receivable_msat=_msat(channel.get("receivable_msat", 0)),
                total_msat=_msat(channel.get("total_msat", 0)),
                to_us_msat=_msat(channel.get("to_us_msat", 0)),
                private=bool(channel.get("private", False)),
                **_local_policy(channel),
            )
            for channel in answer.get("channels", [])
        ]

    def listchannels(
        self, short_channel_id: str | None = None, source: str | None = None, destination: str | None = None
    ) -> list[GossipChannel]:
        answer = self.call(
            "listchannels", {"short_channel_id": short_channel_id, "source": source, "destination": destination}
        )
        return [
            GossipChannel(
                short_channel_id=channel["short_channel_id"],
                direction=int(channel["direction"]),
                source=channel["source"],
                destination=channel["destination"],
                amount_msat=_msat(channel.get("amount_msat", 0)),
                active=bool(channel.get("active", True)),
                public=bool(channel.get("public", True)),
                base_fee_msat=int(channel.get("base_fee_millisatoshi", 0)),
                fee_ppm=int(channel.get("fee_per_millionth", 0)),
                cltv_delta=int(channel.get("delay", 0)),
                htlc_minimum_msat=_msat(channel.get("htlc_minimum_msat", 0)),
                htlc_maximum_msat=_msat(channel.get("htlc_maximum_msat", channel.get("amount_msat", 0))),
            )
            for channel in answer.get("channels", [])
        ]

    def listnodes(self, node_id: str | None = None) -> list[NodeSummary]:
        answer = self.call("listnodes", {"id": node_id})
        return [
            NodeSummary(node_id=node["nodeid"], alias=node.get("alias", ""), color=node.get("color", ""))
            for node in answer.get("nodes", [])
        ]

    def decode(self, bolt11: str) -> dict[str, Any]:
        """``decode`` (current nodes), falling back to ``decodepay`` on nodes that predate it."""
        if self.capabilities.decode is not False:
            try:
                answer = self.call("decode", {"string": bolt11})
                self.capabilities.decode = True
                return answer
            except NodeError as error:
                if error.code != METHOD_NOT_FOUND:
                    raise
                self.capabilities.decode = False
        return self.call("decodepay", {"bolt11": bolt11})

    # -- routes ----------------------------------------------------------------------------------------------

    def getroutes(
        self,
        source: str,
        destination: str,
        amount_msat: int,
        *,
        layers: Sequence[str],
        maxfee_msat: int,
        final_cltv: int,
        maxdelay: int | None = None,
        maxparts: int | None = None,
    ) -> FoundRoutes:
        """CLN's current route finder; NodeError -32601 on nodes without askrene (see ``supports_getroutes``)."""
        try:
            answer = self.call(
                "getroutes",
                {
                    "source": source,
                    "destination": destination,
                    "amount_msat": amount_msat,
                    "layers": list(layers),
                    "maxfee_msat": maxfee_msat,
                    "final_cltv": final_cltv,
                    "maxdelay": maxdelay,
                    "maxparts": maxparts,
                },
            )
        except NodeError as error:
            if error.code == METHOD_NOT_FOUND:
                self.capabilities.getroutes = False
            raise
        self.capabilities.getroutes = True
        return FoundRoutes(
            probability_ppm=int(answer.get("probability_ppm", 0)),
            routes=tuple(_found_route(route) for route in answer.get("routes", [])),
        )

    def getroute(
        self,
        node_id: str,
        amount_msat: int,
        *,
        riskfactor: float = 10,
        cltv: int = 9,
        fromid: str | None = None,
        fuzzpercent: float | None = None,
        exclude: Sequence[str] = (),
        maxhops: int | None = None,
    ) -> list[SendpayHop]:
        """The deprecated finder older nodes have: one route, in sendpay's shape."""
        answer = self.call(
            "getroute",
            {
                "id": node_id,
                "amount_msat": amount_msat,
                "riskfactor": riskfactor,
                "cltv": cltv,
                "fromid": fromid,
                "fuzzpercent": fuzzpercent,
                "exclude": list(exclude) or None,
                "maxhops": maxhops,
            },
        )
        return [
            SendpayHop(
                id=hop["id"],
                channel=hop["channel"],
                direction=int(hop["direction"]),
                amount_msat=_msat(hop["amount_msat"]),
                delay=int(hop["delay"]),
            )
            for hop in answer.get("route", [])
        ]

    # -- askrene layers: where the console keeps the user's exclusions for getroutes ------------------------

    def create_layer(self, layer: str) -> None:
        """Create an (empty, non-persistent) askrene layer; an existing one is emptied first."""
        if layer in self.list_layer_names():
            self.call("askrene-remove-layer", {"layer": layer})
        self.call("askrene-create-layer", {"layer": layer})

    def list_layer_names(self) -> list[str]:
        return [layer["layer"] for layer in self.call("askrene-listlayers").get("layers", [])]

    def remove_layer(self, layer: str) -> None:
        self.call("askrene-remove-layer", {"layer": layer})

    def layer_disable_node(self, layer: str, node_id: str) -> None:
        self.call("askrene-disable-node", {"layer": layer, "node": node_id})

    def layer_disable_channel(self, layer: str, short_channel_id_dir: str) -> None:
        self.call(
            "askrene-update-channel", {"layer": layer, "short_channel_id_dir": short_channel_id_dir, "enabled": False}
        )

    # -- payments --------------------------------------------------------------------------------------------

    def sendpay(
        self,
        route: Sequence[SendpayHop],
        payment_hash: str,
        *,
        amount_msat: int | None = None,
        label: str | None = None,
        bolt11: str | None = None,
        payment_secret: str | None = None,
        partid: int | None = None,
        groupid: int | None = None,
    ) -> SendPayment:
        answer = self.call(
            "sendpay",
            {
                "route": [hop.to_json() for hop in route],
                "payment_hash": payment_hash,
                "label": label,
                "amount_msat": amount_msat,
                "bolt11": bolt11,
                "payment_secret": payment_secret,
                "partid": partid,
                "groupid": groupid,
            },
        )
        return SendPayment.from_json(answer)

    def waitsendpay(
        self, payment_hash: str, *, timeout: int | None = None, partid: int | None = None, groupid: int | None = None
    ) -> SendPayment:
        """Wait for a part's outcome: the complete part, or NodeError 200 (still pending), 203/204 (failed)..."""
        answer = self.call(
            "waitsendpay", {"payment_hash": payment_hash, "timeout": timeout, "partid": partid, "groupid": groupid}
        )
        return SendPayment.from_json(answer)

    def listsendpays(
        self, *, payment_hash: str | None = None, bolt11: str | None = None, status: str | None = None
    ) -> list[SendPayment]:
        answer = self.call("listsendpays", {"payment_hash": payment_hash, "bolt11": bolt11, "status": status})
        return [SendPayment.from_json(payment) for payment in answer.get("payments", [])]

    def listsendpays_page(self, *, start: int, limit: int, status: str | None = None) -> Page:
        """Payments with ``created_index`` >= ``start``, oldest first, at most ``limit`` of them."""
        answer = self.call(
            "listsendpays", {"index": "created", "start": start, "limit": limit, "status": status}
        )
        payments = tuple(SendPayment.from_json(payment) for payment in answer.get("payments", []))
        next_start = payments[-1].created_index + 1 if len(payments) == limit and payments else None
        return Page(payments, next_start)


NEWEST_WINDOW = 64
"""When the end is known to this many indexes, one ``limit`` call reads them all instead of more probes."""


def newest_created_index(node: NodeClient, *, hint: int = 0, within: int = 1) -> int:
    """An index N with no sendpay created after it and the newest one within ``within`` below it (0: none).

    ``listsendpays`` can only page upwards from a ``start``, so a history that shows the newest first must
    know where the end is without listing everything. Nodes with ``wait`` (CLN 23.11+) say it in one call;
    otherwise one-record probes (``start=S limit=1``) find it: steps growing eightfold from ``hint`` (the end
    learnt last time, so a reopen costs two calls when nothing was paid since), then a binary search, and
    one call for the last few indexes: about 20 calls for 100,000 payments, 2 for a reopen.
    """
    capabilities = getattr(node, "capabilities", None)
    if getattr(capabilities, "wait", None) is not False:
        try:
            answer = node.call("wait", {"subsystem": "sendpays", "indexname": "created", "nextvalue": 0})
        except NodeUnreachable:
            raise
        except NodeError:
            if capabilities is not None and hasattr(capabilities, "wait"):
                capabilities.wait = False
        else:
            if capabilities is not None and hasattr(capabilities, "wait"):
                capabilities.wait = True
            created = answer.get("created")
            if isinstance(created, int) and not isinstance(created, bool) and created >= 0:
                return created
    within = max(1, within)

    def first_at_or_after(start: int) -> int | None:
        page = node.listsendpays_page(start=start, limit=1)
        return page.payments[0].created_index if page.payments else None

    low = first_at_or_after(max(1, hint))
    if low is None:
        if hint <= 1:
            return 0
        high = max(1, hint)  # payments were deleted since: search below the old end
        low = first_at_or_after(1)
        if low is None:
            return 0
    else:
        step = 1 if hint > 1 else 64  # after a hint, one probe past it usually proves it is still the end
        while True:
            found = first_at_or_after(low + step)
            if found is None:
                high = low + step
                break
            low = found
            step *= 8
    # low holds a payment, nothing is at or after high.
    while high - low > max(within, NEWEST_WINDOW):
        middle = (low + high) // 2
        found = first_at_or_after(middle)
        if found is None:
            high = middle
        else:
            low = found
    if high - low > within:
        window = node.listsendpays_page(start=low, limit=high - low).payments
        low = max((payment.created_index for payment in window), default=low)
        high = low + 1
    return low if within == 1 else high - 1


def _local_policy(channel: dict[str, Any]) -> dict[str, Any]:
    """Our side's policy of one listpeerchannels entry: ``updates.local``, else the older top-level fields."""
    local = (channel.get("updates") or {}).get("local") or {}
    maximum = local.get("htlc_maximum_msat", channel.get("maximum_htlc_out_msat"))
    delta = local.get("cltv_expiry_delta")
    return {
        "fee_base_msat": _msat(local.get("fee_base_msat", channel.get("fee_base_msat", 0))),
        "fee_ppm": int(local.get("fee_proportional_millionths", channel.get("fee_proportional_millionths", 0))),
        "cltv_delta": None if delta is None else int(delta),
        "htlc_minimum_msat": _msat(local.get("htlc_minimum_msat", channel.get("minimum_htlc_out_msat", 0))),
        "htlc_maximum_msat": _msat_or_none(maximum),
    }


def _found_route(route: dict[str, Any]) -> FoundRoute:
    return FoundRoute(
        probability_ppm=int(route.get("probability_ppm", 0)),
        amount_msat=_msat(route["amount_msat"]),
        final_cltv=int(route.get("final_cltv", 0)),
        path=tuple(_path_hop(hop) for hop in route.get("path", [])),
    )


def _path_hop(hop: dict[str, Any]) -> PathHop:
    """v26.06 names, or the older ``amount_msat``/``next_node_id``/``delay`` (into the hop) shape."""
    return PathHop(
        short_channel_id_dir=hop["short_channel_id_dir"],
        node_id_in=hop.get("node_id_in", ""),
        node_id_out=hop.get("node_id_out", hop.get("next_node_id", "")),
        amount_in_msat=_msat(hop.get("amount_in_msat", hop.get("amount_msat", 0))),
        amount_out_msat=_msat(hop.get("amount_out_msat", 0)),
        cltv_in=int(hop.get("cltv_in", hop.get("delay", 0))),
        cltv_out=int(hop.get("cltv_out", 0)),
    )


__all__ = [
    "FoundRoute",
    "FoundRoutes",
    "GossipChannel",
    "NodeClient",
    "NodeError",
    "NodeInfo",
    "NodeSummary",
    "NodeUnreachable",
    "Page",
    "PathHop",
    "PeerChannel",
    "PylnNode",
    "RoutingFailure",
    "SendPayment",
    "SendpayHop",
    "connect",
    "newest_created_index",
    "rpc_socket_path",
]
