"""The simulated node's state file (``--state``): stopped, killed and started again like lightningd, nothing lost,
nothing sent or settled twice, parts in flight resumed to their real end.

Every restart builds a new node from the file, as a new process would, and serves it on the same socket. Faults
injected here: 7 stops followed by a start on the same file (6 with parts in flight) in process, 2 SIGKILLs of a
simulator process with parts in flight followed by a new process, 1 stop checked on the file alone, 5 stops with
8 clients in the middle of calls. Every test that moves payments asserts the exact parts listed afterwards (each
sent once, none lost) and that each hop settled once (balances equal to an uninterrupted run's, C paid once).
"""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pyln.client import LightningRpc

from lnconsole.cli import main as cli_main
from lnconsole.payment import (
    NodeReachable,
    NodeUnreachableEvent,
    PartComplete,
    PartFailed,
    PaymentComplete,
    PaymentFailed,
)
from lnconsole.plan import PaymentPlan, PlannedPart, equal_split
from lnconsole.sim.invoices import InvoiceBook, SimInvoice
from lnconsole.sim.node import SimConfig
from lnconsole.sim.scenarios import build_scenario
from lnconsole.sim.state import NO_STATE, Identity, StateError, StateFile, network_digest
from tests.conftest import RunningSim
from tests.engine.helpers import SAT, Payer
from tests.schema import assert_valid_response
from tests.sim.helpers import ABC, ABEC, ADC, build_route, direction, inflight, make_invoice, rpc_error, send_part

SEED = 7
ROOT = Path(__file__).resolve().parents[2]

Start = Callable[..., RunningSim]


@pytest.fixture
def state_file(short_socket_dir: Path) -> Path:
    return short_socket_dir / "state.sqlite"


@pytest.fixture
def node_on(short_socket_dir: Path) -> Iterator[Start]:
    """``node_on(state, **SimConfig fields)``: a regtest node built from the state file, on one fixed socket."""
    running: list[RunningSim] = []

    def start(state: Path, scenario: str = "regtest", **config: Any) -> RunningSim:
        config.setdefault("seed", SEED)
        config.setdefault("hop_delay_ms", 1)
        node = build_scenario(scenario, SimConfig(state_path=state, **config))
        running.append(RunningSim(node, short_socket_dir / "rpc"))
        return running[-1]

    yield start
    for sim in running:
        sim.stop()


def restart(sim: RunningSim, start: Start, **config: Any) -> RunningSim:
    """lightningd stopped and started again: the server stops, a node is built from the same file."""
    state = sim.node.config.state_path
    sim.stop()
    return start(state, **config)


def balances(sim: RunningSim) -> dict[str, int]:
    """Every channel direction's balance: ``scid/direction`` -> msat."""

    def read() -> dict[str, int]:
        return {
            f"{channel.short_channel_id}/{direction}": half.balance_msat
            for channel in sim.node.network.channels.values()
            for direction, half in enumerate(channel.halves)
        }

    return sim.on_loop(read)  # type: ignore[return-value]


def invoice_on(sim: RunningSim, payee: str, payment_hash: str) -> SimInvoice:
    invoice = sim.on_loop(lambda: sim.node.component(InvoiceBook).find(sim.alias(payee), payment_hash))
    assert isinstance(invoice, SimInvoice)
    return invoice


def parts_of(sim: RunningSim, payment_hash: str) -> list[dict[str, Any]]:
    listed = sim.rpc.listsendpays(payment_hash=payment_hash)
    assert_valid_response("listsendpays", listed)
    return listed["payments"]  # type: ignore[no-any-return]


def wait_until(condition: Callable[[], bool], timeout: float = 5) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


def set_channel(sim: RunningSim, scid: str, source: str, destination: str, **changes: Any) -> dict[str, Any]:
    """dev-sim-channel on the direction of ``scid`` from ``source`` to ``destination`` (aliases)."""
    params = {"short_channel_id": scid, "direction": direction(sim, source, destination), **changes}
    return sim.rpc.call("dev-sim-channel", params)  # type: ignore[no-any-return]


def rows(state: Path, sql: str) -> list[tuple[Any, ...]]:
    """Read the state file directly (only while no node has it open)."""
    with contextlib.closing(sqlite3.connect(state)) as db:
        return db.execute(sql).fetchall()


# ---------------------------------------------------------------------------------------------------------------
# What is kept


def test_payments_invoices_balances_and_policies_survive_a_restart(node_on: Start, state_file: Path) -> None:
    assert not state_file.exists()
    sim = node_on(state_file)
    assert state_file.exists()  # a missing file is created
    rpc = sim.rpc
    ours = rpc.invoice(5_000_000, "ours", "paid by ourselves")
    unpaid = rpc.invoice("any", "later", "not paid yet")
    rpc.sendpay([], ours["payment_hash"], amount_msat=5_000_000, payment_secret=ours["payment_secret"])
    paid = make_invoice(sim, "C", 70_000_000)
    rpc.sendpay(build_route(sim, *ABC, 70_000_000), paid.payment_hash, payment_secret=paid.payment_secret)
    assert rpc.waitsendpay(paid.payment_hash, timeout=10)["status"] == "complete"
    # A failure with its onion: D can't forward to C any more.
    set_channel(sim, "103x4x0", "D", "C", spendable_msat=0)
    failing = make_invoice(sim, "C", 20_000_000)
    rpc.sendpay(build_route(sim, *ADC, 20_000_000), failing.payment_hash, payment_secret=failing.payment_secret)
    failure = rpc_error(rpc.waitsendpay, failing.payment_hash, timeout=10)
    assert failure["data"]["failcodename"] == "WIRE_TEMPORARY_CHANNEL_FAILURE"
    # A record deleted: created_index must still go on past it.
    deleted = make_invoice(sim, "C", 1_000_000)
    rpc.sendpay(build_route(sim, *ABC, 1_000_000), deleted.payment_hash, payment_secret=deleted.payment_secret)
    rpc.waitsendpay(deleted.payment_hash, timeout=10)
    rpc.delpay(deleted.payment_hash, "complete")
    # Policies and a node taken offline.
    changed = set_channel(sim, "103x5x0", "E", "B", fee_per_millionth=777, delay=40, active=False)
    rpc.call("dev-sim-node", {"id": "E", "online": False})

    def snapshot(rpc: LightningRpc) -> dict[str, Any]:
        return {
            "listsendpays": rpc.listsendpays(),
            "listinvoices": rpc.listinvoices(),
            "listpeerchannels": rpc.listpeerchannels(),
            "listchannels": rpc.listchannels("103x5x0"),
            "listpays": rpc.listpays(),
            "waitsendpay": rpc_error(rpc.waitsendpay, failing.payment_hash, timeout=0),
            "paid": rpc.waitsendpay(paid.payment_hash, timeout=0),
        }

    before, network_before = snapshot(rpc), balances(sim)
    c_invoices = {(i.payment_hash, i.status, i.pay_index) for i in (paid, failing, deleted)}
    sim = restart(sim, node_on)
    after = snapshot(sim.rpc)

    assert after == before
    for command in ("listsendpays", "listinvoices", "listpeerchannels", "listpays", "listchannels"):
        assert_valid_response(command, after[command])
    assert_valid_response("waitsendpay", after["paid"])
    assert [p["status"] for p in after["listsendpays"]["payments"]] == ["complete", "complete", "failed"]
    assert [i["status"] for i in after["listinvoices"]["invoices"]] == ["paid", "unpaid"]
    assert after["listinvoices"]["invoices"][1]["payment_hash"] == unpaid["payment_hash"]
    assert balances(sim) == network_before
    kept = (invoice_on(sim, "C", payment_hash) for payment_hash, _, _ in c_invoices)
    assert {(invoice.payment_hash, invoice.status, invoice.pay_index) for invoice in kept} == c_invoices
    e_to_b = next(c for c in after["listchannels"]["channels"] if c["source"] == sim.alias("E"))
    assert e_to_b == {key: value for key, value in changed.items() if key != "spendable_msat"}
    assert (e_to_b["fee_per_millionth"], e_to_b["delay"], e_to_b["active"]) == (777, 40, False)
    assert sim.on_loop(lambda: sim.node.find_node("E").online) is False

    # The counters go on: a new part after the deleted one, a new invoice index.
    again = make_invoice(sim, "C", 2_000_000)
    sent = sim.rpc.sendpay(build_route(sim, *ABC, 2_000_000), again.payment_hash, payment_secret=again.payment_secret)
    assert sent["created_index"] == 5
    assert sim.rpc.waitsendpay(again.payment_hash, timeout=10)["updated_index"] == 5
    assert again.created_index == deleted.created_index + 1
    assert sim.rpc.invoice(1000, "third", "x")["created_index"] == 3


def test_stop_marks_nothing_and_the_file_has_every_part_pending(node_on: Start, state_file: Path) -> None:
    sim = node_on(state_file, hop_delay_ms=200)
    invoice = make_invoice(sim, "C", 300_000_000)
    for partid, path in enumerate((ABC, ADC, ABEC), start=1):
        send_part(sim, invoice, *path, 100_000_000, partid, 1, 300_000_000)
    sim.stop()
    kept = rows(state_file, "SELECT created_index, json_extract(record, '$.status'), flight IS NOT NULL FROM sendpays")
    assert kept == [(1, "pending", 1), (2, "pending", 1), (3, "pending", 1)]
    assert rows(state_file, "SELECT count(*) FROM balances") == [(0,)]  # nothing settled, nothing failed


# ---------------------------------------------------------------------------------------------------------------
# Parts in flight resume


def _send_three(sim: RunningSim, invoice: SimInvoice) -> list[dict[str, Any]]:
    return [
        send_part(sim, invoice, *path, amount, partid, 1, 450_000_000)
        for partid, (path, amount) in enumerate(((ABC, 200_000_000), (ADC, 150_000_000), (ABEC, 100_000_000)), 1)
    ]


STOPPED = {
    "on the way out": [None, None, None],
    "carrying the preimage back": [2, 2, 3],
    "with the payee's hops settled": [1, 1, 2],
}
"""When lightningd stops -> the hops each part (ABC, ADC, ABEC) still holds in the file, None: outcome unknown."""


@pytest.mark.parametrize("stopped", list(STOPPED))
def test_three_part_payment_in_flight_completes_after_a_restart_settling_each_hop_once(
    node_on: Start, start_sim: Start, state_file: Path, stopped: str
) -> None:
    reference = start_sim("regtest", seed=SEED, hop_delay_ms=0)  # the same payment, never interrupted
    _send_three(reference, make_invoice(reference, "C", 450_000_000))
    wait_until(lambda: not inflight(reference) and len(reference.rpc.listsendpays(status="complete")["payments"]) == 3)

    sim = node_on(state_file, hop_delay_ms=150)  # each stop below has a hop's time to come before the next step
    start = balances(sim)
    invoice = make_invoice(sim, "C", 450_000_000)
    sent = _send_three(sim, invoice)
    if stopped == "carrying the preimage back":
        wait_until(lambda: invoice.status == "paid", timeout=10)  # the payee settled: the preimage comes back
    elif stopped == "with the payee's hops settled":
        last_hops = (("103x2x0", "B"), ("103x4x0", "D"), ("103x6x0", "E"))
        into_c = [f"{scid}/{direction(sim, peer, 'C')}" for scid, peer in last_hops]
        # The last hop of each part settled (C has the money), the hops before not yet (a hop delay later).
        wait_until(lambda: all(balances(sim)[half] < start[half] for half in into_c), timeout=10)
    assert {part["status"] for part in parts_of(sim, invoice.payment_hash)} == {"pending"}
    sim.stop()
    held = rows(state_file, "SELECT json_extract(carried, '$.held') FROM sendpays ORDER BY created_index")
    assert [row[0] for row in held] == STOPPED[stopped]
    sim = node_on(state_file, hop_delay_ms=50)

    assert {part["status"] for part in parts_of(sim, invoice.payment_hash)} == {"pending"}
    htlcs = [htlc for channel in sim.rpc.listpeerchannels()["channels"] for htlc in channel["htlcs"]]
    assert sorted(htlc["amount_msat"] for htlc in htlcs) == sorted(part["amount_sent_msat"] for part in sent)
    done = [sim.rpc.waitsendpay(invoice.payment_hash, partid=p, groupid=1, timeout=10) for p in (1, 2, 3)]
    for part in done:
        assert_valid_response("waitsendpay", part)
        assert part["status"] == "complete" and part["payment_preimage"] == invoice.preimage
    listed = parts_of(sim, invoice.payment_hash)
    assert listed == done and [part["created_index"] for part in listed] == [1, 2, 3]
    kept = invoice_on(sim, "C", invoice.payment_hash)
    assert (kept.status, kept.pay_index, kept.amount_received_msat) == ("paid", 1, 450_000_000)
    assert inflight(sim) == {}
    assert balances(sim) == balances(reference)
    channels = sim.rpc.listpeerchannels()["channels"]
    assert_valid_response("listpeerchannels", {"channels": channels})
    assert all(not channel["htlcs"] for channel in channels)
    assert sum(channel["out_payments_fulfilled"] for channel in channels) == 3


@pytest.mark.parametrize("then", ["new parts complete the set", "the set times out"])
def test_one_part_in_flight_the_others_failed(node_on: Start, state_file: Path, then: str) -> None:
    sim = node_on(state_file, hop_delay_ms=100, mpp_timeout_s=0.5)
    set_channel(sim, "103x2x0", "B", "C", spendable_msat=0)
    set_channel(sim, "103x4x0", "D", "C", spendable_msat=0)
    invoice = make_invoice(sim, "C", 300_000_000)
    for partid, path in enumerate((ABC, ADC, ABEC), start=1):
        send_part(sim, invoice, *path, 100_000_000, partid, 1, 300_000_000)
    for partid in (1, 2):
        error = rpc_error(sim.rpc.waitsendpay, invoice.payment_hash, partid=partid, groupid=1, timeout=10)
        assert error["data"]["failcodename"] == "WIRE_TEMPORARY_CHANNEL_FAILURE"
    assert [p["status"] for p in parts_of(sim, invoice.payment_hash)] == ["failed", "failed", "pending"]
    sim = restart(sim, node_on, hop_delay_ms=100, mpp_timeout_s=0.5)

    if then == "new parts complete the set":
        set_channel(sim, "103x2x0", "B", "C", spendable_msat=150_000_000)
        set_channel(sim, "103x4x0", "D", "C", spendable_msat=150_000_000)
        for partid, path in ((4, ABC), (5, ADC)):
            send_part(sim, invoice, *path, 100_000_000, partid, 1, 300_000_000)
        for partid in (3, 4, 5):
            done = sim.rpc.waitsendpay(invoice.payment_hash, partid=partid, groupid=1, timeout=10)
            assert done["status"] == "complete" and done["payment_preimage"] == invoice.preimage
        expected = ["failed", "failed", "complete", "complete", "complete"]
        kept = invoice_on(sim, "C", invoice.payment_hash)
        assert (kept.status, kept.pay_index, kept.amount_received_msat) == ("paid", 1, 300_000_000)
    else:
        error = rpc_error(sim.rpc.waitsendpay, invoice.payment_hash, partid=3, groupid=1, timeout=10)
        assert error["data"]["failcodename"] == "WIRE_MPP_TIMEOUT" and error["data"]["erring_index"] == 3
        assert_valid_response("listsendpays", sim.rpc.listsendpays())
        expected = ["failed", "failed", "failed"]
        assert invoice_on(sim, "C", invoice.payment_hash).status == "unpaid"
    assert [p["status"] for p in parts_of(sim, invoice.payment_hash)] == expected
    assert inflight(sim) == {}


def test_stopping_closes_every_connection_so_no_client_waits_for_ever(start_sim: Start) -> None:
    """Clients in the middle of a call when the server stops see the connection end, as when lightningd exits.

    Before, a connection accepted as the server closed was left open and unread, and its client waited for ever
    (a third of the clients here, round after round).
    """
    for _ in range(5):
        sim = start_sim("regtest")
        stopping = threading.Event()

        def client(socket_path: str = str(sim.socket_path), stopping: threading.Event = stopping) -> None:
            rpc = LightningRpc(socket_path)
            while not stopping.is_set():
                with contextlib.suppress(Exception):  # 208 while it runs, no socket once it has stopped
                    rpc.call("waitsendpay", {"payment_hash": "00" * 32, "timeout": 1})

        clients = [threading.Thread(target=client, daemon=True) for _ in range(8)]
        for thread in clients:
            thread.start()
        time.sleep(0.05)
        sim.stop()
        stopping.set()
        for thread in clients:
            thread.join(5)
        assert not any(thread.is_alive() for thread in clients)


# ---------------------------------------------------------------------------------------------------------------
# The console's watcher across restarts


class ProcessSim:
    """A simulator in its own process (``lnconsole sim --state``), seen as tests' RunningSim is (rpc, alias)."""

    def __init__(self, socket_path: Path, state: Path, hop_delay_ms: int) -> None:
        self.socket_path = socket_path
        self.process = subprocess.Popen(
            [sys.executable, "-c", "import sys; from lnconsole.cli import main; sys.exit(main())", "sim",
             "--scenario", "regtest", "--seed", str(SEED), "--hop-delay-ms", str(hop_delay_ms), "--mpp-timeout", "5",
             "--state", str(state), "--socket", str(socket_path)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
        )  # fmt: skip
        assert self.process.stdout is not None
        ready = self.process.stdout.readline()
        assert "listening" in ready, ready + self.process.stderr.read()  # type: ignore[union-attr]
        self.rpc = LightningRpc(str(socket_path))

    def alias(self, name: str) -> str:
        return next(n["nodeid"] for n in self.rpc.listnodes()["nodes"] if n.get("alias") == name)

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(5)

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(5)


def _c_side(rpc: LightningRpc, c: str) -> int:
    """What C holds on its three channels (dev-sim-channel with no change answers a direction as it is)."""
    total = 0
    for scid in ("103x2x0", "103x4x0", "103x6x0"):
        channel = rpc.listchannels(scid)["channels"][0]
        direction = channel["direction"] if channel["source"] == c else 1 - channel["direction"]
        total += rpc.call("dev-sim-channel", {"short_channel_id": scid, "direction": direction})["spendable_msat"]
    return total


def test_sigkill_with_parts_in_flight_then_a_new_process_resumes_them_for_the_watcher(
    short_socket_dir: Path, state_file: Path, payers: list[Payer]
) -> None:
    socket_path = short_socket_dir / "rpc"
    processes = [ProcessSim(socket_path, state_file, 150)]
    try:
        sim = processes[0]
        payer = Payer(sim)  # type: ignore[arg-type]
        payers.append(payer)
        c = sim.alias("C")
        c_before = _c_side(sim.rpc, c)
        target = payer.invoice(540_000 * SAT)
        session, events = payer.session(target)
        session.launch(equal_split(target, 3, payer.finder))
        assert [p.status for p in payer.records(target.payment_hash)] == ["pending"] * 3
        sim.kill()  # SIGKILL, parts on the way out
        events.wait_for(NodeUnreachableEvent)

        processes.append(ProcessSim(socket_path, state_file, 150))  # resumes them...
        time.sleep(0.2)
        pending_at_second_kill = sum(p.status == "pending" for p in payer.records(target.payment_hash))
        processes[-1].kill()  # ...and is killed again while they move
        processes.append(ProcessSim(socket_path, state_file, 150))

        done = session.wait(15)
        assert isinstance(done, PaymentComplete) and done.parts == 3
        assert pending_at_second_kill == 3
        assert payer.node.count("sendpay") == 3
        records = payer.records(target.payment_hash)
        assert [(r.created_index, r.partid, r.status) for r in records] == [
            (1, 1, "complete"), (2, 2, "complete"), (3, 3, "complete")
        ]  # fmt: skip
        assert sorted(event.partid for event in events.of(PartComplete)) == [1, 2, 3]
        assert events.of(NodeReachable)
        assert _c_side(processes[-1].rpc, c) - c_before == target.amount_msat  # paid once, exactly
        session.stop(join=True)
        assert processes[-1].stop() == 0  # SIGTERM: a clean stop
    finally:
        for process in processes:
            if process.process.poll() is None:
                process.kill()
    assert not socket_path.exists()
    assert rows(state_file, "SELECT count(*) FROM sendpays WHERE flight IS NOT NULL OR carried IS NOT NULL") == [(0,)]


@pytest.fixture
def payers() -> Iterator[list[Payer]]:
    """Payers a test makes; their watchers are stopped at teardown, whatever happened."""
    made: list[Payer] = []
    yield made
    for payer in made:
        payer.stop()


def test_watcher_reports_each_parts_real_outcome_when_the_node_is_back(
    node_on: Start, state_file: Path, payers: list[Payer]
) -> None:
    sim = node_on(state_file, hop_delay_ms=150, mpp_timeout_s=0.5)
    payer = Payer(sim)
    payers.append(payer)
    payer.squeeze("103x6x0", "E", 10 * SAT)  # the part over E will fail there
    target = payer.invoice(300_000 * SAT)
    third = target.amount_msat // 3
    routes = [payer.route(third, exclude=other) for other in
              (("103x4x0", "103x5x0"), ("103x2x0", "103x5x0"), ("103x2x0", "103x4x0"))]  # fmt: skip
    session, events = payer.session(target)
    session.launch(PaymentPlan(target, tuple(PlannedPart(i, third, r) for i, r in enumerate(routes, start=1))))
    sim.stop()  # lightningd stops with the three parts in flight
    events.wait_for(NodeUnreachableEvent)
    assert not events.of(PartFailed) and not events.of(PartComplete)
    sim = node_on(state_file, hop_delay_ms=150, mpp_timeout_s=0.5)

    outcome = session.wait(15)
    assert isinstance(outcome, PaymentFailed), [*events.events, *payer.records(target.payment_hash)]
    assert events.of(NodeReachable)
    failed = {event.partid: event.failure for event in events.of(PartFailed)}
    assert sorted(failed) == [1, 2, 3] and len(events.of(PartFailed)) == 3
    assert (failed[3].failcodename, failed[3].erring_channel) == ("WIRE_TEMPORARY_CHANNEL_FAILURE", "103x6x0")
    assert {failed[1].failcodename, failed[2].failcodename} == {"WIRE_MPP_TIMEOUT"}
    assert payer.node.count("sendpay") == 3
    assert [(r.partid, r.status) for r in payer.records(target.payment_hash)] == [
        (1, "failed"), (2, "failed"), (3, "failed")
    ]  # fmt: skip


# ---------------------------------------------------------------------------------------------------------------
# Refusals


def test_another_scenario_seed_or_graph_is_refused(node_on: Start, state_file: Path, capsys: Any) -> None:
    node_on(state_file).stop()
    with pytest.raises(StateError, match=r"seed 7, not scenario regtest, seed 8: start it with --scenario regtest "
                                         r"--seed 7, or give another --state file"):  # fmt: skip
        build_scenario("regtest", SimConfig(seed=8, state_path=state_file))
    with pytest.raises(StateError, match=r"not scenario demo, seed 7"):
        build_scenario("demo", SimConfig(seed=SEED, state_path=state_file))
    node = build_scenario("regtest", SimConfig(seed=SEED))
    node.network.add_channel("999x1x0", node.our_id, node.find_node("C").node_id, 1_000_000)
    state = StateFile.open(state_file)
    with pytest.raises(StateError, match="built on another graph"):
        state.adopt(Identity("regtest", SEED, "", network_digest(node)), node)
    state.close()

    code = cli_main(["sim", "--socket", str(state_file.with_name("cli")), "--scenario", "demo", "--seed", "7",
                     "--state", str(state_file)])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 1 and err.startswith("lnconsole sim: the state file") and "Traceback" not in err
    node_on(state_file).stop()  # the refusals changed nothing: the right node still opens it


@pytest.mark.parametrize("content", [b"not a database at all\n" * 10, "sqlite-of-another-program"])
def test_a_file_that_is_not_a_state_file_is_refused(short_socket_dir: Path, content: bytes | str, capsys: Any) -> None:
    path = short_socket_dir / "corrupt"
    if isinstance(content, bytes):
        path.write_bytes(content)
        reason = "not an SQLite database"
    else:
        with contextlib.closing(sqlite3.connect(path)) as db:
            db.execute("CREATE TABLE other (x)")
        reason = "another program's database"
    with pytest.raises(StateError, match=f"is not a simulated node's state file \\({reason}"):
        build_scenario("regtest", SimConfig(state_path=path))
    code = cli_main(["sim", "--socket", str(short_socket_dir / "cli"), "--state", str(path)])
    err = capsys.readouterr().err
    assert code == 1 and f"is not a simulated node's state file ({reason}" in err and "Traceback" not in err
    assert not (short_socket_dir / "cli").exists()


def test_a_file_in_use_is_refused_and_a_stopped_node_cannot_serve_again(node_on: Start, state_file: Path) -> None:
    sim = node_on(state_file)
    with pytest.raises(StateError, match="in use by another simulated node"):
        build_scenario("regtest", SimConfig(seed=SEED, state_path=state_file))
    sim.stop()
    with pytest.raises(RuntimeError, match="was closed when the node's server stopped"):
        RunningSim(sim.node, state_file.with_name("again"))


def test_without_a_state_file_no_sqlite_is_touched(start_sim: Start, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("sqlite3 used without --state")

    monkeypatch.setattr(sqlite3, "connect", refuse)
    sim = start_sim("regtest")
    assert sim.node.state is NO_STATE and sim.node.config.state_path is None
    invoice = make_invoice(sim, "C", 10_000_000)
    sim.rpc.sendpay(build_route(sim, *ABC, 10_000_000), invoice.payment_hash, payment_secret=invoice.payment_secret)
    assert sim.rpc.waitsendpay(invoice.payment_hash, timeout=10)["status"] == "complete"
    assert os.listdir(Path(sim.socket_path).parent) == [Path(sim.socket_path).name]
