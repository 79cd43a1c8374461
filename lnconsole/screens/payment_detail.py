"""One payment from the history: its parts, and for each failed part why it failed.

``listsendpays payment_hash=...`` gives the parts; the reason a part failed is not in it, but lightningd keeps
it: ``waitsendpay`` on a failed part answers at once with the stored routing failure, which
:func:`lnconsole.failures.explain` names and explains (where on the route it happened needs the route, which
only a session of this console has: its explanation is used when there is one). When the node kept no
failure (an onion it could not decrypt), the screen shows what ``listsendpays`` gives: status and
``erroronion``.

Also here: :func:`attach_and_show`, which both history screens use to follow a pending payment on the
attempts screen.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import DataTable, Footer, Static
from textual.worker import get_current_worker

from ..amounts import fee_ppm, format_sat
from ..node import (
    PAY_DESTINATION_PERM_FAIL,
    PAY_TRY_OTHER_ROUTE,
    PAY_UNPARSEABLE_ONION,
    NodeError,
    NodeUnreachable,
    RoutingFailure,
    SendPayment,
)
from ..widgets.header import NodeHeader
from ..widgets.history_table import PaymentGroup, ago, sat_figure, short_node
from .base import ConsoleScreen
from .history import node_memory

if TYPE_CHECKING:
    from ..app import LnConsoleApp

FAILURE_READS = 32
"""At most this many failed parts get their stored failure read (one waitsendpay each)."""
FAILURE_CODES = (PAY_UNPARSEABLE_ONION, PAY_DESTINATION_PERM_FAIL, PAY_TRY_OTHER_ROUTE)
"""The waitsendpay errors that carry a failed part's routing failure."""


@dataclass(frozen=True)
class PartFailure:
    """Why one part failed, in words; ``known`` False when the node kept no routing failure."""

    headline: str
    explanation: str = ""
    advice: str = ""
    known: bool = True


def describe_failure(failure: RoutingFailure, explanation: Any, aliases: dict[str, str]) -> PartFailure:
    """A panel's words from a routing failure and its explanation (lnconsole.failures' or the session's)."""
    name = getattr(explanation, "failcodename", None) or failure.failcodename or getattr(explanation, "name", None)
    node = getattr(explanation, "erring_node", None) or failure.erring_node
    alias = getattr(explanation, "erring_alias", "") or aliases.get(node or "", "")
    where = (alias or short_node(node)) if node else ""
    channel = getattr(explanation, "erring_channel_dir", None)
    if channel is None and failure.erring_channel is not None:
        direction = f"/{failure.erring_direction}" if failure.erring_direction is not None else ""
        channel = failure.erring_channel + direction
    headline = name or "Failed"
    if where:
        headline += f" at {where}"
    if channel:
        headline += f" on {channel}"
    if failure.erring_index is not None:
        # erring_index counts nodes (0 = us), not channels: say so, so it can't be read as a hop number.
        headline += " (reported by us)" if failure.erring_index == 0 else f" (node {failure.erring_index} of the route)"
    return PartFailure(
        headline=headline,
        explanation=str(getattr(explanation, "explanation", "") or ""),
        advice=str(getattr(explanation, "advice", "") or ""),
    )


def attach_and_show(app: App[Any], payment_hash: str) -> None:
    """In a thread worker: follow the payment's parts in flight on the attempts screen (nothing is sent).

    A session the app already has for this payment is reused (attaching again only resumes its watchers);
    otherwise a new one, aimed at what the parts and their invoice say, attaches to what the node has.
    """
    try:
        from .attempts import AttemptsScreen, pending_target
    except ImportError:
        app.call_from_thread(app.notify, "The attempts screen is not available in this build.", title="Watch")
        return
    console: LnConsoleApp = app  # type: ignore[assignment]
    session = console.sessions.get(payment_hash)
    if session is None:
        records = console.node.listsendpays(payment_hash=payment_hash)
        pending = [record for record in records if record.status == "pending"] or records
        target = pending_target(console.node, payment_hash, pending)
        if target is None:
            app.call_from_thread(
                app.notify,
                "The node does not say enough about this payment to watch it.",
                title="Watch",
                severity="warning",
            )
            return
        session = app.call_from_thread(console.new_session, target)
    app.call_from_thread(app.push_screen, AttemptsScreen(session))
    session.attach()


class PaymentDetailScreen(ConsoleScreen[None]):
    """The parts of one payment attempt (payment_hash, groupid), with the failure of the highlighted part."""

    CSS_PATH = "payment_detail.tcss"
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "payment-detail--complete",
        "payment-detail--pending",
        "payment-detail--failed",
    }
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", id="payment_detail.back", tooltip="Back to the history"),
        Binding(
            "w",
            "watch",
            "Watch",
            id="payment_detail.watch",
            tooltip="Follow this pending payment live on the attempts screen",
        ),
        Binding(
            "c",
            "copy_hash",
            "Copy hash",
            id="payment_detail.copy_hash",
            tooltip="Copy the payment hash to the clipboard (works over SSH)",
        ),
        Binding(
            "y",
            "copy_preimage",
            "Copy preimage",
            id="payment_detail.copy_preimage",
            tooltip="Copy the preimage (the proof of payment) to the clipboard",
        ),
        Binding("r", "refresh", "Refresh", id="payment_detail.refresh", tooltip="Ask the node again"),
    ]

    PART_COLUMNS: ClassVar[tuple[tuple[str, str, int], ...]] = (
        ("partid", "Part", 4),
        ("status", "Status", 8),
        ("amount", "Amount sat", 13),
        ("sent", "Sent sat", 13),
        ("created", "Created", 9),
        ("completed", "Settled", 9),
        ("destination", "Destination", 14),
    )

    class Loaded(Message):
        """What the node has for the payment: this group's parts, the other groups, failures, aliases."""

        def __init__(
            self,
            parts: Sequence[SendPayment],
            others: Sequence[PaymentGroup],
            failures: dict[int, PartFailure],
            aliases: dict[str, str],
            description: str = "",
        ) -> None:
            super().__init__()
            self.parts = parts
            self.others = others
            self.failures = failures
            self.aliases = aliases
            self.description = description
            """The invoice's description, when the node kept the bolt11 and not the description."""

    def __init__(self, payment_hash: str, groupid: int) -> None:
        super().__init__()
        self.payment_hash = payment_hash
        self.groupid = groupid
        self._parts: tuple[SendPayment, ...] = ()
        self._failures: dict[int, PartFailure] = {}
        self._invoice_description = ""
        self._loaded = False

    def compose(self) -> ComposeResult:
        yield NodeHeader()
        with VerticalScroll(id="detail-body"):
            yield Static(id="detail-summary")
            yield Static("Parts", classes="section-title")
            yield DataTable(id="detail-parts", cursor_type="row", zebra_stripes=True)
            yield Static(id="detail-failure")
        yield Footer()

    @property
    def summary(self) -> Static:
        return self.query_one("#detail-summary", Static)

    @property
    def parts_table(self) -> DataTable[object]:
        return self.query_one("#detail-parts", DataTable)

    @property
    def failure_panel(self) -> Static:
        return self.query_one("#detail-failure", Static)

    @property
    def parts(self) -> tuple[SendPayment, ...]:
        """The group's parts as last read from the node."""
        return self._parts

    @property
    def failures(self) -> dict[int, PartFailure]:
        """partid -> why it failed, for the failed parts."""
        return self._failures

    @property
    def group(self) -> PaymentGroup:
        group = PaymentGroup(self.payment_hash, self.groupid)
        for part in self._parts:
            group.add(part)
        return group

    def on_mount(self) -> None:
        for key, label, width in self.PART_COLUMNS:
            self.parts_table.add_column(label, width=width, key=key)
        self.summary.update(Text(f"Reading payment {self.payment_hash} (group {self.groupid})…"))
        self.parts_table.focus()
        self.action_refresh()

    # -- reading --------------------------------------------------------------------------------------------

    def action_refresh(self) -> None:
        self.read_payment()

    @work(thread=True, exclusive=True, exit_on_error=False, group="payment_detail")
    def read_payment(self) -> None:
        """The parts (one listsendpays), then each failed part's stored failure (a waitsendpay each)."""
        app: LnConsoleApp = self.app  # type: ignore[assignment]
        node = app.node
        worker = get_current_worker()
        records = node.listsendpays(payment_hash=self.payment_hash)
        parts = tuple(sorted((r for r in records if r.groupid == self.groupid), key=lambda r: r.partid))
        others: dict[int, PaymentGroup] = {}
        for record in records:
            if record.groupid != self.groupid:
                others.setdefault(record.groupid, PaymentGroup(record.payment_hash, record.groupid)).add(record)
        aliases = self._aliases(node, {part.destination for part in parts if part.destination})
        description = self._description(node, parts)
        failures: dict[int, PartFailure] = {}
        session = app.sessions.get(self.payment_hash)
        views = {(view.groupid, view.partid): view for view in session.parts()} if session is not None else {}
        for part in [part for part in parts if part.status == "failed"][:FAILURE_READS]:
            if worker.is_cancelled:
                return
            view = views.get((part.groupid, part.partid))
            if view is not None and view.failure is not None:
                failures[part.partid] = describe_failure(view.failure, view.explanation, aliases)
            else:
                failures[part.partid] = self._stored_failure(node, part, aliases)
        if not worker.is_cancelled:
            ordered = sorted(others.values(), key=lambda group: group.groupid)
            self.post_message(self.Loaded(parts, ordered, failures, aliases, description))

    @staticmethod
    def _description(node: Any, parts: Sequence[SendPayment]) -> str:
        """What the invoice said it was for (one ``decode``), when no part carries a description."""
        if any(part.description for part in parts):
            return ""
        bolt11 = next((part.bolt11 for part in parts if part.bolt11), None)
        if not bolt11:
            return ""
        try:
            decoded = node.decode(bolt11)
        except NodeUnreachable:
            raise
        except NodeError:
            return ""
        description = decoded.get("description")
        return description if isinstance(description, str) else ""

    def _aliases(self, node: Any, node_ids: set[str]) -> dict[str, str]:
        """Aliases of these nodes: remembered ones, the rest asked (listnodes); cosmetic, so errors leave ""."""
        known = node_memory(node).aliases
        found = {node_id: known[node_id] for node_id in node_ids if node_id in known}
        for node_id in node_ids - found.keys():
            try:
                listed = node.listnodes(node_id)
            except NodeUnreachable:
                raise
            except NodeError:
                listed = []
            found[node_id] = listed[0].alias if listed else ""
        return found

    def _stored_failure(self, node: Any, part: SendPayment, aliases: dict[str, str]) -> PartFailure:
        """waitsendpay on a failed part answers with the failure lightningd stored for it."""
        from ..failures import explain

        try:
            node.waitsendpay(part.payment_hash, timeout=0, partid=part.partid, groupid=part.groupid)
        except NodeUnreachable:
            raise
        except NodeError as error:
            if error.code in FAILURE_CODES:
                failure = RoutingFailure.from_data(error.data)
                if failure.erring_node and failure.erring_node not in aliases:
                    aliases.update(self._aliases(node, {failure.erring_node}))
                return describe_failure(failure, explain(failure, None, error.code, aliases=aliases), aliases)
        return self._without_failure(part)

    @staticmethod
    def _without_failure(part: SendPayment) -> PartFailure:
        if part.erroronion:
            return PartFailure(
                "Failed; the node could not decrypt the error",
                f"Error onion as the node got it: {part.erroronion[:64]}…",
                "Where it failed is unknown: retry on another route.",
                known=False,
            )
        return PartFailure("Failed", "The node kept no routing failure for this part.", known=False)

    @on(Loaded)
    def _loaded_payment(self, message: Loaded) -> None:
        aliases = node_memory(self.app.node).aliases
        aliases.update(message.aliases)
        self._parts = tuple(message.parts)
        self._failures = message.failures
        self._invoice_description = message.description
        self._loaded = True
        self._show_summary(message.others)
        table = self.parts_table
        table.clear()
        now = self.app.clock()
        for part in message.parts:
            alias = aliases.get(part.destination or "")
            table.add_row(
                str(part.partid),
                self._status_text(part.status),
                Text(sat_figure(part.amount_msat or 0), justify="right"),
                Text(sat_figure(part.amount_sent_msat), justify="right"),
                ago(part.created_at, now),
                ago(part.completed_at, now) if part.completed_at else "-",
                Text(alias) if alias else Text(short_node(part.destination), style="dim"),
                key=str(part.partid),
            )
        self._show_failure()
        self.refresh_bindings()

    def _show_summary(self, others: Sequence[PaymentGroup]) -> None:
        if not self._parts:
            self.summary.update(Text(f"The node has no part of payment {self.payment_hash} in group {self.groupid}."))
            return
        group = self.group
        status = group.status
        alias = node_memory(self.app.node).aliases.get(group.destination or "", "")
        now = self.app.clock()
        lines = Text()

        def line(label: str, *value: str | tuple[str, str] | Text) -> None:
            lines.append(f"{label:<12}", style="bold")
            lines.append_text(Text.assemble(*value))
            lines.append("\n")

        count = group.part_count
        line("Status", self._status_text(status), f" · {count} part{'s' if count != 1 else ''} · group {self.groupid}")
        line("To", alias or ("(no alias)", "dim"))
        line("Node id", (group.destination or "not recorded", "dim"))
        amount = group.amount_msat
        fee = group.fee_msat
        if fee is None:
            line("Amount", f"{format_sat(amount)} offered, nothing paid")
        else:
            paid = "paid" if status == "complete" else "in flight"
            line("Amount", f"{format_sat(amount)} {paid} · fee {format_sat(fee)} ({fee_ppm(fee, amount):,} ppm)")
        ended = {"complete": "settled", "failed": "failed"}.get(status)
        settled = f", {ended} {ago(group.completed_at, now)}" if group.completed_at and ended else ""
        line("Sent", f"{ago(group.created_at, now)}{settled}")
        line("Hash", self.payment_hash)
        if group.preimage:
            line("Preimage", group.preimage)
        if group.label:
            line("Label", group.label)
        description = group.description or self._invoice_description
        if description:
            line("Description", description)
        if others:
            line("Other tries", ", ".join(f"group {g.groupid} {g.status} ({g.part_count})" for g in others))
        lines.rstrip()
        self.summary.update(lines)

    def _status_text(self, status: str) -> Text:
        """The status in its theme colour (payment_detail.tcss)."""
        component = f"payment-detail--{status}"
        if component not in self.COMPONENT_CLASSES:
            return Text(status)
        return Text(status, style=self.get_component_rich_style(component, partial=True))

    # -- the highlighted part -------------------------------------------------------------------------------

    @on(DataTable.RowHighlighted)
    def _part_highlighted(self) -> None:
        self._show_failure()

    @property
    def highlighted_part(self) -> SendPayment | None:
        table = self.parts_table
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return next((part for part in self._parts if str(part.partid) == key), None)

    def _show_failure(self) -> None:
        part = self.highlighted_part
        panel = self.failure_panel
        panel.set_class(False, "-failed")
        if part is None:
            panel.update("")
            return
        now = self.app.clock()
        if part.status == "pending":
            panel.update(f"Part {part.partid} is in flight since {ago(part.created_at, now)}. w watches it live.")
        elif part.status == "complete":
            panel.update(f"Part {part.partid} settled {ago(part.completed_at or 0, now)}.")
        else:
            failure = self._failures.get(part.partid) or self._without_failure(part)
            panel.set_class(True, "-failed")
            text = Text(f"Part {part.partid}: {failure.headline}", style="bold")
            for sentence in (failure.explanation, failure.advice):
                if sentence:
                    text.append("\n" + sentence, style="not bold")
            panel.update(text)

    # -- actions --------------------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Dim Watch unless the payment is in flight, Copy preimage until there is one."""
        if action == "watch":
            return (self._loaded and self.group.status == "pending") or None
        if action == "copy_preimage":
            return bool(self.group.preimage) or None
        return True

    def action_back(self) -> None:
        self.dismiss()

    def action_copy_hash(self) -> None:
        self.app.copy_to_clipboard(self.payment_hash)
        self.notify(self.payment_hash, title="Payment hash copied")

    def action_copy_preimage(self) -> None:
        preimage = self.group.preimage
        if preimage:
            self.app.copy_to_clipboard(preimage)
            self.notify(preimage, title="Preimage copied")

    def action_watch(self) -> None:
        if self.group.status == "pending":
            self.watch_payment()

    @work(thread=True, exit_on_error=False, group="watch")
    def watch_payment(self) -> None:
        """Never exclusive: following a payment is not something a later key press should cancel."""
        attach_and_show(self.app, self.payment_hash)
