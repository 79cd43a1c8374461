"""The ``lnconsole`` command line: the demo, and the simulated node (``lnconsole sim``)."""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

SCENARIO_CHOICES = ("demo", "mainnet", "regtest")


def add_sim_options(parser: argparse.ArgumentParser) -> None:
    """Options shared by ``lnconsole sim`` and ``lnconsole --demo``."""
    parser.add_argument("--seed", type=int, default=0, help="seed for keys, liquidity and generated graphs")
    parser.add_argument(
        "--hop-delay-ms", type=float, default=20.0, help="time an HTLC takes to cross one hop (default 20)"
    )
    parser.add_argument(
        "--mpp-timeout",
        type=float,
        default=60.0,
        metavar="S",
        help="seconds a payee holds an incomplete multi-part payment before failing it (default 60)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lnconsole",
        description="A terminal payment console for Core Lightning, with a simulated node for demos and tests.",
    )
    parser.add_argument(
        "--demo",
        action="store_true",
        help="start the embedded simulated network (no node needed) and use it",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages to stderr")
    add_sim_options(parser)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    sim = commands.add_parser(
        "sim",
        help="run a simulated Core Lightning node on a unix socket",
        description=(
            "Run a simulated lightningd that answers lightningd's JSON-RPC on a unix socket "
            "(pyln-client and lightning-cli --rpc-file=PATH talk to it as to a real node), "
            "until SIGINT or SIGTERM."
        ),
    )
    sim.add_argument("--socket", required=True, type=Path, help="path of the unix socket to listen on")
    sim.add_argument("--scenario", choices=SCENARIO_CHOICES, default="demo", help="network to simulate")
    sim.add_argument(
        "--graph",
        type=Path,
        help="mainnet only: a CLN gossip_store file, or the compressed mainnet snapshot (GOSSMAP_COMPRESSv1)",
    )
    sim.add_argument(
        "--legacy",
        action="store_true",
        help="behave like an older CLN: getroute and decodepay, no getroutes/askrene",
    )
    sim.add_argument(
        "--no-deprecated-apis",
        action="store_true",
        help="answer deprecated commands (getroute) with -32601, as lightningd with deprecated APIs off",
    )
    add_sim_options(sim)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
    )
    if args.command == "sim":
        return run_sim(args)
    if args.demo:
        return run_demo(args)
    parser.print_help()
    return 2


def _sim_config(args: argparse.Namespace, legacy: bool = False, deprecated_apis: bool = True) -> object:
    from .sim.node import SimConfig

    return SimConfig(
        seed=args.seed,
        hop_delay_ms=args.hop_delay_ms,
        mpp_timeout_s=args.mpp_timeout,
        generation="legacy" if legacy else "current",
        deprecated_apis=deprecated_apis,
    )


def run_sim(args: argparse.Namespace) -> int:
    """``lnconsole sim``: serve a scenario in the foreground."""
    from .sim.runner import serve_forever
    from .sim.scenarios import build_scenario

    config = _sim_config(args, legacy=args.legacy, deprecated_apis=not args.no_deprecated_apis)
    try:
        node = build_scenario(args.scenario, config, args.graph)  # type: ignore[arg-type]
    except (ValueError, OSError) as error:
        print(f"lnconsole sim: {error}", file=sys.stderr)
        return 1
    socket_path: Path = args.socket

    def ready() -> None:
        print(
            f"Simulated lightningd ({args.scenario}, {len(node.network.nodes)} nodes, "
            f"{len(node.network.channels)} channels) listening on {socket_path}\n"
            f"Try: lightning-cli --rpc-file={socket_path} getinfo",
            flush=True,
        )

    serve_forever(node, socket_path, on_ready=ready)
    return 0


def run_demo(args: argparse.Namespace) -> int:
    """``lnconsole --demo``: start the embedded demo network and show how to reach it.

    The console's screens arrive with the UI; until then the demo runs the simulated network in the
    foreground and prints invoices to pay with any CLN client.
    """
    from pyln.client import LightningRpc

    from .sim.scenario_demo import DEMO_PAYEES
    from .sim.scenarios import build_scenario
    from .sim.server import SimServer

    node = build_scenario("demo", _sim_config(args))  # type: ignore[arg-type]
    with tempfile.TemporaryDirectory(prefix="lnconsole-demo-") as directory:
        socket_path = Path(directory) / "lightning-rpc"
        with SimServer(node, socket_path) as server:
            rpc = LightningRpc(str(socket_path))
            info = rpc.getinfo()
            print(f"lnconsole demo: simulated node {info['alias']} ({info['id']}) on {info['network']}")
            print(f"RPC socket: {socket_path}\n  lightning-cli --rpc-file={socket_path} getinfo\n")
            for payee, amount_msat in DEMO_PAYEES.items():
                invoice = rpc.call(
                    "dev-sim-invoice",
                    {"node": payee, "amount_msat": amount_msat, "description": f"demo payment to {payee}"},
                )
                print(f"Invoice from {payee} ({amount_msat // 1000} sat):\n  {invoice['bolt11']}\n")
            print("Press Ctrl-C to stop.", flush=True)
            try:
                server.join()
            except KeyboardInterrupt:
                print("\nStopped.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
