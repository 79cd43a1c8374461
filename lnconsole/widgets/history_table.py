"""The payment history as a table: one row per payment attempt (a payment_hash and groupid), newest first.

``listsendpays`` lists parts; a payer thinks in payments. :class:`PaymentGroup` folds the parts of one
(payment_hash, groupid) into what a row shows, and takes more parts later, because pages of ``listsendpays``
can cut a group in two. :class:`HistoryTable` renders groups and tells its screen when the user nears the end
of what is loaded, so the screen reads older pages; the table never calls the node.

The table draws with Textual's line API (a ``ScrollView`` whose ``render_line`` draws only the rows in view)
rather than a ``DataTable``: a history may grow to 100,000 rows as the user scrolls, and a DataTable keeps
every cell as a renderable and re-measures each added row, which made each older page cost a noticeable
pause and the whole history about 300 MB. Here a row is its :class:`PaymentGroup`, and adding a page is
appending to a list.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import ClassVar, NamedTuple

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

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
    label: str | None = None
    description: str | None = None
    preimage: str | None = None
    parts: dict[int, PartState] = field(default_factory=dict)
    """partid -> state; a part seen again (an overlapping page, a refresh) replaces its old state."""
    key: str = ""
    """``payment_hash:groupid``: one string shared by every index of the history (100,000 rows add up)."""

    def __post_init__(self) -> None:
        self.key = group_key(self.payment_hash, self.groupid)

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
        if payment.created_at and (not self.created_at or payment.created_at < self.created_at):
            self.created_at = payment.created_at
        if payment.completed_at and (self.completed_at is None or payment.completed_at > self.completed_at):
            self.completed_at = payment.completed_at
        if self.destination is None and payment.destination is not None:
            self.destination = sys.intern(payment.destination)  # a few payees, many payments
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


class HistoryTable(ScrollView, can_focus=True):
    """Payment groups, newest first, one line each under a fixed header; keyboard and mouse like a DataTable.

    Posts :class:`Highlighted` when the cursor moves, :class:`Selected` on Enter or a click on the cursor's
    row, and :class:`NearEnd` when the cursor or the scroll nears the last row.
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "history-table--header",
        "history-table--cursor",
        "history-table--even-row",
        "history-table--complete",
        "history-table--pending",
        "history-table--failed",
        "history-table--dim",
    }
    DEFAULT_CSS = """
    HistoryTable {
        background: $surface;
        color: $foreground;
        & > .history-table--header { text-style: bold; background: $panel; color: $foreground; }
        & > .history-table--even-row { background: $surface-lighten-1 50%; }
        &:dark > .history-table--even-row { background: $surface-darken-1 40%; }
        & > .history-table--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
        &:focus > .history-table--cursor {
            background: $block-cursor-background;
            color: $block-cursor-foreground;
            text-style: $block-cursor-text-style;
        }
        & > .history-table--complete { color: $success; }
        & > .history-table--pending { color: $warning; }
        & > .history-table--failed { color: $error; }
        & > .history-table--dim { color: $text-muted; }
    }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        # Moving keys, as a DataTable's: no description, so neither the footer nor the palette lists them.
        Binding("enter", "select", show=False),
        Binding("up", "cursor_up", show=False),
        Binding("down", "cursor_down", show=False),
        Binding("pageup", "page_up", show=False),
        Binding("pagedown", "page_down", show=False),
        Binding("home,ctrl+home", "first", show=False),
        Binding("end,ctrl+end", "last", show=False),
    ]

    NEAR_END_ROWS = 60
    """Ask for older payments when the cursor comes this close to the last row (two or three screens)."""
    PADDING = 1
    """Spaces on each side of a cell."""
    GROWTH = 1000
    """Rows the scroll range grows by while older payments may still be read."""

    COLUMNS: ClassVar[tuple[tuple[str, str, int, str], ...]] = (
        ("status", "Status", 8, "left"),
        ("when", "When", 10, "left"),
        ("destination", "Destination", 12, "left"),
        ("amount", "Amount sat", 12, "right"),
        ("fee", "Fee sat", 8, "right"),
        ("parts", "Parts", 5, "right"),
        ("note", "Label / description", 30, "left"),
    )
    """Key, header, width, alignment; the last column's width is what it gets when there is room."""
    NOTE_MIN = 8
    """The last column never gets narrower (at 80 columns the table just fits)."""

    cursor_row: reactive[int] = reactive(0, init=False)
    """The index of the highlighted row."""

    class Highlighted(Message):
        """The cursor moved to another payment."""

        def __init__(self, key: str | None) -> None:
            super().__init__()
            self.key = key

    class Selected(Message):
        """Enter, or a click on the highlighted row: open this payment."""

        def __init__(self, key: str) -> None:
            super().__init__()
            self.key = key

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
        super().__init__(id=id)
        self._clock = clock
        self._aliases: Mapping[str, str] = aliases if aliases is not None else {}
        self._groups: list[PaymentGroup] = []
        self._index: dict[str, int] = {}
        self._lines: LRUCache[tuple[str, bool, bool, int], Strip] = LRUCache(256)
        self._styles: dict[tuple[str, bool], Style] = {}
        self._complete = False
        self._tail = ""
        self._columns = self.COLUMNS
        self._width = self._total_width()

    # -- what the screen asks -------------------------------------------------------------------------------

    @property
    def row_count(self) -> int:
        return len(self._groups)

    @property
    def keys(self) -> list[str]:
        """The rows' keys (``payment_hash:groupid``), top to bottom."""
        return [group.key for group in self._groups]

    def has_row(self, key: str) -> bool:
        return key in self._index

    @property
    def selected_key(self) -> str | None:
        """The key of the row under the cursor, None when the table is empty."""
        return self._groups[self.cursor_row].key if self._groups else None

    def cell_text(self, row: int, column: str) -> str:
        """A cell as shown (plain text), for tests and screenshots' captions."""
        return self._cells(self._groups[row], self._clock())[self._column_index(column)][0]

    def column_texts(self, column: str) -> list[str]:
        now = self._clock()
        index = self._column_index(column)
        return [self._cells(group, now)[index][0] for group in self._groups]

    def show(self, groups: Iterable[PaymentGroup]) -> None:
        """Replace every row, keeping the cursor on the same payment when it is still listed."""
        selected = self.selected_key
        self._groups = list(groups)
        self._index = {group.key: row for row, group in enumerate(self._groups)}
        self._changed()
        row = self._index.get(selected, 0) if selected is not None else 0
        self.cursor_row = min(row, max(0, len(self._groups) - 1))
        self._scroll_to_cursor()
        self.post_message(self.Highlighted(self.selected_key))

    def append(self, groups: Iterable[PaymentGroup]) -> None:
        """Add rows at the bottom (older payments)."""
        was_empty = not self._groups
        for group in groups:
            self._index[group.key] = len(self._groups)
            self._groups.append(group)
        self._changed()
        if was_empty and self._groups:
            self.post_message(self.Highlighted(self.selected_key))

    def update_group(self, group: PaymentGroup) -> None:
        """Redraw one row after more of its parts arrived."""
        if group.key in self._index:
            self._lines.clear()
            self.refresh()

    def remove_group(self, key: str) -> None:
        row = self._index.get(key)
        if row is None:
            return
        del self._groups[row]
        self._index = {group.key: index for index, group in enumerate(self._groups)}
        self._changed()
        if self.cursor_row >= len(self._groups):
            self.cursor_row = max(0, len(self._groups) - 1)

    def show_aliases(self, node_ids: Iterable[str]) -> None:
        """Aliases of these nodes became known: redraw."""
        self._lines.clear()
        self.refresh()

    def _total_width(self) -> int:
        return sum(width + 2 * self.PADDING for _key, _label, width, _align in self._columns)

    def on_resize(self) -> None:
        """The last column (label / description) takes the room left, down to NOTE_MIN."""
        *fixed, (key, label, _width, align) = self.COLUMNS
        room = self.scrollable_content_region.width - sum(w + 2 * self.PADDING for _k, _l, w, _a in fixed)
        note = max(self.NOTE_MIN, room - 2 * self.PADDING)
        if note != self._columns[-1][2]:
            self._columns = (*fixed, (key, label, note, align))
            self._width = self._total_width()
            self._changed()

    @property
    def tail(self) -> str:
        """What the line under the last row says while older rows may come (the screen sets it)."""
        return self._tail

    @tail.setter
    def tail(self, text: str) -> None:
        if text != self._tail:
            self._tail = text
            self.refresh()

    @property
    def complete(self) -> bool:
        """Every row there is was given (the screen read the oldest payment): the scroll range is exact."""
        return self._complete

    @complete.setter
    def complete(self, value: bool) -> None:
        if value != self._complete:
            self._complete = value
            self._changed()

    def _changed(self) -> None:
        """Rows came or went: forget drawn lines, and grow the scroll range if it must.

        While older rows may still come, the range grows by GROWTH rows at a time (the lines past the last row
        say older payments are being read): a new range is a layout pass of the whole screen, which would
        otherwise come with every page.
        """
        self._lines.clear()
        height = len(self._groups) + 1
        if not self._complete:
            height = -(-(height + 1) // self.GROWTH) * self.GROWTH
        if self.virtual_size != Size(self._width, height):
            self.virtual_size = Size(self._width, height)
        self.refresh()

    # -- moving ---------------------------------------------------------------------------------------------

    @property
    def _page(self) -> int:
        """Rows in view (the header takes a line)."""
        return max(1, self.scrollable_content_region.height - 1)

    def validate_cursor_row(self, row: int) -> int:
        return max(0, min(row, len(self._groups) - 1)) if self._groups else 0

    def watch_cursor_row(self, old: int, new: int) -> None:
        self.refresh()  # the cursor's rows are cached apart (the cache key holds it): nothing to forget
        self._scroll_to_cursor()
        if old != new:
            self.post_message(self.Highlighted(self.selected_key))
        self._check_near_end()

    def _scroll_to_cursor(self) -> None:
        row = self.cursor_row
        top = int(self.scroll_y)
        if row < top:
            self.scroll_to(y=row, animate=False)
        elif row >= top + self._page:
            self.scroll_to(y=row - self._page + 1, animate=False)

    def action_cursor_up(self) -> None:
        self.cursor_row -= 1

    def action_cursor_down(self) -> None:
        self.cursor_row += 1

    def action_page_up(self) -> None:
        self.scroll_to(y=max(0, int(self.scroll_y) - self._page), animate=False)
        self.cursor_row -= self._page

    def action_page_down(self) -> None:
        self.scroll_to(y=int(self.scroll_y) + self._page, animate=False)
        self.cursor_row += self._page

    def action_first(self) -> None:
        self.cursor_row = 0

    def action_last(self) -> None:
        self.cursor_row = len(self._groups) - 1

    def action_select(self) -> None:
        key = self.selected_key
        if key is not None:
            self.post_message(self.Selected(key))

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None or offset.y == 0:
            return
        row = int(self.scroll_y) + offset.y - 1
        if 0 <= row < len(self._groups):
            if row == self.cursor_row:
                self.action_select()
            else:
                self.cursor_row = row

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        self._check_near_end()

    @property
    def near_end(self) -> bool:
        """The cursor, or the rows in view (the mouse wheel moves no cursor), near the last row."""
        last = len(self._groups) - 1
        return last - self.cursor_row < self.NEAR_END_ROWS or last - (self.scroll_y + self._page) < self.NEAR_END_ROWS

    def _check_near_end(self) -> None:
        if self._groups and self.near_end:
            self.post_message(self.NearEnd())

    # -- drawing --------------------------------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.scrollable_content_region.width
        if y == 0:
            strip = self._header()
        else:
            row = scroll_y + y - 1
            if row >= len(self._groups):
                if row == len(self._groups) and not self._complete and self.tail:
                    style = self._style("") + self._style("dim", partial=True)
                    return Strip([Segment(f" {self.tail}", style)]).crop_extend(0, width, self._style(""))
                return Strip.blank(width, self._style(""))
            strip = self._row(row)
        return strip.crop_extend(scroll_x, scroll_x + width, self._style(""))

    def _header(self) -> Strip:
        style = self._style("") + self._style("header")
        segments = [Segment(self._fit(label, width, align), style) for _key, label, width, align in self._columns]
        return Strip(segments, self._width)

    def _row(self, row: int) -> Strip:
        group = self._groups[row]
        cursor = row == self.cursor_row
        cache_key = (group.key, cursor, self.has_focus, row % 2)
        strip = self._lines.get(cache_key)
        if strip is not None:
            return strip
        base = self._style("")
        if row % 2:
            base += self._style("even-row")
        if cursor:
            base += self._style("cursor")
        segments = []
        for (text, tone), (_key, _label, width, align) in zip(
            self._cells(group, self._clock()), self._columns, strict=True
        ):
            style = base
            if tone and not cursor:
                style = base + self._style(tone, partial=True)
            segments.append(Segment(self._fit(text, width, align), style))
        strip = Strip(segments, self._width)
        self._lines[cache_key] = strip
        return strip

    def _style(self, component: str, *, partial: bool = False) -> Style:
        """The widget's style ("") or a component's, remembered until the CSS or the theme changes."""
        key = (component, partial)
        style = self._styles.get(key)
        if style is None:
            if component:
                style = self.get_component_rich_style(f"history-table--{component}", partial=partial)
            else:
                style = self.rich_style
            self._styles[key] = style
        return style

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles.clear()
        self._lines.clear()

    def _fit(self, text: str, width: int, align: str) -> str:
        """The cell's text cut or padded to the column, with the cell padding on both sides."""
        length = cell_len(text)
        if length > width:
            text = set_cell_size(text, width - 1) + "…"
        elif align == "right":
            text = " " * (width - length) + text
        else:
            text = text + " " * (width - length)
        pad = " " * self.PADDING
        return pad + text + pad

    def _cells(self, group: PaymentGroup, now: float) -> list[tuple[str, str]]:
        """(text, tone) per column; the tone names a component class that colours the cell."""
        status = group.status
        fee = group.fee_msat
        alias = self._aliases.get(group.destination or "")
        return [
            (status, status),
            (ago(group.created_at, now), ""),
            (alias, "") if alias else (short_node(group.destination), "dim"),
            (sat_figure(group.amount_msat), ""),
            ("-" if fee is None else sat_figure(fee), ""),
            (str(group.part_count), ""),
            (group.note.replace("\n", " "), ""),
        ]

    def _column_index(self, column: str) -> int:
        return next(index for index, (key, *_rest) in enumerate(self.COLUMNS) if key == column)

    def on_focus(self) -> None:
        self._styles.clear()  # the cursor's colours depend on focus
        self.refresh()

    def on_blur(self) -> None:
        self._styles.clear()
        self.refresh()


__all__ = ["STATUSES", "HistoryTable", "PartState", "PaymentGroup", "ago", "group_key", "sat_figure", "short_node"]
