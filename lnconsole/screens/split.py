"""Split: pay an invoice in one part or several, see each part's route and what the plan costs, then pay.

Planning asks the node for routes, so it runs in a thread worker of the ``plan`` group (exclusive: a newer plan
supersedes an older one) and comes back as :class:`SplitScreen.Planned` or :class:`SplitScreen.PlanFailed`; a
plan that can't be made says why in place. Each part's route opens in the route editor, which hands the edited
route back. Nothing here sends money: ``p`` posts :class:`PayRequested`, and the app asks for confirmation.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import DataTable, Input, Label, RadioButton, RadioSet, Static
from textual.worker import Worker, WorkerState, get_current_worker

from ..amounts import AmountError, format_sat, parse_amount
from ..invoice import PayableInvoice, expiry_against_delay
from ..node import NodeError
from ..plan import (
    MAX_PARTS,
    PaymentPlan,
    PaymentTarget,
    PlanError,
    custom_split,
    equal_split,
    liquidity_plan,
    single,
    single_routed,
)
from ..routing import Route, RouteError, RouteFinder
from ..widgets.attempts_table import route_summary
from ..widgets.footer import QuietFooter
from ..widgets.header import NodeHeader
from .base import ConsoleScreen
from .confirm import delay_text, duration_text
from .messages import PayRequested

if TYPE_CHECKING:
    from ..app import LnConsoleApp

MODES = ("one", "equal", "custom", "liquidity")
"""One part; N equal parts; the amounts the payer types; the engine's liquidity plan (up to N parts)."""

DEFAULT_PARTS = 3

_SEPARATORS = re.compile(r"[,;+]")


def parse_part_amounts(text: str) -> list[int]:
    """Part amounts typed in any CLN format, separated by commas (or ``;``, ``+``). Spaces are no separator:
    ``150 000 sat`` is one amount, as the amount fields elsewhere read it."""
    tokens = [token.strip() for token in _SEPARATORS.split(text) if token.strip()]
    if not tokens:
        raise AmountError("Type the parts' amounts, separated by commas (e.g. 300000sat, 240000sat).")
    amounts = []
    for number, token in enumerate(tokens, start=1):
        try:
            amounts.append(parse_amount(token))
        except AmountError as error:
            hint = " Separate the parts with commas." if " " in token.strip() else ""
            raise AmountError(f"Part {number}: {error}{hint}") from error
    return amounts


def sum_text(amounts: list[int], total_msat: int) -> Text:
    """What the typed amounts add up to against the total, and the difference."""
    added = sum(amounts)
    count = f"{len(amounts)} part{'s' if len(amounts) != 1 else ''}"
    head = f"{count} add up to {format_sat(added)} of {format_sat(total_msat)}"
    if added == total_msat:
        return Text.assemble(head, (" ✓", "bold green"))
    if added < total_msat:
        return Text.assemble(head, (f": {format_sat(total_msat - added)} missing", "bold red"))
    return Text.assemble(head, (f": {format_sat(added - total_msat)} too much", "bold red"))


@dataclass(frozen=True)
class PlanRequest:
    """What the payer asked for; a result for an older request is dropped."""

    mode: str
    count: int = 1
    amounts: tuple[int, ...] = ()

    def describe(self) -> str:
        if self.mode == "equal":
            return f"{self.count} equal parts"
        if self.mode == "custom":
            return f"{len(self.amounts)} parts of the amounts typed"
        if self.mode == "liquidity":
            return f"the liquidity plan (up to {self.count} parts)"
        return "one part"


class SplitScreen(ConsoleScreen[None]):
    """One part or N parts (equal, custom or the engine's liquidity plan), each with its route; then pay."""

    CSS_PATH = "split.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("p", "pay", "Pay", id="split.pay", tooltip="Pay this plan (you confirm first)"),
        Binding(
            "o",
            "edit_route",
            "Edit part route",
            id="split.edit_route",
            tooltip="Open the selected part's route in the route editor (Enter on the row too)",
        ),
        Binding("f", "replan", "Plan again", id="split.replan", tooltip="Ask the node for the plan's routes again"),
        Binding("escape", "back", "Back", id="split.back", tooltip="Back to the route editor"),
    ]

    class Planned(Message):
        """A plan the worker made for ``request``."""

        def __init__(self, request: PlanRequest, plan: PaymentPlan) -> None:
            super().__init__()
            self.request = request
            self.plan = plan

    class PlanFailed(Message):
        """No plan for ``request``: why, in the engine's words."""

        def __init__(self, request: PlanRequest, reason: str) -> None:
            super().__init__()
            self.request = request
            self.reason = reason

    def __init__(self, invoice: PayableInvoice, route: Route | None = None) -> None:
        super().__init__()
        self.invoice = invoice
        self.route = route
        """The whole-amount route the payer came from (the route editor's), used for "one part"."""
        self.plan: PaymentPlan | None = None
        self.target: PaymentTarget | None = None
        self._request: PlanRequest | None = None
        self._planning = False
        self._submitted = False
        """The plan under way was asked for with Enter in a field: focus moves to its parts when it comes."""
        self._awaiting_confirm = False
        self._finder: RouteFinder | None = None
        self._finder_lock = threading.Lock()

    # -- children ----------------------------------------------------------------------------------------------

    @property
    def mode_set(self) -> RadioSet:
        return self.query_one("#split-mode", RadioSet)

    @property
    def count_input(self) -> Input:
        return self.query_one("#split-count", Input)

    @property
    def amounts_input(self) -> Input:
        return self.query_one("#split-amounts", Input)

    @property
    def sum_line(self) -> Static:
        return self.query_one("#split-sum", Static)

    @property
    def status_line(self) -> Static:
        return self.query_one("#split-status", Static)

    @property
    def parts_table(self) -> DataTable[object]:
        return self.query_one("#split-parts", DataTable)

    @property
    def totals(self) -> Static:
        return self.query_one("#split-totals", Static)

    @property
    def mode(self) -> str:
        pressed = self.mode_set.pressed_button
        return (pressed.id or "split-one").removeprefix("split-") if pressed is not None else "one"

    def compose(self) -> ComposeResult:
        yield NodeHeader()
        yield Static(id="split-title")
        with RadioSet(id="split-mode"):
            # With a route in hand, start from it as one part; without one (no single path can carry the
            # amount), start from the node's own liquidity plan, which is what such a payment needs.
            one_part = self.route is not None
            yield RadioButton("One part", value=one_part, id="split-one")
            yield RadioButton("Equal parts", id="split-equal")
            yield RadioButton("Custom amounts", id="split-custom")
            yield RadioButton("Liquidity plan", value=not one_part, id="split-liquidity")
        with Horizontal(id="split-inputs"):
            yield Label("Parts", classes="split-label")
            yield Input(str(DEFAULT_PARTS), id="split-count", type="integer", max_length=2)
            yield Label("Amounts", classes="split-label")
            yield Input(placeholder="e.g. 300000sat, 240000sat", id="split-amounts")
        yield Static(id="split-sum")
        yield Static(id="split-status")
        yield DataTable(id="split-parts", cursor_type="row", zebra_stripes=True)
        yield Static(id="split-totals")
        yield QuietFooter()

    def on_mount(self) -> None:
        table = self.parts_table
        for key, label in (
            ("part", "Part"),
            ("amount", "Amount"),
            ("route", "Route"),
            ("fee", "Fee"),
            ("delay", "Delay"),
        ):
            table.add_column(label, key=key)
        self._show_inputs()
        try:
            self.target = PaymentTarget.from_invoice(self.invoice)
        except PlanError as error:
            self.query_one("#split-title", Static).update(Text("Split", style="bold"))
            self._say(str(error), "problem")
            return
        self._show_title()
        if self.route is not None:
            self._use_plan_now(PlanRequest("one"), self._single_over_route)
        else:
            request = self._request_from_inputs()  # the liquidity plan, as the mode buttons start out
            if request is not None:
                self._start(request)
        self.mode_set.focus()

    def on_screen_resume(self) -> None:
        self._awaiting_confirm = False

    # -- showing ----------------------------------------------------------------------------------------------

    def _say(self, text: str | Text, kind: str = "") -> None:
        status = self.status_line
        status.update(Text(text) if isinstance(text, str) else text)  # node and engine text is never markup
        for name in ("problem", "ok", "muted"):
            status.set_class(name == kind, name)

    def _show_title(self) -> None:
        target = self.target
        assert target is not None
        alias = self._payee_alias()
        left = self.invoice.invoice.time_left(int(self._lnapp.clock()))
        expiry = "expired" if left <= 0 else f"expires in {duration_text(left)}"
        self.query_one("#split-title", Static).update(
            Text.assemble(
                ("Split the payment: ", "bold"),
                (alias or target.destination[:16] + "…", "bold"),
                f" · {format_sat(target.amount_msat)} · invoice {expiry}",
            )
        )

    def _payee_alias(self) -> str:
        routes = [self.route] if self.route is not None else []
        if self.plan is not None:
            routes += [part.route for part in self.plan.parts]
        return next((route.hops[-1].alias for route in routes if route is not None and route.hops), "")

    def _show_inputs(self) -> None:
        mode = self.mode
        self.count_input.disabled = mode not in ("equal", "liquidity")
        self.amounts_input.disabled = mode != "custom"
        if mode == "custom":
            self._show_sum()
        else:
            self.sum_line.update(
                Text(
                    "Liquidity plan: at most Parts parts, split where the channels have room (getroutes).", style="dim"
                )
                if mode == "liquidity"
                else ""
            )

    def _show_sum(self) -> None:
        if self.target is None:
            return
        if not self.amounts_input.value.strip():
            self.sum_line.update(
                Text(
                    "Type the parts' amounts, separated by commas; they must add up to "
                    f"{format_sat(self.target.amount_msat)}.",
                    style="dim",
                )
            )
            return
        try:
            amounts = parse_part_amounts(self.amounts_input.value)
        except AmountError as error:
            self.sum_line.update(Text(str(error), style="red"))
            return
        self.sum_line.update(sum_text(amounts, self.target.amount_msat))

    def _show_plan(self) -> None:
        table = self.parts_table
        row = table.cursor_row
        table.clear()
        plan = self.plan
        if plan is None:
            self.totals.update("")
            return
        for part in plan.parts:
            table.add_row(
                str(part.partid),
                Text(format_sat(part.amount_msat), justify="right"),
                Text(route_summary(part.route)),  # aliases are node text, never markup
                Text(f"{part.fee_msat:,} msat", justify="right"),
                Text(str(part.total_delay), justify="right"),
                key=str(part.partid),
            )
        if 0 < row < table.row_count:
            table.move_cursor(row=row)  # an edited part stays selected
        self.totals.update(
            Text.assemble(
                ("Total ", "bold"),
                format_sat(plan.amount_msat),
                f" in {plan.part_count} part{'s' if plan.part_count != 1 else ''} · fees ",
                (f"{plan.fee_msat:,} msat ({plan.fee_ppm:,} ppm)", "bold"),
                f" · sent {format_sat(plan.amount_sent_msat)} · worst-case delay {delay_text(plan.total_delay)}",
            )
        )

    # -- planning ------------------------------------------------------------------------------------------

    def _request_from_inputs(self) -> PlanRequest | None:
        """The plan the inputs ask for; None (with the reason shown) when they don't make sense yet."""
        mode = self.mode
        if mode == "one":
            return PlanRequest("one")
        if mode == "custom":
            try:
                amounts = parse_part_amounts(self.amounts_input.value)
            except AmountError as error:
                self._say(str(error), "problem")
                return None
            return PlanRequest("custom", len(amounts), tuple(amounts))
        text = self.count_input.value.strip()
        count = int(text) if text.isdigit() else 0
        if not 1 <= count <= MAX_PARTS:
            self._say(f"Parts must be a number from 1 to {MAX_PARTS}.", "problem")
            return None
        return PlanRequest(mode, count)

    def _start(self, request: PlanRequest | None) -> None:
        if self.target is None:
            return
        if request is None:
            # The inputs don't make sense (the reason is shown): no plan stays on screen for p to pay that the
            # fields no longer say, and a plan still being made for the older inputs is dropped when it comes.
            self._request = None
            self._planning = False
            self.plan = None
            self._show_plan()
            self.refresh_bindings()
            return
        if request.mode == "one" and self.route is not None:
            self._use_plan_now(request, self._single_over_route)
            return
        self._request = request
        self._planning = True
        self.plan = None
        self._show_plan()
        self._say(f"Planning {request.describe()}…", "muted")
        self.refresh_bindings()
        self._make_plan(request)

    def _use_plan_now(self, request: PlanRequest, build: Callable[[PaymentTarget], PaymentPlan]) -> None:
        """A plan that needs no node (the route editor's route as one part)."""
        assert self.target is not None
        self._request = request
        try:
            plan = build(self.target)
        except PlanError as error:
            self._plan_failed(self.PlanFailed(request, str(error)))
            return
        self._planned(self.Planned(request, plan))

    def _single_over_route(self, target: PaymentTarget) -> PaymentPlan:
        assert self.route is not None
        return single(target, self.route)

    def _route_finder(self) -> RouteFinder:
        with self._finder_lock:
            if self._finder is None:
                app = self._lnapp
                info = app.status.info
                our_id = self.invoice.node_id or (info.id if info is not None else app.node.getinfo().id)
                self._finder = RouteFinder(app.node, our_id)
            return self._finder

    @work(thread=True, exclusive=True, exit_on_error=False, group="plan")
    def _make_plan(self, request: PlanRequest) -> None:
        target = self.target
        assert target is not None
        settings = self._lnapp.settings
        limits = {"maxfee_msat": settings.maxfee_for(target.amount_msat), "maxdelay": settings.maxdelay}
        worker = get_current_worker()
        try:
            finder = self._route_finder()
            if request.mode == "equal":
                plan = equal_split(target, request.count, finder, **limits)
            elif request.mode == "custom":
                plan = custom_split(target, request.amounts, finder, **limits)
            elif request.mode == "liquidity":
                plan = liquidity_plan(target, finder, request.count, **limits)
            else:
                plan = single_routed(target, finder, **limits)
        except (PlanError, RouteError) as error:
            if not worker.is_cancelled:
                self.post_message(self.PlanFailed(request, getattr(error, "message", None) or str(error)))
            return
        except NodeError as error:  # unreachable, or an answer that could not be used: said in place
            if not worker.is_cancelled:
                code = f" (code {error.code})" if error.code is not None else ""
                self.post_message(self.PlanFailed(request, f"{error.method}: {error.message}{code}"))
            return
        if not worker.is_cancelled:
            self.post_message(self.Planned(request, plan))

    @on(Worker.StateChanged)
    def _worker_failed(self, event: Worker.StateChanged) -> None:
        """A plan worker that failed unexpectedly must not leave "Planning…" behind: said here (ConsoleScreen
        hands it to the app, which notifies it)."""
        if event.worker.group != "plan" or event.state != WorkerState.ERROR:
            return
        if self._request is not None:
            error = event.worker.error
            self._plan_failed(self.PlanFailed(self._request, f"{type(error).__name__}: {error}"))

    @on(Planned)
    def _planned(self, message: Planned) -> None:
        if message.request != self._request:
            return
        self._planning = False
        self.plan = message.plan
        self._show_plan()
        self._show_title()
        parts = message.plan.part_count
        _, warnings = self._expiry(message.plan)
        self._say(
            f"Planned {parts} part{'s' if parts != 1 else ''}: Enter or o edits the selected part's route, p pays."
            + (f" Note: {warnings[0]}." if warnings else ""),
            "muted" if warnings else "ok",
        )
        self.refresh_bindings()
        if self.focused is None or self._submitted:
            self.parts_table.focus()  # Enter in a field asked for this plan: on to its parts (and p to pay)
        self._submitted = False

    @on(PlanFailed)
    def _plan_failed(self, message: PlanFailed) -> None:
        if message.request != self._request:
            return
        self._planning = False
        self.plan = None
        self._show_plan()
        self._submitted = False
        hint = "" if message.request.mode != "one" else " Try Equal parts or the Liquidity plan."
        self._say(f"No plan for {message.request.describe()}: {message.reason}{hint}", "problem")
        self.refresh_bindings()

    # -- the payer's choices ------------------------------------------------------------------------------------

    @on(RadioSet.Changed, "#split-mode")
    def _mode_changed(self) -> None:
        self._show_inputs()
        if self.mode == "custom":
            self.amounts_input.focus()
            if self.amounts_input.value.strip():
                self._start(self._request_from_inputs())
            else:
                self.plan = None
                self._request = None
                self._show_plan()
                self._say("Type the amounts and press Enter.", "muted")
                self.refresh_bindings()
            return
        self._start(self._request_from_inputs())

    @on(Input.Changed, "#split-amounts")
    def _amounts_changed(self) -> None:
        self._show_sum()

    @on(Input.Submitted, "#split-amounts")
    @on(Input.Submitted, "#split-count")
    def _inputs_submitted(self) -> None:
        self._submitted = True
        self._start(self._request_from_inputs())

    @on(DataTable.RowSelected, "#split-parts")
    def _row_selected(self) -> None:
        self.action_edit_route()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "pay":
            return self.plan is not None and not self._planning
        if action == "edit_route":
            return self.plan is not None and not self._planning and self.parts_table.row_count > 0
        if action == "replan":
            return self.target is not None
        return True

    def _selected_partid(self) -> int | None:
        table = self.parts_table
        if not table.row_count:
            return None
        row_key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key
        return int(row_key.value) if row_key.value is not None else None

    def action_edit_route(self) -> None:
        from .route import RouteScreen

        plan = self.plan
        partid = self._selected_partid()
        if plan is None or partid is None or self._planning:
            return
        part = plan.part(partid)
        request = self._request

        def edited(route: Route | None) -> None:
            if route is None or self.plan is None or self._request != request:
                return
            try:
                self.plan = self.plan.with_route(partid, route)
            except PlanError as error:
                self._say(f"The edited route can't be used: {error}", "problem")
                return
            self._show_plan()
            self._say(f"Part {partid} now goes {route_summary(route)}.", "ok")

        self.app.push_screen(RouteScreen(self.invoice, part.route, part=partid, amount_msat=part.amount_msat), edited)

    def action_replan(self) -> None:
        self._start(self._request_from_inputs())

    def _expiry(self, plan: PaymentPlan) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """The invoice's expiry against the plan's worst-case delay, by the app's clock."""
        return expiry_against_delay(self.invoice.invoice, plan.total_delay, int(self._lnapp.clock()))

    def action_pay(self) -> None:
        if self.plan is None or self._planning or self._awaiting_confirm:
            return
        expired, _ = self._expiry(self.plan)
        if expired:
            self._say(f"Not paying: {expired[0]}.", "problem")
            return
        self._awaiting_confirm = True
        self.post_message(PayRequested(self.plan, self.invoice))

    def action_back(self) -> None:
        if self.app.screen is self:
            self.dismiss()

    @property
    def _lnapp(self) -> LnConsoleApp:
        return self.app  # type: ignore[return-value]


__all__ = ["PlanRequest", "SplitScreen", "parse_part_amounts", "sum_text"]
