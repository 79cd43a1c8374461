"""The route editor: the route to pay over, hop by hop, found by the node and edited by hand.

The screen keeps one :class:`RouteEditor` (and the :class:`ChannelPolicies` it looks channels up in, one at a
time) for as long as it is open. Finding, editing and checking a route all ask the node, so each runs in a
thread worker of the ``route`` group and comes back as a :class:`RouteScreen.RouteChanged` or
:class:`RouteScreen.RouteFailed` message. One change runs at a time (a key pressed meanwhile is answered with
what is still going on), so every edit applies to the route the user sees. An edit that cannot be made leaves
the route as it was and says why in place.

Opened for a whole invoice, the screen leads on to paying (``PayRequested``) or splitting (``SplitScreen``);
opened for one part of a split (``part``), it hands the edited route back with ``dismiss(route)``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import Static
from textual.worker import Worker, WorkerState, get_current_worker

from ..amounts import format_sat
from ..graph import Aliases, ChannelPolicies
from ..invoice import PayableInvoice, expiry_against_delay
from ..node import NodeError, NodeUnreachable, UnexpectedAnswer
from ..plan import PaymentTarget, PlanError, single
from ..routing import (
    ChannelChoice,
    Route,
    RouteCheck,
    RouteEdit,
    RouteEditor,
    RouteError,
    RouteFinder,
    RouteNotFound,
)
from ..widgets.footer import QuietFooter
from ..widgets.header import NodeHeader
from ..widgets.route_table import RouteTable, RouteView
from .base import ConsoleScreen
from .messages import PayRequested
from .route_dialogs import (
    ChannelChoiceDialog,
    ExcludeDialog,
    ExcludeRequest,
    ExportRouteDialog,
    FinderOptions,
    ImportRouteDialog,
    InsertCandidate,
    InsertHopDialog,
    InsertRequest,
    RouteOptionsDialog,
)

MAX_INSERT_CANDIDATES = 40
"""The insert dialog lists at most this many nodes that join the two (a typed node id works for any)."""


@dataclass(frozen=True)
class _Tools:
    """What the screen's workers share: who we are, the policy cache, the finder and the one editor."""

    our_id: str
    blockheight: int | None
    policies: ChannelPolicies
    finder: RouteFinder
    editor: RouteEditor


class RouteScreen(ConsoleScreen[Route | None]):
    """One route to the payee as a table of hops, with the finder's options and hop-by-hop editing."""

    CSS_PATH = "route.tcss"
    AUTO_FOCUS = "#route-hops"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("p", "pay", "Pay", id="route.pay", tooltip="Pay over this route (you confirm first)"),
        Binding("s", "split", "Split", id="route.split", tooltip="Plan the payment in several parts"),
        Binding(
            "enter,ctrl+s",
            "use_route",
            "Use this route",
            id="route.use",
            priority=True,
            tooltip="Hand this route back to the part being planned or retried (a retry is confirmed first)",
        ),
        Binding("w", "swap", "Swap channel", id="route.swap", tooltip="Another channel between the hop's two nodes"),
        Binding("i", "insert", "Insert hop", id="route.insert", tooltip="Put a node between the hop's two nodes"),
        Binding("d,delete", "drop", "Drop hop", id="route.drop", tooltip="Take the hop's node off the route"),
        Binding("x", "exclude", "Exclude", id="route.exclude", tooltip="Avoid the hop's node or channel, reroute"),
        Binding("u", "undo", "Undo", id="route.undo", tooltip="Undo the last change to the route"),
        Binding("f", "find", "Find again", id="route.find", tooltip="Ask the node for a route with the options"),
        Binding(
            "o",
            "options",
            "Options",
            id="route.options",
            tooltip="Exclusions, max fee, max delay (getroute: riskfactor, maxhops); finds the route again",
        ),
        Binding("l", "limits", "Limits", id="route.limits", tooltip="Max fee and delay the route is checked against"),
        Binding("e", "export", "Export", id="route.export", tooltip="The route as sendpay JSON, to read or copy"),
        Binding("m,ctrl+o", "import_route", "Import", id="route.import", tooltip="Paste a route as sendpay JSON"),
        Binding("r", "refresh", "Refresh", id="route.refresh", tooltip="Look the channels up again and recheck"),
        Binding("escape", "back", "Back", id="route.back", tooltip="Leave the route editor"),
    ]

    # -- worker results --------------------------------------------------------------------------------------

    class RouteChanged(Message):
        """A worker found, edited, imported or rechecked the route."""

        def __init__(
            self, view: RouteView, description: str, *, undoable: bool, options: FinderOptions | None = None
        ) -> None:
            super().__init__()
            self.view = view
            self.description = description
            self.undoable = undoable
            """Whether the route shown before can be brought back with undo."""
            self.options = options
            """New finder options that came with the change (an exclusion), to keep."""

    class RouteFailed(Message):
        """No route, or an edit that could not be made: the route stays as it was."""

        def __init__(self, title: str, message: str, *, may_split: bool = True) -> None:
            super().__init__()
            self.title = title
            self.message = message
            self.may_split = may_split
            """Whether splitting may help (not when the node's answer could not be read)."""

    class ToolsReady(Message):
        """The node told us who we are and which route finder it has."""

        def __init__(self, our_id: str, uses_getroutes: bool) -> None:
            super().__init__()
            self.our_id = our_id
            self.uses_getroutes = uses_getroutes

    class ChoicesFound(Message):
        """The channels that could carry hop ``index``, for the swap dialog."""

        def __init__(self, route: Route, index: int, choices: list[ChannelChoice]) -> None:
            super().__init__()
            self.route = route
            self.index = index
            self.choices = choices

    class CandidatesFound(Message):
        """The nodes that could go into hop ``index``, for the insert dialog."""

        def __init__(self, route: Route, index: int, candidates: list[InsertCandidate]) -> None:
            super().__init__()
            self.route = route
            self.index = index
            self.candidates = candidates

    # -- set up ----------------------------------------------------------------------------------------------

    def __init__(
        self,
        invoice: PayableInvoice,
        route: Route | None = None,
        *,
        part: int | None = None,
        amount_msat: int | None = None,
    ) -> None:
        """``part``: the partid this route is for (then the amount is the route's, or ``amount_msat``)."""
        super().__init__()
        if part is not None and route is None and amount_msat is None:
            raise ValueError("A part's route editor needs the part's route or its amount.")
        self.invoice = invoice
        self.part = part
        self.initial_route = route
        if amount_msat is None:
            amount_msat = route.amount_msat if route is not None and part is not None else invoice.amount_msat
        self.amount_msat = amount_msat
        """What the payee must receive over this route: the invoice's amount, or the part's."""
        self.route: Route | None = None
        self.check: RouteCheck | None = None
        self.undo_stack: list[tuple[Route, str]] = []
        """Earlier routes and the change that replaced each, newest last."""
        self.options: FinderOptions | None = None
        self.uses_getroutes: bool | None = None
        self.our_id: str | None = None
        self._tools_cache: _Tools | None = None
        self._tools_lock = threading.Lock()
        self._awaiting_confirm = False
        self._busy_with: str | None = None
        """What the route worker is doing: one change at a time, so each applies to the route on screen."""
        self._inserting: tuple[InsertHopDialog, str, str] | None = None
        """The insert dialog last opened, with its hop's start and end (node ids), for its channel lookups."""

    @property
    def payee(self) -> str:
        return self.invoice.invoice.payee

    @property
    def final_cltv(self) -> int:
        return self.invoice.invoice.min_final_cltv_expiry

    def compose(self) -> ComposeResult:
        yield NodeHeader()
        yield Static(id="route-title")
        yield RouteTable(id="route-table")
        yield Static(id="route-status")
        yield QuietFooter()

    # -- typed accessors -------------------------------------------------------------------------------------

    @property
    def route_table(self) -> RouteTable:
        return self.query_one("#route-table", RouteTable)

    @property
    def status(self) -> Static:
        return self.query_one("#route-status", Static)

    @property
    def title_line(self) -> Static:
        return self.query_one("#route-title", Static)

    @property
    def selected_index(self) -> int | None:
        return self.route_table.selected_index

    def on_mount(self) -> None:
        settings = self.app.settings  # type: ignore[attr-defined]
        amount = self.amount_msat or 0
        self.options = FinderOptions(maxfee_msat=settings.maxfee_for(amount), maxdelay=settings.maxdelay)
        self._show_title()
        if self.amount_msat is None:
            self._say("The invoice has no amount: give one on the invoice screen first.", "problem")
            return
        if self.initial_route is not None:
            if self._start("checking the route"):
                self._recheck(self.initial_route, "route opened", undoable=False)
        else:
            self.action_find()

    def on_screen_resume(self) -> None:
        self._awaiting_confirm = False

    # -- showing state ---------------------------------------------------------------------------------------

    def _say(self, text: str, kind: str = "") -> None:
        """One line under the table: what is happening, what changed, or what went wrong."""
        status = self.status
        status.update(text)
        for name in ("problem", "ok", "muted"):
            status.set_class(name == kind, name)

    def _start(self, doing: str) -> bool:
        """Claim the route worker for one change, or say what it is still busy with."""
        if self._busy_with is not None:
            self._say(f"Still {self._busy_with}; try again in a moment.", "muted")
            return False
        self._busy_with = doing
        self._say(f"{doing[:1].upper()}{doing[1:]}…", "muted")
        return True

    def _done(self) -> None:
        self._busy_with = None

    def _show_title(self) -> None:
        payee = self.payee
        name = self.route.hops[-1].name if self.route is not None and self.route.hops else payee[:16] + "…"
        amount = "no amount" if self.amount_msat is None else format_sat(self.amount_msat)
        what = f"Route for part {self.part}" if self.part is not None else "Route"
        self.title_line.update(f"{what} to {name} · {amount} · min_final_cltv {self.final_cltv}")

    # -- the node, in workers --------------------------------------------------------------------------------

    def _tools(self) -> _Tools:
        """Built on first use in a worker (it may ask the node who we are); shared by every later worker."""
        with self._tools_lock:
            if self._tools_cache is None:
                app = self.app
                node = app.node  # type: ignore[attr-defined]
                info = app.status.info  # type: ignore[attr-defined]
                if info is None:
                    info = node.getinfo()
                policies = ChannelPolicies(node, info.id, Aliases.of(node))  # aliases outlive the screen
                for hint in self.invoice.invoice.route_hints:  # a private payee's channels: only the invoice knows
                    policies.add_hint(hint, self.payee)
                finder = RouteFinder(node, info.id, policies=policies)
                options = self.options or FinderOptions(None, None)
                editor = RouteEditor(
                    policies,
                    our_id=info.id,
                    limits=options.limits,
                    finder=finder,
                    payee=self.payee,
                    amount_msat=self.amount_msat,
                    final_cltv=self.final_cltv,
                    route_hints=self.invoice.invoice.route_hints,
                )
                self._tools_cache = _Tools(info.id, info.blockheight or None, policies, finder, editor)
                # Posted even from a superseded worker: who we are stays true.
                self.post_message(self.ToolsReady(info.id, finder.uses_getroutes))
            return self._tools_cache

    def _post(self, message: Message) -> None:
        if not get_current_worker().is_cancelled:
            self.post_message(message)

    def _view(self, tools: _Tools, route: Route, check: RouteCheck) -> RouteView:
        """The table's view: each hop's channel policy is already cached by the check."""
        channels = tuple(tools.policies.policy(hop.short_channel_id, hop.direction) for hop in route.hops)
        return RouteView(route, check, channels, tools.blockheight)

    @work(thread=True, exclusive=True, exit_on_error=False, group="route")
    def _find(self, options: FinderOptions, undoable: bool) -> None:
        """Ask the node's finder for a route with the options."""
        tools = self._tools()
        tools.editor.limits = options.limits
        try:
            routes = tools.finder.find(
                self.payee,
                self.amount_msat or 0,
                final_cltv=self.final_cltv,
                maxfee_msat=options.maxfee_msat,
                maxdelay=options.maxdelay,
                exclude_nodes=options.exclude_nodes,
                exclude_channels=options.exclude_channels,
                riskfactor=options.riskfactor,
                maxhops=options.maxhops,
                route_hints=self.invoice.invoice.route_hints,
            )
        except RouteNotFound as error:
            odd = isinstance(error.__cause__, UnexpectedAnswer)
            self._post(self.RouteFailed("No route", error.reason, may_split=not odd))
            return
        route = routes[0]
        self._post(
            self.RouteChanged(self._view(tools, route, tools.editor.check(route)), "route found", undoable=undoable)
        )

    @work(thread=True, exclusive=True, exit_on_error=False, group="route")
    def _edit(self, title: str, edit: Callable[[RouteEditor], RouteEdit], options: FinderOptions | None = None) -> None:
        """Make one edit; the editor recomputes amounts and delays and checks the result."""
        tools = self._tools()
        try:
            result = edit(tools.editor)
        except RouteError as error:
            self._post(self.RouteFailed(title, error.message))
            return
        view = self._view(tools, result.route, result.check)
        self._post(self.RouteChanged(view, result.description, undoable=True, options=options))

    @work(thread=True, exclusive=True, exit_on_error=False, group="route")
    def _recheck(self, route: Route, description: str, *, undoable: bool, invalidate: bool = False) -> None:
        """Check a route as it is (opened, imported, undone, limits changed), naming its nodes."""
        tools = self._tools()
        if invalidate:
            tools.policies.invalidate()
        if any(not hop.alias for hop in route.hops):
            route = Route(
                tuple(replace(hop, alias=hop.alias or _alias(tools.policies, hop.node_id)) for hop in route.hops),
                route.source,
            )
        self._post(
            self.RouteChanged(self._view(tools, route, tools.editor.check(route)), description, undoable=undoable)
        )

    @work(thread=True, exclusive=True, exit_on_error=False, group="route")
    def _look_up_choices(self, route: Route, index: int) -> None:
        tools = self._tools()
        try:
            choices = tools.editor.alternatives(route, index)
        except RouteError as error:
            self._post(self.RouteFailed("Swap channel", error.message))
            return
        self._post(self.ChoicesFound(route, index, choices))

    @work(thread=True, exclusive=True, exit_on_error=False, group="route")
    def _look_up_candidates(self, route: Route, index: int) -> None:
        """Peers of both the hop's start and its end: the nodes that could go between them.

        Two lookups whatever the number of candidates (``listchannels source=`` the start, its channel ids
        only, and ``destination=`` the end), then the listed candidates' aliases, asked in parallel
        (:meth:`ChannelPolicies.joining`). The candidates' channels from the start are not needed to list them:
        the dialog asks for one node's when it is named (:meth:`_look_up_insert_channels`; issue 5). The 40
        listed are the cheapest ways out to the hop's end for the hop's amount.
        """
        policies = self._tools().policies
        before, after = route.node_before(index), route.hops[index].node_id
        joining = policies.joining(
            before,
            after,
            avoid=route.nodes,
            limit=MAX_INSERT_CANDIDATES,
            amount_msat=route.hops[index].amount_msat,
            channels_in=False,
        )
        names = policies.aliases.look_up(j.node_id for j in joining)  # in parallel (issue 5)
        candidates = [
            InsertCandidate(j.node_id, names[j.node_id], j.channels_in, j.channels_out, j.ways_in, j.fee_out_msat)
            for j in joining
        ]
        self._post(self.CandidatesFound(route, index, candidates))

    @work(thread=True, exit_on_error=False, group="insert-channels")
    def _look_up_insert_channels(self, dialog: InsertHopDialog, before: str, node_id: str, after: str) -> None:
        """The channels between a node named in the insert dialog and the hop's two ends, answered to the
        dialog: from the start, from its neighbours' channel ids (cached by the candidates' lookup) and those
        channels' policies; to the end, from the end's arriving channels (cached too). What the node says
        instead is said in the dialog, where Insert still takes the cheapest."""
        policies = self._tools().policies
        try:
            channels_in = tuple(policies.channels_between(before, node_id))
            channels_out = tuple(policies.channels_between(node_id, after))
        except NodeError as error:
            dialog.post_message(InsertHopDialog.ChannelsKnown(node_id, (), (), failure_text(error)))
            return
        dialog.post_message(InsertHopDialog.ChannelsKnown(node_id, channels_in, channels_out))

    # -- worker results --------------------------------------------------------------------------------------

    @on(Worker.StateChanged)
    def _worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A failed worker's error, said here in place (ConsoleScreen hands it to the app, which notifies it);
        and the status line stops saying we are still busy."""
        if event.worker.group != "route" or event.state not in (WorkerState.ERROR, WorkerState.CANCELLED):
            return
        self._done()
        if event.state == WorkerState.ERROR:
            error = event.worker.error
            kept = " The route is unchanged." if self.route is not None else ""
            lead = "The node did not answer as expected" if isinstance(error, NodeError) else "That failed"
            self._say(f"{lead} ({failure_text(error)}).{kept}", "problem")

    @on(ToolsReady)
    def _tools_ready(self, message: ToolsReady) -> None:
        self.our_id = message.our_id
        self.uses_getroutes = message.uses_getroutes

    @on(RouteChanged)
    def _route_changed(self, message: RouteChanged) -> None:
        self._done()
        if message.undoable and self.route is not None:
            self.undo_stack.append((self.route, message.description))
        if message.options is not None:
            self.options = message.options
        self.route, self.check = message.view.route, message.view.check
        self.route_table.show(message.view)
        self._show_title()
        check = message.view.check
        if check.ok:
            _, warnings = self._expiry(check.route)
            if warnings:  # paying is still allowed: the payer decides (see expiry_against_delay)
                self._say(
                    f"{message.description[:1].upper()}{message.description[1:]}: the route checks out, but "
                    f"{warnings[0]}.",
                    "muted",
                )
            else:
                self._say(f"{message.description[:1].upper()}{message.description[1:]}: the route checks out.", "ok")
        else:
            count = len(check.hop_problems) + len(check.route_problems)
            self._say(
                f"{message.description[:1].upper()}{message.description[1:]}: "
                f"{count} problem{'s' if count != 1 else ''}, marked in the table.",
                "problem",
            )
        self.refresh_bindings()

    @on(RouteFailed)
    def _route_failed(self, message: RouteFailed) -> None:
        self._done()
        if self.route is not None:
            after = " The route is unchanged."
        elif self.part is None and message.may_split:
            after = " No single path may carry it: press s to split the payment into parts."
        else:
            after = ""
        stop = "" if message.message.endswith((".", "!", "?")) else "."
        self._say(f"{message.title}: {message.message}{stop}{after}", "problem")
        self.notify(message.message, title=message.title, severity="warning")

    @on(ChoicesFound)
    def _choices_found(self, message: ChoicesFound) -> None:
        self._done()
        route, index = message.route, message.index
        before = "us" if index == 0 else route.hops[index - 1].name
        if not message.choices:
            self._say(f"Swap channel: no channel from {before} to {route.hops[index].name} is known.", "problem")
            return
        title = f"Hop {index + 1}: channels from {before} to {route.hops[index].name}"

        def chosen(short_channel_id: object) -> None:
            if isinstance(short_channel_id, str) and short_channel_id != route.hops[index].short_channel_id:
                if self._start(f"swapping hop {index + 1} to {short_channel_id}"):
                    self._edit("Swap channel", lambda editor: editor.swap_channel(route, index, short_channel_id))
            else:
                self._say(f"Hop {index + 1} keeps {route.hops[index].short_channel_id}.", "muted")

        self.app.push_screen(ChannelChoiceDialog(title, message.choices), chosen)

    @on(CandidatesFound)
    def _candidates_found(self, message: CandidatesFound) -> None:
        self._done()
        route, index = message.route, message.index
        before = "us" if index == 0 else route.hops[index - 1].name

        def chosen(request: object) -> None:
            self._inserting = None  # the dialog is closed: a late request of its is not looked up
            if isinstance(request, InsertRequest):
                if self._start("inserting the node"):
                    self._edit(
                        "Insert hop",
                        lambda editor: editor.insert_hop(
                            route, index, request.node_id, request.channel_in, request.channel_out
                        ),
                    )
            else:
                self._say("Nothing inserted.", "muted")

        dialog = InsertHopDialog(before, route.hops[index].name, message.candidates, ask=self)
        self._inserting = (dialog, route.node_before(index), route.hops[index].node_id)
        self.app.push_screen(dialog, chosen)

    @on(InsertHopDialog.ChannelsWanted)
    def _insert_channels_wanted(self, message: InsertHopDialog.ChannelsWanted) -> None:
        """The open insert dialog named a node: its channels are looked up beside the route's one change
        (nothing on the route changes until the dialog returns)."""
        if self._inserting is not None and self._inserting[0] is message.dialog:
            _, before, after = self._inserting
            self._look_up_insert_channels(message.dialog, before, message.node_id, after)

    # -- actions ---------------------------------------------------------------------------------------------

    _NEEDS_ROUTE: ClassVar[frozenset[str]] = frozenset(
        {"swap", "insert", "drop", "exclude", "export", "pay", "use_route", "refresh"}
    )

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Pay and Split only for a whole invoice, Use this route only for a part; hop edits need a route."""
        if action in ("pay", "split") and self.part is not None:
            return False
        if action == "use_route" and self.part is None:
            return False
        if action in self._NEEDS_ROUTE and self.route is None:
            return None
        if action == "undo" and not self.undo_stack:
            return None
        return True

    def _selected(self) -> tuple[Route, int] | None:
        index = self.selected_index
        if self.route is None or index is None:
            self._say("There is no route to edit yet.", "problem")
            return None
        return self.route, index

    def action_find(self) -> None:
        if self.options is None or self.amount_msat is None:
            return
        if self._start("finding a route"):
            self._find(self.options, self.route is not None)

    def action_options(self) -> None:
        self._options_dialog(finder_options=True)

    def action_limits(self) -> None:
        self._options_dialog(finder_options=False)

    def _options_dialog(self, *, finder_options: bool) -> None:
        if self.options is None:
            return
        aliases = {hop.node_id: hop.alias for hop in (self.route.hops if self.route else ()) if hop.alias}

        def chosen(options: object) -> None:
            if not isinstance(options, FinderOptions) or self.options is None:
                return
            self.options = options
            if self._tools_cache is not None:
                self._tools_cache.editor.limits = options.limits
            if finder_options:
                self.action_find()
            elif self.route is not None and self._start("checking the route against the limits"):
                self._recheck(self.route, "limits changed", undoable=False)

        self.app.push_screen(
            RouteOptionsDialog(
                self.options, finder_options=finder_options, uses_getroutes=self.uses_getroutes, aliases=aliases
            ),
            chosen,
        )

    def action_swap(self) -> None:
        if (selected := self._selected()) is not None and self._start("looking up the channels"):
            self._look_up_choices(*selected)

    def action_insert(self) -> None:
        if (selected := self._selected()) is not None and self._start("looking up nodes that could go there"):
            self._look_up_candidates(*selected)

    def action_drop(self) -> None:
        if (selected := self._selected()) is not None:
            route, index = selected
            if self._start(f"dropping {route.hops[index].name}"):
                self._edit("Drop hop", lambda editor: editor.remove_hop(route, index))

    def action_exclude(self) -> None:
        if (selected := self._selected()) is None:
            return
        route, index = selected
        hop = route.hops[index]
        dialog = ExcludeDialog(
            index + 1, hop.node_id, hop.name, hop.short_channel_id, destination=index == len(route.hops) - 1
        )
        self.app.push_screen(dialog, partial(self._exclude_chosen, route, index))

    def _exclude_chosen(self, route: Route, index: int, request: object) -> None:
        if not isinstance(request, ExcludeRequest) or self.options is None:
            return
        options = self.options
        # Earlier exclusions still apply, except on the part of the route that is kept.
        kept_nodes = set(route.nodes[: index + 1])
        kept_channels = {hop.short_channel_id for hop in route.hops[:index]}
        nodes = [n for n in options.exclude_nodes if n not in kept_nodes]
        channels = [c for c in options.exclude_channels if c.partition("/")[0] not in kept_channels]
        if request.kind == "node":
            nodes.append(request.value)
            options = replace(options, exclude_nodes=tuple(dict.fromkeys((*options.exclude_nodes, request.value))))
        else:
            channels.append(request.value)
            options = replace(
                options, exclude_channels=tuple(dict.fromkeys((*options.exclude_channels, request.value)))
            )
        if not self._start("rerouting"):
            return
        self._edit(
            "Exclude",
            lambda editor: editor.exclude_and_reroute(
                route, index, exclude_nodes=tuple(dict.fromkeys(nodes)), exclude_channels=tuple(dict.fromkeys(channels))
            ),
            options,
        )

    def action_undo(self) -> None:
        if not self.undo_stack:
            self._say("Nothing to undo.", "muted")
            return
        if self._start("undoing"):
            route, description = self.undo_stack.pop()
            self._recheck(route, f"undone: {description}", undoable=False)

    def action_refresh(self) -> None:
        if self.route is not None and self._start("looking the channels up again"):
            self._recheck(self.route, "channels looked up again", undoable=False, invalidate=True)

    def action_export(self) -> None:
        if self.route is not None:
            self.app.push_screen(ExportRouteDialog(self.route))

    def action_import_route(self) -> None:
        our_id = self.our_id or (self.route.source if self.route is not None else None)
        if our_id is None:
            self._say("Still asking the node who we are; try again in a moment.", "muted")
            return

        def chosen(route: object) -> None:
            if isinstance(route, Route) and self._start("checking the imported route"):
                self._recheck(route, "route imported", undoable=True)

        self.app.push_screen(ImportRouteDialog(our_id), chosen)

    def _expiry(self, route: Route) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """The invoice's expiry against this route's worst-case delay, by the app's clock."""
        clock = getattr(self.app, "clock", None)
        now = int(clock()) if callable(clock) else self.invoice.checked_at
        return expiry_against_delay(self.invoice.invoice, route.total_delay, now)

    def _refusal(self) -> str | None:
        """Why the route can't be paid or used as it is, or None."""
        if self.route is None or self.check is None:
            return "There is no route yet."
        if not self.check.ok:
            return "The route has problems: " + "; ".join(self.check.messages) + "."
        expired, _ = self._expiry(self.route)
        if expired:
            return expired[0][:1].upper() + expired[0][1:] + "."
        return None

    def action_pay(self) -> None:
        refusal = self._refusal()
        if refusal is None and self.route is not None:
            try:
                plan = single(PaymentTarget.from_invoice(self.invoice), self.route)
            except PlanError as error:
                refusal = str(error)
            else:
                if self._awaiting_confirm:
                    self._say("Waiting for your confirmation of the payment…", "muted")
                    return
                self._awaiting_confirm = True
                self.post_message(PayRequested(plan, self.invoice))
                return
        self._say(f"Not paying: {refusal}", "problem")
        self.notify(refusal or "", title="Not paying", severity="warning")

    def action_split(self) -> None:
        try:
            from .split import SplitScreen
        except ModuleNotFoundError as error:
            if error.name != f"{__package__}.split":
                raise
            self.notify("The split planner is not available in this build.", title="Split", severity="warning")
            return
        self.app.push_screen(SplitScreen(self.invoice, self.route))

    def action_use_route(self) -> None:
        refusal = self._refusal()
        if refusal is not None:
            self._say(f"Not using this route: {refusal}", "problem")
            return
        self.dismiss(self.route)

    def action_back(self) -> None:
        self.dismiss(None)


def failure_text(error: BaseException | None) -> str:
    """A worker's error in a line: the node's words and code, or the exception's."""
    if isinstance(error, NodeError):
        code = f" (code {error.code})" if error.code is not None else ""
        return f"{error.method}: {error.message}{code}"
    return f"{type(error).__name__}: {error}" if error is not None else "no error given"


def _alias(policies: ChannelPolicies, node_id: str) -> str:
    """A hop's alias for the table; '' when the node won't look it up (an imported id that is no public key:
    the check then says what is wrong with the hop)."""
    try:
        return policies.alias(node_id)
    except NodeUnreachable:
        raise
    except NodeError:
        return ""


__all__ = ["RouteScreen", "failure_text"]
