"""The simulated lightningd: our node inside a simulated network, with everything the RPC commands share."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from .errors import RpcFault, invalid_params
from .network import Network, Node
from .params import is_node_id
from .state import NO_STATE, NodeState

T = TypeVar("T")

SIM_VERSION = "v26.06-sim"
"""What ``getinfo`` says: the CLN generation the simulator imitates, marked as simulated."""


@dataclass
class SimConfig:
    """Knobs of a simulated node; the command line sets them (``lnconsole sim --help``)."""

    seed: int = 0
    hop_delay_ms: float = 20.0
    """Time an HTLC takes to cross one hop (each way)."""
    mpp_timeout_s: float = 60.0
    """How long a payee holds an incomplete multi-part payment before failing it with mpp_timeout."""
    generation: str = "current"
    """``current`` imitates CLN v26.06 (getroutes, decode); ``legacy`` an older node (getroute, decodepay)."""
    deprecated_apis: bool = True
    """Whether deprecated commands (getroute) answer by default, as lightningd's allow-deprecated-apis."""
    version: str = SIM_VERSION
    lightning_dir: str = "/tmp/lnconsole-sim"
    repeatable_preimages: bool = False
    """Derive invoice preimages from the seed instead of drawing them at random, so that screenshots and
    snapshot tests show the same payment hashes and QR codes run after run. Never for real use."""
    state_path: Path | None = None
    """An SQLite file that keeps payments, invoices, balances and policy changes across restarts, as lightningd's
    database does (:mod:`lnconsole.sim.state`); None keeps everything in memory."""


class SimNode:
    """Our node and its network, plus one instance of each stateful component (invoices, payments, layers).

    Components are created on first use with :meth:`component`, so that each command module owns its state
    without this class knowing them all. All state lives on the server's event loop thread.
    """

    def __init__(
        self,
        network: Network,
        our_id: str,
        config: SimConfig | None = None,
        *,
        blockheight: int = 108,
        network_name: str = "regtest",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.network = network
        self.our_id = our_id
        self.config = config or SimConfig()
        self.blockheight = blockheight
        self.network_name = network_name
        self.clock = clock
        self.rng = random.Random(self.config.seed)
        self.state: NodeState = NO_STATE
        """Where changes are written through (the state file), or nowhere."""
        self._components: dict[type, Any] = {}
        self._aliases: dict[str, str] = {}
        self._aliases_of = -1
        """How many nodes ``_aliases`` was built from (nodes are only ever added)."""

    @property
    def us(self) -> Node:
        return self.network.nodes[self.our_id]

    def now(self) -> int:
        """Seconds since the epoch, as lightningd stamps created_at and expiry."""
        return int(self.clock())

    def component(self, cls: type[T]) -> T:
        """The node's single instance of ``cls`` (constructed as ``cls(node)`` on first use)."""
        instance = self._components.get(cls)
        if instance is None:
            instance = cls(self)  # type: ignore[call-arg]
            self._components[cls] = instance
        return instance

    def find_node(self, id_or_alias: str, param: str = "node") -> Node:
        """A node by id or by alias (dev-sim commands accept both); -32602 naming ``param`` when unknown.

        Aliases need not be unique (real graphs repeat them): the first node that has it wins.
        """
        node = self.network.nodes.get(id_or_alias.lower()) if is_node_id(id_or_alias) else None
        if node is None:
            if self._aliases_of != len(self.network.nodes):
                self._aliases = {}
                for each in self.network.nodes.values():
                    self._aliases.setdefault(each.alias, each.node_id)
                self._aliases_of = len(self.network.nodes)
            node_id = self._aliases.get(id_or_alias)
            node = self.network.nodes.get(node_id) if node_id else None
        if node is None:
            raise invalid_params(f"{param}: unknown node '{id_or_alias}'")
        return node

    async def sleep(self, seconds: float) -> None:
        """Await this to let simulated time pass (hop delays)."""
        await asyncio.sleep(seconds)

    def start_serving(self) -> None:
        """On the server's loop, as it starts: the parts in flight when the node last stopped move on."""
        from .payments import PaymentBook  # payments imports this module

        book = self._components.get(PaymentBook)
        if book is not None:
            book.resume()

    async def stop_serving(self) -> None:
        """On the server's loop, as it stops: HTLCs stop where they are, unmarked, as when lightningd stops; the
        state file (closed now) has them, and a node built from it again carries them on."""
        from .payments import PaymentBook

        book = self._components.get(PaymentBook)
        if book is not None:
            await book.halt()
        self.state.close()


__all__ = ["RpcFault", "SimConfig", "SimNode"]
