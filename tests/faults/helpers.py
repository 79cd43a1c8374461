"""What the fault tests share: holding HTLCs in the simulator, a node client that records every call and can lose
answers on purpose, taking the node's socket away, running a console in a subprocess, and the tally of faults
injected and parts checked that the summary at the end of the run prints (issue 6's closing numbers).

Every test counts what was sent on the node itself (``listsendpays``), never only what the console says.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lnconsole.node import NodeClient, NodeError, NodeUnreachable, PylnNode, SendPayment
from lnconsole.plan import PaymentPlan, PaymentTarget, PlannedPart
from lnconsole.sim.payments import PaymentBook
from tests.conftest import RunningSim
from tests.ui.helpers import finder_for

REPO = Path(__file__).resolve().parents[2]


# ---------------------------------------------------------------------------------------------------------------
# The tally


@dataclass
class Tally:
    """Faults injected and parts checked by this run's fault tests (printed by tests/faults/conftest.py)."""

    faults: Counter[str] = field(default_factory=Counter)
    payments: int = 0
    parts: int = 0
    """sendpay parts found on the node (listsendpays) by the checks."""
    lost: int = 0
    duplicated: int = 0
    sendpay_calls: int = 0
    """sendpay calls the in-process consoles made that reached the node (counted by :class:`RecordingNode`)."""

    def fault(self, kind: str, times: int = 1) -> None:
        self.faults[kind] += times


TALLY = Tally()


def check_parts(
    records: list[SendPayment], expected: set[tuple[int, int]] | None = None, *, amount_msat: int | None = None
) -> list[SendPayment]:
    """The node's parts of one payment: each (groupid, partid) once, exactly ``expected`` when given, and together
    delivering ``amount_msat`` (complete or pending parts) when given. Counted in the tally either way."""
    keys = [(record.groupid, record.partid) for record in records]
    duplicated = len(keys) - len(set(keys))
    lost = len(expected - set(keys)) if expected is not None else 0
    extra = len(set(keys) - expected) if expected is not None else 0
    TALLY.payments += 1
    TALLY.parts += len(records)
    TALLY.duplicated += duplicated + extra
    TALLY.lost += lost
    assert duplicated == 0, f"a part was sent twice: {sorted(keys)}"
    if expected is not None:
        assert set(keys) == expected, f"parts on the node {sorted(keys)}, expected {sorted(expected)}"
    if amount_msat is not None:
        delivered: Counter[int] = Counter()
        for record in records:
            if record.status in ("pending", "complete"):
                delivered[record.groupid] += record.amount_msat or 0
        assert set(delivered.values()) == {amount_msat}, f"groups deliver {dict(delivered)}, not {amount_msat}"
    return records


def parts_on_node(sim: RunningSim, payment_hash: str) -> list[tuple[int, int, str]]:
    """(groupid, partid, status) of every part of a hash, read inside the simulator: works while its socket is
    away."""

    def read() -> list[tuple[int, int, str]]:
        return [(p.groupid, p.partid, p.status) for p in sim.node.component(PaymentBook).parts(payment_hash)]

    return sim.on_loop(read)  # type: ignore[return-value]


# ---------------------------------------------------------------------------------------------------------------
# The regtest network (A is us; C the payee, by A-B-C, A-D-C and A-B-E-C)


def three_parts_one_via_e(sim: RunningSim, target: PaymentTarget) -> PaymentPlan:
    """Three equal parts of ``target``: over B-C, over D-C, and over B-E-C."""
    finder = finder_for(sim)
    third = target.amount_msat // 3
    routes = [
        finder.find(target.destination, third, final_cltv=target.min_final_cltv_expiry, exclude_channels=excluded)[0]
        for excluded in (("103x4x0", "103x5x0"), ("103x2x0", "103x5x0"), ("103x2x0", "103x4x0"))
    ]
    return PaymentPlan(target, tuple(PlannedPart(i, third, route) for i, route in enumerate(routes, start=1)))


def drain_e_to_c(sim: RunningSim) -> None:
    """Leave E almost nothing to send to C (10 msat): a part over B-E-C fails at E (temporary_channel_failure)."""
    source = sim.alias("E")
    direction = next(c.direction for c in PylnNode(sim.socket_path).listchannels("103x6x0") if c.source == source)
    sim.rpc.call("dev-sim-channel", {"short_channel_id": "103x6x0", "direction": direction, "spendable_msat": 10})


# ---------------------------------------------------------------------------------------------------------------
# Holding HTLCs


class HopGate:
    """Holds every HTLC of the simulated network at its next hop until :meth:`open`: parts sent while it is
    closed stay pending for as long as a test needs, with no timing to tune.

    It wraps ``SimNode.sleep``, which the simulator awaits at every hop (so ``hop_delay_ms`` must be above 0).
    """

    def __init__(self, sim: RunningSim) -> None:
        self.sim = sim
        self._event: asyncio.Event = sim.on_loop(asyncio.Event)  # type: ignore[assignment]
        original = sim.node.sleep

        async def gated(seconds: float) -> None:
            await self._event.wait()
            await original(seconds)

        sim.node.sleep = gated  # type: ignore[method-assign]

    def open(self) -> None:
        self.sim.on_loop(self._event.set)


# ---------------------------------------------------------------------------------------------------------------
# A node client that records, and loses answers on purpose


@dataclass(frozen=True)
class Call:
    """One call a console made: the method, what came of it (``ok``, ``unreachable``, ``error``; for a sendpay
    whose answer was lost on purpose ``lost-after`` or ``lost-before``), and for a sendpay its (groupid, partid)."""

    method: str
    outcome: str
    part: tuple[int, int] | None = None


class RecordingNode:
    """A NodeClient around another that records every call in order, and can lose sendpay answers.

    ``lose_sendpay_answers``: (groupid, partid) -> ``"after"`` (forward the sendpay, then raise NodeUnreachable as
    if the socket dropped before the answer) or ``"before"`` (raise without forwarding). ``before_sendpay`` is
    called (on the sending thread) before each sendpay is forwarded: a test's barrier or race goes there.
    """

    def __init__(self, inner: NodeClient) -> None:
        self.inner = inner
        self.calls: list[Call] = []
        self.lose_sendpay_answers: dict[tuple[int, int], str] = {}
        self.before_sendpay: Callable[[], None] | None = None
        self._lock = threading.Lock()

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self.inner, name)
        if name.startswith("_") or not callable(attribute):
            return attribute

        def recorded(*args: Any, **kwargs: Any) -> Any:
            try:
                result = attribute(*args, **kwargs)
            except NodeUnreachable:
                self._record(Call(name, "unreachable"))
                raise
            except NodeError:
                self._record(Call(name, "error"))
                raise
            self._record(Call(name, "ok"))
            return result

        return recorded

    @property
    def socket_path(self) -> str:
        return self.inner.socket_path

    def _record(self, call: Call) -> None:
        with self._lock:
            self.calls.append(call)
            if call.method == "sendpay" and call.outcome != "lost-before":
                TALLY.sendpay_calls += 1

    def count(self, method: str, outcome: str | None = None) -> int:
        with self._lock:
            return sum(1 for call in self.calls if call.method == method and outcome in (None, call.outcome))

    def sendpays(self) -> list[tuple[int, int]]:
        """(groupid, partid) of every sendpay that reached the node (all but those lost ``before``)."""
        with self._lock:
            return [call.part for call in self.calls if call.method == "sendpay" and call.outcome != "lost-before"]

    def sendpay(self, route: Any, payment_hash: str, **kwargs: Any) -> SendPayment:
        part = (kwargs.get("groupid") or 0, kwargs.get("partid") or 0)
        if self.before_sendpay is not None:
            self.before_sendpay()
        mode = self.lose_sendpay_answers.pop(part, None)
        if mode == "before":
            self._record(Call("sendpay", "lost-before", part))
            raise NodeUnreachable("sendpay", self.socket_path, "the connection closed mid-call")
        try:
            answer = self.inner.sendpay(route, payment_hash, **kwargs)
        except NodeUnreachable:
            self._record(Call("sendpay", "unreachable", part))
            raise
        except NodeError:
            self._record(Call("sendpay", "error", part))
            raise
        if mode == "after":
            self._record(Call("sendpay", "lost-after", part))
            raise NodeUnreachable("sendpay", self.socket_path, "the connection closed mid-call")
        self._record(Call("sendpay", "ok", part))
        return answer


# ---------------------------------------------------------------------------------------------------------------
# Taking the node away


@contextlib.contextmanager
def socket_renamed(sim: RunningSim) -> Iterator[None]:
    """The node's socket file is moved away (new connections: "no such socket"); the simulator runs on, its
    payments too, and connections already open stay open. Put back on exit."""
    away = f"{sim.socket_path}.away"
    os.rename(sim.socket_path, away)
    TALLY.fault("socket removed")
    try:
        yield
    finally:
        os.rename(away, sim.socket_path)


@contextlib.contextmanager
def listener_gone(sim: RunningSim) -> Iterator[None]:
    """The socket path is there but nobody listens on it (new connections: "connection refused"), as after a
    lightningd crash; the simulator runs on elsewhere. Put back on exit."""
    away = f"{sim.socket_path}.away"
    os.rename(sim.socket_path, away)
    dead = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    dead.bind(os.fspath(sim.socket_path))
    dead.close()  # the file stays, bound to no one
    TALLY.fault("listener gone")
    try:
        yield
    finally:
        os.unlink(sim.socket_path)
        os.rename(away, sim.socket_path)


# ---------------------------------------------------------------------------------------------------------------
# Consoles in subprocesses


def start_console(*args: str, **options: Any) -> subprocess.Popen[str]:
    """``python -m lnconsole.cli ARGS`` (or ``python -m MODULE ...`` when ARGS start with ``-m``) in a subprocess
    from the checkout, its stdout and stderr piped, stdin empty unless ``stdin=`` says otherwise."""
    argv = [sys.executable, *args] if args and args[0] == "-m" else [sys.executable, "-m", "lnconsole.cli", *args]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH", "")]))
    options.setdefault("stdin", subprocess.DEVNULL)
    options.setdefault("stdout", subprocess.PIPE)
    options.setdefault("stderr", subprocess.PIPE)
    return subprocess.Popen(argv, cwd=REPO, env=env, text=True, **options)


__all__ = [
    "REPO",
    "TALLY",
    "Call",
    "HopGate",
    "RecordingNode",
    "Tally",
    "check_parts",
    "drain_e_to_c",
    "listener_gone",
    "parts_on_node",
    "socket_renamed",
    "start_console",
    "three_parts_one_via_e",
]
