"""The JSON-RPC transport: framing, errors and concurrency as lightningd does them, seen through real sockets."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from pyln.client import LightningRpc, RpcError

from lnconsole.sim.graph import RoutingGraph
from lnconsole.sim.invoices import InvoiceBook
from lnconsole.sim.payments import PaymentBook
from lnconsole.sim.scenarios import build_scenario
from lnconsole.sim.server import SimServer, find_object_end
from tests.conftest import RunningSim
from tests.sim.helpers import ABC, ADC, make_invoice, send_part


def raw_exchange(path: Path, chunks: list[bytes], responses: int) -> list[dict[str, object]]:
    """Send ``chunks`` on one connection and read ``responses`` answers, each ended by a blank line."""
    with socket.socket(socket.AF_UNIX) as sock:
        sock.connect(str(path))
        sock.settimeout(10)
        for chunk in chunks:
            sock.sendall(chunk)
            time.sleep(0.01)
        buffer = b""
        while buffer.count(b"\n\n") < responses:
            data = sock.recv(65536)
            assert data, "connection closed before all answers arrived"
            buffer += data
    return [json.loads(part) for part in buffer.split(b"\n\n") if part.strip()]


def test_unknown_command_answers_like_lightningd(regtest: RunningSim) -> None:
    with pytest.raises(RpcError) as caught:
        regtest.rpc.call("decodepay", {"bolt11": "x"})
    assert caught.value.error == {"code": -32601, "message": "Unknown command 'decodepay'"}


def test_back_to_back_requests_on_one_connection_each_get_an_answer(regtest: RunningSim) -> None:
    requests = b"".join(
        json.dumps({"jsonrpc": "2.0", "id": n, "method": "getinfo", "params": {}}).encode() for n in range(3)
    )
    answers = raw_exchange(regtest.socket_path, [requests], responses=3)
    assert sorted(answer["id"] for answer in answers) == [0, 1, 2]  # type: ignore[type-var]
    assert all(answer["result"]["id"] == regtest.node.our_id for answer in answers)  # type: ignore[index]


def test_a_request_split_across_writes_is_reassembled(regtest: RunningSim) -> None:
    request = json.dumps({"jsonrpc": "2.0", "id": "split", "method": "getinfo", "params": {}}).encode()
    answers = raw_exchange(regtest.socket_path, [request[:7], request[7:30], request[30:]], responses=1)
    assert answers[0]["id"] == "split"
    assert answers[0]["result"]["alias"] == "A"  # type: ignore[index]


def test_positional_parameters_follow_the_declared_order(regtest: RunningSim) -> None:
    by_name = regtest.rpc.call("listchannels", {"short_channel_id": "103x1x0"})
    by_position = regtest.rpc.call("listchannels", ["103x1x0"])
    assert by_position == by_name
    assert len(by_name["channels"]) == 2


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            {"short_channel_id": "103x1x0", "bogus": 1},
            "unknown parameter: bogus, this may be caused by a failure to autodetect key=value-style parameters. "
            "Please try using the -k flag and explicit key=value pairs of parameters.",
        ),
        (["103x1x0", None, None, None, "extra"], "too many parameters: got 5, expected 3"),
        (
            {"short_channel_id": "nonsense"},
            "short_channel_id: should be a short_channel_id of form NxNxN: invalid token '\"nonsense\"'",
        ),
    ],
)
def test_bad_parameters_are_refused_with_lightningds_wording(regtest: RunningSim, params: object, message: str) -> None:
    with pytest.raises(RpcError) as caught:
        regtest.rpc.call("listchannels", params)
    assert caught.value.error == {"code": -32602, "message": message}


def test_missing_required_parameter(regtest: RunningSim) -> None:
    with pytest.raises(RpcError) as caught:
        regtest.rpc.call("waitsendpay", {})
    assert caught.value.error == {"code": -32602, "message": "missing required parameter: payment_hash"}


def test_malformed_json_gets_an_error_not_a_hang(regtest: RunningSim) -> None:
    answers = raw_exchange(regtest.socket_path, [b'{"jsonrpc": "2.0", "id": 1, "method": }'], responses=1)
    assert answers[0]["error"]["code"] == -32700  # type: ignore[index]


def test_pyln_notifications_opt_in_is_accepted(regtest: RunningSim) -> None:
    messages: list[str] = []
    with regtest.rpc.notify(lambda message, progress, request, **_: messages.append(message)):
        assert regtest.rpc.getinfo()["id"] == regtest.node.our_id


def test_long_waitsendpay_calls_do_not_block_other_calls(regtest: RunningSim) -> None:
    """Several pending parts are waited on at once while other calls are answered immediately."""
    rpc = regtest.rpc
    carol = regtest.alias("C")
    invoice = regtest.on_loop(
        lambda: regtest.node.component(InvoiceBook).create(carol, amount_msat=30_000_000, description="wait")
    )
    route = rpc.getroute(carol, 10_000_000, 1, cltv=10, fuzzpercent=0)["route"]
    # Parts of a third each never reach the total, so the payee holds them: they stay pending.
    for partid in (1, 2):
        rpc.sendpay(
            route,
            invoice.payment_hash,  # type: ignore[attr-defined]
            amount_msat=30_000_000,
            payment_secret=invoice.payment_secret,  # type: ignore[attr-defined]
            partid=partid,
            groupid=1,
        )
    errors: list[int] = []

    def wait(partid: int) -> None:
        try:
            LightningRpc(str(regtest.socket_path)).waitsendpay(
                invoice.payment_hash,  # type: ignore[attr-defined]
                timeout=2,
                partid=partid,
                groupid=1,
            )
        except RpcError as error:
            errors.append(error.error["code"])

    waiters = [threading.Thread(target=wait, args=(partid,)) for partid in (1, 2)]
    for waiter in waiters:
        waiter.start()
    time.sleep(0.2)
    started = time.monotonic()
    for _ in range(20):
        rpc.getinfo()
    assert time.monotonic() - started < 1.5, "other calls were held up by the pending waitsendpay calls"
    for waiter in waiters:
        waiter.join()
    assert errors == [200, 200]  # both timed out while pending, as lightningd says


def test_a_client_leaving_during_waitsendpay_leaves_nothing_behind(start_sim: Callable[..., RunningSim]) -> None:
    """The waitsendpay of a client that hung up runs to its end (as in lightningd): the payment and other
    clients are unaffected, and no task or waiter is left once the part resolves."""
    sim = start_sim("regtest", hop_delay_ms=0, mpp_timeout_s=30)
    invoice = make_invoice(sim, "C", 100_000_000)

    send_part(sim, invoice, *ABC, 60_000_000, 1, 1, 100_000_000)  # held by the payee until the rest comes
    request = {"jsonrpc": "2.0", "id": 1, "method": "waitsendpay", "params": [invoice.payment_hash, None, 1]}
    with socket.socket(socket.AF_UNIX) as sock:
        sock.connect(str(sim.socket_path))
        sock.sendall(json.dumps(request).encode())
        time.sleep(0.1)  # the call is waiting when the client goes

    def leftovers() -> tuple[int, int]:
        book = sim.node.component(PaymentBook)
        return len(sim.server._tasks), sum(len(waiting) for waiting in book._waiters.values())

    assert sim.on_loop(leftovers) == (1, 1)  # still waiting for the part, with nobody to tell
    assert sim.rpc.getinfo()["id"] == sim.node.our_id
    send_part(sim, invoice, *ADC, 40_000_000, 2, 1, 100_000_000)
    assert sim.rpc.waitsendpay(invoice.payment_hash, partid=1, timeout=10)["status"] == "complete"
    deadline = time.monotonic() + 5
    while sim.on_loop(leftovers) != (0, 0):
        assert time.monotonic() < deadline, f"left behind: {sim.on_loop(leftovers)}"
        time.sleep(0.01)


def test_the_routing_index_is_built_right_after_start(regtest: RunningSim) -> None:
    """Scheduled on the loop once the server listens, so the first getroute does not wait for it."""
    assert regtest.on_loop(lambda: regtest.node.component(RoutingGraph)._index is not None)


def test_a_server_that_cannot_listen_says_why_at_once(short_socket_dir: Path) -> None:
    server = SimServer(build_scenario("regtest"), short_socket_dir / ("x" * 200))
    started = time.monotonic()
    with pytest.raises(RuntimeError, match="AF_UNIX path too long"):
        server.start_in_thread()
    assert time.monotonic() - started < 5


def test_find_object_end_respects_strings_and_nesting() -> None:
    text = b'  {"a": "}{\\"", "b": [1, {"c": 2}]}{"next": 1}'
    end = find_object_end(text)
    assert end is not None
    assert json.loads(text[:end]) == {"a": '}{"', "b": [1, {"c": 2}]}
    assert find_object_end(b'{"a": "unfinished') is None


def test_sim_command_serves_until_sigterm_and_removes_its_socket(short_socket_dir: Path) -> None:
    socket_path = short_socket_dir / "rpc"
    process = subprocess.Popen(
        [sys.executable, "-m", "lnconsole.cli", "sim", "--socket", str(socket_path), "--scenario", "regtest"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        banner = process.stdout.readline() if process.stdout else ""
        assert "listening on" in banner, process.stderr.read() if process.stderr else ""
        info = LightningRpc(str(socket_path)).getinfo()
        assert info["network"] == "regtest"
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
    assert not os.path.exists(socket_path)
