"""A route as a table, one row per hop, with its problems in place and its totals against the limits.

The widget only renders what the route screen hands it (a :class:`RouteView`) and posts
:class:`RouteTable.HopHighlighted` as the cursor moves; it never asks the node anything.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.style import Style
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.events import Resize
from textual.message import Message
from textual.widgets import DataTable, Static

from ..amounts import fee_ppm, format_sat
from ..graph import ChannelPolicy
from ..routing import Hop, Route, RouteCheck, RouteLimits

COMPACT_BELOW = 110
"""Below this many columns the node id column is left out (the alias stays, and the selected hop's details
line shows the full id)."""


@dataclass(frozen=True)
class RouteView:
    """Everything the table shows: the route, its check, and what is known about each hop's channel."""

    route: Route
    check: RouteCheck
    channels: Sequence[ChannelPolicy | None] = ()
    """The policy of each hop's channel direction (None where unknown): capacity, or spendable for ours."""
    blockheight: int | None = None
    """The node's block height, to show the expiry height of our HTLC."""

    @property
    def limits(self) -> RouteLimits:
        return self.check.limits

    def channel(self, index: int) -> ChannelPolicy | None:
        return self.channels[index] if index < len(self.channels) else None


def _blocks(count: int) -> str:
    return f"{count} block" if count == 1 else f"{count} blocks"


class RouteTable(Vertical):
    """The hops of a route with their amounts, fees and delays; invalid hops marked with the reason."""

    DEFAULT_CSS = """
    RouteTable {
        height: auto;
        max-height: 100%;
    }
    RouteTable > DataTable {
        height: auto;
        max-height: 12;
    }
    RouteTable > #route-hop-detail {
        height: auto;
        padding: 0 1;
        color: $text-muted;
    }
    RouteTable > #route-totals {
        height: auto;
        padding: 0 1;
        border-top: hkey $primary-muted;
    }
    RouteTable > #route-problems {
        height: auto;
        padding: 0 1;
        color: $error;
    }
    RouteTable .route-table--problem {
        color: $error;
        text-style: bold;
    }
    RouteTable .route-table--muted {
        color: $text-muted;
    }
    RouteTable .route-table--ok {
        color: $success;
    }
    """

    COMPONENT_CLASSES = {"route-table--problem", "route-table--muted", "route-table--ok"}

    class HopHighlighted(Message):
        """The cursor moved to hop ``index`` (0-based)."""

        def __init__(self, table: RouteTable, index: int) -> None:
            super().__init__()
            self.table = table
            self.index = index

        @property
        def control(self) -> RouteTable:
            return self.table

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._view: RouteView | None = None
        self._compact = False

    def compose(self) -> ComposeResult:
        table: DataTable[Text | str] = DataTable(id="route-hops", cursor_type="row", zebra_stripes=True)
        table.tooltip = "One row per hop: w swap channel, i insert, d drop, x exclude and reroute"
        yield table
        yield Static(id="route-hop-detail")
        yield Static(id="route-totals")
        yield Static(id="route-problems")

    # -- typed accessors -------------------------------------------------------------------------------------

    @property
    def hops_table(self) -> DataTable[Text | str]:
        return self.query_one("#route-hops", DataTable)

    @property
    def hop_detail(self) -> Static:
        return self.query_one("#route-hop-detail", Static)

    @property
    def totals(self) -> Static:
        return self.query_one("#route-totals", Static)

    @property
    def problems(self) -> Static:
        return self.query_one("#route-problems", Static)

    @property
    def view(self) -> RouteView | None:
        return self._view

    @property
    def selected_index(self) -> int | None:
        """The hop under the cursor, or None when there is no route."""
        if self._view is None or not self._view.route.hops:
            return None
        return min(max(self.hops_table.cursor_row, 0), len(self._view.route.hops) - 1)

    def select(self, index: int) -> None:
        """Put the cursor on hop ``index`` (clamped to the route)."""
        if self._view is not None and self._view.route.hops:
            self.hops_table.move_cursor(row=min(max(index, 0), len(self._view.route.hops) - 1))

    # -- rendering -------------------------------------------------------------------------------------------

    def show(self, view: RouteView | None) -> None:
        """Show a route (None: none yet); the cursor stays on the same row where it can."""
        self._view = view
        self._rebuild()

    def on_resize(self, event: Resize) -> None:
        compact = event.size.width < COMPACT_BELOW
        if compact != self._compact:
            self._compact = compact
            self._rebuild()

    def _style(self, name: str) -> Style:
        return self.get_component_rich_style(f"route-table--{name}")

    def _rebuild(self) -> None:
        if not self.is_mounted:
            return
        table = self.hops_table
        row = table.cursor_row
        table.clear(columns=True)
        columns = ["#", "Node", "Node id", "Channel", "Amount", "Fee", "Δ", "Delay", "Capacity", "Problems"]
        if self._compact:
            columns.remove("Node id")
        for label in columns:
            table.add_column(label, key=label)
        view = self._view
        if view is None:
            self.hop_detail.update("")
            self.totals.update("")
            self.problems.update("")
            return
        for index, hop in enumerate(view.route.hops):
            cells = self._row(view, index, hop)
            if self._compact:
                del cells[2]
            table.add_row(*cells, key=str(index))
        if view.route.hops:
            table.move_cursor(row=min(max(row, 0), len(view.route.hops) - 1), animate=False)
        self._show_detail()
        self.totals.update(self._totals(view))
        # Every problem in words, hops first: the Problems column may be scrolled out of sight on a narrow terminal.
        self.problems.update("\n".join(f"• {message}" for message in view.check.messages))
        self.problems.display = not view.check.ok

    def _row(self, view: RouteView, index: int, hop: Hop) -> list[Text | str]:
        problems = view.check.problems_at(index)
        bad = self._style("problem")
        muted = self._style("muted")
        number = Text(f"✗ {index + 1}", style=bad) if problems else Text(f"  {index + 1}")
        if problems:
            extra = f" (+{len(problems) - 1})" if len(problems) > 1 else ""
            problem_cell = Text(problems[0].reason + extra, style=bad)
        else:
            problem_cell = Text("ok", style=self._style("ok"))
        destination = index == len(view.route.hops) - 1
        fee = Text("—", style=muted) if destination else Text(f"{hop.fee_msat:,} msat")
        delta = Text("—", style=muted) if destination else Text(str(hop.cltv_delta))
        delay = str(hop.delay)
        if view.blockheight is not None:
            delay += f" @{view.blockheight + 1 + hop.delay:,}"
        return [
            number,
            Text(hop.name, style="bold" if hop.alias else ""),
            Text(hop.node_id[:16] + "…", style=muted),
            hop.short_channel_id_dir,
            Text(format_sat(hop.amount_msat), justify="right"),
            fee,
            delta,
            delay,
            self._capacity(view.channel(index)),
            problem_cell,
        ]

    def _capacity(self, policy: ChannelPolicy | None) -> Text:
        if policy is None:
            return Text("?", style=self._style("muted"))
        if policy.local and policy.spendable_msat is not None:
            return Text(f"{format_sat(policy.spendable_msat)} spendable")
        if policy.capacity_msat is not None:
            return Text(format_sat(policy.capacity_msat))
        return Text("?", style=self._style("muted"))

    def _totals(self, view: RouteView) -> Text:
        route, limits = view.route, view.limits
        bad, muted = self._style("problem"), self._style("muted")
        fee = route.fee_msat
        text = Text.assemble(
            ("Sent ", muted),
            (format_sat(route.amount_sent_msat), "bold"),
            ("  delivers ", muted),
            format_sat(route.amount_msat),
            ("  ·  fee ", muted),
            (f"{fee:,} msat", "bold"),
            f" ({fee_ppm(fee, route.amount_msat):,} ppm)",
        )
        if limits.maxfee_msat is not None:
            text.append(f" / max {limits.maxfee_msat:,} msat", style=muted)
            if fee > limits.maxfee_msat:
                text.append(" over limit", style=bad)
        text.append("  ·  delay ", style=muted)
        text.append(_blocks(route.total_delay), style="bold")
        if limits.maxdelay is not None:
            text.append(f" / max {limits.maxdelay}", style=muted)
            if route.total_delay > limits.maxdelay:
                text.append(" over limit", style=bad)
        if view.blockheight is not None and route.hops:
            text.append(f"  ·  expires at block {route.expiry_height(view.blockheight):,}", style=muted)
        return text

    def _show_detail(self) -> None:
        view, index = self._view, self.selected_index
        if view is None or index is None:
            self.hop_detail.update("")
            return
        hop = view.route.hops[index]
        before = "us" if index == 0 else view.route.hops[index - 1].name
        detail = Text.assemble(
            (f"Hop {index + 1}: ", "bold"),
            f"{before} → {hop.name} over {hop.short_channel_id_dir}  ",
            (hop.node_id, self._style("muted")),
        )
        for problem in view.check.problems_at(index):
            detail.append("\n  ✗ ", style=self._style("problem"))
            detail.append(problem.reason, style=self._style("problem"))
        self.hop_detail.update(detail)

    @on(DataTable.RowHighlighted, "#route-hops")
    def _row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self._show_detail()
        index = self.selected_index
        if index is not None:
            self.post_message(self.HopHighlighted(self, index))


__all__ = ["RouteTable", "RouteView"]
