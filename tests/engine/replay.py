"""A fake lightningd that answers from real lightningd transcripts (``../shared/cln/transcripts/*.json``).

The simulator answers as we *think* lightningd does; the transcripts are what lightningd *did* say. A
:class:`ReplayNode` serves one node's recorded calls on a unix socket with lightningd's framing (JSON objects in,
back to back and without separators; every answer followed by ``\\n\\n``), so ``PylnNode`` and the engine on top
of it can be fed real answers through pyln-client, exactly as from a real node.

Matching a request to a recorded call (of the served node, ``A`` by default: the payer, us):

1. a recorded call of the same method whose params equal the request's, after normalising both (None dropped,
   ``"10000sat"`` amounts as int msat, a sendpay route's default ``style: tlv`` and getroute's default ``cltv``
   9 dropped, getroute's ``exclude`` as a set);
2. else one whose *key* params are the same (payment_hash, partid (absent = 0), groupid (absent on either side =
   any: lightningd then takes the latest group), id, short_channel_id, and per method what picks the answer:
   a sendpay's route, a getroute's amount and exclusions, a listsendpays' status...), so that an engine polling
   ``waitsendpay`` with its own timeout still gets the recorded outcome.

Unused calls are served first, in recorded order; when every candidate was served, the last one is served again
(a second poll gets the same final answer). A request nothing matches gets -32601 ``Unknown command`` (with the
reason), so a test fails loudly instead of being fed a wrong answer; :attr:`ReplayNode.unmatched` lists them.

Causality: a recorded call that came after a ``sendpay`` which created a part of the same payment_hash is only
served once that sendpay was served (or happened before ``start``, or is in ``skip``). A ``waitsendpay`` whose
answer is not due yet blocks, up to its ``timeout``, until it is, then answers lightningd's own
``200 "Timed out while waiting"`` (as recorded in sendpay_mpp_timeout.json); a ``listsendpays`` gets the last
state served. So an engine that attaches to parts in flight, waits, and retries sees the node's answers in the
order a real node gave them.
"""

from __future__ import annotations

import codecs
import json
import os
import socket
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.conftest import SHARED

TRANSCRIPTS = SHARED / "cln" / "transcripts"
TRANSCRIPT_FILES = tuple(
    sorted(path.name for path in TRANSCRIPTS.glob("*.json") if "calls" in json.loads(path.read_text()))
)
"""Every transcript holding recorded calls (network.json and pyln_client_behaviour.json hold none)."""

METHOD_NOT_FOUND = -32601
PAY_IN_PROGRESS = 200
TIMED_OUT = {"code": PAY_IN_PROGRESS, "message": "Timed out while waiting"}
"""lightningd's answer to a waitsendpay whose part is still pending (sendpay_mpp_timeout.json, call 4)."""

KEY_PARAMS = ("payment_hash", "partid", "groupid", "id", "short_channel_id")
METHOD_KEYS: dict[str, tuple[str, ...]] = {
    "sendpay": ("route",),
    "getroute": ("amount_msat", "exclude", "fromid", "maxhops"),
    "getroutes": ("source", "destination", "amount_msat"),
    "listsendpays": ("status", "bolt11", "index", "start", "limit"),
    "listchannels": ("source", "destination"),
    "decode": ("string",),
    "decodepay": ("bolt11",),
    "invoice": ("label",),
    "delpay": ("status",),
}
"""Besides KEY_PARAMS, the params that decide a method's answer (a timeout or riskfactor does not)."""

DEFAULTS: dict[str, dict[str, Any]] = {"getroute": {"cltv": 9}}
"""Params lightningd takes as absent when they have this value (PylnNode always sends getroute's cltv)."""

STATE_CHANGING = ("sendpay",)

_MAX_WAIT_S = 5.0
"""The longest a waitsendpay blocks for an answer not due yet, whatever timeout it asked (keeps tests short)."""


@dataclass(frozen=True)
class RecordedCall:
    """One request/response pair as it crossed a real lightningd's socket."""

    source: str
    """The transcript's file name (``extra`` for calls a test added)."""
    index: int
    """Position in the transcript's ``calls``."""
    node: str
    method: str
    params: Mapping[str, Any]
    response: Mapping[str, Any]
    note: str = ""
    anytime: bool = False
    """Served whenever asked (calls a test added): no causal order."""

    @property
    def result(self) -> Any:
        return self.response.get("result")

    @property
    def error(self) -> Mapping[str, Any] | None:
        return self.response.get("error")

    @property
    def key(self) -> tuple[str, int]:
        return (self.source, self.index)

    def __str__(self) -> str:
        return f"{self.source}#{self.index} {self.node} {self.method}"


def load_calls(name: str | os.PathLike[str]) -> list[RecordedCall]:
    """Every recorded call of a transcript (a file name in TRANSCRIPTS, or a path)."""
    path = Path(name)
    if not path.is_absolute():
        path = TRANSCRIPTS / path
    data = json.loads(path.read_text())
    calls = []
    for index, call in enumerate(data.get("calls", [])):
        request = call["request"]
        params = request.get("params") or {}
        calls.append(
            RecordedCall(
                source=path.name,
                index=index,
                node=call["node"],
                method=request["method"],
                params=params,
                response=call["response"],
                note=call.get("note", ""),
            )
        )
    return calls


def recorded(name: str, index: int) -> RecordedCall:
    """One recorded call by transcript and position."""
    return load_calls(name)[index]


def node_ids() -> dict[str, str]:
    """The transcripts' node ids by name (A is the payer, C the payee)."""
    network = json.loads((TRANSCRIPTS / "network.json").read_text())
    return {name: node["id"] for name, node in network["nodes"].items()}


# ---------------------------------------------------------------------------------------------------------------
# Matching


def _msat(value: Any) -> Any:
    """``"10000sat"``/``"5msat"`` as lightningd reads them; anything else unchanged."""
    if isinstance(value, str):
        for suffix, factor in (("msat", 1), ("sat", 1000)):
            number = value.removesuffix(suffix)
            if number != value and number.isdigit():
                return int(number) * factor
    return value


def _route_entry(hop: Any) -> Any:
    if not isinstance(hop, Mapping):
        return hop
    return {
        key: _msat(value) if key == "amount_msat" else value
        for key, value in hop.items()
        if value is not None and not (key == "style" and value == "tlv")
    }


def normalise(method: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """Params as lightningd would read them, so that equal requests compare equal."""
    defaults = DEFAULTS.get(method, {})
    out: dict[str, Any] = {}
    for key, value in params.items():
        if value is None:
            continue
        if key.endswith("amount_msat"):
            value = _msat(value)
        elif key == "route" and isinstance(value, list):
            value = [_route_entry(hop) for hop in value]
        elif key == "exclude" and isinstance(value, list):
            value = sorted(value, key=str)
        if key in defaults and defaults[key] == value:
            continue
        out[key] = value
    return out


def keys_match(method: str, request: Mapping[str, Any], call: Mapping[str, Any]) -> bool:
    """Whether two normalised param sets ask for the same answer (see the module docstring)."""
    for key in KEY_PARAMS + METHOD_KEYS.get(method, ()):
        mine, theirs = request.get(key), call.get(key)
        if key == "partid":
            mine, theirs = mine or 0, theirs or 0
        if key == "groupid" and (mine is None or theirs is None):
            continue
        if mine != theirs:
            return False
    return True


@dataclass(frozen=True)
class Served:
    """One request the replay answered, and how."""

    method: str
    params: Mapping[str, Any]
    call: RecordedCall | None
    how: str
    """``exact``, ``key`` (first time served), ``exact-again``/``key-again`` (served before), ``timed-out``
    (200: not due yet), ``unknown`` (-32601: a method the node lacks), ``unmatched`` (-32601: nothing recorded
    matches), ``notifications``."""


# ---------------------------------------------------------------------------------------------------------------
# The node


class ReplayNode:
    """A unix-socket lightningd that answers from transcripts; see the module docstring.

    ``transcripts``: file names in TRANSCRIPTS (or paths); ``start``/``skip`` index the first one: calls before
    ``start`` and those in ``skip`` are never served and count as having happened (a part another console sent).
    ``unknown_methods`` answer -32601 ``Unknown command`` as a node without them would (``decode`` on an old node).
    """

    def __init__(
        self,
        socket_path: str | os.PathLike[str],
        transcripts: str | Sequence[str],
        *,
        node: str = "A",
        start: int = 0,
        skip: Iterable[int] = (),
        unknown_methods: Iterable[str] = (),
    ) -> None:
        self.socket_path = os.fspath(socket_path)
        self.node = node
        names = [transcripts] if isinstance(transcripts, str) else list(transcripts)
        self.primary = Path(names[0]).name
        self.unknown_methods = frozenset(unknown_methods)
        skipped = set(skip)
        self._calls: list[RecordedCall] = []
        self._done: set[tuple[str, int]] = set()
        for name in names:
            for call in load_calls(name):
                if call.node != node:
                    continue
                if call.source == self.primary and (call.index < start or call.index in skipped):
                    self._done.add(call.key)
                    continue
                self._calls.append(call)
        self._prerequisites = self._causal_order(names)
        self._served_calls: dict[tuple[str, int], int] = {}
        """How often each call was served."""
        self._last: dict[tuple[str, int], float] = {}
        self._extra = 0
        self.served: list[Served] = []
        self._cond = threading.Condition()
        self._listener: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    # -- setup ---------------------------------------------------------------------------------------------

    def _causal_order(self, names: Sequence[str]) -> dict[tuple[str, int], tuple[tuple[str, int], ...]]:
        """For each call, the earlier part-creating sendpays of its payment_hash (any hash if it names none)."""
        order: dict[tuple[str, int], tuple[tuple[str, int], ...]] = {}
        for name in names:
            creators: list[tuple[str | None, tuple[str, int]]] = []
            seen_parts: set[tuple[str, int]] = set()
            for call in load_calls(name):
                if call.node != self.node:
                    continue
                payment_hash = call.params.get("payment_hash")
                order[call.key] = tuple(key for hash_, key in creators if payment_hash is None or hash_ == payment_hash)
                result = call.result
                if call.method in STATE_CHANGING and isinstance(result, Mapping):
                    part = (str(result.get("payment_hash")), int(result.get("created_index", result.get("id", -1))))
                    if part not in seen_parts:  # a resend answered with the existing part changes nothing
                        seen_parts.add(part)
                        creators.append((payment_hash, call.key))
        return order

    def add(self, method: str, params: Mapping[str, Any], response: Mapping[str, Any], note: str = "") -> None:
        """Serve one more answer (``{"result": ...}`` or ``{"error": ...}``), whenever asked: for a call the
        recording lacks but a real node would answer (say what it is in ``note``)."""
        with self._cond:
            self._extra += 1
            self._calls.append(
                RecordedCall("extra", self._extra, self.node, method, dict(params), dict(response), note, True)
            )

    def start(self) -> ReplayNode:
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(self.socket_path)
        listener.listen(16)
        listener.settimeout(0.05)
        self._listener = listener
        self._thread = threading.Thread(target=self._accept_loop, name="replay-accept", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        with self._cond:
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=2)
        if self._listener is not None:
            self._listener.close()
        if os.path.exists(self.socket_path):
            os.unlink(self.socket_path)

    def __enter__(self) -> ReplayNode:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- what tests read -----------------------------------------------------------------------------------

    @property
    def unmatched(self) -> list[Served]:
        with self._cond:
            return [served for served in self.served if served.how == "unmatched"]

    def requests(self, method: str | None = None) -> list[Served]:
        """Every request answered (but pyln's ``notifications``), in order; of one method if given."""
        with self._cond:
            return [
                served
                for served in self.served
                if served.how != "notifications" and (method is None or served.method == method)
            ]

    def served_indices(self, method: str | None = None) -> list[int]:
        """The transcript positions of the recorded calls served, in order (-1 for answers made up here)."""
        return [served.call.index if served.call else -1 for served in self.requests(method)]

    # -- serving -------------------------------------------------------------------------------------------

    def _accept_loop(self) -> None:
        assert self._listener is not None
        while not self._stopping.is_set():
            try:
                connection, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            connection.settimeout(None)
            threading.Thread(target=self._serve_connection, args=(connection,), daemon=True).start()

    def _serve_connection(self, connection: socket.socket) -> None:
        """Read JSON requests back to back (pyln sends ``notifications`` then the call, no separator)."""
        decoder = json.JSONDecoder()
        utf8 = codecs.getincrementaldecoder("utf-8")()
        text = ""
        with connection:
            while not self._stopping.is_set():
                text = text.lstrip()
                try:
                    request, end = decoder.raw_decode(text)
                except json.JSONDecodeError:
                    try:
                        chunk = connection.recv(65536)
                    except OSError:
                        return
                    if not chunk:
                        return
                    text += utf8.decode(chunk)
                    continue
                text = text[end:]
                answer = self._answer(request)
                try:
                    connection.sendall((json.dumps(answer) + "\n\n").encode())
                except OSError:
                    return

    def _answer(self, request: Mapping[str, Any]) -> dict[str, Any]:
        request_id = request.get("id")
        method = str(request.get("method"))
        params = request.get("params") or {}
        if method == "notifications":
            self._log(Served(method, params, None, "notifications"))
            return {"jsonrpc": "2.0", "id": request_id, "result": {}}
        if not isinstance(params, Mapping):
            return self._error(request_id, method, params, "unmatched", "positional params are not replayed")
        if method in self.unknown_methods or not any(call.method == method for call in self._calls):
            self._log(Served(method, params, None, "unknown"))
            return {
                "jsonrpc": "2.0",
                "id": request_id,
                "error": {"code": METHOD_NOT_FOUND, "message": f"Unknown command '{method}'"},
            }
        wanted = normalise(method, params)
        timeout = params.get("timeout") if method == "waitsendpay" else 0
        wait = min(float(timeout), _MAX_WAIT_S) if isinstance(timeout, int | float) else _MAX_WAIT_S
        deadline = time.monotonic() + wait
        with self._cond:
            while True:
                fresh, again, future = self._candidates(method, wanted)
                if fresh is not None:
                    call, how = fresh
                    break
                remaining = deadline - time.monotonic()
                if future and method == "waitsendpay" and remaining > 0 and not self._stopping.is_set():
                    self._cond.wait(remaining)
                    continue
                if again is not None:
                    call, how = again
                    break
                if future and method == "waitsendpay":
                    self._log(Served(method, params, None, "timed-out"), locked=True)
                    return {"jsonrpc": "2.0", "id": request_id, "error": dict(TIMED_OUT)}
                reason = (
                    f"its recorded answer comes after a sendpay that was not sent ({future[0]})"
                    if future
                    else "no recorded call has these params"
                )
                return self._error(request_id, method, params, "unmatched", reason, locked=True)
            self._served_calls[call.key] = self._served_calls.get(call.key, 0) + 1
            self._last[call.key] = time.monotonic()
            self._done.add(call.key)
            self._log(Served(method, params, call, how), locked=True)
            self._cond.notify_all()
        answer = {key: value for key, value in call.response.items() if key not in ("jsonrpc", "id")}
        return {"jsonrpc": "2.0", "id": request_id, **answer}

    def _candidates(
        self, method: str, wanted: Mapping[str, Any]
    ) -> tuple[tuple[RecordedCall, str] | None, tuple[RecordedCall, str] | None, list[RecordedCall]]:
        """(an unused call that is due, a served one to repeat, calls that match but are not due yet)."""
        exact: list[RecordedCall] = []
        keyed: list[RecordedCall] = []
        for call in self._calls:
            if call.method != method:
                continue
            theirs = normalise(method, call.params)
            if theirs == wanted:
                exact.append(call)
            elif keys_match(method, wanted, theirs):
                keyed.append(call)
        future = [call for call in exact + keyed if not self._due(call)]
        for calls, how in ((exact, "exact"), (keyed, "key")):
            unused = [call for call in calls if self._due(call) and call.key not in self._served_calls]
            if unused:
                return (unused[0], how), None, future
        for calls, how in ((exact, "exact-again"), (keyed, "key-again")):
            used = [call for call in calls if call.key in self._served_calls]
            if used:
                return None, (max(used, key=lambda call: self._last[call.key]), how), future
        return None, None, future

    def _due(self, call: RecordedCall) -> bool:
        if call.anytime:
            return True
        return all(key in self._done for key in self._prerequisites.get(call.key, ()))

    def _error(
        self, request_id: Any, method: str, params: Any, how: str, reason: str, *, locked: bool = False
    ) -> dict[str, Any]:
        self._log(Served(method, params, None, how), locked=locked)
        message = f"Unknown command '{method}' (replay of {self.primary}, node {self.node}: {reason}: {params})"
        return {"jsonrpc": "2.0", "id": request_id, "error": {"code": METHOD_NOT_FOUND, "message": message}}

    def _log(self, served: Served, *, locked: bool = False) -> None:
        if locked:
            self.served.append(served)
            return
        with self._cond:
            self.served.append(served)


@dataclass
class ReplayFactory:
    """Starts replays on short socket paths and stops them all at the end (the ``replay`` fixture)."""

    directory: Path
    running: list[ReplayNode] = field(default_factory=list)

    def __call__(self, transcripts: str | Sequence[str], **options: Any) -> ReplayNode:
        replay = ReplayNode(self.directory / f"replay{len(self.running)}", transcripts, **options)
        self.running.append(replay.start())
        return replay

    def stop_all(self) -> None:
        for replay in self.running:
            replay.stop()


__all__ = [
    "TRANSCRIPTS",
    "TRANSCRIPT_FILES",
    "RecordedCall",
    "ReplayFactory",
    "ReplayNode",
    "Served",
    "keys_match",
    "load_calls",
    "node_ids",
    "normalise",
    "recorded",
]
