"""The header every screen shows: which node this is and what it can spend, or that it cannot be reached."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widget import Widget
from textual.widgets import Static

from ..amounts import format_sat


class NodeHeader(Widget):
    """Alias and id, network, block height, channels and total spendable; a banner while unreachable."""

    def compose(self) -> ComposeResult:
        with Horizontal(id="node-line"):
            yield Static(id="node-title")
            yield Static(id="node-facts")
        yield Static(id="node-banner")

    _shown: object = None
    """The status drawn last: the poll reports every few seconds, mostly the same, and redrawing the same
    text would still re-lay the whole screen out (issue 5: idle cost)."""

    def on_mount(self) -> None:
        self.watch(self.app, "status", self._show, init=True)

    def _show(self, status: object) -> None:
        from ..app import NodeStatus  # the app module imports widgets; import here to avoid a cycle

        assert isinstance(status, NodeStatus)
        if status == self._shown:
            return
        self._shown = status
        title = self.query_one("#node-title", Static)
        facts = self.query_one("#node-facts", Static)
        banner = self.query_one("#node-banner", Static)
        info = status.info
        if info is None:
            title.update(Text("lnconsole", style="bold"))
            facts.update("connecting…" if status.reachable else "")
        else:
            title.update(Text.assemble((info.alias or "(no alias)", "bold"), "  ", (info.id[:16] + "…", "dim")))
            facts.update(
                Text(
                    f"  {info.network} · block {info.blockheight:,} · {status.channels} channels · "
                    f"{format_sat(status.spendable_msat)} spendable"
                )
            )
        banner.display = not status.reachable
        banner.update(
            Text(f"Node unreachable: {status.error}. Retrying every few seconds; payments go on on the node.")
        )
        self.set_class(not status.reachable, "-unreachable")
