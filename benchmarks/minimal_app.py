"""The start-up baseline: a minimal Textual app with a Header, a DataTable and a Footer.

    python -m benchmarks.minimal_app

It shows 20 rows (the first says ``baseline row 0``) and has Textual's command palette (ctrl+p), as the
console has: the start-up benchmark times both the same way, on a pseudo terminal.
"""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.widgets import DataTable, Footer, Header


class MinimalApp(App[None]):
    TITLE = "baseline"

    def compose(self) -> ComposeResult:
        yield Header()
        yield DataTable(cursor_type="row")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("Row", "Status", "Amount")
        table.add_rows((f"baseline row {n}", "complete", f"{n * 1000:,}") for n in range(20))
        table.focus()


if __name__ == "__main__":
    MinimalApp().run()
