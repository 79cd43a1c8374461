"""Figure 6: the simulator's own speed, so that it never hides the console's cost.

- Throughput: the simulated node (``regtest``, no hop delay) in its own process; invoices of C made beforehand;
  one pyln-client connection pays them one after the other, each with one ``sendpay`` (a route found once, A-B-C)
  and one ``waitsendpay`` until complete. The figure is complete payments per second over each run of 100
  (median over runs). The same with 4 client threads, each on its own connection, is given for scale.
- Mainnet scenario build: ``build_scenario("mainnet", graph=the 2026-02-03 snapshot)`` in a fresh process,
  timed around the call (imports excluded; the routing index, built when the server starts, is timed apart).
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from typing import Any

from pyln.client import LightningRpc

from .common import ROOT, SNAPSHOT, Figure, SimProcess, child_env, median, progress

TARGET_PAYMENTS_PER_S = 300.0
TARGET_BUILD_S = 10.0
PAYMENTS_PER_RUN = 100
AMOUNT_MSAT = 10_000


def make_invoices(rpc: LightningRpc, count: int) -> list[dict[str, Any]]:
    return [
        rpc.call("dev-sim-invoice", {"node": "C", "amount_msat": AMOUNT_MSAT, "description": "t"}) for _ in range(count)
    ]


def pay(rpc: LightningRpc, route: list[dict[str, Any]], invoice: dict[str, Any]) -> None:
    rpc.call(
        "sendpay",
        {
            "route": route,
            "payment_hash": invoice["payment_hash"],
            "payment_secret": invoice["payment_secret"],
            "amount_msat": AMOUNT_MSAT,
        },
    )
    answer = rpc.call("waitsendpay", {"payment_hash": invoice["payment_hash"], "timeout": 60})
    if answer.get("status") != "complete":
        raise RuntimeError(f"payment not complete: {answer}")


def throughput(socket_path: str, route: list[dict[str, Any]], threads: int) -> float:
    """Complete payments per second, ``PAYMENTS_PER_RUN`` payments over ``threads`` connections."""
    rpcs = [LightningRpc(socket_path) for _ in range(threads)]
    share = PAYMENTS_PER_RUN // threads
    invoices = [make_invoices(rpcs[0], share) for _ in range(threads)]
    failures: list[BaseException] = []

    def work(rpc: LightningRpc, mine: list[dict[str, Any]]) -> None:
        try:
            for invoice in mine:
                pay(rpc, route, invoice)
        except BaseException as error:  # reported after the run
            failures.append(error)

    workers = [threading.Thread(target=work, args=(rpc, mine)) for rpc, mine in zip(rpcs, invoices, strict=True)]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - started
    if failures:
        raise failures[0]
    return share * threads / elapsed


def build_time() -> tuple[float, float]:
    """(scenario build, routing index build) in seconds, in a fresh process."""
    code = (
        "import time, sys\n"
        "from pathlib import Path\n"
        "from lnconsole.sim.node import SimConfig\n"
        "from lnconsole.sim.scenarios import build_scenario\n"
        "from lnconsole.sim.graph import RoutingGraph\n"
        "started = time.perf_counter()\n"
        f"node = build_scenario('mainnet', SimConfig(seed=1), Path({str(SNAPSHOT)!r}))\n"
        "built = time.perf_counter()\n"
        "node.component(RoutingGraph).index()\n"
        "print(built - started, time.perf_counter() - built)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT, env=child_env()
    )
    build, index = result.stdout.split()
    return float(build), float(index)


def run(runs: int) -> list[Figure]:
    sequential: list[float] = []
    parallel: list[float] = []
    with SimProcess("regtest", hop_delay_ms=0) as sim:
        rpc = LightningRpc(sim.socket_path)
        destination = rpc.call("dev-sim-invoice", {"node": "C", "amount_msat": AMOUNT_MSAT})
        payee = rpc.call("decode", {"string": destination["bolt11"]})["payee"]
        route = rpc.call("getroute", {"id": payee, "amount_msat": AMOUNT_MSAT, "riskfactor": 1, "cltv": 18})["route"]
        throughput(sim.socket_path, route, 1)  # warm-up
        for index in range(runs):
            progress(f"simulator throughput: run {index + 1}/{runs}")
            sequential.append(throughput(sim.socket_path, route, 1))
            parallel.append(throughput(sim.socket_path, route, 4))
    builds: list[tuple[float, float]] = []
    for index in range(min(runs, 3)):
        progress(f"mainnet build: run {index + 1}/{min(runs, 3)}")
        builds.append(build_time())
    return [
        Figure(
            "6 simulator",
            "complete single-part payments/s, one connection",
            median(sequential),
            "payments/s",
            target=TARGET_PAYMENTS_PER_S,
            higher_is_better=True,
            runs=len(sequential),
            note=f"{PAYMENTS_PER_RUN} sendpay+waitsendpay per run, no hop delay",
        ),
        Figure(
            "6 simulator",
            "complete payments/s, 4 connections",
            median(parallel),
            "payments/s",
            runs=len(parallel),
            note="the client's 4 threads share this machine's 2 cores with the node",
        ),
        Figure(
            "6 simulator",
            "mainnet scenario build",
            median([b for b, _ in builds]),
            "s",
            target=TARGET_BUILD_S,
            runs=len(builds),
            note=f"routing index built after it in {median([i for _, i in builds]):.2f} s",
        ),
    ]
