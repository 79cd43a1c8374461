"""The live table of a payment's parts: one row per (groupid, partid), updated from the engine's events.

The widget only renders :class:`PartState` values the attempts screen builds from events; it never asks the node.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.cache import LRUCache
from textual.css.styles import RenderStyles
from textual.geometry import Region
from textual.strip import Strip
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey, RowKey

from ..amounts import format_sat
from ..node import RoutingFailure
from ..routing import Route

PartKey = tuple[int, int]
"""(groupid, partid): how CLN names a part."""

TERMINAL = frozenset({"complete", "failed", "not_sent"})
"""Statuses a part never leaves: an older event that arrives late must not turn them back into pending."""

BAR_WIDTH = 10


@dataclass
class PartState:
    """One part as the attempts screen shows it: the latest the engine said about it."""

    groupid: int
    partid: int
    amount_msat: int
    amount_sent_msat: int
    route: Route | None
    status: str
    elapsed: float = 0.0
    """Seconds since the part was sent (or attached), as of the latest event about it."""
    seen_at: float | None = None
    """When (the app's monotonic clock) that event arrived: a pending row counts on from it between the
    watcher's reports, which come only as often as its long poll returns."""
    message: str = ""
    failure: RoutingFailure | None = None
    explanation: Any = None
    code: int | None = None
    retryable: bool = False
    final: bool = False
    retry_of: PartKey | None = None
    retried_by: PartKey | None = None
    given_up: bool = False
    retrying: bool = False
    """A retry of this part is being sent (the r/e keys are off meanwhile)."""
    node_down: bool = False
    """The node did not answer the latest question about this part (it is asked again with backoff)."""

    @property
    def key(self) -> PartKey:
        return (self.groupid, self.partid)

    @property
    def fee_msat(self) -> int:
        return self.amount_sent_msat - self.amount_msat

    @property
    def can_retry(self) -> bool:
        """Whether r/e may be offered: a failed, retryable part not already retried or given up."""
        return (
            self.status == "failed"
            and self.retryable
            and not self.final
            and self.retried_by is None
            and not self.given_up
            and not self.retrying
        )


def route_summary(route: Route | None) -> str:
    """The aliases a part goes through, joined by arrows (node ids cut short where there is no alias)."""
    if route is None or not route.hops:
        return "(route not known here)"
    return "→".join(hop.alias or hop.node_id[:8] for hop in route.hops)


def elapsed_text(seconds: float) -> str:
    """``0.4s``, ``12s``, ``2m05s``: short enough for a table cell."""
    seconds = max(0.0, seconds)
    if seconds < 10:
        return f"{seconds:.1f}s"
    if seconds < 120:
        return f"{seconds:.0f}s"
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes}m{rest:02d}s"


def progress_bar(fraction: float, width: int = BAR_WIDTH, *, late: bool = False) -> Text:
    """A bar drawn with box characters (readable in 256 colours and over SSH)."""
    filled = round(max(0.0, min(1.0, fraction)) * width)
    style = "bold yellow" if late else "bold"
    return Text.assemble(("━" * filled, style), ("─" * (width - filled), "dim"))


class AttemptsTable(DataTable[Any]):
    """One row per part: partid, amount, route, status with elapsed time, and a bar against the expected time."""

    DEFAULT_CSS = """
    AttemptsTable {
        height: auto;
        max-height: 12;
    }
    """

    COLUMNS: ClassVar[tuple[tuple[str, str], ...]] = (
        ("part", "Part"),
        ("amount", "Amount"),
        ("route", "Route"),
        ("status", "Status"),
        ("progress", "Progress"),
    )

    def __init__(self, expected_s: float, *, clock: Callable[[], float] | None = None, id: str | None = None) -> None:
        # Set before DataTable's __init__, whose reactives already clear the caches.
        self._cell_versions: dict[tuple[RowKey, ColumnKey], int] = {}
        """How many times each cell's value changed: the key of its rendering in ``_cells_drawn``."""
        self._own_updates = 0
        """The table's update counter counts our cell updates too; without them it counts what moves cells
        (rows added, sorting, resizing), after which every cell is drawn again."""
        self._cells_drawn: LRUCache[tuple[Any, ...], list[list[Segment]]] = LRUCache(2000)
        """Rendered cells, kept until their own value changes (DataTable draws every cell again after any
        update, and a pending part's status and bar change every second: issue 5, idle cost)."""
        self._frame_styles: dict[tuple[str, ...], Any] | None = None
        """While a frame is drawn: the table's style and its component styles, worked out once for all lines."""
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.expected_s = max(0.1, expected_s)
        """A part still pending after this long is drawn as slow; the bar fills up to it."""
        self.clock = clock
        """The app's monotonic clock, to count a pending part's time on between reports (None: don't)."""

    def elapsed_now(self, state: PartState) -> float:
        """The part's elapsed time now: as last reported, plus the time since, while it is in flight."""
        if state.status in TERMINAL or state.seen_at is None or self.clock is None:
            return state.elapsed
        return state.elapsed + max(0.0, self.clock() - state.seen_at)

    def on_mount(self) -> None:
        for key, label in self.COLUMNS:
            self.add_column(label, key=key)
        # The status and progress columns start as wide as a part's usual states need ("✓ complete 9m59s", a
        # full bar), so a part going from pending to complete never widens them: widening re-measures the table
        # and lays the screen out again, and the frame showing the part settled would redraw everything (issue 5:
        # settle to row shown). Longer texts (a failure's name) still widen the column.
        for key, width in (("status", cell_len("✓ complete 9m59s")), ("progress", BAR_WIDTH)):
            column = self.columns[ColumnKey(key)]
            column.content_width = max(column.content_width, width)

    @staticmethod
    def row_key(key: PartKey) -> str:
        return f"{key[0]}:{key[1]}"

    @staticmethod
    def part_key(row_key: str | None) -> PartKey | None:
        if not row_key or ":" not in row_key:
            return None
        groupid, _, partid = row_key.partition(":")
        return (int(groupid), int(partid))

    @property
    def selected_key(self) -> PartKey | None:
        """The part under the cursor."""
        if not self.row_count:
            return None
        row_key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key
        return self.part_key(row_key.value)

    def show_part(self, state: PartState, *, several_groups: bool = False) -> None:
        """Add the part's row, or update it in place (the cursor stays where it is)."""
        cells = self._cells(state, several_groups)
        row_key = self.row_key(state.key)
        if row_key in self.rows:
            for (column, _), value in zip(self.COLUMNS, cells, strict=True):
                if _same_cell(self.get_cell(row_key, column), value):
                    continue  # nothing to draw again
                self.update_cell(row_key, column, value, update_width=self._wider(column, value))
                self._own_updates += 1
                cell = (RowKey(row_key), ColumnKey(column))
                self._cell_versions[cell] = self._cell_versions.get(cell, 0) + 1
        else:
            self.add_row(*cells, key=row_key)

    def _render_cell(
        self,
        row_index: int,
        column_index: int,
        base_style: Style,
        width: int,
        cursor: bool = False,
        hover: bool = False,
    ) -> list[list[Segment]]:
        """DataTable's own cell rendering, cached until that cell's value changes (not any cell's)."""
        row_key = self._row_locations.get_key(row_index) if row_index >= 0 else None
        column_key = self._column_locations.get_key(column_index) if column_index >= 0 else None
        version = self._cell_versions.get((row_key, column_key), 0) if row_key and column_key else 0
        key = (
            self._update_count - self._own_updates,
            row_index,
            column_index,
            row_key,
            column_key,
            version,
            base_style,
            width,
            cursor,
            hover,
            self._show_hover_cursor,
            self.show_cursor,
            self.cursor_type,
            self._pseudo_class_state,
        )
        lines = self._cells_drawn.get(key)
        if lines is None:
            lines = super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
            self._cells_drawn[key] = lines
        return lines

    def render_lines(self, crop: Region) -> list[Strip]:
        """One frame. DataTable asks for the table's style and for its row styles again for every line it draws,
        and each answer walks the styles of every ancestor: within one frame they can't change, so each is
        worked out once (a pending part's row is drawn again every second: issue 5, idle cost)."""
        self._frame_styles = {}
        try:
            return super().render_lines(crop)
        finally:
            self._frame_styles = None

    @property
    def rich_style(self) -> Style:
        frame = self._frame_styles
        if frame is None:
            return super().rich_style
        style = frame.get(())
        if style is None:
            style = frame[()] = super().rich_style
        return style

    def get_component_styles(self, *names: str) -> RenderStyles:
        frame = self._frame_styles
        if frame is None:
            return super().get_component_styles(*names)
        styles = frame.get(names)
        if styles is None:
            styles = frame[names] = _FrameStyles(super().get_component_styles(*names))
        return styles  # type: ignore[no-any-return]

    def _clear_caches(self) -> None:
        super()._clear_caches()
        self._cells_drawn.clear()

    def notify_style_update(self) -> None:
        self._cells_drawn.clear()
        super().notify_style_update()

    def _wider(self, column: str, value: Any) -> bool:
        """Whether ``value`` needs more room than its column has. Only then is the column measured again
        (measuring walks every row, and a pending part's cells change every second); columns only grow."""
        width = value.cell_len if isinstance(value, Text) else cell_len(str(value))
        return width > self.columns[ColumnKey(column)].content_width

    def _cells(self, state: PartState, several_groups: bool) -> tuple[Any, ...]:
        label = f"{state.groupid}/{state.partid}" if several_groups else str(state.partid)
        return (
            label,
            Text(format_sat(state.amount_msat), justify="right"),
            Text(route_summary(state.route)),  # aliases are node text, never markup
            self._status(state),
            self._progress(state),
        )

    def _status(self, state: PartState) -> Text:
        status = state.status
        if status == "complete":
            return Text(f"✓ complete {elapsed_text(state.elapsed)}", style="bold green")
        if status == "failed":
            if state.retried_by is not None:
                return Text(f"✗ failed → part {state.retried_by[1]}", style="red")
            if state.given_up:
                return Text("✗ failed, given up", style="red")
            if state.retrying:
                return Text("✗ failed, retrying…", style="bold yellow")
            name = _failcode_name(state)
            return Text(f"✗ {name}" if name else "✗ failed", style="bold red")
        if status == "not_sent":
            return Text("not sent", style="red")
        elapsed = self.elapsed_now(state)
        if state.node_down:
            return Text(f"? node away {elapsed_text(elapsed)}", style="bold yellow")
        if status == "unknown":
            return Text(f"? checking {elapsed_text(elapsed)}", style="yellow")
        if status == "sending":
            return Text("sending…", style="yellow")
        late = elapsed > self.expected_s
        return Text(f"⋯ pending {elapsed_text(elapsed)}", style="bold yellow" if late else "yellow")

    def _progress(self, state: PartState) -> Text:
        if state.status == "complete":
            return progress_bar(1.0)
        if state.status in TERMINAL:
            return Text("")
        elapsed = self.elapsed_now(state)
        return progress_bar(elapsed / self.expected_s, late=elapsed > self.expected_s)


class _FrameStyles:
    """A component's styles for the length of one frame, with its rich style worked out once."""

    __slots__ = ("_styles", "rich_style")

    def __init__(self, styles: RenderStyles) -> None:
        self._styles = styles
        self.rich_style = styles.rich_style

    def __getattr__(self, name: str) -> Any:
        return getattr(self._styles, name)


def _same_cell(shown: Any, value: Any) -> bool:
    """Whether a cell would look the same (``Text ==`` compares the characters and spans only, not the style)."""
    if isinstance(shown, Text) and isinstance(value, Text):
        return (
            shown.plain == value.plain
            and shown.style == value.style
            and shown.spans == value.spans
            and shown.justify == value.justify
        )
    return type(shown) is type(value) and shown == value


def _failcode_name(state: PartState) -> str:
    name = getattr(state.explanation, "failcodename", None) or (state.failure.failcodename if state.failure else None)
    if not name:
        return ""
    return str(name).removeprefix("WIRE_").lower()


__all__ = ["TERMINAL", "AttemptsTable", "PartKey", "PartState", "elapsed_text", "progress_bar", "route_summary"]
