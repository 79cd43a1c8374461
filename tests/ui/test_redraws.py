"""What the UI leaves undone when nothing it shows changed (issue 5: idle cost, payment overhead, route dialogs).

The footer is rebuilt once for any number of bindings updates, and only when its keys changed; a part's row
redraws only the cells whose text changed (rendered cells are kept until then); the title and outcome views
are not updated with the same text; the header is not redrawn for the same node status; the insert-hop dialog
opens without its channel choosers, which appear once a node is named. Counted, never timed.
"""

from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace
from typing import Any, ClassVar

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.css.scalar import Scalar
from textual.screen import Screen
from textual.widgets import Input, Select, Static
from textual.widgets._footer import FooterKey

from lnconsole.screens.attempts import AttemptsScreen
from lnconsole.screens.route_dialogs import InsertCandidate, InsertHopDialog, InsertRequest
from lnconsole.widgets.attempts_table import AttemptsTable, PartState
from lnconsole.widgets.footer import QuietFooter
from lnconsole.widgets.header import NodeHeader
from tests.conftest import RunningSim
from tests.ui.helpers import app_for, gossip_policy, in_event_loop, wait_until

# ---------------------------------------------------------------------------------------------------------------
# The footer


class KeysScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f6", "first", "First"),
        Binding("f7", "second", "Second"),
    ]
    second_on = True
    second_shown = True

    def compose(self) -> ComposeResult:
        yield Input(id="one")
        yield Input(id="two")
        yield QuietFooter()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "second" and not self.second_shown:
            return False  # hidden
        if action == "second" and not self.second_on:
            return None  # shown, disabled
        return True

    def action_first(self) -> None: ...

    def action_second(self) -> None: ...


class KeysApp(App[None]):
    def on_mount(self) -> None:
        self.push_screen(KeysScreen())


def footer_keys(screen: Screen[Any]) -> list[tuple[str, bool]]:
    return [
        (key.description, key.has_class("-disabled")) for key in screen.query(FooterKey) if key.description != "palette"
    ]


@in_event_loop
async def test_the_footer_is_rebuilt_once_for_many_updates_and_only_when_its_keys_come_or_go() -> None:
    recomposed: list[int] = []
    original = QuietFooter.recompose

    async def counting(footer: QuietFooter) -> None:
        recomposed.append(1)
        await original(footer)

    QuietFooter.recompose = counting  # type: ignore[method-assign]
    try:
        async with KeysApp().run_test(size=(80, 10)) as pilot:
            screen = pilot.app.screen
            assert isinstance(screen, KeysScreen)
            await wait_until(pilot, lambda: footer_keys(screen) == [("First", False), ("Second", False)])
            built = len(recomposed)
            assert built >= 1

            for _ in range(5):  # five updates that change nothing the footer shows
                screen.refresh_bindings()
            screen.query_one("#two", Input).focus()  # nor does a focus move
            await pilot.pause()
            await pilot.pause()
            assert len(recomposed) == built

            screen.second_on = False  # a key turns off: dimmed where it is, no rebuild (and no layout)
            screen.refresh_bindings()
            screen.refresh_bindings()
            await wait_until(pilot, lambda: footer_keys(screen) == [("First", False), ("Second", True)])
            await pilot.pause()
            assert len(recomposed) == built
            second = next(key for key in screen.query(FooterKey) if key.description == "Second")
            assert second._disabled  # a click on it rings the bell instead of running it

            screen.second_on = True  # and on again, in place too
            screen.refresh_bindings()
            await wait_until(pilot, lambda: footer_keys(screen) == [("First", False), ("Second", False)])
            assert len(recomposed) == built and not second._disabled

            screen.second_shown = False  # a key goes away: one rebuild, which leaves it out
            screen.refresh_bindings()
            screen.refresh_bindings()
            await wait_until(pilot, lambda: footer_keys(screen) == [("First", False)])
            await pilot.pause()
            assert len(recomposed) == built + 1
    finally:
        QuietFooter.recompose = original  # type: ignore[method-assign]


# ---------------------------------------------------------------------------------------------------------------
# A part's row


class TableApp(App[None]):
    def compose(self) -> ComposeResult:
        yield AttemptsTable(10.0, id="parts")


def part(partid: int, status: str = "pending", elapsed: float = 1.0) -> PartState:
    return PartState(1, partid, 1_000_000, 1_000_001, None, status, elapsed=elapsed)


async def settled(pilot: Any, table: AttemptsTable) -> None:
    """Let the table measure its columns (on idle) and draw a frame with them."""
    await pilot.pause()
    table.refresh()
    await pilot.pause()


def row_text(table: AttemptsTable, row: int) -> str:
    return table.render_line(row + 1).text  # line 0 is the header


@in_event_loop
async def test_a_row_redraws_only_the_cells_that_changed() -> None:
    async with TableApp().run_test(size=(100, 10)) as pilot:
        table = pilot.app.query_one(AttemptsTable)
        for partid in (1, 2, 3):
            table.show_part(part(partid))
        await settled(pilot, table)
        assert "pending 1.0s" in row_text(table, 0)

        rendered: list[tuple[int, int]] = []
        original = AttemptsTable.__mro__[1]._render_cell  # DataTable's own

        def counting(self: Any, row_index: int, column_index: int, *args: Any, **kwargs: Any) -> Any:
            rendered.append((row_index, column_index))
            return original(self, row_index, column_index, *args, **kwargs)

        AttemptsTable.__mro__[1]._render_cell = counting  # type: ignore[attr-defined]
        try:
            updates = table._update_count
            table.show_part(part(2))  # the same as shown: nothing to update
            assert table._update_count == updates

            table.show_part(part(2, elapsed=2.0))  # the status and the bar of part 2 change
            assert table._update_count == updates + 2
            await settled(pilot, table)
            assert "pending 2.0s" in row_text(table, 1) and "pending 1.0s" in row_text(table, 2)
            assert rendered and {cell for cell in rendered} <= {(1, 3), (1, 4)}
        finally:
            AttemptsTable.__mro__[1]._render_cell = original  # type: ignore[attr-defined]

        table.show_part(part(3, status="complete", elapsed=3.0))
        await settled(pilot, table)
        assert "complete 3.0s" in row_text(table, 2)


def test_the_same_text_is_not_shown_again_and_one_of_the_same_height_needs_no_layout() -> None:
    updates: list[tuple[str, bool]] = []

    class View:
        content_size = SimpleNamespace(width=40)
        styles = SimpleNamespace(min_height=None, gutter=SimpleNamespace(height=0))  # height: auto

        def update(self, text: Text, layout: bool) -> None:
            updates.append((text.plain, layout))

    view = View()
    holder = SimpleNamespace(_texts={})
    show = AttemptsScreen._show_text

    show(holder, view, Text("3 in flight · 0 complete\nLeaving this view…"))  # type: ignore[arg-type]
    show(holder, view, Text("3 in flight · 0 complete\nLeaving this view…"))  # type: ignore[arg-type]
    show(holder, view, Text("2 in flight · 1 complete\nLeaving this view…"))  # type: ignore[arg-type]
    show(holder, view, Text("2 in flight · 1 complete\nLeaving this view…", style="bold"))  # type: ignore[arg-type]
    show(holder, view, Text("✓ Paid\nfees\nPreimage"))  # type: ignore[arg-type]
    show(holder, view, Text("✓ Paid " + "x" * 60 + "\nfees\nPreimage"))  # type: ignore[arg-type]
    assert updates == [
        ("3 in flight · 0 complete\nLeaving this view…", True),  # the first time: laid out
        ("2 in flight · 1 complete\nLeaving this view…", False),  # as many lines, none too wide
        ("2 in flight · 1 complete\nLeaving this view…", False),  # the style changed, not the height
        ("✓ Paid\nfees\nPreimage", True),  # a line more
        ("✓ Paid " + "x" * 60 + "\nfees\nPreimage", True),  # a line wider than the view may wrap
    ]

    # The outcome box: min-height 5 with a border (2 rows), so up to 3 lines it keeps its height.
    boxed = View()
    boxed.styles = SimpleNamespace(min_height=Scalar.from_number(5), gutter=SimpleNamespace(height=2))
    updates.clear()
    holder = SimpleNamespace(_texts={})
    show(holder, boxed, Text("Sending…\nLeaving this view…"))  # type: ignore[arg-type]
    show(holder, boxed, Text("16 in flight\nLeaving this view…"))  # type: ignore[arg-type]
    show(holder, boxed, Text("✓ Paid\nPreimage\nab12"))  # type: ignore[arg-type]
    show(holder, boxed, Text("✓ Paid\nIt was paid before\nPreimage\nab12"))  # type: ignore[arg-type]
    assert [layout for _, layout in updates] == [True, False, False, True]  # 2 -> 3 lines fit; 4 don't


# ---------------------------------------------------------------------------------------------------------------
# The insert-hop dialog

NODE_E = "02" + "e" * 64


class DialogApp(App[None]):
    def __init__(self, dialog: InsertHopDialog) -> None:
        super().__init__()
        self.dialog = dialog
        self.answers: list[object] = []

    def compose(self) -> ComposeResult:
        yield Static("route")

    def on_mount(self) -> None:
        self.push_screen(self.dialog, self.answers.append)


def dialog_with_e() -> InsertHopDialog:
    candidate = InsertCandidate(
        NODE_E,
        "E",
        (gossip_policy("1x1x0", "02" + "b" * 64, NODE_E, 1), gossip_policy("1x2x0", "02" + "b" * 64, NODE_E, 5)),
        (gossip_policy("2x1x0", NODE_E, "02" + "c" * 64, 1),),
    )
    return InsertHopDialog("B", "C", [candidate])


@in_event_loop
async def test_the_insert_dialog_shows_channel_choosers_once_a_node_is_named() -> None:
    dialog = dialog_with_e()
    app = DialogApp(dialog)
    async with app.run_test(size=(100, 32)) as pilot:
        await wait_until(pilot, lambda: app.screen is dialog)
        assert dialog.channel_in is None and dialog.channel_out is None and not dialog.query(Select)
        assert "cheapest (automatic)" in str(dialog.query_one("#insert-channel-in-auto", Static).render())

        await pilot.press("x")  # names no node: still no choosers
        await pilot.pause()
        assert not dialog.query(Select)

        await pilot.press("backspace", "E")
        await wait_until(pilot, lambda: len(dialog.query(Select)) == 2)
        assert dialog.channel_in is not None and dialog.channel_out is not None
        assert not dialog.query("#insert-channel-in-auto")
        assert [value for _, value in dialog.channel_in._options if isinstance(value, str)] == ["1x1x0", "1x2x0"]
        assert [value for _, value in dialog.channel_out._options if isinstance(value, str)] == ["2x1x0"]

        dialog.channel_in.value = "1x2x0"
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: bool(app.answers))
    assert app.answers == [InsertRequest(NODE_E, "1x2x0", None)]


@in_event_loop
async def test_inserting_before_a_chooser_exists_takes_the_cheapest_channels() -> None:
    dialog = dialog_with_e()
    app = DialogApp(dialog)
    async with app.run_test(size=(100, 32)) as pilot:
        await wait_until(pilot, lambda: app.screen is dialog)
        dialog.node_input.value = NODE_E
        dialog.action_insert()  # at once, before the choosers are mounted
        await wait_until(pilot, lambda: bool(app.answers))
    assert app.answers == [InsertRequest(NODE_E, None, None)]


# ---------------------------------------------------------------------------------------------------------------
# The header


@in_event_loop
async def test_the_header_is_not_redrawn_for_a_status_that_did_not_change(regtest: RunningSim) -> None:
    app = app_for(regtest)
    async with app.run_test(size=(100, 24)) as pilot:
        header = app.screen.query_one(NodeHeader)
        facts = header.query_one("#node-facts", Static)
        await wait_until(pilot, lambda: app.status.info is not None and "channels" in str(facts.render()))
        updates: list[object] = []
        original = facts.update
        facts.update = lambda *args, **kwargs: (updates.append(args), original(*args, **kwargs))  # type: ignore[method-assign]

        app.status = replace(app.status)  # an equal status, as the poll brings every few seconds
        await pilot.pause()
        assert updates == []

        app.status = replace(app.status, channels=app.status.channels + 1)
        await pilot.pause()
        assert len(updates) == 1 and f"{app.status.channels} channels" in str(facts.render())
