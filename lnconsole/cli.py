"""The ``lnconsole`` command line: the demo, the simulated node (``lnconsole sim``), and the headless commands
(``decode``, ``route``, ``pay``, ``history``; see :mod:`lnconsole.headless`)."""

from __future__ import annotations

import argparse
import contextlib
import gc
import logging
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

if TYPE_CHECKING:
    from .app import LnConsoleApp

SCENARIO_CHOICES = ("demo", "mainnet", "regtest")
HEADLESS_COMMANDS = ("decode", "route", "pay", "history")

EXIT_CODES_HELP = """exit codes:
  0  done (pay: paid, now or before)
  1  the node or the payment failed (the message carries lightningd's error code)
  2  bad input: the invoice, an amount or an option (nothing sent)
  3  pay: not sent, not confirmed
  4  pay: still pending when --timeout passed (the parts go on on the node)"""


_VISIBLE_CONTROLS = {
    code: repr(chr(code))[1:-1]
    for code in (*range(0x00, 0x20), *range(0x7F, 0xA0), 0x2028, 0x2029)
    if code not in (9, 10)
}


class _Parser(argparse.ArgumentParser):
    """argparse, with control characters in its error messages shown escaped: they quote the command line, and
    an escape sequence pasted into an argument must not act on the terminal."""

    def error(self, message: str) -> NoReturn:
        super().error(message.translate(_VISIBLE_CONTROLS))


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
    parser = _Parser(
        prog="lnconsole",
        description="A terminal payment console for Core Lightning, with a simulated node for demos and tests.",
    )
    parser.add_argument(
        "--demo",
        action="store_true",
        help="start the embedded simulated network (no node needed) and use it",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    group = parser.add_argument_group("connection (as lightning-cli)")
    group.add_argument("--lightning-dir", metavar="DIR", help="lightningd's directory (default ~/.lightning)")
    group.add_argument("--network", default="bitcoin", help="bitcoin, testnet, signet, regtest... (default bitcoin)")
    group.add_argument(
        "--rpc-file",
        default="lightning-rpc",
        metavar="PATH",
        help="the RPC socket: relative to the network directory, or absolute (default lightning-rpc)",
    )
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
    sim.add_argument(
        "--state",
        type=Path,
        metavar="FILE",
        help="keep payments, invoices and balances in this SQLite file (created if missing), so the node can be "
        "stopped and started again like lightningd: parts in flight resume (default: all in memory)",
    )
    sim.add_argument("--log-file", type=Path, metavar="FILE", help="append the log to FILE (default: stderr)")
    # Set by ``lnconsole --demo`` for its child node (lnconsole.sim.child): pipes to say it is ready, and to stop
    # when the console ends.
    sim.add_argument("--ready-fd", type=int, help=argparse.SUPPRESS)
    sim.add_argument("--lifeline-fd", type=int, help=argparse.SUPPRESS)
    sim.add_argument("--nice", type=int, default=0, help=argparse.SUPPRESS)
    add_sim_options(sim)
    add_headless_commands(commands)
    return parser


def _whole_number(minimum: int) -> Callable[[str], int]:
    """An argparse type for whole numbers of at least ``minimum``, with a message naming the problem."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{text!r} must be {minimum} or more")
        return value

    return parse


_positive_int = _whole_number(1)
_count = _whole_number(0)


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r} must be a positive number of seconds")
    return value


def _connection_options() -> argparse.ArgumentParser:
    """The options every headless command takes: where the node is (as lightning-cli finds it), and --json."""
    parent = argparse.ArgumentParser(add_help=False)
    group = parent.add_argument_group("connection (as lightning-cli)")
    group.add_argument("--lightning-dir", metavar="DIR", help="lightningd's directory (default ~/.lightning)")
    group.add_argument("--network", default="bitcoin", help="bitcoin, testnet, signet, regtest... (default bitcoin)")
    group.add_argument(
        "--rpc-file",
        default="lightning-rpc",
        metavar="PATH",
        help="the RPC socket: relative to the network directory, or absolute (default lightning-rpc)",
    )
    parent.add_argument("--json", action="store_true", help="machine-readable output: JSON on stdout")
    return parent


def _plan_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("invoice", metavar="BOLT11", help="the invoice (a lightning: prefix is fine)")
    parser.add_argument("--amount", metavar="X", help="amount for an invoice without one: 1000msat, 10sat, 0.0001btc")
    parser.add_argument(
        "--exclude",
        action="append",
        default=[],
        metavar="SCID/DIR|SCID|NODE_ID",
        help="a channel (one direction, or both) or node to avoid; repeat the option, or separate with commas",
    )
    parser.add_argument("--maxhops", type=_positive_int, metavar="N", help="at most N channels per route")
    parser.add_argument("--maxfee", metavar="X", help="the most to pay in fees, all parts together (e.g. 50sat)")
    parser.add_argument("--maxdelay", type=_positive_int, metavar="N", help="the most blocks funds may be locked")
    split = parser.add_mutually_exclusive_group()
    split.add_argument("--parts", type=_positive_int, metavar="N", help="split into N equal parts")
    split.add_argument("--split", metavar="A,B,...", help="split into parts of these amounts (they must add up)")
    split.add_argument(
        "--plan-liquidity", type=_positive_int, metavar="N", help="let getroutes split by liquidity into up to N parts"
    )


def add_headless_commands(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """``decode``, ``route``, ``pay`` and ``history``."""
    parent = _connection_options()
    common: dict[str, object] = {
        "parents": [parent],
        "epilog": EXIT_CODES_HELP,
        "formatter_class": argparse.RawDescriptionHelpFormatter,
    }
    decode = commands.add_parser(
        "decode",
        help="show a BOLT11 invoice's fields, checked against the node",
        description="Decode a BOLT11 invoice (here and on the node) and say whether this node can pay it.",
        **common,  # type: ignore[arg-type]
    )
    decode.add_argument("invoice", metavar="BOLT11", help="the invoice (a lightning: prefix is fine)")

    route = commands.add_parser(
        "route",
        help="show the route(s) the node would take to pay an invoice",
        description="Find routes for an invoice with the node's getroutes (or getroute); nothing is sent.",
        **common,  # type: ignore[arg-type]
    )
    _plan_options(route)

    pay = commands.add_parser(
        "pay",
        help="pay an invoice with sendpay, showing each part's progress",
        description=(
            "Plan the payment, show it, and send it after a typed 'yes' (or --yes); then follow every part "
            "until the payment completes or fails. An invoice the node already paid is not paid again."
        ),
        **common,  # type: ignore[arg-type]
    )
    _plan_options(pay)
    pay.add_argument(
        "--retry", type=_count, default=0, metavar="N", help="reroute failed parts automatically, N times at most"
    )
    pay.add_argument("-y", "--yes", action="store_true", help="send without asking")
    pay.add_argument(
        "--timeout",
        type=_seconds,
        metavar="S",
        help="stop watching after S seconds (parts in flight go on on the node); default: until settled",
    )

    history = commands.add_parser(
        "history",
        help="list the node's payments, newest first",
        description="The node's payment attempts (listsendpays grouped by payment_hash and groupid), newest first.",
        **common,  # type: ignore[arg-type]
    )
    history.add_argument("--status", choices=("pending", "complete", "failed"), help="only attempts in this state")
    history.add_argument("--limit", type=_positive_int, default=20, metavar="N", help="at most N attempts (default 20)")


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
    )
    if args.command == "sim":
        return run_sim(args)
    if args.command in HEADLESS_COMMANDS:
        return run_headless(args)
    if args.demo:
        return run_demo(args)
    return run_console(args)


def run_headless(args: argparse.Namespace) -> int:
    """One of the headless commands, printing to this process's stdout/stderr and asking on its stdin."""
    from . import headless

    terminal = headless.Terminal.system()
    connection = headless.Connection(args.lightning_dir, args.network, args.rpc_file)
    command = args.command

    def plan_options() -> headless.PlanOptions:
        return headless.PlanOptions(
            amount=args.amount,
            exclude=tuple(args.exclude),
            maxhops=args.maxhops,
            maxfee=args.maxfee,
            maxdelay=args.maxdelay,
            parts=args.parts,
            split=args.split,
            plan_liquidity=args.plan_liquidity,
        )

    def invoke() -> int:
        if command == "decode":
            return headless.decode(connection, args.invoice, as_json=args.json, terminal=terminal)
        if command == "route":
            return headless.route(connection, args.invoice, plan_options(), as_json=args.json, terminal=terminal)
        if command == "pay":
            return headless.pay(
                connection,
                args.invoice,
                plan_options(),
                headless.PayOptions(retry=args.retry, yes=args.yes, timeout=args.timeout),
                as_json=args.json,
                terminal=terminal,
            )
        return headless.history(connection, status=args.status, limit=args.limit, as_json=args.json, terminal=terminal)

    return headless.run(invoke, as_json=args.json, terminal=terminal)


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
    if args.nice:
        os.nice(args.nice)  # the demo's node: the console it serves keeps the CPU for drawing
    from .sim.runner import serve_forever
    from .sim.scenarios import build_scenario

    if args.log_file is not None:
        log_to_file(args.verbose, args.log_file)
    config = _sim_config(args, legacy=args.legacy, deprecated_apis=not args.no_deprecated_apis)
    config.state_path = args.state  # type: ignore[attr-defined]
    try:
        node = build_scenario(args.scenario, config, args.graph)  # type: ignore[arg-type]
    except (ValueError, OSError) as error:  # StateError is a ValueError: a bad state file gets its message
        print(f"lnconsole sim: {error}", file=sys.stderr)
        return 1
    socket_path: Path = args.socket

    def ready() -> None:
        kept = f"\nKeeping its {node.state.summary()}" if args.state is not None else ""
        print(
            f"Simulated lightningd ({args.scenario}, {len(node.network.nodes)} nodes, "
            f"{len(node.network.channels)} channels) listening on {socket_path}{kept}\n"
            f"Try: lightning-cli --rpc-file={socket_path} getinfo",
            flush=True,
        )
        if args.ready_fd is not None:
            from .sim.child import tell_ready

            tell_ready(args.ready_fd)

    try:
        serve_forever(node, socket_path, on_ready=ready, lifeline_fd=args.lifeline_fd)
    except OSError as error:  # a path too long for a unix socket, a missing directory, no permission...
        print(f"lnconsole sim: cannot listen on {socket_path}: {error.strerror or error}", file=sys.stderr)
        return 1
    return 0


def log_to_file(verbose: bool, path: Path | None = None) -> Path:
    """The console draws on the terminal, so its log goes to a file (by default in the user's state directory)."""
    if path is None:
        state = Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state") / "lnconsole"
        state.mkdir(parents=True, exist_ok=True)
        path = state / "lnconsole.log"
    for handler in logging.root.handlers[:]:
        logging.root.removeHandler(handler)
    logging.basicConfig(
        filename=path,
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
    )
    return path


def run_console(args: argparse.Namespace) -> int:
    """``lnconsole``: the console on the node found like lightning-cli finds it."""
    with start_up():
        from .app import make_app
        from .node import NodeError, connect

        log_to_file(args.verbose)
        try:
            node = connect(args.lightning_dir, args.network, args.rpc_file)
        except NodeError as error:
            print(f"lnconsole: {error.message}", file=sys.stderr)
            print(
                "Use --lightning-dir/--network/--rpc-file to say where lightningd is, or try lnconsole --demo.",
                file=sys.stderr,
            )
            return 1
        app = make_app(node)
    with start_up_objects_frozen():
        app.run()
    return 0


@contextlib.contextmanager
def start_up() -> Iterator[None]:
    """No garbage collection while the console imports and builds what it needs to start (issue 5).

    Importing Textual and the engine makes a few hundred thousand objects (modules, classes, functions) that live
    as long as the process and are not garbage: collecting while they are made walks them again and again for
    nothing (some 30 ms of a start-up of about 0.4 s). :func:`start_up_objects_frozen` then keeps them out of
    later collections."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@contextlib.contextmanager
def start_up_objects_frozen() -> Iterator[None]:
    """While the app runs, the objects made before it started are left out of garbage collection (``gc.freeze``).

    A full collection walks every object the process tracks; the start-up's make up most of them and never
    become garbage, so every full collection while the console runs (about one a minute while it waits) took
    60-120 ms, a frame's worth of pause at a random moment. Collection goes on as usual for what the app makes.
    The benchmarks run the app the same way."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def run_demo(args: argparse.Namespace) -> int:
    """``lnconsole --demo``: the console on an embedded simulated network, served by a child process.

    The child (:mod:`lnconsole.sim.child`) builds the demo network on the other core while this process imports
    Textual, and lives exactly as long as the console. The demo only ever talks to its own simulator (over its
    unix socket, through pyln-client, like a real node), never to a node found on the machine.
    """
    from .sim.child import ChildOptions, NodeProcess, NodeProcessFailed

    log_path = log_to_file(args.verbose)
    options = ChildOptions(
        seed=args.seed,
        hop_delay_ms=args.hop_delay_ms,
        mpp_timeout_s=args.mpp_timeout,
        log_file=log_path,
        verbose=args.verbose,
    )
    with tempfile.TemporaryDirectory(prefix="lnconsole-demo-") as directory:
        socket_path = Path(directory) / "lightning-rpc"
        with NodeProcess(socket_path, options) as node_process:
            with start_up():
                app = demo_app(socket_path)
            try:
                node_process.wait_ready()
            except NodeProcessFailed as error:
                print(f"lnconsole --demo: the simulated node did not start: {error}", file=sys.stderr)
                return 1
            with start_up_objects_frozen():
                app.run()
    return 0


def demo_app(
    socket_path: Path,
    *,
    clock: Callable[[], float] = time.time,
    monotonic: Callable[[], float] = time.monotonic,
    poll_status: bool = True,
) -> LnConsoleApp:
    """The demo's console on the simulator served at ``socket_path``, offering the demo's payees.

    ``--demo``, the screenshots script and the snapshot tests all build it here, so that what they show is
    what ``lnconsole --demo`` shows (they pin the clocks and turn the status poller off).
    """
    from .app import DemoInfo, make_app
    from .node import PylnNode
    from .sim.demo_stories import DEMO_PAYEES, DEMO_STORIES

    stories = {story.payee: f"{story.title}: {story.text}" for story in DEMO_STORIES}
    demo = DemoInfo(payees=dict(DEMO_PAYEES), stories=stories)
    return make_app(PylnNode(socket_path), demo=demo, clock=clock, monotonic=monotonic, poll_status=poll_status)


if __name__ == "__main__":
    sys.exit(main())
