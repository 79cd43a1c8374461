"""The demo's payees, each with the story its payment tells, for the invoice screen to offer (``--demo`` only).

A widget that renders and posts messages: choosing a payee posts :class:`DemoPayees.Chosen`, Escape posts
:class:`DemoPayees.Left`; the invoice screen asks the payee's node for an invoice and moves the focus.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Label, OptionList, Static
from textual.widgets.option_list import Option

from ..amounts import format_sat


class DemoPayees(Vertical):
    """The demo's payees, each with the story its payment tells, on the invoice screen itself: choosing one asks
    its node for an invoice. (Not a dialog over the screen: the console's first screen is drawn once, not twice,
    and the invoice field stays in view: issue 5, start-up.)"""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "leave", "Invoice field", id="demo_payees.leave", tooltip="Back to the invoice field"),
    ]

    class Chosen(Message):
        """A payee was chosen (Enter or a click)."""

        def __init__(self, alias: str) -> None:
            super().__init__()
            self.alias = alias

    def __init__(self, payees: Mapping[str, int], stories: Mapping[str, str], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.payees = dict(payees)
        self.stories = dict(stories)

    def compose(self) -> ComposeResult:
        yield Label("Demo invoices", classes="section-title")
        yield Static(
            "A simulated payee issues a fresh invoice: Enter chooses; Escape goes to the invoice field (d comes back).",
            id="demo-help",
            classes="muted",
        )
        yield OptionList(*self._options(), id="demo-payees")

    def _options(self) -> list[Option]:
        options = []
        for alias, amount_msat in self.payees.items():
            prompt = Text.assemble((alias, "bold"), f"  {format_sat(amount_msat)}")
            story = self.stories.get(alias)
            if story:
                prompt.append(f"\n{story}", style="dim")
            options.append(Option(prompt, id=alias))
        return options

    @property
    def option_list(self) -> OptionList:
        return self.query_one("#demo-payees", OptionList)

    @on(OptionList.OptionSelected, "#demo-payees")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id:
            self.post_message(self.Chosen(event.option.id))

    class Left(Message):
        """Escape: the payer goes back to the invoice field (the screen knows where it is)."""

    def action_leave(self) -> None:
        self.post_message(self.Left())


__all__ = ["DemoPayees"]
