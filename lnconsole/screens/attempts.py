"""Attempts: the live view of one payment while its parts are in flight, and what to do when one fails.

The screen renders the engine's events (the app hands each one to :meth:`AttemptsScreen.show_event` on the UI
thread). It keeps no payment state of its own that matters: the session keeps every event, so a screen opened
later (F4, or after the app restarted and :func:`resume_pending` attached to the node's pending parts) replays
them and shows the same payment. Leaving the screen stops nothing: the parts go on on the node.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from rich.cells import cell_len
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import DataTable, Static
from textual.worker import get_current_worker

from ..amounts import fee_ppm, format_sat
from ..invoice import InvoiceError, PayableInvoice, load_invoice
from ..node import NodeClient, NodeError, SendPayment
from ..payment import (
    NodeReachable,
    NodeUnreachableEvent,
    PartEvent,
    PartFailed,
    PartPending,
    PartProblem,
    PartSent,
    PartView,
    PaymentComplete,
    PaymentError,
    PaymentEvent,
    PaymentFailed,
    PaymentSession,
)
from ..plan import PaymentPlan, PaymentTarget, PlanError, RetryOffer
from ..routing import Route
from ..widgets.attempts_table import TERMINAL, AttemptsTable, PartKey, PartState, elapsed_text
from ..widgets.failure_panel import FailurePanel
from ..widgets.footer import QuietFooter
from ..widgets.header import NodeHeader
from .base import ConsoleScreen

if TYPE_CHECKING:
    from ..app import LnConsoleApp

log = logging.getLogger(__name__)


class AttemptsScreen(ConsoleScreen[None]):
    """One row per part, live; a failed part's explanation and retry keys; the preimage once paid."""

    CSS_PATH = "attempts.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "r",
            "retry",
            "Retry",
            id="attempts.retry",
            tooltip="Send the failed part's amount again on a route around the failing channel",
        ),
        Binding(
            "e",
            "edit_retry",
            "Edit & retry",
            id="attempts.edit_retry",
            tooltip="Edit the failed part's route in the route editor, then send it on that route",
        ),
        Binding(
            "g",
            "give_up",
            "Give up",
            id="attempts.give_up",
            tooltip="Send nothing more for the failed part (parts in flight can't be cancelled)",
        ),
        Binding(
            "c",
            "copy_preimage",
            "Copy preimage",
            id="attempts.copy_preimage",
            tooltip="Copy the preimage, the proof of payment, to the clipboard (OSC 52)",
        ),
        Binding(
            "h",
            "copy_hash",
            "Copy hash",
            id="attempts.copy_hash",
            tooltip="Copy the payment hash to the clipboard (OSC 52)",
        ),
        Binding(
            "escape",
            "back",
            "Back",
            id="attempts.back",
            tooltip="Leave this view; the payment goes on on the node and F4 brings it back",
        ),
    ]

    PENDING_REDRAW_S: ClassVar[float] = 1.0
    """Rows of parts in flight are redrawn this often, together, counting their time on from the watcher's last
    report: the watcher long-polls (``Settings.poll_timeout_s``) so that waiting costs almost nothing, and
    redrawing per report would redraw the whole table for each part (issue 5: idle cost)."""

    EXPECTED_PART_S: ClassVar[float] = 10.0
    """How long a part usually takes to settle; the progress bar fills up to it and a part pending longer is
    drawn as slow. It is no deadline: the watcher keeps asking (``waitsendpay``, ``poll_timeout_s`` at a time)
    until the part settles."""

    class RetryDone(Message):
        """A retry went out (``refused`` empty) or was refused by the engine (the reason)."""

        def __init__(self, key: PartKey, refused: str = "") -> None:
            super().__init__()
            self.key = key
            self.refused = refused

    class RetryReady(Message):
        """The route a retry would take, found and checked but not sent: it goes to the confirmation first."""

        def __init__(self, key: PartKey, offer: RetryOffer) -> None:
            super().__init__()
            self.key = key
            self.offer = offer

    class InvoiceLoaded(Message):
        """The invoice, read again from the payment's bolt11, for the route editor."""

        def __init__(self, key: PartKey, invoice: PayableInvoice) -> None:
            super().__init__()
            self.key = key
            self.invoice = invoice

    class EditorUnavailable(Message):
        """No route editor for that part: the reason."""

        def __init__(self, key: PartKey, reason: str) -> None:
            super().__init__()
            self.key = key
            self.reason = reason

    def __init__(
        self,
        session: PaymentSession,
        plan: PaymentPlan | None = None,
        *,
        invoice: PayableInvoice | None = None,
        expected_s: float | None = None,
    ) -> None:
        super().__init__()
        self.session = session
        self.plan = plan
        self.invoice = invoice
        self.expected_s = expected_s if expected_s is not None else self.EXPECTED_PART_S
        self._parts: dict[PartKey, PartState] = {}
        self._outcome: PaymentComplete | PaymentFailed | None = None
        self._down: dict[PartKey, NodeUnreachableEvent] = {}
        self._back_note = ""
        self._launch_error = ""
        """Why the launch was refused before any part went out (empty while it wasn't)."""
        self._replayed_events: list[PaymentEvent] = []
        """The session's history as replayed on mount (kept so their ids stay theirs while compared)."""
        self._replayed_ids: set[int] = set()
        self._replayed = False
        self._shown_several = False
        self._key_states: tuple[bool | None, ...] | None = None
        """What check_action said for the keys that come and go, when the footer was last refreshed."""
        self._texts: dict[Static, Text] = {}
        """What the title and outcome views show (see _show_text)."""

    # -- what the app uses -------------------------------------------------------------------------------------

    @property
    def payment_hash(self) -> str:
        return self.session.target.payment_hash

    def show_event(self, event: PaymentEvent) -> None:
        """An engine event of this payment, on the UI thread. Before the screen is mounted nothing is done:
        the session keeps every event, and mounting replays them; an event replayed is not shown twice."""
        if not self._replayed:
            return
        if self._replayed_ids:
            # The app's messages for events delivered before the replay arrive first, in order; the first
            # event not replayed means every later one is new too.
            if id(event) in self._replayed_ids:
                return
            self._replayed_ids.clear()
            self._replayed_events = []
        key = self._apply(event)
        if isinstance(event, PartPending) and key is not None and self._parts[key].status not in TERMINAL:
            return  # only the part's elapsed time changed: the once-a-second tick redraws pending rows
        self._refresh_view(key)

    def _tick(self) -> None:
        """Redraw the rows of parts in flight, their elapsed time counted on from the last report."""
        pending = [key for key, state in self._parts.items() if state.status not in TERMINAL]
        if not pending:
            return
        several = self._several_groups()
        for key in sorted(pending):
            self.table.show_part(self._parts[key], several_groups=several)

    # -- children ----------------------------------------------------------------------------------------------

    @property
    def table(self) -> AttemptsTable:
        return self.query_one(AttemptsTable)

    @property
    def failure_panel(self) -> FailurePanel:
        return self.query_one(FailurePanel)

    @property
    def outcome_view(self) -> Static:
        return self.query_one("#attempts-outcome", Static)

    @property
    def banner(self) -> Static:
        return self.query_one("#attempts-node-away", Static)

    def compose(self) -> ComposeResult:
        yield NodeHeader()
        yield Static(self._title(), id="attempts-title")
        yield Static(id="attempts-node-away")
        with VerticalScroll(id="attempts-body"):
            yield AttemptsTable(self.expected_s, clock=self._lnapp.monotonic, id="attempts-table")
            yield Static(id="attempts-outcome")
            yield FailurePanel(id="attempts-failure")
        yield QuietFooter()

    def on_mount(self) -> None:
        self._replayed_events = self.session.events
        self._replayed_ids = {id(event) for event in self._replayed_events}
        for event in self._replayed_events:
            self._apply(event)
        for view in self.session.parts():
            self._reconcile(view)
        if self._outcome is None:
            self._outcome = self.session.outcome
        self._replayed = True
        self._key_states = self._current_key_states()  # the footer gets its keys when the table takes focus
        self._refresh_view(None)
        self.set_interval(self.PENDING_REDRAW_S, self._tick)
        waiting = next((state for state in self._parts.values() if state.can_retry), None)
        if waiting is not None:  # reopened (F4) on a failure still waiting for a decision: show it
            self._select_failure(waiting.key)
        self.table.focus()

    # -- state from events ----------------------------------------------------------------------------------------

    def _apply(self, event: PaymentEvent) -> PartKey | None:
        if isinstance(event, PaymentComplete):
            self._outcome = event
            return None
        if isinstance(event, PaymentFailed):
            if not isinstance(self._outcome, PaymentComplete):
                self._outcome = event
            return None
        if not isinstance(event, PartEvent):
            return None
        key = (event.groupid, event.partid)
        state = self._parts.get(key)
        if state is None:
            state = PartState(
                groupid=event.groupid,
                partid=event.partid,
                amount_msat=event.amount_msat,
                amount_sent_msat=event.amount_sent_msat,
                route=event.route,
                status=event.status,
            )
            self._parts[key] = state
        elif state.status in TERMINAL and event.status not in TERMINAL:
            return key  # an older report that arrived late: the part has settled
        state.status = event.status
        state.elapsed = event.elapsed
        state.seen_at = self._lnapp.monotonic()
        state.amount_sent_msat = event.amount_sent_msat or state.amount_sent_msat
        if event.route is not None:
            state.route = event.route
        if isinstance(event, PartSent):
            if isinstance(self._outcome, PaymentFailed):
                self._outcome = None  # a retry went out: the payment is live again
            if event.retry_of is not None:
                state.retry_of = event.retry_of
                earlier = self._parts.get(event.retry_of)
                if earlier is not None:
                    earlier.retried_by = key
                    earlier.retrying = False
        elif isinstance(event, PartFailed):
            state.failure = event.failure
            state.explanation = event.explanation
            state.code = event.code
            state.message = event.message
            state.retryable = event.retryable
            state.final = event.final
        elif isinstance(event, NodeUnreachableEvent):
            state.node_down = True
            self._down[key] = event
        elif isinstance(event, NodeReachable):
            state.node_down = False
            self._down.pop(key, None)
            self._back_note = f"The node answers again (it was away {elapsed_text(event.down_for)})."
        elif isinstance(event, PartProblem):
            state.message = event.message
        if state.status in TERMINAL:
            state.node_down = False
            self._down.pop(key, None)
        return key

    def _reconcile(self, view: PartView) -> None:
        """The session's own snapshot wins over replayed events for what it knows better (retries, status)."""
        state = self._parts.get((view.groupid, view.partid))
        if state is None:
            state = PartState(
                groupid=view.groupid,
                partid=view.partid,
                amount_msat=view.amount_msat,
                amount_sent_msat=view.amount_sent_msat,
                route=view.route,
                status=view.status,
                message=view.message,
                failure=view.failure,
                explanation=view.explanation,
                code=view.code,
                retryable=view.retryable,
            )
            self._parts[state.key] = state
        if view.status in TERMINAL:
            state.status = view.status
        state.retried_by = view.retried_by or state.retried_by
        if view.retried_by is not None:
            state.retryable = False

    # -- rendering ----------------------------------------------------------------------------------------------

    def _several_groups(self) -> bool:
        return len({key[0] for key in self._parts}) > 1

    def _refresh_view(self, changed: PartKey | None) -> None:
        table = self.table
        several = self._several_groups()
        if changed is None or several != self._shown_several:
            for key in sorted(self._parts):
                table.show_part(self._parts[key], several_groups=several)
        else:
            table.show_part(self._parts[changed], several_groups=several)
        self._shown_several = several
        self._show_text(self.query_one("#attempts-title", Static), self._title())
        if changed is not None and self._parts[changed].status == "failed":
            self._select_failure(changed)
        self._render_banner()
        self._render_outcome()
        self._render_panel()
        self._refresh_keys()

    def _select_failure(self, key: PartKey) -> None:
        """Bring a new failure into view, unless the payer is already looking at another failed part."""
        current = self._selected()
        if current is not None and current.status == "failed" and current.key != key:
            return
        table = self.table
        row = table.get_row_index(AttemptsTable.row_key(key))
        if table.cursor_row != row:
            table.move_cursor(row=row)

    def _title(self) -> Text:
        target = self.session.target
        alias = self._payee_alias()
        return Text.assemble(
            ("Paying ", "bold"),
            (alias or target.destination[:16] + "…", "bold"),
            (f"  {target.destination[:16]}…" if alias else "", "dim"),
            f"  {format_sat(target.amount_msat)}",
            (f"  · hash {target.payment_hash[:16]}…", "dim"),
        )

    def _payee_alias(self) -> str:
        routes = [part.route for part in self.plan.parts] if self.plan is not None else []
        routes += [state.route for state in self._parts.values()]
        return next((route.hops[-1].alias for route in routes if route is not None and route.hops), "")

    def _render_banner(self) -> None:
        banner = self.banner
        if self._down:
            latest = max(self._down.values(), key=lambda event: event.attempt)
            banner.update(
                Text(
                    f"The node does not answer ({latest.message}; attempt {latest.attempt}, next try in "
                    f"{latest.retry_in:.1f}s). The parts go on on the node and are watched again when it answers."
                )
            )
            banner.display = True
        else:
            banner.display = False

    def show_launch_error(self, message: str) -> None:
        """The launch itself was refused (before any part went out): say so where the parts would be."""
        self._launch_error = message
        if self._replayed:  # else the mount shows it
            self._render_outcome()

    def _render_outcome(self) -> None:
        view = self.outcome_view
        outcome = self._outcome
        if self._launch_error and not self._parts:
            view.set_classes("-failed")
            self._show_text(view, Text.assemble(("✗ Not sent: ", "bold"), self._launch_error))
            return
        if isinstance(outcome, PaymentComplete):
            view.set_classes("-complete")
            self._show_text(view, self._completion_text(outcome))
            return
        if isinstance(outcome, PaymentFailed):
            view.set_classes("-failed")
            heading = "✗ The payment failed: " if outcome.final else "✗ Not complete: "
            self._show_text(view, Text.assemble((heading, "bold"), outcome.reason))
            return
        view.set_classes("-live")
        states = list(self._parts.values())
        live = [state for state in states if state.status not in TERMINAL]
        complete = [state for state in states if state.status == "complete"]
        text = Text.assemble(
            (f"{len(live)} in flight", "bold"),
            f" · {len(complete)} complete · {format_sat(sum(s.amount_msat for s in complete))} of "
            f"{format_sat(self.session.target.amount_msat)} delivered",
        )
        if not states:
            text = Text("Sending…" if self.plan is not None else "Asking the node about this payment…", style="bold")
        if self._back_note:
            text.append(f"\n{self._back_note}", style="green")
        text.append("\nLeaving this view or the app doesn't stop the payment: F4 brings it back.", style="dim")
        self._show_text(view, text)

    def _show_text(self, view: Static, text: Text) -> None:
        """Show ``text`` in ``view``: not at all when it is what the view shows, and without laying the screen out
        again when it can't change the view's height. Each event of a payment changes a count here, and a layout
        of the whole screen turns the next frame from a redraw of what changed into a redraw of everything
        (issue 5)."""
        shown = self._texts.get(view)
        if shown is not None and (shown.plain, shown.style, shown.spans) == (text.plain, text.style, text.spans):
            return
        self._texts[view] = text
        view.update(text, layout=shown is None or _height_changes(view, shown, text))

    def _completion_text(self, done: PaymentComplete) -> Text:
        ppm = fee_ppm(done.fee_msat, done.amount_msat)
        text = Text.assemble(
            ("✓ Paid ", "bold green"),
            (format_sat(done.amount_msat), "bold"),
            f" in {done.parts} part{'s' if done.parts != 1 else ''}",
            f" · total sent {format_sat(done.amount_sent_msat)}",
            f" · fees {done.fee_msat:,} msat ({ppm} ppm)",
            f" · took {elapsed_text(done.elapsed)}",
        )
        if done.already_paid:
            text.append("\nIt was paid before this console sent anything: nothing was sent this time.", style="dim")
        text.append("\nPreimage (proof of payment, c copies it):\n", style="bold")
        text.append(done.preimage or "(none reported)", style="bold")
        return text

    def _render_panel(self) -> None:
        panel = self.failure_panel
        state = self._selected()
        if state is None or state.status not in ("failed", "not_sent"):
            panel.display = False
            return
        panel.show_part(state)
        panel.display = True

    # -- selection ----------------------------------------------------------------------------------------------

    def _selected(self) -> PartState | None:
        if not self._replayed:
            return None
        key = self.table.selected_key
        return self._parts.get(key) if key is not None else None

    @on(DataTable.RowHighlighted, "#attempts-table")
    def _row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._render_panel()
        self._refresh_keys()

    _KEYED_ACTIONS: ClassVar[tuple[str, ...]] = ("retry", "edit_retry", "give_up", "copy_preimage")

    def _refresh_keys(self) -> None:
        """Refresh the footer only when a key turned on or off: ``refresh_bindings`` rebuilds every key of the
        footer, which costs milliseconds, and events arrive by the dozen while parts settle (issue 5)."""
        states = self._current_key_states()
        if states != self._key_states:
            self._key_states = states
            self.refresh_bindings()

    def _current_key_states(self) -> tuple[bool | None, ...]:
        return tuple(self.check_action(action, ()) for action in self._KEYED_ACTIONS)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("retry", "edit_retry"):
            state = self._selected()
            return state is not None and state.can_retry
        if action == "give_up":
            state = self._selected()
            return (
                state is not None
                and state.status in ("failed", "not_sent")
                and state.retried_by is None
                and not state.given_up
            )
        if action == "copy_preimage":
            if isinstance(self._outcome, PaymentComplete) and self._outcome.preimage:
                return True
            # In flight: shown dimmed, so the footer keeps its keys when the payment completes (no layout then).
            return None if self._outcome is None else False
        return True

    # -- actions ------------------------------------------------------------------------------------------------

    def action_retry(self) -> None:
        state = self._selected()
        if state is None or not state.can_retry:
            return
        state.retrying = True
        self._refresh_view(state.key)
        self._propose_retry(state.key, None)

    def action_edit_retry(self) -> None:
        state = self._selected()
        if state is None or not state.can_retry:
            return
        if self.invoice is None:
            self._load_invoice(state.key)
        else:
            self._open_editor(state.key)

    def action_give_up(self) -> None:
        state = self._selected()
        if state is None or state.retried_by is not None or state.given_up:
            return
        state.given_up = True
        self._refresh_view(state.key)
        in_flight = [part for part in self._parts.values() if part.status not in TERMINAL]
        if in_flight:
            self.notify(
                f"Nothing more is sent for part {state.partid}. A payment can't be cancelled: the "
                f"{len(in_flight)} part(s) in flight go on on the node until they settle.",
                title="Part given up",
            )
            return
        self.notify(
            f"Nothing more is sent for part {state.partid}; nothing is in flight. F4 shows this payment again.",
            title="Payment given up",
        )
        if self.app.screen is self:
            self.dismiss()

    def action_copy_preimage(self) -> None:
        if isinstance(self._outcome, PaymentComplete) and self._outcome.preimage:
            self.app.copy_to_clipboard(self._outcome.preimage)
            self.notify("The preimage is on the clipboard.", title="Copied")

    def action_copy_hash(self) -> None:
        self.app.copy_to_clipboard(self.payment_hash)
        self.notify("The payment hash is on the clipboard.", title="Copied")

    def action_back(self) -> None:
        if self.app.screen is self and len(self.app.screen_stack) > 2:
            self.dismiss()

    # -- retrying (never exclusive: cancelling the worker must not cancel a retry) ----------------------------

    @work(thread=True, exit_on_error=False, group="retry")
    def _propose_retry(self, key: PartKey, route: Route | None) -> None:
        """Find (or check the edited) route for the retry; nothing is sent before the payer confirms it."""
        app = self._lnapp
        maxfee = app.settings.maxfee_for(self.session.target.amount_msat)
        try:
            found = self.session.propose_retry(
                key[1], groupid=key[0], route=route, maxfee_msat=maxfee, maxdelay=app.settings.maxdelay
            )
        except PaymentError as error:
            self.post_message(self.RetryDone(key, error.message))
            return
        except NodeError:
            self.post_message(self.RetryDone(key, "the node did not answer; see the notification"))
            raise
        if not get_current_worker().is_cancelled:
            self.post_message(self.RetryReady(key, RetryOffer(self.session.target, key[1], key[0], found)))

    @on(RetryReady)
    def _retry_ready(self, message: RetryReady) -> None:
        """The retry is money sent: the same confirmation as a payment, with the part, its new route and fees."""
        from .confirm import ConfirmDialog

        def answered(send: bool | None) -> None:
            state = self._parts.get(message.key)
            if state is None:
                return
            if send and state.retried_by is None and not state.given_up:  # the engine checks all again
                self._send_retry(message.key, message.offer.route)
                return
            state.retrying = False
            self._refresh_view(message.key)

        self.app.push_screen(ConfirmDialog(message.offer, self.invoice, self._lnapp.settings), answered)

    @work(thread=True, exit_on_error=False, group="retry")
    def _send_retry(self, key: PartKey, route: Route) -> None:
        app = self._lnapp
        maxfee = app.settings.maxfee_for(self.session.target.amount_msat)
        refused = ""
        try:
            self.session.retry_part(
                key[1], groupid=key[0], route=route, maxfee_msat=maxfee, maxdelay=app.settings.maxdelay
            )
        except PaymentError as error:
            refused = error.message
        except NodeError:
            self.post_message(self.RetryDone(key, "the node did not answer; see the notification"))
            raise
        if not get_current_worker().is_cancelled:
            self.post_message(self.RetryDone(key, refused))

    @on(RetryDone)
    def _retry_done(self, message: RetryDone) -> None:
        state = self._parts.get(message.key)
        if state is None:
            return
        state.retrying = False
        if message.refused:
            state.retryable = False
            state.message = f"Retry refused: {message.refused}"
            self.notify(message.refused, title="Not retried", severity="warning", markup=False)
        self._refresh_view(message.key)

    @work(thread=True, exclusive=True, exit_on_error=False, group="route-edit")
    def _load_invoice(self, key: PartKey) -> None:
        """The invoice again from its bolt11, for a screen opened without it (a payment found on the node)."""
        app = self._lnapp
        target = self.session.target
        if not target.bolt11:
            reason = "the invoice is not known here (the node's record has no bolt11), so the route can't be edited"
            self.post_message(self.EditorUnavailable(key, reason))
            return
        try:
            invoice = load_invoice(app.node, target.bolt11, str(target.amount_msat), now=int(app.clock()))
        except InvoiceError as error:
            if not get_current_worker().is_cancelled:
                self.post_message(self.EditorUnavailable(key, f"the invoice can't be read again: {error}"))
            return
        if not get_current_worker().is_cancelled:
            self.post_message(self.InvoiceLoaded(key, invoice))

    @on(InvoiceLoaded)
    def _invoice_loaded(self, message: InvoiceLoaded) -> None:
        self.invoice = message.invoice
        self._open_editor(message.key)

    @on(EditorUnavailable)
    def _editor_unavailable(self, message: EditorUnavailable) -> None:
        self.notify(
            message.reason[0].upper() + message.reason[1:] + ".", title="Route editor", severity="warning", markup=False
        )

    def _open_editor(self, key: PartKey) -> None:
        """The route editor for the failed part's amount, from its failed route (or a fresh one when the route
        is not known here); the edited route it hands back is sent as the retry."""
        from .route import RouteScreen

        state = self._parts.get(key)
        if state is None or self.invoice is None:
            return

        def edited(route: Route | None) -> None:
            current = self._parts.get(key)
            if route is None or current is None or not current.can_retry:
                return
            current.retrying = True
            self._refresh_view(key)
            self._propose_retry(key, route)

        screen = RouteScreen(self.invoice, state.route, part=state.partid, amount_msat=state.amount_msat)
        self.app.push_screen(screen, edited)

    @property
    def _lnapp(self) -> LnConsoleApp:
        return self.app  # type: ignore[return-value]


def _text_rows(view: Static, text: Text) -> int | None:
    """The rows ``text`` takes in ``view`` at its present width, or None when a line would wrap (then only a
    layout knows)."""
    width = view.content_size.width
    lines = text.plain.split("\n")
    if width <= 0 or max(cell_len(line) for line in lines) > width:
        return None
    return len(lines)


def _height_changes(view: Static, shown: Text, text: Text) -> bool:
    """Whether ``view`` (``height: auto``, perhaps with a ``min-height``) changes height from ``shown`` to ``text``."""
    before, after = _text_rows(view, shown), _text_rows(view, text)
    if before is None or after is None:
        return True
    if before == after:
        return False
    minimum = view.styles.min_height
    if minimum is None or not minimum.is_cells:
        return True
    floor = int(minimum.value) - view.styles.gutter.height  # the rows inside its border and padding
    return max(before, floor) != max(after, floor)


# ---------------------------------------------------------------------------------------------------------------
# Pending payments found when the console starts


def resume_pending(app: LnConsoleApp, pending: Sequence[SendPayment]) -> list[PaymentSession]:
    """Watch again the node's payments still in flight (``pending``: its ``listsendpays status=pending``).

    Runs in a worker thread (the app calls it once mounted; again when the node comes back is safe, as
    payments already watched are skipped). Each payment gets a session
    (``app.new_session``) that attaches to its parts without sending anything; the newest is shown in an
    :class:`AttemptsScreen` and all are reachable later (F4 shows the latest).
    """
    records = sorted(pending, key=lambda record: record.created_index)
    by_hash: dict[str, list[SendPayment]] = {}
    for record in records:
        by_hash.setdefault(record.payment_hash, []).append(record)

    def claim(target: PaymentTarget) -> PaymentSession | None:
        """On the UI thread: a session for a payment nobody watches yet (checked and made in one step)."""
        return None if target.payment_hash in app.sessions else app.new_session(target)

    sessions: list[PaymentSession] = []
    for payment_hash, parts in by_hash.items():
        if payment_hash in app.sessions:
            continue
        target = pending_target(app.node, payment_hash, parts)
        session = app.call_from_thread(claim, target) if target is not None else None
        if session is not None:
            sessions.append(session)
    if not sessions:
        return []
    app.call_from_thread(app.push_screen, AttemptsScreen(sessions[-1]))
    for session in sessions:
        session.attach()
    count = len(sessions)
    app.call_from_thread(
        app.notify,
        f"{count} payment{'s' if count != 1 else ''} still in flight on the node: watching "
        f"{'them' if count != 1 else 'it'} again (F4 shows the latest).",
        title="Pending payments",
    )
    return sessions


def pending_target(node: NodeClient, payment_hash: str, parts: list[SendPayment]) -> PaymentTarget | None:
    """What a payment found on the node was for: its invoice when the node kept the bolt11 (the payment
    secret, total and final CLTV that a retry needs), else what its parts tell (watching needs no more)."""
    bolt11 = next((part.bolt11 for part in parts if part.bolt11), None)
    decoded: dict[str, Any] = {}
    if bolt11:
        try:
            decoded = node.decode(bolt11)
        except NodeError as error:
            log.warning("could not decode the bolt11 of pending payment %s: %s", payment_hash, error.message)
    destination = decoded.get("payee") or next((part.destination for part in parts if part.destination), None)
    amount = _msat(decoded.get("amount_msat")) or sum(part.amount_msat or 0 for part in parts)
    try:
        return PaymentTarget(
            payment_hash=payment_hash,
            payment_secret=decoded.get("payment_secret"),
            destination=destination,  # type: ignore[arg-type]
            amount_msat=amount,
            min_final_cltv_expiry=int(decoded.get("min_final_cltv_expiry", 18)),
            bolt11=bolt11,
        )
    except PlanError as error:
        log.warning("pending payment %s can't be watched: %s", payment_hash, error)
        return None


def _msat(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.removesuffix("msat").isdigit():
        return int(value.removesuffix("msat"))
    return 0


__all__ = ["AttemptsScreen", "pending_target", "resume_pending"]
