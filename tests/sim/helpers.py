"""What several simulator test modules share: the transcripts, raw socket exchanges, error capture, and payment
building blocks (invoices, routes, channel directions) on the regtest network."""

from __future__ import annotations

import hashlib
import json
import socket
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from pyln.client import RpcError

from lnconsole.sim.invoices import InvoiceBook, SimInvoice
from lnconsole.sim.network import HalfChannel, direction_between
from tests.conftest import SHARED, RunningSim

TRANSCRIPTS = SHARED / "cln" / "transcripts"
MAINNET_SNAPSHOT = SHARED / "cln" / "mainnet" / "gossip-store-2026-02-03.compressed"

# ------------------------------------------------------------------------------------------------------------
# Real lightningd's answers


@cache
def transcript(name: str) -> list[dict[str, Any]]:
    """The recorded calls of ``shared/cln/transcripts/NAME.json`` (none in ``network.json``)."""
    return json.loads((TRANSCRIPTS / f"{name}.json").read_text()).get("calls", [])  # type: ignore[no-any-return]


def transcript_calls(method: str, name: str | None = None) -> list[dict[str, Any]]:
    """Every recorded call of ``method``, in one transcript or (``name`` None) in all of them, file by file."""
    names = [name] if name is not None else sorted(path.stem for path in TRANSCRIPTS.glob("*.json"))
    return [call for each in names for call in transcript(each) if call["request"]["method"] == method]


def recorded(name: str, method: str, index: int = 0) -> dict[str, Any]:
    """The ``index``-th recorded response (``result`` or ``error``) to ``method`` in a transcript."""
    return transcript_calls(method, name)[index]["response"]  # type: ignore[no-any-return]


def assert_same_shape(actual: Any, expected: Any, path: str = "", absent: frozenset[str] = frozenset()) -> None:
    """``actual`` has ``expected``'s keys in the same order and the same JSON types, recursively.

    Lists are compared element by element against the expected list's first element. ``absent`` names dotted
    paths lightningd has and the simulator deliberately leaves out (documented in the module under test).
    """
    if isinstance(expected, dict):
        assert isinstance(actual, dict), f"{path}: expected an object, got {actual!r}"
        wanted = [key for key in expected if f"{path}.{key}".lstrip(".") not in absent]
        assert list(actual) == wanted, f"{path}: keys {list(actual)} != lightningd's {wanted}"
        for key in wanted:
            assert_same_shape(actual[key], expected[key], f"{path}.{key}".lstrip("."), absent)
    elif isinstance(expected, list):
        assert isinstance(actual, list), f"{path}: expected a list, got {actual!r}"
        if expected:
            for item in actual:
                assert_same_shape(item, expected[0], f"{path}[]", absent)
    else:
        assert type(actual) is type(expected), f"{path}: {actual!r} is not a {type(expected).__name__}"


# ------------------------------------------------------------------------------------------------------------
# Calls


def rpc_error(call: Callable[..., Any], *args: Any, **kwargs: Any) -> dict[str, Any]:
    """The ``error`` object of ``call(*args, **kwargs)``, which must fail."""
    with pytest.raises(RpcError) as caught:
        call(*args, **kwargs)
    return caught.value.error  # type: ignore[no-any-return]


def exchange(path: Path, requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Send requests one after another on one connection and return their answers.

    pyln-client opens a connection per call; this keeps one, which ``deprecations`` (per connection) needs.
    A request without ``jsonrpc`` or ``id`` gets ``"2.0"`` and its position in the list.
    """
    answers = []
    with socket.socket(socket.AF_UNIX) as sock:
        sock.connect(str(path))
        sock.settimeout(10)
        buffer = b""
        for number, request in enumerate(requests):
            sock.sendall(json.dumps({"jsonrpc": "2.0", "id": number, **request}).encode())
            while b"\n\n" not in buffer:
                data = sock.recv(65536)
                assert data, "connection closed before the answer arrived"
                buffer += data
            answer, _, buffer = buffer.partition(b"\n\n")
            answers.append(json.loads(answer))
    return answers


# ------------------------------------------------------------------------------------------------------------
# Payments on the regtest network (A is us)

PENDING_MESSAGE = "Monitor status with listpays or waitsendpay"
ABC = (["B", "C"], ["103x1x0", "103x2x0"])
ADC = (["D", "C"], ["103x3x0", "103x4x0"])
ABEC = (["B", "E", "C"], ["103x1x0", "103x5x0", "103x6x0"])
"""The three ways from A to C: (nodes after us, channels), as ``build_route`` takes them."""


def direction(sim: RunningSim, source: str, destination: str) -> int:
    """The direction of a channel from the node aliased ``source`` to the one aliased ``destination``."""
    return direction_between(sim.alias(source), sim.alias(destination))


def half_of(sim: RunningSim, scid: str, source: str) -> HalfChannel:
    """The direction of ``scid`` that leaves the node aliased ``source``."""
    channel = sim.node.network.channels[scid]
    return channel.halves[channel.direction_from(sim.alias(source))]


def inflight(sim: RunningSim) -> dict[str, int]:
    """Every channel direction with HTLCs in flight: ``scid/direction`` -> msat."""
    return {
        f"{channel.short_channel_id}/{d}": half.inflight_msat
        for channel in sim.node.network.channels.values()
        for d, half in enumerate(channel.halves)
        if half.inflight_msat
    }


def sha256_hex(preimage: str) -> str:
    return hashlib.sha256(bytes.fromhex(preimage)).hexdigest()


def make_invoice(sim: RunningSim, payee: str, amount_msat: int | None, **extra: Any) -> SimInvoice:
    """An invoice of ``payee`` (alias), created on the simulator's loop."""
    payee_id = sim.alias(payee)
    description = extra.pop("description", "test")
    invoice = sim.on_loop(
        lambda: sim.node.component(InvoiceBook).create(
            payee_id, amount_msat=amount_msat, description=description, **extra
        )
    )
    assert isinstance(invoice, SimInvoice)
    return invoice


def build_route(
    sim: RunningSim, path: list[str], channels: list[str], amount_msat: int, final_cltv: int = 10
) -> list[dict[str, Any]]:
    """A getroute-style route from us over ``channels`` through the aliases of ``path``.

    Computed backwards like CLN: each hop gets the next hop's amount plus the fee of the channel the next hop
    leaves by, and the next delay plus that channel's cltv_delta. A channel that does not exist (to provoke
    unknown_next_peer) gets the direction between its ends and charges nothing.
    """
    network = sim.node.network
    nodes = [sim.node.our_id] + [sim.alias(alias) for alias in path]
    route: list[dict[str, Any]] = []
    amount, delay = amount_msat, final_cltv
    for index in reversed(range(len(channels))):
        channel = network.channels.get(channels[index])
        hop_direction = (
            channel.direction_from(nodes[index]) if channel else direction_between(*nodes[index : index + 2])
        )
        route.insert(
            0,
            {
                "id": nodes[index + 1],
                "channel": channels[index],
                "direction": hop_direction,
                "amount_msat": amount,
                "delay": delay,
                "style": "tlv",
            },
        )
        if index > 0 and channel is not None:
            half = channel.halves[hop_direction]
            amount += half.fee_for(amount)
            delay += half.cltv_delta
    return route


def send_part(
    sim: RunningSim,
    invoice: SimInvoice,
    path: list[str],
    channels: list[str],
    amount_msat: int,
    partid: int,
    groupid: int | None,
    total_msat: int,
    **extra: Any,
) -> dict[str, Any]:
    """sendpay of one part of a multi-part payment of ``invoice`` (``total_msat`` in all) over ``channels``."""
    params: dict[str, Any] = {
        "route": build_route(sim, path, channels, amount_msat),
        "payment_hash": invoice.payment_hash,
        "payment_secret": invoice.payment_secret,
        "partid": partid,
        "amount_msat": total_msat,
    }
    if groupid is not None:
        params["groupid"] = groupid
    return sim.rpc.call("sendpay", params | extra)


ROUTING_KEYS = (
    "erring_index", "failcode", "failcodename", "erring_node", "erring_channel", "erring_direction",
    "raw_message",
)  # fmt: skip


def failure_fields(error: dict[str, Any], sent: dict[str, Any]) -> dict[str, Any]:
    """The routing failure part of a 203/204's data, after checking that the rest is the part's record.

    The first report of a failure shows the part as it was ("pending"); when the part failed before the
    waitsendpay call, it shows the failed record (updated_index, completed_at). Either way the record's
    fields come first, then the routing failure's.
    """
    data = error["data"]
    record = {key: value for key, value in data.items() if key not in ROUTING_KEYS}
    expected = {key: value for key, value in sent.items() if key != "message"}
    if record["status"] == "failed":
        expected |= {"updated_index": record["updated_index"], "completed_at": record["completed_at"]}
        expected["status"] = "failed"
    assert record == expected
    assert list(data)[: len(record)] == list(record)
    return {key: data[key] for key in data if key in ROUTING_KEYS}
