"""The Textual app: wires the node client, the engine and the screens together.

``make_app`` builds it the same way for ``lnconsole``, ``lnconsole --demo``, the tests and the screenshots
script. The app owns what must outlive a screen: the node client, the node's status (polled by a background
worker), and the payment sessions in flight, whose watcher threads post their events here; screens render
that state and ask the app to act.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from textual import on, work
from textual.app import App
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.reactive import reactive
from textual.screen import Screen
from textual.worker import Worker, WorkerState, get_current_worker

from .invoice import PayableInvoice
from .node import NodeClient, NodeError, NodeInfo, NodeUnreachable
from .screens.messages import InvoiceChosen, PayRequested
from .screens.palette import ActionsProvider
from .widgets import textual_fixes

if TYPE_CHECKING:  # the payment engine is imported when a payment starts, not before the first screen (issue 5)
    from .payment import PaymentEvent, PaymentSession
    from .plan import PaymentPlan, PaymentTarget

log = logging.getLogger(__name__)

SHOW_ATTEMPTS_AFTER_S = 0.05
"""A confirmed payment's attempts screen comes up once its parts are sent, or after this long if sending takes
longer (a slow node): soon enough to read as the answer to the key, late enough that 16 sendpays on a quick
node are out before the screen is drawn."""

STATUS_INTERVAL_S = 5.0
"""How often the header asks the node how it is (getinfo + listpeerchannels): cheap, and enough to notice
a node that went away or came back."""


@dataclass(frozen=True)
class Settings:
    """What the user can tune; defaults suit a demo and a cautious operator alike."""

    maxfee_ppm: int = 5_000
    """Default fee limit for route finding, as parts per million of the amount (0.5%)."""
    min_maxfee_msat: int = 5_000
    """Never limit fees below this, so small payments still find a route."""
    maxdelay: int = 2016
    """Default CLTV limit (lightningd's own maximum)."""
    poll_timeout_s: int = 5
    """waitsendpay timeout of each watcher poll: a long poll, so a part in flight costs one call per part every
    few seconds (waitsendpay returns as soon as the part settles, so nothing is seen later); the attempts screen
    counts elapsed time on between polls."""
    confirm_typed_above_msat: int = 1_000_000_000
    """Payments above this (1,000,000 sat) must be confirmed by typing the amount back."""

    def maxfee_for(self, amount_msat: int) -> int:
        return max(self.min_maxfee_msat, amount_msat * self.maxfee_ppm // 1_000_000)


@dataclass(frozen=True)
class DemoInfo:
    """What ``--demo`` knows about its simulated network: payees whose invoices the invoice screen offers."""

    payees: dict[str, int] = field(default_factory=dict)
    """Alias -> suggested invoice amount (msat)."""
    stories: dict[str, str] = field(default_factory=dict)
    """Alias -> what paying it shows."""


@dataclass(frozen=True)
class NodeStatus:
    """The header's view of the node: None fields while unknown."""

    info: NodeInfo | None = None
    channels: int = 0
    spendable_msat: int = 0
    reachable: bool = True
    error: str = ""


class NodeStatusChanged(Message):
    """The status worker learnt something new about the node."""

    def __init__(self, status: NodeStatus) -> None:
        super().__init__()
        self.status = status

    def can_replace(self, message: Message) -> bool:
        """A burst of status updates collapses into the latest."""
        return isinstance(message, NodeStatusChanged)


class PaymentUpdate(Message):
    """An engine event from a payment's watcher threads, brought to the UI thread."""

    def __init__(self, event: PaymentEvent) -> None:
        super().__init__()
        self.event = event


class LnConsoleApp(App[None]):
    """A payment console for one Core Lightning node."""

    TITLE = "lnconsole"
    CSS_PATH = "lnconsole.tcss"
    COMMANDS = App.COMMANDS | {ActionsProvider}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f2", "new_payment", "New", id="new_payment", tooltip="A new payment: paste an invoice"),
        Binding("f4", "attempts", "Attempts", id="attempts", tooltip="The payment being watched"),
        Binding("f5", "history", "History", id="history", tooltip="Earlier payments (listsendpays)"),
        # priority: ctrl+q leaves from every screen, dialogs included (a dialog's keys would otherwise stop it).
        Binding(
            "ctrl+q", "quit", "Quit", id="quit", tooltip="Leave the console; payments go on on the node", priority=True
        ),
    ]

    status: reactive[NodeStatus] = reactive(NodeStatus, always_update=True)
    """The node's status, refreshed every few seconds by a background worker."""

    def __init__(
        self,
        node: NodeClient,
        settings: Settings | None = None,
        *,
        demo: DemoInfo | None = None,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
        poll_status: bool = True,
    ) -> None:
        textual_fixes.apply()  # Textual #6665: closed widgets' rendered lines kept, and walked by every full GC
        super().__init__()
        self.node = node
        self.settings = settings or Settings()
        self.demo = demo
        self.clock = clock
        """Wall clock (invoice expiry countdowns); tests and snapshots pin it."""
        self.monotonic = monotonic
        """Elapsed-time clock handed to payment sessions; tests and snapshots pin it."""
        self.sessions: dict[str, PaymentSession] = {}
        """Payment sessions by payment_hash; they outlive the screens that show them."""
        self._launching: set[PaymentSession] = set()
        """Sessions claimed by a confirmation whose launch has not returned yet."""
        self._poll_status = poll_status

    # -- node status ---------------------------------------------------------------------------------------

    def on_mount(self) -> None:
        from .screens.invoice import InvoiceScreen

        screen = InvoiceScreen()
        self.push_screen(screen)
        # The header asks the node once the first screen is drawn: the answer can't be on that screen anyway,
        # and its worker thread would only slow the drawing down (issue 5: start-up). After the screen's refresh,
        # not the app's: the app refreshes itself only on a focus change, and the first screen may not focus.
        screen.call_after_refresh(self.refresh_status)
        self.resume_payments()
        if self._poll_status:
            self.set_interval(STATUS_INTERVAL_S, self.refresh_status)
        if not self.is_headless:
            self._leave_on_signals()

    def _leave_on_signals(self) -> None:
        """SIGTERM (``kill``) and SIGHUP (the SSH session dropped) end the console as ctrl+q does: the terminal
        restored, the demo's node and its temporary directory gone. Python's default for both ends the process
        on the spot. Payments in flight go on on the node either way. The handlers go with the app's event loop."""
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGHUP):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):  # no signals here
                loop.add_signal_handler(signum, self.exit)

    @work(thread=True, exclusive=True, exit_on_error=False, group="status")
    def refresh_status(self) -> None:
        """Ask the node who it is and what it can spend; a failure is shown as unreachable, not raised."""
        try:
            info = self.node.getinfo()
            channels = self.node.listpeerchannels()
        except NodeError as error:
            status = NodeStatus(info=self.status.info, reachable=False, error=error.message)
        else:
            usable = [channel for channel in channels if channel.state == "CHANNELD_NORMAL"]
            status = NodeStatus(
                info=info,
                channels=len(usable),
                spendable_msat=sum(channel.spendable_msat for channel in usable if channel.peer_connected),
            )
        if not get_current_worker().is_cancelled:
            self.post_message(NodeStatusChanged(status))

    @on(NodeStatusChanged)
    def _status_changed(self, message: NodeStatusChanged) -> None:
        was_reachable = self.status.reachable
        self.status = message.status
        if was_reachable and not message.status.reachable:
            log.warning("node unreachable: %s", message.status.error)
        elif not was_reachable and message.status.reachable:
            self.notify("The node answers again.", title="Node back")
            self.resume_payments()  # payments that were pending while it was away are watched again

    # -- navigation ----------------------------------------------------------------------------------------

    def action_new_payment(self) -> None:
        from .screens.invoice import InvoiceScreen

        while len(self.screen_stack) > 2:
            self.pop_screen()
        if isinstance(self.screen, InvoiceScreen):
            self.screen.action_edit_invoice()
        else:
            self.push_screen(InvoiceScreen())

    def action_history(self) -> None:
        from .screens.history import HistoryScreen

        if not isinstance(self.screen, HistoryScreen):
            self.push_screen(HistoryScreen())

    def action_attempts(self) -> None:
        from .screens.attempts import AttemptsScreen

        if not self.sessions:
            self.notify("No payment is being watched yet.", title="Attempts")
            return
        session = list(self.sessions.values())[-1]
        if not isinstance(self.screen, AttemptsScreen):
            self.push_screen(AttemptsScreen(session))

    @on(InvoiceChosen)
    def _invoice_chosen(self, message: InvoiceChosen) -> None:
        from .screens.route import RouteScreen

        self.push_screen(RouteScreen(message.invoice))

    @on(PayRequested)
    def _pay_requested(self, message: PayRequested) -> None:
        """Nothing is sent without the confirmation dialog saying yes."""
        from .screens.confirm import ConfirmDialog

        plan = message.plan

        def confirmed(answer: bool | None) -> None:
            if answer:
                self.launch(plan, message.invoice)

        self.push_screen(ConfirmDialog(plan, message.invoice, self.settings), confirmed)

    @work(thread=True, exit_on_error=False, group="launch")
    def launch(self, plan: PaymentPlan, invoice: PayableInvoice | None = None) -> None:
        """Send the confirmed plan (never exclusive: cancelling this worker must not cancel a payment)."""
        from .payment import PaymentError
        from .screens.attempts import AttemptsScreen

        session = self.call_from_thread(self._claim_launch, plan.target)
        if session is None:
            return  # this app already sends or watches this payment: shown again, nothing sent twice
        screen = AttemptsScreen(session, plan, invoice=invoice)
        # The parts go out first and the screen follows (at the latest after SHOW_ATTEMPTS_AFTER_S): drawing a
        # new screen holds the UI thread, and the GIL, for tens of milliseconds, and the sendpays made meanwhile
        # waited for it (issue 5: payment overhead). The screen replays on mount what the session reported.
        shown = threading.Event()
        self.call_from_thread(self.set_timer, SHOW_ATTEMPTS_AFTER_S, lambda: self._show_once(screen, shown))
        try:
            session.launch(plan)
        except (PaymentError, NodeError) as error:
            self.call_from_thread(self._show_once, screen, shown)
            self.call_from_thread(screen.show_launch_error, error.message)
            raise  # the one worker-error handler tells the user too
        finally:
            self._launching.discard(session)
            self.call_from_thread(self._show_once, screen, shown)

    def _show_once(self, screen: Screen[Any], shown: threading.Event) -> None:
        """On the UI thread: push ``screen`` unless it was already (the launch's timer and its end both ask)."""
        if not shown.is_set():
            shown.set()
            self.push_screen(screen)

    def _claim_launch(self, target: PaymentTarget) -> PaymentSession | None:
        """On the UI thread, so two confirmations landing together can't both claim the payment: a new session
        for a confirmed plan, or None when this app is already sending, watching or done with this payment (a
        second confirm): its attempts are shown again and nothing is sent. A failed payment may be paid again."""
        from .payment import PaymentFailed
        from .screens.attempts import AttemptsScreen

        current = self.sessions.get(target.payment_hash)
        if current is None or (
            current not in self._launching and (not current.launched or isinstance(current.outcome, PaymentFailed))
        ):
            session = self.new_session(target)
            self._launching.add(session)
            return session
        self.notify("This payment is already in flight or paid: nothing is sent again.", title="Not sent twice")
        if not (isinstance(self.screen, AttemptsScreen) and self.screen.session is current):
            self.push_screen(AttemptsScreen(current))
        return None

    @work(thread=True, exit_on_error=False, group="resume")
    def resume_payments(self) -> None:
        """Watch again the payments still in flight on the node (the console was closed while they were).

        The node is asked first: the attempts screen and the payment engine are imported only when a payment
        is found in flight, never on a start-up with none (their import, some 60 ms, would hold the GIL while
        the first screen draws: issue 5, start-up)."""
        try:
            records = self.node.listsendpays(status="pending")
        except NodeError as error:  # the header already shows a node that does not answer
            log.warning("could not look for pending payments: %s", error.message)
            return
        if all(record.payment_hash in self.sessions for record in records):
            return
        from .screens.attempts import resume_pending

        resume_pending(self, records)

    # -- payments ------------------------------------------------------------------------------------------

    @on(PaymentUpdate)
    def _payment_update(self, message: PaymentUpdate) -> None:
        """Hand the event to every attempts screen showing that payment (it may be under a dialog)."""
        from .screens.attempts import AttemptsScreen

        for screen in self.screen_stack:
            if isinstance(screen, AttemptsScreen) and screen.payment_hash == message.event.payment_hash:
                screen.show_event(message.event)

    def deliver_payment_event(self, event: PaymentEvent) -> None:
        """The ``on_event`` callback of sessions: called on watcher threads, so it only posts a message."""
        self.post_message(PaymentUpdate(event))

    def new_session(self, target: Any, **options: Any) -> PaymentSession:
        """A payment session whose events reach the UI as PaymentUpdate messages; kept until the app ends."""
        from .payment import PaymentSession

        session = PaymentSession(
            self.node,
            target,
            on_event=self.deliver_payment_event,
            clock=self.monotonic,
            poll_timeout_s=self.settings.poll_timeout_s,
            **options,
        )
        previous = self.sessions.get(target.payment_hash)
        if previous is not None:
            previous.stop()
        self.sessions[target.payment_hash] = session
        return session

    # -- errors --------------------------------------------------------------------------------------------

    @on(Worker.StateChanged)
    def _worker_failed(self, event: Worker.StateChanged) -> None:
        """The one place where a worker's error becomes a message to the user (never a traceback)."""
        if event.state != WorkerState.ERROR:
            return
        from .payment import PaymentError

        error = event.worker.error
        # Node and user text may hold [brackets]: never let it be read as markup.
        if isinstance(error, PaymentError):
            self.notify(error.message, title="Not sent", severity="error", timeout=8, markup=False)
        elif isinstance(error, NodeUnreachable):
            self.notify(error.message, title="Node unreachable", severity="error", timeout=8, markup=False)
        elif isinstance(error, NodeError):
            code = f" (code {error.code})" if error.code is not None else ""
            self.notify(
                f"{error.message}{code}", title=f"{error.method} failed", severity="error", timeout=8, markup=False
            )
        else:
            log.error("worker %s failed", event.worker.name, exc_info=error)
            self.notify(
                f"{type(error).__name__}: {error}", title="Unexpected error", severity="error", timeout=8, markup=False
            )

    def on_unmount(self) -> None:
        """Stop watching; the payments themselves go on on the node."""
        for session in self.sessions.values():
            session.stop()


def make_app(
    node: NodeClient,
    settings: Settings | None = None,
    *,
    demo: DemoInfo | None = None,
    clock: Callable[[], float] = time.time,
    monotonic: Callable[[], float] = time.monotonic,
    poll_status: bool = True,
) -> LnConsoleApp:
    """The app as ``lnconsole``, ``--demo``, the tests and the screenshots script all build it."""
    return LnConsoleApp(node, settings, demo=demo, clock=clock, monotonic=monotonic, poll_status=poll_status)
