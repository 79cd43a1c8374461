"""The route screen's dialogs: choose a channel, insert a node, exclude and reroute, limits and finder options,
import and export as ``sendpay`` JSON.

Each is a ``ModalScreen`` that returns what the user chose with ``dismiss(value)`` (None when cancelled). They
check what was typed and say what is wrong in place; none of them talks to the node: the route screen looks
up what they list beforehand (or, for the insert dialog, when asked with a message) and carries out what they
return, in its workers.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.message_pump import MessagePump
from textual.screen import ModalScreen
from textual.widgets import Button, DataTable, Input, Label, OptionList, Select, Static, TextArea
from textual.widgets.option_list import Option

from ..amounts import AmountError, format_msat, format_sat, parse_amount
from ..graph import ChannelPolicy
from ..routing import ChannelChoice, Route, RouteError, RouteLimits, route_from_json, route_to_json

_NODE_ID = re.compile(r"^0[23][0-9a-f]{64}$")
_SCID = re.compile(r"^[0-9]+x[0-9]+x[0-9]+(/[01])?$")


@dataclass(frozen=True)
class FinderOptions:
    """What the route finder is asked with, and the limits the route is checked against."""

    maxfee_msat: int | None
    """None: no fee limit."""
    maxdelay: int | None
    """None: no delay limit."""
    exclude_nodes: tuple[str, ...] = ()
    exclude_channels: tuple[str, ...] = ()
    """``scid`` (both directions) or ``scid/dir``."""
    riskfactor: float = 10.0
    """getroute only."""
    maxhops: int | None = None
    """getroute only."""

    @property
    def limits(self) -> RouteLimits:
        return RouteLimits(maxfee_msat=self.maxfee_msat, maxdelay=self.maxdelay)


@dataclass(frozen=True)
class InsertCandidate:
    """A node that could go between two nodes of the route: a peer of both, with the channels that join them."""

    node_id: str
    alias: str
    channels_in: tuple[ChannelPolicy, ...] | None
    """From the node before to this one; None until looked up (when the node is named: issue 5)."""
    channels_out: tuple[ChannelPolicy, ...]
    """From this one to the node after."""
    ways_in: int | None = None
    """How many channels come from the node before (known by id before their policies); None: len(channels_in)."""
    fee_out_msat: int | None = None
    """What it asks to forward the hop's amount over its cheapest usable channel to the node after."""

    @property
    def name(self) -> str:
        return self.alias or self.node_id[:16]

    @property
    def count_in(self) -> int:
        if self.channels_in is not None:
            return len(self.channels_in)
        return self.ways_in or 0


@dataclass(frozen=True)
class InsertRequest:
    """Insert ``node_id``, over the channels named (None: the cheapest enabled one)."""

    node_id: str
    channel_in: str | None = None
    channel_out: str | None = None


@dataclass(frozen=True)
class ExcludeRequest:
    """Avoid this hop's ``node`` or its ``channel`` and find the rest of the route anew."""

    kind: str
    """``node`` or ``channel``."""
    value: str
    """The node id or the short_channel_id."""


def _cancel_binding() -> Binding:
    return Binding("escape", "cancel", "Cancel", id="route.dialog.cancel", tooltip="Close without changing anything")


def _policy_capacity(policy: ChannelPolicy) -> str:
    if policy.local and policy.spendable_msat is not None:
        return f"{format_sat(policy.spendable_msat)} spendable"
    return "?" if policy.capacity_msat is None else format_sat(policy.capacity_msat)


class _RouteDialog(ModalScreen[object]):
    """The frame every route dialog shares: escape cancels."""

    CSS_PATH = "route.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [_cancel_binding()]

    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#cancel")
    def _cancel_pressed(self) -> None:
        self.dismiss(None)


# ---------------------------------------------------------------------------------------------------------------
# Swap a channel


class ChannelChoiceDialog(_RouteDialog):
    """Every channel that could carry a hop, with its policy and problems; Enter takes the one under the cursor."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {"channel-choice--problem"}

    def __init__(self, title: str, choices: Sequence[ChannelChoice]) -> None:
        super().__init__()
        self.title_text = title
        self.choices = list(choices)

    def compose(self) -> ComposeResult:
        with Vertical(classes="route-dialog -wide"):
            yield Label(self.title_text, classes="section-title")
            table: DataTable[Text | str] = DataTable(id="channel-choices", cursor_type="row")
            table.tooltip = "Enter: use this channel for the hop"
            yield table
            yield Static(
                "● the hop's channel now. Fee and Δ are what the hop's start node asks over that channel "
                "(nothing for our own channels).",
                classes="muted",
            )
            with Horizontal(classes="dialog-buttons"):
                yield Button("Use channel", id="choose", variant="primary", compact=True)
                yield Button("Cancel", id="cancel", compact=True)

    @property
    def choices_table(self) -> DataTable[Text | str]:
        return self.query_one("#channel-choices", DataTable)

    def on_mount(self) -> None:
        table = self.choices_table
        for label in ("", "Channel", "Fee here", "Base", "ppm", "Δ", "HTLC max", "Capacity", "Problems"):
            table.add_column(label, key=label or "current")
        for choice in self.choices:
            policy = choice.policy
            problems = "; ".join(choice.problems)
            table.add_row(
                "●" if choice.current else "",
                policy.short_channel_id_dir,
                f"{choice.fee_msat:,} msat",
                f"{policy.base_fee_msat:,}",
                f"{policy.fee_ppm:,}",
                str(choice.cltv_delta if choice.cltv_delta else policy.cltv_delta),
                "?" if policy.htlc_maximum_msat is None else format_sat(policy.htlc_maximum_msat),
                _policy_capacity(policy),
                Text(problems, style=self.get_component_rich_style("channel-choice--problem"))
                if problems
                else Text("usable"),
                key=policy.short_channel_id,
            )
        table.focus()

    def _choose(self) -> None:
        if not self.choices:
            self.dismiss(None)
            return
        row = min(max(self.choices_table.cursor_row, 0), len(self.choices) - 1)
        self.dismiss(self.choices[row].short_channel_id)

    @on(DataTable.RowSelected, "#channel-choices")
    def _row_selected(self) -> None:
        self._choose()

    @on(Button.Pressed, "#choose")
    def _choose_pressed(self) -> None:
        self._choose()


# ---------------------------------------------------------------------------------------------------------------
# Insert a node


class InsertHopDialog(_RouteDialog):
    """Type a node id or alias, or pick one of the nodes that join the two; channels automatic or chosen.

    It opens with the candidates' ways out (known from the one lookup of the node after's channels) but not their
    channels from the node before: a named node's are asked with :class:`ChannelsWanted`, posted to ``ask`` (the
    route screen, which looks them up in a worker; the dialog never calls the node), and come back as
    :class:`ChannelsKnown`. Meanwhile the chooser says it is looking, and Insert takes the cheapest.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        _cancel_binding(),
        Binding("ctrl+s", "insert", "Insert", id="route.insert.apply", tooltip="Insert the node into the route"),
    ]

    AUTOMATIC = "cheapest (automatic)"
    LOOKING = "looking up channels…"

    class ChannelsWanted(Message):
        """The channels between ``node_id`` and the two ends of the hop are wanted by ``dialog``."""

        bubble = False

        def __init__(self, dialog: InsertHopDialog, node_id: str) -> None:
            super().__init__()
            self.dialog = dialog
            self.node_id = node_id

    class ChannelsKnown(Message):
        """The answer to :class:`ChannelsWanted`: the channels into and out of ``node_id`` (``problem``: why they
        could not be looked up)."""

        bubble = False

        def __init__(
            self,
            node_id: str,
            channels_in: tuple[ChannelPolicy, ...],
            channels_out: tuple[ChannelPolicy, ...],
            problem: str | None = None,
        ) -> None:
            super().__init__()
            self.node_id = node_id
            self.channels_in = channels_in
            self.channels_out = channels_out
            self.problem = problem

    def __init__(
        self,
        before: str,
        after: str,
        candidates: Sequence[InsertCandidate],
        *,
        ask: MessagePump | None = None,
    ) -> None:
        """``ask``: where :class:`ChannelsWanted` goes (None: nowhere; only the candidates' known channels)."""
        super().__init__()
        self.before = before
        self.after = after
        self.candidates = list(candidates)
        self.ask = ask
        self._channels: dict[str, tuple[tuple[ChannelPolicy, ...], tuple[ChannelPolicy, ...]]] = {
            c.node_id: (c.channels_in, c.channels_out) for c in self.candidates if c.channels_in is not None
        }
        """node id -> its channels in and out, as far as known."""
        self._problems: dict[str, str] = {}
        self._asked: set[str] = set()
        self._shown: str | None = None
        """The node whose channels the choosers offer (None: none)."""
        self._channel_selects: tuple[Select[str], Select[str]] | None = None
        """The two channel choosers, made when a node is first named: until then both channels are the cheapest,
        and the dialog opens without them (two Selects cost as much to mount as the rest: issue 5)."""

    def compose(self) -> ComposeResult:
        with Vertical(classes="route-dialog"):
            yield Label(f"Insert a node between {self.before} and {self.after}", classes="section-title")
            yield Input(placeholder="node id or alias", id="insert-node", compact=True)
            if self.candidates:
                yield Label("Nodes with channels to both, cheapest way out first (Enter picks one):", classes="muted")
                yield OptionList(
                    *(Option(self._candidate_line(c), id=c.node_id) for c in self.candidates),
                    id="insert-candidates",
                    compact=True,
                )
            else:
                yield Label(
                    f"No node the console knows has channels to both {self.before} and {self.after}.", classes="muted"
                )
            yield Label(f"Channel from {self.before}:", id="insert-channel-in-label", classes="muted")
            yield Static(self.AUTOMATIC, id="insert-channel-in-auto", classes="muted")
            yield Label(f"Channel to {self.after}:", id="insert-channel-out-label", classes="muted")
            yield Static(self.AUTOMATIC, id="insert-channel-out-auto", classes="muted")
            yield Static(id="insert-error", classes="problem")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Insert", id="insert", variant="primary", compact=True)
                yield Button("Cancel", id="cancel", compact=True)

    @staticmethod
    def _candidate_line(candidate: InsertCandidate) -> str:
        fee = "" if candidate.fee_out_msat is None else f", out {candidate.fee_out_msat:,} msat"
        return (
            f"{candidate.name}  {candidate.node_id[:16]}…  "
            f"({candidate.count_in} in, {len(candidate.channels_out)} out{fee})"
        )

    @property
    def node_input(self) -> Input:
        return self.query_one("#insert-node", Input)

    @property
    def channel_in(self) -> Select[str] | None:
        """The chooser of the channel from the node before (None until a node is named)."""
        return self._channel_selects[0] if self._channel_selects else None

    @property
    def channel_out(self) -> Select[str] | None:
        """The chooser of the channel to the node after (None until a node is named)."""
        return self._channel_selects[1] if self._channel_selects else None

    @property
    def channels_pending(self) -> bool:
        """Whether the named node's channels are still being looked up."""
        return self._shown is not None and self._shown not in self._channels and self._shown not in self._problems

    async def _show_channel_selects(self) -> tuple[Select[str], Select[str]]:
        """Put the two channel choosers where the "cheapest (automatic)" lines are (once)."""
        if self._channel_selects is None:
            selects = (
                Select[str]([], prompt=self.AUTOMATIC, id="insert-channel-in", compact=True),
                Select[str]([], prompt=self.AUTOMATIC, id="insert-channel-out", compact=True),
            )
            self._channel_selects = selects
            for select, side in zip(selects, ("in", "out"), strict=True):
                placeholder = self.query_one(f"#insert-channel-{side}-auto", Static)
                await placeholder.parent.mount(select, after=placeholder)  # type: ignore[union-attr]
                await placeholder.remove()
        return self._channel_selects

    @property
    def error(self) -> Static:
        return self.query_one("#insert-error", Static)

    def on_mount(self) -> None:
        self.node_input.focus()

    def _candidate(self, text: str) -> InsertCandidate | None:
        """The candidate the text names: its alias (any case), its node id, or an unambiguous id prefix."""
        text = text.strip()
        if not text:
            return None
        lowered = text.lower()
        for candidate in self.candidates:
            if candidate.node_id == lowered or (candidate.alias and candidate.alias.casefold() == text.casefold()):
                return candidate
        if len(lowered) >= 8:
            prefixed = [c for c in self.candidates if c.node_id.startswith(lowered)]
            if len(prefixed) == 1:
                return prefixed[0]
        return None

    def _named(self, text: str) -> str | None:
        """The node id the text names: a candidate's, or any node id typed in full."""
        candidate = self._candidate(text)
        if candidate is not None:
            return candidate.node_id
        lowered = text.strip().lower()
        return lowered if _NODE_ID.match(lowered) else None

    def _labels(self, looking_in: bool, looking_out: bool) -> None:
        node_id = self._shown
        problem = self._problems.get(node_id) if node_id is not None else None
        channels_in, channels_out = self._channels.get(node_id, (None, None)) if node_id is not None else (None, None)

        def state(looking: bool, channels: tuple[ChannelPolicy, ...] | None) -> str:
            if problem is not None:
                return f" not looked up ({problem}); Insert takes the cheapest"
            if looking:
                return f" {self.LOOKING}"
            if channels is not None and not channels:
                return " none known"
            return ""

        self.query_one("#insert-channel-in-label", Label).update(
            f"Channel from {self.before}:{state(looking_in, channels_in)}"
        )
        self.query_one("#insert-channel-out-label", Label).update(
            f"Channel to {self.after}:{state(looking_out, channels_out)}"
        )

    async def _fill_channels(self, node_id: str | None) -> None:
        """Offer the named node's channels (those known; the rest asked of the route screen)."""

        def options(policies: tuple[ChannelPolicy, ...] | None) -> list[tuple[str, str]]:
            return [
                (
                    f"{p.short_channel_id_dir}  {p.base_fee_msat}+{p.fee_ppm}ppm Δ{p.cltv_delta}"
                    + ("" if p.usable else "  (disabled)"),
                    p.short_channel_id,
                )
                for p in policies or ()
            ]

        if node_id == self._shown:
            return
        self._shown = node_id
        if node_id is None and self._channel_selects is None:
            return
        known = self._channels.get(node_id) if node_id is not None else None
        candidate = self._candidate(node_id) if node_id is not None else None
        channels_in = known[0] if known else None
        channels_out = known[1] if known else candidate.channels_out if candidate else None
        looking = node_id is not None and known is None and node_id not in self._problems and self.ask is not None
        if looking and node_id not in self._asked and self.ask is not None:
            assert node_id is not None
            self._asked.add(node_id)
            self.ask.post_message(self.ChannelsWanted(self, node_id))
        channel_in, channel_out = await self._show_channel_selects()
        channel_in.set_options(options(channels_in))
        channel_out.set_options(options(channels_out))
        self._labels(looking, looking and candidate is None)

    @on(ChannelsKnown)
    async def _channels_known(self, message: ChannelsKnown) -> None:
        if message.problem is not None:
            self._problems[message.node_id] = message.problem
        else:
            self._channels[message.node_id] = (message.channels_in, message.channels_out)
        if message.node_id == self._shown:
            self._shown = None
            await self._fill_channels(message.node_id)

    @on(Input.Changed, "#insert-node")
    async def _node_typed(self, event: Input.Changed) -> None:
        self.error.update("")
        await self._fill_channels(self._named(event.value))

    @on(OptionList.OptionSelected, "#insert-candidates")
    async def _candidate_picked(self, event: OptionList.OptionSelected) -> None:
        candidate = next((c for c in self.candidates if c.node_id == event.option.id), None)
        if candidate is not None:
            self.node_input.value = candidate.alias or candidate.node_id
            await self._fill_channels(candidate.node_id)
            channel_in, _ = await self._show_channel_selects()
            channel_in.focus()

    @on(Input.Submitted, "#insert-node")
    @on(Button.Pressed, "#insert")
    def action_insert(self) -> None:
        text = self.node_input.value.strip()
        node_id = self._named(text)
        if node_id is None and not text:
            self.error.update("Type the node id or alias of the node to insert, or pick one from the list.")
            return
        if node_id is None:
            self.error.update(
                f"No node called {text!r} joins {self.before} and {self.after}: type its node id "
                "(66 hex digits starting 02 or 03)."
            )
            return

        def chosen(select: Select[str] | None) -> str | None:
            value = select.value if select is not None and self._shown == node_id else None
            return value if isinstance(value, str) else None

        self.dismiss(InsertRequest(node_id, chosen(self.channel_in), chosen(self.channel_out)))


# ---------------------------------------------------------------------------------------------------------------
# Exclude and reroute


class ExcludeDialog(_RouteDialog):
    """Avoid the hop's node or its channel; the route is found anew from the hop's start."""

    def __init__(self, hop_number: int, node_id: str, node_name: str, short_channel_id: str, *, destination: bool):
        super().__init__()
        self.hop_number = hop_number
        self.node_id = node_id
        self.node_name = node_name
        self.short_channel_id = short_channel_id
        self.destination = destination

    def compose(self) -> ComposeResult:
        with Vertical(classes="route-dialog"):
            yield Label(f"Exclude from hop {self.hop_number} on and reroute", classes="section-title")
            node_label = f"Node {self.node_name} ({self.node_id[:16]}…)"
            if self.destination:
                node_label += ": the destination stays on the route"
            yield OptionList(
                Option(node_label, id="node", disabled=self.destination),
                Option(f"Channel {self.short_channel_id} (both directions)", id="channel"),
                id="exclude-choice",
                compact=True,
            )
            yield Static("The exclusion is kept in the finder's options (o) for later searches.", classes="muted")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Cancel", id="cancel", compact=True)

    @property
    def choice(self) -> OptionList:
        return self.query_one("#exclude-choice", OptionList)

    def on_mount(self) -> None:
        self.choice.focus()
        self.choice.highlighted = 1 if self.destination else 0

    @on(OptionList.OptionSelected, "#exclude-choice")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        if event.option.id == "node":
            self.dismiss(ExcludeRequest("node", self.node_id))
        else:
            self.dismiss(ExcludeRequest("channel", self.short_channel_id))


# ---------------------------------------------------------------------------------------------------------------
# Limits and finder options


def _split_tokens(text: str) -> list[str]:
    return [token for token in re.split(r"[\s,]+", text.strip()) if token]


class RouteOptionsDialog(_RouteDialog):
    """The route's limits (max fee, max delay) and, for the finder, exclusions and getroute's own options."""

    BINDINGS: ClassVar[list[BindingType]] = [
        _cancel_binding(),
        Binding("ctrl+s", "apply", "Apply", id="route.options.apply", tooltip="Use these options"),
    ]

    def __init__(
        self,
        options: FinderOptions,
        *,
        finder_options: bool = True,
        uses_getroutes: bool | None = None,
        aliases: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__()
        self.options = options
        self.finder_options = finder_options
        self.uses_getroutes = uses_getroutes
        self.aliases = dict(aliases or {})
        """node id -> alias of the nodes the user has seen (route hops, earlier exclusions)."""

    @property
    def getroute_only(self) -> bool:
        """riskfactor and maxhops only mean something to getroute; shown when getroutes is known missing."""
        return self.finder_options and self.uses_getroutes is False

    def _name(self, node_id: str) -> str:
        alias = self.aliases.get(node_id, "")
        unique = alias and list(self.aliases.values()).count(alias) == 1
        return alias if unique else node_id

    def compose(self) -> ComposeResult:
        options = self.options
        title = "Route finder options" if self.finder_options else "Limits"
        with Vertical(classes="route-dialog"):
            yield Label(title, classes="section-title")
            with VerticalScroll(classes="dialog-fields"):
                yield Label("Max fee (1000msat, 10sat, 0.0001btc; empty: no limit)")
                yield Input(
                    "" if options.maxfee_msat is None else format_msat(options.maxfee_msat),
                    id="option-maxfee",
                    compact=True,
                )
                yield Label("Max delay (blocks; empty: no limit)")
                yield Input(
                    "" if options.maxdelay is None else str(options.maxdelay),
                    id="option-maxdelay",
                    type="integer",
                    compact=True,
                )
                if self.finder_options:
                    yield Label("Exclude nodes (node ids or aliases of nodes seen, comma separated)")
                    yield Input(
                        ", ".join(self._name(n) for n in options.exclude_nodes), id="option-exclude-nodes", compact=True
                    )
                    yield Label("Exclude channels (103x1x0 or 103x1x0/1, comma separated)")
                    yield Input(", ".join(options.exclude_channels), id="option-exclude-channels", compact=True)
                if self.getroute_only:
                    yield Label("Risk factor (getroute: the cost of locking funds, per year, in %)")
                    yield Input(f"{options.riskfactor:g}", id="option-riskfactor", type="number", compact=True)
                    yield Label("Max hops (getroute; empty: no limit)")
                    yield Input(
                        "" if options.maxhops is None else str(options.maxhops),
                        id="option-maxhops",
                        type="integer",
                        compact=True,
                    )
            yield Static(id="option-error", classes="problem")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Apply", id="apply", variant="primary", compact=True)
                yield Button("Cancel", id="cancel", compact=True)

    @property
    def error(self) -> Static:
        return self.query_one("#option-error", Static)

    def _value(self, input_id: str) -> str | None:
        found = self.query(f"#{input_id}").results(Input)
        field = next(iter(found), None)
        return None if field is None else field.value.strip()

    def on_mount(self) -> None:
        self.query_one("#option-maxfee", Input).focus()

    def _parse(self) -> FinderOptions:
        """The options typed, or ValueError/AmountError with what is wrong."""
        options = self.options
        fee_text = self._value("option-maxfee") or ""
        maxfee = None if not fee_text else parse_amount(fee_text)
        delay_text = self._value("option-maxdelay") or ""
        maxdelay = None
        if delay_text:
            if not delay_text.isdigit() or int(delay_text) <= 0:
                raise ValueError(f"Max delay must be a whole number of blocks above 0, not {delay_text!r}.")
            maxdelay = int(delay_text)
        exclude_nodes, exclude_channels = options.exclude_nodes, options.exclude_channels
        if self.finder_options:
            by_alias: dict[str, list[str]] = {}
            for node_id, alias in self.aliases.items():
                if alias:
                    by_alias.setdefault(alias.casefold(), []).append(node_id)
            nodes: list[str] = []
            for token in _split_tokens(self._value("option-exclude-nodes") or ""):
                if _NODE_ID.match(token.lower()):
                    nodes.append(token.lower())
                elif len(by_alias.get(token.casefold(), [])) == 1:
                    nodes.append(by_alias[token.casefold()][0])
                else:
                    raise ValueError(
                        f"Exclude nodes: {token!r} is neither a node id (66 hex digits) nor the alias of a node "
                        "on the route."
                    )
            channels: list[str] = []
            for token in _split_tokens(self._value("option-exclude-channels") or ""):
                if not _SCID.match(token):
                    raise ValueError(f"Exclude channels: {token!r} is not a channel like 103x1x0 or 103x1x0/1.")
                channels.append(token)
            exclude_nodes, exclude_channels = tuple(dict.fromkeys(nodes)), tuple(dict.fromkeys(channels))
        riskfactor, maxhops = options.riskfactor, options.maxhops
        if self.getroute_only:
            risk_text = self._value("option-riskfactor") or ""
            try:
                riskfactor = float(risk_text) if risk_text else 10.0
            except ValueError:
                raise ValueError(f"Risk factor must be a number, not {risk_text!r}.") from None
            if riskfactor < 0:
                raise ValueError("Risk factor cannot be negative.")
            hops_text = self._value("option-maxhops") or ""
            if hops_text and (not hops_text.isdigit() or int(hops_text) < 1):
                raise ValueError(f"Max hops must be a whole number of at least 1, not {hops_text!r}.")
            maxhops = int(hops_text) if hops_text else None
        return FinderOptions(maxfee, maxdelay, exclude_nodes, exclude_channels, riskfactor, maxhops)

    @on(Input.Submitted)
    @on(Button.Pressed, "#apply")
    def action_apply(self) -> None:
        try:
            options = self._parse()
        except (AmountError, ValueError) as error:
            self.error.update(str(error))
            return
        self.dismiss(options)


# ---------------------------------------------------------------------------------------------------------------
# Import and export


class ImportRouteDialog(_RouteDialog):
    """Paste a route as sendpay JSON (or a getroute/getroutes answer); what is wrong is shown here."""

    BINDINGS: ClassVar[list[BindingType]] = [
        _cancel_binding(),
        Binding("ctrl+s", "import_route", "Import", id="route.import.apply", tooltip="Use the pasted route"),
    ]

    def __init__(self, our_id: str) -> None:
        super().__init__()
        self.our_id = our_id

    def compose(self) -> ComposeResult:
        with Vertical(classes="route-dialog -wide"):
            yield Label("Import a route (sendpay JSON)", classes="section-title")
            yield TextArea(id="import-json", soft_wrap=True, show_line_numbers=False, compact=True)
            yield Static(
                'Paste a list of hops: [{"id": ..., "channel": ..., "direction": ..., "amount_msat": ..., '
                '"delay": ...}], or a getroute answer. Ctrl+S imports.',
                classes="muted",
            )
            yield Static(id="import-error", classes="problem")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Import", id="import", variant="primary", compact=True)
                yield Button("Cancel", id="cancel", compact=True)

    @property
    def json_area(self) -> TextArea:
        return self.query_one("#import-json", TextArea)

    @property
    def error(self) -> Static:
        return self.query_one("#import-error", Static)

    def on_mount(self) -> None:
        self.json_area.focus()

    @on(Button.Pressed, "#import")
    def action_import_route(self) -> None:
        text = self.json_area.text
        if not text.strip():
            self.error.update("Paste the route's JSON first.")
            return
        try:
            route = route_from_json(text, self.our_id)
        except RouteError as error:
            self.error.update(error.message)
            return
        self.dismiss(route)


class ExportRouteDialog(_RouteDialog):
    """The route as ``lightning-cli sendpay`` takes it, to read or copy (OSC 52 works over SSH)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        _cancel_binding(),
        Binding("c", "copy", "Copy", id="route.export.copy", tooltip="Copy the JSON to the clipboard"),
    ]

    def __init__(self, route: Route) -> None:
        super().__init__()
        self.route = route
        self.json_text = route_to_json(route)
        """Exactly what ``sendpay`` takes as its ``route`` (one line, as it is copied)."""

    def compose(self) -> ComposeResult:
        with Vertical(classes="route-dialog -wide"):
            yield Label(f"Route as sendpay JSON ({len(self.route.hops)} hops)", classes="section-title")
            pretty = json.dumps(json.loads(self.json_text), indent=2)
            yield TextArea(
                pretty, id="export-json", read_only=True, soft_wrap=False, show_line_numbers=False, compact=True
            )
            with Horizontal(classes="dialog-buttons"):
                yield Button("Copy", id="copy", variant="primary", compact=True)
                yield Button("Close", id="cancel", compact=True)

    @property
    def json_area(self) -> TextArea:
        return self.query_one("#export-json", TextArea)

    def on_mount(self) -> None:
        self.query_one("#copy", Button).focus()

    @on(Button.Pressed, "#copy")
    def action_copy(self) -> None:
        self.app.copy_to_clipboard(self.json_text)
        self.notify("The route's JSON is on the clipboard.", title="Copied")


__all__ = [
    "ChannelChoiceDialog",
    "ExcludeDialog",
    "ExcludeRequest",
    "ExportRouteDialog",
    "FinderOptions",
    "ImportRouteDialog",
    "InsertCandidate",
    "InsertHopDialog",
    "InsertRequest",
    "RouteOptionsDialog",
]
