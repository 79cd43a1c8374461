"""History: every payment this node sent (``listsendpays``), one row per payment attempt, newest first.

A node may hold 100,000 sendpays, so the screen never lists them all. It finds where the newest end is
(:func:`lnconsole.node.newest_created_index`: one ``wait`` call on current nodes, some twenty one-record probes
otherwise, remembered per node so that a reopen costs two), reads the newest page with
``listsendpays index=created start=... limit=...``, and reads older pages only as the user scrolls towards
them. A page can cut a payment's parts in two; :class:`HistoryBook` merges the parts of a group that arrive
later into the row already shown, so no payment is ever listed twice.

The status filter (``1``-``4``) applies to whole payments (a payment is complete when any part completed,
pending when a part is in flight, else failed), so it filters what was read; when few rows match, older
pages are read until the screen is full, within a budget, and ``m`` reads further.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.message import Message
from textual.widgets import Footer, Static
from textual.worker import Worker, WorkerState, get_current_worker

from ..node import NodeError, NodeUnreachable, SendPayment, newest_created_index
from ..widgets.header import NodeHeader
from ..widgets.history_table import STATUSES, HistoryTable, PaymentGroup, ago, group_key
from .base import ConsoleScreen

PAGE_SIZE = 200
"""Parts read per ``listsendpays`` call: a few screens of rows, about 100 KB of JSON (each part has its bolt11)."""
FILL_MARGIN_ROWS = 40
"""Rows wanted beyond the visible ones, so that scrolling down rarely waits for the node."""
SCAN_BUDGET_PAGES = 25
"""Pages read in a row to fill a filtered view before asking the user (``m``) to read further."""
GAP_PAGES = 50
"""Empty pages (deleted payments) skipped in one read before reporting back."""
PENDING_INTERVAL_S = 5.0
"""How often the payments shown as pending are asked about again (nothing is asked when none is)."""
PENDING_CHECKS = 20
"""At most this many pending payments are asked about per round (one listsendpays each)."""
ALIAS_BATCH = 25
"""Aliases looked up per message to the screen, so names appear while the rest are still asked."""

FILTERS: tuple[tuple[str, str], ...] = (
    ("all", "All"),
    ("pending", "Pending"),
    ("complete", "Complete"),
    ("failed", "Failed"),
)
"""Filter id and label, in key order: key 1 is the first."""


@dataclass
class NodeMemory:
    """What the history learnt about a node and keeps for the next time it opens (per node client)."""

    newest_hint: int = 0
    """The newest created_index seen: the next search for the end starts there."""
    aliases: dict[str, str] = field(default_factory=dict)
    """node_id -> alias ("" when the node has none or is unknown to the gossip)."""


_MEMORY: weakref.WeakKeyDictionary[Any, NodeMemory] = weakref.WeakKeyDictionary()


def node_memory(node: Any) -> NodeMemory:
    """The memory of this node client (a fresh one for clients that cannot be weakly referenced)."""
    try:
        memory = _MEMORY.get(node)
        if memory is None:
            memory = _MEMORY[node] = NodeMemory()
        return memory
    except TypeError:
        return NodeMemory()


class HistoryBook:
    """The payment groups read so far, newest first, and where the next older page ends."""

    def __init__(self) -> None:
        self.groups: dict[str, PaymentGroup] = {}
        self.order: list[str] = []
        """Group keys, newest first. Append-only: a group first seen on an older page is older than all."""
        self.next_below: int = 0
        """Older pages read created indexes below this (0 before the first page)."""
        self.parts_read = 0
        self.pages_read = 0
        self.pending: dict[str, None] = {}
        """Keys of the groups with parts in flight, in the order read (newest first)."""

    def _note_pending(self, group: PaymentGroup) -> None:
        if group.status == "pending":
            self.pending[group.key] = None
        else:
            self.pending.pop(group.key, None)

    @property
    def exhausted(self) -> bool:
        """Everything down to created_index 1 was read."""
        return self.pages_read > 0 and self.next_below <= 1

    def merge(self, payments: Iterable[SendPayment]) -> tuple[list[PaymentGroup], list[PaymentGroup]]:
        """Fold a page in: returns (groups new to the book, newest first; groups that got more parts)."""
        new: dict[str, PaymentGroup] = {}
        changed: dict[str, PaymentGroup] = {}
        for payment in payments:
            key = group_key(payment.payment_hash, payment.groupid)
            group = self.groups.get(key)
            if group is None:
                group = PaymentGroup(payment.payment_hash, payment.groupid)
                self.groups[group.key] = new[group.key] = group  # the group's own key string, shared
            elif key not in new:
                changed[key] = group
            group.add(payment)
            self._note_pending(group)
            self.parts_read += 1
        ordered = sorted(new.values(), key=lambda group: group.newest_index, reverse=True)
        self.order.extend(group.key for group in ordered)
        return ordered, list(changed.values())

    def update(self, payments: Iterable[SendPayment]) -> list[PaymentGroup]:
        """New states of parts of groups already read (parts of unread groups are left for their page)."""
        changed: dict[str, PaymentGroup] = {}
        for payment in payments:
            group = self.groups.get(group_key(payment.payment_hash, payment.groupid))
            if group is None:
                continue
            before = group.parts.get(payment.partid)
            group.add(payment)
            self._note_pending(group)
            if group.parts[payment.partid] != before:
                changed[group.key] = group
        return list(changed.values())

    def matching(self, status: str) -> list[PaymentGroup]:
        return [group for key in self.order if matches(group := self.groups[key], status)]

    @property
    def oldest_created_at(self) -> int:
        return self.groups[self.order[-1]].created_at if self.order else 0


def _count(number: int, noun: str) -> str:
    return f"{number:,} {noun}" if number == 1 else f"{number:,} {noun}s"


def matches(group: PaymentGroup, status: str) -> bool:
    return status == "all" or group.status == status


class HistoryScreen(ConsoleScreen[None]):
    """Earlier payments, newest first, read page by page; Enter opens one."""

    CSS_PATH = "history.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "enter",
            "open_payment",
            "Open",
            priority=True,
            id="history.open",
            tooltip="Show the payment's parts and why parts failed",
        ),
        Binding(
            "w", "watch", "Watch", id="history.watch", tooltip="Follow this pending payment live on the attempts screen"
        ),
        Binding(
            "c",
            "copy_hash",
            "Copy hash",
            id="history.copy_hash",
            tooltip="Copy the payment hash to the clipboard (works over SSH)",
        ),
        Binding(
            "y",
            "copy_preimage",
            "Copy preimage",
            id="history.copy_preimage",
            tooltip="Copy the preimage (the proof of payment) to the clipboard",
        ),
        Binding("r", "refresh", "Refresh", id="history.refresh", tooltip="Read the newest payments again"),
        Binding(
            "m",
            "older",
            "Older",
            show=False,
            id="history.older",
            tooltip="Read older payments (when a filter shows few)",
        ),
        Binding("1", "filter('all')", "Show all", show=False, id="history.filter_all", tooltip="Show every payment"),
        Binding(
            "2",
            "filter('pending')",
            "Show pending",
            show=False,
            id="history.filter_pending",
            tooltip="Show payments with parts in flight",
        ),
        Binding(
            "3",
            "filter('complete')",
            "Show complete",
            show=False,
            id="history.filter_complete",
            tooltip="Show paid payments",
        ),
        Binding(
            "4",
            "filter('failed')",
            "Show failed",
            show=False,
            id="history.filter_failed",
            tooltip="Show payments that failed",
        ),
    ]

    status_filter: str = "all"
    """Which payments the table shows: ``all`` or a group status."""

    class PageRead(Message):
        """A page of ``listsendpays`` arrived (``first``: the newest page, after which older ones follow)."""

        def __init__(
            self, generation: int, payments: Sequence[SendPayment], start: int, newest: int, *, first: bool
        ) -> None:
            super().__init__()
            self.generation = generation
            self.payments = payments
            self.start = start
            """The page covered created indexes from here up."""
            self.newest = newest
            self.first = first

    class PendingRead(Message):
        """The parts of the payments shown as pending, read again."""

        def __init__(self, generation: int, payments: Sequence[SendPayment]) -> None:
            super().__init__()
            self.generation = generation
            self.payments = payments

    class AliasesFound(Message):
        """Aliases of destinations (``done``: the lookup worker finished)."""

        def __init__(self, aliases: dict[str, str], *, done: bool) -> None:
            super().__init__()
            self.aliases = aliases
            self.done = done

    def __init__(self) -> None:
        super().__init__()
        self._book = HistoryBook()
        self._generation = 0
        self._loading = False
        self._pages_left = SCAN_BUDGET_PAGES
        self._error = ""
        self._alias_queue: dict[str, None] = {}
        self._alias_running = False
        self._memory = NodeMemory()
        self._keys_allowed: tuple[bool, bool] | None = None
        self._status_tall = False

    # -- layout ---------------------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        self._memory = node_memory(self.app.node)
        yield NodeHeader()
        yield Static(id="history-filter")
        yield HistoryTable(clock=self.app.clock, aliases=self._memory.aliases, id="history-table")
        yield Static(id="history-status")
        yield Footer()

    @property
    def table(self) -> HistoryTable:
        return self.query_one(HistoryTable)

    @property
    def filter_bar(self) -> Static:
        return self.query_one("#history-filter", Static)

    @property
    def status_line(self) -> Static:
        return self.query_one("#history-status", Static)

    @property
    def book(self) -> HistoryBook:
        """The payments read so far (tests and the benchmark read it)."""
        return self._book

    @property
    def reading(self) -> bool:
        """A page is being read from the node."""
        return self._loading

    def on_mount(self) -> None:
        self._show_filter()
        self.table.focus()
        self.action_refresh()
        self.set_interval(PENDING_INTERVAL_S, self._check_pending)

    # -- payments in flight ---------------------------------------------------------------------------------

    def _check_pending(self) -> None:
        """Ask again about the payments shown as pending (one listsendpays each, only while there are some)."""
        book = self._book
        hashes = list(dict.fromkeys(book.groups[key].payment_hash for key in book.pending))[:PENDING_CHECKS]
        if hashes and not self._loading:
            self.read_pending(self._generation, hashes)

    @work(thread=True, exclusive=True, exit_on_error=False, group="history-pending")
    def read_pending(self, generation: int, hashes: list[str]) -> None:
        records: list[SendPayment] = []
        for payment_hash in hashes:
            if get_current_worker().is_cancelled:
                return
            records.extend(self.app.node.listsendpays(payment_hash=payment_hash))
        if not get_current_worker().is_cancelled:
            self.post_message(self.PendingRead(generation, records))

    @on(PendingRead)
    def _pending_read(self, message: PendingRead) -> None:
        """Redraw the rows whose parts settled; a row that no longer fits the filter leaves the table."""
        if message.generation != self._generation:
            return
        changed = self._book.update(message.payments)
        table = self.table
        for group in changed:
            if not table.has_row(group.key):
                continue
            if matches(group, self.status_filter):
                table.update_group(group)
            else:
                table.remove_group(group.key)
        if changed:
            self._show_status()
            self._refresh_keys()

    # -- reading pages --------------------------------------------------------------------------------------

    def action_refresh(self) -> None:
        """Start over from the newest payment (cancels older pages still being read)."""
        self._generation += 1
        self._loading = True
        self._error = ""
        self._pages_left = SCAN_BUDGET_PAGES
        self._show_status()
        self.read_newest(self._generation, self._memory.newest_hint)

    @work(thread=True, exclusive=True, exit_on_error=False, group="history")
    def read_newest(self, generation: int, hint: int) -> None:
        """Find the newest end (a few calls) and read the page that ends there."""
        node = self.app.node
        end = newest_created_index(node, hint=hint)
        start = max(1, end - PAGE_SIZE + 1)
        payments = node.listsendpays_page(start=start, limit=PAGE_SIZE).payments if end else ()
        if not get_current_worker().is_cancelled:
            newest = max((payment.created_index for payment in payments), default=0)
            self.post_message(self.PageRead(generation, payments, start if end else 1, newest, first=True))

    @work(thread=True, exit_on_error=False, group="history")
    def read_older(self, generation: int, below: int) -> None:
        """Read the page just below ``below``, skipping runs of deleted payments."""
        node = self.app.node
        worker = get_current_worker()
        end = below
        start = below
        found: list[SendPayment] = []
        for _ in range(GAP_PAGES):
            start = max(1, end - PAGE_SIZE)
            page = node.listsendpays_page(start=start, limit=end - start)
            found = [payment for payment in page.payments if payment.created_index < end]
            if found or start <= 1 or worker.is_cancelled:
                break
            end = start
        if not worker.is_cancelled:
            self.post_message(self.PageRead(generation, found, start, 0, first=False))

    @on(PageRead)
    def _page_read(self, message: PageRead) -> None:
        if message.generation != self._generation:
            return  # a page of a history read before the last refresh
        self._loading = False
        table = self.table
        if message.first:
            self._book = HistoryBook()
            self._memory.newest_hint = message.newest
        book = self._book
        new, changed = book.merge(message.payments)
        book.next_below = message.start
        book.pages_read += 1
        if message.first:
            table.show(book.matching(self.status_filter))
        else:
            self._show_page(new, changed)
        table.complete = book.exhausted
        self._ask_aliases(group.destination for group in new if group.destination)
        self._show_status()
        self._refresh_keys()
        self._fill()

    def _show_page(self, new: list[PaymentGroup], changed: list[PaymentGroup]) -> None:
        """Add an older page's groups at the bottom and redraw the groups it completed."""
        table = self.table
        status = self.status_filter
        for group in changed:
            if table.has_row(group.key):
                if matches(group, status):
                    table.update_group(group)
                else:
                    table.remove_group(group.key)
            elif matches(group, status):
                table.show(self._book.matching(status))  # now matches, and belongs above newer rows: redraw
                return
        table.append(group for group in new if matches(group, status))

    def _fill(self) -> None:
        """Read older pages until the table holds more rows than fit, within the scan budget."""
        if self._loading or self._book.exhausted or self._pages_left <= 0 or self._book.pages_read == 0:
            return
        table = self.table
        rows = table.row_count
        wanted = max(table.size.height, 20) + FILL_MARGIN_ROWS
        if rows < wanted or table.near_end:
            self._read_older()

    def _read_older(self) -> None:
        if self._loading or self._book.exhausted or self._book.pages_read == 0:
            return  # busy, done, or the newest page (where older ones start) not read yet
        self._loading = True
        self._pages_left -= 1
        self._show_status()
        self.read_older(self._generation, self._book.next_below)

    @on(HistoryTable.NearEnd)
    def _near_end(self) -> None:
        """The user scrolls towards the oldest row read: read on (a fresh budget for this scroll)."""
        self._pages_left = max(self._pages_left, 2)
        self._fill()

    def action_older(self) -> None:
        self._pages_left = SCAN_BUDGET_PAGES
        if self._book.exhausted:
            self.notify("Every payment has been read.", title="History")
            return
        self._read_older()

    @on(Worker.StateChanged)
    def _worker_ended(self, event: Worker.StateChanged) -> None:
        """A read that failed ends the reading and says so under the table (ConsoleScreen hands the error to the
        app, which notifies it)."""
        if event.worker.group != "history" or event.state != WorkerState.ERROR:
            return
        self._loading = False
        error = event.worker.error
        self._error = error.message if isinstance(error, NodeError) else str(error)
        self._show_status()

    # -- aliases --------------------------------------------------------------------------------------------

    def _ask_aliases(self, node_ids: Iterable[str]) -> None:
        known = self._memory.aliases
        for node_id in node_ids:
            if node_id not in known:
                self._alias_queue[node_id] = None
        if self._alias_queue and not self._alias_running:
            self._alias_running = True
            batch = list(self._alias_queue)
            self._alias_queue.clear()
            self.look_up_aliases(batch)

    @work(thread=True, exit_on_error=False, group="history-aliases")
    def look_up_aliases(self, node_ids: list[str]) -> None:
        """Aliases are cosmetic: a node that cannot tell leaves the id shown."""
        worker = get_current_worker()
        found: dict[str, str] = {}
        for node_id in node_ids:
            if worker.is_cancelled:
                return
            try:
                nodes = self.app.node.listnodes(node_id)
            except NodeUnreachable:
                break
            except NodeError:
                nodes = []
            found[node_id] = nodes[0].alias if nodes else ""
            if len(found) >= ALIAS_BATCH:
                self.post_message(self.AliasesFound(found, done=False))
                found = {}
        if not worker.is_cancelled:
            self.post_message(self.AliasesFound(found, done=True))

    @on(AliasesFound)
    def _aliases_found(self, message: AliasesFound) -> None:
        self._memory.aliases.update(message.aliases)
        self.table.show_aliases(message.aliases)
        if message.done:
            self._alias_running = False
            self._ask_aliases(())

    # -- filter ---------------------------------------------------------------------------------------------

    def action_filter(self, status: str) -> None:
        if status not in ("all", *STATUSES) or status == self.status_filter:
            return
        self.status_filter = status
        self._pages_left = SCAN_BUDGET_PAGES
        self._show_filter()
        self.table.show(self._book.matching(status))
        self._show_status()
        self._refresh_keys()
        self._fill()

    def _show_filter(self) -> None:
        """The filters with their keys, the active one highlighted; each is also clickable."""
        markup = []
        for number, (status, label) in enumerate(FILTERS, 1):
            style = "bold $text on $accent" if status == self.status_filter else "$text-muted"
            markup.append(f"[{style} @click=screen.filter('{status}')] {number} {label} [/]")
        self.filter_bar.update(Content.from_markup(" ".join(markup)), layout=False)  # one fixed line

    def _show_status(self) -> None:
        """One line under the table (an error may take three): what was read, and what is being read."""
        book = self._book
        shown = self.table.row_count
        if self._error:
            text: str | Text = Text(f"Could not read the history: {self._error}. Press r to try again.", style="bold")
        elif book.pages_read == 0:
            text = "Reading the newest payments…"
        elif not book.order:
            text = "No payments yet: this node has sent none."
        else:
            where = "all read" if book.exhausted else f"read back to {ago(book.oldest_created_at, self.app.clock())}"
            if self.status_filter == "all":
                text = f"{_count(shown, 'payment')} ({_count(book.parts_read, 'part')}), {where}"
            else:
                text = f"{shown:,} {self.status_filter} of {_count(len(book.order), 'payment')} read, {where}"
            if self._loading:
                text += " · reading older…"
            elif not book.exhausted and self._pages_left <= 0:
                text += " · m: read older"
        if self._loading:
            self.table.tail = "Reading older payments…"
        else:
            self.table.tail = "Older payments: m reads on" if self._pages_left <= 0 else ""
        tall = bool(self._error)
        self.status_line.set_class(tall, "-error")
        # A one-line status needs no layout pass (one per page read would cost more than the page).
        self.status_line.update(text, layout=tall or self._status_tall)
        self._status_tall = tall

    # -- the selected payment -------------------------------------------------------------------------------

    @property
    def selected_group(self) -> PaymentGroup | None:
        key = self.table.selected_key
        return self._book.groups.get(key) if key is not None else None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Dim the keys that need a row, and Watch unless the payment is in flight.

        Copy preimage stays lit (it says when a payment has none): its state would change from row to row,
        and every change redraws the footer, which costs more than a page scroll.
        """
        if action in ("open_payment", "copy_hash", "copy_preimage"):
            return self.selected_group is not None or None
        if action == "watch":
            group = self.selected_group
            return (group is not None and group.status == "pending") or None
        return True

    def _refresh_keys(self) -> None:
        """Redraw the footer only when what the selected row allows changed (a redraw costs a layout)."""
        group = self.selected_group
        allowed = (group is not None, group is not None and group.status == "pending")
        if allowed != self._keys_allowed:
            self._keys_allowed = allowed
            self.refresh_bindings()

    @on(HistoryTable.Highlighted)
    def _row_highlighted(self) -> None:
        self._refresh_keys()

    @on(HistoryTable.Selected)
    def _row_selected(self) -> None:
        """A click on the highlighted row opens it, as Enter does."""
        self.action_open_payment()

    def action_open_payment(self) -> None:
        from .payment_detail import PaymentDetailScreen

        group = self.selected_group
        if group is not None:
            self.app.push_screen(PaymentDetailScreen(group.payment_hash, group.groupid))

    def action_copy_hash(self) -> None:
        group = self.selected_group
        if group is not None:
            self.app.copy_to_clipboard(group.payment_hash)
            self.notify(group.payment_hash, title="Payment hash copied")

    def action_copy_preimage(self) -> None:
        group = self.selected_group
        if group is None:
            return
        if not group.preimage:
            self.notify(f"A {group.status} payment has no preimage: only a paid one does.", title="No preimage")
            return
        self.app.copy_to_clipboard(group.preimage)
        self.notify(group.preimage, title="Preimage copied")

    def action_watch(self) -> None:
        group = self.selected_group
        if group is not None and group.status == "pending":
            self.watch_payment(group.payment_hash)

    @work(thread=True, exit_on_error=False, group="watch")
    def watch_payment(self, payment_hash: str) -> None:
        """Attach a session to the parts in flight and show it (never exclusive: a watch is not cancelled)."""
        from .payment_detail import attach_and_show

        attach_and_show(self.app, payment_hash)
