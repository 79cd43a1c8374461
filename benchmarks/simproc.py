"""The simulated node in its own process, for the benchmarks (``benchmarks.common.SimProcess`` starts it).

    python -m benchmarks.simproc --socket PATH [--scenario regtest|demo|mainnet] [--hop-delay-ms 0]
        [--mpp-timeout 60] [--graph FILE] [--settle-log FILE] [--dump-nodes FILE]

Prints ``ready`` once the socket answers and the routing index is built, then serves until SIGTERM. With
``--settle-log``, each part that completes adds a line ``payment_hash groupid partid time.monotonic()``, taken
when the node marks the part complete (before its waiters are answered): the console's reaction is timed from
there. With ``--dump-nodes``, the ids of the nodes that have an enabled channel in each direction (the ones a
random route query can start from and end at) are written to FILE, one per line, before ``ready``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any, TextIO

from lnconsole.sim.graph import RoutingGraph
from lnconsole.sim.node import SimConfig, SimNode
from lnconsole.sim.payments import PaymentBook, SendPay
from lnconsole.sim.runner import serve_forever
from lnconsole.sim.scenarios import build_scenario


def log_settlements(log: TextIO) -> None:
    """Write a line to ``log`` whenever a part completes (a wrapper around PaymentBook._succeeded)."""
    original = PaymentBook._succeeded

    def succeeded(self: PaymentBook, payment: SendPay, preimage: str) -> None:
        now = time.monotonic()
        log.write(f"{payment.payment_hash} {payment.groupid} {payment.partid} {now:.6f}\n")
        log.flush()
        original(self, payment, preimage)

    PaymentBook._succeeded = succeeded  # type: ignore[method-assign]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--socket", required=True, type=Path)
    parser.add_argument("--scenario", default="regtest")
    parser.add_argument("--hop-delay-ms", type=float, default=0.0)
    parser.add_argument("--mpp-timeout", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--graph", type=Path)
    parser.add_argument("--settle-log", type=Path)
    parser.add_argument("--dump-nodes", type=Path)
    args = parser.parse_args(argv)
    if args.settle_log is not None:
        log_settlements(args.settle_log.open("a", buffering=1))
    config = SimConfig(seed=args.seed, hop_delay_ms=args.hop_delay_ms, mpp_timeout_s=args.mpp_timeout)
    node: SimNode = build_scenario(args.scenario, config, args.graph)
    index = node.component(RoutingGraph).index()  # before "ready": no measured call pays for it
    if args.dump_nodes is not None:
        routable = [
            index.node_ids[i]
            for i in range(index.num_nodes)
            if any(h.enabled for h in index.in_adj[i]) and any(h.enabled for h in index.out_adj[i])
        ]
        args.dump_nodes.write_text("\n".join(routable) + "\n")

    def ready(*_: Any) -> None:
        print("ready", flush=True)

    serve_forever(node, args.socket, on_ready=ready)


if __name__ == "__main__":
    main()
