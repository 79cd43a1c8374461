"""The confirmation dialog: nothing is sent until the payer has seen what it costs and said yes on purpose.

The rule (issue 4, "Enter alone does not confirm by accident"):

- The dialog opens with **Cancel** focused, so an Enter left over from the previous screen cancels (or, when
  the amount must be typed back, with that field focused: Enter there sends only on a match).
- Escape and ``n`` cancel. Only ``y`` or a press of the **Send** button sends.
- Above ``settings.confirm_typed_above_msat`` the amount must also be typed back (in any CLN format); Send and
  ``y`` stay off until it matches, and Enter in that field sends only when it does.
- An invoice that has expired can't be sent at all.
- The dialog answers once: a second ``y`` or a double click is ignored, so one PayRequested launches once.
- A failed part's retry is money sent too: it is confirmed the same way, showing the part, its new route and
  its fees (a :class:`~lnconsole.plan.RetryOffer` instead of a plan).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

from ..amounts import AmountError, format_sat, parse_amount
from ..invoice import PayableInvoice, expiry_against_delay
from ..plan import PaymentPlan, RetryOffer

if TYPE_CHECKING:
    from ..app import Settings

MINUTES_PER_BLOCK = 10
"""Bitcoin's target block interval, to turn a CLTV delay into hours."""


def duration_text(seconds: int) -> str:
    """``45s``, ``12 min``, ``5 h 20 min``, ``6 days``: how long until an invoice expires."""
    if seconds < 120:
        return f"{seconds}s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    if seconds < 172800:
        hours, rest = divmod(seconds, 3600)
        return f"{hours} h {rest // 60} min" if rest >= 60 else f"{hours} h"
    return f"{seconds // 86400} days"


def delay_text(blocks: int) -> str:
    """A CLTV delay in blocks and roughly in hours (10 minutes a block)."""
    hours = blocks * MINUTES_PER_BLOCK / 60
    return f"{blocks} blocks (~{hours:.0f} h)" if hours >= 10 else f"{blocks} blocks (~{hours:.1f} h)"


class ConfirmDialog(ModalScreen[bool]):
    """Destination, amount, fees, worst-case delay, parts and the invoice's time left; Cancel focused first.

    ``plan`` is the payment to launch, or a :class:`RetryOffer`: one failed part to send again on a new route.
    """

    CSS_PATH = "confirm.tcss"
    AUTO_FOCUS = "#confirm-cancel"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "send", "Send", id="confirm.send", tooltip="Send the payment (the only key that does)"),
        Binding("n", "cancel", "Cancel", id="confirm.cancel_n", tooltip="Send nothing"),
        Binding("escape", "cancel", "Cancel", id="confirm.cancel", tooltip="Send nothing"),
    ]

    def __init__(self, plan: PaymentPlan | RetryOffer, invoice: PayableInvoice | None, settings: Settings) -> None:
        super().__init__()
        self.plan = plan
        self.invoice = invoice
        self.settings = settings
        self.answered = False
        """Set by the first answer; every later key press or click is ignored."""

    # -- what it shows -------------------------------------------------------------------------------------------

    @property
    def needs_typed_amount(self) -> bool:
        return self.plan.amount_msat > self.settings.confirm_typed_above_msat

    @property
    def seconds_left(self) -> int | None:
        """The invoice's time left by the app's clock; None without an invoice."""
        if self.invoice is None:
            return None
        return self.invoice.invoice.time_left(int(self._clock()))

    def _clock(self) -> float:
        clock = getattr(self.app, "clock", None)
        if callable(clock):
            return float(clock())
        import time

        return time.time()

    @property
    def expired(self) -> bool:
        left = self.seconds_left
        return left is not None and left <= 0

    def facts(self) -> Table:
        """The numbers the payer agrees to, as a two-column grid."""
        plan = self.plan
        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="bold", no_wrap=True)
        grid.add_column()
        if isinstance(plan, RetryOffer):
            grid.add_row("Retry", f"part {plan.failed_partid} (group {plan.groupid}) failed; its amount goes again")
            grid.add_row("Amount", Text(format_sat(plan.amount_msat), style="bold"))
            grid.add_row("Of the payment", format_sat(plan.target.amount_msat))
            grid.add_row("New route", " → ".join(hop.alias or hop.node_id[:10] for hop in plan.route.hops))
        else:
            grid.add_row("Amount", Text(format_sat(plan.amount_msat), style="bold"))
        grid.add_row(
            "Fees", f"{plan.fee_msat:,} msat ({plan.fee_ppm:,} ppm) · total sent {format_sat(plan.amount_sent_msat)}"
        )
        grid.add_row("Worst-case delay", delay_text(plan.total_delay))
        if not isinstance(plan, RetryOffer):
            grid.add_row("Parts", str(plan.part_count))
        left = self.seconds_left
        if left is not None:
            grid.add_row(
                "Invoice expires",
                Text("expired: ask the payee for a new invoice", style="bold red")
                if left <= 0
                else f"in {duration_text(left)}",
            )
        if self.invoice is not None and left is not None and left > 0:
            _, warnings = expiry_against_delay(self.invoice.invoice, plan.total_delay, int(self._clock()))
            for warning in warnings:
                grid.add_row(Text("Warning", style="bold yellow"), Text(warning[0].upper() + warning[1:] + "."))
        return grid

    def title_text(self) -> str:
        if isinstance(self.plan, RetryOffer):
            return f"Retry part {self.plan.failed_partid} of this payment?"
        return "Send this payment?"

    def destination(self) -> Text:
        """Who gets the money: the alias, and the whole node id on a line of its own (it is 66 characters)."""
        return Text.assemble(
            ("To ", "bold"), (self._payee_alias() or "(no alias)", "bold"), "\n", (self.plan.target.destination, "dim")
        )

    def _payee_alias(self) -> str:
        return next((part.route.hops[-1].alias for part in self.plan.parts if part.route.hops), "")

    def _rule_text(self) -> str:
        if self.expired:
            return "This invoice has expired: nothing can be sent. Escape closes."
        if self.needs_typed_amount:
            return (
                f"Above {format_sat(self.settings.confirm_typed_above_msat)}: type the amount back to send. "
                "Escape cancels."
            )
        return "Press y (or the Send button) to send. Enter on Cancel, n or Escape sends nothing."

    # -- children -----------------------------------------------------------------------------------------------

    @property
    def send_button(self) -> Button:
        return self.query_one("#confirm-send", Button)

    @property
    def typed_amount(self) -> Input:
        return self.query_one("#confirm-typed", Input)

    @property
    def status_line(self) -> Static:
        return self.query_one("#confirm-status", Static)

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-box"):
            yield Static(self.title_text(), id="confirm-title")
            yield Static(self.destination(), id="confirm-destination")
            yield Static(self.facts(), id="confirm-facts")
            yield Static(self._rule_text(), id="confirm-rule")
            yield Input(
                placeholder=f"type {format_sat(self.plan.amount_msat)} (any CLN format)",
                id="confirm-typed",
            )
            yield Static(id="confirm-status")
            with Horizontal(id="confirm-buttons"):
                yield Button("Cancel", id="confirm-cancel", variant="primary")
                yield Button("Send (y)", id="confirm-send", variant="error")

    def on_mount(self) -> None:
        self.typed_amount.display = self.needs_typed_amount and not self.expired
        self.send_button.disabled = self.expired or self.needs_typed_amount
        if self.typed_amount.display:
            # Safe to focus: Enter in this field sends only once the typed amount matches.
            self.typed_amount.focus()

    # -- answering ----------------------------------------------------------------------------------------------

    def _typed_matches(self) -> bool:
        try:
            return parse_amount(self.typed_amount.value) == self.plan.amount_msat
        except AmountError:
            return False

    def may_send(self) -> bool:
        if self.answered or self.expired:
            return False
        return not self.needs_typed_amount or self._typed_matches()

    @on(Input.Changed, "#confirm-typed")
    def _typed_changed(self, event: Input.Changed) -> None:
        matches = self._typed_matches()
        self.send_button.disabled = not matches
        if not event.value.strip():
            self.status_line.update("")
            return
        try:
            typed = parse_amount(event.value)
        except AmountError as error:
            self.status_line.update(Text(str(error), style="red"))
            return
        self.status_line.update(
            Text("✓ matches: press y or Send", style="green")
            if matches
            else Text(f"{format_sat(typed)} is not {format_sat(self.plan.amount_msat)}", style="red")
        )

    @on(Input.Submitted, "#confirm-typed")
    def _typed_submitted(self) -> None:
        """Typing the amount back is the deliberate act: Enter after a matching amount sends."""
        if self.may_send():
            self._answer(True)

    @on(Button.Pressed, "#confirm-send")
    def _send_pressed(self) -> None:
        self.action_send()

    @on(Button.Pressed, "#confirm-cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # y is a letter in the amount field, not a key that sends.
        return not (action == "send" and isinstance(self.focused, Input))

    def action_send(self) -> None:
        if self.answered:
            return
        if self.expired:
            self.status_line.update(Text("The invoice has expired: nothing is sent.", style="red"))
            return
        if not self.may_send():
            self.status_line.update(
                Text(f"Type {format_sat(self.plan.amount_msat)} into the field first (Tab moves there).", style="red")
            )
            return
        self._answer(True)

    def action_cancel(self) -> None:
        if not self.answered:
            self._answer(False)

    def _answer(self, send: bool) -> None:
        self.answered = True
        self.send_button.disabled = True
        self.dismiss(send)


__all__ = ["ConfirmDialog", "delay_text", "duration_text"]
