"""What the engine test modules share: a payer on the regtest simulator with counting node clients and an event
recorder, the regtest network through the console's eyes, and staged channels and payees.

Test modules import these from here (and the ``payer`` fixtures from conftest.py), never from one another.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from collections.abc import Callable
from typing import Any

from lnconsole.graph import ChannelPolicies, ChannelPolicy, direction_between
from lnconsole.node import NodeUnreachable, PylnNode, SendPayment
from lnconsole.payment import PaymentEvent, PaymentSession
from lnconsole.plan import PaymentTarget
from lnconsole.routing import Route, RouteEditor, RouteFinder, route_to_json
from lnconsole.sim.network import HalfChannel, Node
from tests.conftest import RunningSim

SAT = 1000
REGTEST_MIN_FINAL = 10
"""The regtest payee's min_final_cltv_expiry."""

# ---------------------------------------------------------------------------------------------------------------
# Paying


class Recorder:
    """Collects a session's events (delivered from watcher threads) and waits for the ones a test expects."""

    def __init__(self) -> None:
        self.events: list[PaymentEvent] = []
        self._changed = threading.Condition()

    def __call__(self, event: PaymentEvent) -> None:
        with self._changed:
            self.events.append(event)
            self._changed.notify_all()

    def of(self, kind: type[PaymentEvent]) -> list[Any]:
        with self._changed:
            return [event for event in self.events if isinstance(event, kind)]

    def wait_for(
        self, kind: type[PaymentEvent], where: Callable[[Any], bool] = lambda event: True, timeout: float = 10
    ) -> Any:
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for event in self.events:
                    if isinstance(event, kind) and where(event):
                        return event
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    kinds = [type(event).__name__ for event in self.events]
                    raise AssertionError(f"no {kind.__name__} within {timeout}s; got {kinds}")
                self._changed.wait(remaining)


class CountingNode:
    """A PylnNode that counts the payment calls it makes, and can lose a sendpay answer on purpose."""

    def __init__(self, socket_path: str | os.PathLike[str]) -> None:
        self.inner = PylnNode(socket_path)
        self.calls: dict[str, int] = {}
        self.lose_sendpay: str | None = None
        """``"after"``: send, then report the answer lost; ``"before"``: report it lost without sending."""
        self._lock = threading.Lock()

    def count(self, method: str) -> int:
        with self._lock:
            return self.calls.get(method, 0)

    def _counted(self, method: str) -> None:
        with self._lock:
            self.calls[method] = self.calls.get(method, 0) + 1

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def sendpay(self, *args: Any, **kwargs: Any) -> SendPayment:
        mode, self.lose_sendpay = self.lose_sendpay, None
        if mode == "before":
            raise NodeUnreachable("sendpay", self.inner.socket_path, "the connection closed mid-call")
        self._counted("sendpay")
        answer = self.inner.sendpay(*args, **kwargs)
        if mode == "after":
            raise NodeUnreachable("sendpay", self.inner.socket_path, "the connection closed mid-call")
        return answer

    def waitsendpay(self, *args: Any, **kwargs: Any) -> SendPayment:
        self._counted("waitsendpay")
        return self.inner.waitsendpay(*args, **kwargs)

    def listsendpays(self, *args: Any, **kwargs: Any) -> list[SendPayment]:
        self._counted("listsendpays")
        return self.inner.listsendpays(*args, **kwargs)


class Payer:
    """Our node A on a running simulator, with a route finder and the sessions a test started."""

    def __init__(self, sim: RunningSim) -> None:
        self.sim = sim
        self.node = CountingNode(sim.socket_path)
        self.our_id = self.node.inner.getinfo().id
        self.finder = RouteFinder(self.node.inner, self.our_id)
        self.sessions: list[PaymentSession] = []

    def invoice(self, amount_msat: int, payee: str = "C") -> PaymentTarget:
        created = self.sim.rpc.call("dev-sim-invoice", {"node": payee, "amount_msat": amount_msat, "description": "t"})
        decoded = self.node.inner.decode(created["bolt11"])
        return PaymentTarget(
            payment_hash=created["payment_hash"],
            payment_secret=created["payment_secret"],
            destination=created["payee"],
            amount_msat=amount_msat,
            min_final_cltv_expiry=decoded["min_final_cltv_expiry"],
            bolt11=created["bolt11"],
        )

    def route(self, amount_msat: int, *, exclude: tuple[str, ...] = (), to: str = "C") -> Route:
        """A route from the real finder, steered with bare-scid exclusions."""
        return self.finder.find(self.sim.alias(to), amount_msat, final_cltv=10, exclude_channels=exclude)[0]

    def session(self, target: PaymentTarget, node: Any = None, **options: Any) -> tuple[PaymentSession, Recorder]:
        recorder = Recorder()
        options.setdefault("backoff_initial_s", 0.05)
        options.setdefault("backoff_cap_s", 0.4)
        options.setdefault("finder", self.finder)
        session = PaymentSession(node or self.node, target, on_event=recorder, **options)
        self.sessions.append(session)
        return session, recorder

    def records(self, payment_hash: str) -> list[SendPayment]:
        return self.node.inner.listsendpays(payment_hash=payment_hash)

    def direction(self, short_channel_id: str, source: str) -> int:
        source_id = self.sim.alias(source)
        return next(c.direction for c in self.node.inner.listchannels(short_channel_id) if c.source == source_id)

    def squeeze(self, short_channel_id: str, source: str, spendable_msat: int) -> str:
        """Leave the channel's ``source`` side only ``spendable_msat``; returns the ``scid/dir`` squeezed."""
        direction = self.direction(short_channel_id, source)
        self.sim.rpc.call(
            "dev-sim-channel",
            {"short_channel_id": short_channel_id, "direction": direction, "spendable_msat": spendable_msat},
        )
        return f"{short_channel_id}/{direction}"

    def stop(self) -> None:
        for session in self.sessions:
            session.stop()


def sha256_hex(preimage: str) -> str:
    return hashlib.sha256(bytes.fromhex(preimage)).hexdigest()


# ---------------------------------------------------------------------------------------------------------------
# The regtest network and its routes


class RecordingNode(PylnNode):
    """A PylnNode that records every call (method, params) it makes."""

    def __init__(self, socket_path: Any) -> None:
        super().__init__(socket_path)
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def call(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        self.calls.append((method, {k: v for k, v in (params or {}).items() if v is not None}))
        return super().call(method, params)

    def count(self, method: str) -> int:
        return sum(1 for name, _ in self.calls if name == method)


class Regtest:
    """The regtest network through the console's eyes: node ids by letter, a node client, policies, a finder."""

    def __init__(self, sim: RunningSim, node: PylnNode | None = None) -> None:
        self.sim = sim
        self.node = node or PylnNode(sim.socket_path)
        self.ids = {name: sim.alias(name) for name in "ABCDE"}
        self.us = self.ids["A"]
        self.policies = ChannelPolicies(self.node, self.us)
        self.finder = RouteFinder(self.node, self.us, policies=self.policies)

    def __getattr__(self, name: str) -> str:
        if len(name) == 1 and name in "ABCDEF":
            return self.ids[name]
        raise AttributeError(name)

    def id(self, name: str) -> str:
        return self.ids.get(name) or self.sim.alias(name)

    def direction(self, source: str, destination: str) -> int:
        """The direction of a channel from ``source`` to ``destination`` (letters): it depends on the ids."""
        return direction_between(self.id(source), self.id(destination))

    def path(self, start: str, *steps: tuple[str, str]) -> list[tuple[str, int, str]]:
        """Channels from node ``start`` over ``(scid, next node)`` steps, by letter: directions worked out."""
        channels, before = [], start
        for scid, name in steps:
            channels.append((scid, self.direction(before, name), self.id(name)))
            before = name
        return channels

    def half(self, scid: str, source: str, destination: str) -> ChannelPolicy:
        policy = self.policies.policy(scid, self.direction(source, destination))
        assert policy is not None and (policy.source, policy.destination) == (self.id(source), self.id(destination))
        return policy

    def editor(self, **kwargs: Any) -> RouteEditor:
        kwargs.setdefault("payee", self.C)
        kwargs.setdefault("final_cltv", REGTEST_MIN_FINAL)
        return RouteEditor(self.policies, our_id=self.us, finder=self.finder, **kwargs)

    def channel(self, scid: str, source: str, destination: str, **changes: Any) -> None:
        """Stage a change of one channel direction (dev-sim-channel), then forget what we knew about it."""
        direction = self.direction(source, destination)
        self.sim.rpc.call("dev-sim-channel", {"short_channel_id": scid, "direction": direction, **changes})
        self.policies.invalidate(scid)

    def invoice(self, payee: str, amount_msat: int) -> dict[str, Any]:
        return self.sim.rpc.call("dev-sim-invoice", {"node": payee, "amount_msat": amount_msat})

    def pay(self, route: Route, invoice: dict[str, Any]) -> dict[str, Any]:
        """Send ``route`` with lightning-cli's JSON (route_to_json) and wait for the outcome."""
        self.sim.rpc.sendpay(
            json.loads(route_to_json(route)), invoice["payment_hash"], payment_secret=invoice["payment_secret"]
        )
        return self.sim.rpc.waitsendpay(invoice["payment_hash"], timeout=10)


def add_private_payee(sim: RunningSim, scid: str = "110x1x0", peer: str = "C") -> str:
    """A new node F whose only channel is a private one with ``peer`` (who opened it and holds its funds)."""
    peer_id = sim.alias(peer)

    def build() -> str:
        network = sim.node.network
        payee = network.add_node(Node.from_seed(b"lnconsole-test-private-payee", "F"))
        capacity = 200_000_000
        network.add_channel(
            scid,
            peer_id,
            payee.node_id,
            capacity,
            a_policy=HalfChannel(base_fee_msat=3, fee_ppm=250, cltv_delta=12, htlc_maximum_msat=capacity),
            b_policy=HalfChannel(base_fee_msat=1, fee_ppm=10, cltv_delta=6, htlc_maximum_msat=capacity),
            public=False,
        )
        return payee.node_id

    return sim.on_loop(build)  # type: ignore[return-value]


def add_parallel_channel(sim: RunningSim, scid: str = "111x1x0") -> None:
    """A second channel B-C, cheaper for B to forward over than 103x2x0 (0 msat + 1 ppm, but delta 9)."""
    b, c = sim.alias("B"), sim.alias("C")

    def build() -> None:
        sim.node.network.add_channel(
            scid,
            b,
            c,
            300_000_000,
            a_policy=HalfChannel(base_fee_msat=0, fee_ppm=1, cltv_delta=9, htlc_maximum_msat=297_000_000),
            b_policy=HalfChannel(base_fee_msat=5, fee_ppm=5, cltv_delta=9, htlc_maximum_msat=297_000_000),
        )

    sim.on_loop(build)
