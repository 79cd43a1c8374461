"""The one place that talks to a Core Lightning node: pyln-client behind a small typed interface.

Everything else in the console asks a :class:`NodeClient` (a Protocol), so tests and screens can hand it any
node: a real lightningd, the simulated one (both through :class:`PylnNode`), or a canned client. Results come
back as dataclasses with int msat amounts; every lightningd error becomes one :class:`NodeError` carrying CLN's
``code``, ``message`` and ``data``; a missing or refusing socket becomes :class:`NodeUnreachable`, whose
message names the path tried; an answer the console cannot read (a field missing or of the wrong type, a result
that is no object) becomes :class:`UnexpectedAnswer` ("unexpected answer from lightningd: <command>: <what>"),
never a KeyError or TypeError. Text others wrote (aliases, error messages, descriptions) comes back
:func:`printable`: escape sequences in it are shown, not obeyed by the terminal.

pyln-client opens a new socket for every call, so long ``waitsendpay`` calls in threads don't block other
calls; its request-id counter is not locked, so each thread gets its own ``LightningRpc``.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple, Protocol

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

NETWORK_DIRS = {
    "bitcoin": "bitcoin",
    "mainnet": "bitcoin",
    "testnet": "testnet",
    "testnet4": "testnet4",
    "signet": "signet",
    "regtest": "regtest",
    "liquid": "liquid",
    "liquid-regtest": "liquid-regtest",
}


_VISIBLE = {
    code: repr(chr(code))[1:-1]
    for code in (*range(0x00, 0x20), *range(0x7F, 0xA0), 0x2028, 0x2029, *range(0x202A, 0x202F), *range(0x2066, 0x206A))
    if code not in (0x09, 0x0A)
}
"""Control characters (C0 but tab and newline, DEL, C1), line separators and bidirectional overrides -> escapes."""


def printable(text: str) -> str:
    """Text someone else wrote (a node's alias, an invoice's description, an error message), safe to show: escape
    sequences in it (``\x1b]52;...`` sets the clipboard, ``\x1b[2J`` clears the screen) and bidirectional
    overrides (which can make ``01`` read ``10``) are shown as escapes instead of acting on the terminal."""
    return text.translate(_VISIBLE)


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


class UnexpectedAnswer(NodeError):
    """lightningd answered, but not in a shape the console knows (a field missing or of the wrong type).

    Raised instead of the KeyError/TypeError a plain parse would let escape, so every caller that handles a
    NodeError shows it as what it is: the node said something, and it was not what the console expected.
    """

    def __init__(self, method: str, what: str) -> None:
        super().__init__(method, None, f"unexpected answer from lightningd: {method}: {what}")
        self.what = what


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


@dataclass(frozen=True, slots=True)
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


class ChannelEnds(NamedTuple):
    """One direction of a public channel, nothing but where it goes: ``listchannels`` filtered down to that.

    A hub has thousands of channels and an edit needs the few that reach one node, so its neighbours are asked
    this way (a fifth of the bytes) and only those channels' policies in full (issue 5). A tuple, not a
    dataclass: thousands of them are made at once, and tuples of strings and ints are no work for the
    garbage collector."""

    short_channel_id: str
    direction: int
    source: str
    destination: str


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
    def from_json(cls, obj: Any, method: str = "listsendpays", where: str = "") -> SendPayment:
        """One payment object of a ``sendpay``/``waitsendpay``/``listsendpays`` answer; UnexpectedAnswer (naming
        ``method`` and the field) when a field the console relies on is missing or of the wrong type."""
        answer = _Answer(method, obj, where)
        created_index = answer.whole("created_index", None)
        return cls(
            created_index=answer.whole("id", 0) if created_index is None else created_index,
            payment_hash=answer.hex32("payment_hash"),
            groupid=answer.whole("groupid", 0),
            partid=answer.whole("partid", 0),
            status=answer.choice("status", SENDPAY_STATUSES),
            amount_msat=answer.msat("amount_msat", None),
            amount_sent_msat=answer.msat("amount_sent_msat", 0),
            destination=answer.text("destination", None),
            created_at=answer.whole("created_at", 0),
            completed_at=answer.whole("completed_at", None),
            payment_preimage=answer.text("payment_preimage", None),
            label=answer.text("label", None),
            bolt11=answer.text("bolt11", None),
            updated_index=answer.whole("updated_index", None),
            erroronion=answer.text("erroronion", None),
            description=_printable_or_none(answer.text("description", None)),
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
    def from_data(cls, data: Any) -> RoutingFailure:
        """Never raises: the error's ``data`` is extra detail, so a field of the wrong type is left out (None)
        and a ``data`` that is no object at all gives an empty failure."""
        data = data if isinstance(data, Mapping) else {}
        payment: SendPayment | None = None
        if "payment_hash" in data:
            try:
                payment = SendPayment.from_json(data, "waitsendpay", "data")
            except UnexpectedAnswer:
                payment = None
        return cls(
            erring_index=_loose(data.get("erring_index"), int),
            erring_node=_loose(data.get("erring_node"), str),
            erring_channel=_loose(data.get("erring_channel"), str),
            erring_direction=_loose(data.get("erring_direction"), int),
            failcode=_loose(data.get("failcode"), int),
            failcodename=_loose(data.get("failcodename"), str),
            raw_message=_loose(data.get("raw_message"), str),
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

    def channel_ends(self, source: str | None = None, destination: str | None = None) -> list[ChannelEnds]: ...

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


SENDPAY_STATUSES = ("pending", "complete", "failed")
"""Every status lightningd gives a sendpay part (listsendpays, waitsendpay, sendpay)."""

_REQUIRED: Any = object()
_NODE_ID = re.compile(r"^0[23][0-9a-f]{64}$")
_HEX32 = re.compile(r"^[0-9a-f]{64}$")
_SCID = re.compile(r"^[0-9]+x[0-9]+x[0-9]+$")
_SCID_DIR = re.compile(r"^[0-9]+x[0-9]+x[0-9]+/[01]$")
_MSAT_TEXT = re.compile(r"^[0-9]{1,20}(msat)?$")
"""Old nodes write amounts as ``"123msat"``; ASCII digits only (``int`` reads other digits too)."""


def _kind(value: Any) -> str:
    """How a JSON value looks, for a message: ``a string``, ``null``..."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return f"the number {value!r}" if len(repr(value)) <= 24 else "a number"
    if isinstance(value, str):
        return f"the string {value!r}" if len(value) <= 24 else "a long string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, Mapping):
        return "an object"
    return type(value).__name__


def _printable_or_none(text: str | None) -> str | None:
    return None if text is None else printable(text)


def _loose(value: Any, kind: type) -> Any:
    """``value`` if it is of ``kind`` (a bool is no int), else None: for details that may be left out."""
    if isinstance(value, bool) and kind is not bool:
        return None
    return value if isinstance(value, kind) else None


class _Answer:
    """One object of a node's answer, read field by field.

    A field that is missing (or null) where the console needs it, or of the wrong type, raises
    :class:`UnexpectedAnswer` naming the command and the field: never the KeyError, TypeError or ValueError a
    plain ``obj["field"]``/``int(...)`` would let escape into a screen. ``default`` makes a field optional
    (CLN versions differ in what they send); without it the field is required.
    """

    def __init__(self, method: str, obj: Any, where: str = "") -> None:
        if not isinstance(obj, Mapping):
            raise UnexpectedAnswer(method, f"{where or 'the result'} is {_kind(obj)}, not an object")
        self.method = method
        self.obj = obj
        self.where = where

    def _path(self, key: str) -> str:
        return f"{self.where}.{key}" if self.where else key

    def wrong(self, key: str, expected: str) -> UnexpectedAnswer:
        return UnexpectedAnswer(self.method, f"{self._path(key)} is {_kind(self.obj.get(key))}, not {expected}")

    def has(self, key: str) -> bool:
        return self.obj.get(key) is not None

    def _value(self, key: str, default: Any) -> tuple[Any, bool]:
        """(value, present); raises for a required field that is absent or null."""
        value = self.obj.get(key)
        if value is None:
            if default is _REQUIRED:
                raise UnexpectedAnswer(self.method, f"{self._path(key)} is missing")
            return default, False
        return value, True

    def text(self, key: str, default: Any = _REQUIRED) -> Any:
        value, present = self._value(key, default)
        if present and not isinstance(value, str):
            raise self.wrong(key, "a string")
        return value

    def node_id(self, key: str, default: Any = _REQUIRED) -> Any:
        value, present = self._value(key, default)
        if present and not (isinstance(value, str) and _NODE_ID.match(value.lower())):
            raise self.wrong(key, "a node id")
        return value.lower() if present else value

    def hex32(self, key: str, default: Any = _REQUIRED) -> Any:
        value, present = self._value(key, default)
        if present and not (isinstance(value, str) and _HEX32.match(value.lower())):
            raise self.wrong(key, "64 hex digits")
        return value.lower() if present else value

    def scid(self, key: str, default: Any = _REQUIRED) -> Any:
        value, present = self._value(key, default)
        if present and not (isinstance(value, str) and _SCID.match(value)):
            raise self.wrong(key, "a short_channel_id")
        return value

    def scid_dir(self, key: str, default: Any = _REQUIRED) -> Any:
        value, present = self._value(key, default)
        if present and not (isinstance(value, str) and _SCID_DIR.match(value)):
            raise self.wrong(key, "a short_channel_id/direction")
        return value

    def whole(self, key: str, default: Any = _REQUIRED, *, minimum: int | None = 0) -> Any:
        value, present = self._value(key, default)
        if not present:
            return value
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int) or (minimum is not None and value < minimum):
            raise self.wrong(key, "a whole number" if minimum is None else f"a whole number of at least {minimum}")
        return value

    def direction(self, key: str, default: Any = _REQUIRED) -> Any:
        value = self.whole(key, default)
        if value is not default and value not in (0, 1):
            raise self.wrong(key, "0 or 1")
        return value

    def msat(self, key: str, default: Any = _REQUIRED) -> Any:
        """An amount: an int (current nodes) or ``"123msat"`` (old ones)."""
        value, present = self._value(key, default)
        if not present:
            return value
        if isinstance(value, str) and _MSAT_TEXT.match(value):
            return int(value.removesuffix("msat"))
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise self.wrong(key, "an amount in msat")
        return value

    def flag(self, key: str, default: Any = _REQUIRED) -> Any:
        value, present = self._value(key, default)
        if present and not isinstance(value, bool):
            raise self.wrong(key, "true or false")
        return value

    def choice(self, key: str, choices: Sequence[str], default: Any = _REQUIRED) -> Any:
        value = self.text(key, default)
        if value is not default and value not in choices:
            raise self.wrong(key, " or ".join(choices))
        return value

    def child(self, key: str) -> _Answer | None:
        """An optional member object (None when absent)."""
        value, present = self._value(key, None)
        return _Answer(self.method, value, self._path(key)) if present else None

    def objects(self, key: str, *, required: bool = False) -> list[_Answer]:
        """A list of objects (absent: empty, unless ``required``)."""
        value, _ = self._value(key, _REQUIRED if required else [])
        if not isinstance(value, list):
            raise self.wrong(key, "a list")
        return [_Answer(self.method, item, f"{self._path(key)}[{index}]") for index, item in enumerate(value)]


def _error_from(method: str, answer: Mapping[str, Any]) -> NodeError:
    """A JSON-RPC error object as a NodeError, whatever its shape: a ``code`` that is no whole number is kept
    in the message (the console acts on numeric codes only), a ``data`` that is no object is dropped."""
    code = answer.get("code")
    message = answer.get("message")
    text = printable(message) if isinstance(message, str) else ("" if message is None else repr(message))
    if not text:
        text = "lightningd gave no message"
    if code is not None and (isinstance(code, bool) or not isinstance(code, int)):
        text = f"{text} (code {code!r})"
        code = None
    data = answer.get("data")
    return NodeError(method, code, text, data if isinstance(data, dict) else None)


GOSSIP_FIELDS = {
    "channels": [
        {
            name: True
            for name in (
                "source",
                "destination",
                "short_channel_id",
                "direction",
                "public",
                "amount_msat",
                "active",
                "base_fee_millisatoshi",
                "fee_per_millionth",
                "delay",
                "htlc_minimum_msat",
                "htlc_maximum_msat",
            )
        }
    ]
}
"""The ``listchannels`` fields a :class:`GossipChannel` is read from: lightningd's reply ``filter`` leaves out the
rest (flags, timestamps, features). Nodes that predate filters answer in full, which reads the same."""

ENDS_FIELDS = {"channels": [{"source": True, "destination": True, "short_channel_id": True, "direction": True}]}
"""What :meth:`PylnNode.channel_ends` asks ``listchannels`` for."""

NODE_FIELDS = {"nodes": [{"nodeid": True, "alias": True, "color": True}]}
"""The ``listnodes`` fields a :class:`NodeSummary` is read from (not the addresses and features)."""


@dataclass
class _Capabilities:
    """Which generation of commands the node answers, learnt from its -32601 answers."""

    decode: bool | None = None
    getroutes: bool | None = None
    wait: bool | None = None
    """Whether ``wait`` answers for the sendpays subsystem (CLN 23.11+): the newest index in one call."""


class _RpcLog:
    """The logger handed to pyln-client. Its own default logs every call's payload and every answer at debug level
    on the root logger, so ``lnconsole -v`` would write sendpay's payment_secret and bolt11 and waitsendpay's
    preimage into the console's log. Only the method's name is logged, on this module's logger."""

    def debug(self, message: str, *args: Any) -> None:
        if message.startswith("Calling ") and args:
            logging.getLogger(__name__).debug("lightningd call: %s", args[0])

    def __getattr__(self, name: str) -> Any:
        return lambda *args, **kwargs: None  # pyln-client logs nothing else; if it ever does, not its payloads


_RPC_LOG = _RpcLog()


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
            rpc = LightningRpc(self._socket_path, logger=_RPC_LOG)
            self._local.rpc = rpc
        return rpc

    @contextmanager
    def _reply_filter(self, fields: dict[str, Any]) -> Iterator[None]:
        """The calls this thread makes meanwhile ask lightningd for ``fields`` only (its top-level ``filter``).

        Passed beside ``call``'s arguments, not through them, so that subclasses wrapping ``call(method, params)``
        (recording, counting, staging odd answers) see every call unchanged."""
        previous = getattr(self._local, "filter", None)
        self._local.filter = fields
        try:
            yield
        finally:
            self._local.filter = previous

    def call(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """Call ``method``; lightningd errors become NodeError, socket trouble NodeUnreachable."""
        payload = {key: value for key, value in (params or {}).items() if value is not None}
        fields = getattr(self._local, "filter", None)
        try:
            rpc = self._rpc()
            result = rpc.call(method, payload) if fields is None else rpc.call(method, payload, filter=fields)
        except RpcError as error:
            answer = error.error if isinstance(error.error, dict) else {"message": str(error.error)}
            if answer.get("message") == "Connection to RPC server lost.":
                raise NodeUnreachable(method, self._socket_path, "the connection closed mid-call") from error
            raise _error_from(method, answer) from error
        except FileNotFoundError as error:
            raise NodeUnreachable(method, self._socket_path, "no such socket") from error
        except ConnectionRefusedError as error:
            raise NodeUnreachable(method, self._socket_path, "connection refused") from error
        except OSError as error:
            raise NodeUnreachable(method, self._socket_path, error.strerror or str(error)) from error
        except (ValueError, TypeError, AttributeError) as error:  # pyln-client's "Malformed response"
            raise UnexpectedAnswer(method, f"malformed response ({error})") from error
        if not isinstance(result, dict):
            raise UnexpectedAnswer(method, f"the result is {_kind(result)}, not an object")
        return result

    # -- node and graph --------------------------------------------------------------------------------------

    def getinfo(self) -> NodeInfo:
        info = _Answer("getinfo", self.call("getinfo"))
        return NodeInfo(
            id=info.node_id("id"),
            alias=printable(info.text("alias", "")),
            color=info.text("color", ""),
            network=info.text("network", "bitcoin"),
            blockheight=info.whole("blockheight", 0),
            version=info.text("version", ""),
            num_peers=info.whole("num_peers", 0),
            num_active_channels=info.whole("num_active_channels", 0),
        )

    def listpeerchannels(self, peer_id: str | None = None) -> list[PeerChannel]:
        answer = _Answer("listpeerchannels", self.call("listpeerchannels", {"id": peer_id}))
        return [
            PeerChannel(
                peer_id=channel.node_id("peer_id"),
                short_channel_id=channel.scid("short_channel_id", None),
                direction=channel.direction("direction", None),
                state=channel.text("state", ""),
                peer_connected=channel.flag("peer_connected", False),
                spendable_msat=channel.msat("spendable_msat", 0),
                receivable_msat=channel.msat("receivable_msat", 0),
                total_msat=channel.msat("total_msat", 0),
                to_us_msat=channel.msat("to_us_msat", 0),
                private=channel.flag("private", False),
                **_local_policy(channel),
            )
            for channel in answer.objects("channels", required=True)
        ]

    def listchannels(
        self, short_channel_id: str | None = None, source: str | None = None, destination: str | None = None
    ) -> list[GossipChannel]:
        with self._reply_filter(GOSSIP_FIELDS):
            found = self.call(
                "listchannels", {"short_channel_id": short_channel_id, "source": source, "destination": destination}
            )
        answer = _Answer("listchannels", found)
        channels = []
        for channel in answer.objects("channels", required=True):
            capacity = channel.msat("amount_msat", 0)
            channels.append(
                GossipChannel(
                    short_channel_id=channel.scid("short_channel_id"),
                    direction=channel.direction("direction"),
                    source=channel.node_id("source"),
                    destination=channel.node_id("destination"),
                    amount_msat=capacity,
                    active=channel.flag("active", True),
                    public=channel.flag("public", True),
                    base_fee_msat=channel.whole("base_fee_millisatoshi", 0),
                    fee_ppm=channel.whole("fee_per_millionth", 0),
                    cltv_delta=channel.whole("delay", 0),
                    htlc_minimum_msat=channel.msat("htlc_minimum_msat", 0),
                    htlc_maximum_msat=channel.msat("htlc_maximum_msat", capacity),
                )
            )
        return channels

    def channel_ends(self, source: str | None = None, destination: str | None = None) -> list[ChannelEnds]:
        """``listchannels source=`` or ``destination=`` with only each direction's channel and ends."""
        if (source is None) == (destination is None):
            raise ValueError("channel_ends needs a source or a destination (never the whole graph)")
        with self._reply_filter(ENDS_FIELDS):
            found = self.call("listchannels", {"source": source, "destination": destination})
        answer = _Answer("listchannels", found)
        return [
            ChannelEnds(
                channel.scid("short_channel_id"),
                channel.direction("direction"),
                channel.node_id("source"),
                channel.node_id("destination"),
            )
            for channel in answer.objects("channels", required=True)
        ]

    def listnodes(self, node_id: str | None = None) -> list[NodeSummary]:
        with self._reply_filter(NODE_FIELDS):
            found = self.call("listnodes", {"id": node_id})
        answer = _Answer("listnodes", found)
        return [
            NodeSummary(
                node_id=node.node_id("nodeid"), alias=printable(node.text("alias", "")), color=node.text("color", "")
            )
            for node in answer.objects("nodes", required=True)
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
        found = _Answer("getroutes", answer)
        return FoundRoutes(
            probability_ppm=found.whole("probability_ppm", 0),
            routes=tuple(_found_route(route) for route in found.objects("routes", required=True)),
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
                id=hop.node_id("id"),
                channel=hop.scid("channel"),
                direction=hop.direction("direction"),
                amount_msat=hop.msat("amount_msat"),
                delay=hop.whole("delay"),
            )
            for hop in _Answer("getroute", answer).objects("route", required=True)
        ]

    # -- askrene layers: where the console keeps the user's exclusions for getroutes ------------------------

    def create_layer(self, layer: str) -> None:
        """Create an (empty, non-persistent) askrene layer; an existing one is emptied first."""
        if layer in self.list_layer_names():
            self.call("askrene-remove-layer", {"layer": layer})
        self.call("askrene-create-layer", {"layer": layer})

    def list_layer_names(self) -> list[str]:
        answer = _Answer("askrene-listlayers", self.call("askrene-listlayers"))
        return [layer.text("layer") for layer in answer.objects("layers", required=True)]

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
        return SendPayment.from_json(answer, "sendpay")

    def waitsendpay(
        self, payment_hash: str, *, timeout: int | None = None, partid: int | None = None, groupid: int | None = None
    ) -> SendPayment:
        """Wait for a part's outcome: the complete part, or NodeError 200 (still pending), 203/204 (failed)..."""
        answer = self.call(
            "waitsendpay", {"payment_hash": payment_hash, "timeout": timeout, "partid": partid, "groupid": groupid}
        )
        return SendPayment.from_json(answer, "waitsendpay")

    def listsendpays(
        self, *, payment_hash: str | None = None, bolt11: str | None = None, status: str | None = None
    ) -> list[SendPayment]:
        params = {"payment_hash": payment_hash, "bolt11": bolt11, "status": status}
        answer = _Answer("listsendpays", self.call("listsendpays", params))
        return [
            SendPayment.from_json(payment.obj, "listsendpays", payment.where)
            for payment in answer.objects("payments", required=True)
        ]

    def listsendpays_page(self, *, start: int, limit: int, status: str | None = None) -> Page:
        """Payments with ``created_index`` >= ``start``, oldest first, at most ``limit`` of them."""
        answer = self.call("listsendpays", {"index": "created", "start": start, "limit": limit, "status": status})
        payments = tuple(
            SendPayment.from_json(payment.obj, "listsendpays", payment.where)
            for payment in _Answer("listsendpays", answer).objects("payments", required=True)
        )
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


def _local_policy(channel: _Answer) -> dict[str, Any]:
    """Our side's policy of one listpeerchannels entry: ``updates.local``, else the older top-level fields."""
    updates = channel.child("updates")
    local = updates.child("local") if updates is not None else None

    def source(new: str) -> _Answer:
        return local if local is not None and local.has(new) else channel

    return {
        "fee_base_msat": source("fee_base_msat").msat("fee_base_msat", 0),
        "fee_ppm": source("fee_proportional_millionths").whole("fee_proportional_millionths", 0),
        "cltv_delta": local.whole("cltv_expiry_delta", None) if local is not None else None,
        "htlc_minimum_msat": (
            local.msat("htlc_minimum_msat")
            if local is not None and local.has("htlc_minimum_msat")
            else channel.msat("minimum_htlc_out_msat", 0)
        ),
        "htlc_maximum_msat": (
            local.msat("htlc_maximum_msat")
            if local is not None and local.has("htlc_maximum_msat")
            else channel.msat("maximum_htlc_out_msat", None)
        ),
    }


def _found_route(route: _Answer) -> FoundRoute:
    return FoundRoute(
        probability_ppm=route.whole("probability_ppm", 0),
        amount_msat=route.msat("amount_msat"),
        final_cltv=route.whole("final_cltv", 0),
        path=tuple(_path_hop(hop) for hop in route.objects("path", required=True)),
    )


def _path_hop(hop: _Answer) -> PathHop:
    """v26.06 names, or the older ``amount_msat``/``next_node_id``/``delay`` (into the hop) shape."""
    node_out = hop.node_id("node_id_out") if hop.has("node_id_out") or not hop.has("next_node_id") else None
    return PathHop(
        short_channel_id_dir=hop.scid_dir("short_channel_id_dir"),
        node_id_in=hop.node_id("node_id_in", ""),
        node_id_out=node_out if node_out is not None else hop.node_id("next_node_id"),
        amount_in_msat=hop.msat("amount_in_msat") if hop.has("amount_in_msat") else hop.msat("amount_msat", 0),
        amount_out_msat=hop.msat("amount_out_msat", 0),
        cltv_in=hop.whole("cltv_in") if hop.has("cltv_in") else hop.whole("delay", 0),
        cltv_out=hop.whole("cltv_out", 0),
    )


__all__ = [
    "ChannelEnds",
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
    "UnexpectedAnswer",
    "connect",
    "newest_created_index",
    "printable",
    "rpc_socket_path",
]
