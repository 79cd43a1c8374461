"""How fast the simulated node finds routes on the mainnet graph, through pyln-client over its socket.

    /work/venv/bin/python -m benchmarks.routing [--queries 100] [--seed 5] [--graph PATH]

Real lightningd on the project's machine answers ``getroute`` in 4-9 ms (median) and ``getroutes`` in 63-78 ms
on this graph. Destinations are drawn (seeded) among nodes with at least one enabled channel towards them;
amounts cycle through 1,000, 10,000, 100,000 and 500,000 sat. Failures (no route) are timed too and counted.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from pathlib import Path

from pyln.client import LightningRpc, RpcError

from lnconsole.sim.graph import RoutingGraph
from lnconsole.sim.node import SimConfig
from lnconsole.sim.scenarios import build_scenario
from lnconsole.sim.server import SimServer

SNAPSHOT = Path(__file__).resolve().parents[2] / "shared" / "cln" / "mainnet" / "gossip-store-2026-02-03.compressed"
AMOUNTS_MSAT = (1_000_000, 10_000_000, 100_000_000, 500_000_000)


def summary(name: str, times: list[float], failures: int) -> str:
    times = sorted(times)
    ms = [t * 1000 for t in times]
    return (
        f"{name:10} median {statistics.median(ms):6.1f} ms   p90 {ms[int(len(ms) * 0.9)]:6.1f} ms   "
        f"max {ms[-1]:6.1f} ms   no route {failures}/{len(ms)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--graph", type=Path, default=SNAPSHOT)
    args = parser.parse_args()

    started = time.perf_counter()
    node = build_scenario("mainnet", SimConfig(seed=1), args.graph)
    print(f"scenario built in {time.perf_counter() - started:.2f} s")
    started = time.perf_counter()
    index = node.component(RoutingGraph).index()
    print(
        f"routing index built in {time.perf_counter() - started:.2f} s "
        f"({index.num_nodes} nodes, {index.num_channels} public channels)"
    )

    rng = random.Random(args.seed)
    reachable = [
        index.node_ids[i]
        for i in range(index.num_nodes)
        if index.node_ids[i] != node.our_id and any(h.enabled for h in index.in_adj[i])
    ]
    with tempfile.TemporaryDirectory(prefix="lnc-bench-") as directory:
        server = SimServer(node, Path(directory) / "rpc").start_in_thread()
        try:
            rpc = LightningRpc(str(Path(directory) / "rpc"))
            times: dict[str, list[float]] = {"getroute": [], "getroutes": []}
            failures = {"getroute": 0, "getroutes": 0}
            parts: list[int] = []
            for query in range(args.queries):
                destination = rng.choice(reachable)
                amount = AMOUNTS_MSAT[query % len(AMOUNTS_MSAT)]
                calls = {
                    "getroute": {"id": destination, "amount_msat": amount, "riskfactor": 10},
                    "getroutes": {
                        "source": node.our_id,
                        "destination": destination,
                        "amount_msat": amount,
                        "layers": ["auto.localchans", "auto.sourcefree"],
                        "maxfee_msat": amount // 100 + 5000,
                        "final_cltv": 18,
                    },
                }
                for method, params in calls.items():
                    started = time.perf_counter()
                    try:
                        result = rpc.call(method, params)
                        if method == "getroutes":
                            parts.append(len(result["routes"]))
                    except RpcError:
                        failures[method] += 1
                    times[method].append(time.perf_counter() - started)
        finally:
            server.stop()
    for method, measured in times.items():
        print(summary(method, measured, failures[method]))
    print(f"getroutes parts: {sum(parts)} over {len(parts)} answers, at most {max(parts, default=0)} in one")


if __name__ == "__main__":
    main()
