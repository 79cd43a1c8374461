"""The simulated node's state file (``lnconsole sim --state FILE``): SQLite, written through as lightningd writes
its database, so the node can be stopped (or killed) and started again like a real one.

The network itself is not stored: it is rebuilt from the scenario, its seed and its graph, which the file records
and holds the node to (starting on another one is refused). Then what changed on it is read back:

- every sendpay part, as listsendpays shows it; while pending also the route and secret it needs to move on
  (:class:`~lnconsole.sim.payments.InFlight`) and, once known downstream, its outcome and the hops not yet
  released or settled (:class:`~lnconsole.sim.payments.Carried`);
- every invoice of every node (``invoice`` and ``dev-sim-invoice``), paid or not;
- the balance of each channel direction an HTLC settled over or ``dev-sim-channel`` set, the policies
  ``dev-sim-channel`` changed, the nodes ``dev-sim-node`` took offline or back, our HTLC ids and counts per channel;
- the created/updated index counters (they go on past deleted records), the blockheight, and the gossip
  timestamps the clock gave the network as it was first built (so channel_updates read the same).

HTLC reservations are not written: reading the file puts back those of the parts still pending, as lightningd's
HTLCs would still be on the channels, and the parts move on when the server starts (``PaymentBook.resume``).

Each change is committed before the command that made it answers, so a killed simulator loses nothing it said;
changes that belong together (a settled hop and the part's progress; an invoice paid and the preimage its parts
carry back) share one transaction (:meth:`NodeState.batch`). WAL with ``synchronous=NORMAL``: a commit is not
lost when the process dies, only (at worst the last ones) when the machine does. The file is locked while a
node has it open, so two simulators cannot share one.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .invoices import SimInvoice
    from .network import Channel, Node
    from .node import SimNode
    from .payments import Carried, ChannelStats, InFlight, SendPay, StoredFailure

FORMAT = "lnconsole-sim-state 1"

SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value) WITHOUT ROWID;
CREATE TABLE sendpays (created_index INTEGER PRIMARY KEY, record TEXT NOT NULL, flight TEXT, carried TEXT);
CREATE TABLE invoices (
    payee TEXT, payment_hash TEXT, record TEXT NOT NULL, PRIMARY KEY (payee, payment_hash)
) WITHOUT ROWID;
CREATE TABLE balances (
    short_channel_id TEXT, direction INTEGER, balance_msat INTEGER, PRIMARY KEY (short_channel_id, direction)
) WITHOUT ROWID;
CREATE TABLE policies (
    short_channel_id TEXT, direction INTEGER, policy TEXT NOT NULL, PRIMARY KEY (short_channel_id, direction)
) WITHOUT ROWID;
CREATE TABLE nodes (node_id TEXT PRIMARY KEY, online INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE stamps (
    short_channel_id TEXT, direction INTEGER, last_update INTEGER, PRIMARY KEY (short_channel_id, direction)
) WITHOUT ROWID;
CREATE TABLE htlcs (
    short_channel_id TEXT PRIMARY KEY, next_htlc_id INTEGER, offered INTEGER, offered_msat INTEGER,
    fulfilled INTEGER, fulfilled_msat INTEGER
) WITHOUT ROWID;
"""

POLICY_FIELDS = (
    "base_fee_msat",
    "fee_ppm",
    "cltv_delta",
    "htlc_minimum_msat",
    "htlc_maximum_msat",
    "enabled",
    "last_update",
)
"""The HalfChannel fields dev-sim-channel changes (a new channel_update)."""

STAMPED_WITHIN_S = 3600
"""Gossip timestamps this recent when a file is made were stamped by the clock as the network was built (regtest
and demo take the time of the build): they are kept, so that channel_updates read the same after a restart."""


class StateError(ValueError):
    """The state file can't be used: not one of ours, made for another network, in use, unreadable."""


@dataclass(frozen=True)
class Identity:
    """What the network is rebuilt from, and a digest of what came out, so a file is only used on its network."""

    scenario: str
    seed: int
    graph: str
    """The graph file given (``--graph``), or "" for the scenario's own."""
    digest: str

    def describe(self) -> str:
        graph = f", graph {self.graph}" if self.graph else ""
        return f"scenario {self.scenario}, seed {self.seed}{graph}"


def network_digest(node: SimNode) -> str:
    """Our id, every node and every channel with its ends and capacity: what the kept state refers to."""
    digest = hashlib.sha256(node.our_id.encode())
    network = node.network
    digest.update("\n".join(network.nodes).encode())
    digest.update(
        "\n".join(
            f"{scid} {channel.node1} {channel.node2} {channel.capacity_msat}"
            for scid, channel in network.channels.items()
        ).encode()
    )
    return digest.hexdigest()


class NodeState:
    """Where a node writes its changes through: nowhere (no state file, the default). :class:`StateFile` keeps them.

    Components call these hooks right after they change something; without a state file they do nothing.
    """

    path: Path | None = None

    def batch(self) -> contextlib.AbstractContextManager[None]:
        """Changes made inside share one transaction, committed when the outermost batch ends."""
        return contextlib.nullcontext()

    def summary(self) -> str:
        """A line for the start-up message: what is kept where."""
        return "state in memory only"

    def check_open(self) -> None:
        """Raise StateError when the state was closed (a server stopped the node: build it again from the file)."""

    def close(self) -> None:
        pass

    def part_sent(self, payment: SendPay, flight: InFlight) -> None:
        """A new part, pending, with what it needs to move on."""

    def part_saved(self, payment: SendPay) -> None:
        """A part's record changed (complete, failed); it no longer needs its route."""

    def part_carried(self, payment: SendPay, carried: Carried) -> None:
        """A pending part's outcome is known and on its way back, ``carried.held`` hops from us."""

    def part_deleted(self, payment: SendPay, last_created: int, last_updated: int) -> None:
        """delpay; the counters go on from where they are."""

    def invoice_saved(self, invoice: SimInvoice) -> None:
        """An invoice was created or paid."""

    def balances_changed(self, channel: Channel) -> None:
        """Liquidity moved between a channel's two sides."""

    def policy_changed(self, channel: Channel, direction: int) -> None:
        """A direction's gossiped policy changed (dev-sim-channel)."""

    def node_changed(self, node: Node) -> None:
        """A node went offline or came back (dev-sim-node)."""

    def htlcs_changed(self, short_channel_id: str, next_htlc_id: int, stats: ChannelStats) -> None:
        """We offered an HTLC on our channel, or one was fulfilled."""


NO_STATE = NodeState()


class StateFile(NodeState):
    """A node's state in an SQLite file, written through; see the module docstring."""

    def __init__(self, path: Path, db: sqlite3.Connection) -> None:
        self.path = path
        self._db: sqlite3.Connection | None = db
        self._depth = 0
        self.resumed = 0
        """Parts that were pending when the file was read (they move on when the server starts)."""

    # -- opening -------------------------------------------------------------------------------------------------

    @classmethod
    def open(cls, path: Path) -> StateFile:
        """Open (or create) the file and lock it; StateError when it is not a state file or is in use."""
        try:
            db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=0.2)
        except sqlite3.Error as error:
            raise StateError(f"cannot open the state file {path}: {error}") from None
        try:
            db.execute("PRAGMA locking_mode=EXCLUSIVE")
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("BEGIN EXCLUSIVE")  # takes the lock now, and keeps it (locking_mode) until closed
            tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            db.execute("COMMIT")
            if not tables:
                db.executescript(f"BEGIN; {SCHEMA} INSERT INTO meta VALUES ('format', '{FORMAT}'); COMMIT;")
            else:
                found = None
                if "meta" in tables:
                    found = db.execute("SELECT value FROM meta WHERE key = 'format'").fetchone()
                if found is None or found[0] != FORMAT:
                    kind = f"format {found[0]!r}" if found else "another program's database"
                    raise StateError(f"{path} is not a simulated node's state file ({kind})")
        except sqlite3.OperationalError as error:
            db.close()
            if "locked" in str(error):
                raise StateError(f"the state file {path} is in use by another simulated node") from None
            raise StateError(f"cannot use the state file {path}: {error}") from None
        except sqlite3.DatabaseError as error:
            db.close()
            raise StateError(f"{path} is not a simulated node's state file (not an SQLite database: {error})") from None
        except StateError:
            db.close()
            raise
        return cls(path, db)

    def adopt(self, identity: Identity, node: SimNode) -> bool:
        """Record the network of a new file, or check that a used one was made on this network.

        Returns whether the file already held a node's state.
        """
        kept = self._meta("identity")
        if kept is None:
            recent = node.now() - STAMPED_WITHIN_S
            stamps = [
                (channel.short_channel_id, direction, half.last_update)
                for channel, direction, half in node.network.halves()
                if half.last_update >= recent
            ]
            with self.batch():
                self._set_meta("identity", json.dumps(identity.__dict__))
                self._set_meta("blockheight", node.blockheight)
                self._connection().executemany("INSERT INTO stamps VALUES (?, ?, ?)", stamps)
            return False
        recorded = Identity(**json.loads(kept))
        if (recorded.scenario, recorded.seed) != (identity.scenario, identity.seed):
            raise StateError(
                f"the state file {self.path} belongs to a node of {recorded.describe()}, not {identity.describe()}: "
                f"start it with --scenario {recorded.scenario} --seed {recorded.seed}, or give another --state file"
            )
        if recorded.digest != identity.digest:
            raise StateError(
                f"the state file {self.path} belongs to a node of {recorded.describe()} built on another graph than "
                f"this one ({identity.describe()}): give the same graph, or another --state file"
            )
        return True

    # -- reading back --------------------------------------------------------------------------------------------

    def load(self, node: SimNode) -> None:
        """Put the kept state on a freshly built network: balances, policies, nodes, invoices, then payments."""
        from .invoices import InvoiceBook
        from .payments import ChannelStats, PaymentBook

        db = self._connection()
        network = node.network
        blockheight = self._meta("blockheight")
        if blockheight is not None:
            node.blockheight = int(blockheight)
        for scid, direction, last_update in db.execute("SELECT * FROM stamps"):
            self._channel(node, scid).halves[direction].last_update = last_update
        for scid, direction, balance in db.execute("SELECT * FROM balances"):
            self._channel(node, scid).halves[direction].balance_msat = balance
        changed_policy = False
        for scid, direction, policy in db.execute("SELECT * FROM policies"):
            half = self._channel(node, scid).halves[direction]
            for name, value in json.loads(policy).items():
                setattr(half, name, value)
            changed_policy = True
        if changed_policy:
            network.touch()
        for node_id, online in db.execute("SELECT * FROM nodes"):
            if node_id not in network.nodes:
                raise StateError(f"the state file {self.path} names a node the network lacks: {node_id}")
            network.nodes[node_id].online = bool(online)

        invoices = node.component(InvoiceBook)
        for (record,) in db.execute("SELECT record FROM invoices"):
            invoices.restore(_invoice(json.loads(record)))

        book = node.component(PaymentBook)
        for scid, next_htlc_id, *stats in db.execute("SELECT * FROM htlcs"):
            book.restore_channel(scid, next_htlc_id, ChannelStats(*stats))
        for record, flight, carried in db.execute(
            "SELECT record, flight, carried FROM sendpays ORDER BY created_index"
        ):
            payment = _sendpay(json.loads(record))
            self.resumed += payment.status == "pending"
            book.restore(
                payment,
                _flight(json.loads(flight)) if flight else None,
                _carried(json.loads(carried)) if carried else None,
            )
        book.restore_counters(int(self._meta("payments_created") or 0), int(self._meta("payments_updated") or 0))
        book.restored()

    def _channel(self, node: SimNode, scid: str) -> Channel:
        channel = node.network.channels.get(scid)
        if channel is None:
            raise StateError(f"the state file {self.path} names a channel the network lacks: {scid}")
        return channel

    def summary(self) -> str:
        """A line for the start-up message: what the file holds."""
        db = self._connection()
        (parts,) = db.execute("SELECT count(*) FROM sendpays").fetchone()
        (invoices,) = db.execute("SELECT count(*) FROM invoices").fetchone()
        return f"state {self.path}: {parts} payment parts ({self.resumed} in flight, resumed), {invoices} invoices"

    # -- writing through -----------------------------------------------------------------------------------------

    @contextlib.contextmanager
    def _batch(self) -> Iterator[None]:
        db = self._connection()
        if self._depth == 0:
            db.execute("BEGIN")
        self._depth += 1
        try:
            yield
        finally:
            # What was changed in memory is written even if something failed half-way: the file follows memory.
            self._depth -= 1
            if self._depth == 0:
                db.execute("COMMIT")

    def batch(self) -> contextlib.AbstractContextManager[None]:
        return self._batch()

    def check_open(self) -> None:
        if self._db is None:
            raise StateError(
                f"the state file {self.path} was closed when the node's server stopped: build the node again from it"
            )

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    def _connection(self) -> sqlite3.Connection:
        if self._db is None:
            raise StateError(f"the state file {self.path} is closed")
        return self._db

    def _execute(self, sql: str, values: tuple[Any, ...] = ()) -> None:
        self._connection().execute(sql, values)

    def _meta(self, key: str) -> Any:
        row = self._connection().execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else row[0]

    def _set_meta(self, key: str, value: Any) -> None:
        self._execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def part_sent(self, payment: SendPay, flight: InFlight) -> None:
        self._execute(
            "INSERT OR REPLACE INTO sendpays VALUES (?, ?, ?, NULL)",
            (payment.created_index, _dumps(_sendpay_json(payment)), _dumps(_flight_json(flight))),
        )

    def part_saved(self, payment: SendPay) -> None:
        self._execute(
            "INSERT OR REPLACE INTO sendpays VALUES (?, ?, NULL, NULL)",
            (payment.created_index, _dumps(_sendpay_json(payment))),
        )

    def part_carried(self, payment: SendPay, carried: Carried) -> None:
        self._execute(
            "UPDATE sendpays SET carried = ? WHERE created_index = ?",
            (_dumps(_carried_json(carried)), payment.created_index),
        )

    def part_deleted(self, payment: SendPay, last_created: int, last_updated: int) -> None:
        with self.batch():
            self._execute("DELETE FROM sendpays WHERE created_index = ?", (payment.created_index,))
            self._set_meta("payments_created", last_created)
            self._set_meta("payments_updated", last_updated)

    def invoice_saved(self, invoice: SimInvoice) -> None:
        self._execute(
            "INSERT OR REPLACE INTO invoices VALUES (?, ?, ?)",
            (invoice.payee, invoice.payment_hash, _dumps(invoice.__dict__)),
        )

    def balances_changed(self, channel: Channel) -> None:
        scid = channel.short_channel_id
        self._execute(
            "INSERT OR REPLACE INTO balances VALUES (?, 0, ?), (?, 1, ?)",
            (scid, channel.halves[0].balance_msat, scid, channel.halves[1].balance_msat),
        )

    def policy_changed(self, channel: Channel, direction: int) -> None:
        half = channel.halves[direction]
        policy = {name: getattr(half, name) for name in POLICY_FIELDS}
        self._execute(
            "INSERT OR REPLACE INTO policies VALUES (?, ?, ?)", (channel.short_channel_id, direction, _dumps(policy))
        )

    def node_changed(self, node: Node) -> None:
        self._execute("INSERT OR REPLACE INTO nodes VALUES (?, ?)", (node.node_id, int(node.online)))

    def htlcs_changed(self, short_channel_id: str, next_htlc_id: int, stats: ChannelStats) -> None:
        self._execute(
            "INSERT OR REPLACE INTO htlcs VALUES (?, ?, ?, ?, ?, ?)",
            (short_channel_id, next_htlc_id, stats.offered, stats.offered_msat, stats.fulfilled, stats.fulfilled_msat),
        )


def open_state(node: SimNode, scenario: str, graph: Path | None = None) -> StateFile:
    """Attach the state file of ``node.config.state_path`` to a freshly built ``node``: created when missing,
    checked against the scenario, seed and graph, and read back. Raises StateError with a message for the user."""
    path = node.config.state_path
    assert path is not None
    state = StateFile.open(Path(path))
    try:
        identity = Identity(scenario, node.config.seed, str(graph) if graph is not None else "", network_digest(node))
        if state.adopt(identity, node):
            state.load(node)
    except sqlite3.DatabaseError as error:
        state.close()
        raise StateError(f"the state file {path} cannot be read: {error}") from None
    except (KeyError, TypeError, ValueError) as error:
        state.close()
        if isinstance(error, StateError):
            raise
        raise StateError(f"the state file {path} holds a record this simulator cannot read: {error!r}") from None
    node.state = state
    return state


# ---------------------------------------------------------------------------------------------------------------
# Records <-> JSON (JSON keeps big numbers and any string exactly; SQLite integers stop at 2**63)


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def _failure_json(stored: StoredFailure) -> dict[str, Any]:
    failure = stored.failure
    return {
        "erring_index": failure.erring_index,
        "failcode": failure.failcode,
        "erring_node": failure.erring_node,
        "erring_channel": failure.erring_channel,
        "erring_direction": failure.erring_direction,
        "raw_message": failure.raw_message.hex() if failure.raw_message is not None else None,
        "detail": stored.detail,
        "destination_perm": stored.destination_perm,
    }


def _failure(data: dict[str, Any]) -> StoredFailure:
    from .payments import RoutingFailure, StoredFailure

    raw = data["raw_message"]
    failure = RoutingFailure(
        data["erring_index"],
        data["failcode"],
        data["erring_node"],
        data["erring_channel"],
        data["erring_direction"],
        bytes.fromhex(raw) if raw is not None else None,
    )
    return StoredFailure(failure, data["detail"], data["destination_perm"])


def _sendpay_json(payment: SendPay) -> dict[str, Any]:
    record = dict(payment.__dict__)
    record["failure"] = _failure_json(payment.failure) if payment.failure is not None else None
    return record


def _sendpay(data: dict[str, Any]) -> SendPay:
    from .payments import SendPay

    data["route_nodes"] = tuple(data["route_nodes"])
    data["route_channels"] = tuple(data["route_channels"])
    if data["failure"] is not None:
        data["failure"] = _failure(data["failure"])
    return SendPay(**data)


def _flight_json(flight: InFlight) -> dict[str, Any]:
    return {
        "hops": [[hop.node_id, hop.short_channel_id, hop.amount_msat, hop.delay] for hop in flight.hops],
        "first_channel": flight.first_channel,
        "payment_secret": flight.payment_secret,
        "has_metadata": flight.has_metadata,
        "refused": flight.refused,
        "htlc_id": flight.htlc_id,
    }


def _flight(data: dict[str, Any]) -> InFlight:
    from .payments import InFlight, RouteHop

    data["hops"] = tuple(RouteHop(*hop) for hop in data["hops"])
    return InFlight(**data)


def _carried_json(carried: Carried) -> dict[str, Any]:
    outcome = carried.outcome
    kind = "failmsg" if isinstance(outcome, bytes) else "preimage"
    value = outcome.hex() if isinstance(outcome, bytes) else outcome
    return {kind: value, "origin": carried.origin, "held": carried.held}


def _carried(data: dict[str, Any]) -> Carried:
    from .payments import Carried

    outcome = bytes.fromhex(data["failmsg"]) if "failmsg" in data else data["preimage"]
    return Carried(outcome, data["origin"], data["held"])


def _invoice(data: dict[str, Any]) -> SimInvoice:
    from .invoices import SimInvoice

    return SimInvoice(**data)


__all__ = ["NO_STATE", "Identity", "NodeState", "StateError", "StateFile", "network_digest", "open_state"]
