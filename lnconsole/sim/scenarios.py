"""Ready-made networks for the simulated node.

- ``regtest``: the five-node network on which real lightningd's answers were recorded
  (``shared/cln/transcripts``): same channels, capacities, pushes and policies, so the simulator's routes, fees
  and failures can be compared with real ones number for number. Node ids differ (we hold our own keys).
- ``demo`` and ``mainnet``: see :mod:`lnconsole.sim.scenario_demo` and :mod:`lnconsole.sim.mainnet`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from .network import HalfChannel, Network, Node
from .node import SimConfig, SimNode

SAT = 1000


def seeded_node(config: SimConfig, name: str, alias: str | None = None) -> Node:
    """A node whose key derives from the scenario's seed and the node's name."""
    return Node.from_seed(f"{config.seed}:{name}".encode(), alias or name)


def regtest_policy(capacity_msat: int) -> HalfChannel:
    """lightningd's regtest defaults: fee base 1 msat, 10 ppm, CLTV delta 6, htlc max 99% of capacity."""
    return HalfChannel(
        base_fee_msat=1,
        fee_ppm=10,
        cltv_delta=6,
        htlc_minimum_msat=0,
        htlc_maximum_msat=capacity_msat * 99 // 100,
    )


REGTEST_CHANNELS = [
    # opener, peer, short_channel_id, capacity (sat), pushed to the peer (msat)
    ("A", "B", "103x1x0", 1_000_000, 0),
    ("B", "C", "103x2x0", 400_000, 50_000_000),
    ("A", "D", "103x3x0", 1_000_000, 0),
    ("D", "C", "103x4x0", 300_000, 0),
    ("B", "E", "103x5x0", 500_000, 0),
    ("E", "C", "103x6x0", 200_000, 0),
]


def open_channels(
    network: Network,
    nodes: dict[str, Node],
    rows: Iterable[tuple[str, str, str, int, int]],
    policy: Callable[[str, int], HalfChannel],
) -> None:
    """Open a scenario's channels: rows of (opener, peer, short_channel_id, capacity msat, the opener's balance
    msat) between named nodes; ``policy(name, capacity_msat)`` is what each end gossips for its direction."""
    for opener, peer, scid, capacity, opener_balance in rows:
        network.add_channel(
            scid,
            nodes[opener].node_id,
            nodes[peer].node_id,
            capacity,
            a_balance_msat=opener_balance,
            a_policy=policy(opener, capacity),
            b_policy=policy(peer, capacity),
        )


def build_regtest(config: SimConfig, graph: Path | None = None) -> SimNode:
    """The transcripts' network: A (us) reaches C by A-B-C, A-D-C and A-B-E-C."""
    network = Network()
    nodes = {name: network.add_node(seeded_node(config, name)) for name in "ABCDE"}
    rows = (
        (opener, peer, scid, capacity_sat * SAT, capacity_sat * SAT - push_msat)
        for opener, peer, scid, capacity_sat, push_msat in REGTEST_CHANNELS
    )
    open_channels(network, nodes, rows, lambda _, capacity: regtest_policy(capacity))
    return SimNode(network, nodes["A"].node_id, config, blockheight=108)


ScenarioBuilder = Callable[[SimConfig, "Path | None"], SimNode]

SCENARIOS: dict[str, ScenarioBuilder] = {"regtest": build_regtest}
"""Scenario name -> builder; the demo and mainnet modules add theirs."""


def build_scenario(name: str, config: SimConfig | None = None, graph: Path | None = None) -> SimNode:
    """Build the named scenario (``regtest``, ``demo``, ``mainnet``)."""
    from . import mainnet, scenario_demo  # noqa: F401  (register their builders)

    config = config or SimConfig()
    try:
        builder = SCENARIOS[name]
    except KeyError:
        raise ValueError(f"unknown scenario {name!r}; choose one of {', '.join(sorted(SCENARIOS))}") from None
    node = builder(config, graph)
    if config.state_path is not None:
        from .state import open_state  # the kept state goes back on the rebuilt network (StateError if it can't)

        open_state(node, name, graph)
    return node
