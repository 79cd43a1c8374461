"""The ``demo`` scenario: a dozen nodes with readable aliases, built so that each payment tells a story.

We are ``console``. Who has channels with whom (the policy each routing node asks on all its channels)::

    console     -- gateway, summit, river, express, lighthouse   (ours: we hold 90-100% of each)
    gateway     -- summit, river, lighthouse, coffee-shop, big-merchant   (hub: 1000 msat + 500 ppm)
    summit      -- big-merchant                                           (1000 msat + 300 ppm)
    river       -- meadow, big-merchant                                   (0 msat + 1 ppm)
    meadow      -- waypoint -- harbor -- bookstore                        (1+5, 0+2, 1+10)
    express     -- bookstore                                              (1000 msat + 2000 ppm)
    lighthouse  -- coffee-shop                                            (0 msat + 100 ppm; flaky)

The stories (``DEMO_STORIES``; ``DEMO_PAYEES`` gives each payee's typical invoice amount):

- **big-merchant, 2,000,000 sat: only a split pays it.** Its three channels bring in at most 1,500,000
  (gateway), 1,500,000 (summit) and 1,200,000 sat (river), and each has a capacity of 2,000,000 sat or less
  (htlc_maximum 99% of it), so no single path can carry the invoice, while the three disjoint paths
  console-gateway-big-merchant, console-summit-big-merchant and console-river-big-merchant carry 4,200,000 sat
  together: a multi-part payment of two or three parts goes through.
- **coffee-shop, 5,000 sat: a flaky node.** The cheapest way is console-lighthouse-coffee-shop (lighthouse
  asks 100 ppm, gateway 1000 msat + 500 ppm), but ``lighthouse`` fails about one forward in seven with
  ``temporary_channel_failure`` (``Node.flaky_ppm`` = 150,000): a payer retries through gateway, or excludes
  lighthouse after the failure.
- **bookstore, 25,000 sat: cheap but long, or dear but short.** console-river-meadow-waypoint-harbor-bookstore
  has five hops whose routing nodes ask 0-1 msat + 1-10 ppm (under a satoshi in all) but add up 132 blocks of
  CLTV delta; console-express-bookstore has two hops, and express asks 1000 msat + 2000 ppm (51 sat) and 40
  blocks. A route finder that weighs the chance of success (getroutes) takes the short way; with a fee budget
  under 51 sat only the long way fits.

Policies are what mainnet nodes gossip: base fees 0-1000 msat, 1-2000 ppm, CLTV deltas 18-144,
htlc_minimum 0, 1 or 1000 msat, htlc_maximum 99% of the capacity (lightningd's default). Every node's outgoing
policy is the same on all its channels, as most real nodes have it. Our channels use lightningd's defaults
(1000 msat, 10 ppm, CLTV delta 34). Keys derive from ``--seed``; capacities, balances and policies are fixed
so that the stories always hold.

The chain tip is block 120: a regtest chain where 101 blocks matured the funding coins, the channels confirmed
in blocks 103-109 (their short_channel_ids say so) and were announced after their six confirmations.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .demo_stories import (
    FLAKY_NODE,
    FLAKY_PPM,
    SPLIT_PAYEE,
    US,
)
from .network import HalfChannel, Network, Node
from .node import SimConfig, SimNode
from .scenarios import SAT, SCENARIOS, open_channels, seeded_node

DEMO_BLOCKHEIGHT = 120
"""The chain tip of the demo's regtest chain (channels confirmed at 103-109, announced after 6 blocks)."""


@dataclass(frozen=True)
class Policy:
    """A node's outgoing policy on all its channels (htlc_maximum is 99% of each channel's capacity)."""

    base_fee_msat: int
    fee_ppm: int
    cltv_delta: int
    htlc_minimum_msat: int = 0

    def half(self, capacity_msat: int) -> HalfChannel:
        return HalfChannel(
            base_fee_msat=self.base_fee_msat,
            fee_ppm=self.fee_ppm,
            cltv_delta=self.cltv_delta,
            htlc_minimum_msat=self.htlc_minimum_msat,
            htlc_maximum_msat=capacity_msat * 99 // 100,
        )


CLN_DEFAULT = Policy(1000, 10, 34)
"""lightningd's defaults (fee-base 1000 msat, fee-per-satoshi 10, cltv-delta 34): us and the merchants."""

POLICIES: dict[str, Policy] = {
    US: CLN_DEFAULT,
    "gateway": Policy(1000, 500, 80, 1000),  # a big hub with lnd's CLTV delta
    "summit": Policy(1000, 300, 144, 1000),
    "express": Policy(1000, 2000, 40),  # the dear shortcut to bookstore
    "river": Policy(0, 1, 18, 1),  # the cheap chain: river, meadow, waypoint, harbor
    "meadow": Policy(1, 5, 40),
    "waypoint": Policy(0, 2, 34),
    "harbor": Policy(1, 10, 40),
    FLAKY_NODE: Policy(0, 100, 40),
    "coffee-shop": CLN_DEFAULT,
    "bookstore": CLN_DEFAULT,
    SPLIT_PAYEE: CLN_DEFAULT,
}
"""Every node of the demo, in the order their keys are derived."""

DEMO_CHANNELS: tuple[tuple[str, str, str, int, int], ...] = (
    # opener, peer, short_channel_id, capacity (sat), the opener's balance (sat; the peer holds the rest)
    (US, "gateway", "103x1x0", 6_000_000, 5_500_000),
    (US, "summit", "103x2x0", 4_000_000, 3_800_000),
    (US, "river", "103x3x0", 3_000_000, 2_800_000),
    (US, "express", "103x4x0", 2_000_000, 1_900_000),
    (US, FLAKY_NODE, "103x5x0", 1_000_000, 1_000_000),
    ("gateway", "summit", "104x1x0", 10_000_000, 5_000_000),
    ("gateway", "river", "104x2x0", 5_000_000, 2_500_000),
    (FLAKY_NODE, "gateway", "104x3x0", 2_000_000, 1_000_000),
    ("river", "meadow", "105x1x0", 3_000_000, 2_000_000),
    ("meadow", "waypoint", "105x2x0", 3_000_000, 2_000_000),
    ("waypoint", "harbor", "105x3x0", 3_000_000, 2_000_000),
    ("gateway", "coffee-shop", "106x1x0", 1_000_000, 800_000),
    (FLAKY_NODE, "coffee-shop", "106x2x0", 1_000_000, 700_000),
    ("express", "bookstore", "107x1x0", 2_000_000, 1_500_000),
    ("harbor", "bookstore", "107x2x0", 2_000_000, 1_500_000),
    ("gateway", SPLIT_PAYEE, "108x1x0", 2_000_000, 1_500_000),
    ("summit", SPLIT_PAYEE, "108x2x0", 2_000_000, 1_500_000),
    ("river", SPLIT_PAYEE, "109x1x0", 1_500_000, 1_200_000),
)


def build_demo(config: SimConfig, graph: Path | None = None) -> SimNode:
    """The demo network, with us as ``console``; ``graph`` is ignored (the demo is built in)."""
    network = Network()
    nodes: dict[str, Node] = {
        alias: network.add_node(seeded_node(config, f"demo:{alias}", alias)) for alias in POLICIES
    }
    nodes[FLAKY_NODE].flaky_ppm = FLAKY_PPM
    rows = (
        (opener, peer, scid, capacity_sat * SAT, opener_sat * SAT)
        for opener, peer, scid, capacity_sat, opener_sat in DEMO_CHANNELS
    )
    open_channels(network, nodes, rows, lambda name, capacity: POLICIES[name].half(capacity))
    return SimNode(network, nodes[US].node_id, config, blockheight=DEMO_BLOCKHEIGHT)


SCENARIOS["demo"] = build_demo
