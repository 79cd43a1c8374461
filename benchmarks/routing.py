"""How fast the simulated node finds routes on the mainnet graph, through pyln-client over its socket.

    .venv/bin/python -m benchmarks.routing [--queries 200] [--seed 5] [--graph PATH]

Real lightningd on the project's machine, on this graph, with 200 random pairs and amounts of 1 sat to
1,000,000 sat, answers ``getroute`` in 4-9 ms median (p95 at most 12 ms) and ``getroutes`` in 63-78 ms median
(p95 80-270 ms). The simulator is queried the same way: source and destination drawn (seeded) among the nodes
with an enabled channel each way, amounts log-uniform between 1 sat and 1,000,000 sat; ``getroute`` with
``fromid`` and riskfactor 10, ``getroutes`` with no layers, maxfee 1% + 5 sat and final_cltv 18. Calls that find
no route are timed too and counted. The node runs in its own process (:mod:`benchmarks.simproc`).

The suite (``python -m benchmarks --only routing``) reports these beside the route-editing figures.
"""

from __future__ import annotations

import argparse
import math
import random
import tempfile
import time
from pathlib import Path
from typing import Any

from pyln.client import LightningRpc, RpcError

from .common import SNAPSHOT, SimProcess, median, percentile

LIGHTNINGD = {"getroute": (4.0, 9.0, 12.0), "getroutes": (63.0, 78.0, 270.0)}
"""lightningd on this graph: (median low, median high, p95 high), ms."""


def random_queries(node_ids: list[str], count: int, seed: int) -> list[tuple[str, str, int]]:
    """(source, destination, amount_msat): distinct random pairs, amounts log-uniform 1 sat .. 1,000,000 sat."""
    rng = random.Random(seed)
    queries = []
    for _ in range(count):
        source, destination = rng.sample(node_ids, 2)
        amount_sat = round(math.exp(rng.uniform(0, math.log(1_000_000))))
        queries.append((source, destination, amount_sat * 1000))
    return queries


def time_queries(socket_path: str, queries: list[tuple[str, str, int]]) -> dict[str, Any]:
    """Time getroute and getroutes for each query (alternating, so load hits both alike); ms lists and counts."""
    rpc = LightningRpc(socket_path)
    times: dict[str, list[float]] = {"getroute": [], "getroutes": []}
    failures = {"getroute": 0, "getroutes": 0}
    parts: list[int] = []
    for source, destination, amount in queries:
        calls = {
            "getroute": {"id": destination, "amount_msat": amount, "riskfactor": 10, "fromid": source},
            "getroutes": {
                "source": source,
                "destination": destination,
                "amount_msat": amount,
                "layers": [],
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
            times[method].append((time.perf_counter() - started) * 1000)
    return {"times": times, "failures": failures, "parts": parts}


def summary(method: str, measured: dict[str, Any]) -> str:
    ms = measured["times"][method]
    low, high, p95_high = LIGHTNINGD[method]
    return (
        f"{method:10} median {median(ms):6.1f} ms   p95 {percentile(ms, 0.95):6.1f} ms   max {max(ms):6.1f} ms   "
        f"no route {measured['failures'][method]}/{len(ms)}   (lightningd: median {low:g}-{high:g} ms, "
        f"p95 <= {p95_high:g} ms)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--graph", type=Path, default=SNAPSHOT)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="lnc-nodes-") as scratch:
        nodes_file = Path(scratch) / "nodes"
        started = time.perf_counter()
        with SimProcess("mainnet", graph=args.graph, dump_nodes=nodes_file) as sim:
            print(f"simulated node up in {time.perf_counter() - started:.1f} s (scenario, routing index)")
            node_ids = nodes_file.read_text().split()
            measured = time_queries(sim.socket_path, random_queries(node_ids, args.queries, args.seed))
    for method in ("getroute", "getroutes"):
        print(summary(method, measured))
    parts = measured["parts"]
    print(f"getroutes parts: {sum(parts)} over {len(parts)} answers, at most {max(parts, default=0)} in one")


if __name__ == "__main__":
    main()
