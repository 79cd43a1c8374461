"""Shared fixtures: a simulated node served on a real unix socket, reached through pyln-client."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from pyln.client import LightningRpc

from lnconsole.sim.node import SimConfig, SimNode
from lnconsole.sim.scenarios import build_scenario
from lnconsole.sim.server import SimServer

SHARED = Path(__file__).resolve().parents[2] / "shared"
"""The project's reference material (CLN schemas, transcripts, mainnet graph), beside the checkout."""


class RunningSim:
    """A simulated node served in a background thread, with a pyln-client connected to it."""

    def __init__(self, node: SimNode, socket_path: Path) -> None:
        self.node = node
        self.socket_path = socket_path
        self.server = SimServer(node, socket_path).start_in_thread()
        self.rpc = LightningRpc(str(socket_path))

    def alias(self, name: str) -> str:
        """Node id of the node with this alias."""
        return self.node.find_node(name).node_id

    def on_loop(self, function: Callable[..., object], *args: object) -> object:
        """Run ``function`` on the simulator's loop thread (where its state lives)."""
        return self.server.run_on_loop(function, *args)

    def stop(self) -> None:
        self.server.stop()


@pytest.fixture
def short_socket_dir() -> Iterator[Path]:
    """A short directory for sockets: unix socket paths are limited to about 100 bytes."""
    with tempfile.TemporaryDirectory(prefix="lnc-") as directory:
        yield Path(directory)


@pytest.fixture
def serve_sim(short_socket_dir: Path) -> Iterator[Callable[[SimNode], RunningSim]]:
    """Factory: ``serve_sim(node)`` serves a node built by the test; every one is stopped at teardown."""
    running: list[RunningSim] = []

    def serve(node: SimNode) -> RunningSim:
        sim = RunningSim(node, short_socket_dir / f"rpc{len(running)}")
        running.append(sim)
        return sim

    yield serve
    for sim in running:
        sim.stop()


@pytest.fixture
def start_sim(serve_sim: Callable[[SimNode], RunningSim]) -> Callable[..., RunningSim]:
    """Factory: ``start_sim("regtest", hop_delay_ms=0)`` starts a scenario and returns a RunningSim."""

    def start(scenario: str = "regtest", graph: Path | None = None, **config: object) -> RunningSim:
        config.setdefault("hop_delay_ms", 1)
        return serve_sim(build_scenario(scenario, SimConfig(**config), graph))  # type: ignore[arg-type]

    return start


@pytest.fixture
def regtest(start_sim: Callable[..., RunningSim]) -> RunningSim:
    """The transcripts' five-node network, with us as A, and fast hops."""
    return start_sim("regtest")
