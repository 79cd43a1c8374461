"""The waitsendpay watcher: node outages, stopping and re-attaching, no busy polling, a pinned clock."""

from __future__ import annotations

import os
import time
from typing import Any

import pytest

from lnconsole.node import NodeError, NodeUnreachable, SendPayment
from lnconsole.payment import (
    NodeReachable,
    NodeUnreachableEvent,
    PartComplete,
    PartPending,
    PartProblem,
    PartSent,
    PaymentComplete,
)
from lnconsole.plan import single
from lnconsole.sim.payments import PaymentBook
from lnconsole.sim.server import SimServer
from tests.conftest import RunningSim
from tests.engine.helpers import SAT, CountingNode, Payer, sha256_hex


def _status_on_node(sim: RunningSim, payment_hash: str) -> str:
    """A part's status read inside the simulator (works while its socket is away)."""
    return str(sim.on_loop(lambda: sim.node.component(PaymentBook).parts(payment_hash)[0].status))


def test_watcher_survives_the_node_going_away_and_reports_the_real_outcome(payer: Payer) -> None:
    sim = payer.sim
    target = payer.invoice(30_000 * SAT)
    plan = single(target, payer.route(target.amount_msat))
    sim.node.config.hop_delay_ms = 300  # the part takes ~1.2 s on the network
    session, events = payer.session(target)
    session.launch(plan)

    away = f"{sim.socket_path}.away"
    os.rename(sim.socket_path, away)  # new connections fail: "no such socket"
    unreachable = events.wait_for(NodeUnreachableEvent, timeout=5)
    assert unreachable.partid == 1 and str(sim.socket_path) in unreachable.message

    deadline = time.monotonic() + 5
    while _status_on_node(sim, target.payment_hash) != "complete":  # the payment goes on without us
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert not events.of(PaymentComplete)

    sim.server.stop()  # lightningd restarts: a new server for the same node, on the same path
    os.unlink(away)
    sim.server = SimServer(sim.node, sim.socket_path).start_in_thread()

    done = session.wait(10)
    assert isinstance(done, PaymentComplete) and sha256_hex(done.preimage) == target.payment_hash
    assert events.of(NodeReachable)[0].down_for > 0
    assert payer.node.count("sendpay") == 1
    assert len(payer.records(target.payment_hash)) == 1
    attempts = [event.attempt for event in events.of(NodeUnreachableEvent)]
    assert attempts == sorted(attempts)
    retry_in = [event.retry_in for event in events.of(NodeUnreachableEvent)]
    assert max(retry_in) <= 0.4  # the backoff is capped


def test_launch_with_no_node_sends_nothing_and_may_be_retried(payer: Payer) -> None:
    sim = payer.sim
    target = payer.invoice(10_000 * SAT)
    plan = single(target, payer.route(target.amount_msat))
    session, _ = payer.session(target)
    away = f"{sim.socket_path}.away"
    os.rename(sim.socket_path, away)
    with pytest.raises(NodeUnreachable, match=r"cannot reach lightningd at .*no such socket"):
        session.launch(plan)
    os.rename(away, sim.socket_path)
    assert session.launch(plan).outcome == "sent"
    assert isinstance(session.wait(10), PaymentComplete)
    assert payer.node.count("sendpay") == 1


def test_idle_watcher_does_not_spin(payer: Payer) -> None:
    target = payer.invoice(10_000 * SAT)
    plan = single(target, payer.route(target.amount_msat))
    payer.sim.node.config.hop_delay_ms = 5_000  # stays pending for the whole test
    session, events = payer.session(target, pending_interval_s=0.5)
    session.launch(plan)
    began = time.monotonic()
    time.sleep(2.5)
    session.stop()
    elapsed = time.monotonic() - began

    calls = payer.node.count("waitsendpay")
    assert 2 <= calls <= elapsed / session.poll_timeout_s + 2
    pending = events.of(PartPending)
    assert len(pending) >= 2
    assert [event.elapsed for event in pending] == sorted(event.elapsed for event in pending)
    assert all(event.status == "pending" and event.partid == 1 for event in pending)


def test_stopping_never_touches_the_payment_and_attach_resumes(payer: Payer) -> None:
    target = payer.invoice(20_000 * SAT)
    plan = single(target, payer.route(target.amount_msat))
    payer.sim.node.config.hop_delay_ms = 200
    session, events = payer.session(target)
    session.launch(plan)
    session.stop()
    deadline = time.monotonic() + 5
    while _status_on_node(payer.sim, target.payment_hash) != "complete":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    time.sleep(0.3)  # the stopped watcher's last poll has ended, without reporting
    assert not events.of(PartComplete) and session.outcome is None

    session.attach()
    done = session.wait(10)
    assert isinstance(done, PaymentComplete)
    assert len(events.of(PartComplete)) == 1
    assert payer.node.count("sendpay") == 1


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_elapsed_comes_from_the_injected_clock(payer: Payer) -> None:
    target = payer.invoice(20_000 * SAT)
    plan = single(target, payer.route(target.amount_msat))
    payer.sim.node.config.hop_delay_ms = 150
    clock = Clock()
    session, events = payer.session(target, clock=clock)
    session.launch(plan)
    clock.now += 7.5
    done = session.wait(10)

    assert isinstance(done, PaymentComplete) and done.elapsed == 7.5
    assert events.of(PartSent)[0].elapsed == 0.0
    assert events.of(PartComplete)[0].elapsed == 7.5


class FlakyNode(CountingNode):
    """Answers the first waitsendpay with an error code the watcher does not know."""

    def __init__(self, socket_path: str | os.PathLike[str]) -> None:
        super().__init__(socket_path)
        self.odd_answers = 1

    def waitsendpay(self, *args: Any, **kwargs: Any) -> SendPayment:
        if self.odd_answers:
            self.odd_answers -= 1
            raise NodeError("waitsendpay", -1, "Internal error")
        return super().waitsendpay(*args, **kwargs)


def test_unexpected_answers_and_callback_errors_do_not_stop_the_watcher(payer: Payer) -> None:
    target = payer.invoice(20_000 * SAT)
    plan = single(target, payer.route(target.amount_msat))
    node = FlakyNode(payer.sim.socket_path)
    seen: list[str] = []

    def clumsy_screen(event: Any) -> None:
        seen.append(type(event).__name__)
        raise RuntimeError("a screen bug")

    session, _ = payer.session(target, node=node)
    session._on_event = clumsy_screen  # a callback that raises on every event
    session.launch(plan)
    done = session.wait(10)

    assert isinstance(done, PaymentComplete)
    assert seen == ["PartSent", "PartProblem", "PartComplete", "PaymentComplete"]
    problem = next(event for event in session.events if isinstance(event, PartProblem))
    assert problem.code == -1 and problem.message == "Internal error"
