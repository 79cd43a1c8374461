"""The payment history as a table: one row per payment attempt (a payment_hash and groupid), newest first.

``listsendpays`` lists parts; a payer thinks in payments. :class:`PaymentGroup` folds the parts of one
(payment_hash, groupid) into what a row shows, and takes more parts later, because pages of ``listsendpays``
can cut a group in two. :class:`HistoryTable` renders groups and tells its screen when the user nears the end
of what is loaded, so the screen reads older pages; the table never calls the node.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import ClassVar, NamedTuple

from rich.text import Text
from textual.message import Message
from textual.widgets import DataTable

from ..amounts import MSAT_PER_SAT
from ..node import SendPayment

STATUSES = ("pending", "complete", "failed")


class PartState(NamedTuple):
    """What a group row needs of one part (small: a page of history holds hundreds)."""

    status: str
    amount_msat: int
    amount_sent_msat: int


@dataclass(slots=True, eq=False)
class PaymentGroup:
    """One payment attempt: the parts sent with one (payment_hash, groupid), folded into a row's figures."""

    payment_hash: str
    groupid: int
    destination: str | None = None
    created_at: int = 0
    """When the first part was sent."""
    completed_at: int | None = None
    """When the last part settled."""
    newest_index: int = 0
    """The highest created_index among the parts: the group's place in a newest-first list."""
    oldest_index: int = 0
    label: str | None = None
    description: str | None = None
    preimage: str | None = None
    parts: dict[int, PartState] = field(default_factory=dict)
    """partid -> state; a part seen again (an overlapping page, a refresh) replaces its old state."""

    @property
    def key(self) -> str:
        return group_key(self.payment_hash, self.groupid)

    @property
    def status(self) -> str:
        """complete if any part completed (the payee took the money), pending if any is in flight, else failed."""
        statuses = {part.status for part in self.parts.values()}
        if "complete" in statuses:
            return "complete"
        if "pending" in statuses:
            return "pending"
        return "failed"

    def _counted(self) -> list[PartState]:
        """The parts that make the payment's figures: the complete ones, the ones in flight, or all failed ones."""
        status = self.status
        return [part for part in self.parts.values() if part.status == status]

    @property
    def amount_msat(self) -> int:
        """What the destination got (complete), gets if all goes well (pending), or was offered (failed)."""
        return sum(part.amount_msat for part in self._counted())

    @property
    def amount_sent_msat(self) -> int:
        return sum(part.amount_sent_msat for part in self._counted())

    @property
    def fee_msat(self) -> int | None:
        """Fees paid (complete) or at stake (pending); None for a failed payment, which paid none."""
        if self.status == "failed":
            return None
        return self.amount_sent_msat - self.amount_msat

    @property
    def part_count(self) -> int:
        return len(self.parts)

    @property
    def note(self) -> str:
        """The label or the invoice description, whichever the node kept."""
        return self.description or self.label or ""

    def add(self, payment: SendPayment) -> None:
        """Fold one part in (idempotent: the same part twice counts once, with its latest state)."""
        self.parts[payment.partid] = PartState(payment.status, payment.amount_msat or 0, payment.amount_sent_msat)
        index = payment.created_index
        if not self.newest_index or index > self.newest_index:
            self.newest_index = index
        if not self.oldest_index or index < self.oldest_index:
            self.oldest_index = index
        if payment.created_at and (not self.created_at or payment.created_at < self.created_at):
            self.created_at = payment.created_at
        if payment.completed_at and (self.completed_at is None or payment.completed_at > self.completed_at):
            self.completed_at = payment.completed_at
        self.destination = self.destination or payment.destination
        self.label = self.label or payment.label
        self.description = self.description or payment.description
        self.preimage = self.preimage or payment.payment_preimage


def group_key(payment_hash: str, groupid: int) -> str:
    """A row's key: one row per (payment_hash, groupid)."""
    return f"{payment_hash}:{groupid}"


def ago(seconds_then: int, now: float) -> str:
    """'12m ago': recent times relative to ``now``, older ones as a date."""
    if not seconds_then:
        return "?"
    elapsed = int(now) - seconds_then
    if elapsed < 5:
        return "just now"
    if elapsed < 60:
        return f"{elapsed}s ago"
    if elapsed < 3600:
        return f"{elapsed // 60}m ago"
    if elapsed < 86400:
        return f"{elapsed // 3600}h ago"
    if elapsed < 60 * 86400:
        return f"{elapsed // 86400}d ago"
    return time.strftime("%Y-%m-%d", time.gmtime(seconds_then))


def sat_figure(amount_msat: int) -> str:
    """'1,234.5' sat with msat decimals only when there are some: compact enough for a table cell."""
    sats, msats = divmod(amount_msat, MSAT_PER_SAT)
    return f"{sats:,}.{msats:03d}".rstrip("0") if msats else f"{sats:,}"


def short_node(node_id: str | None) -> str:
    return f"{node_id[:10]}…" if node_id and len(node_id) > 10 else (node_id or "?")


class HistoryTable(DataTable[object]):
    """Payment groups, newest first; posts :class:`NearEnd` when the cursor or the scroll nears the last row."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "history-table--complete",
        "history-table--pending",
        "history-table--failed",
    }
    DEFAULT_CSS = """
    HistoryTable > .history-table--complete { color: $success; }
    HistoryTable > .history-table--pending { color: $warning; }
    HistoryTable > .history-table--failed { color: $error; }
    """
    NEAR_END_ROWS = 60
    """Ask for older payments when the cursor comes this close to the last row (two or three screens)."""

    COLUMNS: ClassVar[tuple[tuple[str, str, int], ...]] = (
        ("status", "Status", 8),
        ("when", "When", 10),
        ("destination", "Destination", 14),
        ("amount", "Amount sat", 13),
        ("fee", "Fee sat", 9),
        ("parts", "Parts", 5),
        ("note", "Label / description", 30),
    )

    class NearEnd(Message):
        """The user is near the end of the loaded rows: time to read older payments."""

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, HistoryTable.NearEnd)

    def __init__(
        self,
        *,
        clock: Callable[[], float],
        aliases: Mapping[str, str] | None = None,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self._clock = clock
        self._aliases: Mapping[str, str] = aliases if aliases is not None else {}
        self._rows_by_destination: dict[str, list[str]] = {}
        self._appending = False

    def on_mount(self) -> None:
        for key, label, width in self.COLUMNS:
            self.add_column(label, width=width, key=key)

    # -- what the screen asks -------------------------------------------------------------------------------

    @property
    def selected_key(self) -> str | None:
        """The key of the row under the cursor (``payment_hash:groupid``), None when the table is empty."""
        if not self.row_count:
            return None
        return str(self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value)

    def show(self, groups: Iterable[PaymentGroup]) -> None:
        """Replace every row, keeping the cursor on the same payment when it is still listed."""
        selected = self.selected_key
        self.clear()
        self._rows_by_destination.clear()
        self.append(groups)
        if selected is not None and selected in self.rows:
            self.move_cursor(row=self.get_row_index(selected), animate=False)

    def append(self, groups: Iterable[PaymentGroup]) -> None:
        """Add rows at the bottom (older payments)."""
        now = self._clock()
        self._appending = True  # add_row re-sets the cursor: don't check for the end on every row
        try:
            for group in groups:
                self.add_row(*self._cells(group, now), key=group.key)
                if group.destination:
                    self._rows_by_destination.setdefault(group.destination, []).append(group.key)
        finally:
            self._appending = False

    def update_group(self, group: PaymentGroup) -> None:
        """Redraw one row after more of its parts arrived."""
        if group.key not in self.rows:
            return
        for (column, _label, _width), cell in zip(self.COLUMNS, self._cells(group, self._clock()), strict=True):
            self.update_cell(group.key, column, cell)

    def remove_group(self, key: str) -> None:
        if key in self.rows:
            self.remove_row(key)

    def show_aliases(self, node_ids: Iterable[str]) -> None:
        """Aliases of these nodes became known: redraw their destination cells."""
        for node_id in node_ids:
            for key in self._rows_by_destination.get(node_id, ()):
                if key in self.rows:
                    self.update_cell(key, "destination", self._destination(node_id))

    # -- near the end ---------------------------------------------------------------------------------------

    def watch_cursor_coordinate(self, old_coordinate: object, new_coordinate: object) -> None:  # type: ignore[override]
        super().watch_cursor_coordinate(old_coordinate, new_coordinate)  # type: ignore[arg-type]
        self._check_near_end()

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        self._check_near_end()

    def _check_near_end(self) -> None:
        if self._appending or not self.row_count:
            return
        near_cursor = self.row_count - 1 - self.cursor_row < self.NEAR_END_ROWS
        near_scroll = self.max_scroll_y - self.scroll_y <= max(1, self.size.height)
        if near_cursor or near_scroll:
            self.post_message(self.NearEnd())

    # -- cells ----------------------------------------------------------------------------------------------

    def _cells(self, group: PaymentGroup, now: float) -> Sequence[object]:
        status = group.status
        fee = group.fee_msat
        return (
            Text(status, style=self.get_component_rich_style(f"history-table--{status}", partial=True)),
            ago(group.created_at, now),
            self._destination(group.destination),
            Text(sat_figure(group.amount_msat), justify="right"),
            Text("-" if fee is None else sat_figure(fee), justify="right"),
            Text(str(group.part_count), justify="right"),
            Text(group.note.replace("\n", " ")),
        )

    def _destination(self, node_id: str | None) -> Text:
        alias = self._aliases.get(node_id or "")
        return Text(alias) if alias else Text(short_node(node_id), style="dim")


__all__ = ["STATUSES", "HistoryTable", "PartState", "PaymentGroup", "ago", "group_key", "sat_figure", "short_node"]
