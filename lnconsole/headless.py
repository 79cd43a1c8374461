"""The headless commands: ``lnconsole decode | route | pay | history``, the engine for scripts and SSH one-liners.

Each command is a function that takes its options and a :class:`Terminal` (where it prints, and where ``pay``
asks for consent), and returns the process exit code, so tests capture everything without a subprocess. The
commands use the same engine the screens will: :func:`lnconsole.invoice.load_invoice`, the planners of
:mod:`lnconsole.plan` over :class:`lnconsole.routing.RouteFinder`, and :class:`lnconsole.payment.PaymentSession`.

Rules a script can rely on:

- ``--json`` prints one JSON document on stdout (``pay``: one JSON object per line, events then a final
  ``{"event": "result", ...}``); human text and prompts then go to stderr.
- Exit codes: :data:`EXIT_OK` (done; for ``pay``: paid, now or before), :data:`EXIT_FAILED` (the node or the
  payment failed; the message carries CLN's error code), :data:`EXIT_BAD_INPUT` (nothing was asked of the
  node's money: the invoice, an amount or an option is wrong), :data:`EXIT_NOT_SENT` (no consent),
  :data:`EXIT_PENDING` (``--timeout`` passed with parts still in flight: they go on on the node).
- ``pay`` sends nothing without ``--yes`` or a typed ``yes`` on a terminal; it never sends twice what the node
  already has (see :func:`lnconsole.payment.preflight`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import enum
import json
import logging
import os
import re
import sys
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from .amounts import AmountError, fee_ppm, format_msat, format_sat, parse_amount
from .graph import Aliases
from .invoice import (
    Invoice,
    InvoiceError,
    PayableInvoice,
    decode_invoice,
    expiry_against_delay,
    load_invoice,
    span_text,
)
from .node import (
    INVALID_PARAMS,
    METHOD_NOT_FOUND,
    NodeClient,
    NodeError,
    NodeUnreachable,
    PylnNode,
    SendPayment,
    connect,
    rpc_socket_path,
)
from .payment import (
    AlreadyPaid,
    NodeReachable,
    NodeUnreachableEvent,
    PartAttached,
    PartComplete,
    PartEvent,
    PartFailed,
    PartPending,
    PartProblem,
    PartSent,
    PaymentComplete,
    PaymentError,
    PaymentEvent,
    PaymentFailed,
    PaymentSession,
    Pending,
    RetryPolicy,
    preflight,
)
from .plan import (
    MAX_PARTS,
    PaymentPlan,
    PaymentTarget,
    PlanError,
    custom_split,
    equal_split,
    liquidity_plan,
    single_routed,
)
from .routing import Route, RouteError, RouteFinder, RouteLimits, RouteNotFound, check_route, route_to_json

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_NOT_SENT = 3
EXIT_PENDING = 4
EXIT_INTERRUPTED = 130

BLOCK_SECONDS = 600
"""The average block interval, to turn a CLTV delay into the time funds may be locked."""

_NODE_ID = re.compile(r"^0[23][0-9a-f]{64}$")
_SCID = re.compile(r"^([0-9]+)x([0-9]+)x([0-9]+)$")
_SCID_DIR = re.compile(r"^([0-9]+x[0-9]+x[0-9]+)/([01])$")


_VISIBLE_CONTROLS = {
    code: repr(chr(code))[1:-1]
    for code in (*range(0x00, 0x20), *range(0x7F, 0xA0), 0x2028, 0x2029)
    if code not in (9, 10)
}
"""C0 and C1 control characters (and the Unicode line separators) -> their escaped form, e.g. ``\x1b``."""


class CommandError(Exception):
    """A command that cannot go on: ``message`` for the user, the process ``exit_code``, CLN's ``code`` if any."""

    def __init__(self, message: str, exit_code: int = EXIT_FAILED, code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code
        self.code = code


# ---------------------------------------------------------------------------------------------------------------
# Where output goes


class Terminal:
    """stdout, stderr and stdin of a command; thread-safe, because ``pay`` prints from the watcher threads.

    ``interactive`` says whether a person can answer a question: stdin is a TTY (``is_tty`` overrides it).
    """

    def __init__(self, out: TextIO, err: TextIO, stdin: TextIO | None = None, *, is_tty: bool | None = None) -> None:
        self.out = out
        self.err = err
        self.stdin = stdin
        self._is_tty = is_tty
        self._lock = threading.RLock()

    @classmethod
    def system(cls) -> Terminal:
        """The process's own streams (looked up now, so a test's captured ones are used)."""
        return cls(sys.stdout, sys.stderr, sys.stdin)

    @property
    def interactive(self) -> bool:
        if self._is_tty is not None:
            return self._is_tty
        try:
            return self.stdin is not None and bool(self.stdin.isatty())
        except (AttributeError, ValueError, OSError):
            return False

    def write(self, text: str = "", *, to_err: bool = False) -> None:
        """One line (or several); control characters other than newline and tab are shown escaped, because
        what is printed quotes invoices, aliases and node messages that others wrote (an escape sequence in an
        invoice's description must not reach the terminal)."""
        stream = self.err if to_err else self.out
        with self._lock:
            stream.write(text.translate(_VISIBLE_CONTROLS) + "\n")
            stream.flush()

    def json(self, document: Any) -> None:
        """One JSON document on one line of stdout."""
        self.write(json.dumps(document, separators=(",", ":")))

    def ask(self, prompt: str, *, to_err: bool = False) -> str | None:
        """The line a person types after ``prompt``; None when nobody can answer (no TTY, EOF, Ctrl-C)."""
        if not self.interactive or self.stdin is None:
            return None
        stream = self.err if to_err else self.out
        with self._lock:
            stream.write(prompt)
            stream.flush()
        try:
            line = self.stdin.readline()
        except (KeyboardInterrupt, EOFError, OSError, ValueError):
            self.write(to_err=to_err)
            return None
        if not line:
            self.write(to_err=to_err)
            return None
        return line.strip()


# ---------------------------------------------------------------------------------------------------------------
# Options


@dataclass(frozen=True)
class Connection:
    """How to find the node, as lightning-cli does (``--lightning-dir``, ``--network``, ``--rpc-file``)."""

    lightning_dir: str | None = None
    network: str = "bitcoin"
    rpc_file: str = "lightning-rpc"

    @property
    def socket_path(self) -> Path:
        return rpc_socket_path(self.lightning_dir, self.network, self.rpc_file)

    def connect(self) -> PylnNode:
        """A client for the node; NodeUnreachable (naming the path tried) if nothing answers there."""
        return connect(self.lightning_dir, self.network, self.rpc_file)


@dataclass(frozen=True)
class PlanOptions:
    """How ``route`` and ``pay`` plan: the amount for amountless invoices, exclusions, limits, the split.

    Text options (``amount``, ``maxfee``, ``split``, ``exclude``) are kept as typed and checked by the command,
    so a bad one gets a message that names it.
    """

    amount: str | None = None
    exclude: tuple[str, ...] = ()
    maxhops: int | None = None
    maxfee: str | None = None
    maxdelay: int | None = None
    parts: int | None = None
    split: str | None = None
    plan_liquidity: int | None = None


def parse_exclusions(items: Iterable[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """``--exclude`` values (``scid/dir``, ``scid`` or a node id; several per value with commas) as
    (node ids, channels). CommandError (bad input) names the first one that is none of these."""
    nodes: list[str] = []
    channels: list[str] = []
    for item in items:
        for piece in str(item).split(","):
            piece = piece.strip()
            if not piece:
                continue
            lowered = piece.lower()
            if _NODE_ID.match(lowered):
                nodes.append(lowered)
                continue
            match = _SCID_DIR.match(piece)
            scid = match.group(1) if match else piece
            parts = _SCID.match(scid)
            if parts is None:
                raise CommandError(
                    f"--exclude {piece!r} is neither a channel (103x1x0 or 103x1x0/1) nor a node id "
                    "(66 hex digits starting 02 or 03).",
                    EXIT_BAD_INPUT,
                )
            block, tx, output = (int(value) for value in parts.groups())
            if block >= 1 << 24 or tx >= 1 << 24 or output >= 1 << 16:
                raise CommandError(f"--exclude {piece!r} is not a valid short_channel_id.", EXIT_BAD_INPUT)
            channels.append(piece)
    return tuple(dict.fromkeys(nodes)), tuple(dict.fromkeys(channels))


def parse_split(text: str) -> tuple[int, ...]:
    """``--split 100000sat,50000sat,...``: each part's amount in msat (checked against the total later)."""
    pieces = [piece.strip() for piece in str(text).split(",")]
    if not any(pieces):
        raise CommandError("--split needs part amounts separated by commas, e.g. 100000sat,50000sat.", EXIT_BAD_INPUT)
    amounts: list[int] = []
    for number, piece in enumerate(pieces, start=1):
        if not piece:
            raise CommandError(f"--split: part {number} is empty (two commas in a row?).", EXIT_BAD_INPUT)
        try:
            amount = parse_amount(piece)
        except AmountError as error:
            raise CommandError(f"--split: part {number}: {error}", EXIT_BAD_INPUT) from error
        if amount == 0:
            raise CommandError(f"--split: part {number} must be more than 0.", EXIT_BAD_INPUT)
        amounts.append(amount)
    if len(amounts) > MAX_PARTS:
        raise CommandError(f"--split: {len(amounts)} parts is too many: at most {MAX_PARTS}.", EXIT_BAD_INPUT)
    return tuple(amounts)


def _parse_maxfee(text: str | None) -> int | None:
    if text is None:
        return None
    try:
        return parse_amount(text)
    except AmountError as error:
        raise CommandError(f"--maxfee: {error}", EXIT_BAD_INPUT) from error


# ---------------------------------------------------------------------------------------------------------------
# Formatting


def short_id(node_id: str | None, length: int = 12) -> str:
    if not node_id:
        return "?"
    return node_id[:length]


def node_name(alias: str, node_id: str | None) -> str:
    """``alias (id...)`` or just the start of the id."""
    return f"{alias} ({short_id(node_id)}...)" if alias else f"{short_id(node_id)}..."


def blocks_text(blocks: int) -> str:
    return f"{blocks} blocks (~{span_text(blocks * BLOCK_SECONDS)})"


def timestamp(seconds: int | None) -> str:
    if seconds is None:
        return "-"
    try:
        return datetime.fromtimestamp(int(seconds), UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    except (OverflowError, OSError, ValueError):
        return str(seconds)


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], right: Iterable[int] = ()) -> list[str]:
    """Rows under headers, columns padded to their widest cell; columns in ``right`` aligned right."""
    right = set(right)
    widths = [len(header) for header in headers]
    for row in rows:
        for index, cell in enumerate(row):
            widths[index] = max(widths[index], len(cell))

    def line(cells: Sequence[str]) -> str:
        padded = [
            cell.rjust(widths[index]) if index in right else cell.ljust(widths[index])
            for index, cell in enumerate(cells)
        ]
        return "  ".join(padded).rstrip()

    return [line(headers), *(line(row) for row in rows)]


def fields_block(pairs: Sequence[tuple[str, str]], indent: str = "") -> list[str]:
    """``name  value`` lines with the values aligned; continuation lines of a value are indented to match."""
    width = max((len(name) for name, _ in pairs), default=0)
    lines: list[str] = []
    for name, value in pairs:
        first, *rest = value.split("\n") if value else [""]
        lines.append(f"{indent}{name.ljust(width)}  {first}".rstrip())
        lines.extend(f"{indent}{' ' * width}  {more}" for more in rest)
    return lines


def route_table(route: Route) -> list[str]:
    """A route hop by hop: what arrives at each node, what it charges to forward, its CLTV delta and delay."""
    rows = []
    last = len(route.hops) - 1
    for index, hop in enumerate(route.hops):
        rows.append(
            [
                str(index + 1),
                hop.alias or "-",
                short_id(hop.node_id),
                hop.short_channel_id_dir,
                format_sat(hop.amount_msat),
                format_sat(hop.fee_msat) if index < last else "-",
                str(hop.cltv_delta) if index < last else "-",
                str(hop.delay),
            ]
        )
    return table(
        ["hop", "node", "node id", "channel", "amount", "fee charged", "cltv delta", "delay"],
        rows,
        right={0, 4, 5, 6, 7},
    )


def route_totals(route: Route) -> str:
    return (
        f"sent {format_sat(route.amount_sent_msat)}, fee {route.fee_msat} msat "
        f"({fee_ppm(route.fee_msat, route.amount_msat)} ppm), delay {blocks_text(route.total_delay)}"
    )


def route_hops_json(route: Route) -> list[dict[str, Any]]:
    """Each hop with what sendpay takes and what the console knows besides (alias, fee and delta charged)."""
    return [
        {
            "id": hop.node_id,
            "alias": hop.alias,
            "channel": hop.short_channel_id,
            "direction": hop.direction,
            "short_channel_id_dir": hop.short_channel_id_dir,
            "amount_msat": hop.amount_msat,
            "delay": hop.delay,
            "fee_msat": hop.fee_msat,
            "cltv_delta": hop.cltv_delta,
        }
        for hop in route.hops
    ]


def plan_json(plan: PaymentPlan, method: str) -> dict[str, Any]:
    return {
        "finder": method,
        "payment_hash": plan.target.payment_hash,
        "destination": plan.target.destination,
        "amount_msat": plan.amount_msat,
        "amount_sent_msat": plan.amount_sent_msat,
        "fee_msat": plan.fee_msat,
        "fee_ppm": plan.fee_ppm,
        "total_delay": plan.total_delay,
        "parts": [
            {
                "partid": part.partid,
                "amount_msat": part.amount_msat,
                "amount_sent_msat": part.amount_sent_msat,
                "fee_msat": part.fee_msat,
                "total_delay": part.total_delay,
                "route": json.loads(route_to_json(part.route)),
                "hops": route_hops_json(part.route),
            }
            for part in plan.parts
        ],
    }


def plan_lines(plan: PaymentPlan) -> list[str]:
    """Every part's route table and totals, then the plan's totals."""
    lines: list[str] = []
    count = plan.part_count
    for part in plan.parts:
        lines.append(f"Part {part.partid} of {count}: {format_sat(part.amount_msat)}" if count > 1 else "Route:")
        lines.extend(f"  {row}" for row in route_table(part.route))
        lines.append(f"  {route_totals(part.route)}")
        lines.append("")
    if count > 1:
        lines.append(
            f"Total: {format_sat(plan.amount_msat)} in {count} parts, sent {format_sat(plan.amount_sent_msat)}, "
            f"fee {plan.fee_msat} msat ({plan.fee_ppm} ppm), worst-case delay {blocks_text(plan.total_delay)}"
        )
    return lines


def _jsonable(value: Any) -> Any:
    """Events, failures and explanations as JSON: dataclasses by field, routes hop by hop, enums by value."""
    if isinstance(value, Route):
        return route_hops_json(value)
    if isinstance(value, enum.Enum):
        return value.value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


_EVENT_NAMES = {NodeUnreachableEvent: "node_unreachable"}


def event_name(event: PaymentEvent) -> str:
    """``PartSent`` -> ``part_sent``."""
    kind = type(event)
    return _EVENT_NAMES.get(kind) or re.sub(r"(?<!^)(?=[A-Z])", "_", kind.__name__).lower()


def event_to_json(event: PaymentEvent) -> dict[str, Any]:
    """One event as a JSON object: ``event`` (its name), then every field; explanations add ``summary``."""
    data: dict[str, Any] = {"event": event_name(event)}
    data.update(_jsonable(event))
    data["elapsed"] = round(event.elapsed, 3)
    explanation = getattr(event, "explanation", None)
    summary = getattr(explanation, "summary", None)
    if isinstance(data.get("explanation"), dict) and isinstance(summary, str):
        data["explanation"]["summary"] = summary
    return data


def _failure_lines(event: PartFailed) -> tuple[str, list[str]]:
    """(headline, detail lines) for a failed part: the failcode, the erring hop and channel, what it means and
    the next step."""
    explanation = event.explanation
    failure = event.failure
    if failure is None or explanation is None:
        return event.message, []
    name = getattr(explanation, "failcodename", None) or failure.failcodename or "failure"
    where: list[str] = []
    hop_index = getattr(explanation, "erring_hop", None)
    if hop_index is None and failure.erring_index is not None:
        where.append(f"erring_index {failure.erring_index}")
    elif hop_index is not None:
        where.append(f"hop {hop_index + 1}")
    alias = getattr(explanation, "erring_alias", "") or ""
    node = getattr(explanation, "erring_node", None) or failure.erring_node
    channel = getattr(explanation, "erring_channel_dir", None)
    if channel is None and failure.erring_channel is not None:
        channel = f"{failure.erring_channel}/{failure.erring_direction}"
    who = alias or (f"{short_id(node)}..." if node else "")
    detail = ", ".join(item for item in (who, f"channel {channel}" if channel else "") if item)
    headline = name + (f" at {where[0]}" if where else "") + (f" ({detail})" if detail else "")
    lines: list[str] = []
    meaning = getattr(explanation, "explanation", None)
    if isinstance(meaning, str) and meaning:
        lines.append(meaning)
    advice = getattr(explanation, "advice", None)
    if isinstance(advice, str) and advice:
        lines.append(f"Next: {advice}")
    elif event.message and event.message not in lines:
        lines.append(event.message)
    return headline, lines


class EventPrinter:
    """Prints a payment's events as they come, one line per part event (``--json``: one JSON object per line).

    Delivered from the watcher threads; :meth:`wait_delivered` lets the command print its final line after the
    outcome's own event.
    """

    def __init__(self, terminal: Terminal, *, as_json: bool) -> None:
        self.terminal = terminal
        self.as_json = as_json
        self.events: list[PaymentEvent] = []
        self._first_group: int | None = None
        self._changed = threading.Condition()

    def __call__(self, event: PaymentEvent) -> None:
        try:
            if self.as_json:
                self.terminal.json(event_to_json(event))
            else:
                for line in self.lines(event):
                    self.terminal.write(line)
        finally:
            with self._changed:
                self.events.append(event)
                self._changed.notify_all()

    def wait_delivered(self, event: PaymentEvent, timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        with self._changed:
            while not any(seen is event for seen in self.events):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return
                self._changed.wait(remaining)

    def _label(self, event: PartEvent) -> str:
        if self._first_group is None:
            self._first_group = event.groupid
        if event.groupid != self._first_group:
            return f"part {event.partid} (group {event.groupid})"
        return f"part {event.partid}"

    def lines(self, event: PaymentEvent) -> list[str]:
        if isinstance(event, PaymentComplete):
            return self._complete_lines(event)
        if not isinstance(event, PartEvent):  # PaymentFailed: the command's final message says it, on stderr
            return []
        label = self._label(event)
        if isinstance(event, PartSent):
            path = " -> ".join(hop.name for hop in event.route.hops) if event.route else "?"
            fee = event.amount_sent_msat - event.amount_msat
            retry = f", retry of part {event.retry_of[1]}" if event.retry_of else ""
            return [f"{label}  sent      {format_sat(event.amount_msat)} via {path} (fee {format_sat(fee)}{retry})"]
        if isinstance(event, PartAttached):
            state = "in flight" if event.status == "pending" else event.status
            return [f"{label}  found     {format_sat(event.amount_msat)} already {state} on the node: watching it"]
        if isinstance(event, PartPending):
            return [f"{label}  pending   {event.elapsed:.0f}s"]
        if isinstance(event, PartComplete):
            check = "" if event.preimage_verified else "  (does NOT hash to the payment_hash)"
            return [f"{label}  complete  preimage {event.preimage} after {event.elapsed:.1f}s{check}"]
        if isinstance(event, PartFailed):
            headline, details = _failure_lines(event)
            indent = " " * (len(label) + 12)
            return [f"{label}  failed    {headline}", *(f"{indent}{line}" for line in details)]
        if isinstance(event, NodeUnreachableEvent):
            return [f"{label}  waiting   {event.message} (asking again in {event.retry_in:.1f}s)"]
        if isinstance(event, NodeReachable):
            return [f"{label}  reachable the node answers again after {event.down_for:.1f}s"]
        if isinstance(event, PartProblem):
            code = f" (code {event.code})" if event.code is not None else ""
            return [f"{label}  problem   {event.message}{code}"]
        return []

    def _complete_lines(self, event: PaymentComplete) -> list[str]:
        parts = f"{event.parts} part" + ("s" if event.parts != 1 else "")
        if event.already_paid:
            head = f"already paid: {format_sat(event.amount_msat)} in {parts}; nothing was sent"
        else:
            head = (
                f"paid {format_sat(event.amount_msat)}: fee {format_sat(event.fee_msat)} "
                f"({fee_ppm(event.fee_msat, event.amount_msat)} ppm), {parts}, {event.elapsed:.1f}s"
            )
        return [head, f"preimage {event.preimage}"]


# ---------------------------------------------------------------------------------------------------------------
# Errors to messages


def node_failure(error: NodeError) -> CommandError:
    """A NodeError as the command's message: the socket path for an unreachable node, else the method, the
    node's words and its code."""
    if isinstance(error, NodeUnreachable):
        return CommandError(error.message, EXIT_FAILED)
    code = f" (code {error.code})" if error.code is not None else ""
    return CommandError(f"{error.method} failed: {error.message}{code}", EXIT_FAILED, error.code)


def _causes(error: BaseException) -> list[BaseException]:
    chain: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__
    return chain


def plan_failure(error: PlanError, method: str) -> CommandError:
    """A planner's refusal: no route (exit 1, with the finder's error code) or a plan that makes no sense
    (bad input: exit 2)."""
    for cause in _causes(error)[1:]:
        if isinstance(cause, NodeUnreachable):
            return CommandError(cause.message, EXIT_FAILED)
        if isinstance(cause, RouteNotFound | NodeError):
            code = getattr(cause, "code", None)
            suffix = f" (code {code})" if code is not None else ""
            return CommandError(f"{method} failed: {error}{suffix}", EXIT_FAILED, code)
    return CommandError(str(error), EXIT_BAD_INPUT)


# ---------------------------------------------------------------------------------------------------------------
# Shared steps


def _load(node: NodeClient, text: str, amount: str | None) -> PayableInvoice:
    try:
        return load_invoice(node, text, amount)
    except InvoiceError as error:
        raise CommandError(f"invoice refused: {error.reason}", EXIT_BAD_INPUT) from error


class CommandFinder:
    """The route finder as a command uses it: every query gets the invoice's route hints and ``--maxhops``.

    ``getroutes`` has no maxhops: a longer route is refused after the search (getroute applies it itself).
    """

    def __init__(self, node: NodeClient, our_id: str, *, maxhops: int | None, route_hints: Sequence[Any]) -> None:
        self.inner = RouteFinder(node, our_id, layer=f"lnconsole-cli-{os.getpid()}")
        self.node = node
        self.maxhops = maxhops
        self.route_hints = tuple(route_hints)
        self._excluded = False

    @property
    def policies(self) -> Any:
        return self.inner.policies

    @property
    def method(self) -> str:
        """The finder the node has, for messages (known after the first query; asked once before)."""
        try:
            return "getroutes" if self.inner.uses_getroutes else "getroute"
        except NodeError:
            return "getroutes"

    def find(self, destination: str, amount_msat: int, **options: Any) -> list[Route]:
        options.setdefault("route_hints", self.route_hints)
        if self.maxhops is not None:
            options.setdefault("maxhops", self.maxhops)
        if options.get("exclude_nodes") or options.get("exclude_channels"):
            self._excluded = True  # getroutes keeps exclusions in our askrene layer
        routes = self.inner.find(destination, amount_msat, **options)
        if self.maxhops is not None and routes:
            longest = max(len(route.hops) for route in routes)
            if longest > self.maxhops:
                raise RouteNotFound(f"The best route found has {longest} hops, more than --maxhops {self.maxhops}.")
        return routes

    def cleanup(self) -> None:
        """Remove the command's askrene layer if a query may have made it (layers live until lightningd
        restarts, and the name is this process's own)."""
        if not self._excluded:
            return
        with contextlib.suppress(NodeError):
            self.node.remove_layer(self.inner.layer)


def _build_plan(finder: CommandFinder, target: PaymentTarget, options: PlanOptions, payee: str) -> PaymentPlan:
    """The plan the options ask for: ``--split``, ``--plan-liquidity``, ``--parts`` or one routed part."""
    nodes, channels = parse_exclusions(options.exclude)
    if payee in nodes:
        raise CommandError("--exclude names the payee itself: there would be no route to it.", EXIT_BAD_INPUT)
    limits: dict[str, Any] = {
        "maxfee_msat": _parse_maxfee(options.maxfee),
        "maxdelay": options.maxdelay,
        "exclude_nodes": nodes,
        "exclude_channels": channels,
    }
    chosen = [
        name
        for name, value in (
            ("--parts", options.parts),
            ("--split", options.split),
            ("--plan-liquidity", options.plan_liquidity),
        )
        if value is not None
    ]
    if len(chosen) > 1:
        raise CommandError(f"choose one of {' and '.join(chosen)}.", EXIT_BAD_INPUT)
    amounts = parse_split(options.split) if options.split is not None else None
    try:
        if amounts is not None:
            return custom_split(target, amounts, finder, **limits)
        if options.plan_liquidity is not None:
            return liquidity_plan(target, finder, options.plan_liquidity, **limits)
        if options.parts is not None and options.parts != 1:
            return equal_split(target, options.parts, finder, **limits)
        return single_routed(target, finder, **limits)
    except PlanError as error:
        raise plan_failure(error, finder.method) from error


def _refusal(payable: PayableInvoice, *, for_decode: bool = False) -> list[str]:
    """The reasons not to pay; for ``decode``, an amountless invoice is fine (the amount comes when paying)."""
    problems = list(payable.problems)
    if for_decode and payable.invoice.amount_msat is None:
        problems = [problem for problem in problems if not problem.startswith("the invoice has no amount")]
    return problems


# ---------------------------------------------------------------------------------------------------------------
# decode


def invoice_lines(
    invoice: Invoice, alias: str, now: int, aliases: Callable[[str], str] = lambda node_id: ""
) -> list[str]:
    """Every field of the invoice a payer cares about, aligned (``aliases`` names the route hints' nodes)."""
    amount = (
        f"{format_sat(invoice.amount_msat)} ({invoice.amount_msat} msat)"
        if invoice.amount_msat is not None
        else "any (the payer chooses: give --amount when paying)"
    )
    left = invoice.time_left(now)
    expiry = (
        f"{timestamp(invoice.expires_at)}, "
        + (f"expired {span_text(left)} ago" if invoice.is_expired(now) else f"in {span_text(left)}")
        + f" ({invoice.expiry} s after creation)"
    )
    pairs: list[tuple[str, str]] = [
        ("payee", f"{alias or '(no alias)'} {invoice.payee}"),
        ("network", invoice.network),
        ("amount", amount),
    ]
    if invoice.description is not None:
        pairs.append(("description", invoice.description or "(empty)"))
    if invoice.description_hash is not None:
        pairs.append(("description_hash", invoice.description_hash))
    pairs += [
        ("created", timestamp(invoice.created_at)),
        ("expiry", expiry),
        ("min_final_cltv", f"{invoice.min_final_cltv_expiry} blocks"),
        ("payment_hash", invoice.payment_hash),
        ("payment_secret", invoice.payment_secret or "(none)"),
    ]
    features = ", ".join(
        f"{feature.name} ({'required' if feature.required else 'optional'})" for feature in invoice.features
    )
    hex_text = f" [{invoice.features_hex}]" if invoice.features_hex else ""
    pairs.append(("features", f"{features or '(none)'}{hex_text}"))
    if invoice.route_hints:
        hints = []
        for number, hint in enumerate(invoice.route_hints, start=1):
            hops = " -> ".join(
                f"{node_name(aliases(hop.node_id), hop.node_id)} over {hop.short_channel_id} "
                f"(fee {hop.fee_base_msat} msat + {hop.fee_proportional_millionths} ppm, cltv delta "
                f"{hop.cltv_expiry_delta})"
                for hop in hint
            )
            hints.append(f"{number}: {hops}")
        pairs.append(("route hints", "\n".join(hints)))
    else:
        pairs.append(("route hints", "(none)"))
    if invoice.fallbacks:
        pairs.append(
            (
                "fallbacks",
                "\n".join(
                    fallback.address or f"(version {fallback.version}) {fallback.program}"
                    for fallback in invoice.fallbacks
                ),
            )
        )
    if invoice.payment_metadata:
        pairs.append(("payment_metadata", invoice.payment_metadata))
    return fields_block(pairs)


def invoice_json(invoice: Invoice, alias: str, now: int) -> dict[str, Any]:
    data = _jsonable(invoice)
    data["payee_alias"] = alias
    data["expires_at"] = invoice.expires_at
    data["seconds_left"] = invoice.time_left(now)
    data["expired"] = invoice.is_expired(now)
    return data


def decode(connection: Connection, text: str, *, as_json: bool, terminal: Terminal) -> int:
    """``lnconsole decode BOLT11``: the invoice's fields, checked here and by the node; exit 2 if it cannot be
    paid from this node (garbage, wrong network, expired...)."""
    node = connection.connect()
    payable = _load(node, text, None)
    invoice = payable.invoice
    now = payable.checked_at
    alias = _alias(node, invoice.payee)
    problems = _refusal(payable, for_decode=True)
    if as_json:
        terminal.json(
            {
                "invoice": invoice_json(invoice, alias, now),
                "payable": not problems,
                "problems": problems,
                "warnings": list(payable.warnings),
                "decoded_by": payable.decoded_by,
            }
        )
    else:
        names = Aliases(node)
        for line in invoice_lines(invoice, alias, now, names.alias):
            terminal.write(line)
        for warning in payable.warnings:
            terminal.write(f"warning: {warning}")
    if problems:
        for problem in problems:
            terminal.write(f"lnconsole: cannot be paid: {problem}", to_err=True)
        return EXIT_BAD_INPUT
    return EXIT_OK


def _alias(node: NodeClient, node_id: str) -> str:
    try:
        found = node.listnodes(node_id)
    except NodeUnreachable:
        raise
    except NodeError:
        return ""
    return found[0].alias if found else ""


# ---------------------------------------------------------------------------------------------------------------
# route


def _target(payable: PayableInvoice) -> PaymentTarget:
    try:
        return PaymentTarget.from_invoice(payable)
    except PlanError as error:
        raise CommandError(str(error), EXIT_BAD_INPUT) from error


def route(connection: Connection, text: str, options: PlanOptions, *, as_json: bool, terminal: Terminal) -> int:
    """``lnconsole route BOLT11``: the route(s) the node's finder picks for the invoice, hop by hop, and the
    totals against the limits. Nothing is sent."""
    node = connection.connect()
    payable = _load(node, text, options.amount)
    problems = _refusal(payable)
    if problems:
        raise CommandError("invoice refused: " + " ".join(problems), EXIT_BAD_INPUT)
    target = _target(payable)
    finder = CommandFinder(node, payable.node_id, maxhops=options.maxhops, route_hints=payable.invoice.route_hints)
    try:
        plan = _build_plan(finder, target, options, payable.invoice.payee)
        checks = _route_checks(finder, plan, options)
    finally:
        finder.cleanup()
    late, early = expiry_against_delay(payable.invoice, plan.total_delay, int(time.time()))
    checks += list(late)
    warnings = [*payable.warnings, *early]
    if as_json:
        document = plan_json(plan, finder.method)
        document["problems"] = checks
        document["warnings"] = warnings
        terminal.json(document)
        return EXIT_OK
    alias = finder.policies.alias(payable.invoice.payee)
    terminal.write(f"To {alias or '(no alias)'} {payable.invoice.payee}: {format_sat(plan.amount_msat)}")
    terminal.write()
    for line in plan_lines(plan):
        terminal.write(line)
    for warning in warnings:
        terminal.write(f"warning: {warning}")
    for problem in checks:
        terminal.write(f"problem: {problem}")
    return EXIT_OK


def _route_checks(finder: CommandFinder, plan: PaymentPlan, options: PlanOptions) -> list[str]:
    """Each part's route checked against the channels' policies and the per-route delay limit."""
    problems: list[str] = []
    limits = RouteLimits(maxdelay=options.maxdelay)
    for part in plan.parts:
        checked = check_route(
            part.route,
            finder.policies,
            our_id=finder.inner.our_id,
            limits=limits,
            payee=plan.target.destination,
            amount_msat=part.amount_msat,
            final_cltv=plan.target.min_final_cltv_expiry,
        )
        prefix = f"part {part.partid}: " if plan.part_count > 1 else ""
        problems.extend(prefix + message for message in checked.messages)
    maxfee = _parse_maxfee(options.maxfee)
    if maxfee is not None and plan.fee_msat > maxfee:
        problems.append(f"the total fee {format_msat(plan.fee_msat)} is above --maxfee {format_msat(maxfee)}")
    return problems


# ---------------------------------------------------------------------------------------------------------------
# pay


@dataclass(frozen=True)
class PayOptions:
    """What ``pay`` adds to planning: automatic retries, consent, and how long to watch."""

    retry: int = 0
    yes: bool = False
    timeout: float | None = None


def pay(
    connection: Connection,
    text: str,
    options: PlanOptions,
    pay_options: PayOptions,
    *,
    as_json: bool,
    terminal: Terminal,
) -> int:
    """``lnconsole pay BOLT11``: plan, show, ask, send, and print every part's progress until the payment settles.

    Before anything else the node is asked what it has for the payment_hash: an already paid invoice is
    reported and nothing is sent; parts in flight are watched instead of sent again.
    """
    node = connection.connect()
    payable = _load(node, text, options.amount)
    invoice = payable.invoice
    printer = EventPrinter(terminal, as_json=as_json)
    retry_policy = None
    if pay_options.retry:
        try:
            retry_policy = RetryPolicy(
                max_attempts=pay_options.retry,
                max_fee_msat=_parse_maxfee(options.maxfee),
                max_delay=options.maxdelay,
            )
        except PaymentError as error:
            raise CommandError(f"--retry: {error.message}", EXIT_BAD_INPUT) from error
    finder = CommandFinder(node, payable.node_id, maxhops=options.maxhops, route_hints=invoice.route_hints)
    settings: dict[str, Any] = {"pending_interval_s": 2.0}
    try:
        found = preflight(node, invoice.payment_hash)
    except NodeError as error:
        raise node_failure(error) from error

    try:
        if isinstance(found, AlreadyPaid):
            return _report_already_paid(found, payable, as_json=as_json, terminal=terminal)
        if isinstance(found, Pending):
            # Watching needs no consent; a retry sends money, so only with --yes.
            if retry_policy is not None and not pay_options.yes:
                _say(terminal, as_json, "--retry needs --yes here: failed parts will not be retried.")
                retry_policy = None
            target = _pending_target(payable, found)
            session = PaymentSession(
                node, target, on_event=printer, finder=finder, retry_policy=retry_policy, **settings
            )
            _say(
                terminal,
                as_json,
                f"{len(found.pending_parts)} part(s) of this payment are in flight on the node "
                f"(group {found.groupid}): watching them, sending nothing new.",
            )
            session.attach(found)
            return _follow(session, printer, pay_options, as_json=as_json, terminal=terminal)

        problems = _refusal(payable)
        if problems:
            raise CommandError("not sent: " + " ".join(problems), EXIT_BAD_INPUT)
        target = _target(payable)
        plan = _build_plan(finder, target, options, invoice.payee)
        alias = finder.policies.alias(invoice.payee)
        _, late_warnings = expiry_against_delay(invoice, plan.total_delay, int(time.time()))
        if pay_options.yes:
            for warning in late_warnings:
                _say(terminal, as_json, f"warning: {warning}")
        elif not _confirm(plan, payable, alias, as_json=as_json, terminal=terminal, warnings=late_warnings):
            if as_json:
                terminal.json(_result("not_sent", target.payment_hash, reason="not confirmed"))
            terminal.write("lnconsole: not sent: the payment was not confirmed (type yes, or pass --yes).", to_err=True)
            return EXIT_NOT_SENT
        # The confirmation may have taken minutes: an invoice that expired meanwhile is not paid.
        expired, _ = expiry_against_delay(invoice, plan.total_delay, int(time.time()))
        if expired:
            raise CommandError("not sent: " + " ".join(expired), EXIT_BAD_INPUT)
        session = PaymentSession(node, target, on_event=printer, finder=finder, retry_policy=retry_policy, **settings)
        try:
            launched = session.launch(plan)
        except PaymentError as error:
            raise CommandError(f"not sent: {error.message}", EXIT_FAILED) from error
        except NodeError as error:
            raise node_failure(error) from error
        if launched.outcome == "attached":
            _say(terminal, as_json, "Parts of this payment appeared on the node meanwhile: watching them instead.")
        return _follow(session, printer, pay_options, as_json=as_json, terminal=terminal)
    finally:
        finder.cleanup()


def _say(terminal: Terminal, as_json: bool, text: str) -> None:
    terminal.write(text, to_err=as_json)


def _pending_target(payable: PayableInvoice, found: Pending) -> PaymentTarget:
    """What the parts in flight pay, from the invoice (even an expired one: nothing new is sent)."""
    invoice = payable.invoice
    amount = (
        payable.amount_msat or invoice.amount_msat or max((part.amount_msat or 0 for part in found.parts), default=0)
    )
    try:
        return PaymentTarget(
            payment_hash=invoice.payment_hash,
            payment_secret=invoice.payment_secret,
            destination=invoice.payee,
            amount_msat=amount,
            min_final_cltv_expiry=invoice.min_final_cltv_expiry,
            bolt11=invoice.bolt11,
            supports_mpp=invoice.supports_mpp,
        )
    except PlanError as error:
        raise CommandError(f"cannot follow the parts in flight: {error}", EXIT_FAILED) from error


def _report_already_paid(found: AlreadyPaid, payable: PayableInvoice, *, as_json: bool, terminal: Terminal) -> int:
    amount = found.amount_msat or payable.amount_msat or 0
    if as_json:
        terminal.json(
            _result(
                "already_paid",
                found.payment_hash,
                groupid=found.groupid,
                preimage=found.preimage,
                amount_msat=amount,
                amount_sent_msat=found.amount_sent_msat,
                fee_msat=found.amount_sent_msat - amount,
                parts=len(found.parts),
                reason="already paid: nothing was sent",
            )
        )
    else:
        terminal.write(
            f"already paid: {format_sat(amount)} in {len(found.parts)} part(s) (group {found.groupid}); "
            "nothing was sent"
        )
        terminal.write(f"preimage {found.preimage}")
    return EXIT_OK


def _confirm(
    plan: PaymentPlan,
    payable: PayableInvoice,
    alias: str,
    *,
    as_json: bool,
    terminal: Terminal,
    warnings: Sequence[str] = (),
) -> bool:
    """Show what would be sent and take a typed ``yes``; anything else (or no terminal) is a no.

    Exactly ``yes``, in lower case (spaces around it don't count): ``y``, ``YES`` or ``yes please`` are not the
    answer the prompt asked for, and money is not sent on a guess."""
    target = plan.target
    lines = [
        *fields_block(
            [
                ("destination", f"{alias or '(no alias)'} {target.destination}"),
                ("amount", format_sat(plan.amount_msat)),
                ("fees", f"{format_sat(plan.fee_msat)} ({plan.fee_ppm} ppm)"),
                ("total sent", format_sat(plan.amount_sent_msat)),
                ("worst delay", blocks_text(plan.total_delay)),
                ("parts", str(plan.part_count)),
            ]
        ),
        "",
        *plan_lines(plan),
    ]
    lines.extend(f"warning: {warning}" for warning in (*payable.warnings, *warnings))
    for line in lines:
        terminal.write(line, to_err=as_json)
    if not terminal.interactive:
        terminal.write("lnconsole: no terminal to confirm on (stdin is not a TTY).", to_err=True)
        return False
    answer = terminal.ask("Type yes to send this payment: ", to_err=as_json)
    return answer == "yes"


def _result(status: str, payment_hash: str, **fields: Any) -> dict[str, Any]:
    return {"event": "result", "status": status, "payment_hash": payment_hash, **fields}


def _follow(
    session: PaymentSession, printer: EventPrinter, pay_options: PayOptions, *, as_json: bool, terminal: Terminal
) -> int:
    """Wait for the outcome (up to ``--timeout``), print the final result, and say what the exit code means."""
    deadline = None if pay_options.timeout is None else time.monotonic() + pay_options.timeout
    outcome: PaymentComplete | PaymentFailed | None = None
    try:
        while outcome is None:
            step = 1.0 if deadline is None else min(1.0, deadline - time.monotonic())
            if step <= 0:
                break
            outcome = session.wait(step)
    except KeyboardInterrupt:
        session.stop()
        terminal.write(
            "lnconsole: stopped watching; parts in flight go on on the node (run the same command to follow them).",
            to_err=True,
        )
        if as_json:
            terminal.json(_result("interrupted", session.target.payment_hash, groupid=session.groupid))
        return EXIT_INTERRUPTED
    if outcome is not None:
        printer.wait_delivered(outcome)
    session.stop(join=True)
    payment_hash = session.target.payment_hash
    if isinstance(outcome, PaymentComplete):
        if as_json:
            terminal.json(
                _result(
                    "already_paid" if outcome.already_paid else "complete",
                    payment_hash,
                    groupid=outcome.groupid,
                    preimage=outcome.preimage,
                    amount_msat=outcome.amount_msat,
                    amount_sent_msat=outcome.amount_sent_msat,
                    fee_msat=outcome.fee_msat,
                    fee_ppm=fee_ppm(outcome.fee_msat, outcome.amount_msat),
                    parts=outcome.parts,
                    elapsed=round(outcome.elapsed, 3),
                )
            )
        return EXIT_OK
    if isinstance(outcome, PaymentFailed):
        if as_json:
            terminal.json(
                _result(
                    "failed",
                    payment_hash,
                    groupid=outcome.groupid,
                    reason=outcome.reason,
                    final=outcome.final,
                    retryable_parts=[list(key) for key in outcome.retryable_parts],
                    elapsed=round(outcome.elapsed, 3),
                )
            )
        hint = "" if outcome.final else " Run the command again (or with --retry N) to try again."
        terminal.write(f"lnconsole: payment failed: {outcome.reason}{hint}", to_err=True)
        return EXIT_FAILED
    in_flight = [part for part in session.parts() if part.status in ("sending", "pending", "unknown")]
    message = (
        f"still pending after {pay_options.timeout:g} s: {len(in_flight)} part(s) in flight go on on the node; "
        "run the same command again to follow them."
    )
    if as_json:
        terminal.json(
            _result("pending", payment_hash, groupid=session.groupid, in_flight=len(in_flight), reason=message)
        )
    terminal.write(f"lnconsole: {message}", to_err=True)
    return EXIT_PENDING


# ---------------------------------------------------------------------------------------------------------------
# history


@dataclass(frozen=True)
class HistoryEntry:
    """One payment attempt: the parts of one (payment_hash, groupid), as ``listpays`` groups them."""

    payment_hash: str
    groupid: int
    status: str
    """``complete`` if a part completed, else ``pending`` if one is in flight, else ``failed``."""
    destination: str | None
    alias: str
    amount_msat: int | None
    """Delivered (complete) or in flight (pending); for a failed attempt, the invoice's amount if known."""
    amount_sent_msat: int
    """What left our node for the parts that completed or are in flight (0 for a failed attempt)."""
    created_at: int
    completed_at: int | None
    preimage: str | None
    label: str | None
    bolt11: str | None
    parts: tuple[SendPayment, ...]
    newest_index: int
    """The largest created_index among its parts: history is newest first by it."""

    @property
    def fee_msat(self) -> int | None:
        if self.status == "failed" or self.amount_msat is None:
            return None
        return self.amount_sent_msat - self.amount_msat

    def to_json(self) -> dict[str, Any]:
        return {
            "payment_hash": self.payment_hash,
            "groupid": self.groupid,
            "status": self.status,
            "destination": self.destination,
            "alias": self.alias,
            "amount_msat": self.amount_msat,
            "amount_sent_msat": self.amount_sent_msat,
            "fee_msat": self.fee_msat,
            "created_at": self.created_at,
            "completed_at": self.completed_at,
            "preimage": self.preimage,
            "label": self.label,
            "bolt11": self.bolt11,
            "number_of_parts": len(self.parts),
            "parts": [
                {
                    "partid": part.partid,
                    "status": part.status,
                    "amount_msat": part.amount_msat,
                    "amount_sent_msat": part.amount_sent_msat,
                    "created_index": part.created_index,
                }
                for part in self.parts
            ],
        }


@dataclass(frozen=True)
class HistoryPage:
    """The newest payments, and what reading them cost (``calls`` to listsendpays; ``paged`` False when the
    node could not page and everything was read)."""

    entries: tuple[HistoryEntry, ...]
    calls: int
    paged: bool = True


class _PagedSendpays:
    """``listsendpays index=created`` read from the end, without loading everything.

    The node pages forward only (``start`` = the first created_index wanted). The newest record is found by
    probing with ``limit=1`` (doubling, then bisecting: O(log N) calls of one record each); then windows of
    ``window`` indexes are read downward, one call each. An empty window (deleted or filtered records) jumps to
    the next record below by bisecting again, so a sparse ``--status`` costs O(log N) per gap, not N/window.
    """

    def __init__(self, node: NodeClient, status: str | None, window: int) -> None:
        self.node = node
        self.status = status
        self.window = max(1, window)
        self.calls = 0

    def _first_from(self, start: int) -> int | None:
        """The smallest created_index >= start (of the status), or None."""
        self.calls += 1
        page = self.node.listsendpays_page(start=start, limit=1, status=self.status)
        return page.payments[0].created_index if page.payments else None

    def newest(self) -> int | None:
        low = self._first_from(1)
        if low is None:
            return None
        high: int | None = None
        while high is None:
            probe = self._first_from(low * 2)
            if probe is None:
                high = low * 2 - 1
            else:
                low = probe
        while low < high:
            middle = (low + high + 1) // 2
            found = self._first_from(middle)
            if found is None:
                high = middle - 1
            else:
                low = found
        return low

    def last_at_or_below(self, bound: int) -> int | None:
        """The largest created_index <= bound (of the status), or None."""
        if bound < 1:
            return None
        first = self._first_from(1)
        if first is None or first > bound:
            return None
        low, high = first, bound
        while low < high:
            middle = (low + high + 1) // 2
            found = self._first_from(middle)
            if found is None or found > bound:
                high = middle - 1
            else:
                low = found
        return low

    def newest_first(self) -> Iterable[SendPayment]:
        """Every record of the status, newest created_index first, read a window at a time."""
        top = self.newest()
        while top is not None:
            start = max(1, top - self.window + 1)
            self.calls += 1
            page = self.node.listsendpays_page(start=start, limit=top - start + 1, status=self.status)
            records = sorted(
                (record for record in page.payments if start <= record.created_index <= top),
                key=lambda record: record.created_index,
                reverse=True,
            )
            yield from records
            if start == 1:
                return
            top = start - 1 if records else self.last_at_or_below(start - 1)


def _group_status(parts: Sequence[SendPayment]) -> str:
    statuses = {part.status for part in parts}
    if "complete" in statuses:
        return "complete"
    if "pending" in statuses:
        return "pending"
    return "failed"


def _invoice_amount(bolt11: str | None) -> int | None:
    if not bolt11:
        return None
    try:
        return decode_invoice(bolt11).amount_msat
    except (InvoiceError, ValueError):
        return None


def _entry(parts: Sequence[SendPayment], aliases: Callable[[str], str]) -> HistoryEntry:
    parts = sorted(parts, key=lambda part: (part.created_index, part.partid))
    status = _group_status(parts)
    live = [part for part in parts if part.status in ("complete", "pending")]
    amount: int | None = sum(part.amount_msat or 0 for part in live) if live else None
    if status == "failed":
        amount = _invoice_amount(next((part.bolt11 for part in parts if part.bolt11), None))
    complete = [part for part in parts if part.status == "complete"]
    destination = next((part.destination for part in parts if part.destination), None)
    return HistoryEntry(
        payment_hash=parts[0].payment_hash,
        groupid=parts[0].groupid,
        status=status,
        destination=destination,
        alias=aliases(destination) if destination else "",
        amount_msat=amount,
        amount_sent_msat=sum(part.amount_sent_msat for part in live),
        created_at=min(part.created_at for part in parts),
        completed_at=min((part.completed_at for part in complete if part.completed_at), default=None),
        preimage=next((part.payment_preimage for part in complete if part.payment_preimage), None),
        label=next((part.label for part in parts if part.label), None),
        bolt11=next((part.bolt11 for part in parts if part.bolt11), None),
        parts=tuple(parts),
        newest_index=max(part.created_index for part in parts),
    )


def read_history(
    node: NodeClient, *, status: str | None = None, limit: int = 20, window: int | None = None
) -> HistoryPage:
    """The ``limit`` newest payment attempts (of ``status``), newest first, grouped by (payment_hash, groupid).

    Costs O(log N) calls to find the newest record, one call per window of records read downward, and one
    ``listsendpays payment_hash=`` per payment shown (so each attempt has all its parts, however far apart
    they were created). A node that cannot page (``index`` unknown, before v23.11) is read whole, once.
    """
    if limit < 1:
        return HistoryPage((), 0)
    aliases = Aliases(node)
    by_hash: dict[str, list[SendPayment]] = {}
    calls = 0

    def parts_of(payment_hash: str) -> list[SendPayment]:
        nonlocal calls
        if payment_hash not in by_hash:
            calls += 1
            by_hash[payment_hash] = node.listsendpays(payment_hash=payment_hash)
        return by_hash[payment_hash]

    reader = _PagedSendpays(node, status, window or max(16, 4 * limit))
    entries: list[HistoryEntry] = []
    seen: set[tuple[str, int]] = set()

    def collect(records: Iterable[SendPayment]) -> None:
        """Each new (payment_hash, groupid) met, newest first, until ``limit`` attempts of the status."""
        for record in records:
            key = (record.payment_hash, record.groupid)
            if key in seen:
                continue
            seen.add(key)
            entry = _history_entry(record, parts_of(record.payment_hash), aliases)
            if status is None or entry.status == status:
                entries.append(entry)
                if len(entries) >= limit:
                    return

    paged = True
    try:
        collect(_peeked(reader.newest_first()))
    except _NoPaging:
        paged = False
        calls += 1
        everything = sorted(node.listsendpays(status=status), key=lambda r: r.created_index, reverse=True)
        if status is None:  # every part of every payment is here: no need to ask per payment_hash
            for record in everything:
                by_hash.setdefault(record.payment_hash, []).append(record)
        collect(everything)
    entries.sort(key=lambda entry: entry.newest_index, reverse=True)
    return HistoryPage(tuple(entries), calls + reader.calls, paged)


class _NoPaging(Exception):
    """The node does not know ``listsendpays index=created`` (before v23.11)."""


def _peeked(records: Iterable[SendPayment]) -> Iterable[SendPayment]:
    """The records, with the node's refusal of paging (on the first call) turned into _NoPaging."""
    iterator = iter(records)
    try:
        first = next(iterator, None)
    except NodeError as error:
        if isinstance(error, NodeUnreachable) or error.code not in (INVALID_PARAMS, METHOD_NOT_FOUND):
            raise
        raise _NoPaging from error
    if first is None:
        return
    yield first
    yield from iterator


def _history_entry(
    record: SendPayment, same_hash: Sequence[SendPayment], aliases: Callable[[str], str]
) -> HistoryEntry:
    """The attempt ``record`` belongs to, from every part the node has for its payment_hash."""
    group = [part for part in same_hash if part.groupid == record.groupid] or [record]
    return _entry(group, aliases)


def history_lines(entries: Sequence[HistoryEntry]) -> list[str]:
    rows = [
        [
            timestamp(entry.created_at).removesuffix(" UTC"),
            entry.status,
            format_sat(entry.amount_msat) if entry.amount_msat is not None else "-",
            format_sat(entry.fee_msat) if entry.fee_msat is not None else "-",
            str(len(entry.parts)),
            str(entry.groupid),
            node_name(entry.alias, entry.destination) if entry.destination else "-",
            entry.payment_hash[:16],
        ]
        for entry in entries
    ]
    return table(
        ["created (UTC)", "status", "amount", "fee", "parts", "group", "destination", "payment_hash"],
        rows,
        right={2, 3, 4, 5},
    )


def history(connection: Connection, *, status: str | None, limit: int, as_json: bool, terminal: Terminal) -> int:
    """``lnconsole history``: the newest payments first, one line per attempt (payment_hash and groupid)."""
    if limit < 1:
        raise CommandError("--limit must be at least 1.", EXIT_BAD_INPUT)
    node = connection.connect()
    page = read_history(node, status=status, limit=limit)
    if as_json:
        terminal.json({"payments": [entry.to_json() for entry in page.entries]})
        return EXIT_OK
    if not page.entries:
        terminal.write("No payments" + (f" with status {status}." if status else "."))
        return EXIT_OK
    for line in history_lines(page.entries):
        terminal.write(line)
    if not page.paged:
        terminal.write("note: this node cannot page listsendpays, so every payment was read.", to_err=True)
    return EXIT_OK


# ---------------------------------------------------------------------------------------------------------------
# Running a command


def run(command: Callable[[], int], *, as_json: bool, terminal: Terminal) -> int:
    """Run one command; every failure becomes ``lnconsole: message`` on stderr (and, with ``--json``, an
    ``{"error": ...}`` document on stdout) and its exit code. Never a traceback."""
    try:
        return command()
    except CommandError as error:
        failure = error
    except NodeError as error:
        failure = node_failure(error)
    except (InvoiceError, AmountError, PlanError) as error:
        failure = CommandError(str(error), EXIT_BAD_INPUT)
    except (RouteError, PaymentError) as error:
        failure = CommandError(str(error), EXIT_FAILED, getattr(error, "code", None))
    except KeyboardInterrupt:
        terminal.write("lnconsole: interrupted", to_err=True)
        return EXIT_INTERRUPTED
    except Exception as error:  # a bug must still not print a traceback at a script
        logging.getLogger(__name__).debug("internal error", exc_info=True)
        failure = CommandError(f"internal error: {type(error).__name__}: {error}", EXIT_FAILED)
    if as_json:
        terminal.json({"error": {"message": failure.message, "code": failure.code, "exit_code": failure.exit_code}})
    terminal.write(f"lnconsole: {failure.message}", to_err=True)
    return failure.exit_code


__all__ = [
    "EXIT_BAD_INPUT",
    "EXIT_FAILED",
    "EXIT_INTERRUPTED",
    "EXIT_NOT_SENT",
    "EXIT_OK",
    "EXIT_PENDING",
    "CommandError",
    "CommandFinder",
    "Connection",
    "EventPrinter",
    "HistoryEntry",
    "HistoryPage",
    "PayOptions",
    "PlanOptions",
    "Terminal",
    "decode",
    "event_to_json",
    "history",
    "invoice_lines",
    "parse_exclusions",
    "parse_split",
    "pay",
    "read_history",
    "route",
    "route_table",
    "run",
]
