"""The console's first screen: paste an invoice, see what paying it means, and go on to find a route.

The invoice is checked by the engine (:func:`lnconsole.invoice.load_invoice`: decoded here and by the node,
cross-checked, judged against the node's network and the clock) in a thread worker; the result comes back as
a message and is laid out for the payer, with every reason not to pay shown in place. Nothing here sends
money: "Find route" hands the checked invoice to the app (:class:`InvoiceChosen`), which opens the route editor.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, cast

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.geometry import Size
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Input, Static
from textual.worker import Worker, WorkerState, get_current_worker

from ..amounts import AmountError, format_sat, parse_amount
from ..invoice import Invoice, InvoiceError, PayableInvoice, clean_invoice_text, load_invoice
from ..node import NodeClient, NodeError, NodeUnreachable
from ..widgets.demo_payees import DemoPayees
from ..widgets.footer import QuietFooter
from ..widgets.header import NodeHeader
from ..widgets.invoice_details import InvoiceDetails
from ..widgets.qr import QrPanel, invoice_qr_payload
from .base import ConsoleScreen
from .messages import InvoiceChosen

if TYPE_CHECKING:
    from ..app import LnConsoleApp

MIN_DETAILS_WIDTH = 60
"""Columns the details keep when the QR code stands beside them (else the code goes below, or is hidden)."""
MIN_DETAILS_HEIGHT = 8
"""Lines the details keep when the QR code stands below them."""
AMOUNT_RECHECK_DELAY_S = 0.3
"""Typing an amount rechecks the invoice once the typing pauses this long, not on every key."""

EMPTY_HELP = "Paste a BOLT11 invoice (lnbc…, lntb…, lntbs… or lnbcrt…) or a lightning: URI, and press Enter."


class InvoiceInput(Input):
    """The invoice field. A paste replaces the field and loads at once; an invoice wrapped over several lines
    (as chat apps and e-mails break it) is joined back together, where a plain Input would keep its first line."""

    class Pasted(Message):
        """Text was pasted into the invoice field."""

        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    def _on_paste(self, event: events.Paste) -> None:
        event.prevent_default()  # not Input's own paste, which keeps only the first line
        event.stop()
        text = "".join(event.text.split())
        if text:
            self.value = text
            self.cursor_position = len(text)
            self.post_message(self.Pasted(text))


class InvoiceScreen(ConsoleScreen[None]):
    """Paste an invoice, read it as a payer, give an amount if it has none, and go on to find a route."""

    CSS_PATH = "invoice.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "ctrl+r",
            "route",
            "Find route",
            id="invoice.route",
            tooltip="Open the route editor for this invoice (also Enter on a checked invoice)",
        ),
        Binding(
            "r,enter",
            "route",
            "Find route",
            id="invoice.route_key",
            show=False,
            tooltip="Open the route editor for this invoice",
        ),
        Binding(
            "c",
            "copy_invoice",
            "Copy",
            id="invoice.copy",
            tooltip="Copy the invoice to the clipboard (OSC 52: works over SSH)",
        ),
        Binding(
            "y", "copy_hash", "Copy hash", id="invoice.copy_hash", tooltip="Copy the payment hash to the clipboard"
        ),
        Binding(
            "s",
            "copy_secret",
            "Copy secret",
            id="invoice.copy_secret",
            show=False,
            tooltip="Copy the payment secret to the clipboard",
        ),
        Binding("q", "toggle_qr", "QR", id="invoice.qr", tooltip="Show or hide the invoice's QR code"),
        Binding(
            "d",
            "demo_invoices",
            "Demo",
            id="invoice.demo",
            tooltip="Get an invoice from one of the demo's simulated payees",
        ),
        Binding(
            "i",
            "edit_invoice",
            "Edit invoice",
            id="invoice.edit",
            show=False,
            tooltip="Back to the invoice field, to paste another",
        ),
        Binding(
            "escape",
            "leave_field",
            "Leave field",
            id="invoice.leave_field",
            show=False,
            tooltip="Leave the text field, so that single keys (c, y, q, r) act",
        ),
    ]

    # -- messages from the workers -------------------------------------------------------------------------

    class Loaded(Message, bubble=False):
        """The engine checked the invoice (problems, if any, are inside)."""

        def __init__(self, payable: PayableInvoice, aliases: dict[str, str], amount_text: str) -> None:
            super().__init__()
            self.payable = payable
            self.aliases = aliases
            self.amount_text = amount_text

    class Refused(Message, bubble=False):
        """The text is not an invoice anyone can read."""

        def __init__(self, reason: str) -> None:
            super().__init__()
            self.reason = reason

    class Unreachable(Message, bubble=False):
        """The node could not be asked (or its answer could not be used), so the invoice could not be checked."""

        def __init__(self, reason: str, *, answered: bool = False) -> None:
            super().__init__()
            self.reason = reason
            self.answered = answered
            """The node answered, with an error or an answer the console could not use (it is not gone)."""

    class DemoInvoiceIssued(Message, bubble=False):
        """A simulated payee issued an invoice (``dev-sim-invoice``)."""

        def __init__(self, payee: str, bolt11: str) -> None:
            super().__init__()
            self.payee = payee
            self.bolt11 = bolt11

    # -- building ------------------------------------------------------------------------------------------

    def __init__(self, invoice_text: str = "", *, offer_demo: bool = True) -> None:
        """``invoice_text`` is loaded at once (a command line's invoice); ``offer_demo`` opens the demo's
        payees at once when the app runs the demo and no invoice was given."""
        super().__init__()
        self._initial_text = invoice_text
        self._offer_demo = offer_demo
        self.payable: PayableInvoice | None = None
        """The last checked invoice (None before the first, or after a refusal)."""
        self.checking = False
        """A check is in flight: the route action waits for it."""
        self._checked_amount = ""
        """The amount text the current ``payable`` was checked with."""
        self._route_when_checked = False
        self._refusal = ""
        self._qr_wanted = True
        self._rechecked_expiry = False
        self._recheck_timer: Timer | None = None

    @property
    def _offers_demo_payees(self) -> bool:
        """The demo's payees are shown at once: the demo runs and no invoice was given."""
        demo = self.lnapp.demo
        return not self._initial_text and self._offer_demo and demo is not None and bool(demo.payees)

    def compose(self) -> ComposeResult:
        demo = self.lnapp.demo
        if self._offers_demo_payees:
            self.AUTO_FOCUS = "#demo-payees"  # Enter chooses the first payee, as the demo's first key
        yield NodeHeader()
        with Horizontal(id="invoice-body"):
            with VerticalScroll(id="invoice-main"):
                yield InvoiceInput(
                    placeholder="Paste a BOLT11 invoice or lightning: URI, then Enter",
                    id="invoice-input",
                    tooltip="Paste an invoice (lnbc…, lntb…, lntbs…, lnbcrt… or lightning:…) and press Enter",
                )
                with Vertical(id="amount-row"):
                    yield Input(
                        placeholder="Amount to pay: 1000sat, 1000000msat, 0.0001btc or plain msat",
                        id="amount-input",
                        tooltip="This invoice lets you choose the amount: type it in any CLN format",
                    )
                    yield Static(id="amount-error", classes="problem")
                yield Static(EMPTY_HELP, id="invoice-status", classes="muted")
                yield Static(id="invoice-problems", classes="problem")
                yield Static(id="invoice-warnings", classes="warning")
                if demo is not None and demo.payees:
                    yield DemoPayees(demo.payees, demo.stories, id="demo-picker")
                yield InvoiceDetails(id="invoice-details")
            yield QrPanel(id="invoice-qr", caption="Scan to pay from a phone wallet")
        yield QuietFooter()

    # -- typed accessors -----------------------------------------------------------------------------------

    @property
    def lnapp(self) -> LnConsoleApp:
        return cast("LnConsoleApp", self.app)

    @property
    def invoice_input(self) -> InvoiceInput:
        return self.query_one("#invoice-input", InvoiceInput)

    @property
    def amount_input(self) -> Input:
        return self.query_one("#amount-input", Input)

    @property
    def amount_row(self) -> Vertical:
        return self.query_one("#amount-row", Vertical)

    @property
    def amount_error(self) -> Static:
        return self.query_one("#amount-error", Static)

    @property
    def status_line(self) -> Static:
        return self.query_one("#invoice-status", Static)

    @property
    def problems_box(self) -> Static:
        return self.query_one("#invoice-problems", Static)

    @property
    def warnings_box(self) -> Static:
        return self.query_one("#invoice-warnings", Static)

    @property
    def details(self) -> InvoiceDetails:
        return self.query_one("#invoice-details", InvoiceDetails)

    @property
    def main(self) -> VerticalScroll:
        return self.query_one("#invoice-main", VerticalScroll)

    @property
    def demo_panel(self) -> DemoPayees | None:
        """The demo's payees (None outside the demo)."""
        found = self.query("#demo-picker")
        return found.first(DemoPayees) if found else None

    @property
    def qr_panel(self) -> QrPanel:
        return self.query_one("#invoice-qr", QrPanel)

    def now(self) -> int:
        return int(self.lnapp.clock())

    # -- life cycle ----------------------------------------------------------------------------------------

    def on_mount(self) -> None:
        self.amount_row.display = False
        self.details.display = False
        self.qr_panel.display = False
        for box in (self.amount_error, self.problems_box, self.warnings_box):
            _say(box, "")
        self.set_interval(1.0, self._tick)
        panel = self.demo_panel
        if panel is not None:
            panel.display = self._offers_demo_payees
        if self._initial_text:
            self.invoice_input.focus()
            self.invoice_input.value = self._initial_text
            self._check(self._initial_text)
        elif not self._offers_demo_payees:
            self.invoice_input.focus()

    def on_resize(self, event: events.Resize) -> None:
        self.call_after_refresh(self._place_qr)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """The demo's payees exist only in the demo."""
        if action == "demo_invoices":
            return self.lnapp.demo is not None
        return True

    # -- checking an invoice -------------------------------------------------------------------------------

    def _check(self, text: str, amount_text: str = "") -> None:
        """Start checking ``text`` (with ``amount_text`` for an invoice without amount) in a worker."""
        self.checking = True
        self._refusal = ""
        _say(self.status_line, "Checking the invoice with the node…")
        self.status_line.set_classes("muted")
        self.check_invoice(text, amount_text, self.lnapp.node, self.now())

    @work(thread=True, exclusive=True, exit_on_error=False, group="invoice")
    def check_invoice(self, text: str, amount_text: str, node: NodeClient, now: int) -> None:
        """Decode, cross-check and judge the invoice, and look up the aliases of the nodes it names."""
        worker = get_current_worker()
        result: Message
        try:
            payable = load_invoice(node, text, amount_text or None, now=now)
            result = self.Loaded(payable, _aliases(node, payable.invoice), amount_text)
        except InvoiceError as error:
            result = self.Refused(error.reason)
        except NodeUnreachable as error:
            result = self.Unreachable(error.message)
        except NodeError as error:  # an error or an unexpected answer to getinfo/decode: shown in place
            code = f" (code {error.code})" if error.code is not None else ""
            result = self.Unreachable(f"{error.method}: {error.message}{code}", answered=True)
        if not worker.is_cancelled:
            self.post_message(result)

    @on(InvoiceInput.Pasted)
    def _pasted(self, event: InvoiceInput.Pasted) -> None:
        self._new_text(event.text)

    @on(Input.Submitted, "#invoice-input")
    def _invoice_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        text = event.value
        if self.payable is not None and not self.checking and clean_invoice_text(text) == self.payable.invoice.bolt11:
            self.action_route()  # Enter on the invoice already checked: go on
            return
        self._new_text(text)

    def _new_text(self, text: str) -> None:
        if not text.strip():
            self._show_refusal("The invoice field is empty. " + EMPTY_HELP)
            return
        if self._recheck_timer is not None:
            self._recheck_timer.stop()
            self._recheck_timer = None
        with self.prevent(Input.Changed):  # a new invoice: its amount starts empty, without a recheck
            self.amount_input.value = ""
        self.amount_input.remove_class("-invalid")
        _say(self.amount_error, "")
        self._route_when_checked = False
        self._check(text)

    @on(Input.Changed, "#amount-input")
    def _amount_changed(self, event: Input.Changed) -> None:
        """Validate the amount as it is typed; once it parses, recheck the invoice with it (debounced)."""
        event.stop()
        error = self.amount_problem()
        _say(self.amount_error, error)
        self.amount_input.set_class(bool(error), "-invalid")
        if self.payable is None or self.payable.invoice.amount_msat is not None:
            return
        if error:
            self._show_verdict()
            return
        self.checking = True
        if self._recheck_timer is not None:
            self._recheck_timer.stop()
        self._recheck_timer = self.set_timer(AMOUNT_RECHECK_DELAY_S, self._recheck_amount)

    def _recheck_amount(self) -> None:
        self._recheck_timer = None
        if self.payable is not None and not self.amount_problem():
            self._check(self.payable.invoice.bolt11, self.amount_input.value.strip())

    @on(Input.Submitted, "#amount-input")
    def _amount_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_route()

    def amount_problem(self) -> str:
        """Why the amount field's text is not an amount ("" when it is, or while it is empty)."""
        text = self.amount_input.value.strip()
        if not text:
            return ""
        try:
            amount = parse_amount(text)
        except AmountError as error:
            return str(error)
        return "The amount must be more than 0." if amount == 0 else ""

    @on(Loaded)
    def _loaded(self, message: Loaded) -> None:
        first_sight = self.payable is None or self.payable.invoice.bolt11 != message.payable.invoice.bolt11
        self.checking = self._recheck_timer is not None
        self.payable = message.payable
        self._checked_amount = message.amount_text
        self._rechecked_expiry = False
        invoice = message.payable.invoice
        needs_amount = invoice.amount_msat is None
        self.amount_row.display = needs_amount
        panel = self.demo_panel
        if panel is not None and first_sight and panel.display:
            if self.focused is not None and panel in self.focused.ancestors_with_self:
                self.main.focus()
            panel.display = False  # the invoice takes its place (d brings the payees back)
            self.__dict__.pop("AUTO_FOCUS", None)  # the class's own again (see compose)
        self.details.display = True
        self.details.show(message.payable, message.aliases, self.now())
        self._show_verdict()
        self.qr_panel.show(invoice_qr_payload(invoice.bolt11))
        self._place_qr()
        if first_sight:
            self.main.scroll_home(animate=False)
            if needs_amount and not self.amount_input.value:
                self.amount_input.focus()
            elif self.focused is self.invoice_input:
                self.main.focus()
        if self._route_when_checked and not self.checking:
            self._route_when_checked = False
            self.action_route()

    @on(Refused)
    def _refused(self, message: Refused) -> None:
        self._show_refusal(f"Not an invoice that can be paid: {message.reason.rstrip('.')}.")

    def _show_refusal(self, text: str) -> None:
        self.checking = False
        self._route_when_checked = False
        self.payable = None
        self._refusal = text
        self.amount_row.display = False
        self.details.display = False
        self.details.clear()
        self.qr_panel.display = False
        _say(self.status_line, "")
        _say(self.problems_box, text)
        _say(self.warnings_box, "")

    @on(Unreachable)
    def _unreachable_node(self, message: Unreachable) -> None:
        if message.answered:
            self._show_refusal(
                "The node's answer could not be used, so the invoice was not checked "
                f"({message.reason}). Press Enter in the invoice field to try again."
            )
            return
        self._show_refusal(
            "The node cannot be reached, so the invoice was not checked "
            f"({message.reason}). Press Enter in the invoice field to try again once it is back."
        )
        self.lnapp.refresh_status()  # the header shows its banner until the node answers again

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A check that failed unexpectedly must not leave "Checking…" behind: the error is said here
        (ConsoleScreen hands it to the app, which notifies it)."""
        if event.worker.group in ("invoice", "demo-invoice") and event.state == WorkerState.ERROR:
            self.checking = False
            self._route_when_checked = False
            error = event.worker.error
            if isinstance(error, NodeError):
                code = f" (code {error.code})" if error.code is not None else ""
                what = f"{error.method}: {error.message}{code}"
            else:
                what = f"{type(error).__name__}: {error}"
            _say(self.status_line, f"The check failed ({what}). Press Enter to try again.")
            self.status_line.set_classes("problem")

    def _show_verdict(self) -> None:
        """Problems (refusals), warnings and what to do next, from the current check."""
        payable = self.payable
        if payable is None:
            return
        problems = list(payable.problems)
        listed = "\n".join(f"• {problem}" for problem in problems)
        _say(self.problems_box, f"Cannot be paid as it is:\n{listed}" if problems else "")
        _say(self.warnings_box, "\n".join(f"⚠ {warning}" for warning in payable.warnings))
        refusal = self.route_refusal()
        if refusal:
            _say(self.status_line, refusal if not problems else "Checked: see why it cannot be paid below.")
            self.status_line.set_classes("muted")
        else:
            amount = payable.amount_msat or 0
            _say(self.status_line, f"Ready to pay {format_sat(amount)}: press Enter or ctrl+r to find a route.")
            self.status_line.set_classes("ok")

    # -- the countdown -------------------------------------------------------------------------------------

    def _tick(self) -> None:
        payable = self.payable
        if payable is None or not self.details.display:
            return
        expired = self.details.tick(self.now())
        if expired and not payable.invoice.is_expired(payable.checked_at) and not self._rechecked_expiry:
            self._rechecked_expiry = True  # it expired while on screen: let the engine say so
            self._check(payable.invoice.bolt11, self._checked_amount)

    # -- the QR code ---------------------------------------------------------------------------------------

    def _place_qr(self) -> None:
        """Beside the details when both fit, below them when only that fits, else a note below."""
        panel = self.qr_panel
        if self.payable is None or not self._qr_wanted:
            panel.display = False
            return
        panel.display = True
        header = self.query_one(NodeHeader)
        width = self.size.width
        height = self.size.height - header.outer_size.height - 1  # the footer's line
        needed = panel.needed
        beside = width - MIN_DETAILS_WIDTH >= needed.width and height >= needed.height
        self.set_class(not beside, "-qr-below")
        if beside:
            panel.fit(Size(width - MIN_DETAILS_WIDTH, height))
        else:
            panel.fit(Size(width - 2, height - MIN_DETAILS_HEIGHT))

    def action_toggle_qr(self) -> None:
        self._qr_wanted = not self._qr_wanted
        self._place_qr()
        if self.payable is None:
            self.notify("The QR code appears once an invoice is checked.", title="QR code", markup=False)

    # -- actions -------------------------------------------------------------------------------------------

    def route_refusal(self) -> str:
        """Why the invoice cannot go on to the route editor now ("" when it can)."""
        payable = self.payable
        if payable is None:
            return self._refusal or "Paste an invoice first."
        if self.checking:
            return "The invoice is still being checked."
        if payable.invoice.amount_msat is None:
            amount_error = self.amount_problem()
            if amount_error:
                return amount_error
            if not self.amount_input.value.strip():
                return "This invoice has no amount: type the amount to pay."
            if self.amount_input.value.strip() != self._checked_amount:
                return "The invoice is still being checked."
        if payable.problems:
            return "Not payable: " + "; ".join(payable.problems) + "."
        if payable.invoice.is_expired(self.now()):
            return "The invoice has expired: ask the payee for a new one."
        if payable.amount_msat is None:
            return "This invoice has no amount: type the amount to pay."
        return ""

    @property
    def route_ready(self) -> bool:
        """The invoice is checked, payable, and its amount known: "Find route" goes on."""
        return not self.route_refusal()

    def action_route(self) -> None:
        if self.checking and self.payable is not None:
            self._route_when_checked = True
            self.notify(
                "Still checking the invoice: the route editor opens when it is done.", title="Find route", markup=False
            )
            return
        refusal = self.route_refusal()
        if refusal:
            self.notify(refusal, title="Cannot find a route yet", severity="warning", markup=False)
            return
        assert self.payable is not None
        self.post_message(InvoiceChosen(self.payable))

    def _copy(self, text: str | None, what: str) -> None:
        if not text:
            self.notify(f"No {what} to copy: paste an invoice first.", title="Copy", severity="warning", markup=False)
            return
        self.app.copy_to_clipboard(text)
        self.notify(f"The {what} is on the clipboard (if the terminal allows OSC 52).", title="Copied", markup=False)

    def action_copy_invoice(self) -> None:
        self._copy(self.payable.invoice.bolt11 if self.payable else None, "invoice")

    def action_copy_hash(self) -> None:
        self._copy(self.payable.invoice.payment_hash if self.payable else None, "payment hash")

    def action_copy_secret(self) -> None:
        self._copy(self.payable.invoice.payment_secret if self.payable else None, "payment secret")

    def action_edit_invoice(self) -> None:
        self.invoice_input.focus()
        self.invoice_input.select_all()

    def action_leave_field(self) -> None:
        if isinstance(self.focused, Input):
            self.main.focus()

    # -- the demo ------------------------------------------------------------------------------------------

    def action_demo_invoices(self) -> None:
        """Show the demo's payees (above the invoice shown, if any) and move to them."""
        panel = self.demo_panel
        if panel is None:
            return
        panel.display = True
        panel.option_list.focus()
        self.main.scroll_to_widget(panel, animate=False)

    @on(DemoPayees.Left)
    def _demo_payees_left(self, message: DemoPayees.Left) -> None:
        self.invoice_input.focus()

    @on(DemoPayees.Chosen)
    def _demo_payee_chosen(self, message: DemoPayees.Chosen) -> None:
        demo = self.lnapp.demo
        if demo is None or message.alias not in demo.payees:
            return
        _say(self.status_line, f"Asking {message.alias} for an invoice…")
        self.status_line.set_classes("muted")
        self.issue_demo_invoice(message.alias, demo.payees[message.alias], self.lnapp.node)

    @work(thread=True, exclusive=True, exit_on_error=False, group="demo-invoice")
    def issue_demo_invoice(self, alias: str, amount_msat: int, node: NodeClient) -> None:
        """Have a simulated payee issue an invoice (a simulator-only command)."""
        answer = node.call(
            "dev-sim-invoice",
            {"node": alias, "amount_msat": amount_msat, "description": f"lnconsole demo: pay {alias}"},
        )
        if not get_current_worker().is_cancelled:
            self.post_message(self.DemoInvoiceIssued(alias, str(answer["bolt11"])))

    @on(DemoInvoiceIssued)
    def _demo_invoice_issued(self, message: DemoInvoiceIssued) -> None:
        self.invoice_input.value = message.bolt11
        self._new_text(message.bolt11)


def _say(box: Static, text: str) -> None:
    """Show ``text`` in ``box``, or hide the box while there is nothing to say (no blank lines left behind).

    As plain text: what is shown quotes pasted and typed input, which must never be read as markup."""
    box.update(Text(text))
    box.display = bool(text)


def _aliases(node: NodeClient, invoice: Invoice) -> dict[str, str]:
    """Gossiped aliases of the payee and of the route hints' nodes (missing ones are simply not named)."""
    wanted = [invoice.payee, *(hop.node_id for hint in invoice.route_hints for hop in hint)]
    aliases: dict[str, str] = {}
    for node_id in dict.fromkeys(wanted):
        try:
            found = node.listnodes(node_id)
        except NodeUnreachable:
            raise
        except NodeError:
            continue
        for summary in found:
            if summary.alias:
                aliases[summary.node_id] = summary.alias
    return aliases
